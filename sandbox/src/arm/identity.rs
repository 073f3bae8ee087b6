//! What identifies a resource type to ARM: its provider namespace and type segments, the `type`
//! a GET shows, its api-version, which writes are long-running, the type it lives in and the
//! names it takes. Each type states these in its own file (`ResourceType::identity`).

use super::errors::ArmError;
use super::resources::{Kind, resource_type};

pub const RESOURCES_NAMESPACE: &str = "Microsoft.Resources";
pub const NETWORK_NAMESPACE: &str = "Microsoft.Network";
pub const CONTAINER_SERVICE_NAMESPACE: &str = "Microsoft.ContainerService";

/// The api-version the emulator pins for each provider namespace (the one aksform sends, and
/// the one its polling URLs carry); DNS, within Microsoft.Network, has its own.
pub const RESOURCES_API_VERSION: &str = "2024-03-01";
pub const NETWORK_API_VERSION: &str = "2024-05-01";
pub const DNS_API_VERSION: &str = "2018-05-01";
pub const CONTAINER_SERVICE_API_VERSION: &str = "2024-09-01";

/// Every api-version served for each namespace: the pinned one first, then the newer stable
/// versions Azure serves (the newest being what the current Python SDKs send by default:
/// azure-mgmt-resource 26 sends 2025-04-01, azure-mgmt-network 33 sends 2026-03-01,
/// azure-mgmt-containerservice 41 sends 2026-08-01, azure-mgmt-dns 9 sends 2018-05-01).
pub const RESOURCES_API_VERSIONS: &[&str] = &[RESOURCES_API_VERSION, "2025-04-01"];
pub const NETWORK_API_VERSIONS: &[&str] = &[
    NETWORK_API_VERSION,
    "2024-07-01",
    "2025-01-01",
    "2025-03-01",
    "2025-05-01",
    "2025-07-01",
    "2025-09-01",
    "2026-01-01",
    "2026-03-01",
];
pub const DNS_API_VERSIONS: &[&str] = &[DNS_API_VERSION];
pub const CONTAINER_SERVICE_API_VERSIONS: &[&str] = &[
    CONTAINER_SERVICE_API_VERSION,
    "2025-05-01",
    "2025-07-01",
    "2025-08-01",
    "2025-10-01",
    "2026-01-01",
    "2026-04-01",
    "2026-05-01",
    "2026-06-01",
    "2026-07-01",
    "2026-08-01",
];

/// The facts ARM's protocol needs about one resource type.
pub struct TypeIdentity {
    /// The provider namespace, e.g. `Microsoft.Network`.
    pub namespace: &'static str,
    /// The type segments after the namespace, e.g. `["virtualNetworks", "subnets"]`, in the
    /// casing of canonical ids.
    pub type_segments: &'static [&'static str],
    /// The `type` a GET shows where it is not the ARM type as written (AKS writes its cluster
    /// type with a capital M).
    pub response_type: Option<&'static str>,
    /// The api-versions the emulator serves for the type, its pinned one first.
    pub api_versions: &'static [&'static str],
    /// Whether a PUT runs as a long-running operation (201/202 + Azure-AsyncOperation) or
    /// answers at once.
    pub put_is_long_running: bool,
    /// Whether a DELETE runs as a long-running operation or answers 200 at once.
    pub delete_is_long_running: bool,
    /// The type whose resource contains this one (subnets live in a VNet).
    pub parent: Option<Kind>,
    /// The names ARM accepts before the resource provider sees the request.
    pub name_rule: NameRule,
}

impl TypeIdentity {
    /// A Microsoft.Network type at the top of a resource group, written and deleted by
    /// long-running operations, with the network's name rule.
    pub const fn network(type_segments: &'static [&'static str]) -> TypeIdentity {
        TypeIdentity {
            namespace: NETWORK_NAMESPACE,
            type_segments,
            response_type: None,
            api_versions: NETWORK_API_VERSIONS,
            put_is_long_running: true,
            delete_is_long_running: true,
            parent: None,
            name_rule: NameRule::NETWORK,
        }
    }

    /// The same type, living in a resource of `parent`.
    pub const fn in_parent(self, parent: Kind) -> TypeIdentity {
        TypeIdentity { parent: Some(parent), ..self }
    }
}

/// A rule for resource names, and how ARM's error message states it.
pub struct NameRule {
    pub allows: fn(&str) -> bool,
    /// Completes "The name can be …".
    pub description: &'static str,
}

impl NameRule {
    /// The rule of the Microsoft.Network types.
    pub const NETWORK: NameRule = NameRule {
        allows: |name| {
            (1..=80).contains(&name.len())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                && name.starts_with(|c: char| c.is_ascii_alphanumeric())
                && name.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        },
        description: "1 to 80 letters, digits, '-', '_' and '.', starting with a letter or digit and ending with a letter, digit or '_'",
    };

    /// Names only the resource provider checks, if anyone does (DNS zones, agent pools).
    pub const UNCHECKED: NameRule = NameRule { allows: |_| true, description: "" };

    /// ARM's `InvalidResourceName` when the name breaks the rule.
    pub fn check(&self, name: &str) -> Result<(), ArmError> {
        if (self.allows)(name) {
            return Ok(());
        }
        Err(ArmError::bad_request(
            "InvalidResourceName",
            format!("Resource name {name} is invalid. The name can be {}.", self.description),
        ))
    }
}

impl Kind {
    /// The type's identity, as its implementation states it.
    pub fn identity(self) -> &'static TypeIdentity {
        resource_type(self).identity()
    }

    /// The ARM type, e.g. `Microsoft.Network/virtualNetworks/subnets`.
    pub fn arm_type(self) -> String {
        let identity = self.identity();
        format!("{}/{}", identity.namespace, identity.type_segments.join("/"))
    }

    /// The `type` a GET shows.
    pub fn response_type(self) -> String {
        self.identity().response_type.map_or_else(|| self.arm_type(), str::to_string)
    }

    /// The api-version the emulator pins for the type (the first it serves).
    pub fn pinned_api_version(self) -> &'static str {
        self.identity().api_versions[0]
    }

    /// Every api-version the emulator serves, each once, in the order of the kinds.
    pub fn api_versions() -> Vec<&'static str> {
        let mut versions = Vec::new();
        for kind in Kind::ALL {
            for version in kind.identity().api_versions {
                if !versions.contains(version) {
                    versions.push(*version);
                }
            }
        }
        versions
    }
}

/// The namespace the emulator serves whose name is `name` in any casing.
pub fn canonical_namespace(name: &str) -> Option<&'static str> {
    Kind::ALL.into_iter().map(|kind| kind.identity().namespace).find(|namespace| namespace.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_states_a_consistent_identity() {
        for kind in Kind::ALL {
            let identity = kind.identity();
            assert!(!identity.type_segments.is_empty(), "{kind:?}: no type segments");
            assert!(identity.type_segments.iter().all(|segment| !segment.is_empty()), "{kind:?}: an empty segment");
            assert!(
                kind.response_type().eq_ignore_ascii_case(&kind.arm_type()),
                "{kind:?}: a GET shows {} for {}",
                kind.response_type(),
                kind.arm_type()
            );
            match identity.parent {
                Some(parent) => {
                    let parent_identity = parent.identity();
                    assert_eq!(parent_identity.namespace, identity.namespace, "{kind:?}: its parent's namespace");
                    assert_eq!(
                        parent_identity.type_segments,
                        &identity.type_segments[..identity.type_segments.len() - 1],
                        "{kind:?}: its parent's segments lead to its own"
                    );
                }
                None => assert_eq!(identity.type_segments.len(), 1, "{kind:?}: nested, without a parent"),
            }
            let expected_versions = match (identity.namespace, identity.type_segments[0]) {
                (RESOURCES_NAMESPACE, _) => RESOURCES_API_VERSIONS,
                (CONTAINER_SERVICE_NAMESPACE, _) => CONTAINER_SERVICE_API_VERSIONS,
                (NETWORK_NAMESPACE, "dnsZones") => DNS_API_VERSIONS,
                (NETWORK_NAMESPACE, _) => NETWORK_API_VERSIONS,
                (other, _) => panic!("{kind:?}: namespace {other} is not served"),
            };
            assert_eq!(identity.api_versions, expected_versions, "{kind:?}");
        }
    }

    #[test]
    fn no_two_kinds_share_a_path() {
        for (index, kind) in Kind::ALL.into_iter().enumerate() {
            for other in &Kind::ALL[index + 1..] {
                assert!(!kind.arm_type().eq_ignore_ascii_case(&other.arm_type()), "{kind:?} and {other:?}");
            }
        }
    }

    #[test]
    fn writes_answer_at_once_only_for_groups_and_dns() {
        let synchronous_put = [Kind::ResourceGroup, Kind::DnsZone, Kind::DnsARecord, Kind::DnsCnameRecord];
        let synchronous_delete = [Kind::DnsARecord, Kind::DnsCnameRecord];
        for kind in Kind::ALL {
            assert_eq!(kind.identity().put_is_long_running, !synchronous_put.contains(&kind), "{kind:?}");
            assert_eq!(kind.identity().delete_is_long_running, !synchronous_delete.contains(&kind), "{kind:?}");
        }
    }

    #[test]
    fn arm_checks_the_names_of_all_but_dns_and_agent_pools() {
        let unchecked = [Kind::DnsZone, Kind::DnsARecord, Kind::DnsCnameRecord, Kind::AgentPool];
        for kind in Kind::ALL {
            let rule = &kind.identity().name_rule;
            assert_eq!(rule.description.is_empty(), unchecked.contains(&kind), "{kind:?}");
            assert!((rule.allows)("aks-1"), "{kind:?}");
        }
        assert!((NameRule::NETWORK.allows)("hub_"));
        assert!(!(NameRule::NETWORK.allows)("-hub"));
    }

    #[test]
    fn versions_and_namespaces_are_those_served() {
        let mut all: Vec<&str> =
            [RESOURCES_API_VERSIONS, NETWORK_API_VERSIONS, DNS_API_VERSIONS, CONTAINER_SERVICE_API_VERSIONS].concat();
        all.sort_unstable();
        all.dedup();
        let mut served = Kind::api_versions();
        served.sort_unstable();
        assert_eq!(served, all);
        assert_eq!(Kind::VirtualNetwork.pinned_api_version(), NETWORK_API_VERSION);
        assert_eq!(Kind::DnsARecord.pinned_api_version(), DNS_API_VERSION);
        assert_eq!(canonical_namespace("microsoft.containerservice"), Some(CONTAINER_SERVICE_NAMESPACE));
        assert_eq!(canonical_namespace("Microsoft.Compute"), None);
    }
}
