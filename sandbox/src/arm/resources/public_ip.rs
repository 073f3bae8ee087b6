//! Microsoft.Network/publicIPAddresses: Standard SKU, static allocation, an address from the
//! documentation ranges (203.0.113.0/24, then 198.51.100.0/24), `<label>.<location>.cloudapp.azure.com`
//! for a DNS label; not deletable while a load balancer or a cluster's outbound uses it.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use serde_json::{Value, json};

use super::{Prepared, ResourceType};
use super::{PutContext, base, immutable, keep_location, new_guid, properties_mut, require_location, weak_etag};
use crate::arm::address::Kind;
use crate::arm::errors::ArmError;
use crate::arm::identity::TypeIdentity;
use crate::arm::schema::Schema;
use crate::arm::store::{Resource, Store};

/// Public IP addresses.
pub struct PublicIpAddress;

static IDENTITY: TypeIdentity = TypeIdentity::network(&["publicIPAddresses"]);

impl ResourceType for PublicIpAddress {
    fn identity(&self) -> &TypeIdentity {
        &IDENTITY
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn prepare(&self, context: &PutContext<'_>, body: Value) -> Result<Prepared, ArmError> {
        prepare(context, body).map(Prepared::alone)
    }

    fn check_delete(&self, store: &Store, pip: &Resource) -> Result<(), ArmError> {
        match user(store, pip) {
            Some(by) => Err(ArmError::bad_request(
                "PublicIPAddressCannotBeDeleted",
                format!(
                    "Public IP address {} can not be deleted since it is still allocated to resource {by}. In order to delete the public IP, disassociate/detach the Public IP address from the resource.",
                    pip.address.id()
                ),
            )),
            None => Ok(()),
        }
    }

    fn render(&self, store: &Store, pip: &Resource, body: &mut Value) {
        if let Some(by) = user(store, pip).filter(|by| by.to_ascii_lowercase().contains("/frontendipconfigurations/"))
            && let Some(properties) = body.get_mut("properties").and_then(Value::as_object_mut)
        {
            properties.insert("ipConfiguration".into(), json!({ "id": by }));
        }
        if let Some(gateway) = super::nat_gateway::user_of(store, &pip.address.id())
            && let Some(properties) = body.get_mut("properties").and_then(Value::as_object_mut)
        {
            properties.insert("natGateway".into(), json!({ "id": gateway }));
        }
    }
}

pub fn schema() -> Schema {
    Schema::new(
        "PublicIPAddress",
        &[
            "location",
            "tags.*",
            "zones[]",
            "sku.name",
            "sku.tier",
            "extendedLocation~",
            "id!",
            "name!",
            "type!",
            "etag!",
            "properties.publicIPAllocationMethod",
            "properties.publicIPAddressVersion",
            "properties.dnsSettings.domainNameLabel",
            "properties.dnsSettings.domainNameLabelScope",
            "properties.dnsSettings.reverseFqdn",
            "properties.dnsSettings.fqdn!",
            "properties.ipTags[].ipTagType",
            "properties.ipTags[].tag",
            "properties.idleTimeoutInMinutes",
            "properties.publicIPPrefix.id",
            "properties.ddosSettings.protectionMode",
            "properties.ddosSettings.ddosProtectionPlan.id",
            "properties.deleteOption",
            "properties.ipAddress!",
            "properties.ipConfiguration!",
            "properties.natGateway!",
            "properties.provisioningState!",
            "properties.resourceGuid!",
            "properties.migrationPhase!",
            "properties.linkedPublicIPAddress!",
            "properties.servicePublicIPAddress!",
        ],
    )
}

pub fn prepare(context: &PutContext<'_>, body: Value) -> Result<Value, ArmError> {
    let location = require_location(&body)?;
    keep_location(context, &location)?;
    let id = context.address.id();
    let sku = body.pointer("/sku/name").and_then(Value::as_str);
    match sku {
        Some(sku) if sku.eq_ignore_ascii_case("Standard") => {}
        other => {
            return Err(ArmError::bad_request(
                "BasicSkuPublicIpRetired",
                format!(
                    "Public IP address {id} has SKU '{}': Basic SKU public IP addresses were retired on 30 September 2025; set sku.name to 'Standard'.",
                    other.unwrap_or("Basic (the default)")
                ),
            )
            .with_target("sku.name"));
        }
    }
    immutable(context, "/sku/name", "sku.name", body.pointer("/sku/name"))?;
    let tier = body.pointer("/sku/tier").cloned().unwrap_or_else(|| json!("Regional"));
    immutable(context, "/sku/tier", "sku.tier", Some(&tier))?;
    // A public IP's zones are fixed when it is created (none is a choice too).
    if let Some(existing) = context.existing {
        let old = existing.property("/zones").cloned().unwrap_or_else(|| json!([]));
        let new = body.get("zones").cloned().unwrap_or_else(|| json!([]));
        if old != new {
            return Err(ArmError::property_change_not_allowed("zones", &old.to_string(), &new.to_string()));
        }
    }
    let version = body.pointer("/properties/publicIPAddressVersion").and_then(Value::as_str).unwrap_or("IPv4");
    if !version.eq_ignore_ascii_case("IPv4") {
        return Err(ArmError::bad_request(
            "IPv6PublicIpAddressNotSupported",
            format!("Public IP address {id}: only IPv4 public IP addresses are available in this environment."),
        )
        .with_target("properties.publicIPAddressVersion"));
    }
    let method = body.pointer("/properties/publicIPAllocationMethod").and_then(Value::as_str).unwrap_or("Static");
    if !method.eq_ignore_ascii_case("Static") {
        return Err(ArmError::bad_request(
            "StandardSkuPublicIPAddressesMustBeStatic",
            format!("Standard sku publicIp {id} must have AllocationMethod set to Static."),
        )
        .with_target("properties.publicIPAllocationMethod"));
    }
    if let Some(idle) = body.pointer("/properties/idleTimeoutInMinutes")
        && !idle.as_u64().is_some_and(|minutes| (4..=30).contains(&minutes))
    {
        return Err(ArmError::bad_request(
            "PublicIPIdleTimeoutIsOutOfRange",
            format!("IdleTimeoutInMinutes of public IP address {id} must be between 4 and 30 minutes; it is {idle}."),
        )
        .with_target("properties.idleTimeoutInMinutes"));
    }

    let address = match context.existing.and_then(|pip| pip.str_property("/properties/ipAddress")) {
        Some(address) => address.to_string(),
        None => allocate_address(context.store).ok_or_else(|| {
            ArmError::bad_request("PublicIPCountLimitReached", "No public IP addresses are left in this environment.")
        })?,
    };
    let mut out = base(context.address, body);
    out.insert("etag".into(), weak_etag());
    let guid =
        context.existing.and_then(|pip| pip.property("/properties/resourceGuid")).cloned().unwrap_or_else(new_guid);
    let properties = properties_mut(&mut out);
    properties.insert("publicIPAllocationMethod".into(), json!("Static"));
    properties.insert("publicIPAddressVersion".into(), json!("IPv4"));
    properties.entry("idleTimeoutInMinutes").or_insert(json!(4));
    properties.entry("ipTags").or_insert(json!([]));
    properties.insert("ipAddress".into(), json!(address));
    properties.insert("resourceGuid".into(), guid);
    if let Some(Value::Object(dns)) = properties.get_mut("dnsSettings")
        && let Some(label) = dns.get("domainNameLabel").and_then(Value::as_str)
    {
        let fqdn = format!("{label}.{location}.cloudapp.azure.com");
        dns.insert("fqdn".into(), json!(fqdn));
    }
    if !out.contains_key("sku") {
        out.insert("sku".into(), json!({"name": "Standard", "tier": "Regional"}));
    } else if let Some(Value::Object(sku)) = out.get_mut("sku") {
        sku.insert("name".into(), json!("Standard"));
        sku.entry("tier").or_insert(json!("Regional"));
    }
    Ok(Value::Object(out))
}

/// The next address of the documentation ranges that no public IP holds.
pub fn allocate_address(store: &Store) -> Option<String> {
    let taken: HashSet<String> = store
        .all_of(Kind::PublicIpAddress)
        .iter()
        .filter_map(|pip| pip.str_property("/properties/ipAddress").map(str::to_string))
        .collect();
    [[203, 0, 113], [198, 51, 100]]
        .into_iter()
        .flat_map(|[a, b, c]| (1..=254).map(move |d| Ipv4Addr::new(a, b, c, d).to_string()))
        .find(|candidate| !taken.contains(candidate))
}

/// What uses a public IP: a load-balancer frontend, or a cluster's outbound IPs.
pub fn user(store: &Store, pip: &Resource) -> Option<String> {
    let id = pip.address.id();
    for balancer in store.all_of(Kind::LoadBalancer) {
        for frontend in super::load_balancer::frontends(&balancer.body) {
            if frontend.public_ip_id.as_deref().is_some_and(|pip_id| pip_id.eq_ignore_ascii_case(&id)) {
                return Some(frontend.id);
            }
        }
    }
    if let Some(gateway) = super::nat_gateway::user_of(store, &id) {
        return Some(gateway);
    }
    for cluster in store.all_of(Kind::ManagedCluster) {
        let outbound = cluster.property("/properties/networkProfile/loadBalancerProfile/outboundIPs/publicIPs");
        let uses = outbound.and_then(Value::as_array).is_some_and(|ips| {
            ips.iter().filter_map(|ip| ip.get("id").and_then(Value::as_str)).any(|ip| ip.eq_ignore_ascii_case(&id))
        });
        if uses {
            return Some(cluster.address.id());
        }
    }
    None
}
