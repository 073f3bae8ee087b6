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
    /// A resource path whose type the emulator does not serve (`Microsoft.Network/applicationGateways`).
    UnknownType {
        namespace: String,
        /// The type segments as given, e.g. `applicationGateways`.
        type_name: String,
    },
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
    if rest.len() < 2 || rest[0] != "resourcegroups" || rest_original[1].is_empty() {
        return None;
    }
    let resource_group = rest_original[1];
    if rest.len() == 2 {
        return Some(Target::Resource(Address::resource_group(subscription, resource_group)));
    }
    if rest.len() < 6 || rest[2] != "providers" {
        return None;
    }
    let namespace = canonical_namespace(&rest[3]);
    let type_and_names = &rest[4..];
    let originals = &rest_original[4..];
    // listClusterUserCredential / listClusterAdminCredential
    let cluster_type = Kind::ManagedCluster.identity();
    if type_and_names.len() == 3
        && namespace == Some(cluster_type.namespace)
        && type_and_names[0].eq_ignore_ascii_case(cluster_type.type_segments[0])
    {
        let admin = match type_and_names[2].as_str() {
            "listclusterusercredential" => false,
            "listclusteradmincredential" => true,
            _ => return None,
        };
        let cluster = Address::new(Kind::ManagedCluster, subscription, resource_group, &[originals[1]]);
        return Some(Target::ListCredential { cluster, admin });
    }
    if !type_and_names.len().is_multiple_of(2) || type_and_names.iter().zip(originals).any(|(_, name)| name.is_empty())
    {
        return None;
    }
    let types: Vec<&str> = type_and_names.iter().step_by(2).map(String::as_str).collect();
    let names: Vec<&str> = originals.iter().skip(1).step_by(2).copied().collect();
    let kind = Kind::ALL.into_iter().find(|kind| {
        let identity = kind.identity();
        Some(identity.namespace) == namespace
            && identity.type_segments.len() == types.len()
            && identity.type_segments.iter().zip(&types).all(|(segment, given)| segment.eq_ignore_ascii_case(given))
    });
    let Some(kind) = kind else {
        let type_name: Vec<&str> = originals.iter().step_by(2).copied().collect();
        return Some(Target::UnknownType {
            namespace: namespace.unwrap_or(rest_original[3]).to_string(),
            type_name: type_name.join("/"),
        });
    };
    Some(Target::Resource(Address::new(kind, subscription, resource_group, &names)))
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
            parse_path("/subscriptions/s/resourceGroups/rg/providers/microsoft.network/applicationGateways/r"),
            Some(Target::UnknownType {
                namespace: "Microsoft.Network".into(),
                type_name: "applicationGateways".into()
            })
        );
    }
}
