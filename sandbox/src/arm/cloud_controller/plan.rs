//! What AKS's cloud provider makes of a cluster's LoadBalancer Services, computed against the
//! store: frontends on `kubernetes` (public IPs) and `kubernetes-internal` (subnet addresses),
//! a rule and probe per port, node security group rules, and the public IPs it creates for
//! Services that name none. Writes the result into the store.

use std::collections::{BTreeMap, HashSet};
use std::net::Ipv4Addr;

use serde_json::{Value, json};

use crate::arm::address::{Address, Kind};
use crate::arm::authorization::{
    PUBLIC_IP_JOIN, SUBNET_JOIN, cluster_principal, has_permission, linked_authorization_failed,
};
use crate::arm::cidr::{assignable, assignable_index};
use crate::arm::resources::{
    FrontendPlan, PortRule, allocate_address, build_load_balancer, build_security_group, default_subnet, first_v4,
    frontends, in_node_group, node_resource_group, security_group_name, subnet_users,
};
use crate::arm::store::Store;

pub const INTERNAL: &str = "service.beta.kubernetes.io/azure-load-balancer-internal";
pub const INTERNAL_SUBNET: &str = "service.beta.kubernetes.io/azure-load-balancer-internal-subnet";
pub const PIP_NAME: &str = "service.beta.kubernetes.io/azure-pip-name";
pub const RESOURCE_GROUP: &str = "service.beta.kubernetes.io/azure-load-balancer-resource-group";
pub const DNS_LABEL: &str = "service.beta.kubernetes.io/azure-dns-label-name";
pub const IPV4: &str = "service.beta.kubernetes.io/azure-load-balancer-ipv4";
pub const IDLE_TIMEOUT: &str = "service.beta.kubernetes.io/azure-load-balancer-tcp-idle-timeout";
/// The tag that marks the public IPs the cloud provider created for a Service.
const SERVICE_TAG: &str = "k8s-azure-service";

/// The parts of a LoadBalancer Service the cloud provider reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceView {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub annotations: BTreeMap<String, String>,
    /// The deprecated `spec.loadBalancerIP`.
    pub load_balancer_ip: Option<String>,
    /// (protocol, port, node port).
    pub ports: Vec<(String, u16, Option<u16>)>,
}

impl ServiceView {
    fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str).filter(|value| !value.is_empty())
    }

    fn frontend_name(&self) -> String {
        format!("a{}", self.uid.replace('-', ""))
    }

    fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// What the cloud provider reports for one Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub namespace: String,
    pub name: String,
    pub ingress_ip: Option<String>,
    /// A Warning event's message (reason `SyncLoadBalancerFailed`).
    pub warning: Option<String>,
}

/// Brings the store's load balancers, security group and Service public IPs of one cluster in
/// line with its LoadBalancer Services. `None` when the cluster is gone.
/// With `authorization`, a frontend that joins a public IP or subnet outside the node resource
/// group needs the cluster's identity to hold a role that allows it there.
pub fn reconcile(
    store: &mut Store,
    cluster: &Address,
    services: &[ServiceView],
    authorization: bool,
) -> Option<Vec<Outcome>> {
    let cluster_resource = store.get(cluster)?.clone();
    let node_group = node_resource_group(&cluster_resource)?;
    let location = cluster_resource.str_property("/location").unwrap_or("eastus").to_string();
    let external_lb = in_node_group(&node_group, Kind::LoadBalancer, "kubernetes");
    let internal_lb = in_node_group(&node_group, Kind::LoadBalancer, "kubernetes-internal");
    let previous_internal: BTreeMap<String, String> = store
        .get(&internal_lb)
        .map(|lb| frontends(&lb.body).into_iter().filter_map(|f| Some((f.name, f.private_ip?))).collect())
        .unwrap_or_default();
    let default_subnet = default_subnet(store, &cluster_resource);
    // Addresses Services still here had: a newcomer does not take them.
    let present: HashSet<String> = services.iter().map(ServiceView::frontend_name).collect();
    let held: HashSet<String> =
        previous_internal.iter().filter(|(name, _)| present.contains(*name)).map(|(_, ip)| ip.clone()).collect();

    let mut sorted: Vec<&ServiceView> = services.iter().collect();
    sorted.sort_by_key(|service| service.key());
    let mut outcomes = Vec::new();
    let mut external = Vec::new();
    let mut internal: Vec<FrontendPlan> = Vec::new();
    let mut wanted_pips: HashSet<String> = HashSet::new();
    // With authorization, what AKS's identity may not join fails the load balancer's write.
    let principal = authorization.then(|| cluster_principal(&cluster_resource.body).unwrap_or_default());
    for service in sorted {
        let rules = port_rules(service);
        let is_internal = service.annotation(INTERNAL) == Some("true");
        let planned = if is_internal {
            let own = previous_internal.get(&service.frontend_name());
            let others: HashSet<String> = held.iter().filter(|ip| Some(*ip) != own).cloned().collect();
            internal_frontend(store, service, default_subnet.as_ref(), &internal, own, &others, &internal_lb)
        } else {
            external_frontend(store, service, &node_group, &location, &mut wanted_pips)
        };
        let balancer = if is_internal { &internal_lb } else { &external_lb };
        let result = planned.and_then(|mut plan| {
            check_linked_access(store, principal.as_deref(), &node_group, balancer, &plan)?;
            plan.rules = rules;
            let address = plan.address.clone();
            if is_internal {
                internal.push(plan)
            } else {
                external.push(plan)
            }
            Ok(address)
        });
        let (ingress_ip, warning) = match result {
            Ok(address) => (Some(address), None),
            Err(message) => {
                (None, Some(format!("Error syncing load balancer: failed to ensure load balancer: {message}")))
            }
        };
        outcomes.push(Outcome {
            namespace: service.namespace.clone(),
            name: service.name.clone(),
            ingress_ip,
            warning,
        });
    }

    write_balancer(store, &external_lb, &location, &external);
    write_balancer(store, &internal_lb, &location, &internal);
    let nsg = in_node_group(&node_group, Kind::NetworkSecurityGroup, &security_group_name(&cluster.id()));
    let guid = store
        .get(&nsg)
        .and_then(|g| g.str_property("/properties/resourceGuid").map(str::to_string))
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let all: Vec<FrontendPlan> = external.iter().chain(internal.iter()).cloned().collect();
    store.put(nsg.clone(), build_security_group(&nsg, &location, &all, &guid), None);
    // Public IPs created for Services that are gone (or changed to another IP) go too.
    let stale: Vec<Address> = store
        .all_of(Kind::PublicIpAddress)
        .into_iter()
        .filter(|pip| pip.address.group() == node_group && pip.body.pointer(&format!("/tags/{SERVICE_TAG}")).is_some())
        .filter(|pip| !wanted_pips.contains(&pip.address.key()))
        .map(|pip| pip.address.clone())
        .collect();
    for pip in stale {
        store.remove_tree(&pip);
    }
    Some(outcomes)
}

/// What Azure's network provider checks when the load balancer is written with the frontend: the
/// cluster's identity (`principal`) may join the public IP or subnet the frontend links to, unless
/// it lies in the node resource group (AKS's own). `None`: nothing is checked.
fn check_linked_access(
    store: &Store,
    principal: Option<&str>,
    node_group: &Address,
    balancer: &Address,
    plan: &FrontendPlan,
) -> Result<(), String> {
    let Some(principal) = principal else { return Ok(()) };
    let (action, linked) = match (&plan.public_ip_id, &plan.subnet_id) {
        (Some(ip), _) => (PUBLIC_IP_JOIN, ip),
        (None, Some(subnet)) => (SUBNET_JOIN, subnet),
        (None, None) => return Ok(()),
    };
    let in_node_group = Address::parse_id(linked).is_some_and(|address| address.group().key() == node_group.key());
    if in_node_group || has_permission(store, principal, action, linked) {
        return Ok(());
    }
    Err(linked_authorization_failed(principal, &balancer.id(), action, linked))
}

fn port_rules(service: &ServiceView) -> Vec<PortRule> {
    let idle = service
        .annotation(IDLE_TIMEOUT)
        .and_then(|minutes| minutes.parse().ok())
        .filter(|m| (4..=30).contains(m))
        .unwrap_or(4);
    service
        .ports
        .iter()
        .map(|(protocol, port, node_port)| PortRule {
            protocol: if protocol.eq_ignore_ascii_case("UDP") { "Udp".into() } else { "Tcp".into() },
            port: *port,
            probe_port: node_port.unwrap_or(*port),
            idle_timeout_minutes: idle,
        })
        .collect()
}

fn write_balancer(store: &mut Store, balancer: &Address, location: &str, planned: &[FrontendPlan]) {
    if planned.is_empty() {
        store.remove_tree(balancer);
        return;
    }
    let guid = store
        .get(balancer)
        .and_then(|lb| lb.str_property("/properties/resourceGuid").map(str::to_string))
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let body = build_load_balancer(balancer, location, planned, &guid);
    store.put(balancer.clone(), body, None);
}

/// A public frontend: the named public IP, the one holding the requested address, or one made
/// for the Service in the node resource group.
fn external_frontend(
    store: &mut Store,
    service: &ServiceView,
    node_group: &Address,
    location: &str,
    wanted_pips: &mut HashSet<String>,
) -> Result<FrontendPlan, String> {
    let group_name = service.annotation(RESOURCE_GROUP).unwrap_or(&node_group.resource_group).to_string();
    let group = Address::resource_group(&node_group.subscription, &group_name);
    let requested = service.annotation(IPV4).or(service.load_balancer_ip.as_deref());
    let pip = if let Some(name) = service.annotation(PIP_NAME) {
        let address = Address::new(Kind::PublicIpAddress, &group.subscription, &group.resource_group, &[name]);
        let pip = store
            .get(&address)
            .ok_or_else(|| format!("user supplied IP address {name} was not found in resource group {group_name}"))?;
        wanted_pips.insert(pip.address.key());
        pip.clone()
    } else if let Some(ip) = requested {
        let pip = store
            .all_of(Kind::PublicIpAddress)
            .into_iter()
            .find(|pip| pip.address.group() == group && pip.str_property("/properties/ipAddress") == Some(ip))
            .ok_or_else(|| format!("findMatchedPIPByLoadBalancerIP: cannot find public IP with IP address {ip} in resource group {group_name}"))?;
        wanted_pips.insert(pip.address.key());
        pip.clone()
    } else {
        let name = format!("kubernetes-{}", service.frontend_name());
        let address =
            Address::new(Kind::PublicIpAddress, &node_group.subscription, &node_group.resource_group, &[&name]);
        if store.get(&address).is_none() {
            let ip = allocate_address(store).ok_or("no public IP address is left")?;
            store.put(address.clone(), managed_public_ip(&address, location, &ip, service), None);
        }
        wanted_pips.insert(address.key());
        store.get(&address).cloned().ok_or("the public IP vanished")?
    };
    let ip = pip.str_property("/properties/ipAddress").ok_or("the public IP has no address")?.to_string();
    Ok(FrontendPlan {
        name: service.frontend_name(),
        public_ip_id: Some(pip.address.id()),
        subnet_id: None,
        address: ip,
        requested: true,
        rules: Vec::new(),
    })
}

fn managed_public_ip(address: &Address, location: &str, ip: &str, service: &ServiceView) -> Value {
    let mut properties = json!({
        "provisioningState": "Succeeded", "resourceGuid": uuid::Uuid::new_v4().to_string(),
        "publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4", "idleTimeoutInMinutes": 4,
        "ipTags": [], "ipAddress": ip
    });
    if let Some(label) = service.annotation(DNS_LABEL) {
        properties["dnsSettings"] =
            json!({ "domainNameLabel": label, "fqdn": format!("{label}.{location}.cloudapp.azure.com") });
    }
    json!({
        "id": address.id(), "name": address.name(), "type": "Microsoft.Network/publicIPAddresses", "location": location,
        "etag": format!("W/\"{}\"", uuid::Uuid::new_v4()),
        "tags": { SERVICE_TAG: service.key(), "k8s-azure-cluster-name": "kubernetes" },
        "sku": { "name": "Standard", "tier": "Regional" },
        "properties": properties
    })
}

/// An internal frontend: the requested address (inside the subnet, free), the one it had, or the
/// subnet's next free address after the nodes' and the other frontends'.
fn internal_frontend(
    store: &Store,
    service: &ServiceView,
    default_subnet: Option<&Address>,
    planned: &[FrontendPlan],
    previous: Option<&String>,
    held_by_others: &HashSet<String>,
    balancer: &Address,
) -> Result<FrontendPlan, String> {
    let subnet_address = match (service.annotation(INTERNAL_SUBNET), default_subnet) {
        (Some(name), Some(default)) => {
            default.parent().map(|vnet| vnet.child(Kind::Subnet, name)).ok_or("no virtual network")?
        }
        (Some(name), None) => return Err(format!("the cluster has no virtual network to find subnet {name} in")),
        (None, Some(default)) => default.clone(),
        (None, None) => return Err("the cluster has no subnet for internal load balancers".to_string()),
    };
    let subnet = store.get(&subnet_address).ok_or_else(|| format!("subnet {} was not found", subnet_address.id()))?;
    let net = first_v4(subnet).ok_or_else(|| format!("subnet {} has no IPv4 prefix", subnet_address.name()))?;
    let node_addresses: u64 = subnet_users(store, &subnet_address)
        .iter()
        .filter(|user| !user.by.eq_ignore_ascii_case(&balancer.id()))
        .map(|user| user.addresses)
        .sum();
    let taken: HashSet<String> = planned.iter().map(|plan| plan.address.clone()).collect();
    let frontend_name = service.frontend_name();
    let requested = service.annotation(IPV4).or(service.load_balancer_ip.as_deref());
    let address = match requested {
        Some(text) => {
            let ip: Ipv4Addr =
                text.parse().map_err(|_| format!("the requested address {text} is not an IPv4 address"))?;
            let index = assignable_index(&net, ip).ok_or_else(|| {
                format!(
                    "the requested address {ip} is not a usable address of subnet {} ({net})",
                    subnet_address.name()
                )
            })?;
            if index < node_addresses || taken.contains(text) {
                return Err(format!(
                    "the requested address {ip} of subnet {} is already in use",
                    subnet_address.name()
                ));
            }
            ip.to_string()
        }
        None => match previous.filter(|ip| !taken.contains(*ip)) {
            Some(ip) => ip.clone(),
            None => (node_addresses..)
                .map_while(|index| assignable(&net, index))
                .map(|ip| ip.to_string())
                .find(|ip| !taken.contains(ip) && !held_by_others.contains(ip))
                .ok_or_else(|| format!("SubnetIsFull: subnet {} ({net}) has no free address", subnet_address.name()))?,
        },
    };
    Ok(FrontendPlan {
        name: frontend_name,
        public_ip_id: None,
        subnet_id: Some(subnet.address.id()),
        address,
        requested: requested.is_some(),
        rules: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "s";

    /// A cluster `c` in `rg` whose one pool (3 nodes + 1 surge, kubenet: 4 addresses) uses
    /// subnet `nodes` (10.1.0.0/28: .4 to .14) of VNet `v`.
    fn store() -> (Store, Address) {
        let mut store = Store::default();
        let group = Address::resource_group(SUB, "rg");
        let nodes = Address::resource_group(SUB, "MC_rg_c_eastus");
        store.put(group.clone(), json!({ "location": "eastus", "properties": {} }), None);
        store.put(nodes, json!({ "location": "eastus", "properties": {} }), None);
        let subnet = Address::new(Kind::Subnet, SUB, "rg", &["v", "nodes"]);
        store.put(Address::new(Kind::VirtualNetwork, SUB, "rg", &["v"]), json!({ "properties": {} }), None);
        store.put(subnet.clone(), json!({ "properties": { "addressPrefix": "10.1.0.0/28" } }), None);
        let cluster = Address::new(Kind::ManagedCluster, SUB, "rg", &["c"]);
        store.put(cluster.clone(), json!({ "location": "eastus", "properties": { "nodeResourceGroup": "MC_rg_c_eastus", "networkProfile": { "networkPlugin": "kubenet" } } }), None);
        store.put(
            cluster.child(Kind::AgentPool, "system"),
            json!({ "properties": { "count": 3, "maxPods": 110, "vnetSubnetID": subnet.id() } }),
            None,
        );
        (store, cluster)
    }

    fn internal(name: &str, ip: Option<&str>) -> ServiceView {
        let mut annotations = BTreeMap::from([(INTERNAL.to_string(), "true".to_string())]);
        if let Some(ip) = ip {
            annotations.insert(IPV4.to_string(), ip.to_string());
        }
        ServiceView {
            namespace: "default".into(),
            name: name.into(),
            uid: format!("{name}-0000-uid"),
            annotations,
            load_balancer_ip: None,
            ports: vec![("TCP".into(), 443, Some(30443))],
        }
    }

    #[test]
    fn internal_addresses_come_after_the_nodes_and_requested_ones_are_checked() {
        let (mut store, cluster) = store();
        let services = [
            internal("a", None),
            internal("b", Some("10.1.0.12")),
            internal("c", Some("10.1.0.5")),
            internal("d", Some("10.2.0.9")),
        ];
        let outcomes = reconcile(&mut store, &cluster, &services, false).unwrap();
        // Nodes hold .4 to .7; `a` gets the next free address.
        assert_eq!(outcomes[0].ingress_ip.as_deref(), Some("10.1.0.8"));
        assert_eq!(outcomes[1].ingress_ip.as_deref(), Some("10.1.0.12"));
        assert!(outcomes[2].warning.as_deref().unwrap().contains("already in use"), "{:?}", outcomes[2]);
        assert!(outcomes[3].warning.as_deref().unwrap().contains("not a usable address"), "{:?}", outcomes[3]);
        let balancer =
            store.get(&Address::new(Kind::LoadBalancer, SUB, "MC_rg_c_eastus", &["kubernetes-internal"])).unwrap();
        let names: Vec<String> = frontends(&balancer.body).into_iter().map(|frontend| frontend.name).collect();
        assert_eq!(names, vec!["aa0000uid", "ab0000uid"]);
        assert_eq!(balancer.body["properties"]["probes"][0]["properties"]["port"], 30443);

        // An address stays with its Service while others come and go.
        let outcomes = reconcile(
            &mut store,
            &cluster,
            &[internal("b", Some("10.1.0.12")), internal("a", None), internal("0", None)],
            false,
        )
        .unwrap();
        let by_name: BTreeMap<&str, Option<&str>> =
            outcomes.iter().map(|o| (o.name.as_str(), o.ingress_ip.as_deref())).collect();
        assert_eq!(by_name["0"], Some("10.1.0.9"));
        assert_eq!(by_name["a"], Some("10.1.0.8"));

        // No Services: no load balancers, an empty security group.
        reconcile(&mut store, &cluster, &[], false).unwrap();
        assert!(store.all_of(Kind::LoadBalancer).is_empty());
        let nsg = store.all_of(Kind::NetworkSecurityGroup);
        assert_eq!(nsg[0].body["properties"]["securityRules"], json!([]));
    }

    #[test]
    fn a_full_subnet_and_a_missing_subnet_are_reported() {
        let (mut store, cluster) = store();
        let many: Vec<ServiceView> = (0..8).map(|i| internal(&format!("s{i}"), None)).collect();
        let outcomes = reconcile(&mut store, &cluster, &many, false).unwrap();
        // .8 to .14: seven addresses after the nodes.
        assert_eq!(outcomes.iter().filter(|o| o.ingress_ip.is_some()).count(), 7);
        assert!(outcomes[7].warning.as_deref().unwrap().contains("SubnetIsFull"));
        let mut elsewhere = internal("x", None);
        elsewhere.annotations.insert(INTERNAL_SUBNET.to_string(), "ilb".to_string());
        let outcomes = reconcile(&mut store, &cluster, &[elsewhere], false).unwrap();
        assert!(outcomes[0].warning.as_deref().unwrap().contains("/subnets/ilb was not found"));
    }

    #[test]
    fn with_authorization_a_subnet_outside_the_node_group_needs_a_role_for_the_identity() {
        let (mut store, cluster) = store();
        let principal = "0a1b2c3d-0000-4000-8000-00000000000a";
        let identity =
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id";
        store.get_mut(&cluster).unwrap().body["identity"] = json!({
            "type": "UserAssigned", "userAssignedIdentities": { identity: { "principalId": principal, "clientId": "c" } }
        });
        let grant = |store: &mut Store, name: &str, role: &str, to: &str| {
            let role = format!("/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/{role}");
            let id = format!("/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/{name}");
            let body = json!({ "id": id, "name": name, "properties": { "roleDefinitionId": role, "principalId": to } });
            store.put_role_assignment(&id, "/subscriptions/s".to_string(), body);
        };
        let services = [internal("a", None)];
        assert!(reconcile(&mut store, &cluster, &services, false).unwrap()[0].ingress_ip.is_some());

        grant(&mut store, "n1", crate::arm::authorization::READER, principal);
        grant(&mut store, "n2", crate::arm::authorization::CONTRIBUTOR, "someone-else");
        let outcome = &reconcile(&mut store, &cluster, &services, true).unwrap()[0];
        assert_eq!(outcome.ingress_ip, None);
        let warning = outcome.warning.as_deref().unwrap();
        assert!(warning.contains("\"code\":\"LinkedAuthorizationFailed\""), "{warning}");
        assert!(warning.contains(&format!("The client '{principal}' with object id '{principal}'")), "{warning}");
        assert!(warning.contains("/virtualNetworks/v/subnets/nodes' (respectively)"), "{warning}");
        assert!(warning.contains("/MC_rg_c_eastus/providers/Microsoft.Network/loadBalancers/kubernetes-internal'"));
        // Nothing joins the subnet: the frontend is not written.
        assert!(store.all_of(Kind::LoadBalancer).is_empty());

        grant(&mut store, "n3", crate::arm::authorization::CONTRIBUTOR, principal);
        let outcome = &reconcile(&mut store, &cluster, &services, true).unwrap()[0];
        assert_eq!(outcome.ingress_ip.as_deref(), Some("10.1.0.8"), "{outcome:?}");
    }
}
