//! What each ARM resource type owns: its type name, api-version, path, request body, the
//! attributes read back and those the cloud fills in. The registry from the model's kinds to
//! their types is [`super::type_of`].

use serde_json::Value as Json;

use super::resolver::Resolver;
use crate::model::Address;
use crate::providers::attributes::AttributeFields;
use crate::providers::{Attributes, ProviderError};

/// Where a type's resources sit, which says how their paths are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// In the subscription, by name: `/subscriptions/{s}/resourceGroups/{name}`.
    Subscription,
    /// In the resource group named by its `resource_group`: `.../providers/{type}/{name}`.
    ResourceGroup,
    /// Under its parent's path (a subnet in its virtual network): `{parent}/{last segment}/{name}`.
    Parent,
    /// In the DNS zone named by its `zone`, under its record type: `{zone}/{type}/{name}`.
    Zone,
    /// An extension of the resource its `scope` names: `{scope}/providers/{type}/{name}`.
    Scope,
}

/// The name, api-version and place of a type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Identity {
    /// The ARM type, e.g. `Microsoft.Network/virtualNetworks`.
    pub type_name: &'static str,
    /// The api-version of every request on it.
    pub api_version: &'static str,
    pub place: Place,
}

/// Where a type's resources carry aksform's marks ([`super::arm_json::marks`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MarksAt {
    /// In `tags`.
    Tags,
    /// In `properties.metadata` (DNS record sets, which have no tags).
    Metadata,
    /// Nowhere of their own (subnets, peerings; node pools, whose tags go to their VMs): a
    /// child is this stack's when its parent is.
    Parent,
    /// In its name, derived from the stack's own resources (a role assignment's GUID).
    Name,
}

/// What a PUT body is made from.
#[derive(Clone, Copy)]
pub(crate) struct BodyRequest<'a> {
    pub fields: &'a AttributeFields<'a>,
    pub address: &'a Address,
    pub resolver: &'a Resolver,
    /// The first PUT (no provider id recorded yet).
    pub creating: bool,
}

/// One ARM resource type, as aksform manages it.
pub(crate) trait ArmType: Sync {
    fn identity(&self) -> &'static Identity;

    /// The body of its PUT.
    fn body(&self, request: &BodyRequest<'_>) -> Result<Json, ProviderError>;

    /// The attributes it manages, read back from the live resource (computed ones included).
    fn observed(&self, live: &Json, recorded: &Attributes, resolver: &Resolver) -> Attributes;

    /// The attributes the cloud fills in, from the resource as a PUT leaves it.
    fn computed(&self, _live: &Json) -> Attributes {
        Attributes::new()
    }

    /// Whether others write into its resources what aksform does not manage (a kubenet
    /// cluster's routes in a route table, the associations of a subnet): an update then reads
    /// the live resource first and [`ArmType::keep_foreign`] carries that part over.
    fn keeps_foreign(&self) -> bool {
        false
    }

    /// Puts into `body` (an update's) what `live` holds that is neither declared nor recorded
    /// as aksform's, so that the PUT, which replaces the resource, does not remove it.
    fn keep_foreign(&self, _live: &Json, _recorded: Option<&Attributes>, _body: &mut Json) {}

    /// Whether a PUT on a resource of this type that exists is a long operation of its own
    /// even when it changes nothing (an agent pool's update, minutes on AKS): a create then
    /// finding the resource as its body would make it (a pool its cluster's create made) only
    /// records it.
    fn puts_only_a_change(&self) -> bool {
        false
    }

    fn marks_at(&self) -> MarksAt {
        MarksAt::Tags
    }

    /// Whether a live resource's `type` is of this type.
    fn is_type(&self, type_name: &str) -> bool {
        type_name.eq_ignore_ascii_case(self.identity().type_name)
    }

    /// What the checks need to know of an existing resource of this type beyond its
    /// attributes (the addresses others use in a subnet).
    fn facts(&self, _live: &Json) -> Attributes {
        Attributes::new()
    }

    fn api_version(&self) -> &'static str {
        self.identity().api_version
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;
    use crate::providers::arm::type_of;

    #[test]
    fn every_azure_kind_has_an_arm_type_and_no_kubernetes_kind_has_one() {
        for kind in Kind::ALL {
            assert_eq!(type_of(kind).is_some(), !kind.is_kubernetes(), "{kind:?}");
        }
    }

    #[test]
    fn each_type_names_its_provider_and_its_version() {
        let types: Vec<&dyn ArmType> = Kind::ALL.into_iter().filter_map(type_of).collect();
        for t in &types {
            let identity = t.identity();
            assert!(identity.type_name.starts_with("Microsoft."), "{}", identity.type_name);
            assert!(identity.api_version.len() == "2024-05-01".len(), "{}", identity.api_version);
        }
        let mut names: Vec<&str> = types.iter().map(|t| t.identity().type_name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), types.len(), "two kinds share an ARM type: {names:?}");
    }
}
