//! NAT gateways (Microsoft.Network/natGateways): Standard SKU, their public IPs, TCP idle
//! timeout and zone.

use serde_json::{Value as Json, json};

use super::arm_json::{
    NETWORK_API, id_ref, int_at, named, read_tags, resource_group_of, same_or_live, str_at, string_list, tags,
};
use super::arm_type::{ArmType, BodyRequest, Identity, Place};
use super::resolver::Resolver;
use crate::model::{Kind, Value};
use crate::providers::{Attributes, ProviderError};

pub(crate) struct NatGateway;

impl ArmType for NatGateway {
    fn identity(&self) -> &'static Identity {
        &Identity { type_name: "Microsoft.Network/natGateways", api_version: NETWORK_API, place: Place::ResourceGroup }
    }

    fn body(&self, request: &BodyRequest<'_>) -> Result<Json, ProviderError> {
        let BodyRequest { fields, address, resolver, .. } = *request;
        let mut ips = Vec::new();
        for ip in fields.address_list("public_ips")? {
            ips.push(id_ref(&resolver.path_of(&ip)?));
        }
        let mut properties = json!({ "publicIpAddresses": ips });
        if let Some(minutes) = fields.int32("idle_timeout_minutes")? {
            properties["idleTimeoutInMinutes"] = json!(minutes);
        }
        let mut body = json!({
            "location": fields.required_str("location")?,
            "tags": tags(fields, address, resolver)?,
            "sku": { "name": "Standard" },
            "properties": properties,
        });
        let zones = fields.string_list("zones")?;
        if !zones.is_empty() {
            body["zones"] = json!(zones);
        }
        Ok(body)
    }

    fn observed(&self, live: &Json, recorded: &Attributes, resolver: &Resolver) -> Attributes {
        let mut out = named(live, recorded);
        let id = str_at(live, "/id").unwrap_or_default();
        out.insert("resource_group".into(), same_or_live(resource_group_of(id), recorded.get("resource_group")));
        out.insert("location".into(), same_or_live(str_at(live, "/location"), recorded.get("location")));
        let recorded_ips = match recorded.get("public_ips") {
            Some(Value::List(ips)) => ips.as_slice(),
            _ => &[],
        };
        let ips = live
            .pointer("/properties/publicIpAddresses")
            .and_then(Json::as_array)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter_map(|ip| ip.get("id").and_then(Json::as_str))
            .enumerate()
            // The recorded address in that place when it names the same IP, else the one that does.
            .map(|(i, ip)| resolver.reference(Kind::PublicIp, Some(ip), recorded_ips.get(i)))
            .collect();
        out.insert("public_ips".into(), Value::List(ips));
        out.insert("idle_timeout_minutes".into(), int_at(live, "/properties/idleTimeoutInMinutes"));
        out.insert("zones".into(), string_list(live.get("zones")));
        out.insert("tags".into(), read_tags(live));
        out
    }
}
