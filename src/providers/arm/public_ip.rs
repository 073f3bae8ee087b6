//! Public IP addresses (Microsoft.Network/publicIPAddresses): SKU, allocation, version,
//! zones, idle timeout and DNS label; the allocated address is computed.

use serde_json::{Value as Json, json};

use super::arm_json::{
    NETWORK_API, int_at, named, opt_str, read_tags, resource_group_of, same_or_live, str_at, string_list, tags,
};
use super::arm_type::{ArmType, BodyRequest, Identity, Place};
use super::resolver::Resolver;
use crate::model::Value;
use crate::providers::{Attributes, ProviderError};

pub(crate) struct PublicIp;

impl ArmType for PublicIp {
    fn identity(&self) -> &'static Identity {
        &Identity {
            type_name: "Microsoft.Network/publicIPAddresses",
            api_version: NETWORK_API,
            place: Place::ResourceGroup,
        }
    }

    fn body(&self, request: &BodyRequest<'_>) -> Result<Json, ProviderError> {
        let BodyRequest { fields, address, resolver, .. } = *request;
        let mut properties = json!({
            "publicIPAllocationMethod": fields.required_str("allocation")?,
            "publicIPAddressVersion": fields.str("version")?.unwrap_or("IPv4"),
        });
        if let Some(minutes) = fields.int32("idle_timeout_minutes")? {
            properties["idleTimeoutInMinutes"] = json!(minutes);
        }
        if let Some(label) = fields.str("dns_label")? {
            properties["dnsSettings"] = json!({ "domainNameLabel": label });
        }
        let mut body = json!({
            "location": fields.required_str("location")?,
            "tags": tags(fields, address, resolver)?,
            "sku": { "name": fields.required_str("sku")? },
            "properties": properties,
        });
        let zones = fields.string_list("zones")?;
        if !zones.is_empty() {
            body["zones"] = json!(zones);
        }
        Ok(body)
    }

    fn observed(&self, live: &Json, recorded: &Attributes, _resolver: &Resolver) -> Attributes {
        let mut out = named(live, recorded);
        let id = str_at(live, "/id").unwrap_or_default();
        out.insert("resource_group".into(), same_or_live(resource_group_of(id), recorded.get("resource_group")));
        out.insert("location".into(), same_or_live(str_at(live, "/location"), recorded.get("location")));
        out.insert("sku".into(), same_or_live(str_at(live, "/sku/name"), recorded.get("sku")));
        out.insert(
            "allocation".into(),
            same_or_live(str_at(live, "/properties/publicIPAllocationMethod"), recorded.get("allocation")),
        );
        out.insert(
            "version".into(),
            same_or_live(str_at(live, "/properties/publicIPAddressVersion").or(Some("IPv4")), recorded.get("version")),
        );
        out.insert("zones".into(), string_list(live.get("zones")));
        let label = str_at(live, "/properties/dnsSettings/domainNameLabel");
        out.insert("dns_label".into(), Value::opt_str(label));
        // The FQDN follows from the label (its suffix is the cloud's): kept as recorded while the
        // label is the same.
        let fqdn = if label.is_some() && label == recorded.get("dns_label").and_then(Value::as_str) {
            recorded.get("fqdn").cloned().unwrap_or(Value::Null)
        } else {
            opt_str(live, "/properties/dnsSettings/fqdn")
        };
        out.insert("fqdn".into(), fqdn);
        out.insert("idle_timeout_minutes".into(), int_at(live, "/properties/idleTimeoutInMinutes"));
        out.insert("tags".into(), read_tags(live));
        out.extend(self.computed(live));
        out
    }

    fn computed(&self, live: &Json) -> Attributes {
        [("address".to_string(), opt_str(live, "/properties/ipAddress"))].into()
    }
}
