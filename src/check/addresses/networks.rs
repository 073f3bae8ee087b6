//! VNets, subnets and peerings (AKS101-AKS106): overlapping address spaces, subnets outside
//! their network or overlapping each other, and subnet sizes Azure refuses.

use ipnet::Ipv4Net;

use crate::check::RuleInfo;
use crate::check::index::Index;
use crate::check::ranges::{
    Range, SUBNET_PREFIX_MAX, SUBNET_PREFIX_MIN, free_block, free_private_block, overlapping_pairs,
};
use crate::diag::Diagnostic;
use crate::model::{Address, Peering, Value, Vnet};

pub(super) const PEERED_VNETS_OVERLAP: RuleInfo = rule!(
    "AKS101",
    "peered-vnets-overlap",
    Error,
    "Two virtual networks peered with each other or with the same hub have overlapping address spaces"
);
pub(super) const VNETS_OVERLAP: RuleInfo =
    rule!("AKS102", "vnets-overlap", Warning, "Two virtual networks overlap, so they can never be peered");
pub(super) const VNET_ADDRESS_SPACES_OVERLAP: RuleInfo =
    rule!("AKS103", "vnet-address-spaces-overlap", Error, "Two address spaces of one virtual network overlap");
pub(super) const SUBNET_OUTSIDE_VNET: RuleInfo =
    rule!("AKS104", "subnet-outside-vnet", Error, "A subnet is not inside its virtual network's address space");
pub(super) const SUBNETS_OVERLAP: RuleInfo =
    rule!("AKS105", "subnets-overlap", Error, "Two subnets of one virtual network overlap");
pub(super) const SUBNET_PREFIX_OUT_OF_RANGE: RuleInfo =
    rule!("AKS106", "subnet-prefix-out-of-range", Error, "A subnet is smaller than /29 or larger than /2");

/// A network the stack peers with an existing hub, overlapping a network the hub is already
/// peered with outside the stack (as Azure records the hub's peerings): Azure refuses the
/// peering (`VnetAddressSpaceOverlapsWithAlreadyPeeredVnet`).
pub(super) fn overlaps_with_existing_peers(index: &Index, out: &mut Vec<Diagnostic>) {
    for (hub, read) in &index.stack.existing {
        let Some(Value::List(peerings)) = read.get("peerings") else { continue };
        for (spoke, peering) in index.peers_of(hub) {
            let Some(spoke) = index.vnets.get(*spoke) else { continue };
            if index.stack.existing.contains_key(&spoke.address) {
                continue;
            }
            let own_id = format!(
                "/resourcegroups/{}/providers/microsoft.network/virtualnetworks/{}",
                spoke.resource_group.to_ascii_lowercase(),
                spoke.name.to_ascii_lowercase()
            );
            for remote in peerings {
                let Value::Map(remote) = remote else { continue };
                let (Some(id), Some(Value::List(spaces))) =
                    (remote.get("remote").and_then(Value::as_str), remote.get("address_space"))
                else {
                    continue;
                };
                // The hub's peering with this very network, from an earlier apply.
                if id.to_ascii_lowercase().ends_with(&own_id) {
                    continue;
                }
                for remote_space in spaces.iter().filter_map(Value::as_str).filter_map(|s| s.parse::<Ipv4Net>().ok()) {
                    for space in spoke.address_space.iter().filter(|s| overlap(s.value, remote_space)) {
                        out.push(
                            PEERED_VNETS_OVERLAP
                                .diagnostic(format!(
                                    "{} ({}) overlaps {remote_space} of {id}, which {hub} is already peered with",
                                    spoke.address, space.value
                                ))
                                .with_primary(space.span, format!("overlaps {remote_space}, read from Azure"))
                                .with_secondary(peering.span, format!("peered with {hub} here"))
                                .with_help(format!(
                                    "Azure refuses to peer a network with {hub} while another network peered with it \
                                     overlaps (VnetAddressSpaceOverlapsWithAlreadyPeeredVnet): move {} to a range \
                                     that none of {hub}'s peers uses",
                                    spoke.address
                                )),
                        );
                    }
                }
            }
        }
    }
}

fn overlap(a: Ipv4Net, b: Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

pub(super) fn vnet_overlaps(index: &Index, out: &mut Vec<Diagnostic>) {
    let vnets = &index.stack.vnets;
    let items = vnets
        .iter()
        .enumerate()
        .flat_map(|(v, vnet)| {
            vnet.address_space.iter().enumerate().map(move |(s, space)| (Range::from(space.value), (v, s)))
        })
        .collect();
    for ((va, sa), (vb, sb)) in overlapping_pairs(items) {
        let (mut a, mut b) = ((&vnets[va], &vnets[va].address_space[sa]), (&vnets[vb], &vnets[vb].address_space[sb]));
        // Report on the one written later; the first one is the context.
        if b.1.span < a.1.span {
            std::mem::swap(&mut a, &mut b);
        }
        let ((first, first_space), (second, second_space)) = (a, b);
        if va == vb {
            let (outer, inner) = if first_space.value.contains(&second_space.value) {
                (first_space, second_space)
            } else {
                (second_space, first_space)
            };
            out.push(
                VNET_ADDRESS_SPACES_OVERLAP
                    .diagnostic(format!(
                        "address spaces {} and {} of {} overlap",
                        first_space.value, second_space.value, first.address
                    ))
                    .with_primary(second_space.span, format!("overlaps {}", first_space.value))
                    .with_secondary(first_space.span, "first address space")
                    .with_help(format!("remove {}: {} already contains it", inner.value, outer.value)),
            );
            continue;
        }
        let others: Vec<Ipv4Net> = index
            .stack
            .vnets
            .iter()
            .filter(|v| v.address != second.address)
            .flat_map(|v| v.address_space.iter().map(|s| s.value))
            .collect();
        let proposal = match free_private_block(&others, second_space.value.prefix_len()) {
            Some(free) => format!("move {} to a free range, e.g. `address_space = [{free}]`", second.address),
            None => format!("move {} to a range no other network uses", second.address),
        };
        let message =
            format!("{} ({}) overlaps {} ({})", second.address, second_space.value, first.address, first_space.value);
        let primary = format!("overlaps {} of {}", first_space.value, first.address);
        let d = if let Some(peering) = index.peering_between(&first.address, &second.address) {
            PEERED_VNETS_OVERLAP
                .diagnostic(format!("{message}, and the two networks are peered"))
                .with_primary(second_space.span, primary)
                .with_secondary(first_space.span, format!("address space of {}", first.address))
                .with_secondary(peering.span, "peered here")
                .with_help(format!("Azure refuses to peer networks whose address spaces overlap: {proposal}"))
        } else if let Some((hub, to_first, to_second)) = common_peer(index, first, second) {
            PEERED_VNETS_OVERLAP
                .diagnostic(format!("{message}, and both are peered with {hub}"))
                .with_primary(second_space.span, primary)
                .with_secondary(first_space.span, format!("address space of {}", first.address))
                .with_secondary(to_first.span, format!("{} peers with {hub}", first.address))
                .with_secondary(to_second.span, format!("{} peers with {hub}", second.address))
                .with_help(format!(
                    "Azure refuses to peer a network with {hub} while another network peered with it overlaps \
                     (VnetAddressSpaceOverlapsWithAlreadyPeeredVnet): {proposal}"
                ))
        } else {
            VNETS_OVERLAP
                .diagnostic(message)
                .with_primary(second_space.span, primary)
                .with_secondary(first_space.span, format!("address space of {}", first.address))
                .with_help(format!(
                    "overlapping networks can never be peered, directly or through a hub, nor joined by a VPN; \
                     if they must stay apart forever this is harmless, otherwise {proposal}"
                ))
        };
        out.push(d);
    }
}

/// A network both are peered with (a hub), with the two peerings.
fn common_peer<'a>(index: &Index<'a>, a: &Vnet, b: &Vnet) -> Option<(&'a Address, &'a Peering, &'a Peering)> {
    index.peers_of(&a.address).iter().find_map(|(hub, to_a)| {
        index.peers_of(&b.address).iter().find(|(other, _)| other == hub).map(|(_, to_b)| (*hub, *to_a, *to_b))
    })
}

pub(super) fn subnet_placement(index: &Index, out: &mut Vec<Diagnostic>) {
    for subnet in &index.stack.subnets {
        let prefix = subnet.prefix.value;
        if !(SUBNET_PREFIX_MIN..=SUBNET_PREFIX_MAX).contains(&prefix.prefix_len()) {
            let help = if prefix.prefix_len() > SUBNET_PREFIX_MAX {
                let widened = Ipv4Net::new(prefix.network(), SUBNET_PREFIX_MAX).map(|n| n.trunc()).unwrap_or(prefix);
                format!("the smallest subnet Azure allows is a /29 (3 usable addresses): e.g. `prefix = {widened}`")
            } else {
                "the largest subnet Azure allows is a /2: split the range into several subnets".to_string()
            };
            out.push(
                SUBNET_PREFIX_OUT_OF_RANGE
                    .diagnostic(format!(
                        "{} ({prefix}) is outside the subnet sizes Azure allows, /2 to /29",
                        subnet.address
                    ))
                    .with_primary(subnet.prefix.span, format!("a /{} subnet", prefix.prefix_len()))
                    .with_help(help),
            );
        }
        let Some(vnet) = index.vnets.get(&subnet.vnet) else { continue };
        if vnet.address_space.iter().any(|s| s.value.contains(&prefix)) {
            continue;
        }
        let spaces: Vec<Ipv4Net> = vnet.address_space.iter().map(|s| s.value).collect();
        let siblings: Vec<Ipv4Net> = index
            .subnets_in(&vnet.address)
            .iter()
            .filter(|s| s.address != subnet.address)
            .map(|s| s.prefix.value)
            .collect();
        let help = match free_block(&spaces, &siblings, prefix.prefix_len()) {
            Some(free) => format!(
                "use a free range of the network, e.g. `prefix = {free}`, or add an address space that contains {prefix}"
            ),
            None => format!("add an address space that contains {prefix} to {}", vnet.address),
        };
        let spaces_text: Vec<String> = spaces.iter().map(ToString::to_string).collect();
        let mut d = SUBNET_OUTSIDE_VNET
            .diagnostic(format!(
                "{} ({prefix}) is outside the address space of {} ({})",
                subnet.address,
                vnet.address,
                spaces_text.join(", ")
            ))
            .with_primary(subnet.prefix.span, "not inside the network");
        for space in &vnet.address_space {
            d = d.with_secondary(space.span, format!("address space of {}", vnet.address));
        }
        out.push(d.with_help(help));
    }
}

pub(super) fn subnet_overlaps(index: &Index, out: &mut Vec<Diagnostic>) {
    for vnet in &index.stack.vnets {
        let subnets = index.subnets_in(&vnet.address);
        let items = subnets.iter().enumerate().map(|(i, s)| (Range::from(s.prefix.value), i)).collect();
        let spaces: Vec<Ipv4Net> = vnet.address_space.iter().map(|s| s.value).collect();
        let used: Vec<Ipv4Net> = subnets.iter().map(|s| s.prefix.value).collect();
        for (a, b) in overlapping_pairs(items) {
            let (first, second) = if subnets[a].prefix.span <= subnets[b].prefix.span {
                (subnets[a], subnets[b])
            } else {
                (subnets[b], subnets[a])
            };
            let help = match free_block(&spaces, &used, second.prefix.value.prefix_len()) {
                Some(free) => {
                    format!("move {} to a free range of {}, e.g. `prefix = {free}`", second.address, vnet.address)
                }
                None => format!(
                    "{} has no free /{} left: add an address space",
                    vnet.address,
                    second.prefix.value.prefix_len()
                ),
            };
            out.push(
                SUBNETS_OVERLAP
                    .diagnostic(format!(
                        "{} ({}) overlaps {} ({})",
                        second.address, second.prefix.value, first.address, first.prefix.value
                    ))
                    .with_primary(second.prefix.span, format!("overlaps {}", first.address))
                    .with_secondary(first.prefix.span, format!("{} is here", first.address))
                    .with_help(help),
            );
        }
    }
}
