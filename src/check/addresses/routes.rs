//! Routing (AKS115): a cluster with `outbound_type = user_defined_routing` sends its egress
//! where its subnet's route table says, so AKS refuses to create it unless that table has a
//! default route.

use crate::check::RuleInfo;
use crate::check::index::Index;
use crate::diag::Diagnostic;
use crate::model::Cluster;

pub(super) const UDR_WITHOUT_DEFAULT_ROUTE: RuleInfo = rule!(
    "AKS115",
    "udr-without-default-route",
    Error,
    "A cluster with user-defined routing has no 0.0.0.0/0 route on its subnet"
);

pub(super) fn user_defined_routing(index: &Index, cluster: &Cluster, out: &mut Vec<Diagnostic>) {
    if cluster.network.outbound_type != "userDefinedRouting" {
        return;
    }
    // A subnet outside the stack is the network team's: its routes are not known here.
    for subnet in index.cluster_subnets(cluster) {
        let table = subnet.route_table.as_ref();
        let found = table.and_then(|t| index.stack.route_tables.iter().find(|rt| rt.address == t.value));
        let d = match (table, found) {
            (None, _) => UDR_WITHOUT_DEFAULT_ROUTE
                .diagnostic(format!(
                    "{} uses user-defined routing, but its subnet {} has no route table",
                    cluster.address, subnet.address
                ))
                .with_primary(subnet.span, "no `route_table` here")
                .with_secondary(cluster.network.span, "outbound_type = user_defined_routing")
                .with_help(
                    "associate a route table whose `0.0.0.0/0` route goes to your firewall: `route_table = route_table.NAME` in the subnet, \
                     or choose another `outbound_type`",
                ),
            (Some(_), Some(rt)) if rt.default_route().is_none() => UDR_WITHOUT_DEFAULT_ROUTE
                .diagnostic(format!(
                    "{} uses user-defined routing, but {} on its subnet {} has no 0.0.0.0/0 route",
                    cluster.address, rt.address, subnet.address
                ))
                .with_primary(rt.span, "no default route in this table")
                .with_secondary(cluster.network.span, "outbound_type = user_defined_routing")
                .with_help(
                    "AKS rejects the cluster with RouteTableMissingDefaultRouteError; add \
                     `route \"default\" { prefix = 0.0.0.0/0  next_hop = virtual_appliance  next_hop_ip = 10.0.1.4 }`",
                ),
            _ => continue,
        };
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use crate::check::test_support::*;

    const ROUTED_NETWORK: &str = r#"
route_table "egress" {
  resource_group = resource_group.rg
  ROUTES
}

vnet "net" {
  resource_group = resource_group.rg
  address_space  = [10.1.0.0/16]

  subnet "nodes" {
    prefix = 10.1.0.0/22
    ROUTE_TABLE
  }
}

cluster "aks" {
  resource_group = resource_group.rg

  network azure_cni overlay {
    subnet        = vnet.net.subnet.nodes
    outbound_type = user_defined_routing
  }

  node_pool "system" {
    vm_size = "Standard_D4s_v5"
    count   = 3
  }
}
"#;

    const DEFAULT_ROUTE: &str = r#"route "default" {
    prefix      = 0.0.0.0/0
    next_hop    = virtual_appliance
    next_hop_ip = 10.0.1.4
  }"#;

    const ONPREM_ROUTE: &str = r#"route "onprem" {
    prefix   = 192.168.0.0/16
    next_hop = virtual_network_gateway
  }"#;

    fn routed(routes: &str, association: &str) -> String {
        stack(&[&ROUTED_NETWORK.replace("ROUTES", routes).replace("ROUTE_TABLE", association)])
    }

    #[test]
    fn user_defined_routing_with_a_default_route_passes() {
        passing(&routed(DEFAULT_ROUTE, "route_table = route_table.egress"));
    }

    #[test]
    fn user_defined_routing_needs_a_route_table_on_the_subnet() {
        let out = failing(&routed(DEFAULT_ROUTE, ""), "AKS115");
        assert!(out.contains("its subnet vnet.net.subnet.nodes has no route table"), "{out}");
    }

    #[test]
    fn user_defined_routing_needs_a_default_route_in_the_table() {
        let out = failing(&routed(ONPREM_ROUTE, "route_table = route_table.egress"), "AKS115");
        assert!(out.contains("but route_table.egress on its subnet"), "{out}");
        assert!(out.contains("has no 0.0.0.0/0 route"), "{out}");
        assert!(out.contains("RouteTableMissingDefaultRouteError"), "{out}");
    }

    #[test]
    fn a_load_balancer_outbound_needs_no_route_table() {
        let text = routed(ONPREM_ROUTE, "").replace("outbound_type = user_defined_routing", "");
        passing(&text);
    }
}
