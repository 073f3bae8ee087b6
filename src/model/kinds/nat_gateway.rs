//! NAT gateways (Microsoft.Network/natGateways): outbound connections of the subnets
//! associated with them (`nat_gateway = nat_gateway.NAME` on a subnet) leave through their
//! public IPs, as `outbound_type = user_assigned_nat_gateway` needs.

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
use crate::syntax::ast::{Block, ExprKind};

/// Azure's bounds of a NAT gateway's TCP idle timeout, in minutes; 4 is its default.
pub const IDLE_TIMEOUT_MINUTES: (u64, u64, u32) = (4, 120, 4);

#[derive(Debug, Clone)]
pub struct NatGateway {
    pub address: Address,
    pub span: Span,
    pub name: String,
    pub resource_group: String,
    pub resource_group_address: Address,
    pub location: String,
    /// The public IPs its connections leave from (at least one).
    pub public_ips: Vec<Spanned<Address>>,
    pub idle_timeout_minutes: u32,
    pub zones: Vec<String>,
    pub tags: Labels,
}

pub(super) const SPEC: KindSpec = KindSpec {
    keyword: "nat_gateway",
    noun: "NAT gateway",
    parent: None,
    provider: Provider::Arm,
    attributes: &[
        ARM_NAME_ATTRIBUTE,
        ARM_GROUP_ATTRIBUTE,
        attribute("location", T::Text).forces("a NAT gateway's location is fixed at creation"),
        attribute("public_ips", T::TextList),
        attribute("idle_timeout_minutes", T::Integer),
        attribute("zones", T::TextList).forces("the zone of a NAT gateway is fixed at creation"),
        TAGS_ATTRIBUTE,
    ],
    in_use_refusal: Some("InUseNatGatewayCannotBeDeleted"),
    brief,
};

fn brief(b: &Brief<'_>) -> Vec<Option<String>> {
    vec![b.len("public_ips").map(|n| counted(n, "public IP", "public IPs")), b.show("location")]
}

impl Flatten for NatGateway {
    fn resource(&self) -> Resource {
        let mut depends_on = vec![self.resource_group_address.clone()];
        depends_on.extend(self.public_ips.iter().map(|ip| ip.value.clone()));
        flat(
            Kind::NatGateway,
            &self.address,
            self.span,
            vec![
                ("name", Value::str(&self.name)),
                ("resource_group", Value::str(&self.resource_group)),
                ("location", Value::str(&self.location)),
                ("public_ips", Value::list(self.public_ips.iter().map(|ip| ip.value.to_string()))),
                ("idle_timeout_minutes", self.idle_timeout_minutes.into()),
                ("zones", Value::list(self.zones.iter().cloned())),
                ("tags", labels_value(&self.tags)),
            ],
            depends_on,
        )
    }
}

/// Lowers a `nat_gateway` block.
pub(crate) fn lower(cx: &mut Lowering, block: &Block, label: String, stack: &mut Stack) {
    let f = BlockFields::new(
        cx,
        block.body.as_ref(),
        format!("nat_gateway \"{label}\""),
        block.header_span(),
        &["name", "resource_group", "location", "public_ips", "idle_timeout", "zones", "tags"],
        &[],
    );
    let name = azure_name(cx, &f, &label, "NAT gateway name", |n| names::azure_network_name(n, 1, 80));
    let rg = resource_group_of(cx, &f, stack);
    let public_ips: Vec<Spanned<Address>> = cx
        .reference_list(&f, "public_ips", &[Kind::PublicIp], true)
        .into_iter()
        .map(|t| Spanned::new(t.address, t.span))
        .collect();
    let (min, max, default) = IDLE_TIMEOUT_MINUTES;
    let idle_timeout_minutes = cx.number(&f, "idle_timeout", min, max, false).map_or(default, |n| n.value);
    let zones = cx.zones(&f);
    if zones.len() > 1 {
        cx.push(
            Diagnostic::error("AKS012", format!("a NAT gateway lives in one zone, not {}", zones.len()))
                .with_primary(f.get("zones").map_or(f.span, |a| a.value.span), "more than one zone")
                .with_help(
                    "give one zone, or none for a regional gateway; zone-redundant outbound needs a gateway per zone",
                ),
        );
    }
    let tags = tags(cx, &f);
    if public_ips.is_empty() {
        // A missing list or a wrong reference was reported already; an empty one is not.
        if let Some(given) =
            f.get("public_ips").filter(|a| matches!(&a.value.kind, ExprKind::List(items) if items.is_empty()))
        {
            cx.push(
                Diagnostic::error("AKS012", format!("NAT gateway \"{label}\" has no public IP"))
                    .with_primary(given.value.span, "an empty list")
                    .with_help("a NAT gateway's connections leave from its public IPs: give at least one, e.g. `public_ips = [public_ip.egress]`"),
            );
        }
        return;
    }
    let Some((resource_group, resource_group_address, rg_location)) = rg else { return };
    let location = location(cx, &f, &rg_location);
    stack.nat_gateways.push(NatGateway {
        address: Address::new(Kind::NatGateway, label),
        span: block.header_span(),
        name,
        resource_group,
        resource_group_address,
        location,
        public_ips,
        idle_timeout_minutes,
        zones,
        tags,
    });
}
