//! Route tables (Microsoft.Network/routeTables) with their routes: user-defined routes for the
//! subnets associated with them (`route_table = route_table.NAME` on a subnet), such as the
//! default route to a firewall that `outbound_type = user_defined_routing` needs.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::AttributeType as T;
use super::{
    ARM_GROUP_ATTRIBUTE, ARM_NAME_ATTRIBUTE, Brief, Flatten, KindSpec, Labels, Provider, Spanned, TAGS_ATTRIBUTE,
    attribute, counted, flat, labels_value,
};
use crate::diag::{Diagnostic, Span};
use crate::model::lower::azure::{azure_name, location, resource_group_of, tags};
use crate::model::lower::{BlockFields, Lowering};
use crate::model::names;
use crate::model::stack::Stack;
use crate::model::{Address, Kind, Resource, Value};
use crate::syntax::ast::Block;

/// Where a route sends its traffic (ARM's `nextHopType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextHop {
    /// A network virtual appliance or firewall at `next_hop_ip`.
    VirtualAppliance,
    Internet,
    VnetLocal,
    VirtualNetworkGateway,
    /// Traffic is dropped.
    None,
}

impl NextHop {
    /// The keywords of the language, with ARM's names.
    pub const ALL: [(&'static str, NextHop, &'static str); 5] = [
        ("virtual_appliance", NextHop::VirtualAppliance, "VirtualAppliance"),
        ("internet", NextHop::Internet, "Internet"),
        ("vnet_local", NextHop::VnetLocal, "VnetLocal"),
        ("virtual_network_gateway", NextHop::VirtualNetworkGateway, "VirtualNetworkGateway"),
        ("none", NextHop::None, "None"),
    ];

    /// ARM's name (`VirtualAppliance`).
    pub fn arm_name(self) -> &'static str {
        NextHop::ALL.iter().find(|(_, hop, _)| *hop == self).map_or("None", |(_, _, arm)| arm)
    }
}

/// One route of a table.
#[derive(Debug, Clone)]
pub struct Route {
    pub span: Span,
    pub name: String,
    pub prefix: Spanned<Ipv4Net>,
    pub next_hop: Spanned<NextHop>,
    /// The appliance's address, with `next_hop = virtual_appliance` only.
    pub next_hop_ip: Option<Spanned<Ipv4Addr>>,
}

#[derive(Debug, Clone)]
pub struct RouteTable {
    pub address: Address,
    pub span: Span,
    pub name: String,
    pub resource_group: String,
    pub resource_group_address: Address,
    pub location: String,
    pub routes: Vec<Route>,
    /// Whether routes learned over BGP (from a VPN or ExpressRoute gateway) are left out of
    /// the associated subnets.
    pub disable_bgp_route_propagation: bool,
    pub tags: Labels,
}

impl RouteTable {
    /// The route for `0.0.0.0/0`, if the table has one.
    pub fn default_route(&self) -> Option<&Route> {
        self.routes.iter().find(|r| r.prefix.value.prefix_len() == 0)
    }
}

pub(super) const SPEC: KindSpec = KindSpec {
    keyword: "route_table",
    noun: "route table",
    parent: None,
    provider: Provider::Arm,
    attributes: &[
        ARM_NAME_ATTRIBUTE,
        ARM_GROUP_ATTRIBUTE,
        attribute("location", T::Text).forces("a route table's location is fixed at creation"),
        attribute("routes", T::ObjectList),
        attribute("disable_bgp_route_propagation", T::Boolean),
        TAGS_ATTRIBUTE,
    ],
    in_use_refusal: Some("InUseRouteTableCannotBeDeleted"),
    brief,
};

fn brief(b: &Brief<'_>) -> Vec<Option<String>> {
    let routes = b.len("routes").filter(|&n| n > 0).map(|n| counted(n, "route", "routes"));
    vec![routes, b.show("location")]
}

fn route_value(route: &Route) -> Value {
    let mut fields = vec![
        ("name", Value::str(&route.name)),
        ("prefix", Value::str(route.prefix.value.to_string())),
        ("next_hop", Value::str(route.next_hop.value.arm_name())),
    ];
    if let Some(ip) = &route.next_hop_ip {
        fields.push(("next_hop_ip", Value::str(ip.value.to_string())));
    }
    Value::map(fields)
}

impl Flatten for RouteTable {
    fn resource(&self) -> Resource {
        flat(
            Kind::RouteTable,
            &self.address,
            self.span,
            vec![
                ("name", Value::str(&self.name)),
                ("resource_group", Value::str(&self.resource_group)),
                ("location", Value::str(&self.location)),
                ("routes", Value::List(self.routes.iter().map(route_value).collect())),
                ("disable_bgp_route_propagation", Value::Bool(self.disable_bgp_route_propagation)),
                ("tags", labels_value(&self.tags)),
            ],
            vec![self.resource_group_address.clone()],
        )
    }
}

/// Lowers a `route_table` block.
pub(crate) fn lower(cx: &mut Lowering, block: &Block, label: String, stack: &mut Stack) {
    let f = BlockFields::new(
        cx,
        block.body.as_ref(),
        format!("route_table \"{label}\""),
        block.header_span(),
        &["name", "resource_group", "location", "disable_bgp_route_propagation", "tags"],
        &["route"],
    );
    let name = azure_name(cx, &f, &label, "route table name", |n| names::azure_network_name(n, 1, 80));
    let rg = resource_group_of(cx, &f, stack);
    let disable_bgp_route_propagation = cx.boolean(&f, "disable_bgp_route_propagation").unwrap_or(false);
    let tags = tags(cx, &f);
    let mut routes: Vec<Route> = Vec::new();
    for rb in f.blocks("route") {
        let Some(route) = lower_route(cx, rb) else { continue };
        if let Some(first) = routes.iter().find(|r| r.name.eq_ignore_ascii_case(&route.name)) {
            cx.push(
                Diagnostic::error("AKS012", format!("route table \"{label}\" has two routes named \"{}\"", route.name))
                    .with_primary(route.span, "second route of that name")
                    .with_secondary(first.span, "first declared here")
                    .with_help("route names are unique in a table (Azure compares them without case): rename one"),
            );
            continue;
        }
        if let Some(same) = routes.iter().find(|r| r.prefix.value == route.prefix.value) {
            cx.push(
                Diagnostic::error(
                    "AKS012",
                    format!("route table \"{label}\" has two routes for {}", route.prefix.value),
                )
                .with_primary(route.prefix.span, "second route for this prefix")
                .with_secondary(same.prefix.span, "first route for it")
                .with_help("Azure refuses a table with two routes for one address prefix: keep one"),
            );
            continue;
        }
        routes.push(route);
    }
    let Some((resource_group, resource_group_address, rg_location)) = rg else { return };
    let location = location(cx, &f, &rg_location);
    stack.route_tables.push(RouteTable {
        address: Address::new(Kind::RouteTable, label),
        span: block.header_span(),
        name,
        resource_group,
        resource_group_address,
        location,
        routes,
        disable_bgp_route_propagation,
        tags,
    });
}

fn lower_route(cx: &mut Lowering, block: &Block) -> Option<Route> {
    let label = cx.block_name(block)?;
    let f = BlockFields::new(
        cx,
        block.body.as_ref(),
        format!("route \"{label}\""),
        block.header_span(),
        &["name", "prefix", "next_hop", "next_hop_ip"],
        &[],
    );
    let name = azure_name(cx, &f, &label, "route name", |n| names::azure_network_name(n, 1, 80));
    let keywords: Vec<&str> = NextHop::ALL.iter().map(|(word, _, _)| *word).collect();
    let next_hop = cx.word(&f, "next_hop", &keywords, true);
    let next_hop_ip = cx.ip(&f, "next_hop_ip", false);
    let prefix = cx.cidr(&f, "prefix", true)?;
    let next_hop = next_hop?;
    let hop = NextHop::ALL.iter().find(|(word, _, _)| *word == next_hop.value).map(|(_, hop, _)| *hop)?;
    match (hop, &next_hop_ip) {
        // A value that is there but not an address was reported already.
        (NextHop::VirtualAppliance, None) if f.has("next_hop_ip") => return None,
        (NextHop::VirtualAppliance, None) => {
            cx.push(
                Diagnostic::error(
                    "AKS012",
                    format!("route \"{name}\" goes to a virtual appliance without its address"),
                )
                .with_primary(next_hop.span, "needs `next_hop_ip`")
                .with_help("give the appliance's private address, e.g. `next_hop_ip = 10.0.1.4` for a firewall"),
            );
            return None;
        }
        (NextHop::VirtualAppliance, Some(_)) | (_, None) => {}
        (_, Some(ip)) => {
            cx.push(
                Diagnostic::error(
                    "AKS012",
                    format!("route \"{name}\" has a next hop address but does not go to an appliance"),
                )
                .with_primary(ip.span, "only with `next_hop = virtual_appliance`")
                .with_help("remove `next_hop_ip`, or set `next_hop = virtual_appliance`"),
            );
            return None;
        }
    }
    Some(Route { span: block.header_span(), name, prefix, next_hop: Spanned::new(hop, next_hop.span), next_hop_ip })
}
