//! The ARM paths that address the resource types the emulator serves: parsing is
//! case-insensitive, as ARM's is; ids are rebuilt in ARM's canonical casing.

use super::errors::ArmError;
use super::identity::{RESOURCES_NAMESPACE, canonical_namespace};
use axum::http::StatusCode;

pub use super::resources::Kind;

/// One resource's address: its type, subscription, resource group and names (one per type
/// segment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub kind: Kind,
    pub subscription: String,
    pub resource_group: String,
    /// For a resource group, empty; otherwise one name per type segment.
    pub names: Vec<String>,
}

impl Address {
    pub fn resource_group(subscription: &str, resource_group: &str) -> Address {
        Address {
            kind: Kind::ResourceGroup,
            subscription: subscription.to_string(),
            resource_group: resource_group.to_string(),
            names: Vec::new(),
        }
    }

    pub fn new(kind: Kind, subscription: &str, resource_group: &str, names: &[&str]) -> Address {
        Address {
            kind,
            subscription: subscription.to_string(),
            resource_group: resource_group.to_string(),
            names: names.iter().map(|name| name.to_string()).collect(),
        }
    }

    /// The id in ARM's canonical casing.
    pub fn id(&self) -> String {
        let group = format!("/subscriptions/{}/resourceGroups/{}", self.subscription, self.resource_group);
        if self.kind == Kind::ResourceGroup {
            return group;
        }
        let identity = self.kind.identity();
        let mut id = format!("{group}/providers/{}", identity.namespace);
        for (segment, name) in identity.type_segments.iter().zip(&self.names) {
            id.push('/');
            id.push_str(segment);
            id.push('/');
            id.push_str(name);
        }
        id
    }

    /// The key the store files the resource under: ARM ids compare case-insensitively.
    pub fn key(&self) -> String {
        self.id().to_ascii_lowercase()
    }

    /// The resource's own name (the resource group's name for a resource group).
    pub fn name(&self) -> &str {
        self.names.last().map(String::as_str).unwrap_or(&self.resource_group)
    }

    pub fn parent(&self) -> Option<Address> {
        let kind = self.kind.identity().parent?;
        Some(Address {
            kind,
            subscription: self.subscription.clone(),
            resource_group: self.resource_group.clone(),
            names: self.names[..self.names.len() - 1].to_vec(),
        })
    }

    pub fn group(&self) -> Address {
        Address::resource_group(&self.subscription, &self.resource_group)
    }

    /// The address of a child of this resource.
    pub fn child(&self, kind: Kind, name: &str) -> Address {
        let mut names = self.names.clone();
        names.push(name.to_string());
        Address { kind, subscription: self.subscription.clone(), resource_group: self.resource_group.clone(), names }
    }

    /// Parses an ARM resource id (e.g. a `vnetSubnetID`).
    pub fn parse_id(id: &str) -> Option<Address> {
        match parse_path(id) {
            Some(Target::Resource(address)) => Some(address),
            _ => None,
        }
    }
}

/// What an ARM request path points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Resource(Address),
    /// `POST .../managedClusters/{name}/listClusterUserCredential` (or Admin).
    ListCredential {
        cluster: Address,
        admin: bool,
    },
    /// `GET .../operations/{id}` (Azure-AsyncOperation) in a provider namespace.
    AsyncOperation {
        namespace: String,
        id: String,
    },
    /// `GET .../operationresults/{id}` (Location) in a provider namespace, or the resource
    /// group service's `/subscriptions/{sub}/operationresults/{id}`.
    OperationResult {
        namespace: String,
        id: String,
    },
    /// `GET` of a collection: the resources of `kinds` (one, or every record type of a DNS zone)
    /// in a subscription, a resource group or a parent resource.
    List(Listing),
    /// `GET /subscriptions/{sub}/providers` (every namespace) or `.../providers/{namespace}`.
    Providers {
        subscription: String,
        /// As given; `None` for the list of every namespace.
        namespace: Option<String>,
    },
    /// `{scope}/providers/Microsoft.Authorization/roleAssignments[/{name}]` (or `roleDefinitions`),
    /// at any scope.
    Authorization(super::authorization::AuthorizationPath),
    /// A resource path whose type the emulator does not serve (`Microsoft.Network/applicationGateways`).
    UnknownType {
        namespace: String,
        /// The type segments as given, e.g. `applicationGateways`.
        type_name: String,
    },
}

/// A collection of resources, as ARM's list operations address it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The kinds listed, all of one namespace and api-version.
    pub kinds: Vec<Kind>,
    pub scope: Scope,
}

/// Where a list operation looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// `/subscriptions/{sub}/providers/{ns}/{type}` (and `/subscriptions/{sub}/resourcegroups`).
    Subscription(String),
    /// `/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}/{type}`: the group's address.
    ResourceGroup(Address),
    /// `.../{type}/{name}/{child type}`: the parent's address.
    Parent(Address),
}

impl Scope {
    /// Whether the resource at `address` is in the scope.
    pub fn holds(&self, address: &Address) -> bool {
        match self {
            Scope::Subscription(subscription) => address.subscription.eq_ignore_ascii_case(subscription),
            Scope::ResourceGroup(group) => address.kind != Kind::ResourceGroup && address.group().key() == group.key(),
            Scope::Parent(parent) => address.parent().is_some_and(|own| own.key() == parent.key()),
        }
    }
}

/// The collections under which a DNS zone lists its record sets of every type
/// (RecordSets_ListByDnsZone and RecordSets_ListAllByDnsZone).
const ALL_RECORD_SETS: [&str; 2] = ["recordsets", "all"];

/// The kinds at the top of a resource group whose type, in `namespace`, is `type_name`.
fn top_level(namespace: &str, type_name: &str) -> Option<Kind> {
    Kind::ALL.into_iter().find(|kind| {
        let identity = kind.identity();
        *kind != Kind::ResourceGroup
            && identity.parent.is_none()
            && identity.namespace == namespace
            && identity.type_segments[0].eq_ignore_ascii_case(type_name)
    })
}

/// The target of `/subscriptions/{sub}/...` paths outside resource groups: the lists of
/// resource groups, of a type across the subscription, and the provider reads.
fn subscription_level(subscription: &str, rest: &[String], rest_original: &[&str]) -> Option<Target> {
    let subscription_scope = || Scope::Subscription(subscription.to_string());
    match rest {
        [groups] if groups == "resourcegroups" => {
            Some(Target::List(Listing { kinds: vec![Kind::ResourceGroup], scope: subscription_scope() }))
        }
        [providers] if providers == "providers" => {
            Some(Target::Providers { subscription: subscription.to_string(), namespace: None })
        }
        [providers, _] if providers == "providers" => Some(Target::Providers {
            subscription: subscription.to_string(),
            namespace: Some(rest_original[1].to_string()),
        }),
        [providers, namespace, type_name] if providers == "providers" => {
            let Some(namespace) = canonical_namespace(namespace) else {
                return Some(unknown_type_at(rest_original[1], &rest_original[2..]));
            };
            Some(match top_level(namespace, type_name) {
                Some(kind) => Target::List(Listing { kinds: vec![kind], scope: subscription_scope() }),
                None => unknown_type_at(namespace, &rest_original[2..]),
            })
        }
        _ => None,
    }
}

/// Parses a request path; `None` when it is not the path of a resource, an action or an
/// operation.
pub fn parse_path(path: &str) -> Option<Target> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let lower: Vec<String> = segments.iter().map(|segment| segment.to_ascii_lowercase()).collect();
    if segments.len() < 2 || lower[0] != "subscriptions" || segments[1].is_empty() {
        return None;
    }
    let subscription = segments[1];
    if let Some(target) = super::authorization::parse(&segments, &lower) {
        return Some(target);
    }
    let rest = &lower[2..];
    let rest_original = &segments[2..];
    // /subscriptions/{sub}/operationresults/{id}
    if rest.len() == 2 && rest[0] == "operationresults" {
        return Some(Target::OperationResult { namespace: RESOURCES_NAMESPACE.into(), id: rest_original[1].into() });
    }
    // /subscriptions/{sub}/providers/{ns}/locations/{loc}/operations|operationresults/{id}
    if rest.len() == 6 && rest[0] == "providers" && rest[2] == "locations" {
        let namespace = canonical_namespace(&rest[1])?.to_string();
        let id = rest_original[5].to_string();
        return match rest[4].as_str() {
            "operations" => Some(Target::AsyncOperation { namespace, id }),
            "operationresults" => Some(Target::OperationResult { namespace, id }),
            _ => None,
        };
    }
    if let Some(target) = subscription_level(subscription, rest, rest_original) {
        return Some(target);
    }
    if rest.len() < 2 || rest[0] != "resourcegroups" || rest_original[1].is_empty() {
        return None;
    }
    let resource_group = rest_original[1];
    if rest.len() == 2 {
        return Some(Target::Resource(Address::resource_group(subscription, resource_group)));
    }
    if rest.len() < 5 || rest[2] != "providers" {
        return None;
    }
    let namespace = canonical_namespace(&rest[3]);
    if rest.len() == 5 {
        let kind = namespace.and_then(|namespace| top_level(namespace, &rest[4]));
        let group = Address::resource_group(subscription, resource_group);
        return Some(match kind {
            Some(kind) => Target::List(Listing { kinds: vec![kind], scope: Scope::ResourceGroup(group) }),
            None => unknown_type_at(namespace.unwrap_or(rest_original[3]), &rest_original[4..]),
        });
    }
    let type_and_names = &rest[4..];
    let originals = &rest_original[4..];
    // listClusterUserCredential / listClusterAdminCredential
    let cluster_type = Kind::ManagedCluster.identity();
    if type_and_names.len() == 3
        && namespace == Some(cluster_type.namespace)
        && type_and_names[0].eq_ignore_ascii_case(cluster_type.type_segments[0])
    {
        let admin = match type_and_names[2].as_str() {
            "listclusterusercredential" => Some(false),
            "listclusteradmincredential" => Some(true),
            _ => None,
        };
        if let Some(admin) = admin {
            let cluster = Address::new(Kind::ManagedCluster, subscription, resource_group, &[originals[1]]);
            return Some(Target::ListCredential { cluster, admin });
        }
    }
    if type_and_names.iter().zip(originals).any(|(_, name)| name.is_empty()) {
        return None;
    }
    let base = ProviderPath { namespace, given_namespace: rest_original[3], subscription, resource_group };
    if !type_and_names.len().is_multiple_of(2) {
        return Some(children(&base, type_and_names, originals));
    }
    Some(resource_at(&base, type_and_names, originals))
}

/// What comes before a path's types and names: `/subscriptions/{sub}/resourceGroups/{rg}/providers/{ns}`.
struct ProviderPath<'a> {
    /// The namespace, if the emulator serves it.
    namespace: Option<&'static str>,
    given_namespace: &'a str,
    subscription: &'a str,
    resource_group: &'a str,
}

impl ProviderPath<'_> {
    fn namespace(&self) -> &str {
        self.namespace.unwrap_or(self.given_namespace)
    }
}

/// `.../{type}/{name}[/{type}/{name}]`: the resource, or the unknown type the path names.
fn resource_at(base: &ProviderPath<'_>, type_and_names: &[String], originals: &[&str]) -> Target {
    let types: Vec<&str> = type_and_names.iter().step_by(2).map(String::as_str).collect();
    let names: Vec<&str> = originals.iter().skip(1).step_by(2).copied().collect();
    let kind = Kind::ALL.into_iter().find(|kind| {
        let identity = kind.identity();
        Some(identity.namespace) == base.namespace
            && identity.type_segments.len() == types.len()
            && identity.type_segments.iter().zip(&types).all(|(segment, given)| segment.eq_ignore_ascii_case(given))
    });
    match kind {
        Some(kind) => Target::Resource(Address::new(kind, base.subscription, base.resource_group, &names)),
        None => unknown_type_at(base.namespace(), originals),
    }
}

fn unknown_type_at(namespace: &str, originals: &[&str]) -> Target {
    let type_name: Vec<&str> = originals.iter().step_by(2).copied().collect();
    Target::UnknownType { namespace: namespace.to_string(), type_name: type_name.join("/") }
}

/// `.../{type}/{name}[/{type}/{name}]/{child type}`: the children of one kind (or, in a DNS
/// zone, every record type) of the resource the path names.
fn children(base: &ProviderPath<'_>, type_and_names: &[String], originals: &[&str]) -> Target {
    let Some((child_type, parent_path)) = type_and_names.split_last() else {
        return unknown_type_at(base.namespace(), originals);
    };
    let Target::Resource(parent) = resource_at(base, parent_path, &originals[..parent_path.len()]) else {
        return unknown_type_at(base.namespace(), originals);
    };
    let children = Kind::ALL.into_iter().filter(|kind| kind.identity().parent == Some(parent.kind));
    let kinds: Vec<Kind> = if parent.kind == Kind::DnsZone && ALL_RECORD_SETS.contains(&child_type.as_str()) {
        children.collect()
    } else {
        children
            .filter(|kind| kind.identity().type_segments.last().is_some_and(|t| t.eq_ignore_ascii_case(child_type)))
            .collect()
    };
    if kinds.is_empty() {
        return unknown_type_at(parent.kind.identity().namespace, originals);
    }
    Target::List(Listing { kinds, scope: Scope::Parent(parent) })
}

/// ARM's answer to a path that names no resource type it knows.
pub fn no_such_type(path: &str) -> ArmError {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "InvalidResourceType",
        format!("The resource type could not be found for the path '{path}'."),
    )
}

/// ARM's answer to a resource type its namespace does not have at the api-version asked for.
pub fn unknown_type(namespace: &str, type_name: &str, api_version: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidResourceType",
        format!(
            "The resource type '{type_name}' could not be found in the namespace '{namespace}' for api version '{api_version}'."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_case_insensitively_into_canonical_ids() {
        let target = parse_path(
            "/subscriptions/s1/resourcegroups/RG/providers/microsoft.network/VIRTUALNETWORKS/hub/Subnets/aks",
        );
        let Some(Target::Resource(address)) = target else { panic!("{target:?}") };
        assert_eq!(address.kind, Kind::Subnet);
        assert_eq!(
            address.id(),
            "/subscriptions/s1/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/hub/subnets/aks"
        );
        assert_eq!(address.parent().unwrap().kind, Kind::VirtualNetwork);
    }

    #[test]
    fn record_sets_credentials_and_operations_parse() {
        let record =
            parse_path("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/dnszones/example.com/cname/www");
        assert!(matches!(record, Some(Target::Resource(Address { kind: Kind::DnsCnameRecord, .. }))));
        let credential = parse_path(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c/listClusterUserCredential",
        );
        assert!(matches!(credential, Some(Target::ListCredential { admin: false, .. })));
        let operation = parse_path("/subscriptions/s/providers/Microsoft.Network/locations/eastus/operations/abc");
        assert_eq!(operation, Some(Target::AsyncOperation { namespace: "Microsoft.Network".into(), id: "abc".into() }));
        assert_eq!(
            parse_path("/subscriptions/s/resourceGroups/rg/providers/microsoft.network/applicationGateways"),
            Some(Target::UnknownType {
                namespace: "Microsoft.Network".into(),
                type_name: "applicationGateways".into()
            })
        );
        assert_eq!(
            parse_path("/subscriptions/s/resourceGroups/rg/providers/microsoft.network/applicationGateways/r"),
            Some(Target::UnknownType {
                namespace: "Microsoft.Network".into(),
                type_name: "applicationGateways".into()
            })
        );
    }

    fn listing(path: &str) -> Listing {
        match parse_path(path) {
            Some(Target::List(listing)) => listing,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn collections_parse_into_listings() {
        let groups = listing("/subscriptions/s/resourcegroups");
        assert_eq!((groups.kinds, groups.scope), (vec![Kind::ResourceGroup], Scope::Subscription("s".into())));
        let all = listing("/subscriptions/s/providers/Microsoft.Network/virtualNetworks");
        assert_eq!((all.kinds, all.scope), (vec![Kind::VirtualNetwork], Scope::Subscription("s".into())));
        let in_group = listing("/subscriptions/s/resourceGroups/RG/providers/microsoft.network/publicipaddresses");
        assert_eq!(in_group.kinds, [Kind::PublicIpAddress]);
        assert_eq!(in_group.scope, Scope::ResourceGroup(Address::resource_group("s", "RG")));
        let subnets =
            listing("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/hub/subnets");
        assert_eq!(subnets.kinds, [Kind::Subnet]);
        assert_eq!(subnets.scope, Scope::Parent(Address::new(Kind::VirtualNetwork, "s", "rg", &["hub"])));
        let pools = listing(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c/agentPools",
        );
        assert_eq!(pools.kinds, [Kind::AgentPool]);
        let records =
            listing("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/dnszones/a.com/recordsets");
        assert_eq!(records.kinds, [Kind::DnsARecord, Kind::DnsCnameRecord]);
        let a = listing("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/dnszones/a.com/A");
        assert_eq!(a.kinds, [Kind::DnsARecord]);
        assert!(matches!(
            parse_path("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/hub/ports"),
            Some(Target::UnknownType { .. })
        ));
        assert!(Scope::Parent(Address::new(Kind::VirtualNetwork, "s", "rg", &["HUB"])).holds(&Address::new(
            Kind::Subnet,
            "s",
            "RG",
            &["hub", "a"]
        )));
    }

    #[test]
    fn provider_reads_parse() {
        assert_eq!(
            parse_path("/subscriptions/s/providers/microsoft.network"),
            Some(Target::Providers { subscription: "s".into(), namespace: Some("microsoft.network".into()) })
        );
        assert_eq!(
            parse_path("/subscriptions/s/providers"),
            Some(Target::Providers { subscription: "s".into(), namespace: None })
        );
    }
}
