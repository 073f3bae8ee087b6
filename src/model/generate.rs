//! Writing a stack from what runs: the blocks of a cluster, its network, its public IPs and
//! DNS zones, and the namespaces, Services and Ingresses inside it, from the attributes the
//! providers read (the model's form), with values equal to aksform's defaults left out and
//! references between the blocks, in fmt's layout. `aksform generate --from-cluster` reads;
//! this module only writes.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::value::Value;
use crate::diag::FileId;
use crate::syntax::fmt::{is_plain_identifier, quote};

/// Attributes as a provider reads them.
pub type Read = BTreeMap<String, Value>;

/// A vnet the cluster's pools or load balancers use, with the subnets written.
#[derive(Debug, Clone)]
pub struct VnetRead {
    pub label: String,
    pub attributes: Read,
    /// (label, attributes) of each subnet.
    pub subnets: Vec<(String, Read)>,
    /// The label of the resource group block it is in.
    pub resource_group: String,
    /// Used, not managed: in another resource group than the cluster (the network team's).
    pub existing: bool,
}

/// A resource group block: its label, its attributes, and whether it is only used.
#[derive(Debug, Clone)]
pub struct GroupRead {
    pub label: String,
    pub attributes: Read,
    pub existing: bool,
}

/// A DNS record set: the label of its block, the label of its zone's block, and its
/// attributes (`name`, `type`, `ttl`, `records` or `cname`).
#[derive(Debug, Clone)]
pub struct RecordRead {
    pub label: String,
    pub zone: String,
    pub attributes: Read,
}

/// A Kubernetes object to write, with the label of its block.
#[derive(Debug, Clone)]
pub struct ObjectRead {
    pub label: String,
    pub attributes: Read,
}

/// Everything read of a cluster, with the labels its blocks get and the way from what the
/// reads name (ARM subnet ids, Azure and Kubernetes names) to those labels.
#[derive(Debug, Clone, Default)]
pub struct ClusterRead {
    pub stack: String,
    pub subscription: String,
    pub location: String,
    pub groups: Vec<GroupRead>,
    pub vnets: Vec<VnetRead>,
    pub cluster_label: String,
    pub cluster: Read,
    /// (name, attributes) of each node pool.
    pub pools: Vec<(String, Read)>,
    /// (label, attributes, resource group reference) of each public IP.
    pub public_ips: Vec<(String, Read, String)>,
    /// (label, attributes, resource group label) of each DNS zone.
    pub dns_zones: Vec<(String, Read, String)>,
    /// The A and CNAME record sets of those zones.
    pub dns_records: Vec<RecordRead>,
    /// The reference (`vnet.shop.subnet.nodes`) of each subnet, by its lower-case ARM id.
    pub subnet_references: BTreeMap<String, String>,
    pub namespaces: Vec<ObjectRead>,
    pub services: Vec<ObjectRead>,
    pub ingresses: Vec<ObjectRead>,
}

/// The two files of a generated stack: the Azure resources and the Kubernetes objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub azure: String,
    pub kubernetes: String,
}

/// Namespaces that are the cluster's own or its add-ons', left out unless asked for.
pub const SYSTEM_NAMESPACES: &[&str] = &[
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "app-routing-system",
    "gatekeeper-system",
    "calico-system",
    "tigera-operator",
    "aks-command",
    "aks-istio-system",
    "aks-istio-ingress",
    "aks-istio-egress",
    "azure-arc",
];

/// Label and annotation prefixes the cluster, its controllers or kubectl write; not the stack's.
const FOREIGN_KEYS: &[&str] = &[
    "kubernetes.io/",
    "kubectl.kubernetes.io/",
    "service.beta.kubernetes.io/",
    "aksform.io/",
    "app.kubernetes.io/managed-by",
];

/// Whether a label or annotation key is one a stack writes.
pub fn is_own_key(key: &str) -> bool {
    !FOREIGN_KEYS.iter().any(|prefix| key.starts_with(prefix))
}

fn text<'a>(read: &'a Read, key: &str) -> Option<&'a str> {
    read.get(key).and_then(Value::as_str)
}

fn int(read: &Read, key: &str) -> Option<i64> {
    match read.get(key) {
        Some(Value::Int(n)) => Some(*n),
        _ => None,
    }
}

/// A label or name as a reference segment, quoted when it is no plain identifier.
pub fn segment(name: &str) -> String {
    if is_plain_identifier(name) { name.to_string() } else { quote(name) }
}

/// A bare word where the language takes one, else a string.
fn word(text: &str) -> String {
    if is_plain_identifier(text) { text.to_string() } else { quote(text) }
}

fn map_text(map: &BTreeMap<String, Value>) -> String {
    let entries: Vec<String> =
        map.iter().filter_map(|(k, v)| Some(format!("{} = {}", quote(k), quote(v.as_str()?)))).collect();
    format!("{{ {} }}", entries.join("  "))
}

fn list_text(values: &[Value]) -> String {
    let items: Vec<String> = values.iter().filter_map(|v| v.as_str().map(quote)).collect();
    format!("[{}]", items.join(", "))
}

/// `key = { ... }` for a non-empty map of text.
fn map_line(out: &mut String, key: &str, value: Option<&Value>) {
    if let Some(Value::Map(map)) = value
        && !map.is_empty()
    {
        let _ = writeln!(out, "{key} = {}", map_text(map));
    }
}

/// `name = "..."` when the Azure or Kubernetes name is not the label.
fn name_line(out: &mut String, read: &Read, label: &str) {
    if let Some(name) = text(read, "name")
        && name != label
    {
        let _ = writeln!(out, "name = {}", quote(name));
    }
}

/// `location = ...` when it is not the stack's.
fn location_line(out: &mut String, read: &Read, stack_location: &str) {
    if let Some(location) = text(read, "location")
        && !location.eq_ignore_ascii_case(stack_location)
    {
        let _ = writeln!(out, "location = {}", word(&location.to_lowercase()));
    }
}

/// Writes the stack; files that do not parse are an error in this module, reported as such.
pub fn generate(read: &ClusterRead) -> Result<Generated, String> {
    let azure = canonical(&azure_text(read))?;
    let kubernetes = canonical(&kubernetes_text(read))?;
    Ok(Generated { azure, kubernetes })
}

/// Import blocks, one for each (address, id), in fmt's layout.
pub fn import_blocks(imports: &[(String, String)]) -> Result<String, String> {
    let mut out = String::new();
    for (address, id) in imports {
        let _ = writeln!(out, "import {{\n  to = {address}\n  id = {}\n}}\n", quote(id));
    }
    canonical(&out)
}

fn canonical(text: &str) -> Result<String, String> {
    crate::syntax::fmt::format_source(FileId(0), text).map_err(|errors| {
        let messages: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
        format!("the generated stack does not parse ({}):\n{text}", messages.join("; "))
    })
}

fn azure_text(read: &ClusterRead) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "stack {} {{\nsubscription = {}\nlocation = {}\n}}\n",
        quote(&read.stack),
        quote(&read.subscription),
        word(&read.location)
    );
    for group in &read.groups {
        let existing = if group.existing { "existing " } else { "" };
        let _ = writeln!(out, "{existing}resource_group {} {{", quote(&group.label));
        name_line(&mut out, &group.attributes, &group.label);
        if !group.existing {
            location_line(&mut out, &group.attributes, &read.location);
            map_line(&mut out, "tags", group.attributes.get("tags"));
        }
        out.push_str("}\n\n");
    }
    for vnet in &read.vnets {
        vnet_text(&mut out, vnet, &read.location);
    }
    cluster_text(&mut out, read);
    for (label, ip, group) in &read.public_ips {
        public_ip_text(&mut out, label, ip, group, &read.location);
    }
    for (label, zone, group) in &read.dns_zones {
        let _ = writeln!(out, "dns_zone {} {{\nresource_group = resource_group.{}", quote(label), segment(group));
        name_line(&mut out, zone, label);
        map_line(&mut out, "tags", zone.get("tags"));
        out.push_str("}\n\n");
    }
    for record in &read.dns_records {
        record_text(&mut out, read, record);
    }
    out
}

/// A record set's block; an address that is one of a public IP, a Service or an Ingress of
/// the stack is written as a reference to it, so the record follows it.
fn record_text(out: &mut String, read: &ClusterRead, record: &RecordRead) {
    let attributes = &record.attributes;
    let _ = writeln!(out, "dns_record {} {{\nzone = dns_zone.{}", quote(&record.label), segment(&record.zone));
    name_line(out, attributes, &record.label);
    match (attributes.get("records"), text(attributes, "cname")) {
        (Some(Value::List(records)), _) => {
            let values: Vec<String> =
                records.iter().filter_map(Value::as_str).map(|ip| address_reference(read, ip)).collect();
            match values.as_slice() {
                [one] => {
                    let _ = writeln!(out, "a = {one}");
                }
                many => {
                    let _ = writeln!(out, "a = [{}]", many.join(", "));
                }
            }
        }
        (_, Some(cname)) => {
            let _ = writeln!(out, "cname = {}", quote(cname));
        }
        _ => {}
    }
    if let Some(ttl) = int(attributes, "ttl")
        && ttl != DEFAULT_TTL
    {
        let _ = writeln!(out, "ttl = {ttl}");
    }
    out.push_str("}\n\n");
}

/// The TTL a `dns_record` block has unless it says otherwise.
const DEFAULT_TTL: i64 = 300;

/// `public_ip.web.address` (or a Service's or an Ingress's) for the address one of them has,
/// else the address itself.
fn address_reference(read: &ClusterRead, ip: &str) -> String {
    let has = |attributes: &Read| text(attributes, "address") == Some(ip);
    let public_ips = read.public_ips.iter().map(|(label, attributes, _)| ("public_ip", label, attributes));
    let services = read.services.iter().map(|o| ("service", &o.label, &o.attributes));
    let ingresses = read.ingresses.iter().map(|o| ("ingress", &o.label, &o.attributes));
    public_ips
        .chain(services)
        .chain(ingresses)
        .find(|(_, _, attributes)| has(attributes))
        .map_or_else(|| ip.to_string(), |(kind, label, _)| format!("{kind}.{}.address", segment(label)))
}

fn vnet_text(out: &mut String, vnet: &VnetRead, location: &str) {
    let existing = if vnet.existing { "existing " } else { "" };
    let _ = writeln!(
        out,
        "{existing}vnet {} {{\nresource_group = resource_group.{}",
        quote(&vnet.label),
        segment(&vnet.resource_group)
    );
    name_line(out, &vnet.attributes, &vnet.label);
    if !vnet.existing {
        location_line(out, &vnet.attributes, location);
        if let Some(Value::List(space)) = vnet.attributes.get("address_space") {
            let cidrs: Vec<&str> = space.iter().filter_map(Value::as_str).collect();
            let _ = writeln!(out, "address_space = [{}]", cidrs.join(", "));
        }
        if let Some(Value::List(servers)) = vnet.attributes.get("dns_servers")
            && !servers.is_empty()
        {
            let ips: Vec<&str> = servers.iter().filter_map(Value::as_str).collect();
            let _ = writeln!(out, "dns_servers = [{}]", ips.join(", "));
        }
        map_line(out, "tags", vnet.attributes.get("tags"));
    }
    for (label, subnet) in &vnet.subnets {
        let _ = writeln!(out, "\nsubnet {} {{", quote(label));
        name_line(out, subnet, label);
        if !vnet.existing {
            if let Some(prefix) = text(subnet, "prefix") {
                let _ = writeln!(out, "prefix = {prefix}");
            }
            if let Some(Value::List(endpoints)) = subnet.get("service_endpoints")
                && !endpoints.is_empty()
            {
                let _ = writeln!(out, "service_endpoints = {}", list_text(endpoints));
            }
        }
        out.push_str("}\n");
    }
    out.push_str("}\n\n");
}

/// The word for an ARM value written as `camelCase` (`managedNATGateway` → `managed_nat_gateway`).
fn snake(camel: &str) -> String {
    match camel {
        "loadBalancer" => "load_balancer".to_string(),
        "managedNATGateway" => "managed_nat_gateway".to_string(),
        "userAssignedNATGateway" => "user_assigned_nat_gateway".to_string(),
        "userDefinedRouting" => "user_defined_routing".to_string(),
        other => other.to_lowercase(),
    }
}

fn cluster_text(out: &mut String, read: &ClusterRead) {
    let c = &read.cluster;
    let label = &read.cluster_label;
    let group = read.groups.first().map_or(String::new(), |g| g.label.clone());
    let _ = writeln!(out, "cluster {} {{\nresource_group = resource_group.{}", quote(label), segment(&group));
    name_line(out, c, label);
    let name = text(c, "name").unwrap_or(label);
    let group_name = read.groups.first().and_then(|g| text(&g.attributes, "name")).unwrap_or(&group);
    let group_location = read.groups.first().and_then(|g| text(&g.attributes, "location")).unwrap_or(&read.location);
    location_line(out, c, group_location);
    if let Some(version) = text(c, "kubernetes_version") {
        let _ = writeln!(out, "kubernetes_version = {}", quote(version));
    }
    if let Some(prefix) = text(c, "dns_prefix")
        && prefix != name
    {
        let _ = writeln!(out, "dns_prefix = {}", quote(prefix));
    }
    if let Some(tier) = text(c, "sku_tier")
        && !tier.eq_ignore_ascii_case("free")
    {
        let _ = writeln!(out, "sku_tier = {}", tier.to_lowercase());
    }
    if let Some(identity) = text(c, "identity").and_then(|i| i.strip_prefix("UserAssigned:")) {
        let _ = writeln!(out, "identity = user_assigned {}", quote(identity));
    }
    let location = text(c, "location").unwrap_or(&read.location).to_lowercase();
    if let Some(node_group) = text(c, "node_resource_group")
        && node_group != format!("MC_{group_name}_{name}_{location}")
    {
        let _ = writeln!(out, "node_resource_group = {}", quote(node_group));
    }
    if c.get("web_app_routing") == Some(&Value::Bool(true)) {
        out.push_str("web_app_routing = true\n");
    }
    map_line(out, "tags", c.get("tags"));

    // The network block: the plugin, and the first pool's subnet as the pools' default.
    let plugin = match (text(c, "network_plugin"), text(c, "network_plugin_mode")) {
        (Some("azure"), Some("overlay")) => "azure_cni overlay",
        (Some("azure"), _) => "azure_cni",
        _ => "kubenet",
    };
    let reference = |key: &str, pool: &Read| {
        text(pool, key).map(|id| read.subnet_references.get(&id.to_lowercase()).cloned().unwrap_or_else(|| quote(id)))
    };
    let first = read.pools.first().map(|(_, p)| p);
    let network_subnet = first.and_then(|p| reference("subnet", p));
    let network_pod_subnet = first.and_then(|p| reference("pod_subnet", p));
    let _ = writeln!(out, "\nnetwork {plugin} {{");
    if let Some(subnet) = &network_subnet {
        let _ = writeln!(out, "subnet = {subnet}");
    }
    if let Some(subnet) = &network_pod_subnet {
        let _ = writeln!(out, "pod_subnet = {subnet}");
    }
    if let Some(cidr) = text(c, "pod_cidr")
        && plugin != "azure_cni"
        && cidr != "10.244.0.0/16"
    {
        let _ = writeln!(out, "pod_cidr = {cidr}");
    }
    if let Some(cidr) = text(c, "service_cidr")
        && cidr != "10.0.0.0/16"
    {
        let _ = writeln!(out, "service_cidr = {cidr}");
    }
    if let Some(ip) = text(c, "dns_service_ip")
        && ip != "10.0.0.10"
    {
        let _ = writeln!(out, "dns_service_ip = {ip}");
    }
    if let Some(outbound) = text(c, "outbound_type")
        && outbound != "loadBalancer"
    {
        let _ = writeln!(out, "outbound_type = {}", snake(outbound));
    }
    if let Some(sku) = text(c, "load_balancer_sku")
        && !sku.eq_ignore_ascii_case("standard")
    {
        let _ = writeln!(out, "load_balancer_sku = {}", sku.to_lowercase());
    }
    if let Some(policy) = text(c, "network_policy")
        && policy != "none"
    {
        let _ = writeln!(out, "network_policy = {}", word(policy));
    }
    out.push_str("}\n");

    for (index, (pool_name, pool)) in read.pools.iter().enumerate() {
        let _ = writeln!(out, "\nnode_pool {} {{", quote(pool_name));
        if let Some(size) = text(pool, "vm_size") {
            let _ = writeln!(out, "vm_size = {}", quote(size));
        }
        match (pool.get("autoscale"), int(pool, "min_count"), int(pool, "max_count"), int(pool, "count")) {
            (Some(Value::Bool(true)), Some(min), Some(max), _) => {
                let _ = writeln!(out, "autoscale = {min}..{max}");
            }
            (_, _, _, Some(count)) if count != 1 => {
                let _ = writeln!(out, "count = {count}");
            }
            _ => {}
        }
        let windows = text(pool, "os_type") == Some("Windows");
        let pod_subnet = reference("pod_subnet", pool);
        let default_max_pods = match plugin {
            "kubenet" => 110,
            "azure_cni" if pod_subnet.is_some() => 110,
            "azure_cni" => 30,
            _ => 250,
        };
        if let Some(max_pods) = int(pool, "max_pods")
            && max_pods != default_max_pods
        {
            let _ = writeln!(out, "max_pods = {max_pods}");
        }
        let system = text(pool, "mode") == Some("System");
        if system != (index == 0) {
            let _ = writeln!(out, "mode = {}", if system { "system" } else { "user" });
        }
        if windows {
            out.push_str("os = windows\n");
        }
        let subnet = reference("subnet", pool);
        if subnet != network_subnet
            && let Some(subnet) = subnet
        {
            let _ = writeln!(out, "subnet = {subnet}");
        }
        if pod_subnet != network_pod_subnet
            && let Some(subnet) = pod_subnet
        {
            let _ = writeln!(out, "pod_subnet = {subnet}");
        }
        if let Some(Value::List(zones)) = pool.get("zones")
            && !zones.is_empty()
        {
            let _ = writeln!(out, "zones = {}", list_text(zones));
        }
        if let Some(surge) = text(pool, "max_surge")
            && surge != "1"
        {
            let surge = if surge.ends_with('%') { quote(surge) } else { surge.to_string() };
            let _ = writeln!(out, "max_surge = {surge}");
        }
        map_line(out, "labels", pool.get("labels"));
        if let Some(Value::List(taints)) = pool.get("taints")
            && !taints.is_empty()
        {
            let _ = writeln!(out, "taints = {}", list_text(taints));
        }
        out.push_str("}\n");
    }
    out.push_str("}\n\n");
}

fn public_ip_text(out: &mut String, label: &str, ip: &Read, group: &str, location: &str) {
    let _ = writeln!(out, "public_ip {} {{\nresource_group = {group}", quote(label));
    name_line(out, ip, label);
    location_line(out, ip, location);
    if let Some(sku) = text(ip, "sku")
        && !sku.eq_ignore_ascii_case("standard")
    {
        let _ = writeln!(out, "sku = {}", sku.to_lowercase());
    }
    if let Some(allocation) = text(ip, "allocation")
        && !allocation.eq_ignore_ascii_case("static")
    {
        let _ = writeln!(out, "allocation = {}", allocation.to_lowercase());
    }
    if let Some(Value::List(zones)) = ip.get("zones")
        && !zones.is_empty()
    {
        let _ = writeln!(out, "zones = {}", list_text(zones));
    }
    if let Some(label) = text(ip, "dns_label") {
        let _ = writeln!(out, "dns_label = {}", quote(label));
    }
    if let Some(minutes) = int(ip, "idle_timeout_minutes")
        && minutes != 4
    {
        let _ = writeln!(out, "idle_timeout = {minutes}");
    }
    map_line(out, "tags", ip.get("tags"));
    out.push_str("}\n\n");
}

fn kubernetes_text(read: &ClusterRead) -> String {
    let mut out = String::new();
    let cluster = format!("cluster.{}", segment(&read.cluster_label));
    for namespace in &read.namespaces {
        let _ = writeln!(out, "namespace {} {{\ncluster = {cluster}", quote(&namespace.label));
        name_line(&mut out, &namespace.attributes, &namespace.label);
        map_line(&mut out, "labels", namespace.attributes.get("labels"));
        map_line(&mut out, "annotations", namespace.attributes.get("annotations"));
        out.push_str("}\n\n");
    }
    let namespace_line = |out: &mut String, object: &Read| {
        let name = text(object, "namespace").unwrap_or("default");
        match read.namespaces.iter().find(|n| text(&n.attributes, "name") == Some(name)) {
            Some(ns) => {
                let _ = writeln!(out, "namespace = namespace.{}", segment(&ns.label));
            }
            None => {
                let _ = writeln!(out, "namespace = {}\ncluster = {cluster}", quote(name));
            }
        }
    };
    for service in &read.services {
        let s = &service.attributes;
        let _ = writeln!(out, "service {} {{", quote(&service.label));
        name_line(&mut out, s, &service.label);
        namespace_line(&mut out, s);
        if let Some(kind) = service_type(read, s) {
            let _ = writeln!(out, "type = {kind}");
        }
        map_line(&mut out, "selector", s.get("selector"));
        if let Some(affinity) = text(s, "session_affinity")
            && affinity == "ClientIP"
        {
            out.push_str("session_affinity = client_ip\n");
        }
        if let Some(policy) = text(s, "external_traffic_policy") {
            let _ = writeln!(out, "external_traffic_policy = {}", policy.to_lowercase());
        }
        map_line(&mut out, "labels", s.get("labels"));
        map_line(&mut out, "annotations", s.get("annotations"));
        if let Some(Value::List(ports)) = s.get("ports") {
            out.push('\n');
            for port in ports {
                if let Value::Map(port) = port {
                    port_text(&mut out, port);
                }
            }
        }
        out.push_str("}\n\n");
    }
    for ingress in &read.ingresses {
        ingress_text(&mut out, read, ingress, &namespace_line);
    }
    out
}

/// The reference of the public IP block whose Azure name is `name`.
fn public_ip_reference(read: &ClusterRead, name: &str) -> Option<String> {
    read.public_ips
        .iter()
        .find(|(label, ip, _)| text(ip, "name").unwrap_or(label) == name)
        .map(|(label, _, _)| format!("public_ip.{}", segment(label)))
}

/// The reference of the subnet whose Azure name is `name`, in a vnet of the stack.
fn subnet_named(read: &ClusterRead, name: &str) -> Option<String> {
    read.vnets.iter().find_map(|vnet| {
        vnet.subnets
            .iter()
            .find(|(label, subnet)| text(subnet, "name").unwrap_or(label) == name)
            .map(|(label, _)| format!("vnet.{}.subnet.{}", segment(&vnet.label), segment(label)))
    })
}

/// The `type = ...` of a Service; `None` for a ClusterIP one (the default).
fn service_type(read: &ClusterRead, s: &Read) -> Option<String> {
    match text(s, "type").unwrap_or("ClusterIP") {
        "ClusterIP" if text(s, "cluster_ip") == Some("None") => Some("headless".into()),
        "ClusterIP" => None,
        "NodePort" => Some("node_port".into()),
        "ExternalName" => Some(format!("external_name {}", quote(text(s, "external_name").unwrap_or_default()))),
        _ => {
            let settings = match s.get("load_balancer") {
                Some(Value::Map(m)) => m.clone(),
                _ => BTreeMap::new(),
            };
            let get = |key: &str| settings.get(key).and_then(Value::as_str);
            let internal = settings.get("internal") == Some(&Value::Bool(true));
            let mut body = Vec::new();
            let public_ip = get("public_ip").map(|name| public_ip_reference(read, name).unwrap_or_else(|| quote(name)));
            if let Some(ip) = &public_ip {
                body.push(format!("public_ip = {ip}"));
            }
            if let Some(subnet) = get("subnet") {
                body.push(format!("subnet = {}", subnet_named(read, subnet).unwrap_or_else(|| quote(subnet))));
            }
            if let Some(ip) = get("ip") {
                body.push(format!("ip = {ip}"));
            }
            if let Some(label) = get("dns_label") {
                body.push(format!("dns_label = {}", quote(label)));
            }
            if let Some(group) = get("resource_group")
                && public_ip.is_none()
            {
                body.push(format!("resource_group = {}", quote(group)));
            }
            let mut kind = if internal { "load_balancer internal".to_string() } else { "load_balancer".to_string() };
            if !body.is_empty() {
                let _ = write!(kind, " {{ {} }}", body.join("  "));
            }
            Some(kind)
        }
    }
}

fn port_text(out: &mut String, port: &BTreeMap<String, Value>) {
    let name = port.get("name").and_then(Value::as_str).unwrap_or_default();
    let number = match port.get("port") {
        Some(Value::Int(n)) => *n,
        _ => 0,
    };
    let protocol = port.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
    let mut spec = number.to_string();
    if protocol != "TCP" {
        let _ = write!(spec, "/{}", protocol.to_lowercase());
    }
    match port.get("target_port") {
        Some(Value::Int(n)) if *n != number => {
            let _ = write!(spec, " -> {n}");
        }
        Some(Value::Str(target)) => {
            let _ = write!(spec, " -> {}", word(target));
        }
        _ => {}
    }
    let _ = write!(out, "port {} {spec}", word(name));
    let mut body = Vec::new();
    if let Some(Value::Int(node_port)) = port.get("node_port") {
        body.push(format!("node_port = {node_port}"));
    }
    if let Some(app) = port.get("app_protocol").and_then(Value::as_str) {
        body.push(format!("app_protocol = {}", quote(app)));
    }
    if body.is_empty() {
        out.push('\n');
    } else {
        let _ = writeln!(out, " {{\n{}\n}}", body.join("\n"));
    }
}

/// `service.web:http`: the backend's Service by its block, in the Ingress's namespace.
fn backend_text(read: &ClusterRead, namespace: &str, backend: &Value) -> Option<String> {
    let Value::Map(backend) = backend else { return None };
    let service = backend.get("service").and_then(Value::as_str)?;
    let label = read.services.iter().find(|s| {
        text(&s.attributes, "name") == Some(service) && text(&s.attributes, "namespace") == Some(namespace)
    })?;
    let port = match backend.get("port")? {
        Value::Int(n) => n.to_string(),
        Value::Str(name) => name.clone(),
        _ => return None,
    };
    Some(format!("service.{}:{port}", segment(&label.label)))
}

/// The Services of the stack an Ingress routes to that are not in it, by name.
pub fn missing_backends(read: &ClusterRead, ingress: &Read) -> Vec<String> {
    let namespace = text(ingress, "namespace").unwrap_or("default");
    let mut backends: Vec<&Value> = ingress.get("default_backend").into_iter().filter(|b| **b != Value::Null).collect();
    if let Some(Value::List(rules)) = ingress.get("rules") {
        for rule in rules {
            if let Value::Map(rule) = rule
                && let Some(Value::List(paths)) = rule.get("paths")
            {
                backends.extend(paths.iter().filter_map(|p| match p {
                    Value::Map(p) => p.get("backend"),
                    _ => None,
                }));
            }
        }
    }
    backends
        .into_iter()
        .filter(|b| backend_text(read, namespace, b).is_none())
        .map(|b| match b {
            Value::Map(m) => m.get("service").and_then(Value::as_str).unwrap_or("(a resource backend)").to_string(),
            _ => "(a resource backend)".to_string(),
        })
        .collect()
}

fn ingress_text(
    out: &mut String,
    read: &ClusterRead,
    ingress: &ObjectRead,
    namespace_line: &dyn Fn(&mut String, &Read),
) {
    let i = &ingress.attributes;
    let namespace = text(i, "namespace").unwrap_or("default");
    let _ = writeln!(out, "ingress {} {{", quote(&ingress.label));
    name_line(out, i, &ingress.label);
    namespace_line(out, i);
    if let Some(class) = text(i, "class") {
        let _ = writeln!(out, "class = {}", quote(class));
    }
    if let Some(backend) = i.get("default_backend").and_then(|b| backend_text(read, namespace, b)) {
        let _ = writeln!(out, "default_backend = {backend}");
    }
    map_line(out, "labels", i.get("labels"));
    map_line(out, "annotations", i.get("annotations"));
    if let Some(Value::List(tls)) = i.get("tls") {
        for entry in tls {
            let Value::Map(entry) = entry else { continue };
            let secret = entry.get("secret").and_then(Value::as_str).unwrap_or_default();
            let hosts = match entry.get("hosts") {
                Some(Value::List(hosts)) => list_text(hosts),
                _ => "[]".to_string(),
            };
            let _ = writeln!(out, "\ntls {} {{\nhosts = {hosts}\n}}", quote(secret));
        }
    }
    let Some(Value::List(rules)) = i.get("rules") else {
        out.push_str("}\n\n");
        return;
    };
    for rule in rules {
        let Value::Map(rule) = rule else { continue };
        let host = rule.get("host").and_then(Value::as_str);
        if let Some(host) = host {
            let _ = writeln!(out, "\nhost {} {{", quote(host));
        }
        if let Some(Value::List(paths)) = rule.get("paths") {
            for path in paths {
                let Value::Map(path) = path else { continue };
                let Some(backend) = path.get("backend").and_then(|b| backend_text(read, namespace, b)) else {
                    continue;
                };
                let path_type = match path.get("path_type").and_then(Value::as_str) {
                    Some("Exact") => " exact",
                    Some("ImplementationSpecific") => " implementation_specific",
                    _ => "",
                };
                let at = path.get("path").and_then(Value::as_str).unwrap_or("/");
                let _ = writeln!(out, "path {}{path_type} -> {backend}", quote(at));
            }
        }
        if host.is_some() {
            out.push_str("}\n");
        }
    }
    out.push_str("}\n\n");
}

#[cfg(test)]
mod tests;
