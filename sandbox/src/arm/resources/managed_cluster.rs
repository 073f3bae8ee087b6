//! Microsoft.ContainerService/managedClusters: AKS's checks of the network profile and the
//! pools' subnets, what may not change after creation, the node resource group it creates, the
//! application routing add-on's profile, and the defaults a GET shows.

use serde_json::{Map, Value, json};

use super::ResourceType;
use super::agent_pool::{ClusterNetwork, KUBERNETES_VERSION, build_pool, pool_resource};
use super::load_balancer::in_node_group;
use super::network_security_group::{build_security_group, security_group_name};
use super::{Prepared, PutContext, base, immutable, keep_location, properties_mut, require_location};
use crate::arm::address::{Address, Kind};
use crate::arm::errors::ArmError;
use crate::arm::identity::{CONTAINER_SERVICE_API_VERSIONS, CONTAINER_SERVICE_NAMESPACE, NameRule, TypeIdentity};
use crate::arm::schema::Schema;
use crate::arm::store::{Resource, Store};

/// Managed clusters.
pub struct ManagedCluster;

/// Cluster names, which AKS also uses in DNS prefixes and node resource group names.
const NAME_RULE: NameRule = NameRule {
    allows: |name| {
        (1..=63).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.ends_with(|c: char| c.is_ascii_alphanumeric())
    },
    description: "1 to 63 letters, digits, '-' and '_', starting and ending with a letter or digit",
};

static IDENTITY: TypeIdentity = TypeIdentity {
    namespace: CONTAINER_SERVICE_NAMESPACE,
    type_segments: &["managedClusters"],
    response_type: Some("Microsoft.ContainerService/ManagedClusters"),
    api_versions: CONTAINER_SERVICE_API_VERSIONS,
    put_is_long_running: true,
    delete_is_long_running: true,
    parent: None,
    name_rule: NAME_RULE,
};

impl ResourceType for ManagedCluster {
    fn identity(&self) -> &TypeIdentity {
        &IDENTITY
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn prepare(&self, context: &PutContext<'_>, body: Value) -> Result<Prepared, ArmError> {
        prepare(context, body)
    }

    fn render(&self, store: &Store, resource: &Resource, body: &mut Value) {
        render(store, resource, body);
    }

    fn on_succeeded(&self, store: &mut Store, address: &Address, state: &str) {
        set_pools_state(store, address, state);
    }

    fn busy_neighbour(&self, store: &Store, address: &Address) -> Option<Address> {
        let pools = store.children(address, Kind::AgentPool);
        pools.into_iter().find(|pool| store.busy(&pool.address)).map(|pool| pool.address.clone())
    }

    fn has_control_plane(&self) -> bool {
        true
    }
}

/// The minor versions AKS offers next to the control planes' own.
const SUPPORTED_MINORS: std::ops::RangeInclusive<u32> = 31..=34;

pub fn schema() -> Schema {
    let mut paths: Vec<String> = [
        "location",
        "tags.*",
        "sku.name",
        "sku.tier",
        "identity.type",
        "identity.userAssignedIdentities.*.principalId!",
        "identity.userAssignedIdentities.*.clientId!",
        "identity.principalId!",
        "identity.tenantId!",
        "identity.delegatedResources~",
        "extendedLocation~",
        "kind",
        "id!",
        "name!",
        "type!",
        "eTag!",
        "systemData!",
        "properties.kubernetesVersion",
        "properties.dnsPrefix",
        "properties.fqdnSubdomain",
        "properties.agentPoolProfiles[].name",
        "properties.linuxProfile~",
        "properties.windowsProfile~",
        "properties.servicePrincipalProfile~",
        "properties.addonProfiles~",
        "properties.podIdentityProfile~",
        "properties.oidcIssuerProfile.enabled",
        "properties.oidcIssuerProfile.issuerURL!",
        "properties.nodeResourceGroup",
        "properties.nodeResourceGroupProfile~",
        "properties.enableRBAC",
        "properties.supportPlan",
        "properties.enablePodSecurityPolicy",
        "properties.networkProfile.networkPlugin",
        "properties.networkProfile.networkPluginMode",
        "properties.networkProfile.networkPolicy",
        "properties.networkProfile.networkMode",
        "properties.networkProfile.networkDataplane",
        "properties.networkProfile.podCidr",
        "properties.networkProfile.serviceCidr",
        "properties.networkProfile.dnsServiceIP",
        "properties.networkProfile.outboundType",
        "properties.networkProfile.loadBalancerSku",
        "properties.networkProfile.loadBalancerProfile.managedOutboundIPs.count",
        "properties.networkProfile.loadBalancerProfile.managedOutboundIPs.countIPv6",
        "properties.networkProfile.loadBalancerProfile.outboundIPPrefixes.publicIPPrefixes[].id",
        "properties.networkProfile.loadBalancerProfile.outboundIPs.publicIPs[].id",
        "properties.networkProfile.loadBalancerProfile.effectiveOutboundIPs!",
        "properties.networkProfile.loadBalancerProfile.allocatedOutboundPorts",
        "properties.networkProfile.loadBalancerProfile.idleTimeoutInMinutes",
        "properties.networkProfile.loadBalancerProfile.enableMultipleStandardLoadBalancers",
        "properties.networkProfile.loadBalancerProfile.backendPoolType",
        "properties.networkProfile.natGatewayProfile.managedOutboundIPProfile.count",
        "properties.networkProfile.natGatewayProfile.idleTimeoutInMinutes",
        "properties.networkProfile.natGatewayProfile.effectiveOutboundIPs!",
        "properties.networkProfile.podCidrs[]",
        "properties.networkProfile.serviceCidrs[]",
        "properties.networkProfile.ipFamilies[]",
        "properties.networkProfile.advancedNetworking~",
        "properties.aadProfile~",
        "properties.autoUpgradeProfile~",
        "properties.upgradeSettings~",
        "properties.autoScalerProfile~",
        "properties.apiServerAccessProfile~",
        "properties.diskEncryptionSetID",
        "properties.identityProfile~",
        "properties.privateLinkResources~",
        "properties.disableLocalAccounts",
        "properties.httpProxyConfig~",
        "properties.securityProfile~",
        "properties.storageProfile~",
        "properties.ingressProfile.webAppRouting.enabled",
        "properties.ingressProfile.webAppRouting.dnsZoneResourceIds[]",
        "properties.ingressProfile.webAppRouting.identity~!",
        "properties.publicNetworkAccess",
        "properties.workloadAutoScalerProfile~",
        "properties.azureMonitorProfile~",
        "properties.serviceMeshProfile~",
        "properties.metricsProfile~",
        "properties.provisioningState!",
        "properties.powerState!",
        "properties.maxAgentPools!",
        "properties.currentKubernetesVersion!",
        "properties.fqdn!",
        "properties.privateFQDN!",
        "properties.azurePortalFQDN!",
        "properties.resourceUID!",
    ]
    .iter()
    .map(|path| path.to_string())
    .collect();
    paths.extend(super::agent_pool::POOL_PATHS.iter().map(|path| format!("properties.agentPoolProfiles[].{path}")));
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    Schema::new("ManagedCluster", &paths)
}

/// The node resource group of a stored cluster.
pub fn node_resource_group(cluster: &Resource) -> Option<Address> {
    let name = cluster.str_property("/properties/nodeResourceGroup")?;
    Some(Address::resource_group(&cluster.address.subscription, name))
}

pub fn prepare(context: &PutContext<'_>, body: Value) -> Result<Prepared, ArmError> {
    let location = require_location(&body)?;
    keep_location(context, &location)?;
    let address = context.address;
    let get = |pointer: &str| body.pointer(pointer).and_then(Value::as_str);

    let dns_prefix = match (get("/properties/dnsPrefix"), get("/properties/fqdnSubdomain")) {
        (Some(prefix), _) if !prefix.is_empty() => prefix.to_string(),
        (_, Some(_)) => String::new(),
        _ => {
            return Err(ArmError::invalid_parameter(
                "properties.dnsPrefix",
                "Required parameter dnsPrefix is missing (null).",
            ));
        }
    };
    if !dns_prefix.is_empty() && !valid_dns_prefix(&dns_prefix) {
        return Err(ArmError::invalid_parameter(
            "properties.dnsPrefix",
            format!(
                "The value of parameter dnsPrefix '{dns_prefix}' is invalid: it must hold 1 to 54 letters, digits and hyphens, and start and end with a letter or digit."
            ),
        ));
    }
    immutable(context, "/properties/dnsPrefix", "properties.dnsPrefix", body.pointer("/properties/dnsPrefix"))?;
    immutable(
        context,
        "/properties/fqdnSubdomain",
        "properties.fqdnSubdomain",
        body.pointer("/properties/fqdnSubdomain"),
    )?;
    let version = kubernetes_version(get("/properties/kubernetesVersion"))?;

    let node_group_name = match (get("/properties/nodeResourceGroup"), context.existing) {
        (Some(name), _) if !name.is_empty() => name.to_string(),
        (_, Some(existing)) => existing.str_property("/properties/nodeResourceGroup").unwrap_or_default().to_string(),
        _ => format!("MC_{}_{}_{}", address.resource_group, address.name(), location),
    };
    immutable(context, "/properties/nodeResourceGroup", "properties.nodeResourceGroup", Some(&json!(node_group_name)))?;
    let node_group = Address::resource_group(&address.subscription, &node_group_name);
    if context.existing.is_none() {
        if node_group_name.eq_ignore_ascii_case(&address.resource_group) {
            return Err(ArmError::invalid_parameter(
                "properties.nodeResourceGroup",
                "The node resource group must differ from the cluster's own resource group.",
            ));
        }
        if context.store.get(&node_group).is_some() {
            return Err(ArmError::bad_request(
                "NodeResourceGroupAlreadyExists",
                format!("The node resource group '{node_group_name}' already exists; AKS creates it and it must not exist beforehand."),
            )
            .with_target("properties.nodeResourceGroup"));
        }
    }

    let ingress_profile = super::ingress_profile::profile(context, &body, &node_group)?;
    let network_profile = super::cluster_network::network_profile(context, &body)?;
    let network = ClusterNetwork::of(&json!({ "properties": { "networkProfile": network_profile } }));

    // Pools: each profile becomes (or updates) an agentPools child.
    let profiles = body.pointer("/properties/agentPoolProfiles").and_then(Value::as_array).cloned();
    let mut pools = Vec::new();
    match &profiles {
        Some(profiles) => {
            let mut names = Vec::new();
            for (index, profile) in profiles.iter().enumerate() {
                let target = format!("properties.agentPoolProfiles[{index}]");
                let mut profile = profile.as_object().cloned().unwrap_or_default();
                let Some(name) = profile.remove("name").and_then(|n| n.as_str().map(str::to_string)) else {
                    return Err(ArmError::invalid_parameter(&target, "Every agent pool profile needs a name."));
                };
                if names.contains(&name) {
                    return Err(ArmError::invalid_parameter(
                        &target,
                        format!("The agent pool name '{name}' is used twice."),
                    ));
                }
                names.push(name.clone());
                let pool_address = address.child(Kind::AgentPool, &name);
                let existing = context.store.get(&pool_address);
                let existing_properties =
                    existing.and_then(|pool| pool.body.get("properties")).and_then(Value::as_object);
                let built = build_pool(context.store, &name, &target, profile, existing_properties, &network)?;
                pools.push((pool_address, built, existing.is_some()));
            }
        }
        None if context.existing.is_none() => {
            return Err(ArmError::invalid_parameter(
                "properties.agentPoolProfiles",
                "Required parameter agentPoolProfiles is missing (null).",
            ));
        }
        None => {}
    }
    let all_pools_system = |pools: &[(Address, Map<String, Value>, bool)]| {
        pools.iter().any(|(_, pool, _)| {
            pool.get("mode").and_then(Value::as_str).is_some_and(|m| m.eq_ignore_ascii_case("System"))
        })
    };
    if context.existing.is_none() && !all_pools_system(&pools) {
        return Err(ArmError::bad_request(
            "MustDefineAtLeastOneSystemPool",
            "Must define at least one system pool: set mode 'System' on one agent pool profile.",
        )
        .with_target("properties.agentPoolProfiles"));
    }
    super::cluster_network::check_service_cidr_against_subnets(context.store, &network_profile, &pools)?;
    super::cluster_network::check_outbound(context.store, &network_profile, &pools)?;
    let plans: Vec<(String, Map<String, Value>, bool)> =
        pools.iter().map(|(pool_address, pool, exists)| (pool_address.key(), pool.clone(), *exists)).collect();
    super::cluster_network::check_capacity(context.store, &plans, &network)?;

    let mut out = base(address, body);
    let cluster_id = address.id();
    let fqdn_suffix = context
        .existing
        .and_then(|c| c.str_property("/properties/fqdn"))
        .and_then(|fqdn| fqdn.split('.').next())
        .and_then(|host| host.rsplit('-').next())
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()[..8].to_string());
    let uid = context.existing.and_then(|c| c.property("/properties/resourceUID")).cloned();
    out.insert("eTag".into(), json!(uuid::Uuid::new_v4().simple().to_string()));
    let sku = out.entry("sku").or_insert(json!({}));
    if let Some(sku) = sku.as_object_mut() {
        sku.entry("name").or_insert(json!("Base"));
        sku.entry("tier").or_insert(json!("Free"));
    }
    let identity = out.entry("identity").or_insert(json!({ "type": "SystemAssigned" }));
    if let Some(identity) = identity.as_object_mut()
        && identity.get("type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("SystemAssigned"))
    {
        // The system-assigned identity lives as long as the cluster.
        let kept = context.existing.and_then(|cluster| cluster.property("/identity/principalId")).cloned();
        identity.insert("principalId".into(), kept.unwrap_or_else(|| json!(uuid::Uuid::new_v4().to_string())));
        identity.insert("tenantId".into(), json!("00000000-0000-0000-0000-000000000000"));
    }
    // The emulator serves no Microsoft.ManagedIdentity: a user-assigned identity's ids are made
    // from its resource id, the same for every cluster that uses it.
    if let Some(identities) = identity.get_mut("userAssignedIdentities").and_then(Value::as_object_mut) {
        for (id, entry) in identities.iter_mut() {
            *entry = json!({ "principalId": guid_of("principalId", id), "clientId": guid_of("clientId", id) });
        }
    }
    let properties = properties_mut(&mut out);
    properties.remove("agentPoolProfiles");
    properties.insert("kubernetesVersion".into(), json!(version));
    properties.insert("currentKubernetesVersion".into(), json!(KUBERNETES_VERSION));
    properties.insert("maxAgentPools".into(), json!(100));
    properties.insert("powerState".into(), json!({ "code": "Running" }));
    if !dns_prefix.is_empty() {
        properties.insert("dnsPrefix".into(), json!(dns_prefix));
        let host = format!("{dns_prefix}-{fqdn_suffix}");
        properties.insert("fqdn".into(), json!(format!("{host}.hcp.{location}.azmk8s.io")));
        properties.insert("azurePortalFQDN".into(), json!(format!("{host}.portal.hcp.{location}.azmk8s.io")));
    }
    properties.insert("nodeResourceGroup".into(), json!(node_group_name));
    properties.entry("enableRBAC").or_insert(json!(true));
    properties.entry("supportPlan").or_insert(json!("KubernetesOfficial"));
    properties.insert("networkProfile".into(), network_profile);
    match ingress_profile {
        Some(profile) => properties.insert("ingressProfile".into(), profile),
        None => properties.remove("ingressProfile"),
    };
    properties.insert("resourceUID".into(), uid.unwrap_or_else(|| json!(uuid::Uuid::new_v4().simple().to_string())));

    let mut also = Vec::new();
    if context.existing.is_none() {
        also.extend(node_group_contents(&node_group, &cluster_id, &location, &pools));
        also.push((
            node_group.clone(),
            json!({
                "id": node_group.id(),
                "name": node_group_name,
                "type": "Microsoft.Resources/resourceGroups",
                "location": location,
                "managedBy": cluster_id,
                "tags": {},
                "properties": { "provisioningState": "Succeeded" },
            }),
        ));
    }
    for (pool_address, pool, exists) in pools {
        let state = if exists { "Updating" } else { "Creating" };
        also.push((pool_address.clone(), pool_resource(&pool_address, pool, state)));
    }
    Ok(Prepared { body: Value::Object(out), also, remove: Vec::new() })
}

/// What AKS puts in a new node resource group: the node security group, and when no pool
/// brings its own subnet, the managed VNet `aks-vnet-<digits>` with its subnet `aks-subnet`.
fn node_group_contents(
    node_group: &Address,
    cluster_id: &str,
    location: &str,
    pools: &[(Address, Map<String, Value>, bool)],
) -> Vec<(Address, Value)> {
    let mut contents = Vec::new();
    let nsg_name = security_group_name(cluster_id);
    let nsg = in_node_group(node_group, Kind::NetworkSecurityGroup, &nsg_name);
    contents.push((nsg.clone(), build_security_group(&nsg, location, &[], &uuid::Uuid::new_v4().to_string())));
    if pools.iter().all(|(_, pool, _)| !pool.contains_key("vnetSubnetID")) {
        let digits = nsg_name.trim_start_matches("aks-agentpool-").trim_end_matches("-nsg").to_string();
        let vnet = in_node_group(node_group, Kind::VirtualNetwork, &format!("aks-vnet-{digits}"));
        let subnet = vnet.child(Kind::Subnet, "aks-subnet");
        contents.push((
            vnet.clone(),
            json!({
                "id": vnet.id(), "name": vnet.name(), "type": "Microsoft.Network/virtualNetworks", "location": location,
                "etag": format!("W/\"{}\"", uuid::Uuid::new_v4()),
                "properties": { "provisioningState": "Succeeded", "resourceGuid": uuid::Uuid::new_v4().to_string(),
                    "addressSpace": { "addressPrefixes": ["10.224.0.0/12"] }, "enableDdosProtection": false }
            }),
        ));
        contents.push((
            subnet.clone(),
            json!({
                "id": subnet.id(), "name": "aks-subnet", "type": "Microsoft.Network/virtualNetworks/subnets",
                "etag": format!("W/\"{}\"", uuid::Uuid::new_v4()),
                "properties": { "provisioningState": "Succeeded", "addressPrefix": "10.224.0.0/16",
                    "networkSecurityGroup": { "id": nsg.id() } }
            }),
        ));
    }
    contents
}

/// The subnet a cluster's internal load balancers use by default: the first pool's, or the
/// managed VNet's.
pub fn default_subnet(store: &Store, cluster: &Resource) -> Option<Address> {
    let pools = store.children(&cluster.address, Kind::AgentPool);
    if let Some(id) = pools.iter().find_map(|pool| pool.str_property("/properties/vnetSubnetID")) {
        return Address::parse_id(id);
    }
    let node_group = node_resource_group(cluster)?;
    store
        .all_of(Kind::Subnet)
        .into_iter()
        .find(|subnet| subnet.address.group() == node_group && subnet.address.name() == "aks-subnet")
        .map(|subnet| subnet.address.clone())
}

fn valid_dns_prefix(prefix: &str) -> bool {
    let bytes = prefix.as_bytes();
    (1..=54).contains(&bytes.len())
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

fn kubernetes_version(requested: Option<&str>) -> Result<String, ArmError> {
    let Some(requested) = requested.filter(|v| !v.is_empty()) else { return Ok(KUBERNETES_VERSION.to_string()) };
    let parts: Vec<&str> = requested.split('.').collect();
    let minor = match parts.as_slice() {
        ["1", minor] | ["1", minor, _] => minor.parse::<u32>().ok(),
        _ => None,
    };
    match minor {
        Some(minor) if SUPPORTED_MINORS.contains(&minor) => Ok(requested.to_string()),
        _ => Err(ArmError::bad_request(
            "K8sVersionNotSupported",
            format!(
                "Version {requested} is not supported in this region. Please use [az aks get-versions] command to get the supported version list in this region. Supported minor versions: 1.{}–1.{}.",
                SUPPORTED_MINORS.start(),
                SUPPORTED_MINORS.end()
            ),
        )
        .with_target("properties.kubernetesVersion")),
    }
}

pub fn render(store: &Store, cluster: &Resource, body: &mut Value) {
    let profiles: Vec<Value> =
        store.children(&cluster.address, Kind::AgentPool).into_iter().map(super::agent_pool::profile).collect();
    if let Some(properties) = body.get_mut("properties").and_then(Value::as_object_mut) {
        properties.insert("agentPoolProfiles".into(), Value::Array(profiles));
    }
}

/// Sets the state of the pools that follow their cluster's operation.
pub fn set_pools_state(store: &mut Store, cluster: &Address, state: &str) {
    let pools: Vec<Address> = store
        .children(cluster, Kind::AgentPool)
        .into_iter()
        .filter(|pool| pool.operation.is_none())
        .map(|pool| pool.address.clone())
        .collect();
    for pool in pools {
        if let Some(pool) = store.get_mut(&pool) {
            pool.set_provisioning_state(state);
        }
    }
}

/// The node resource groups of the clusters among `removed`: AKS deletes them with their
/// cluster.
pub fn removed_clusters(removed: &[Resource]) -> Vec<(Address, Option<Address>)> {
    removed
        .iter()
        .filter(|resource| resource.address.kind == Kind::ManagedCluster)
        .map(|cluster| (cluster.address.clone(), node_resource_group(cluster)))
        .collect()
}

/// A GUID made from `what` and an identity's resource id (in any casing).
fn guid_of(what: &str, id: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{what}:{}", id.to_ascii_lowercase()).as_bytes());
    let hex: String = digest.iter().take(16).map(|byte| format!("{byte:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

#[cfg(test)]
mod tests {
    use super::guid_of;

    #[test]
    fn user_assigned_ids_are_guids_of_the_identity_in_any_casing() {
        let id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/aks";
        let principal = guid_of("principalId", id);
        assert!(crate::arm::authorization::is_guid(&principal), "{principal}");
        assert_eq!(guid_of("principalId", &id.to_ascii_uppercase()), principal);
        assert_ne!(guid_of("clientId", id), principal);
    }
}
