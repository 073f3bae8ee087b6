//! Microsoft.ContainerService/managedClusters/agentPools, and the same pool as an entry of a
//! cluster's `agentPoolProfiles`: AKS's defaults, what may not change after creation, and how
//! many addresses a pool takes from its subnets.

use serde_json::{Map, Value, json};

use super::{Prepared, ResourceType};
use super::{PutContext, same_value};
use crate::arm::address::{Address, Kind};
use crate::arm::errors::ArmError;
use crate::arm::identity::{CONTAINER_SERVICE_API_VERSIONS, CONTAINER_SERVICE_NAMESPACE, NameRule, TypeIdentity};
use crate::arm::schema::Schema;
use crate::arm::store::{Resource, Store};

/// Agent pools of a managed cluster.
pub struct AgentPool;

static IDENTITY: TypeIdentity = TypeIdentity {
    namespace: CONTAINER_SERVICE_NAMESPACE,
    type_segments: &["managedClusters", "agentPools"],
    response_type: None,
    api_versions: CONTAINER_SERVICE_API_VERSIONS,
    put_is_long_running: true,
    delete_is_long_running: true,
    parent: Some(Kind::ManagedCluster),
    name_rule: NameRule::UNCHECKED,
};

impl ResourceType for AgentPool {
    fn identity(&self) -> &TypeIdentity {
        &IDENTITY
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn prepare(&self, context: &PutContext<'_>, body: Value) -> Result<Prepared, ArmError> {
        prepare(context, body).map(Prepared::alone)
    }

    fn busy_neighbour(&self, store: &Store, address: &Address) -> Option<Address> {
        address.parent().filter(|cluster| store.busy(cluster))
    }

    fn check_delete(&self, store: &Store, pool: &Resource) -> Result<(), ArmError> {
        let is_system = pool.str_property("/properties/mode").is_some_and(|m| m.eq_ignore_ascii_case("System"));
        let Some(cluster) = pool.address.parent() else { return Ok(()) };
        if is_system && !other_system_pool(store, &cluster, &pool.address) {
            return Err(ArmError::bad_request(
                "MustDefineAtLeastOneSystemPool",
                format!(
                    "Agent pool '{}' is the last System pool of its cluster and cannot be deleted.",
                    pool.address.name()
                ),
            ));
        }
        Ok(())
    }
}

/// The Kubernetes version the control planes run; AKS reports the full patch version.
pub const KUBERNETES_VERSION: &str = "1.34.4";
pub const NODE_IMAGE_VERSION: &str = "AKSUbuntu-2204gen2containerd-202510.03.0";

/// A pool's members, relative to the pool's properties.
pub const POOL_PATHS: &[&str] = &[
    "count",
    "vmSize",
    "osDiskSizeGB",
    "osDiskType",
    "kubeletDiskType",
    "workloadRuntime",
    "messageOfTheDay",
    "vnetSubnetID",
    "podSubnetID",
    "maxPods",
    "osType",
    "osSKU",
    "maxCount",
    "minCount",
    "enableAutoScaling",
    "scaleDownMode",
    "type",
    "mode",
    "orchestratorVersion",
    "upgradeSettings.maxSurge",
    "upgradeSettings.drainTimeoutInMinutes",
    "upgradeSettings.nodeSoakDurationInMinutes",
    "powerState.code",
    "availabilityZones[]",
    "enableNodePublicIP",
    "nodePublicIPPrefixID",
    "scaleSetPriority",
    "scaleSetEvictionPolicy",
    "spotMaxPrice",
    "tags.*",
    "nodeLabels.*",
    "nodeTaints[]",
    "proximityPlacementGroupID",
    "kubeletConfig~",
    "linuxOSConfig~",
    "enableEncryptionAtHost",
    "enableUltraSSD",
    "enableFIPS",
    "gpuInstanceProfile",
    "creationData~",
    "capacityReservationGroupID",
    "hostGroupID",
    "networkProfile~",
    "windowsProfile~",
    "securityProfile~",
    "provisioningState!",
    "currentOrchestratorVersion!",
    "nodeImageVersion!",
    "eTag!",
];

pub fn schema() -> Schema {
    let paths: Vec<String> = ["id!", "name!", "type!"]
        .iter()
        .map(|path| path.to_string())
        .chain(POOL_PATHS.iter().map(|path| format!("properties.{path}")))
        .collect();
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    Schema::new("AgentPool", &paths)
}

/// The network model of a cluster, which decides how many addresses its pools take.
#[derive(Debug, Clone)]
pub struct ClusterNetwork {
    pub plugin: String,
    pub overlay: bool,
}

impl ClusterNetwork {
    pub fn of(cluster_body: &Value) -> ClusterNetwork {
        let profile = cluster_body.pointer("/properties/networkProfile");
        let get = |key: &str| profile.and_then(|p| p.get(key)).and_then(Value::as_str).map(str::to_ascii_lowercase);
        ClusterNetwork {
            plugin: get("networkPlugin").unwrap_or_else(|| "kubenet".to_string()),
            overlay: get("networkPluginMode").as_deref() == Some("overlay"),
        }
    }

    /// AKS's default maxPods for this network model.
    pub fn default_max_pods(&self, has_pod_subnet: bool) -> u64 {
        match (self.plugin.as_str(), self.overlay, has_pod_subnet) {
            ("azure", true, _) => 250,
            ("azure", false, true) => 110,
            ("azure", false, false) => 30,
            _ => 110,
        }
    }
}

/// The node count AKS reserves addresses for: the autoscaler's maximum or the count, plus the
/// upgrade surge.
pub fn reserved_nodes(pool: &Value) -> u64 {
    let autoscaling = pool.get("enableAutoScaling").and_then(Value::as_bool).unwrap_or(false);
    let count = pool.get("count").and_then(Value::as_u64).unwrap_or(1);
    let nodes = if autoscaling { pool.get("maxCount").and_then(Value::as_u64).unwrap_or(count) } else { count };
    let surge = match pool.pointer("/upgradeSettings/maxSurge").and_then(Value::as_str) {
        Some(text) if text.ends_with('%') => {
            let percent: u64 = text.trim_end_matches('%').parse().unwrap_or(0);
            (nodes * percent).div_ceil(100)
        }
        Some(text) => text.parse().unwrap_or(1),
        None => 1,
    };
    nodes + surge
}

/// The addresses a pool takes from each subnet it uses: a node address per node, and with
/// Azure CNI without overlay, one per pod too (on the pod subnet if the pool has one).
pub fn subnet_demand(pool: &Value, network: &ClusterNetwork) -> Vec<(String, u64)> {
    let nodes = reserved_nodes(pool);
    let max_pods = pool.get("maxPods").and_then(Value::as_u64).unwrap_or(30);
    let node_subnet = pool.get("vnetSubnetID").and_then(Value::as_str);
    let pod_subnet = pool.get("podSubnetID").and_then(Value::as_str);
    let per_pod = network.plugin == "azure" && !network.overlay;
    let mut demand = Vec::new();
    match (node_subnet, pod_subnet) {
        (Some(node), Some(pod)) if per_pod => {
            demand.push((node.to_string(), nodes));
            demand.push((pod.to_string(), nodes * max_pods));
        }
        (Some(node), _) if per_pod => demand.push((node.to_string(), nodes * (max_pods + 1))),
        (Some(node), _) => demand.push((node.to_string(), nodes)),
        (None, _) => {}
    }
    demand
}

/// Checks one pool's properties and fills in AKS's defaults. `target` prefixes error targets
/// (`properties` for a pool resource, `properties.agentPoolProfiles[i]` in a cluster).
pub fn build_pool(
    store: &Store,
    name: &str,
    target: &str,
    mut pool: Map<String, Value>,
    existing: Option<&Map<String, Value>>,
    network: &ClusterNetwork,
) -> Result<Map<String, Value>, ArmError> {
    if !valid_pool_name(name) {
        return Err(ArmError::invalid_parameter(
            target,
            format!(
                "The agent pool name '{name}' is invalid: it must start with a lowercase letter and hold 1 to 12 lowercase letters and digits."
            ),
        ));
    }
    let mode = pool.get("mode").and_then(Value::as_str).unwrap_or("User").to_string();
    let os_type = pool.get("osType").and_then(Value::as_str).unwrap_or("Linux").to_string();
    if mode.eq_ignore_ascii_case("System") && !os_type.eq_ignore_ascii_case("Linux") {
        return Err(ArmError::invalid_parameter(
            &format!("{target}.osType"),
            format!("System agent pool '{name}' must run Linux."),
        ));
    }
    let count = integer(&pool, "count", target)?.unwrap_or(1);
    let minimum = if mode.eq_ignore_ascii_case("System") { 1 } else { 0 };
    if !(minimum..=1000).contains(&count) {
        return Err(ArmError::invalid_parameter(
            &format!("{target}.count"),
            format!("The count of agent pool '{name}' is {count}; a {mode} pool holds {minimum} to 1000 nodes."),
        ));
    }
    if pool.get("enableAutoScaling").and_then(Value::as_bool).unwrap_or(false) {
        let min = integer(&pool, "minCount", target)?;
        let max = integer(&pool, "maxCount", target)?;
        match (min, max) {
            (Some(min), Some(max)) if min <= max && max <= 1000 => {}
            _ => {
                return Err(ArmError::invalid_parameter(
                    &format!("{target}.maxCount"),
                    format!(
                        "Agent pool '{name}' enables auto-scaling: minCount and maxCount are required, with minCount <= maxCount <= 1000."
                    ),
                ));
            }
        }
    }
    let has_pod_subnet = pool.get("podSubnetID").is_some();
    // A pool keeps its maxPods when an update leaves it out.
    let kept = existing.and_then(|existing| existing.get("maxPods")).and_then(Value::as_u64);
    let max_pods =
        integer(&pool, "maxPods", target)?.or(kept).unwrap_or_else(|| network.default_max_pods(has_pod_subnet));
    if !(10..=250).contains(&max_pods) {
        return Err(ArmError::invalid_parameter(
            &format!("{target}.maxPods"),
            format!("The maxPods of agent pool '{name}' is {max_pods}; it must be between 10 and 250."),
        ));
    }
    for key in ["vnetSubnetID", "podSubnetID"] {
        if let Some(id) = pool.get(key).and_then(Value::as_str) {
            let exists =
                Address::parse_id(id).filter(|a| a.kind == Kind::Subnet).is_some_and(|a| store.get(&a).is_some());
            if !exists {
                return Err(ArmError::bad_request(
                    "SubnetNotFound",
                    format!("The subnet '{id}' given as {key} of agent pool '{name}' was not found."),
                )
                .with_target(format!("{target}.{key}")));
            }
        }
    }
    if let Some(existing) = existing {
        for key in ["vnetSubnetID", "podSubnetID", "maxPods", "vmSize", "osType", "osDiskType", "osSKU"] {
            let old = existing.get(key);
            let new = if key == "maxPods" { Some(json!(max_pods)) } else { pool.get(key).cloned() };
            if let (Some(old), Some(new)) = (old, new.as_ref())
                && !same_value(old, new)
            {
                return Err(ArmError::property_change_not_allowed(
                    &format!("{target}.{key}"),
                    &super::display(old),
                    &super::display(new),
                ));
            }
        }
    }
    pool.insert("count".into(), json!(count));
    pool.entry("vmSize").or_insert(json!("Standard_DS2_v2"));
    pool.insert("maxPods".into(), json!(max_pods));
    pool.entry("osType").or_insert(json!("Linux"));
    pool.entry("osSKU").or_insert(json!("Ubuntu"));
    pool.entry("osDiskSizeGB").or_insert(json!(128));
    pool.entry("osDiskType").or_insert(json!("Managed"));
    pool.entry("kubeletDiskType").or_insert(json!("OS"));
    pool.entry("type").or_insert(json!("VirtualMachineScaleSets"));
    pool.entry("mode").or_insert(json!(mode));
    pool.entry("enableAutoScaling").or_insert(json!(false));
    pool.entry("enableNodePublicIP").or_insert(json!(false));
    pool.entry("scaleSetPriority").or_insert(json!("Regular"));
    pool.entry("upgradeSettings").or_insert(json!({ "maxSurge": "1" }));
    pool.insert("powerState".into(), json!({ "code": "Running" }));
    let version = pool
        .get("orchestratorVersion")
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .unwrap_or(KUBERNETES_VERSION)
        .to_string();
    pool.insert("orchestratorVersion".into(), json!(version));
    pool.insert("currentOrchestratorVersion".into(), json!(KUBERNETES_VERSION));
    pool.insert("nodeImageVersion".into(), json!(NODE_IMAGE_VERSION));
    pool.insert("eTag".into(), json!(uuid::Uuid::new_v4().simple().to_string()));
    Ok(pool)
}

fn integer(pool: &Map<String, Value>, key: &str, target: &str) -> Result<Option<u64>, ArmError> {
    match pool.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value.as_u64().map(Some).ok_or_else(|| {
            ArmError::invalid_parameter(
                &format!("{target}.{key}"),
                format!("{key} must be a whole number, not {value}."),
            )
        }),
    }
}

fn valid_pool_name(name: &str) -> bool {
    let mut chars = name.chars();
    (1..=12).contains(&name.len())
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// A pool resource as stored, from its checked properties.
pub fn pool_resource(address: &Address, properties: Map<String, Value>, state: &str) -> Value {
    let mut properties = properties;
    properties.insert("provisioningState".into(), json!(state));
    json!({
        "id": address.id(),
        "name": address.name(),
        "type": address.kind.response_type(),
        "properties": properties,
    })
}

/// A pool as an entry of its cluster's `agentPoolProfiles`.
pub fn profile(pool: &Resource) -> Value {
    let mut entry = Map::new();
    entry.insert("name".into(), json!(pool.address.name()));
    if let Some(Value::Object(properties)) = pool.body.get("properties") {
        for (key, value) in properties {
            entry.insert(key.clone(), value.clone());
        }
    }
    Value::Object(entry)
}

pub fn prepare(context: &PutContext<'_>, body: Value) -> Result<Value, ArmError> {
    let Some(cluster_address) = context.address.parent() else {
        return Err(ArmError::invalid_parameter("id", "no cluster"));
    };
    let Some(cluster) = context.store.get(&cluster_address) else {
        return Err(ArmError::parent_not_found("Microsoft.ContainerService/managedClusters", cluster_address.name()));
    };
    let network = ClusterNetwork::of(&cluster.body);
    let properties = body.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    let existing = context.existing.and_then(|pool| pool.body.get("properties")).and_then(Value::as_object);
    let pool = build_pool(context.store, context.address.name(), "properties", properties, existing, &network)?;
    let mode_is_system = |p: &Map<String, Value>| {
        p.get("mode").and_then(Value::as_str).is_some_and(|m| m.eq_ignore_ascii_case("System"))
    };
    if existing.is_some_and(mode_is_system)
        && !mode_is_system(&pool)
        && !other_system_pool(context.store, &cluster_address, context.address)
    {
        return Err(ArmError::bad_request(
            "MustDefineAtLeastOneSystemPool",
            "Must define at least one system pool: this is the cluster's last System pool.",
        ));
    }
    super::cluster_network::check_capacity(
        context.store,
        &[(context.address.key(), pool.clone(), context.existing.is_some())],
        &network,
    )?;
    Ok(pool_resource(context.address, pool, "Creating"))
}

fn other_system_pool(store: &Store, cluster: &Address, except: &Address) -> bool {
    store.children(cluster, Kind::AgentPool).into_iter().any(|pool| {
        pool.address != *except
            && pool.str_property("/properties/mode").is_some_and(|m| m.eq_ignore_ascii_case("System"))
    })
}
