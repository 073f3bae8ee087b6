//! Lookup tables over a stack, built once per run so every rule finds a resource by its
//! address, a cluster's pools and networks, and a network's peers without scanning.

use std::collections::HashMap;

use crate::model::{Address, Cluster, NodePool, Peering, PublicIp, Service, Stack, Subnet, Vnet};

pub(super) struct Index<'a> {
    pub stack: &'a Stack,
    pub vnets: HashMap<&'a Address, &'a Vnet>,
    pub subnets: HashMap<&'a Address, &'a Subnet>,
    pub subnets_of_vnet: HashMap<&'a Address, Vec<&'a Subnet>>,
    /// Each cluster with its position in `stack.clusters`.
    pub clusters: HashMap<&'a Address, (usize, &'a Cluster)>,
    pub pools_of_cluster: HashMap<&'a Address, Vec<&'a NodePool>>,
    pub public_ips: HashMap<&'a Address, &'a PublicIp>,
    pub services: HashMap<&'a Address, &'a Service>,
    /// Peerings by network, in both directions: Azure needs a peering on each side, but one
    /// declared side is enough to connect the address spaces.
    pub peerings: HashMap<&'a Address, Vec<(&'a Address, &'a Peering)>>,
}

impl<'a> Index<'a> {
    pub fn new(stack: &'a Stack) -> Self {
        let mut subnets_of_vnet: HashMap<&Address, Vec<&Subnet>> = HashMap::new();
        for s in &stack.subnets {
            subnets_of_vnet.entry(&s.vnet).or_default().push(s);
        }
        let mut pools_of_cluster: HashMap<&Address, Vec<&NodePool>> = HashMap::new();
        for p in &stack.node_pools {
            pools_of_cluster.entry(&p.cluster).or_default().push(p);
        }
        let mut peerings: HashMap<&Address, Vec<(&Address, &Peering)>> = HashMap::new();
        for p in &stack.peerings {
            peerings.entry(&p.vnet).or_default().push((&p.remote.value, p));
            peerings.entry(&p.remote.value).or_default().push((&p.vnet, p));
        }
        Index {
            stack,
            vnets: stack.vnets.iter().map(|v| (&v.address, v)).collect(),
            subnets: stack.subnets.iter().map(|s| (&s.address, s)).collect(),
            subnets_of_vnet,
            clusters: stack.clusters.iter().enumerate().map(|(i, c)| (&c.address, (i, c))).collect(),
            pools_of_cluster,
            public_ips: stack.public_ips.iter().map(|p| (&p.address, p)).collect(),
            services: stack.services.iter().map(|s| (&s.address, s)).collect(),
            peerings,
        }
    }

    pub fn cluster(&self, address: &Address) -> Option<(usize, &'a Cluster)> {
        self.clusters.get(address).copied()
    }

    pub fn pools(&self, cluster: &Address) -> &[&'a NodePool] {
        self.pools_of_cluster.get(cluster).map_or(&[], Vec::as_slice)
    }

    pub fn subnets_in(&self, vnet: &Address) -> &[&'a Subnet] {
        self.subnets_of_vnet.get(vnet).map_or(&[], Vec::as_slice)
    }

    /// The peerings that connect `vnet` to another network.
    pub fn peers_of(&self, vnet: &Address) -> &[(&'a Address, &'a Peering)] {
        self.peerings.get(vnet).map_or(&[], Vec::as_slice)
    }

    /// The peering that connects two networks, if one is declared on either side.
    pub fn peering_between(&self, a: &Address, b: &Address) -> Option<&'a Peering> {
        self.peers_of(a).iter().find(|(other, _)| *other == b).map(|(_, p)| *p)
    }

    /// Every subnet a cluster places nodes or pods in, in stack order, each once.
    pub fn cluster_subnets(&self, cluster: &Cluster) -> Vec<&'a Subnet> {
        let network = &cluster.network;
        let pools = self.pools(&cluster.address);
        let mut addresses: Vec<&Address> = Vec::new();
        let candidates = network
            .subnet
            .iter()
            .chain(&network.pod_subnet)
            .chain(pools.iter().flat_map(|p| p.subnet.iter().chain(&p.pod_subnet)));
        for a in candidates {
            if !addresses.contains(&&a.value) {
                addresses.push(&a.value);
            }
        }
        addresses.into_iter().filter_map(|a| self.subnets.get(a).copied()).collect()
    }

    /// The networks a cluster's subnets belong to, each once.
    pub fn cluster_vnets(&self, cluster: &Cluster) -> Vec<&'a Vnet> {
        let mut out: Vec<&Vnet> = Vec::new();
        for s in self.cluster_subnets(cluster) {
            if let Some(v) = self.vnets.get(&s.vnet)
                && !out.iter().any(|o| o.address == v.address)
            {
                out.push(v);
            }
        }
        out
    }

    /// Where an internal load balancer without `subnet` gets its frontend: the cluster's
    /// network subnet, else the one subnet all its pools share. `None` when AKS manages the
    /// network or the pools are spread over several subnets (then aksform cannot tell).
    pub fn load_balancer_subnet(&self, cluster: &Cluster) -> Option<&'a Subnet> {
        if let Some(s) = &cluster.network.subnet {
            return self.subnets.get(&s.value).copied();
        }
        let pools = self.pools(&cluster.address);
        let first = pools.first()?.subnet.as_ref()?;
        if pools.iter().all(|p| p.subnet.as_ref().is_some_and(|s| s.value == first.value)) {
            self.subnets.get(&first.value).copied()
        } else {
            None
        }
    }
}
