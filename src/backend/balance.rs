//! Load-balancing algorithms: `roundrobin` (smooth weighted), `leastconn`,
//! `source` (weighted hash of the client address) and `first`.

use super::server::ServerState;
use crate::cfg::Balance;
use std::net::IpAddr;

/// An algorithm and the position it keeps between picks. Owned by its
/// `BackendState`.
pub struct Picker {
    algo: Balance,
    rr_current: Vec<i64>, // smooth weighted round-robin credit, per server
    last: usize,          // last server picked (leastconn tie rotation)
}

impl Picker {
    pub fn new(algo: Balance) -> Picker {
        Picker { algo, rr_current: Vec::new(), last: usize::MAX }
    }

    pub fn algorithm(&self) -> Balance {
        self.algo
    }

    /// Picks among servers for which `eligible(index, server)` holds and
    /// that are below their `maxconn`. None when no server qualifies.
    pub fn pick(
        &mut self,
        servers: &[ServerState],
        src: IpAddr,
        eligible: &dyn Fn(usize, &ServerState) -> bool,
    ) -> Option<usize> {
        let ok = |i: usize, s: &ServerState| eligible(i, s) && s.has_room();
        let chosen = match self.algo {
            Balance::RoundRobin => self.round_robin(servers, &ok),
            Balance::LeastConn => self.least_conn(servers, &ok),
            Balance::Source => source_hash(servers, src, &ok),
            Balance::First => servers.iter().enumerate().position(|(i, s)| ok(i, s)),
        }?;
        self.last = chosen;
        Some(chosen)
    }

    /// Smooth weighted round-robin: every eligible server earns its weight
    /// in credit, the richest is chosen and pays the total. Over a cycle
    /// each server is chosen `weight` times, interleaved.
    fn round_robin(
        &mut self,
        servers: &[ServerState],
        ok: &dyn Fn(usize, &ServerState) -> bool,
    ) -> Option<usize> {
        self.rr_current.resize(servers.len(), 0);
        let mut total = 0i64;
        let mut best: Option<usize> = None;
        for (i, s) in servers.iter().enumerate() {
            if !ok(i, s) {
                continue;
            }
            self.rr_current[i] += s.weight as i64;
            total += s.weight as i64;
            if best.is_none_or(|b| self.rr_current[i] > self.rr_current[b]) {
                best = Some(i);
            }
        }
        let b = best?;
        self.rr_current[b] -= total;
        Some(b)
    }

    /// Fewest connections relative to weight; ties go to the next server
    /// after the last one picked, so equal servers rotate.
    fn least_conn(&self, servers: &[ServerState], ok: &dyn Fn(usize, &ServerState) -> bool) -> Option<usize> {
        let n = servers.len();
        let start = if self.last == usize::MAX { 0 } else { (self.last + 1) % n.max(1) };
        let mut best: Option<(u64, usize)> = None;
        for k in 0..n {
            let i = (start + k) % n;
            let s = &servers[i];
            if !ok(i, s) {
                continue;
            }
            let score = (s.cur_conns as u64 + 1) * 256 / s.weight.max(1) as u64;
            if best.is_none_or(|(b, _)| score < b) {
                best = Some((score, i));
            }
        }
        best.map(|(_, i)| i)
    }
}

/// `balance source`: the client address hashed onto the eligible servers'
/// cumulated weights, so a client sticks to a server while the set of
/// servers does not change.
fn source_hash(
    servers: &[ServerState],
    src: IpAddr,
    ok: &dyn Fn(usize, &ServerState) -> bool,
) -> Option<usize> {
    let total: u64 =
        servers.iter().enumerate().filter(|(i, s)| ok(*i, s)).map(|(_, s)| s.weight as u64).sum();
    if total == 0 {
        return None;
    }
    let mut point = hash_addr(src) % total;
    for (i, s) in servers.iter().enumerate() {
        if !ok(i, s) {
            continue;
        }
        if point < s.weight as u64 {
            return Some(i);
        }
        point -= s.weight as u64;
    }
    None
}

/// A stable 32-bit mix of the address bytes (full avalanche, like
/// HAProxy's `full_hash`).
fn hash_addr(ip: IpAddr) -> u64 {
    let mut h: u32 = 0;
    let mut mix = |b: &[u8]| {
        for &x in b {
            h = h.wrapping_add(x as u32);
            h = h.wrapping_add(h << 10);
            h ^= h >> 6;
        }
    };
    match ip {
        IpAddr::V4(a) => mix(&a.octets()),
        IpAddr::V6(a) => mix(&a.octets()),
    }
    h = h.wrapping_add(h << 3);
    h ^= h >> 11;
    h = h.wrapping_add(h << 15);
    h as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::server::SrvAdmin;
    use std::net::Ipv4Addr;

    fn srv(name: &str, weight: u32) -> ServerState {
        let mut s = ServerState::new(&crate::cfg::Server {
            name: name.into(),
            id: 1,
            addr: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            port: Some(1),
            weight,
            ..Default::default()
        });
        s.admin = SrvAdmin::Ready;
        s
    }

    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn roundrobin_respects_weights_interleaved() {
        let servers = vec![srv("a", 3), srv("b", 1)];
        let mut p = Picker::new(Balance::RoundRobin);
        let picks: Vec<usize> = (0..8).map(|_| p.pick(&servers, LOCAL, &|_, _| true).unwrap()).collect();
        assert_eq!(picks.iter().filter(|&&i| i == 0).count(), 6);
        assert_eq!(picks.iter().filter(|&&i| i == 1).count(), 2);
        assert_ne!(picks[0..4], [0, 0, 0, 0][..], "interleaved, b appears within a cycle");
    }

    #[test]
    fn leastconn_prefers_idle_then_rotates() {
        let mut servers = vec![srv("a", 1), srv("b", 1), srv("c", 1)];
        servers[0].cur_conns = 2;
        let mut p = Picker::new(Balance::LeastConn);
        let first = p.pick(&servers, LOCAL, &|_, _| true).unwrap();
        let second = p.pick(&servers, LOCAL, &|_, _| true).unwrap();
        assert_ne!(first, 0);
        assert_ne!(second, 0);
        assert_ne!(first, second, "ties rotate");
    }

    #[test]
    fn source_is_sticky_and_first_fills_in_order() {
        let mut servers = vec![srv("a", 1), srv("b", 1), srv("c", 1)];
        let mut p = Picker::new(Balance::Source);
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        let once = p.pick(&servers, ip, &|_, _| true);
        assert!((0..5).all(|_| p.pick(&servers, ip, &|_, _| true) == once));

        let mut f = Picker::new(Balance::First);
        servers[0].maxconn = Some(1);
        assert_eq!(f.pick(&servers, ip, &|_, _| true), Some(0));
        servers[0].cur_conns = 1;
        assert_eq!(f.pick(&servers, ip, &|_, _| true), Some(1), "a is full");
        assert_eq!(f.pick(&servers, ip, &|i, _| i != 1), Some(2));
    }
}
