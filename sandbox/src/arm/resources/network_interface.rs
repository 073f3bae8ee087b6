//! Microsoft.Network/networkInterfaces: IP configurations, each with an address in a subnet
//! that exists (asked for: inside the subnet, not one Azure keeps, not held by another; else
//! the lowest free one). The subnets list each configuration back in their `ipConfigurations`.

use std::net::Ipv4Addr;

use serde_json::{Value, json};

use super::{Prepared, ResourceType};
use super::{PutContext, base, check_reference, keep_location, new_guid, properties_mut, require_location, weak_etag};
use crate::arm::address::{Address, Kind};
use crate::arm::errors::ArmError;
use crate::arm::identity::TypeIdentity;
use crate::arm::schema::Schema;
use crate::arm::store::Store;

/// Network interfaces.
pub struct NetworkInterface;

static IDENTITY: TypeIdentity = TypeIdentity::network(&["networkInterfaces"]);

impl ResourceType for NetworkInterface {
    fn identity(&self) -> &TypeIdentity {
        &IDENTITY
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "NetworkInterface",
            &[
                "location",
                "tags.*",
                "id!",
                "name!",
                "type!",
                "etag!",
                "properties.ipConfigurations[].name",
                "properties.ipConfigurations[].id",
                "properties.ipConfigurations[].etag!",
                "properties.ipConfigurations[].type!",
                "properties.ipConfigurations[].properties.subnet.id",
                "properties.ipConfigurations[].properties.privateIPAddress",
                "properties.ipConfigurations[].properties.privateIPAllocationMethod",
                "properties.ipConfigurations[].properties.privateIPAddressVersion",
                "properties.ipConfigurations[].properties.primary",
                "properties.ipConfigurations[].properties.publicIPAddress.id",
                "properties.ipConfigurations[].properties.provisioningState!",
                "properties.networkSecurityGroup.id",
                "properties.enableAcceleratedNetworking",
                "properties.enableIPForwarding",
                "properties.dnsSettings.dnsServers[]",
                "properties.nicType",
                "properties.provisioningState!",
                "properties.resourceGuid!",
                "properties.macAddress!",
                "properties.primary!",
                "properties.virtualMachine!",
                "properties.hostedWorkloads!",
                "properties.tapConfigurations!",
                "properties.vnetEncryptionSupported!",
            ],
        )
    }

    fn prepare(&self, context: &PutContext<'_>, body: Value) -> Result<Prepared, ArmError> {
        let location = require_location(&body)?;
        keep_location(context, &location)?;
        let id = context.address.id();
        let given = body.pointer("/properties/ipConfigurations").and_then(Value::as_array).cloned().unwrap_or_default();
        if given.is_empty() {
            return Err(ArmError::bad_request(
                "NetworkInterfaceMustHaveAtLeastOneIpConfiguration",
                format!("Network interface {id} must have at least one IP configuration."),
            ));
        }
        let mut configurations = Vec::new();
        let mut taken_here: Vec<Ipv4Addr> = Vec::new();
        for (index, configuration) in given.iter().enumerate() {
            let name = configuration.get("name").and_then(Value::as_str).unwrap_or("ipconfig1").to_string();
            let configuration_id = format!("{id}/ipConfigurations/{name}");
            let properties = configuration.get("properties").cloned().unwrap_or_else(|| json!({}));
            let Some(subnet_id) = properties.pointer("/subnet/id").and_then(Value::as_str) else {
                return Err(ArmError::invalid_parameter(
                    "properties.ipConfigurations.properties.subnet",
                    format!("IP configuration {configuration_id} must reference a subnet."),
                ));
            };
            check_reference(context.store, &id, subnet_id, Kind::Subnet)?;
            let subnet = Address::parse_id(subnet_id).and_then(|a| context.store.get(&a)).ok_or_else(|| {
                ArmError::reference_not_found("InvalidResourceReference", subnet_id, &id)
            })?;
            let Some(prefix) = super::subnet::first_v4(subnet) else {
                return Err(ArmError::invalid_parameter(
                    "properties.ipConfigurations.properties.subnet",
                    format!("Subnet {subnet_id} has no IPv4 address prefix."),
                ));
            };
            let held: Vec<Ipv4Addr> = held_addresses(context.store, &subnet.address, &id)
                .into_iter()
                .chain(taken_here.iter().copied())
                .collect();
            let requested = properties.get("privateIPAddress").and_then(Value::as_str);
            let method = match (properties.get("privateIPAllocationMethod").and_then(Value::as_str), requested) {
                (Some(m), _) if m.eq_ignore_ascii_case("Static") => "Static",
                (Some(_), _) => "Dynamic",
                (None, Some(_)) => "Static",
                (None, None) => "Dynamic",
            };
            let first = u32::from(prefix.network()) + 4;
            let last = u32::from(prefix.broadcast()).saturating_sub(1);
            let address = match requested.filter(|_| method == "Static") {
                Some(text) => {
                    let ip: Ipv4Addr = text.parse().map_err(|_| {
                        ArmError::bad_request(
                            "InvalidPrivateIPAddressFormat",
                            format!("Private static IP address {text} has an invalid format."),
                        )
                    })?;
                    if !prefix.contains(&ip) || !(first..=last).contains(&u32::from(ip)) {
                        return Err(ArmError::bad_request(
                            "PrivateIPAddressNotInSubnet",
                            format!("IP configuration {configuration_id} references the private IP address {ip} which is not in the range of subnet {subnet_id}."),
                        ));
                    }
                    if held.contains(&ip) {
                        return Err(ArmError::bad_request(
                            "PrivateIPAddressInUse",
                            format!("IP configuration {configuration_id} is using the private IP address {ip} which is already allocated to resource {}.", holder_of(context.store, &subnet.address, ip).unwrap_or_default()),
                        ));
                    }
                    ip
                }
                None => (first..=last).map(Ipv4Addr::from).find(|ip| !held.contains(ip)).ok_or_else(|| {
                    ArmError::bad_request(
                        "SubnetIsFull",
                        format!("Subnet {subnet_id} has no free address for IP configuration {configuration_id}."),
                    )
                })?,
            };
            taken_here.push(address);
            let mut out = properties.clone();
            if let Some(members) = out.as_object_mut() {
                members.insert("privateIPAddress".into(), json!(address.to_string()));
                members.insert("privateIPAllocationMethod".into(), json!(method));
                members.insert("privateIPAddressVersion".into(), json!("IPv4"));
                members.entry("primary").or_insert(json!(index == 0));
                members.insert("provisioningState".into(), json!("Succeeded"));
                members.insert("subnet".into(), json!({ "id": subnet.address.id() }));
            }
            configurations.push(json!({
                "id": configuration_id,
                "name": name,
                "etag": weak_etag(),
                "type": "Microsoft.Network/networkInterfaces/ipConfigurations",
                "properties": out,
            }));
        }
        let mut out = base(context.address, body);
        out.insert("etag".into(), weak_etag());
        let guid = context.existing.and_then(|nic| nic.property("/properties/resourceGuid")).cloned();
        let properties = properties_mut(&mut out);
        properties.insert("ipConfigurations".into(), Value::Array(configurations));
        properties.insert("resourceGuid".into(), guid.unwrap_or_else(new_guid));
        properties.entry("enableAcceleratedNetworking").or_insert(json!(false));
        properties.entry("enableIPForwarding").or_insert(json!(false));
        properties.entry("nicType").or_insert(json!("Standard"));
        properties.insert("hostedWorkloads".into(), json!([]));
        properties.insert("tapConfigurations".into(), json!([]));
        properties.insert("vnetEncryptionSupported".into(), json!(false));
        Ok(Prepared::alone(Value::Object(out)))
    }
}

/// The IP configurations of the stored network interfaces in `subnet`: id and address.
pub fn configurations_in(store: &Store, subnet: &Address) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for nic in store.all_of(Kind::NetworkInterface) {
        let list = nic.property("/properties/ipConfigurations").and_then(Value::as_array).cloned().unwrap_or_default();
        for configuration in list {
            let in_subnet = configuration
                .pointer("/properties/subnet/id")
                .and_then(Value::as_str)
                .is_some_and(|id| id.eq_ignore_ascii_case(&subnet.id()));
            let id = configuration.get("id").and_then(Value::as_str);
            let ip = configuration.pointer("/properties/privateIPAddress").and_then(Value::as_str);
            if let (true, Some(id), Some(ip)) = (in_subnet, id, ip) {
                out.push((id.to_string(), ip.to_string()));
            }
        }
    }
    out
}

/// The addresses of `subnet` held by network interfaces other than `except` (by id) and by
/// load-balancer frontends.
fn held_addresses(store: &Store, subnet: &Address, except: &str) -> Vec<Ipv4Addr> {
    let nic_prefix = format!("{}/", except.to_ascii_lowercase());
    let nics = configurations_in(store, subnet)
        .into_iter()
        .filter(|(id, _)| !id.to_ascii_lowercase().starts_with(&nic_prefix))
        .filter_map(|(_, ip)| ip.parse().ok());
    let frontends = store.all_of(Kind::LoadBalancer).into_iter().flat_map(|lb| {
        super::load_balancer::frontends(&lb.body)
            .into_iter()
            .filter(|f| f.subnet_id.as_deref().is_some_and(|id| id.eq_ignore_ascii_case(&subnet.id())))
            .filter_map(|f| f.private_ip?.parse().ok())
            .collect::<Vec<Ipv4Addr>>()
    });
    nics.chain(frontends).collect()
}

/// The IP configuration of `subnet` that holds `ip`, by id.
fn holder_of(store: &Store, subnet: &Address, ip: Ipv4Addr) -> Option<String> {
    configurations_in(store, subnet).into_iter().find(|(_, held)| *held == ip.to_string()).map(|(id, _)| id)
}
