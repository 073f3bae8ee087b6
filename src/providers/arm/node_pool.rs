//! Node pools (Microsoft.ContainerService/managedClusters/agentPools), a child resource of
//! their cluster. The same properties make the cluster's `agentPoolProfiles` at create, so a
//! pool created with its cluster is only recorded afterwards: on AKS a PUT on an existing
//! pool is an update operation of its own, minutes long, even when nothing differs.

use serde_json::{Map, Value as Json, json};

use super::arm_json::{
    CONTAINER_SERVICE_API, bool_at, int_at, marks, named, same_or_live, str_at, string_list, string_map,
};
use super::arm_type::{ArmType, BodyRequest, Identity, MarksAt, Place};
use super::resolver::Resolver;
use crate::model::{Address, Kind, Value};
use crate::providers::attributes::AttributeFields;
use crate::providers::{Attributes, ProviderError};

/// The pool's properties. `creating`: the count of an autoscaled pool is given only at
/// creation; afterwards it is the autoscaler's.
pub fn properties(
    fields: &AttributeFields<'_>,
    address: &Address,
    resolver: &Resolver,
    creating: bool,
) -> Result<Map<String, Json>, ProviderError> {
    let mut p = Map::new();
    let autoscale = fields.bool("autoscale")?.unwrap_or(false);
    if autoscale {
        let min = fields.required_int32("min_count")?;
        p.insert("enableAutoScaling".into(), json!(true));
        p.insert("minCount".into(), json!(min));
        p.insert("maxCount".into(), json!(fields.required_int32("max_count")?));
        if creating {
            p.insert("count".into(), json!(min));
        }
    } else {
        p.insert("count".into(), json!(fields.required_int32("count")?));
        p.insert("enableAutoScaling".into(), json!(false));
    }
    p.insert("vmSize".into(), json!(fields.required_str("vm_size")?));
    p.insert("osType".into(), json!(fields.str("os_type")?.unwrap_or("Linux")));
    p.insert("type".into(), json!("VirtualMachineScaleSets"));
    p.insert("mode".into(), json!(fields.str("mode")?.unwrap_or("User")));
    if let Some(max_pods) = fields.int32("max_pods")? {
        p.insert("maxPods".into(), json!(max_pods));
    }
    for (field, property) in [("subnet", "vnetSubnetID"), ("pod_subnet", "podSubnetID")] {
        if let Some(subnet) = fields.address(field)? {
            p.insert(property.into(), json!(resolver.path_of(&subnet)?));
        }
    }
    let zones = fields.string_list("zones")?;
    if !zones.is_empty() {
        p.insert("availabilityZones".into(), json!(zones));
    }
    if let Some(surge) = fields.str("max_surge")? {
        p.insert("upgradeSettings".into(), json!({ "maxSurge": surge }));
    }
    let labels = fields.string_map("labels")?.unwrap_or_default();
    if !labels.is_empty() || !creating {
        p.insert("nodeLabels".into(), json!(labels));
    }
    let taints = fields.string_list("taints")?;
    if !taints.is_empty() || !creating {
        p.insert("nodeTaints".into(), json!(taints));
    }
    p.insert("tags".into(), Json::Object(marks(address, resolver)));
    Ok(p)
}

pub(crate) struct NodePool;

impl ArmType for NodePool {
    fn marks_at(&self) -> MarksAt {
        MarksAt::Parent
    }

    fn puts_only_a_change(&self) -> bool {
        true
    }

    fn identity(&self) -> &'static Identity {
        &Identity {
            type_name: "Microsoft.ContainerService/managedClusters/agentPools",
            api_version: CONTAINER_SERVICE_API,
            place: Place::Parent,
        }
    }

    fn body(&self, request: &BodyRequest<'_>) -> Result<Json, ProviderError> {
        let BodyRequest { fields, address, resolver, creating } = *request;
        Ok(json!({ "properties": properties(fields, address, resolver, creating)? }))
    }

    fn observed(&self, live: &Json, recorded: &Attributes, resolver: &Resolver) -> Attributes {
        let mut out = named(live, recorded);
        let p = |name: &str| format!("/properties/{name}");
        let autoscale = bool_at(live, &p("enableAutoScaling"));
        out.insert("autoscale".into(), autoscale.into());
        if autoscale {
            out.insert("count".into(), Value::Null);
            out.insert("min_count".into(), int_at(live, &p("minCount")));
            out.insert("max_count".into(), int_at(live, &p("maxCount")));
        } else {
            out.insert("count".into(), int_at(live, &p("count")));
            out.insert("min_count".into(), Value::Null);
            out.insert("max_count".into(), Value::Null);
        }
        out.insert("vm_size".into(), same_or_live(str_at(live, &p("vmSize")), recorded.get("vm_size")));
        out.insert("max_pods".into(), int_at(live, &p("maxPods")));
        out.insert("mode".into(), same_or_live(str_at(live, &p("mode")), recorded.get("mode")));
        out.insert("os_type".into(), same_or_live(str_at(live, &p("osType")), recorded.get("os_type")));
        out.insert(
            "subnet".into(),
            resolver.reference(Kind::Subnet, str_at(live, &p("vnetSubnetID")), recorded.get("subnet")),
        );
        out.insert(
            "pod_subnet".into(),
            resolver.reference(Kind::Subnet, str_at(live, &p("podSubnetID")), recorded.get("pod_subnet")),
        );
        out.insert("zones".into(), string_list(live.pointer(&p("availabilityZones"))));
        out.insert(
            "max_surge".into(),
            same_or_live(str_at(live, &p("upgradeSettings/maxSurge")), recorded.get("max_surge")),
        );
        out.insert("labels".into(), string_map(live.pointer(&p("nodeLabels")), &[]));
        out.insert("taints".into(), string_list(live.pointer(&p("nodeTaints"))));
        out
    }
}

/// One entry of a cluster's `agentPoolProfiles`.
pub fn profile(fields: &AttributeFields<'_>, address: &Address, resolver: &Resolver) -> Result<Json, ProviderError> {
    let mut profile = Map::new();
    profile.insert("name".into(), json!(fields.required_str("name")?));
    profile.extend(properties(fields, address, resolver, true)?);
    Ok(Json::Object(profile))
}
