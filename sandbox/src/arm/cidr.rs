//! Address prefixes as the Network RP reads them: CIDR parsing with Azure's error codes,
//! overlap, and the addresses Azure keeps for itself in every subnet.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net};

use super::errors::ArmError;

/// Azure reserves five addresses in every subnet: the network address, the first three hosts
/// (gateway and DNS) and the broadcast address.
pub const RESERVED_PER_SUBNET: u64 = 5;

/// Parses an address prefix written in a resource, with the Network RP's codes for a malformed
/// one and for one with host bits set.
pub fn parse_prefix(text: &str, resource_id: &str) -> Result<IpNet, ArmError> {
    let net: IpNet = text.parse().map_err(|_| {
        ArmError::bad_request(
            "InvalidAddressPrefixFormat",
            format!("Address prefix {text} of resource {resource_id} is not formatted correctly. It should follow CIDR notation, for example 10.0.0.0/24."),
        )
    })?;
    if net.trunc() != net {
        return Err(ArmError::bad_request(
            "InvalidCIDRNotation",
            format!(
                "The address prefix {text} in resource {resource_id} has an invalid CIDR notation. For the given prefix length, the address prefix should be {}.",
                net.trunc()
            ),
        ));
    }
    Ok(net)
}

pub fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Whether `inner` lies wholly inside `outer`.
pub fn within(inner: &IpNet, outer: &IpNet) -> bool {
    outer.contains(inner)
}

/// How many addresses of an IPv4 subnet Azure hands out.
pub fn usable_addresses(net: &Ipv4Net) -> u64 {
    let size = 1u64 << (32 - u32::from(net.prefix_len()));
    size.saturating_sub(RESERVED_PER_SUBNET)
}

/// The `index`-th address Azure may hand out in a subnet (index 0 is `.4` of a /24), if any.
pub fn assignable(net: &Ipv4Net, index: u64) -> Option<Ipv4Addr> {
    if index >= usable_addresses(net) {
        return None;
    }
    let base = u32::from(net.network()) as u64;
    let address = base + 4 + index;
    u32::try_from(address).ok().map(Ipv4Addr::from)
}

/// The index of an address in [`assignable`]'s numbering, if Azure may hand it out.
pub fn assignable_index(net: &Ipv4Net, address: Ipv4Addr) -> Option<u64> {
    if !net.contains(&address) {
        return None;
    }
    let offset = (u32::from(address) - u32::from(net.network())) as u64;
    let index = offset.checked_sub(4)?;
    (index < usable_addresses(net)).then_some(index)
}

pub fn as_v4(net: &IpNet) -> Option<Ipv4Net> {
    match net {
        IpNet::V4(net) => Some(*net),
        IpNet::V6(_) => None,
    }
}

pub fn parse_ip(text: &str) -> Option<IpAddr> {
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_bits_are_refused_with_the_network_rp_code() {
        let error = parse_prefix("10.0.0.1/16", "/vnet").unwrap_err();
        assert_eq!(error.code, "InvalidCIDRNotation");
        assert!(error.message.contains("10.0.0.0/16"));
        assert_eq!(parse_prefix("10.0.0/16", "/vnet").unwrap_err().code, "InvalidAddressPrefixFormat");
    }

    #[test]
    fn subnets_lose_five_addresses() {
        let net: Ipv4Net = "10.0.1.0/24".parse().unwrap();
        assert_eq!(usable_addresses(&net), 251);
        assert_eq!(assignable(&net, 0), Some("10.0.1.4".parse().unwrap()));
        assert_eq!(assignable(&net, 250), Some("10.0.1.254".parse().unwrap()));
        assert_eq!(assignable(&net, 251), None);
        assert_eq!(assignable_index(&net, "10.0.1.3".parse().unwrap()), None);
        assert_eq!(assignable_index(&net, "10.0.1.10".parse().unwrap()), Some(6));
    }
}
