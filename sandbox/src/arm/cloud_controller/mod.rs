//! The cloud-controller loop: for every cluster, watches its Services and does what AKS's cloud
//! provider does for the LoadBalancer ones (see [`plan`]), then writes
//! `status.loadBalancer.ingress` and a Warning event when it cannot. It also watches the
//! Ingresses, for the application routing add-on's controller to report its address on them.

mod plan;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Event, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Client, Config};
use serde_json::json;

use super::address::Address;
use super::app_routing;
use super::state::Shared;

pub use plan::{Outcome, ServiceView, reconcile};

/// How often the loop looks again without a change in the cluster (a public IP may have been
/// created in ARM since).
const RESYNC: Duration = Duration::from_millis(500);

/// Starts the loop of one cluster unless it runs already; it ends when the cluster is deleted.
pub fn watch_cluster(shared: &Arc<Shared>, cluster: &Address) {
    if !shared.planes.begin_watch(&cluster.key()) {
        return;
    }
    let shared = Arc::clone(shared);
    let cluster = cluster.clone();
    tokio::spawn(async move {
        let key = cluster.key();
        if let Err(error) = run(&shared, &cluster).await {
            eprintln!("aksform-sandbox: the cloud-controller loop of {} stopped: {error}", cluster.id());
        }
        shared.planes.end_watch(&key);
    });
}

pub(super) async fn client(kubeconfig: &str) -> Result<Client, String> {
    let kubeconfig = Kubeconfig::from_yaml(kubeconfig).map_err(|error| error.to_string())?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|error| error.to_string())?;
    Client::try_from(config).map_err(|error| error.to_string())
}

async fn run(shared: &Arc<Shared>, cluster: &Address) -> Result<(), String> {
    let key = cluster.key();
    let Some(access) = shared.planes.access(&key) else { return Ok(()) };
    let client = client(&access.kubeconfig).await?;
    let services: Api<Service> = Api::all(client.clone());
    let (reader, writer) = reflector::store();
    let stream = reflector(writer, watcher(services, watcher::Config::default())).default_backoff();
    let mut stream = std::pin::pin!(stream);
    let (ingress_reader, ingress_writer) = reflector::store();
    let ingresses = reflector(ingress_writer, watcher(Api::<Ingress>::all(client.clone()), watcher::Config::default()))
        .default_backoff();
    let mut ingresses = std::pin::pin!(ingresses);
    let mut reported: HashMap<String, Outcome> = HashMap::new();
    let mut ticker = tokio::time::interval(RESYNC);
    let mut listed = false;
    loop {
        tokio::select! {
            event = stream.next() => {
                // The store is complete once the first listing is in.
                if let Some(Ok(watcher::Event::InitDone)) = event {
                    listed = true;
                }
            }
            _ = ingresses.next() => {}
            _ = ticker.tick() => {}
        }
        if shared.store().get(cluster).is_none() || shared.planes.access(&key).is_none() {
            return Ok(());
        }
        if !listed {
            continue;
        }
        let views: Vec<ServiceView> = reader.state().iter().filter_map(|service| view(service)).collect();
        let outcomes = {
            let mut store = shared.store();
            match reconcile(&mut store, cluster, &views, shared.authorization) {
                Some(outcomes) => outcomes,
                None => return Ok(()),
            }
        };
        let controller = controller_address(shared, cluster, &outcomes);
        if let Err(error) = app_routing::publish(&client, &ingress_reader.state(), controller.as_deref()).await {
            eprintln!("aksform-sandbox: updating Ingress status in {}: {error}", cluster.id());
        }
        // Keyed by uid: a Service deleted and made again under its name is a new one to report.
        for outcome in outcomes {
            let current = reader.state().into_iter().find(|s| {
                s.metadata.namespace.as_deref() == Some(outcome.namespace.as_str())
                    && s.metadata.name.as_deref() == Some(outcome.name.as_str())
            });
            let Some(current) = current else { continue };
            let uid = current.metadata.uid.clone().unwrap_or_default();
            if reported.get(&uid) == Some(&outcome) {
                continue;
            }
            match report(&client, &current, &outcome).await {
                Ok(()) => {
                    reported.insert(uid, outcome);
                }
                Err(error) => eprintln!(
                    "aksform-sandbox: updating Service {}/{} in {}: {error}",
                    outcome.namespace,
                    outcome.name,
                    cluster.id()
                ),
            }
        }
        reported.retain(|uid, _| views.iter().any(|view| view.uid == *uid));
    }
}

/// The address of the application routing add-on's controller: its Service's frontend, while
/// the add-on is enabled.
fn controller_address(shared: &Shared, cluster: &Address, outcomes: &[Outcome]) -> Option<String> {
    let enabled = shared.store().get(cluster).is_some_and(|c| super::resources::web_app_routing_enabled(&c.body));
    outcomes
        .iter()
        .find(|o| enabled && o.namespace == app_routing::NAMESPACE && o.name == app_routing::SERVICE)
        .and_then(|o| o.ingress_ip.clone())
}

/// A LoadBalancer Service as the plan reads it; `None` for other types and Services being
/// deleted.
fn view(service: &Service) -> Option<ServiceView> {
    let spec = service.spec.as_ref()?;
    if spec.type_.as_deref() != Some("LoadBalancer") || service.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let ports = spec
        .ports
        .iter()
        .flatten()
        .filter_map(|port| {
            let number = u16::try_from(port.port).ok()?;
            let node_port = port.node_port.and_then(|p| u16::try_from(p).ok());
            Some((port.protocol.clone().unwrap_or_else(|| "TCP".into()), number, node_port))
        })
        .collect();
    Some(ServiceView {
        namespace: service.metadata.namespace.clone()?,
        name: service.metadata.name.clone()?,
        uid: service.metadata.uid.clone()?,
        annotations: service.metadata.annotations.clone().unwrap_or_default(),
        load_balancer_ip: spec.load_balancer_ip.clone(),
        ports,
    })
}

/// Writes the Service's status, and a Warning event when the load balancer could not be made.
async fn report(client: &Client, service: &Service, outcome: &Outcome) -> Result<(), kube::Error> {
    let api: Api<Service> = Api::namespaced(client.clone(), &outcome.namespace);
    let ingress = match &outcome.ingress_ip {
        Some(ip) => json!([{ "ip": ip, "ipMode": "VIP" }]),
        None => json!([]),
    };
    let current =
        service.status.as_ref().and_then(|status| status.load_balancer.as_ref()).and_then(|lb| lb.ingress.as_ref());
    let current_ip = current.and_then(|ingress| ingress.first()).and_then(|first| first.ip.clone());
    if current_ip != outcome.ingress_ip {
        let patch = json!({ "status": { "loadBalancer": { "ingress": ingress } } });
        api.patch_status(&outcome.name, &PatchParams::default(), &Patch::Merge(&patch)).await?;
    }
    if let Some(message) = &outcome.warning {
        let now = jiff::Timestamp::now().to_string();
        let event = json!({
            "metadata": { "generateName": format!("{}.", outcome.name), "namespace": outcome.namespace },
            "involvedObject": {
                "kind": "Service", "apiVersion": "v1", "namespace": outcome.namespace, "name": outcome.name,
                "uid": service.metadata.uid, "resourceVersion": service.metadata.resource_version
            },
            "reason": "SyncLoadBalancerFailed", "message": message, "type": "Warning", "count": 1,
            "firstTimestamp": now, "lastTimestamp": now, "source": { "component": "service-controller" }
        });
        if let Ok(event) = serde_json::from_value::<Event>(event) {
            let events: Api<Event> = Api::namespaced(client.clone(), &outcome.namespace);
            events.create(&PostParams::default(), &event).await?;
        }
    }
    Ok(())
}
