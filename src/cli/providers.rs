//! The providers an apply or a refresh uses, built from the credentials given on the command
//! line: `--kubeconfig [CLUSTER=]PATH[#CONTEXT]` for the Kubernetes objects of a cluster.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::apply::Router;
use crate::model::{Address, Kind};
use crate::providers::kube::KubeProvider;
use crate::providers::{Attributes, ErrorKind, Provider, ProviderError};

/// `--kubeconfig cluster.shop=~/.kube/shop#shop-admin`, or `--kubeconfig PATH` for every cluster.
#[derive(Debug, Clone)]
pub struct KubeconfigArg {
    pub cluster: Option<Address>,
    pub path: PathBuf,
    pub context: Option<String>,
}

impl std::str::FromStr for KubeconfigArg {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (cluster, rest) = match text.split_once('=') {
            Some((address, rest)) => {
                let address: Address =
                    address.parse().map_err(|e: crate::model::address::AddressParseError| e.to_string())?;
                if address.kind != Kind::Cluster {
                    return Err(format!("`{address}` is not a cluster; write cluster.NAME=PATH"));
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
            return Err("the kubeconfig path is empty".into());
        }
        Ok(KubeconfigArg { cluster, path: PathBuf::from(path), context })
    }
}

/// Providers by cluster, ready before the run starts.
pub struct Providers {
    kube: HashMap<Address, Arc<dyn Provider>>,
}

impl Providers {
    /// Connects to every cluster in `clusters` that has a kubeconfig.
    pub async fn connect(args: &[KubeconfigArg], clusters: &[Address]) -> Result<Providers, String> {
        let mut kube: HashMap<Address, Arc<dyn Provider>> = HashMap::new();
        for cluster in clusters {
            let Some(arg) = args
                .iter()
                .find(|a| a.cluster.as_ref() == Some(cluster))
                .or_else(|| args.iter().find(|a| a.cluster.is_none()))
            else {
                continue;
            };
            let yaml =
                std::fs::read_to_string(&arg.path).map_err(|e| format!("cannot read {}: {e}", arg.path.display()))?;
            let provider = KubeProvider::from_kubeconfig(&yaml, arg.context.as_deref(), cluster.clone())
                .await
                .map_err(|e| format!("{cluster}: {e}"))?;
            kube.insert(cluster.clone(), Arc::new(provider));
        }
        for arg in args {
            if let Some(cluster) = &arg.cluster
                && !clusters.contains(cluster)
            {
                return Err(format!("--kubeconfig names {cluster}, which this run does not touch"));
            }
        }
        Ok(Providers { kube })
    }
}

/// The cluster a Kubernetes object belongs to, from its `cluster` attribute.
pub fn cluster_of(attributes: &Attributes) -> Option<Address> {
    attributes.get("cluster").and_then(|v| v.as_str()).and_then(|s| s.parse().ok())
}

impl Router for Providers {
    fn provider(&self, address: &Address, attributes: &Attributes) -> Result<Arc<dyn Provider>, ProviderError> {
        if !address.kind.is_kubernetes() {
            return Err(ProviderError {
                kind: ErrorKind::Rejected,
                message: format!(
                    "{address} is an Azure Resource Manager resource, which aksform cannot apply yet; \
                     apply the Kubernetes objects alone with --target namespace --target service --target ingress"
                ),
            });
        }
        let cluster = cluster_of(attributes).ok_or_else(|| ProviderError {
            kind: ErrorKind::Rejected,
            message: format!("{address} names no cluster"),
        })?;
        self.kube.get(&cluster).cloned().ok_or_else(|| ProviderError {
            kind: ErrorKind::Unauthorized,
            message: format!("no credentials for {cluster}: pass --kubeconfig {cluster}=PATH[#CONTEXT]"),
        })
    }
}
