//! The Azure Resource Manager provider: resource groups, virtual networks with their subnets
//! and peerings, route tables, public IPs, NAT gateways, managed clusters with their node pools,
//! DNS zones and record sets, created and updated by PUT (waiting out their long-running
//! operations), read back into aksform's attributes for refresh, deleted through their
//! long-running operations.
//!
//! Every resource that has tags (record sets: metadata) carries `aksform-address: <address>`,
//! which is how `list_owned` finds them; it is not an attribute, so it never shows as drift.

mod arm_json;
mod arm_type;
mod client;
pub mod cloud;
mod cluster;
pub mod credentials;
mod dns_record;
mod dns_zone;
mod error;
mod listing;
mod lro;
mod nat_gateway;
mod node_pool;
mod peering;
pub mod permissions;
mod policies;
mod public_ip;
mod resolver;
mod resource_group;
mod role_assignment;
mod route_table;
mod subnet;
mod vnet;

use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use serde_json::Value as Json;

pub use arm_json::OWNER_TAG;
pub use client::{ArmClient, SignInError, Timing};
pub use error::{ArmError, ErrorDetail};
pub use policies::user_agent;
pub use resolver::Resolver;

use crate::model::{Address, Kind};
use crate::providers::attributes::Reader;
use crate::providers::{Applied, ApplyRequest, Attributes, ErrorKind, Existing, Owned, Provider, ProviderError};
use arm_json::RESOURCES_API;
use arm_type::{ArmType, BodyRequest, MarksAt};

/// The ARM type of `kind`; `None` for the Kubernetes kinds.
pub(crate) fn type_of(kind: Kind) -> Option<&'static dyn ArmType> {
    match kind {
        Kind::ResourceGroup => Some(&resource_group::ResourceGroup),
        Kind::Vnet => Some(&vnet::Vnet),
        Kind::Subnet => Some(&subnet::Subnet),
        Kind::Peering => Some(&peering::Peering),
        Kind::RouteTable => Some(&route_table::RouteTable),
        Kind::PublicIp => Some(&public_ip::PublicIp),
        Kind::NatGateway => Some(&nat_gateway::NatGateway),
        Kind::Cluster => Some(&cluster::Cluster),
        Kind::NodePool => Some(&node_pool::NodePool),
        Kind::RoleAssignment => Some(&role_assignment::RoleAssignment),
        Kind::DnsZone => Some(&dns_zone::DnsZone),
        Kind::DnsRecord => Some(&dns_record::DnsRecord),
        Kind::Namespace | Kind::Service | Kind::Ingress => None,
    }
}

/// The provider for one run: a client and what the run knows of the stack and the state.
#[derive(Debug)]
pub struct ArmProvider {
    client: ArmClient,
    resolver: Resolver,
}

/// The ARM type of an address, or the refusal of a Kubernetes object.
fn arm_type_of(address: &Address) -> Result<&'static dyn ArmType, ProviderError> {
    type_of(address.kind).ok_or_else(|| not_azure(address))
}

impl ArmProvider {
    pub fn new(client: ArmClient, resolver: Resolver) -> ArmProvider {
        ArmProvider { client, resolver }
    }

    /// A provider on `cloud` signing in with `credential`.
    pub fn connect(cloud: cloud::Cloud, credential: Arc<dyn TokenCredential>, resolver: Resolver) -> ArmProvider {
        ArmProvider::new(ArmClient::new(cloud, credential), resolver)
    }

    /// Gets a token, or says why none can be had.
    pub async fn sign_in(&self) -> Result<(), SignInError> {
        self.client.sign_in().await
    }

    pub fn client(&self) -> &ArmClient {
        &self.client
    }

    /// The kubeconfig of `cluster` (a user's, or the admin's), fetched through ARM. It is
    /// handed to the Kubernetes provider and kept nowhere else.
    pub async fn kubeconfig(&self, cluster: &Address, admin: bool) -> Result<String, ProviderError> {
        let path = self.resolver.path_of(cluster)?;
        cluster::kubeconfig(&self.client, &path, admin).await.map_err(|e| {
            let mut error = e.into_provider_error(&format!("fetching the credentials of {cluster}"));
            if error.kind == ErrorKind::Rejected && error.message.contains("ResourceNotFound") {
                error.message.push_str(&format!("\n  {cluster} does not exist (yet): apply it first"));
            }
            error
        })
    }

    fn body(&self, request: &ApplyRequest<'_>, creating: bool) -> Result<Json, ProviderError> {
        let address = request.address;
        let fields = Reader::new(address).top(request.attributes);
        let request = BodyRequest { fields: &fields, address, resolver: &self.resolver, creating };
        arm_type_of(address)?.body(&request)
    }

    /// An existing resource ([`crate::model::existing`]) at `path`, read: its attributes as the
    /// model has them and the facts the checks need ([`ArmType::facts`]); `None` when there
    /// is none.
    pub async fn read_existing(&self, address: &Address, path: &str) -> Result<Option<Attributes>, ProviderError> {
        let arm_type = arm_type_of(address)?;
        let live = self.client.get(path, arm_type.api_version()).await.map_err(|e| e.into_provider_error(address))?;
        let Some(live) = live else { return Ok(None) };
        let type_name = live.get("type").and_then(Json::as_str).unwrap_or(arm_type.identity().type_name);
        if !arm_type.is_type(type_name) {
            return Err(ProviderError {
                kind: ErrorKind::Rejected,
                message: format!("{address}: {path} is a {type_name}, not a {}", arm_type.identity().type_name),
            });
        }
        let mut read = arm_type.observed(&live, &Attributes::new(), &self.resolver);
        read.extend(arm_type.facts(&live));
        if address.kind == Kind::Subnet {
            let addresses = self.private_addresses(address, read.get("ip_configurations")).await?;
            read.insert("ip_addresses".into(), crate::model::Value::Map(addresses));
        }
        read.insert("id".into(), crate::model::Value::str(live.get("id").and_then(Json::as_str).unwrap_or(path)));
        Ok(Some(read))
    }

    /// The private address of each of a subnet's IP configurations (by id), read from the
    /// resources that hold them, as Azure shows them there: a network interface's
    /// `ipConfigurations`, a load balancer's or an application gateway's
    /// `frontendIPConfigurations`. Each holder is read once, a few at a time; one gone in
    /// between, one the caller may not read, or of another type, holds no known address.
    async fn private_addresses(
        &self,
        subnet: &Address,
        configurations: Option<&crate::model::Value>,
    ) -> Result<std::collections::BTreeMap<String, crate::model::Value>, ProviderError> {
        use futures::stream::{self, StreamExt, TryStreamExt};
        let ids: Vec<&str> = match configurations {
            Some(crate::model::Value::List(ids)) => ids.iter().filter_map(crate::model::Value::as_str).collect(),
            _ => Vec::new(),
        };
        let mut holders: Vec<(String, &'static str)> = Vec::new();
        for id in &ids {
            if let Some(holder) = address_holder(id)
                && !holders.iter().any(|(h, _)| h.eq_ignore_ascii_case(&holder.0))
            {
                holders.push(holder);
            }
        }
        let client = &self.client;
        let read: Vec<Option<Json>> = stream::iter(holders.iter())
            .map(|(path, collection)| async move {
                match client.get(path, arm_json::NETWORK_API).await {
                    Ok(live) => Ok(live
                        .map(|live| live.pointer(&format!("/properties/{collection}")).cloned().unwrap_or(Json::Null))),
                    Err(error) if error.is_forbidden() => Ok(None),
                    Err(error) => Err(error.into_provider_error(&format!("{subnet}: reading {path}"))),
                }
            })
            .buffer_unordered(8)
            .try_collect()
            .await?;
        let mut out = std::collections::BTreeMap::new();
        for configuration in read.iter().flatten().filter_map(Json::as_array).flatten() {
            let (Some(id), Some(ip)) = (
                configuration.get("id").and_then(Json::as_str),
                configuration.pointer("/properties/privateIPAddress").and_then(Json::as_str),
            ) else {
                continue;
            };
            if ids.iter().any(|wanted| wanted.eq_ignore_ascii_case(id)) {
                out.insert(id.to_string(), crate::model::Value::str(ip));
            }
        }
        Ok(out)
    }

    /// The names and ids of the children of `kind` under `parent` (a vnet's subnets, a
    /// resource group's DNS zones), from
    /// their list operation, every page.
    pub async fn children(&self, kind: Kind, parent: &str) -> Result<Vec<(String, String)>, ProviderError> {
        let arm_type = type_of(kind).ok_or_else(|| not_azure(&Address::new(kind, "*")))?;
        let identity = arm_type.identity();
        let segment = identity.type_name.rsplit('/').next().unwrap_or_default();
        let doing = format!("listing the {segment} of {parent}");
        // A resource group's resources are under its providers; a child under its parent.
        let list = match identity.place {
            arm_type::Place::ResourceGroup => format!("{parent}/providers/{}", identity.type_name),
            _ => format!("{parent}/{segment}"),
        };
        let listed = self.list_all(&list, arm_type.api_version(), &doing).await?.unwrap_or_default();
        Ok(listed
            .iter()
            .filter_map(|item| Some((item.get("name")?.as_str()?.to_string(), item.get("id")?.as_str()?.to_string())))
            .collect())
    }

    /// A page's `nextLink` as a path on this run's endpoint (its query, without the
    /// api-version the client adds); `None` for a link elsewhere.
    fn same_origin_path(&self, link: &str) -> Option<String> {
        let url =
            azure_core::http::Url::parse(link).ok().filter(|url| self.client.cloud().check_same_origin(url).is_ok())?;
        let query: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != "api-version")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut path = url.path().to_string();
        for (i, (k, v)) in query.iter().enumerate() {
            path.push(if i == 0 { '?' } else { '&' });
            path.push_str(&format!("{k}={}", url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()));
        }
        Some(path)
    }

    /// A node pool that is its cluster's last System pool cannot be deleted alone (AKS keeps
    /// one); it goes with the cluster.
    async fn goes_with_its_cluster(&self, existing: &Existing<'_>) -> Result<bool, ProviderError> {
        let system = existing.attributes.get("mode").and_then(|m| m.as_str()) == Some("System");
        let Some((cluster_path, _)) = existing.provider_id.rsplit_once("/agentPools/") else { return Ok(false) };
        if !system {
            return Ok(false);
        }
        let live = self
            .client
            .get(cluster_path, cluster::Cluster.api_version())
            .await
            .map_err(|e| e.into_provider_error(existing.address))?;
        let Some(live) = live else { return Ok(true) };
        let systems = live
            .pointer("/properties/agentPoolProfiles")
            .and_then(Json::as_array)
            .map_or(0, |pools| pools.iter().filter(|p| p.get("mode").and_then(Json::as_str) == Some("System")).count());
        Ok(systems <= 1)
    }

    /// A PUT of `body` with what others wrote into the live resource carried over. On a create
    /// too: the resource may exist already (a state lost, a create retried after its
    /// operation failed). The PUT goes under the etag read, so that a write in between (the
    /// cluster's route for a new node) is refused with 412 rather than lost, and merged again.
    async fn put_keeping_foreign(
        &self,
        arm_type: &dyn ArmType,
        address: &Address,
        path: &str,
        body: &Json,
    ) -> Result<Json, ProviderError> {
        const ATTEMPTS: usize = 5;
        let version = arm_type.api_version();
        let mut attempt = 1;
        loop {
            let live = self.client.get(path, version).await.map_err(|e| e.into_provider_error(address))?;
            let mut merged = body.clone();
            if let Some(live) = &live {
                arm_type.keep_foreign(live, self.resolver.recorded(address), &mut merged);
            }
            let etag = live.as_ref().and_then(|l| l.get("etag")).and_then(Json::as_str);
            match self.client.put_matching(path, version, &merged, etag).await {
                Err(error) if error.is_precondition_failed() && attempt < ATTEMPTS => attempt += 1,
                other => return other.map_err(|e| e.into_provider_error(address)),
            }
        }
    }

    /// A role assignment not under its own name: its role may be granted by another assignment
    /// at its scope (made outside the stack before aksform's, see [`Provider::apply`]); then it
    /// reads as recorded, else as gone.
    async fn granted_otherwise(&self, existing: &Existing<'_>) -> Result<Option<Attributes>, ProviderError> {
        let recorded = existing.attributes;
        let text = |name: &str| recorded.get(name).and_then(crate::model::Value::as_str);
        let (Some(principal), Some((scope, _))) =
            (text("principal_id"), existing.provider_id.split_once("/providers/Microsoft.Authorization/"))
        else {
            return Ok(None);
        };
        let list = format!(
            "{scope}/providers/Microsoft.Authorization/roleAssignments?$filter={}",
            url::form_urlencoded::byte_serialize(format!("principalId eq '{principal}'").as_bytes())
                .collect::<String>()
        );
        let page = self
            .client
            .get(&list, arm_type_of(existing.address)?.api_version())
            .await
            .map_err(|e| e.into_provider_error(existing.address))?;
        let wanted = role_assignment::role_id(text("role").unwrap_or_default());
        let granted = page.iter().flat_map(|p| p.get("value").and_then(Json::as_array)).flatten().any(|item| {
            let role = item.pointer("/properties/roleDefinitionId").and_then(Json::as_str).unwrap_or_default();
            let at = item.pointer("/properties/scope").and_then(Json::as_str).unwrap_or_default();
            wanted.is_some_and(|id| role.ends_with(id)) && at.eq_ignore_ascii_case(scope)
        });
        Ok(granted.then(|| recorded.clone()))
    }

    /// [`Provider::check_create`] of `address` at `path`: what is there must carry the stack's
    /// marks, or, for a type that has none of its own (a subnet), its parent's must. Returns
    /// the resource at `path` as read, if there is one.
    async fn check_path(&self, address: &Address, path: &str) -> Result<Option<Json>, ProviderError> {
        let (mut marked, mut marked_path) = (address.clone(), path.to_string());
        let mut found = None;
        loop {
            let arm_type = arm_type_of(&marked)?;
            let live = self
                .client
                .get(&marked_path, arm_type.api_version())
                .await
                .map_err(|e| e.into_provider_error(&marked))?;
            let Some(live) = live else { return Ok(found) };
            let marks = match arm_type.marks_at() {
                MarksAt::Name => return Ok(found.or(Some(live))),
                MarksAt::Tags => live.get("tags"),
                MarksAt::Metadata => live.pointer("/properties/metadata"),
                MarksAt::Parent => {
                    // `{parent}/{segment}/{name}`: the parent is two segments up.
                    let parent_path = marked_path.rsplitn(3, '/').nth(2).map(str::to_string);
                    let (Some(parent), Some(parent_path)) = (marked.parent_address(), parent_path) else {
                        return Err(super::taken(address, path, "it has no marks of its own"));
                    };
                    found.get_or_insert(live);
                    (marked, marked_path) = (parent, parent_path);
                    continue;
                }
            };
            return match arm_json::not_ours(marks, &marked, self.resolver.lineage()) {
                None => Ok(found.or(Some(live))),
                Some(why) if marked == *address => Err(super::taken(address, path, &why)),
                Some(why) => Err(super::taken(address, path, &format!("it is in `{marked}`, and {why}"))),
            };
        }
    }

    async fn list_tagged(&self, path: &str, out: &mut Vec<Owned>) -> Result<(), ProviderError> {
        for item in self.list_all(path, RESOURCES_API, "listing aksform's resources").await?.unwrap_or_default() {
            let address = item
                .pointer(&format!("/tags/{OWNER_TAG}"))
                .and_then(Json::as_str)
                .and_then(|a| a.parse::<Address>().ok());
            if let (Some(address), Some(id)) = (address, item.get("id").and_then(Json::as_str)) {
                out.push(Owned { address, provider_id: id.to_string() });
            }
        }
        Ok(())
    }
}

/// The ARM id of the resource of `kind` named `name` in `resource_group` of `subscription` (a
/// child, such as a subnet, under `parent`, its parent's id); `None` for a kind that is no ARM
/// resource of its own place (a DNS record).
pub fn resource_path(
    kind: Kind,
    subscription: &str,
    resource_group: &str,
    name: &str,
    parent: Option<&str>,
) -> Option<String> {
    let identity = type_of(kind)?.identity();
    Some(match identity.place {
        arm_type::Place::Subscription => arm_json::resource_group_path(subscription, name),
        arm_type::Place::ResourceGroup => {
            arm_json::provider_path(subscription, resource_group, &format!("{}/{name}", identity.type_name))
        }
        arm_type::Place::Parent => format!("{}/{}/{name}", parent?, identity.type_name.rsplit('/').next()?),
        arm_type::Place::Zone | arm_type::Place::Scope => return None,
    })
}

/// Where the address of an IP configuration (by id) is read: the resource holding it, and its
/// collection of configurations there; `None` for a holder of another type.
fn address_holder(configuration: &str) -> Option<(String, &'static str)> {
    const HOLDERS: [(&str, &str, &str); 3] = [
        ("networkInterfaces", "ipConfigurations", "ipConfigurations"),
        ("loadBalancers", "frontendIPConfigurations", "frontendIPConfigurations"),
        ("applicationGateways", "frontendIPConfigurations", "frontendIPConfigurations"),
    ];
    let segments: Vec<&str> = configuration.trim_matches('/').split('/').collect();
    // `/subscriptions/S/resourceGroups/G/providers/Microsoft.Network/TYPE/NAME/CHILD/NAME`
    let [_, _, _, _, providers, namespace, kind, _, child, _] = segments.as_slice() else { return None };
    if !providers.eq_ignore_ascii_case("providers") || !namespace.eq_ignore_ascii_case("Microsoft.Network") {
        return None;
    }
    let (_, _, collection) =
        HOLDERS.iter().find(|(k, c, _)| k.eq_ignore_ascii_case(kind) && c.eq_ignore_ascii_case(child))?;
    Some((format!("/{}", segments[..8].join("/")), collection))
}

fn not_azure(address: &Address) -> ProviderError {
    ProviderError {
        kind: ErrorKind::Rejected,
        message: format!("{address} is a Kubernetes object, not an Azure resource"),
    }
}

#[async_trait::async_trait]
impl Provider for ArmProvider {
    async fn apply(&self, request: ApplyRequest<'_>) -> Result<Applied, ProviderError> {
        let address = request.address;
        let arm_type = arm_type_of(address)?;
        let path = self.resolver.path_of(address)?;
        // A cluster's first PUT carries its pools; an existing one is updated without them,
        // each pool being a resource of its own.
        let creating = request.provider_id.is_none();
        let body = self.body(&request, creating)?;
        if creating {
            let found = self.check_path(address, &path).await?;
            // Only one that is done: one still being made (an apply cut off while it was) or
            // failed is PUT, which waits for it or tries again.
            let done = |live: &Json| lro::provisioning_state(live).is_some_and(|s| s.eq_ignore_ascii_case("Succeeded"));
            let made = found.filter(|live| arm_type.puts_only_a_change() && done(live) && arm_json::holds(live, &body));
            if let Some(live) = made {
                return Ok(Applied { provider_id: path, computed: arm_type.computed(&live) });
            }
        }
        let live = if arm_type.keeps_foreign() {
            self.put_keeping_foreign(arm_type, address, &path, &body).await?
        } else {
            match self.client.put(&path, arm_type.api_version(), &body).await {
                Ok(live) => live,
                // The role is granted already, by an assignment made outside the stack (`az aks
                // create` makes one): that is what was wanted, and that one stays another's.
                Err(error) if address.kind == Kind::RoleAssignment && error.code() == "RoleAssignmentExists" => body,
                Err(error) => return Err(error.into_provider_error(address)),
            }
        };
        Ok(Applied { provider_id: path, computed: arm_type.computed(&live) })
    }

    async fn check_create(&self, request: ApplyRequest<'_>) -> Result<(), ProviderError> {
        let path = self.resolver.path_of(request.address)?;
        self.check_path(request.address, &path).await.map(drop)
    }

    async fn read(&self, existing: Existing<'_>) -> Result<Option<Attributes>, ProviderError> {
        let address = existing.address;
        let arm_type = arm_type_of(address)?;
        let live = self
            .client
            .get(existing.provider_id, arm_type.api_version())
            .await
            .map_err(|e| e.into_provider_error(address))?;
        let live = match live {
            Some(live) => live,
            None if address.kind == Kind::RoleAssignment => return self.granted_otherwise(&existing).await,
            None => return Ok(None),
        };
        // Being deleted is as good as gone.
        if lro::provisioning_state(&live).is_some_and(|s| s.eq_ignore_ascii_case("Deleting")) {
            return Ok(None);
        }
        Ok(Some(arm_type.observed(&live, existing.attributes, &self.resolver)))
    }

    async fn read_many(&self, existing: &[Existing<'_>]) -> Vec<Result<Option<Attributes>, ProviderError>> {
        self.read_listed(existing).await
    }

    async fn delete(&self, existing: Existing<'_>) -> Result<(), ProviderError> {
        let address = existing.address;
        let arm_type = arm_type_of(address)?;
        if address.kind == Kind::NodePool && self.goes_with_its_cluster(&existing).await? {
            return Ok(());
        }
        self.client
            .delete(existing.provider_id, arm_type.api_version())
            .await
            .map_err(|e| e.into_provider_error(address))
    }

    /// The resource groups and top-level resources of the subscription tagged as aksform's
    /// (child resources, which have no tags, go with their parents).
    async fn list_owned(&self) -> Result<Vec<Owned>, ProviderError> {
        let subscription = self.resolver.subscription(&Address::new(Kind::ResourceGroup, "*"))?;
        let filter = format!("?$filter=tagName%20eq%20%27{OWNER_TAG}%27");
        let mut out = Vec::new();
        self.list_tagged(&format!("/subscriptions/{subscription}/resourcegroups{filter}"), &mut out).await?;
        self.list_tagged(&format!("/subscriptions/{subscription}/resources{filter}"), &mut out).await?;
        out.sort_by(|a, b| a.address.cmp(&b.address).then_with(|| a.provider_id.cmp(&b.provider_id)));
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
