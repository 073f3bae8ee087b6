//! The application routing add-on inside a cluster, as AKS runs it when
//! `ingressProfile.webAppRouting.enabled` is set: a managed NGINX ingress controller in
//! `app-routing-system` behind a LoadBalancer Service (which the cloud-controller loop gives a
//! public IP in the node resource group), the Ingress class it serves, and the controller's
//! part in every Ingress of that class: writing the load balancer's address into its status.
//! No NGINX runs: the sandbox routes no traffic, it only reports what AKS reports.

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, Service};
use k8s_openapi::api::networking::v1::{Ingress, IngressClass};
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::address::Address;
use super::resources::web_app_routing_enabled;
use super::state::Shared;

/// The Ingress class the add-on's controller serves.
pub const CLASS: &str = "webapprouting.kubernetes.azure.com";
/// Where the add-on's controller runs, and the name of its LoadBalancer Service.
pub const NAMESPACE: &str = "app-routing-system";
pub const SERVICE: &str = "nginx";
const CONTROLLER: &str = "webapprouting.kubernetes.azure.com/nginx";
const FIELD_MANAGER: &str = "aks-app-routing-operator";
/// How long removing the add-on waits for the namespace controller to empty its namespace.
const NAMESPACE_DELETE_WAIT: Duration = Duration::from_secs(120);
/// The annotation that named an Ingress's class before `spec.ingressClassName`.
const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

/// Deploys the add-on into the cluster or removes it, as the cluster's stored profile says.
/// Part of the cluster's operation: AKS reports it done once the add-on is in place.
pub async fn converge(shared: &Arc<Shared>, cluster: &Address) -> Result<(), String> {
    let enabled = match shared.store().get(cluster) {
        Some(resource) => web_app_routing_enabled(&resource.body),
        None => return Ok(()),
    };
    let Some(access) = shared.planes.access(&cluster.key()) else { return Ok(()) };
    let client = super::cloud_controller::client(&access.kubeconfig).await?;
    if enabled { deploy(&client).await } else { remove(&client).await }.map_err(|error| error.to_string())
}

fn labels() -> serde_json::Value {
    json!({ "app.kubernetes.io/managed-by": FIELD_MANAGER, "app.kubernetes.io/component": "ingress-controller" })
}

async fn deploy(client: &Client) -> Result<(), kube::Error> {
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let namespace = json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": { "name": NAMESPACE, "labels": labels() }
    });
    Api::<Namespace>::all(client.clone()).patch(NAMESPACE, &params, &Patch::Apply(&namespace)).await?;
    let class = json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
        "metadata": { "name": CLASS, "labels": labels() },
        "spec": { "controller": CONTROLLER }
    });
    Api::<IngressClass>::all(client.clone()).patch(CLASS, &params, &Patch::Apply(&class)).await?;
    let service = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": { "name": SERVICE, "namespace": NAMESPACE, "labels": labels() },
        "spec": {
            "type": "LoadBalancer",
            "externalTrafficPolicy": "Local",
            "selector": { "app": "nginx" },
            "ports": [
                { "name": "http", "port": 80, "targetPort": "http", "protocol": "TCP" },
                { "name": "https", "port": 443, "targetPort": "https", "protocol": "TCP" }
            ]
        }
    });
    Api::<Service>::namespaced(client.clone(), NAMESPACE).patch(SERVICE, &params, &Patch::Apply(&service)).await?;
    Ok(())
}

/// Removes the add-on and waits until its namespace is gone, so that enabling it again right
/// after finds none being terminated.
async fn remove(client: &Client) -> Result<(), kube::Error> {
    delete(Api::<Service>::namespaced(client.clone(), NAMESPACE), SERVICE).await?;
    delete(Api::<IngressClass>::all(client.clone()), CLASS).await?;
    let namespaces = Api::<Namespace>::all(client.clone());
    delete(namespaces.clone(), NAMESPACE).await?;
    let started = Instant::now();
    while namespaces.get_opt(NAMESPACE).await?.is_some() && started.elapsed() < NAMESPACE_DELETE_WAIT {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

async fn delete<K>(api: Api<K>, name: &str) -> Result<(), kube::Error>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
{
    match api.delete(name, &DeleteParams::background()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.is_not_found() => Ok(()),
        Err(error) => Err(error),
    }
}

/// True for an Ingress the add-on's controller serves.
pub fn serves(ingress: &Ingress) -> bool {
    let class =
        ingress.spec.as_ref().and_then(|spec| spec.ingress_class_name.as_deref()).or_else(|| {
            ingress.metadata.annotations.as_ref().and_then(|a| a.get(CLASS_ANNOTATION)).map(String::as_str)
        });
    class == Some(CLASS) && ingress.metadata.deletion_timestamp.is_none()
}

/// The address an Ingress's status shows.
fn reported(ingress: &Ingress) -> Option<&str> {
    let status = ingress.status.as_ref()?.load_balancer.as_ref()?.ingress.as_ref()?;
    status.first()?.ip.as_deref()
}

/// Writes the controller's address (none while it has none, or once the add-on is gone) into
/// the status of every Ingress of its class that does not show it yet.
pub async fn publish(client: &Client, ingresses: &[Arc<Ingress>], address: Option<&str>) -> Result<(), kube::Error> {
    for ingress in ingresses.iter().filter(|ingress| serves(ingress)) {
        if reported(ingress) == address {
            continue;
        }
        let (Some(namespace), Some(name)) = (&ingress.metadata.namespace, &ingress.metadata.name) else { continue };
        let points = match address {
            Some(ip) => json!([{ "ip": ip }]),
            None => json!([]),
        };
        let patch = json!({ "status": { "loadBalancer": { "ingress": points } } });
        let api: Api<Ingress> = Api::namespaced(client.clone(), namespace);
        match api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch)).await {
            Ok(_) => {}
            // Deleted since it was listed.
            Err(kube::Error::Api(status)) if status.is_not_found() => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}
