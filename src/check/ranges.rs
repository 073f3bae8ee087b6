//! Address arithmetic shared by the rules: ranges as integer bounds, overlap sweeps, the
//! smallest prefix that holds a number of addresses, and free blocks to propose as fixes.

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

/// Addresses Azure keeps in every subnet: the network address, the gateway (.1), two for
/// Azure DNS (.2, .3) and the broadcast address.
pub(super) const AZURE_RESERVED_PER_SUBNET: u64 = 5;

/// Azure's smallest and largest IPv4 subnets.
pub(super) const SUBNET_PREFIX_MIN: u8 = 2;
pub(super) const SUBNET_PREFIX_MAX: u8 = 29;

/// Ranges AKS refuses for service, pod and cluster network addresses.
pub(super) const AKS_RESERVED_RANGES: [(Ipv4Net, &str); 4] = [
    (net([169, 254, 0, 0], 16), "link-local addresses"),
    (net([172, 30, 0, 0], 16), "reserved by AKS"),
    (net([172, 31, 0, 0], 16), "reserved by AKS"),
    (net([192, 0, 2, 0], 24), "TEST-NET-1, reserved for documentation"),
];

/// The private ranges a replacement service or pod range is proposed from.
const PRIVATE_RANGES: [Ipv4Net; 3] = [net([10, 0, 0, 0], 8), net([172, 16, 0, 0], 12), net([192, 168, 0, 0], 16)];

const fn net(octets: [u8; 4], prefix: u8) -> Ipv4Net {
    match Ipv4Net::new(Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3]), prefix) {
        Ok(n) => n,
        Err(_) => panic!("invalid prefix length in a constant"),
    }
}

/// An address range as inclusive integer bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Range {
    pub start: u32,
    pub end: u32,
}

impl From<Ipv4Net> for Range {
    fn from(n: Ipv4Net) -> Self {
        Range { start: u32::from(n.network()), end: u32::from(n.broadcast()) }
    }
}

impl Range {
    pub fn overlaps(self, other: Range) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    pub fn contains_ip(self, ip: Ipv4Addr) -> bool {
        let ip = u32::from(ip);
        self.start <= ip && ip <= self.end
    }
}

pub(super) fn overlaps(a: Ipv4Net, b: Ipv4Net) -> bool {
    Range::from(a).overlaps(Range::from(b))
}

/// Every pair of items whose ranges overlap, each pair once, the earlier-starting item first.
/// Sorts by start and keeps the ranges still open at each start, so the cost is
/// O(n log n + pairs found) rather than comparing every pair.
pub(super) fn overlapping_pairs<T: Copy>(mut items: Vec<(Range, T)>) -> Vec<(T, T)> {
    items.sort_by_key(|(r, _)| (r.start, std::cmp::Reverse(r.end)));
    let mut open: Vec<(Range, T)> = Vec::new();
    let mut pairs = Vec::new();
    for (range, item) in items {
        open.retain(|(r, _)| r.end >= range.start);
        pairs.extend(open.iter().map(|(_, other)| (*other, item)));
        open.push((range, item));
    }
    pairs
}

/// Number of addresses in a block.
pub(super) fn size(n: Ipv4Net) -> u64 {
    1u64 << (32 - u32::from(n.prefix_len()))
}

/// Addresses of a subnet that Azure can hand out.
pub(super) fn usable(n: Ipv4Net) -> u64 {
    size(n).saturating_sub(AZURE_RESERVED_PER_SUBNET)
}

/// The longest prefix (smallest subnet) whose usable addresses hold `needed`, if Azure allows one.
pub(super) fn smallest_subnet_prefix(needed: u64) -> Option<u8> {
    (SUBNET_PREFIX_MIN..=SUBNET_PREFIX_MAX)
        .rev()
        .find(|p| (1u64 << (32 - u32::from(*p))) - AZURE_RESERVED_PER_SUBNET >= needed)
}

/// The first block of `prefix` inside one of `parents` that overlaps none of `used`.
pub(super) fn free_block(parents: &[Ipv4Net], used: &[Ipv4Net], prefix: u8) -> Option<Ipv4Net> {
    let mut used: Vec<Range> = used.iter().map(|n| Range::from(*n)).collect();
    used.sort();
    let block = 1u64 << (32 - u32::from(prefix));
    for parent in parents.iter().filter(|p| p.prefix_len() <= prefix) {
        let parent = Range::from(*parent);
        let mut candidate = u64::from(parent.start);
        while candidate + block - 1 <= u64::from(parent.end) {
            let candidate_range = Range { start: candidate as u32, end: (candidate + block - 1) as u32 };
            let blocking = used.iter().filter(|u| u.overlaps(candidate_range)).map(|u| u.end).max();
            match blocking {
                // Jump to the next aligned block after everything in the way.
                Some(end) => candidate = (u64::from(end) + 1).div_ceil(block) * block,
                None => return Ipv4Net::new(Ipv4Addr::from(candidate as u32), prefix).ok(),
            }
        }
    }
    None
}

/// A private block of `prefix` that overlaps none of `used` nor the ranges AKS reserves.
pub(super) fn free_private_block(used: &[Ipv4Net], prefix: u8) -> Option<Ipv4Net> {
    let mut avoid: Vec<Ipv4Net> = used.to_vec();
    avoid.extend(AKS_RESERVED_RANGES.iter().map(|(n, _)| *n));
    free_block(&PRIVATE_RANGES, &avoid, prefix)
}

/// The address `offset` places after the start of a block (saturating at its end).
pub(super) fn nth(n: Ipv4Net, offset: u64) -> Ipv4Addr {
    let start = u64::from(u32::from(n.network()));
    let last = u64::from(u32::from(n.broadcast()));
    Ipv4Addr::from((start + offset).min(last) as u32)
}

/// `2043` → `2,043`, for counts in messages.
pub(super) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "1 address", "2 addresses": a count with its noun.
pub(super) fn count(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Ipv4Net {
        text.parse().unwrap()
    }

    #[test]
    fn pairs_are_found_by_a_sweep() {
        let items = vec![
            (Range::from(n("10.0.0.0/16")), 0),
            (Range::from(n("10.1.0.0/16")), 1),
            (Range::from(n("10.0.128.0/17")), 2),
            (Range::from(n("10.0.0.0/8")), 3),
        ];
        let mut pairs = overlapping_pairs(items);
        pairs.sort();
        assert_eq!(pairs, vec![(0, 2), (3, 0), (3, 1), (3, 2)]);
    }

    #[test]
    fn smallest_prefix_counts_the_reserved_addresses() {
        assert_eq!(smallest_subnet_prefix(1581), Some(21));
        assert_eq!(smallest_subnet_prefix(251), Some(24));
        assert_eq!(smallest_subnet_prefix(252), Some(23));
        assert_eq!(smallest_subnet_prefix(3), Some(29));
        assert_eq!(smallest_subnet_prefix(u64::MAX), None);
    }

    #[test]
    fn free_block_skips_used_ranges() {
        let parents = [n("10.20.0.0/16")];
        let used = [n("10.20.0.0/21"), n("10.20.8.0/24")];
        assert_eq!(free_block(&parents, &used, 21), Some(n("10.20.16.0/21")));
        assert_eq!(free_block(&parents, &used, 24), Some(n("10.20.9.0/24")));
        assert_eq!(free_block(&parents, &[n("10.20.0.0/16")], 24), None);
        assert_eq!(free_private_block(&[n("10.0.0.0/16")], 16), Some(n("10.1.0.0/16")));
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(2043), "2,043");
        assert_eq!(thousands(65536), "65,536");
        assert_eq!(thousands(999), "999");
        assert_eq!(count(1, "address", "addresses"), "1 address");
    }
}
