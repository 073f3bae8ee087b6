//! The way out of a cluster's nodes, as its outbound type needs it (AKS115-AKS117): with
//! `user_defined_routing` egress goes where the subnet's route table says, so that table needs a
//! default route; with `user_assigned_nat_gateway` it leaves through the subnet's NAT gateway;
//! `managed_nat_gateway` is AKS's own network's, not a subnet the stack brings.

use crate::check::RuleInfo;
use crate::check::index::Index;
use crate::diag::Diagnostic;
use crate::model::{Cluster, Subnet};

pub(super) const UDR_WITHOUT_DEFAULT_ROUTE: RuleInfo = rule!(
    "AKS115",
    "udr-without-default-route",
    Error,
    "A cluster with user-defined routing has no 0.0.0.0/0 route on its subnet"
);

pub(super) const NAT_GATEWAY_NOT_ASSOCIATED: RuleInfo = rule!(
    "AKS116",
    "nat-gateway-not-associated",
    Error,
    "A cluster with a user-assigned NAT gateway outbound has a subnet without a NAT gateway"
);
pub(super) const MANAGED_NAT_GATEWAY_WITH_OWN_SUBNET: RuleInfo = rule!(
    "AKS117",
    "managed-nat-gateway-with-own-subnet",
    Error,
    "A cluster with a managed NAT gateway outbound is placed on a subnet of the stack's"
);

pub(super) fn egress(index: &Index, cluster: &Cluster, out: &mut Vec<Diagnostic>) {
    type SubnetCheck = fn(&Index, &Cluster, &mut Vec<Diagnostic>);
    let (rule, keyword, needs, check): (RuleInfo, &str, &str, SubnetCheck) =
        match cluster.network.outbound_type.as_str() {
            "userDefinedRouting" => (
                UDR_WITHOUT_DEFAULT_ROUTE,
                "user_defined_routing",
                "a route table with a 0.0.0.0/0 route",
                user_defined_routing,
            ),
            "userAssignedNATGateway" => {
                (NAT_GATEWAY_NOT_ASSOCIATED, "user_assigned_nat_gateway", "a NAT gateway", user_assigned_nat_gateway)
            }
            "managedNATGateway" => return managed_nat_gateway(cluster, out),
            _ => return,
        };
    // Both need the nodes on a subnet of your own, which carries the way out.
    let on_own_subnet =
        cluster.network.subnet.is_some() || index.pools(&cluster.address).iter().any(|p| p.subnet.is_some());
    if !on_own_subnet {
        out.push(
            rule.diagnostic(format!("{} needs its nodes on a subnet of your own for its outbound type", cluster.address))
            .with_primary(cluster.network.span, format!("outbound_type = {keyword}, but no `subnet`"))
            .with_help(format!(
                "AKS makes no way out with this outbound type: give `subnet = vnet.NAME.subnet.NAME` with {needs} on it, \
                 or choose `outbound_type = load_balancer`"
            )),
        );
        return;
    }
    check(index, cluster, out);
}

/// The subnets of the stack the cluster's nodes are on, each once: egress is the nodes', so
/// pod subnets do not count.
fn node_subnets<'a>(index: &Index<'a>, cluster: &Cluster) -> Vec<&'a Subnet> {
    let mut out: Vec<&Subnet> = Vec::new();
    let pools = index.pools(&cluster.address).iter().filter_map(|p| p.subnet.as_ref());
    for address in cluster.network.subnet.iter().chain(pools) {
        if let Some(subnet) = index.subnets.get(&address.value)
            && !out.iter().any(|s| s.address == subnet.address)
        {
            out.push(subnet);
        }
    }
    out
}

fn user_assigned_nat_gateway(index: &Index, cluster: &Cluster, out: &mut Vec<Diagnostic>) {
    for subnet in node_subnets(index, cluster).into_iter().filter(|s| s.nat_gateway.is_none()) {
        out.push(
            NAT_GATEWAY_NOT_ASSOCIATED
                .diagnostic(format!(
                    "{} goes out through a user-assigned NAT gateway, but its subnet {} has none",
                    cluster.address, subnet.address
                ))
                .with_primary(subnet.span, "no `nat_gateway` here")
                .with_secondary(cluster.network.span, "outbound_type = user_assigned_nat_gateway")
                .with_help(
                    "AKS rejects the cluster with SubnetNotAssociatedWithNATGateway; associate one in the subnet: \
                     `nat_gateway = nat_gateway.NAME`",
                ),
        );
    }
}

fn managed_nat_gateway(cluster: &Cluster, out: &mut Vec<Diagnostic>) {
    let Some(subnet) = &cluster.network.subnet else { return };
    out.push(
        MANAGED_NAT_GATEWAY_WITH_OWN_SUBNET
            .diagnostic(format!(
                "{} asks for a managed NAT gateway, which AKS makes only in the network it manages, but it is on {}",
                cluster.address, subnet.value
            ))
            .with_primary(subnet.span, "a subnet the stack brings")
            .with_secondary(cluster.network.span, "outbound_type = managed_nat_gateway")
            .with_help(
                "AKS rejects it with ManagedNATGatewayWithCustomVNetNotAllowed; on your own subnet use \
                 `outbound_type = user_assigned_nat_gateway` with a `nat_gateway` on the subnet, or drop `subnet`",
            ),
    );
}

fn user_defined_routing(index: &Index, cluster: &Cluster, out: &mut Vec<Diagnostic>) {
    // A subnet outside the stack is the network team's: its routes are not known here.
    for subnet in node_subnets(index, cluster) {
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

    /// A route table, a NAT gateway and a cluster on a subnet that has `ASSOCIATION`, going out
    /// by `OUTBOUND`.
    const EGRESS: &str = r#"
route_table "egress" {
  resource_group = resource_group.rg
  ROUTES
}

public_ip "egress" {
  resource_group = resource_group.rg
}

nat_gateway "egress" {
  resource_group = resource_group.rg
  public_ips     = [public_ip.egress]
}

vnet "net" {
  resource_group = resource_group.rg
  address_space  = [10.1.0.0/16]

  subnet "nodes" {
    prefix = 10.1.0.0/22
    ASSOCIATION
  }
}

cluster "aks" {
  resource_group = resource_group.rg

  network azure_cni overlay {
    subnet        = vnet.net.subnet.nodes
    outbound_type = OUTBOUND
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

    fn egress(outbound: &str, routes: &str, association: &str) -> String {
        stack(&[&EGRESS.replace("OUTBOUND", outbound).replace("ROUTES", routes).replace("ASSOCIATION", association)])
    }

    fn routed(routes: &str, association: &str) -> String {
        egress("user_defined_routing", routes, association)
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
        passing(&egress("load_balancer", ONPREM_ROUTE, ""));
    }

    #[test]
    fn a_user_assigned_nat_gateway_must_be_on_the_subnet() {
        passing(&egress("user_assigned_nat_gateway", "", "nat_gateway = nat_gateway.egress"));
        let out = failing(&egress("user_assigned_nat_gateway", "", ""), "AKS116");
        assert!(out.contains("SubnetNotAssociatedWithNATGateway"), "{out}");
    }

    #[test]
    fn a_managed_nat_gateway_is_not_for_a_subnet_the_stack_brings() {
        let out = failing(&egress("managed_nat_gateway", "", "nat_gateway = nat_gateway.egress"), "AKS117");
        assert!(out.contains("ManagedNATGatewayWithCustomVNetNotAllowed"), "{out}");
    }

    #[test]
    fn user_defined_routing_and_a_user_assigned_nat_gateway_need_a_subnet_of_your_own() {
        for (outbound, code) in [("user_defined_routing", "AKS115"), ("user_assigned_nat_gateway", "AKS116")] {
            let text = egress(outbound, DEFAULT_ROUTE, "").replace("    subnet        = vnet.net.subnet.nodes\n", "");
            let out = failing(&text, code);
            assert!(out.contains("needs its nodes on a subnet of your own"), "{outbound}: {out}");
            assert!(out.contains(&format!("outbound_type = {outbound}, but no `subnet`")), "{outbound}: {out}");
        }
    }

    #[test]
    fn only_node_subnets_carry_the_way_out() {
        let text = egress("user_assigned_nat_gateway", "", "nat_gateway = nat_gateway.egress")
            .replace("network azure_cni overlay {", "network azure_cni {")
            .replace(
                "    outbound_type = user_assigned_nat_gateway\n",
                "    outbound_type = user_assigned_nat_gateway\n    pod_subnet    = vnet.net.subnet.pods\n",
            )
            .replace(
                "  subnet \"nodes\" {",
                "  subnet \"pods\" {\n    prefix = 10.1.8.0/22\n  }\n\n  subnet \"nodes\" {",
            );
        let loaded = load(&text);
        assert!(!loaded.diagnostics.iter().any(|d| d.code == "AKS116"), "a pod subnet needs no NAT gateway");
    }
}
