//! The client address behind reverse proxies. `X-Forwarded-For` is whatever the client wrote
//! unless a proxy we trust appended to it, so it is read only when the peer is a trusted proxy
//! (`--trusted-proxies`), and then from the right: the rightmost hop that is not itself a
//! trusted proxy is the client. Everything left of it could be forged.

use std::net::IpAddr;

/// One trusted proxy: an address or a CIDR block (`10.0.0.0/8`, `fd00::/8`, `127.0.0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyNet {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for ProxyNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or CIDR block"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: prefix length must be 0 to {max}"))?,
        };
        Ok(Self {
            addr: canonical(addr),
            prefix,
        })
    }
}

/// IPv4-mapped IPv6 (`::ffff:10.0.0.1`, what a dual-stack socket reports) as plain IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

impl ProxyNet {
    /// Whether `ip` lies in this block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

fn trusted(proxies: &[ProxyNet], ip: IpAddr) -> bool {
    proxies.iter().any(|p| p.contains(ip))
}

/// The client address of a request from `peer` with these `X-Forwarded-For` header values
/// (in order). When `peer` is not trusted, or the header is absent, that is `peer` itself;
/// otherwise the rightmost hop that is not a trusted proxy. A hop that is not an IP address
/// stops the walk at the last trusted address, which is the most we can vouch for.
pub fn client_ip<'a>(
    peer: IpAddr,
    forwarded_for: impl IntoIterator<Item = &'a str>,
    proxies: &[ProxyNet],
) -> IpAddr {
    let peer = canonical(peer);
    if !trusted(proxies, peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded_for
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            return client;
        };
        client = ip;
        if !trusted(proxies, ip) {
            return ip;
        }
    }
    client
}

/// One hop: a bare address, or with a port (`1.2.3.4:5678`, `[::1]:5678`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sock) = hop.parse::<std::net::SocketAddr>() {
        return Some(canonical(sock.ip()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<ProxyNet> {
        list.iter().map(|s| s.parse().expect("valid")).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn blocks_parse_and_match() {
        let n: ProxyNet = "10.1.0.0/16".parse().expect("valid");
        assert!(n.contains(ip("10.1.255.3")));
        assert!(!n.contains(ip("10.2.0.1")));
        assert!(n.contains(ip("::ffff:10.1.0.9")), "IPv4-mapped peers match");
        let one: ProxyNet = "127.0.0.1".parse().expect("valid");
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let all: ProxyNet = "0.0.0.0/0".parse().expect("valid");
        assert!(all.contains(ip("8.8.8.8")) && !all.contains(ip("::1")));
        let v6: ProxyNet = "fd00::/8".parse().expect("valid");
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        for bad in [
            "10.0.0.0/33",
            "fd00::/129",
            "proxy",
            "10.0.0/8",
            "1.2.3.4/x",
            "",
        ] {
            assert!(bad.parse::<ProxyNet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_peer() {
        let proxies = nets(&["10.0.0.0/8"]);
        assert_eq!(
            client_ip(ip("203.0.113.5"), ["1.1.1.1"], &proxies),
            ip("203.0.113.5"),
            "an untrusted peer cannot claim another address"
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), ["1.1.1.1"], &[]),
            ip("10.0.0.2"),
            "no trusted proxies configured"
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), [], &proxies),
            ip("10.0.0.2"),
            "no header"
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let proxies = nets(&["10.0.0.0/8", "192.168.1.1"]);
        // The client forged "6.6.6.6"; the first proxy appended the real address.
        assert_eq!(
            client_ip(
                ip("10.0.0.2"),
                ["6.6.6.6, 203.0.113.9", "192.168.1.1"],
                &proxies
            ),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), ["10.0.0.7 , 10.0.0.8"], &proxies),
            ip("10.0.0.7"),
            "all hops trusted: the leftmost"
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), ["203.0.113.9:4711"], &proxies),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), ["[2001:db8::1]:443"], &proxies),
            ip("2001:db8::1")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), ["1.2.3.4, garbage, 10.0.0.5"], &proxies),
            ip("10.0.0.5"),
            "an unreadable hop stops at the last trusted address"
        );
    }
}
