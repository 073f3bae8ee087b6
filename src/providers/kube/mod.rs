//! The Kubernetes provider: Namespaces, Services and Ingresses of one cluster, created and
//! updated by server-side apply, read back into aksform's attributes for refresh and drift.
//!
//! Every object carries the label `app.kubernetes.io/managed-by: aksform` and the annotation
//! `aksform.io/address: <address>`, which is how `list_owned` finds them. Neither is an
//! attribute, so neither shows as drift.

mod errors;
mod ingress;
mod listing;
mod metadata;
mod namespace;
mod object_id;
mod service;

use std::collections::HashMap;
use std::fmt;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Client, Config};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use metadata::{ADDRESS_ANNOTATION, FIELD_MANAGER, LINEAGE_ANNOTATION, MANAGED_BY, MANAGED_BY_LABEL};
pub use object_id::{ObjectId, ObjectIdError, ObjectKind};

use crate::model::{Address, WEB_APP_ROUTING_CLASS};
use crate::providers::attributes::{AttributeFields, Reader};
use crate::providers::{Applied, ApplyRequest, Attributes, ErrorKind, Existing, Owned, Provider, ProviderError};

/// How long `delete` waits for an object to be gone by default. A namespace goes only once
/// the namespace controller has emptied it.
pub const DEFAULT_DELETE_TIMEOUT: Duration = Duration::from_secs(300);
const DELETE_POLL: Duration = Duration::from_millis(250);
/// How far the cluster's clock may be behind ours for its events to count as this apply's.
const EVENT_CLOCK_SKEW: k8s_openapi::jiff::SignedDuration = k8s_openapi::jiff::SignedDuration::from_secs(5);
/// Objects per page of a list.
const LIST_PAGE: u32 = 500;

/// The provider for one cluster. Holds a client with the kubeconfig's credentials inside,
/// never the kubeconfig itself; its `Debug` shows the cluster and the server only.
#[derive(Clone)]
pub struct KubeProvider {
    client: Client,
    cluster: Address,
    /// `host:port` of the API server, for messages.
    server: String,
    delete_timeout: Duration,
    /// How long `apply` waits for the address of a LoadBalancer Service or of an Ingress of the
    /// application routing class (`None`: not at all).
    load_balancer_wait: Option<Duration>,
    /// The lineage of the stack's state, which its objects are marked with.
    lineage: Option<String>,
    /// What exists of each kind in each namespace, listed once per run for the creates'
    /// checks ([`Provider::check_create`]).
    listings: Arc<Mutex<HashMap<ListingKey, Listing>>>,
}

/// A kind and a namespace (`None` for namespaces).
type ListingKey = (ObjectKind, Option<String>);
/// The objects listed there, by name, with their marks.
type Listing = Arc<tokio::sync::OnceCell<HashMap<String, metadata::Marks>>>;

impl fmt::Debug for KubeProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KubeProvider")
            .field("cluster", &self.cluster.to_string())
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl KubeProvider {
    /// A provider for `cluster` from a kubeconfig's text and, optionally, one of its contexts
    /// (else its current context). Must run inside a Tokio runtime: the client's connection
    /// pool lives on it.
    pub async fn from_kubeconfig(
        yaml: &str,
        context: Option<&str>,
        cluster: Address,
    ) -> Result<KubeProvider, ProviderError> {
        let refused = |message: String| ProviderError {
            kind: ErrorKind::Rejected,
            message: format!("the kubeconfig of {cluster}: {message}"),
        };
        let kubeconfig = Kubeconfig::from_yaml(yaml).map_err(|error| refused(kubeconfig_error(&error)))?;
        let options = KubeConfigOptions { context: context.map(str::to_string), ..KubeConfigOptions::default() };
        let config = Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|error| refused(kubeconfig_error(&error)))?;
        // Host and port only: an authority may carry user information.
        let server = match config.cluster_url.authority() {
            Some(a) => a.port_u16().map_or_else(|| a.host().to_string(), |port| format!("{}:{port}", a.host())),
            None => "(no host)".to_string(),
        };
        let client = Client::try_from(config).map_err(|error| errors::from_kube(error, &server, "connecting"))?;
        Ok(KubeProvider {
            client,
            cluster,
            server,
            delete_timeout: DEFAULT_DELETE_TIMEOUT,
            load_balancer_wait: None,
            lineage: None,
            listings: Arc::default(),
        })
    }

    /// Waits up to `wait` after applying a LoadBalancer Service for the address the cluster's
    /// cloud controller gives it, and after applying an Ingress of the application routing
    /// class for the address the add-on's controller reports, so that what refers to the
    /// address (a DNS record) gets it. For clusters known to run both (AKS); elsewhere the
    /// address may never come.
    pub fn with_load_balancer_wait(mut self, wait: Duration) -> Self {
        self.load_balancer_wait = Some(wait);
        self
    }

    /// The object's computed fields once its `address` is there, or as they are when the wait
    /// is over (the address then stays unknown: null).
    async fn with_address<K>(
        &self,
        api: &Api<K>,
        id: &ObjectId,
        mut computed: Attributes,
        expected: bool,
        computed_of: fn(&K) -> Attributes,
    ) -> Result<Attributes, ProviderError>
    where
        K: kube::Resource + Clone + DeserializeOwned + Debug,
    {
        let Some(wait) = self.load_balancer_wait.filter(|_| expected) else { return Ok(computed) };
        let started = Instant::now();
        let since = k8s_openapi::jiff::Timestamp::now() - EVENT_CLOCK_SKEW;
        while computed.get("address").is_none_or(|a| *a == crate::model::Value::Null) && started.elapsed() < wait {
            tokio::time::sleep(DELETE_POLL).await;
            if let Some(live) = self.get_object(api, id).await? {
                computed = computed_of(&live);
            }
            // The cloud provider gave up on it (a role the cluster's identity lacks): the
            // address does not come until someone acts.
            if id.kind == ObjectKind::Service
                && service::load_balancer_failure(&self.client, id, since)
                    .await
                    .map_err(|e| self.error(e, &format!("reading the events of {id}")))?
                    .is_some()
            {
                break;
            }
        }
        Ok(computed)
    }

    /// Marks the objects it applies as those of the stack whose state has `lineage`, and
    /// refuses to create over an object another stack marked.
    pub fn with_lineage(mut self, lineage: Option<String>) -> Self {
        self.lineage = lineage;
        self
    }

    /// How long `delete` waits for the object to be gone before it gives up.
    pub fn with_delete_timeout(mut self, timeout: Duration) -> Self {
        self.delete_timeout = timeout;
        self
    }

    /// The cluster this provider manages.
    pub fn cluster(&self) -> &Address {
        &self.cluster
    }

    fn error(&self, error: kube::Error, doing: &str) -> ProviderError {
        errors::from_kube(error, &self.server, doing)
    }

    fn object_id(&self, address: &Address, provider_id: &str) -> Result<ObjectId, ProviderError> {
        let id = ObjectId::parse(provider_id, &self.cluster)
            .map_err(|message| ProviderError { kind: ErrorKind::Rejected, message: format!("{address}: {message}") })?;
        if id.kind.resource_kind() != address.kind {
            return Err(ProviderError {
                kind: ErrorKind::Rejected,
                message: format!("{address}: `{provider_id}` is the id of a {}", id.kind.name()),
            });
        }
        Ok(id)
    }

    /// The object a request is for, from its attributes.
    fn requested_id(&self, address: &Address, fields: &AttributeFields<'_>) -> Result<ObjectId, ProviderError> {
        let kind = ObjectKind::of(address.kind).ok_or_else(|| ProviderError {
            kind: ErrorKind::Rejected,
            message: format!("{address} is not a Kubernetes object"),
        })?;
        // The executor picks the provider by cluster; a mismatch would write to the wrong one.
        if let Some(cluster) = fields.str("cluster")?
            && cluster != self.cluster.to_string()
        {
            return Err(ProviderError {
                kind: ErrorKind::Rejected,
                message: format!("{address} belongs to {cluster}, not to {}", self.cluster),
            });
        }
        let name = fields.required_str("name")?.to_string();
        let namespace = if kind.is_namespaced() { Some(fields.required_str("namespace")?.to_string()) } else { None };
        Ok(ObjectId { kind, namespace, name })
    }

    async fn apply_object<K>(&self, api: Api<K>, id: &ObjectId, object: &K) -> Result<K, ProviderError>
    where
        K: kube::Resource + Clone + DeserializeOwned + Serialize + Debug,
    {
        let mut object = object.clone();
        if let Some(lineage) = &self.lineage {
            object.meta_mut().annotations.get_or_insert_default().insert(LINEAGE_ANNOTATION.into(), lineage.clone());
        }
        // Forced: aksform's values win over another manager's, and only the fields sent are
        // aksform's, so fields other tools set stay theirs. A create has checked first that
        // the object is not another's ([`Provider::check_create`]).
        let params = PatchParams::apply(FIELD_MANAGER).force();
        api.patch(&id.name, &params, &Patch::Apply(&object)).await.map_err(|e| self.error(e, &format!("applying {id}")))
    }

    /// [`Provider::check_create`] of the object `id`, against the objects listed in its
    /// namespace (one list per kind and namespace in a run, not one read per create).
    async fn check_object(&self, address: &Address, id: &ObjectId) -> Result<(), ProviderError> {
        let listing = {
            let mut listings = self.listings.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            listings.entry((id.kind, id.namespace.clone())).or_default().clone()
        };
        let listed = listing
            .get_or_try_init(|| async {
                match id.kind {
                    ObjectKind::Namespace => self.list_marks(Api::<Namespace>::all(self.client.clone()), id).await,
                    ObjectKind::Service => self.list_marks(self.namespaced::<Service>(id)?, id).await,
                    ObjectKind::Ingress => self.list_marks(self.namespaced::<Ingress>(id)?, id).await,
                }
            })
            .await?;
        match listed.get(&id.name).and_then(|marks| marks.not_ours(address, self.lineage.as_deref())) {
            None => Ok(()),
            Some(why) => Err(crate::providers::taken(address, &id.provider_id(&self.cluster), &why)),
        }
    }

    /// The marks of every object of `api`, by name (metadata only, paged).
    async fn list_marks<K>(&self, api: Api<K>, id: &ObjectId) -> Result<HashMap<String, metadata::Marks>, ProviderError>
    where
        K: kube::Resource + Clone + DeserializeOwned + Debug,
    {
        let api = &api;
        let listed = self
            .list_paged(ListParams::default(), &format!("listing beside {id}"), |params| async move {
                api.list_metadata(&params).await
            })
            .await?;
        Ok(listed
            .iter()
            .filter_map(|object| Some((object.metadata.name.clone()?, metadata::Marks::of(&object.metadata))))
            .collect())
    }

    /// A Service aksform has not recorded is almost never there yet, so it is applied at once,
    /// one request. Should it be there after all with ports aksform does not want (made by
    /// hand, or stored by a server that died before answering), they are put right after, or,
    /// when they made the server refuse the apply, before applying again.
    async fn create_service(
        &self,
        api: Api<Service>,
        id: &ObjectId,
        object: &Service,
    ) -> Result<Service, ProviderError> {
        let refused = match self.apply_object(api.clone(), id, object).await {
            Ok(live) => match service::ports_patch(&live, object) {
                None => return Ok(live),
                Some(patch) => {
                    self.patch_ports(&api, id, &patch).await?;
                    return self.apply_object(api, id, object).await;
                }
            },
            // A node port held under another port number comes back as a 500 ("duplicate
            // nodePort") from the allocator, not as a 422.
            Err(error) if matches!(error.kind, ErrorKind::Rejected | ErrorKind::Unavailable) => error,
            Err(error) => return Err(error),
        };
        match self.get_object(&api, id).await?.and_then(|live| service::ports_patch(&live, object)) {
            Some(patch) => {
                self.patch_ports(&api, id, &patch).await?;
                self.apply_object(api, id, object).await
            }
            None => Err(refused),
        }
    }

    /// A recorded Service may carry ports changed by hand; they go before the apply, which
    /// could otherwise clash with them (the same node port under another port number).
    async fn update_service(
        &self,
        api: Api<Service>,
        id: &ObjectId,
        object: &Service,
    ) -> Result<Service, ProviderError> {
        if let Some(live) = self.get_object(&api, id).await?
            && let Some(patch) = service::ports_patch(&live, object)
        {
            self.patch_ports(&api, id, &patch).await?;
        }
        self.apply_object(api, id, object).await
    }

    async fn patch_ports(
        &self,
        api: &Api<Service>,
        id: &ObjectId,
        patch: &serde_json::Value,
    ) -> Result<(), ProviderError> {
        let params = PatchParams { field_manager: Some(FIELD_MANAGER.to_string()), ..PatchParams::default() };
        api.patch(&id.name, &params, &Patch::Merge(patch))
            .await
            .map(drop)
            .map_err(|e| self.error(e, &format!("replacing the ports of {id}")))
    }

    /// The object, or `None` when it is gone or on its way out.
    async fn get_object<K>(&self, api: &Api<K>, id: &ObjectId) -> Result<Option<K>, ProviderError>
    where
        K: kube::Resource + Clone + DeserializeOwned + Debug,
    {
        let object = api.get_opt(&id.name).await.map_err(|e| self.error(e, &format!("reading {id}")))?;
        Ok(object.filter(|o| o.meta().deletion_timestamp.is_none()))
    }

    async fn delete_object<K>(&self, api: Api<K>, id: &ObjectId) -> Result<(), ProviderError>
    where
        K: kube::Resource + Clone + DeserializeOwned + Debug,
    {
        let uid = match api.delete(&id.name, &DeleteParams::background()).await {
            Ok(either) => match either.left() {
                Some(object) => object.meta().uid.clone(),
                // Gone at once.
                None => return Ok(()),
            },
            Err(kube::Error::Api(status)) if status.is_not_found() => return Ok(()),
            Err(error) => return Err(self.error(error, &format!("deleting {id}"))),
        };
        let started = Instant::now();
        loop {
            let object = api.get_opt(&id.name).await.map_err(|e| self.error(e, &format!("reading {id}")))?;
            // Gone, or replaced by a new object of the same name.
            let Some(object) = object.filter(|o| o.meta().uid == uid) else { return Ok(()) };
            if started.elapsed() >= self.delete_timeout {
                let finalizers = object.meta().finalizers.clone().unwrap_or_default();
                let waiting = if finalizers.is_empty() {
                    String::new()
                } else {
                    format!(" (finalizers: {})", finalizers.join(", "))
                };
                return Err(ProviderError {
                    kind: ErrorKind::Unavailable,
                    message: format!("{id} is still being deleted after {} s{waiting}", self.delete_timeout.as_secs()),
                });
            }
            tokio::time::sleep(DELETE_POLL).await;
        }
    }

    /// Every object of `api` with aksform's label, as `Owned`.
    async fn list_marked<K>(&self, api: Api<K>, kind: ObjectKind, out: &mut Vec<Owned>) -> Result<(), ProviderError>
    where
        K: kube::Resource + Clone + DeserializeOwned + Debug,
    {
        for object in self.list_marked_objects(&api, &format!("listing {}s", kind.name())).await? {
            let meta = object.meta();
            if meta.deletion_timestamp.is_some() {
                continue;
            }
            // An address of another kind would be a mark copied onto the wrong object.
            let Some(address) = metadata::marked_address(meta).filter(|a| a.kind == kind.resource_kind()) else {
                continue;
            };
            let Some(name) = meta.name.clone() else { continue };
            let id = ObjectId { kind, namespace: meta.namespace.clone(), name };
            out.push(Owned { address, provider_id: id.provider_id(&self.cluster) });
        }
        Ok(())
    }

    /// Every object of `kind` in the cluster, read as if the stack had written all of it:
    /// its own labels and annotations (those `is_own_key` keeps) and the node ports of a
    /// NodePort Service count as set. For writing a stack from what runs.
    pub async fn read_all(
        &self,
        kind: ObjectKind,
        is_own_key: fn(&str) -> bool,
    ) -> Result<Vec<Attributes>, ProviderError> {
        let doing = format!("listing the {}s", kind.name());
        let as_own = |meta: &kube::api::ObjectMeta| {
            let own = |map: &Option<std::collections::BTreeMap<String, String>>| {
                crate::model::Value::map(
                    map.iter().flatten().filter(|(k, _)| is_own_key(k)).map(|(k, v)| (k.clone(), v.clone())),
                )
            };
            Attributes::from([
                ("labels".to_string(), own(&meta.labels)),
                ("annotations".to_string(), own(&meta.annotations)),
            ])
        };
        Ok(match kind {
            ObjectKind::Namespace => {
                let api = &Api::<Namespace>::all(self.client.clone());
                let listed =
                    self.list_paged(ListParams::default(), &doing, |p| async move { api.list(&p).await }).await?;
                listed.iter().map(|o| namespace::observed(o, &as_own(&o.metadata), &self.cluster)).collect()
            }
            ObjectKind::Service => {
                let api = &Api::<Service>::all(self.client.clone());
                let listed =
                    self.list_paged(ListParams::default(), &doing, |p| async move { api.list(&p).await }).await?;
                listed
                    .iter()
                    .map(|o| service::observed(o, &service::as_own(o, as_own(&o.metadata)), &self.cluster))
                    .collect()
            }
            ObjectKind::Ingress => {
                let api = &Api::<Ingress>::all(self.client.clone());
                let listed =
                    self.list_paged(ListParams::default(), &doing, |p| async move { api.list(&p).await }).await?;
                listed.iter().map(|o| ingress::observed(o, &as_own(&o.metadata), &self.cluster)).collect()
            }
        })
    }

    fn namespaced<K>(&self, id: &ObjectId) -> Result<Api<K>, ProviderError>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
    {
        let namespace = id
            .namespace
            .as_deref()
            .ok_or_else(|| ProviderError { kind: ErrorKind::Rejected, message: format!("{id} needs a namespace") })?;
        Ok(Api::namespaced(self.client.clone(), namespace))
    }
}

/// The object `apply` sends for a resource with these attributes (references filled in), as
/// JSON with its apiVersion and kind: the very objects aksform applies, for handing to
/// another client such as kubectl.
pub fn manifest(address: &Address, attributes: &Attributes) -> Result<serde_json::Value, ProviderError> {
    let fields = Reader::new(address).top(attributes);
    let json = match ObjectKind::of(address.kind) {
        Some(ObjectKind::Namespace) => serde_json::to_value(namespace::desired(&fields, address)?),
        Some(ObjectKind::Service) => serde_json::to_value(service::desired(&fields, address)?),
        Some(ObjectKind::Ingress) => serde_json::to_value(ingress::desired(&fields, address)?),
        None => {
            return Err(ProviderError {
                kind: ErrorKind::Rejected,
                message: format!("{address} is not a Kubernetes object"),
            });
        }
    };
    json.map_err(|e| ProviderError { kind: ErrorKind::Rejected, message: format!("{address}: {e}") })
}

/// A kubeconfig problem, told without quoting the file: it holds credentials, and a parser's
/// message may quote the text around the error.
fn kubeconfig_error(error: &KubeconfigError) -> String {
    match error {
        KubeconfigError::Parse(_) => "it is not a valid kubeconfig (YAML)".to_string(),
        other => other.to_string(),
    }
}

#[async_trait::async_trait]
impl Provider for KubeProvider {
    async fn apply(&self, request: ApplyRequest<'_>) -> Result<Applied, ProviderError> {
        let address = request.address;
        let fields = Reader::new(address).top(request.attributes);
        let id = self.requested_id(address, &fields)?;
        if request.provider_id.is_none() {
            self.check_object(address, &id).await?;
        }
        let computed = match id.kind {
            ObjectKind::Namespace => {
                let object = namespace::desired(&fields, address)?;
                self.apply_object(Api::<Namespace>::all(self.client.clone()), &id, &object).await?;
                Attributes::new()
            }
            ObjectKind::Service => {
                let object = service::desired(&fields, address)?;
                let api = self.namespaced::<Service>(&id)?;
                let load_balancer = object.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("LoadBalancer");
                let live = if request.provider_id.is_none() {
                    self.create_service(api.clone(), &id, &object).await?
                } else {
                    self.update_service(api.clone(), &id, &object).await?
                };
                self.with_address(&api, &id, service::computed(&live), load_balancer, service::computed).await?
            }
            ObjectKind::Ingress => {
                let object = ingress::desired(&fields, address)?;
                let api = self.namespaced::<Ingress>(&id)?;
                let routed =
                    object.spec.as_ref().and_then(|s| s.ingress_class_name.as_deref()) == Some(WEB_APP_ROUTING_CLASS);
                let computed = ingress::computed(&self.apply_object(api.clone(), &id, &object).await?);
                self.with_address(&api, &id, computed, routed, ingress::computed).await?
            }
        };
        Ok(Applied { provider_id: id.provider_id(&self.cluster), computed })
    }

    async fn check_create(&self, request: ApplyRequest<'_>) -> Result<(), ProviderError> {
        let fields = Reader::new(request.address).top(request.attributes);
        let id = self.requested_id(request.address, &fields)?;
        self.check_object(request.address, &id).await
    }

    async fn read(&self, existing: Existing<'_>) -> Result<Option<Attributes>, ProviderError> {
        let id = self.object_id(existing.address, existing.provider_id)?;
        let recorded = existing.attributes;
        Ok(match id.kind {
            ObjectKind::Namespace => self
                .get_object(&Api::<Namespace>::all(self.client.clone()), &id)
                .await?
                .map(|live| namespace::observed(&live, recorded, &self.cluster)),
            ObjectKind::Service => self
                .get_object(&self.namespaced::<Service>(&id)?, &id)
                .await?
                .map(|live| service::observed(&live, recorded, &self.cluster)),
            ObjectKind::Ingress => self
                .get_object(&self.namespaced::<Ingress>(&id)?, &id)
                .await?
                .map(|live| ingress::observed(&live, recorded, &self.cluster)),
        })
    }

    async fn read_many(&self, existing: &[Existing<'_>]) -> Vec<Result<Option<Attributes>, ProviderError>> {
        self.read_listed(existing).await
    }

    async fn delete(&self, existing: Existing<'_>) -> Result<(), ProviderError> {
        let id = self.object_id(existing.address, existing.provider_id)?;
        match id.kind {
            ObjectKind::Namespace => self.delete_object(Api::<Namespace>::all(self.client.clone()), &id).await,
            ObjectKind::Service => self.delete_object(self.namespaced::<Service>(&id)?, &id).await,
            ObjectKind::Ingress => self.delete_object(self.namespaced::<Ingress>(&id)?, &id).await,
        }
    }

    async fn list_owned(&self) -> Result<Vec<Owned>, ProviderError> {
        let mut out = Vec::new();
        self.list_marked(Api::<Namespace>::all(self.client.clone()), ObjectKind::Namespace, &mut out).await?;
        self.list_marked(Api::<Service>::all(self.client.clone()), ObjectKind::Service, &mut out).await?;
        self.list_marked(Api::<Ingress>::all(self.client.clone()), ObjectKind::Ingress, &mut out).await?;
        out.sort_by(|a, b| a.address.cmp(&b.address).then_with(|| a.provider_id.cmp(&b.provider_id)));
        Ok(out)
    }
}
