//! Provider ids of Kubernetes objects: `k8s://<cluster address>/<apiVersion>/<Kind>/<namespace or _>/<name>`.

use std::fmt;

use crate::model::{Address, Kind};

/// Why a provider id names no object of the cluster this provider manages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectIdError {
    #[error("`{id}` is not the id of a Kubernetes object of {cluster}")]
    NotOurs { id: String, cluster: Address },
    #[error("`{id}`: aksform does not manage {api_version} {kind} objects")]
    Unmanaged { id: String, api_version: String, kind: String },
}

/// The kinds of object the provider manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    Namespace,
    Service,
    Ingress,
}

impl ObjectKind {
    pub const ALL: [ObjectKind; 3] = [ObjectKind::Namespace, ObjectKind::Service, ObjectKind::Ingress];

    /// The kind of object behind a resource address, if it is a Kubernetes one.
    pub fn of(kind: Kind) -> Option<ObjectKind> {
        match kind {
            Kind::Namespace => Some(ObjectKind::Namespace),
            Kind::Service => Some(ObjectKind::Service),
            Kind::Ingress => Some(ObjectKind::Ingress),
            _ => None,
        }
    }

    pub fn resource_kind(self) -> Kind {
        match self {
            ObjectKind::Namespace => Kind::Namespace,
            ObjectKind::Service => Kind::Service,
            ObjectKind::Ingress => Kind::Ingress,
        }
    }

    pub fn api_version(self) -> &'static str {
        match self {
            ObjectKind::Namespace | ObjectKind::Service => "v1",
            ObjectKind::Ingress => "networking.k8s.io/v1",
        }
    }

    /// The Kubernetes `kind`.
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Namespace => "Namespace",
            ObjectKind::Service => "Service",
            ObjectKind::Ingress => "Ingress",
        }
    }

    pub fn is_namespaced(self) -> bool {
        self != ObjectKind::Namespace
    }
}

/// One object of one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectId {
    pub kind: ObjectKind,
    /// `None` for cluster-scoped objects (Namespaces).
    pub namespace: Option<String>,
    pub name: String,
}

/// Stands for "no namespace" in a provider id; no namespace can be called that.
const CLUSTER_SCOPE: &str = "_";

impl ObjectId {
    pub fn provider_id(&self, cluster: &Address) -> String {
        format!(
            "k8s://{cluster}/{}/{}/{}/{}",
            self.kind.api_version(),
            self.kind.name(),
            self.namespace.as_deref().unwrap_or(CLUSTER_SCOPE),
            self.name
        )
    }

    /// Parses an id made by [`provider_id`](Self::provider_id) for `cluster`; says why not otherwise.
    pub fn parse(id: &str, cluster: &Address) -> Result<ObjectId, ObjectIdError> {
        let not_ours = || ObjectIdError::NotOurs { id: id.to_string(), cluster: cluster.clone() };
        let rest = id.strip_prefix("k8s://").ok_or_else(not_ours)?;
        let rest =
            rest.strip_prefix(cluster.to_string().as_str()).and_then(|r| r.strip_prefix('/')).ok_or_else(not_ours)?;
        // The api version may hold a slash (`networking.k8s.io/v1`), so split from the right.
        let mut parts = rest.rsplitn(4, '/');
        let (Some(name), Some(namespace), Some(kind), Some(api_version)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(not_ours());
        };
        let kind = ObjectKind::ALL
            .into_iter()
            .find(|k| k.name() == kind && k.api_version() == api_version)
            .ok_or_else(|| ObjectIdError::Unmanaged {
                id: id.to_string(),
                api_version: api_version.to_string(),
                kind: kind.to_string(),
            })?;
        let namespace = match (kind.is_namespaced(), namespace) {
            (false, CLUSTER_SCOPE) => None,
            (true, ns) if ns != CLUSTER_SCOPE && !ns.is_empty() => Some(ns.to_string()),
            _ => return Err(not_ours()),
        };
        if name.is_empty() {
            return Err(not_ours());
        }
        Ok(ObjectId { kind, namespace, name: name.to_string() })
    }
}

impl fmt::Display for ObjectId {
    /// `Service shop/web`, `Namespace shop`: how messages name the object.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind.name(), self.name),
            None => write!(f, "{} {}", self.kind.name(), self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        let cluster = Address::new(Kind::Cluster, "shop");
        let service = ObjectId { kind: ObjectKind::Service, namespace: Some("shop".into()), name: "web".into() };
        assert_eq!(service.provider_id(&cluster), "k8s://cluster.shop/v1/Service/shop/web");
        let ingress = ObjectId { kind: ObjectKind::Ingress, namespace: Some("shop".into()), name: "front".into() };
        assert_eq!(ingress.provider_id(&cluster), "k8s://cluster.shop/networking.k8s.io/v1/Ingress/shop/front");
        let namespace = ObjectId { kind: ObjectKind::Namespace, namespace: None, name: "shop".into() };
        assert_eq!(namespace.provider_id(&cluster), "k8s://cluster.shop/v1/Namespace/_/shop");
        for id in [service, ingress, namespace] {
            assert_eq!(ObjectId::parse(&id.provider_id(&cluster), &cluster), Ok(id));
        }
    }

    #[test]
    fn ids_of_other_clusters_and_kinds_are_refused() {
        let cluster = Address::new(Kind::Cluster, "shop");
        let other = Address::new(Kind::Cluster, "shop2");
        let id = ObjectId { kind: ObjectKind::Service, namespace: Some("a".into()), name: "b".into() };
        assert!(ObjectId::parse(&id.provider_id(&other), &cluster).unwrap_err().to_string().contains("cluster.shop"));
        assert!(
            ObjectId::parse("k8s://cluster.shop/apps/v1/Deployment/a/b", &cluster)
                .unwrap_err()
                .to_string()
                .contains("Deployment")
        );
        assert!(ObjectId::parse("k8s://cluster.shop/v1/Service/_/b", &cluster).is_err());
        assert!(ObjectId::parse("k8s://cluster.shop/v1/Namespace/x/b", &cluster).is_err());
        assert!(ObjectId::parse("/subscriptions/x", &cluster).is_err());
    }
}
