//! `aksform generate --from-cluster ID`: onboarding of a running AKS cluster. Reads the
//! cluster, its resource group, the network its pools use, the public IPs its LoadBalancer
//! Services use, the DNS zones of its resource group and, through its credentials, the
//! namespaces, Services and Ingresses inside it; writes the stack
//! ([`crate::model::generate`]) with an import block for every resource it manages.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;

use super::output::Output;
use super::providers::{ProviderArgs, Providers};
use crate::diag::SourceMap;
use crate::model::generate::{self, ClusterRead, GroupRead, ObjectRead, Read, RecordRead, VnetRead};
use crate::model::{Address, Kind, Resource, Value};
use crate::providers::arm::{ArmProvider, Resolver};
use crate::providers::kube::ObjectKind;

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The managed cluster's ARM id:
    /// /subscriptions/SUB/resourceGroups/GROUP/providers/Microsoft.ContainerService/managedClusters/NAME.
    #[arg(long = "from-cluster", value_name = "ID")]
    from_cluster: String,
    /// Only the objects of this namespace (repeatable); system namespaces are left out otherwise.
    #[arg(long = "namespace", value_name = "NS")]
    namespaces: Vec<String>,
    /// The name of the stack written (the cluster's name by default): the one a state
    /// records, to plan the stack with the state of the stack that made the cluster.
    #[arg(long, value_name = "NAME")]
    stack: Option<String>,
    /// Write `main.aks`, `kubernetes.aks` and `imports.aks` into this folder instead of
    /// printing one file.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    providers: ProviderArgs,
}

/// The parts of a managed cluster's id.
struct ClusterId {
    subscription: String,
    group: String,
    name: String,
}

fn parse_id(id: &str) -> Result<ClusterId, String> {
    let parts: Vec<&str> = id.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["subscriptions", subscription, groups, group, "providers", provider, clusters, name]
            if groups.eq_ignore_ascii_case("resourceGroups")
                && provider.eq_ignore_ascii_case("Microsoft.ContainerService")
                && clusters.eq_ignore_ascii_case("managedClusters") =>
        {
            Ok(ClusterId { subscription: subscription.to_string(), group: group.to_string(), name: name.to_string() })
        }
        _ => Err(format!(
            "--from-cluster {id}: not the id of a managed cluster\nhint: expected \
             /subscriptions/SUBSCRIPTION/resourceGroups/GROUP/providers/Microsoft.ContainerService/managedClusters/NAME; \
             `az aks list --query [].id -o tsv` lists them"
        )),
    }
}

pub fn run(args: &GenerateArgs, out: &Output) -> u8 {
    let id = match parse_id(&args.from_cluster) {
        Ok(id) => id,
        Err(message) => {
            out.error(&message);
            return 1;
        }
    };
    if let Some(dir) = &args.out
        && let Err(message) = check_out(dir)
    {
        out.error(&message);
        return 1;
    }
    let runtime = match super::runtime(out) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let result = runtime.block_on(generate_stack(args, &id));
    let (files, notes) = match result {
        Ok(done) => done,
        Err(message) => {
            out.error(&message);
            return 1;
        }
    };
    for note in notes {
        eprintln!("note: {note}");
    }
    match &args.out {
        None => super::output::stdout(&format!("{}\n{}\n{}", files.azure, files.kubernetes, files.imports)),
        Some(dir) => {
            for (name, text) in
                [("main.aks", &files.azure), ("kubernetes.aks", &files.kubernetes), ("imports.aks", &files.imports)]
            {
                let path = dir.join(name);
                if let Err(e) = std::fs::write(&path, text) {
                    out.error(&format!("cannot write {}: {e}", path.display()));
                    return 1;
                }
            }
            eprintln!("Wrote {}: `aksform plan {}` shows the imports and no changes.", dir.display(), dir.display());
        }
    }
    0
}

/// The folder may exist, but without `.aks` files: a stack is never written over.
fn check_out(dir: &Path) -> Result<(), String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()));
    };
    let taken: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "aks"))
        .map(|p| p.display().to_string())
        .collect();
    if taken.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "--out {}: it holds .aks files already ({}); nothing was written\nhint: give an empty or new folder",
            dir.display(),
            taken.join(", ")
        ))
    }
}

/// The generated files.
struct Files {
    azure: String,
    kubernetes: String,
    imports: String,
}

fn text(read: &Read, key: &str) -> Option<String> {
    read.get(key).and_then(Value::as_str).map(str::to_string)
}

/// The id of a child (`/subnets/x`) without its last two segments: its parent's.
fn parent_of(id: &str) -> &str {
    id.rsplitn(3, '/').nth(2).unwrap_or(id)
}

fn group_of(id: &str) -> String {
    id.split('/').nth(4).unwrap_or_default().to_string()
}

async fn read(arm: &ArmProvider, address: &Address, path: &str) -> Result<Option<Read>, String> {
    arm.read_existing(address, path).await.map_err(|e| e.message)
}

async fn generate_stack(args: &GenerateArgs, id: &ClusterId) -> Result<(Files, Vec<String>), String> {
    let mut notes = Vec::new();
    let cluster_path = args.from_cluster.trim_end_matches('/').to_string();
    let cluster_address = Address::new(Kind::Cluster, id.name.clone());
    let placeholder = Resource {
        address: cluster_address.clone(),
        attributes: [("name", Value::str(&id.name)), ("resource_group", Value::str(&id.group))]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        computed: &[],
        depends_on: Vec::new(),
        span: crate::diag::Span::new(crate::diag::FileId(0), 0, 0),
        allow_replace: false,
        existing: false,
    };
    let providers = Providers::new(&args.providers, Some(id.subscription.clone()), &[placeholder], None);
    let arm = providers.arm().map_err(|e| e.to_string())?;
    let cluster = read(&arm, &cluster_address, &cluster_path).await?.ok_or_else(|| {
        format!(
            "--from-cluster {}: there is no such managed cluster\nhint: check the subscription, the resource group and \
             the name; `az aks list --query [].id -o tsv` lists the clusters you can see",
            args.from_cluster
        )
    })?;
    let group_path = format!("/subscriptions/{}/resourceGroups/{}", id.subscription, id.group);
    let group =
        read(&arm, &Address::new(Kind::ResourceGroup, id.group.clone()), &group_path).await?.unwrap_or_default();
    let location = text(&cluster, "location").unwrap_or_else(|| "westeurope".into()).to_lowercase();
    let mut pools = Vec::new();
    let listed = arm.children(Kind::NodePool, &cluster_path).await.map_err(|e| e.message)?;
    for (name, pool_id) in listed {
        if let Some(pool) = read(&arm, &cluster_address.child(Kind::NodePool, name.clone()), &pool_id).await? {
            pools.push((name, pool));
        }
    }
    // System pools first: the first pool is the system pool unless its block says otherwise.
    pools.sort_by_key(|(name, pool)| (text(pool, "mode").as_deref() != Some("System"), name.clone()));

    let mut stack = ClusterRead {
        stack: args.stack.clone().unwrap_or_else(|| id.name.clone()),
        subscription: id.subscription.clone(),
        location: location.clone(),
        groups: vec![GroupRead { label: id.group.clone(), attributes: group, existing: false }],
        cluster_label: id.name.clone(),
        cluster,
        pools,
        ..ClusterRead::default()
    };
    let mut existing_values = BTreeMap::new();
    // The vnets of the pools' subnets, each read once, with its subnets.
    let subnet_ids: Vec<String> = stack
        .pools
        .iter()
        .flat_map(|(_, p)| [text(p, "subnet"), text(p, "pod_subnet")])
        .flatten()
        .filter(|s| s.starts_with("/subscriptions/"))
        .collect();
    let mut vnet_ids: Vec<String> = subnet_ids.iter().map(|s| parent_of(s).to_string()).collect();
    vnet_ids.sort_by_key(|v| v.to_lowercase());
    vnet_ids.dedup_by_key(|v| v.to_lowercase());
    for vnet_id in vnet_ids {
        let vnet_group = group_of(&vnet_id);
        let existing = !vnet_group.eq_ignore_ascii_case(&id.group);
        let label = vnet_id.rsplit('/').next().unwrap_or_default().to_string();
        let address = Address::new(Kind::Vnet, label.clone());
        let Some(attributes) = read(&arm, &address, &vnet_id).await? else {
            return Err(format!("{}: the node pools use {vnet_id}, which cannot be read", cluster_address));
        };
        if existing && !stack.groups.iter().any(|g| g.label.eq_ignore_ascii_case(&vnet_group)) {
            let group_address = Address::new(Kind::ResourceGroup, vnet_group.clone());
            let path = format!("/subscriptions/{}/resourceGroups/{vnet_group}", id.subscription);
            let read_group = read(&arm, &group_address, &path).await?.unwrap_or_default();
            existing_values.insert(group_address, read_group.clone());
            stack.groups.push(GroupRead { label: vnet_group.clone(), attributes: read_group, existing: true });
        }
        let mut subnets = Vec::new();
        for (name, subnet_id) in arm.children(Kind::Subnet, &vnet_id).await.map_err(|e| e.message)? {
            // An existing vnet names only the subnets the stack uses.
            if existing && !subnet_ids.iter().any(|s| s.eq_ignore_ascii_case(&subnet_id)) {
                continue;
            }
            let subnet_address = address.child(Kind::Subnet, name.clone());
            if let Some(subnet) = read(&arm, &subnet_address, &subnet_id).await? {
                stack.subnet_references.insert(
                    subnet_id.to_lowercase(),
                    format!("vnet.{}.subnet.{}", generate::segment(&label), generate::segment(&name)),
                );
                if existing {
                    existing_values.insert(subnet_address, subnet.clone());
                }
                subnets.push((name, subnet));
            }
        }
        if existing {
            existing_values.insert(address, attributes.clone());
        }
        stack.vnets.push(VnetRead { label, attributes, subnets, resource_group: vnet_group, existing });
    }

    let kube = providers.kube(&cluster_address).await.map_err(|e| e.message)?;
    let wanted = |namespace: &str| {
        if args.namespaces.is_empty() {
            !generate::SYSTEM_NAMESPACES.contains(&namespace)
        } else {
            args.namespaces.iter().any(|n| n == namespace)
        }
    };
    let namespace_of = |read: &Read| text(read, "namespace").unwrap_or_default();
    for namespace in kube.read_all(ObjectKind::Namespace, generate::is_own_key).await.map_err(|e| e.message)? {
        let name = text(&namespace, "name").unwrap_or_default();
        // `default` is the cluster's own: its objects name it, and it is not managed.
        if wanted(&name) && name != "default" {
            stack.namespaces.push(ObjectRead { label: name, attributes: namespace });
        }
    }
    let services: Vec<Read> = kube
        .read_all(ObjectKind::Service, generate::is_own_key)
        .await
        .map_err(|e| e.message)?
        .into_iter()
        .filter(|s| wanted(&namespace_of(s)))
        .filter(|s| !(namespace_of(s) == "default" && text(s, "name").as_deref() == Some("kubernetes")))
        .collect();
    stack.services = labelled(services);
    let ingresses: Vec<Read> = kube
        .read_all(ObjectKind::Ingress, generate::is_own_key)
        .await
        .map_err(|e| e.message)?
        .into_iter()
        .filter(|i| wanted(&namespace_of(i)))
        .collect();
    stack.ingresses = labelled(ingresses);

    // The public IPs the LoadBalancer Services name, in the node resource group unless the
    // Service names another.
    let node_group = text(&stack.cluster, "node_resource_group").unwrap_or_default();
    let cluster_reference = format!("cluster.{}", generate::segment(&stack.cluster_label));
    for service in stack.services.clone() {
        let Some(Value::Map(settings)) = service.attributes.get("load_balancer") else { continue };
        let Some(name) = settings.get("public_ip").and_then(Value::as_str) else { continue };
        if stack.public_ips.iter().any(|(label, _, _)| label == name) {
            continue;
        }
        let group = settings.get("resource_group").and_then(Value::as_str).unwrap_or(&node_group).to_string();
        let group_reference = if group.eq_ignore_ascii_case(&node_group) {
            format!("{cluster_reference}.node_resource_group")
        } else if group.eq_ignore_ascii_case(&id.group) {
            format!("resource_group.{}", generate::segment(&id.group))
        } else {
            notes.push(format!(
                "service {}'s public IP {name} is in {group}, outside the cluster's resource groups: it is named, not managed",
                service.label
            ));
            continue;
        };
        let path = crate::providers::arm::resource_path(Kind::PublicIp, &id.subscription, &group, name, None)
            .unwrap_or_default();
        if let Some(ip) = read(&arm, &Address::new(Kind::PublicIp, name), &path).await? {
            stack.public_ips.push((name.to_string(), ip, group_reference));
        }
    }
    for (name, zone_id) in arm.children(Kind::DnsZone, &group_path).await.map_err(|e| e.message)? {
        if let Some(zone) = read(&arm, &Address::new(Kind::DnsZone, name.clone()), &zone_id).await? {
            stack.dns_zones.push((name.clone(), zone, id.group.clone()));
            stack.dns_records.extend(records(&arm, &name, &zone_id, &mut notes).await?);
        }
    }
    label_records(&mut stack.dns_records);
    let skipped: Vec<usize> = (0..stack.ingresses.len())
        .filter(|&i| !generate::missing_backends(&stack, &stack.ingresses[i].attributes).is_empty())
        .collect();
    for i in skipped.into_iter().rev() {
        let ingress = stack.ingresses.remove(i);
        notes.push(format!(
            "ingress {} is left out: it routes to Services the stack does not hold ({})",
            ingress.label,
            generate::missing_backends(&stack, &ingress.attributes).join(", ")
        ));
    }

    let generated = generate::generate(&stack)?;
    let imports = imports(&arm, &generated, existing_values, &id.subscription, &mut notes).await?;
    let imports = generate::import_blocks(&imports)?;
    Ok((Files { azure: generated.azure, kubernetes: generated.kubernetes, imports }, notes))
}

/// The A and CNAME record sets of a zone (labelled by their names for now); the others
/// (the zone's own NS and SOA, and types aksform does not manage) are left out, noted.
async fn records(
    arm: &ArmProvider,
    zone: &str,
    zone_id: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<RecordRead>, String> {
    let mut out = Vec::new();
    for (name, record_id) in arm.children(Kind::DnsRecord, zone_id).await.map_err(|e| e.message)? {
        // `.../dnszones/ZONE/TYPE/NAME`
        let record_type = record_id.rsplit('/').nth(1).unwrap_or_default().to_ascii_uppercase();
        match record_type.as_str() {
            "A" | "CNAME" => {}
            "NS" | "SOA" if name == "@" => continue,
            other => {
                notes.push(format!("record {name} ({other}) in zone {zone} is left out: aksform manages A and CNAME"));
                continue;
            }
        }
        if let Some(mut attributes) = read(arm, &Address::new(Kind::DnsRecord, name.clone()), &record_id).await? {
            attributes.insert("zone".into(), Value::str(zone));
            out.push(RecordRead { label: name, zone: zone.to_string(), attributes });
        }
    }
    Ok(out)
}

/// Record sets labelled by their names: `apex` for the zone's own (`@`), and
/// `NAME.ZONE` for a name in several zones.
fn label_records(records: &mut [RecordRead]) {
    for record in records.iter_mut().filter(|r| r.label == "@") {
        record.label = "apex".to_string();
    }
    let labels: Vec<String> = records.iter().map(|r| r.label.clone()).collect();
    for record in records.iter_mut() {
        if labels.iter().filter(|l| **l == record.label).count() > 1 {
            record.label = format!("{}.{}", record.label, record.zone);
        }
    }
}

/// Objects with the labels of their blocks: their names, or `NAMESPACE-NAME` where a name is
/// in several namespaces.
fn labelled(objects: Vec<Read>) -> Vec<ObjectRead> {
    let name = |o: &Read| text(o, "name").unwrap_or_default();
    let names: Vec<String> = objects.iter().map(name).collect();
    objects
        .into_iter()
        .map(|o| {
            let own = name(&o);
            let label = if names.iter().filter(|n| **n == own).count() > 1 {
                format!("{}-{own}", text(&o, "namespace").unwrap_or_default())
            } else {
                own
            };
            ObjectRead { label, attributes: o }
        })
        .collect()
}

/// The (address, id) of every resource the generated stack manages, as `aksform import`
/// takes them: the stack is loaded, and each id is the one its block names. A role
/// assignment the cluster needs and does not have yet is left to the plan to create.
async fn imports(
    arm: &ArmProvider,
    generated: &generate::Generated,
    existing: crate::model::existing::ExistingValues,
    subscription: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<(String, String)>, String> {
    let mut sources = SourceMap::new();
    sources.add("main.aks", "main.aks", generated.azure.clone());
    sources.add("kubernetes.aks", "kubernetes.aks", generated.kubernetes.clone());
    let options = crate::loading::Options { existing, ..crate::loading::Options::default() };
    let loaded = crate::loading::from_sources_with(sources, Vec::new(), None, &options, &|_| None);
    if loaded.diagnostics.has_errors() {
        let messages: Vec<String> = loaded.diagnostics.0.iter().map(|d| d.message.clone()).collect();
        return Err(format!(
            "the generated stack does not validate ({}); this is a fault of `aksform generate`, please report it with \
             the stack:\n{}\n{}",
            messages.join("; "),
            generated.azure,
            generated.kubernetes
        ));
    }
    let desired = loaded.stack.resources();
    let resolver = Resolver::new(Some(subscription.to_string()), &desired, None);
    let mut out = Vec::new();
    for resource in desired.iter().filter(|r| !r.existing) {
        let address = &resource.address;
        let id = match ObjectKind::of(address.kind) {
            None => resolver.path_of(address).map_err(|e| e.message)?,
            Some(kind) => {
                // `NAMESPACE/NAME`, or `NAME` for a namespace.
                let name = text(&resource.attributes, "name").unwrap_or_default();
                match kind.is_namespaced().then(|| text(&resource.attributes, "namespace")).flatten() {
                    Some(namespace) => format!("{namespace}/{name}"),
                    None => name,
                }
            }
        };
        // Role assignments are not imported: plan makes each one, and Azure keeps the one there.
        if address.kind == Kind::RoleAssignment {
            if read(arm, address, &id).await?.is_none() {
                notes.push(format!("{address} is not there yet: the plan creates it"));
            }
            continue;
        }
        out.push((address.to_string(), id));
    }
    Ok(out)
}
