//! A managed cluster's network as AKS checks it: the network profile and its defaults, the
//! service range against the subnets, and what the pools take from their subnets.

use std::collections::BTreeMap;

use ipnet::IpNet;
use serde_json::{Map, Value, json};

use super::agent_pool::{ClusterNetwork, subnet_demand};
use super::{PutContext, immutable};
use crate::arm::address::{Address, Kind};
use crate::arm::cidr::{as_v4, overlaps, parse_ip};
use crate::arm::errors::ArmError;
use crate::arm::store::Store;

/// Ranges AKS refuses for service, pod and VNet ranges.
const FORBIDDEN_RANGES: [&str; 4] = ["169.254.0.0/16", "172.30.0.0/16", "172.31.0.0/16", "192.0.2.0/24"];
/// The network profile with AKS's defaults, checked.
pub fn network_profile(context: &PutContext<'_>, body: &Value) -> Result<Value, ArmError> {
    let mut profile =
        body.pointer("/properties/networkProfile").and_then(Value::as_object).cloned().unwrap_or_default();
    let text = |profile: &Map<String, Value>, key: &str| profile.get(key).and_then(Value::as_str).map(str::to_string);
    let plugin = text(&profile, "networkPlugin").unwrap_or_else(|| "kubenet".into()).to_ascii_lowercase();
    let mode = text(&profile, "networkPluginMode").map(|m| m.to_ascii_lowercase());
    if !["azure", "kubenet", "none"].contains(&plugin.as_str()) {
        return Err(ArmError::invalid_parameter(
            "properties.networkProfile.networkPlugin",
            format!("Unknown networkPlugin '{plugin}': use azure, kubenet or none."),
        ));
    }
    if mode.as_deref() == Some("overlay") && plugin != "azure" {
        return Err(ArmError::invalid_parameter(
            "properties.networkProfile.networkPluginMode",
            "networkPluginMode 'overlay' can only be used with networkPlugin 'azure'.",
        ));
    }
    if text(&profile, "networkPolicy").is_some_and(|p| p.eq_ignore_ascii_case("cilium"))
        && !text(&profile, "networkDataplane").is_some_and(|d| d.eq_ignore_ascii_case("cilium"))
    {
        return Err(ArmError::invalid_parameter(
            "properties.networkProfile.networkPolicy",
            "networkPolicy 'cilium' requires networkDataplane 'cilium'.",
        ));
    }
    let pod_cidr_allowed = plugin == "kubenet" || mode.as_deref() == Some("overlay") || plugin == "none";
    if profile.contains_key("podCidr") && !pod_cidr_allowed {
        return Err(ArmError::invalid_parameter(
            "properties.networkProfile.podCidr",
            "podCidr can only be set with networkPlugin 'kubenet' or with networkPluginMode 'overlay': with Azure CNI, pods take addresses from the subnet.",
        ));
    }
    if let Some(existing) = context.existing {
        let old_plugin =
            existing.str_property("/properties/networkProfile/networkPlugin").unwrap_or("kubenet").to_ascii_lowercase();
        let old_overlay = existing
            .str_property("/properties/networkProfile/networkPluginMode")
            .is_some_and(|m| m.eq_ignore_ascii_case("overlay"));
        let now_overlay = mode.as_deref() == Some("overlay");
        // AKS's only in-place IPAM changes: kubenet → Azure CNI Overlay and node-subnet CNI → Overlay.
        let migration =
            plugin == "azure" && now_overlay && !old_overlay && (old_plugin == "kubenet" || old_plugin == "azure");
        if (old_plugin != plugin || old_overlay != now_overlay) && !migration {
            let from = if old_overlay { format!("{old_plugin} (overlay)") } else { old_plugin };
            let to = if now_overlay { format!("{plugin} (overlay)") } else { plugin.clone() };
            return Err(ArmError::property_change_not_allowed("networkProfile.networkPlugin", &from, &to));
        }
    }
    profile.insert("networkPlugin".into(), json!(plugin));
    let service_cidr = text(&profile, "serviceCidr").unwrap_or_else(|| "10.0.0.0/16".into());
    let dns_service_ip = text(&profile, "dnsServiceIP").unwrap_or_else(|| "10.0.0.10".into());
    let service: IpNet = service_cidr.parse().map_err(|_| {
        ArmError::invalid_parameter(
            "properties.networkProfile.serviceCidr",
            format!("The serviceCidr '{service_cidr}' is not a valid CIDR."),
        )
    })?;
    if service.trunc() != service {
        return Err(ArmError::invalid_parameter(
            "properties.networkProfile.serviceCidr",
            format!("The serviceCidr '{service_cidr}' has host bits set; did you mean {}?", service.trunc()),
        ));
    }
    if service.prefix_len() < 12 {
        return Err(ArmError::invalid_parameter(
            "properties.networkProfile.serviceCidr",
            format!("The serviceCidr '{service_cidr}' is too large: it must be smaller than /12."),
        ));
    }
    let Some(dns_ip) = parse_ip(&dns_service_ip) else {
        return Err(ArmError::bad_request(
            "DnsServiceIpParseError",
            format!("The dnsServiceIP '{dns_service_ip}' is not a valid IP address."),
        )
        .with_target("properties.networkProfile.dnsServiceIP"));
    };
    if !service.contains(&dns_ip) {
        return Err(ArmError::bad_request(
            "DnsServiceIpOutOfServiceCidr",
            format!("DNS service IP {dns_service_ip} is out of service CIDR {service_cidr}."),
        )
        .with_target("properties.networkProfile.dnsServiceIP"));
    }
    let first_host = as_v4(&service).map(|net| std::net::IpAddr::V4((u32::from(net.network()) + 1).into()));
    if dns_ip == service.network() || Some(dns_ip) == first_host {
        return Err(ArmError::invalid_parameter(
            "properties.networkProfile.dnsServiceIP",
            format!(
                "The dnsServiceIP {dns_service_ip} is reserved in service CIDR {service_cidr} (the network address and the first address, which is kubernetes.default)."
            ),
        ));
    }
    let mut ranges = vec![("serviceCidr", service)];
    let pod_cidr = if pod_cidr_allowed && plugin != "none" {
        Some(text(&profile, "podCidr").unwrap_or_else(|| "10.244.0.0/16".into()))
    } else {
        None
    };
    if let Some(pod_text) = &pod_cidr {
        let pod: IpNet = pod_text.parse().map_err(|_| {
            ArmError::invalid_parameter(
                "properties.networkProfile.podCidr",
                format!("The podCidr '{pod_text}' is not a valid CIDR."),
            )
        })?;
        if overlaps(&pod, &service) {
            return Err(ArmError::invalid_parameter(
                "properties.networkProfile.podCidr",
                format!("The podCidr {pod_text} overlaps the serviceCidr {service_cidr}."),
            ));
        }
        ranges.push(("podCidr", pod));
    }
    for (name, range) in &ranges {
        for forbidden in FORBIDDEN_RANGES {
            let forbidden: IpNet = forbidden.parse().unwrap_or(*range);
            if overlaps(range, &forbidden) {
                return Err(ArmError::invalid_parameter(
                    &format!("properties.networkProfile.{name}"),
                    format!("The {name} {range} overlaps {forbidden}, which AKS reserves."),
                ));
            }
        }
    }
    for (pointer, name) in [
        ("/properties/networkProfile/serviceCidr", "networkProfile.serviceCidr"),
        ("/properties/networkProfile/dnsServiceIP", "networkProfile.dnsServiceIP"),
    ] {
        let value = if name.ends_with("serviceCidr") { json!(service_cidr) } else { json!(dns_service_ip) };
        immutable(context, pointer, name, Some(&value))?;
    }
    profile.insert("serviceCidr".into(), json!(service_cidr));
    profile.insert("dnsServiceIP".into(), json!(dns_service_ip));
    profile.insert("serviceCidrs".into(), json!([service_cidr]));
    match &pod_cidr {
        Some(pod) => {
            profile.insert("podCidr".into(), json!(pod));
            profile.insert("podCidrs".into(), json!([pod]));
        }
        None => {
            profile.remove("podCidr");
        }
    }
    profile.entry("ipFamilies").or_insert(json!(["IPv4"]));
    profile.entry("outboundType").or_insert(json!("loadBalancer"));
    profile.entry("loadBalancerSku").or_insert(json!("standard"));
    let outbound = text(&profile, "outboundType").unwrap_or_default();
    if outbound.eq_ignore_ascii_case("loadBalancer") {
        let lb = profile.entry("loadBalancerProfile").or_insert(json!({}));
        if let Some(lb) = lb.as_object_mut() {
            if !lb.contains_key("outboundIPs") && !lb.contains_key("outboundIPPrefixes") {
                lb.entry("managedOutboundIPs").or_insert(json!({ "count": 1 }));
            }
            lb.entry("backendPoolType").or_insert(json!("nodeIPConfiguration"));
        }
    }
    Ok(Value::Object(profile))
}

/// ServiceCidrOverlapExistingSubnetsCidr: the service range may not overlap any subnet of the
/// VNets the pools' subnets are in.
pub fn check_service_cidr_against_subnets(
    store: &Store,
    profile: &Value,
    pools: &[(Address, Map<String, Value>, bool)],
) -> Result<(), ArmError> {
    let Some(service) = profile.get("serviceCidr").and_then(Value::as_str).and_then(|s| s.parse::<IpNet>().ok()) else {
        return Ok(());
    };
    let mut vnets: Vec<Address> = Vec::new();
    for (_, pool, _) in pools {
        for key in ["vnetSubnetID", "podSubnetID"] {
            if let Some(vnet) =
                pool.get(key).and_then(Value::as_str).and_then(Address::parse_id).and_then(|subnet| subnet.parent())
                && !vnets.contains(&vnet)
            {
                vnets.push(vnet);
            }
        }
    }
    for vnet in vnets {
        for subnet in store.children(&vnet, Kind::Subnet) {
            for prefix in super::subnet::stored_prefixes(subnet) {
                if overlaps(&prefix, &service) {
                    return Err(ArmError::bad_request(
                        "ServiceCidrOverlapExistingSubnetsCidr",
                        format!(
                            "The specified service CIDR {service} is conflicted with an existing subnet CIDR {prefix}"
                        ),
                    )
                    .with_target("properties.networkProfile.serviceCidr"));
                }
            }
        }
    }
    Ok(())
}

/// The way out each outbound type needs: with `userDefinedRouting` a 0.0.0.0/0 route in every
/// node subnet's route table (RouteTableMissingDefaultRouteError); with `userAssignedNATGateway`
/// a NAT gateway on every node subnet (SubnetNotAssociatedWithNATGateway); `managedNATGateway`
/// only in the network AKS manages (ManagedNATGatewayWithCustomVNetNotAllowed).
pub fn check_outbound(
    store: &Store,
    profile: &Value,
    pools: &[(Address, Map<String, Value>, bool)],
) -> Result<(), ArmError> {
    let outbound = profile.get("outboundType").and_then(Value::as_str).unwrap_or_default().to_ascii_lowercase();
    let target = || "properties.networkProfile.outboundType";
    for (_, pool, _) in pools {
        let Some(subnet_id) = pool.get("vnetSubnetID").and_then(Value::as_str) else { continue };
        if outbound == "managednatgateway" {
            return Err(ArmError::bad_request(
                "ManagedNATGatewayWithCustomVNetNotAllowed",
                format!("OutboundType managedNATGateway is only allowed with the virtual network AKS manages; the agent pools use the custom subnet {subnet_id}. Use userAssignedNATGateway with a NAT gateway associated with the subnet."),
            )
            .with_target(target()));
        }
        let Some(subnet) = Address::parse_id(subnet_id).and_then(|a| store.get(&a)) else { continue };
        match outbound.as_str() {
            "userdefinedrouting" => {
                let table = subnet.str_property("/properties/routeTable/id");
                let routes = table.and_then(|id| store.get_by_id(id)).and_then(|t| t.property("/properties/routes"));
                let has_default = routes.and_then(Value::as_array).is_some_and(|routes| {
                    routes
                        .iter()
                        .any(|r| r.pointer("/properties/addressPrefix").and_then(Value::as_str) == Some("0.0.0.0/0"))
                });
                if !has_default {
                    let found = match table {
                        Some(id) => format!("route table {id} has no route for 0.0.0.0/0"),
                        None => "no route table is associated with it".to_string(),
                    };
                    return Err(ArmError::bad_request(
                        "RouteTableMissingDefaultRouteError",
                        format!(
                            "OutboundType userDefinedRouting requires a default route 0.0.0.0/0 in the route table of subnet {subnet_id}, but {found}."
                        ),
                    )
                    .with_target(target()));
                }
            }
            "userassignednatgateway" if subnet.str_property("/properties/natGateway/id").is_none() => {
                return Err(ArmError::bad_request(
                    "SubnetNotAssociatedWithNATGateway",
                    format!("OutboundType userAssignedNATGateway requires subnet {subnet_id} to be associated with a NAT gateway."),
                )
                .with_target(target()));
            }
            _ => {}
        }
    }
    Ok(())
}

/// InsufficientSubnetSize (new pools) and SubnetIsFull (grown pools): what the given pools will
/// take from each subnet, plus what everything else there takes, against its usable addresses.
/// `plans` are (pool key, pool properties, pool exists already).
pub fn check_capacity(
    store: &Store,
    plans: &[(String, Map<String, Value>, bool)],
    network: &ClusterNetwork,
) -> Result<(), ArmError> {
    let mut demand: BTreeMap<String, (u64, bool)> = BTreeMap::new();
    for (_, pool, exists) in plans {
        for (subnet_id, addresses) in subnet_demand(&Value::Object(pool.clone()), network) {
            let entry = demand.entry(subnet_id.to_ascii_lowercase()).or_insert((0, false));
            entry.0 += addresses;
            entry.1 |= *exists;
        }
    }
    let planned: Vec<String> = plans.iter().map(|(key, _, _)| key.clone()).collect();
    for (subnet_id, (needed, growing)) in demand {
        let Some(subnet) = store.get_by_id(&subnet_id) else { continue };
        let others: u64 = super::subnet::users(store, &subnet.address)
            .iter()
            .filter(|user| !planned.contains(&user.by.to_ascii_lowercase()))
            .map(|user| user.addresses)
            .sum();
        let (usable, _) = super::subnet::subnet_capacity(store, subnet);
        let available = usable.saturating_sub(others);
        if needed > available {
            let cidr = super::subnet::stored_prefixes(subnet).first().map(|p| p.to_string()).unwrap_or_default();
            let name = subnet.address.name();
            return Err(if growing {
                ArmError::bad_request(
                    "SubnetIsFull",
                    format!(
                        "Subnet {name} with address prefix {cidr} does not have enough capacity for {needed} IP addresses ({available} left)."
                    ),
                )
            } else {
                ArmError::bad_request(
                    "InsufficientSubnetSize",
                    format!(
                        "Pre-allocated IPs {needed} exceeds IPs available {available} in Subnet Cidr {cidr}, Subnet Name {name}. http://aka.ms/aks/insufficientsubnetsize"
                    ),
                )
            });
        }
    }
    Ok(())
}
