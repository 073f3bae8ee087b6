//! Resolving addresses for one run, from the resources it knows (the desired ones and the
//! recorded ones). A request carries only its own resource's attributes; building an ARM path
//! or a reference needs the names of others (a subnet's virtual network, a node pool's
//! cluster, a record's zone), and reading back needs the way from an ARM id to the address
//! that names it.

use std::collections::HashMap;

use crate::model::{Address, Kind, Resource, Value};
use crate::providers::{Attributes, ErrorKind, ProviderError};
use crate::state::State;

use super::arm_json::{provider_path, resource_group_path};
use super::arm_type::Place;
use super::type_of;

#[derive(Debug, Default)]
pub struct Resolver {
    /// The stack's subscription, `None` when its variable is not set.
    subscription: Option<String>,
    /// Desired attributes, else recorded ones.
    attributes: HashMap<Address, Attributes>,
    /// Recorded provider ids.
    recorded_ids: HashMap<Address, String>,
    /// Recorded attributes of the resources whose updates keep what others wrote into them
    /// ([`super::arm_type::ArmType::keeps_foreign`]).
    recorded: HashMap<Address, Attributes>,
    /// Node pools of each cluster in the stack, in address order.
    pools: HashMap<Address, Vec<Address>>,
    /// The lineage of the stack's state, which its resources are marked with.
    lineage: Option<String>,
}

fn rejected(message: String) -> ProviderError {
    ProviderError { kind: ErrorKind::Rejected, message }
}

impl Resolver {
    pub fn new(subscription: Option<String>, desired: &[Resource], recorded: Option<&State>) -> Resolver {
        let mut resolver = Resolver { subscription, ..Resolver::default() };
        if let Some(state) = recorded {
            resolver.lineage = Some(state.lineage.clone());
            for r in &state.resources {
                resolver.attributes.insert(r.address.clone(), r.attributes.clone());
                if let Some(id) = &r.provider_id {
                    resolver.recorded_ids.insert(r.address.clone(), id.clone());
                }
                if type_of(r.address.kind).is_some_and(|t| t.keeps_foreign()) {
                    resolver.recorded.insert(r.address.clone(), r.attributes.clone());
                }
            }
        }
        for r in desired {
            resolver.attributes.insert(r.address.clone(), r.attributes.clone());
            if r.address.kind == Kind::NodePool
                && let Some(cluster) = r.address.parent_address()
            {
                resolver.pools.entry(cluster).or_default().push(r.address.clone());
            }
        }
        for pools in resolver.pools.values_mut() {
            pools.sort();
        }
        resolver
    }

    /// The lineage of the stack's state, when the run has one.
    pub fn lineage(&self) -> Option<&str> {
        self.lineage.as_deref()
    }

    pub fn subscription(&self, address: &Address) -> Result<&str, ProviderError> {
        self.subscription.as_deref().filter(|s| !s.trim().is_empty()).ok_or_else(|| {
            rejected(format!(
                "{address}: the stack's subscription is not set: give `subscription` in the `stack` block \
                 (examples read it from AZURE_SUBSCRIPTION_ID)"
            ))
        })
    }

    pub fn attributes(&self, address: &Address) -> Result<&Attributes, ProviderError> {
        self.attributes
            .get(address)
            .ok_or_else(|| rejected(format!("{address} is neither in the stack nor in the state")))
    }

    fn text<'a>(&'a self, address: &Address, field: &str) -> Result<&'a str, ProviderError> {
        self.attributes(address)?
            .get(field)
            .and_then(Value::as_str)
            .ok_or_else(|| rejected(format!("{address} has no `{field}`")))
    }

    /// The ARM path of a resource this run knows: built from its desired or recorded names,
    /// else its recorded id.
    pub fn path_of(&self, address: &Address) -> Result<String, ProviderError> {
        match self.built_path(address) {
            Ok(path) => Ok(path),
            Err(error) => self.recorded_ids.get(address).cloned().ok_or(error),
        }
    }

    fn built_path(&self, address: &Address) -> Result<String, ProviderError> {
        let identity = type_of(address.kind).ok_or_else(|| super::not_azure(address))?.identity();
        let name = || self.text(address, "name");
        match identity.place {
            Place::Subscription => Ok(resource_group_path(self.subscription(address)?, name()?)),
            Place::ResourceGroup => {
                let name = name()?;
                let group = self.text(address, "resource_group")?;
                Ok(provider_path(self.subscription(address)?, group, &format!("{}/{name}", identity.type_name)))
            }
            Place::Parent => {
                let parent = address.parent_address().ok_or_else(|| rejected(format!("{address} has no parent")))?;
                let segment = identity.type_name.rsplit('/').next().unwrap_or(identity.type_name);
                Ok(format!("{}/{segment}/{}", self.path_of(&parent)?, name()?))
            }
            Place::Scope => {
                let attributes = self.attributes(address)?;
                let scope = super::role_assignment::scope_of(attributes)
                    .ok_or_else(|| rejected(format!("{address} has no `scope`")))?;
                Ok(format!("{}/providers/{}/{}", self.path_of(&scope)?, identity.type_name, name()?))
            }
            Place::Zone => {
                let zone = self.zone_named(self.text(address, "zone")?, address)?;
                let record_type = self.text(address, "type")?;
                Ok(format!("{}/{record_type}/{}", self.path_of(&zone)?, name()?))
            }
        }
    }

    /// The address of the DNS zone called `name`.
    fn zone_named(&self, name: &str, for_record: &Address) -> Result<Address, ProviderError> {
        let mut zones: Vec<&Address> = self
            .attributes
            .iter()
            .filter(|(a, attrs)| {
                a.kind == Kind::DnsZone
                    && attrs.get("name").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .map(|(a, _)| a)
            .collect();
        zones.sort();
        zones.dedup();
        match zones.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(rejected(format!("{for_record}: no DNS zone named `{name}` in the stack or the state"))),
            many => Err(rejected(format!(
                "{for_record}: several DNS zones are named `{name}` ({}); aksform cannot tell which holds the record",
                many.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// The address (as text) of the resource of `kind` whose ARM id is `id`, if this run knows it.
    pub fn address_of(&self, kind: Kind, id: &str) -> Option<String> {
        self.address_named(kind, id).map(ToString::to_string)
    }

    /// The first, in address order, of the known resources of `kind` whose ARM id is `id`.
    fn address_named(&self, kind: Kind, id: &str) -> Option<&Address> {
        self.attributes
            .keys()
            .filter(|a| a.kind == kind)
            .filter(|a| self.path_of(a).is_ok_and(|p| p.eq_ignore_ascii_case(id.trim_end_matches('/'))))
            .min()
    }

    /// The attributes this run knows (desired, else recorded) of the resource of `kind` whose
    /// ARM id is `id`.
    pub fn known(&self, kind: Kind, id: &str) -> Option<&Attributes> {
        self.attributes.get(self.address_named(kind, id)?)
    }

    /// The recorded address `recorded` when it names the resource with ARM id `id`, else
    /// whichever address does, else the id itself (which then shows as a change).
    pub fn reference(&self, kind: Kind, id: Option<&str>, recorded: Option<&Value>) -> Value {
        let Some(id) = id else { return Value::Null };
        if let Some(recorded) = recorded.and_then(Value::as_str)
            && let Ok(address) = recorded.parse::<Address>()
            && self.path_of(&address).is_ok_and(|p| p.eq_ignore_ascii_case(id))
        {
            return Value::str(recorded);
        }
        Value::str(self.address_of(kind, id).unwrap_or_else(|| id.to_string()))
    }

    /// The attributes recorded for `address`, if its type keeps what others wrote.
    pub fn recorded(&self, address: &Address) -> Option<&Attributes> {
        self.recorded.get(address)
    }

    /// The node pools the stack declares for `cluster`.
    pub fn pools_of(&self, cluster: &Address) -> &[Address] {
        self.pools.get(cluster).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(address: Address, pairs: &[(&str, &str)]) -> Resource {
        Resource {
            address,
            attributes: pairs.iter().map(|(k, v)| (k.to_string(), Value::str(*v))).collect(),
            computed: &[],
            depends_on: Vec::new(),
            span: crate::diag::Span::new(crate::diag::FileId(0), 0, 0),
            allow_replace: false,
            existing: false,
        }
    }

    fn resolver() -> Resolver {
        let vnet = Address::new(Kind::Vnet, "hub");
        let zone = Address::new(Kind::DnsZone, "example");
        let cluster = Address::new(Kind::Cluster, "shop");
        Resolver::new(
            Some("sub".into()),
            &[
                resource(vnet.clone(), &[("name", "hub-net"), ("resource_group", "network")]),
                resource(vnet.child(Kind::Subnet, "nodes"), &[("name", "nodes")]),
                resource(zone, &[("name", "example.com"), ("resource_group", "dns")]),
                resource(
                    Address::new(Kind::DnsRecord, "www"),
                    &[("name", "www"), ("zone", "example.com"), ("type", "A")],
                ),
                resource(cluster.clone(), &[("name", "shop"), ("resource_group", "apps")]),
                resource(cluster.child(Kind::NodePool, "system"), &[("name", "system")]),
                resource(cluster.child(Kind::NodePool, "apps"), &[("name", "apps")]),
            ],
            None,
        )
    }

    #[test]
    fn paths_of_children_go_through_their_parents() {
        let d = resolver();
        let subnet = Address::new(Kind::Vnet, "hub").child(Kind::Subnet, "nodes");
        assert_eq!(
            d.path_of(&subnet).unwrap(),
            "/subscriptions/sub/resourceGroups/network/providers/Microsoft.Network/virtualNetworks/hub-net/subnets/nodes"
        );
        assert_eq!(
            d.path_of(&Address::new(Kind::DnsRecord, "www")).unwrap(),
            "/subscriptions/sub/resourceGroups/dns/providers/Microsoft.Network/dnsZones/example.com/A/www"
        );
        let pools: Vec<String> =
            d.pools_of(&Address::new(Kind::Cluster, "shop")).iter().map(ToString::to_string).collect();
        assert_eq!(pools, ["cluster.shop.node_pool.apps", "cluster.shop.node_pool.system"]);
    }

    #[test]
    fn ids_lead_back_to_addresses_whatever_their_case() {
        let d = resolver();
        let id = "/subscriptions/sub/resourcegroups/NETWORK/providers/Microsoft.Network/virtualNetworks/hub-net";
        assert_eq!(d.address_of(Kind::Vnet, id).as_deref(), Some("vnet.hub"));
        assert_eq!(d.reference(Kind::Vnet, Some(id), Some(&Value::str("vnet.hub"))), Value::str("vnet.hub"));
        assert_eq!(d.reference(Kind::Vnet, Some("/elsewhere"), None), Value::str("/elsewhere"));
    }

    #[test]
    fn a_missing_subscription_says_where_to_set_it() {
        let d = Resolver::new(None, &[resource(Address::new(Kind::ResourceGroup, "rg"), &[("name", "rg")])], None);
        let error = d.path_of(&Address::new(Kind::ResourceGroup, "rg")).unwrap_err();
        assert!(error.message.contains("subscription is not set"), "{}", error.message);
    }
}
