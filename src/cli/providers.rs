//! The providers an apply or a refresh uses: Azure Resource Manager for the Azure resources
//! (`--cloud`, `--arm-endpoint`, `--auth`), and for the Kubernetes objects of each cluster a
//! provider that connects on first use: with `--kubeconfig [CLUSTER=]PATH[#CONTEXT]` when one
//! is given for the cluster, else with the cluster's credentials fetched through ARM. So one
//! apply creates a cluster and then the objects inside it. They are what a refresh reads
//! through ([`Reach`]) and what the executor routes each resource to ([`Router`]).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use clap::Args;

use crate::apply::{Router, cluster_of};
use crate::model::address::AddressParseError;
use crate::model::{Address, Kind, Resource};
use crate::providers::arm::cloud::{Cloud, CloudName};
use crate::providers::arm::credentials::{AuthMethod, Chain};
use crate::providers::arm::{ArmProvider, Resolver};
use crate::providers::kube::KubeProvider;
use crate::providers::{Applied, ApplyRequest, Attributes, ErrorKind, Existing, Owned, Provider, ProviderError};
use crate::refresh::{Reach, SignInError};
use crate::state::State;

/// A `--kubeconfig` value that cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum KubeconfigArgError {
    #[error("{0}")]
    Address(#[from] AddressParseError),
    #[error("`{0}` is not a cluster; write cluster.NAME=PATH")]
    NotACluster(Address),
    #[error("the kubeconfig path is empty")]
    EmptyPath,
}

/// Why the providers cannot be used as the flags ask.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProvidersError {
    #[error("--kubeconfig names {0}, which this run does not touch")]
    UnusedKubeconfig(Address),
    /// `--arm-endpoint` or `--arm-audience` cannot be used, as Resource Manager's provider says.
    #[error("{0}")]
    Endpoint(String),
    /// No Azure credentials as `--auth` asks, as the credential chain says.
    #[error("Azure credentials: {0}")]
    Credentials(String),
    /// Resource Manager refused to sign in, in its own words.
    #[error("{0}")]
    SignIn(String),
}

/// `--kubeconfig cluster.shop=~/.kube/shop#shop-admin`, or `--kubeconfig PATH` for every cluster.
#[derive(Debug, Clone)]
pub struct KubeconfigArg {
    pub cluster: Option<Address>,
    pub path: PathBuf,
    pub context: Option<String>,
}

impl std::str::FromStr for KubeconfigArg {
    type Err = KubeconfigArgError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (cluster, rest) = match text.split_once('=') {
            Some((address, rest)) => {
                let address: Address = address.parse()?;
                if address.kind != Kind::Cluster {
                    return Err(KubeconfigArgError::NotACluster(address));
                }
                (Some(address), rest)
            }
            None => (None, text),
        };
        let (path, context) = match rest.rsplit_once('#') {
            Some((path, context)) => (path, Some(context.to_string())),
            None => (rest, None),
        };
        if path.is_empty() {
            return Err(KubeconfigArgError::EmptyPath);
        }
        Ok(KubeconfigArg { cluster, path: PathBuf::from(path), context })
    }
}

/// Where the providers reach Azure and the clusters, and with which credentials.
#[derive(Debug, Clone, Args)]
pub struct ProviderArgs {
    /// The Azure cloud.
    #[arg(long, env = "AKSFORM_CLOUD", value_enum, default_value_t = CloudName::Public)]
    pub cloud: CloudName,
    /// A custom Resource Manager endpoint, e.g. a local ARM emulator (plain http on loopback only).
    #[arg(long, env = "AKSFORM_ARM_ENDPOINT", value_name = "URL")]
    pub arm_endpoint: Option<String>,
    /// The token audience of a custom endpoint (default: the public cloud's Resource Manager).
    #[arg(long, env = "AKSFORM_ARM_AUDIENCE", value_name = "URI", requires = "arm_endpoint")]
    pub arm_audience: Option<String>,
    /// How to sign in to Azure: auto finds client-secret or workload-identity settings in
    /// AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET/AZURE_FEDERATED_TOKEN_FILE, then
    /// tries the Azure CLI and a managed identity; access-token reads AKSFORM_ACCESS_TOKEN.
    #[arg(long, env = "AKSFORM_AUTH", value_enum, default_value_t = AuthMethod::Auto)]
    pub auth: AuthMethod,
    /// Fetch clusters' admin credentials (listClusterAdminCredential) instead of user ones.
    #[arg(long)]
    pub cluster_admin: bool,
    /// Credentials of a cluster: [cluster.NAME=]PATH[#CONTEXT] (repeatable); without one, a
    /// cluster's credentials are fetched through Azure.
    #[arg(long, value_name = "[CLUSTER=]PATH[#CONTEXT]")]
    pub kubeconfig: Vec<KubeconfigArg>,
}

impl ProviderArgs {
    /// How a state in Azure Blob Storage is reached when no SAS or key is given.
    pub fn access(&self) -> super::backend::Access {
        super::backend::Access { auth: self.auth, cloud: self.cloud }
    }

    fn kubeconfig_for(&self, cluster: &Address) -> Option<&KubeconfigArg> {
        self.kubeconfig
            .iter()
            .find(|a| a.cluster.as_ref() == Some(cluster))
            .or_else(|| self.kubeconfig.iter().find(|a| a.cluster.is_none()))
    }

    /// Every `--kubeconfig cluster.X=...` names a cluster of the run.
    pub fn check_clusters(&self, clusters: &[Address]) -> Result<(), ProvidersError> {
        for arg in &self.kubeconfig {
            if let Some(cluster) = &arg.cluster
                && !clusters.contains(cluster)
            {
                return Err(ProvidersError::UnusedKubeconfig(cluster.clone()));
            }
        }
        Ok(())
    }

    fn arm(&self, resolver: Resolver) -> Result<ArmProvider, ProvidersError> {
        let env = |name: &str| std::env::var(name).ok();
        let cloud = match &self.arm_endpoint {
            Some(endpoint) => {
                Cloud::custom(endpoint, self.arm_audience.as_deref(), env("AZURE_AUTHORITY_HOST").as_deref())
                    .map_err(|e| ProvidersError::Endpoint(e.to_string()))?
            }
            None => Cloud::named(self.cloud),
        };
        let chain = Chain::new(self.auth, &cloud, &env).map_err(|e| ProvidersError::Credentials(e.to_string()))?;
        Ok(ArmProvider::connect(cloud, Arc::new(chain), resolver))
    }
}

/// How long an apply waits for the address of a LoadBalancer Service, or of an Ingress of the
/// application routing class, on an AKS cluster.
const LOAD_BALANCER_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// The providers of one run. Nothing connects until a resource needs it.
pub struct Providers {
    arm: Result<Arc<ArmProvider>, ProvidersError>,
    args: ProviderArgs,
    /// The lineage of the stack's state, which the objects it makes are marked with.
    lineage: Option<String>,
    kube: Mutex<HashMap<Address, Arc<LazyKube>>>,
}

impl Providers {
    /// `desired` and `recorded` tell the ARM provider the names and ids it refers to.
    pub fn new(
        args: &ProviderArgs,
        subscription: Option<String>,
        desired: &[Resource],
        recorded: Option<&State>,
    ) -> Providers {
        let resolver = Resolver::new(subscription, desired, recorded);
        Providers {
            arm: args.arm(resolver).map(Arc::new),
            args: args.clone(),
            lineage: recorded.map(|state| state.lineage.clone()),
            kube: Mutex::new(HashMap::new()),
        }
    }

    /// The Resource Manager provider, or why there is none.
    pub fn arm(&self) -> Result<Arc<ArmProvider>, ProvidersError> {
        self.arm.clone()
    }

    /// The Kubernetes provider of `cluster`, connected.
    pub async fn kube(&self, cluster: &Address) -> Result<Arc<KubeProvider>, ProviderError> {
        self.kube_for(cluster).provider().await
    }

    fn kube_for(&self, cluster: &Address) -> Arc<LazyKube> {
        let mut kube = self.kube.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        kube.entry(cluster.clone())
            .or_insert_with(|| {
                Arc::new(LazyKube {
                    cluster: cluster.clone(),
                    kubeconfig: self.args.kubeconfig_for(cluster).cloned(),
                    arm: self.arm.clone(),
                    admin: self.args.cluster_admin,
                    lineage: self.lineage.clone(),
                    connected: Mutex::new(None),
                    connecting: tokio::sync::Mutex::new(()),
                })
            })
            .clone()
    }
}

#[async_trait::async_trait]
impl Reach for Providers {
    async fn sign_in(&self) -> Result<(), SignInError> {
        let arm = self.arm.as_ref().map_err(Clone::clone)?;
        Ok(arm.sign_in().await.map_err(|e| ProvidersError::SignIn(e.to_string()))?)
    }

    fn automatic_credentials(&self) -> bool {
        self.args.auth == AuthMethod::Auto
    }

    fn has_kubeconfig(&self, cluster: &Address) -> bool {
        self.args.kubeconfig_for(cluster).is_some()
    }
}

impl Router for Providers {
    fn provider(&self, address: &Address, attributes: &Attributes) -> Result<Arc<dyn Provider>, ProviderError> {
        if !address.kind.is_kubernetes() {
            return match &self.arm {
                Ok(arm) => Ok(arm.clone()),
                Err(e) => Err(ProviderError { kind: ErrorKind::Unauthorized, message: e.to_string() }),
            };
        }
        let cluster = cluster_of(attributes).ok_or_else(|| ProviderError {
            kind: ErrorKind::Rejected,
            message: format!("{address} names no cluster"),
        })?;
        Ok(self.kube_for(&cluster))
    }

    fn applied(&self, address: &Address, _applied: &Applied) {
        // A cluster created or replaced anew has new credentials.
        if address.kind == Kind::Cluster {
            self.kube_for(address).forget();
        }
    }
}

/// The Kubernetes provider of one cluster, connected on first use.
struct LazyKube {
    cluster: Address,
    kubeconfig: Option<KubeconfigArg>,
    arm: Result<Arc<ArmProvider>, ProvidersError>,
    admin: bool,
    lineage: Option<String>,
    connected: Mutex<Option<Arc<KubeProvider>>>,
    /// One connection attempt at a time.
    connecting: tokio::sync::Mutex<()>,
}

impl LazyKube {
    fn current(&self) -> Option<Arc<KubeProvider>> {
        self.connected.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    fn forget(&self) {
        if self.kubeconfig.is_none() {
            *self.connected.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
        }
    }

    async fn provider(&self) -> Result<Arc<KubeProvider>, ProviderError> {
        if let Some(provider) = self.current() {
            return Ok(provider);
        }
        let _one = self.connecting.lock().await;
        if let Some(provider) = self.current() {
            return Ok(provider);
        }
        let cluster = &self.cluster;
        let (yaml, context, aks) = match &self.kubeconfig {
            Some(arg) => {
                let yaml = std::fs::read_to_string(&arg.path).map_err(|e| ProviderError {
                    kind: ErrorKind::Rejected,
                    message: format!("{cluster}: cannot read {}: {e}", arg.path.display()),
                })?;
                (yaml, arg.context.as_deref(), false)
            }
            None => {
                let arm = self.arm.as_ref().map_err(|message| ProviderError {
                    kind: ErrorKind::Unauthorized,
                    message: format!(
                        "no credentials for {cluster}: pass --kubeconfig {cluster}=PATH[#CONTEXT], or Azure credentials \
                         to fetch them ({message})"
                    ),
                })?;
                (arm.kubeconfig(cluster, self.admin).await?, None, true)
            }
        };
        let mut provider =
            KubeProvider::from_kubeconfig(&yaml, context, cluster.clone()).await?.with_lineage(self.lineage.clone());
        // AKS runs a cloud controller that gives LoadBalancer Services their address, and the
        // application routing add-on's controller that gives its Ingresses theirs.
        if aks {
            provider = provider.with_load_balancer_wait(LOAD_BALANCER_WAIT);
        }
        let provider = Arc::new(provider);
        *self.connected.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(provider.clone());
        Ok(provider)
    }
}

#[async_trait::async_trait]
impl Provider for LazyKube {
    async fn apply(&self, request: ApplyRequest<'_>) -> Result<Applied, ProviderError> {
        self.provider().await?.apply(request).await
    }

    async fn check_create(&self, request: ApplyRequest<'_>) -> Result<(), ProviderError> {
        self.provider().await?.check_create(request).await
    }

    async fn read(&self, existing: Existing<'_>) -> Result<Option<Attributes>, ProviderError> {
        self.provider().await?.read(existing).await
    }

    async fn read_many(&self, existing: &[Existing<'_>]) -> Vec<Result<Option<Attributes>, ProviderError>> {
        match self.provider().await {
            Ok(provider) => provider.read_many(existing).await,
            Err(error) => vec![Err(error); existing.len()],
        }
    }

    async fn delete(&self, existing: Existing<'_>) -> Result<(), ProviderError> {
        self.provider().await?.delete(existing).await
    }

    async fn list_owned(&self) -> Result<Vec<Owned>, ProviderError> {
        self.provider().await?.list_owned().await
    }
}
