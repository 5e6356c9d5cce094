//! Load-balancing algorithms: which server gets a new stream.
//!
//! Every pick starts from the farm HAProxy 2.6 uses (`recount_servers`):
//! the usable active servers, or, when none is left, the first usable
//! backup server (every usable backup server with `option allbackups`).
//! Then the algorithm:
//! - `roundrobin`: smooth weighted round-robin; `leastconn`: fewest streams
//!   relative to weight, ties to the server that moved longest ago;
//!   `first`: the lowest id with room (`dynamic.rs`);
//! - `static-rr` and map-based hashing: HAProxy's weighted array (`map.rs`);
//! - consistent hashing and `random`: HAProxy's ring (`chash.rs`);
//! - the hash keys and functions (`hash.rs`): `source`, `uri`,
//!   `url_param`, `hdr(name)`, `rdp-cookie(name)`.
//!
//! Effective weights follow HAProxy: the dynamic algorithms scale the
//! configured weight by 16 and ramp it up during `slowstart`; the map
//! divides the configured weights by their greatest common divisor.

mod chash;
mod dynamic;
pub mod hash;
mod map;

use super::server::ServerState;
use crate::cfg::{Balance, HashType, Proxy};
use chash::{Pointed, Ring};
use map::{Map, Slotted};
use std::net::IpAddr;

/// What hash-based algorithms read from the stream being balanced.
/// Implemented by the stream layer.
pub trait LbInput {
    fn src(&self) -> IpAddr;
    /// The request URI (HTTP mode).
    fn uri(&self) -> Option<&[u8]>;
    /// The first value of request header `name` (HTTP mode).
    fn header(&self, name: &str) -> Option<&[u8]>;
    /// The request body bytes received so far, for a POST (HTTP mode).
    fn post_body(&self) -> Option<&[u8]>;
    /// The client's bytes received so far (TCP mode).
    fn payload(&self) -> &[u8];
}

/// What the algorithm chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    Server(usize), // this server, which has room
    Full(usize), // this server (a hash or persistence pins the stream to it), which is full: wait in its queue
    None,        // no server has room (wait in the backend's queue), or none is usable
}

/// One server of this pick's farm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Member {
    server: usize,   // index in the backend
    id: u32,         // the server's id (`first`, the consistent ring)
    weight: u32,     // effective weight
    cumulative: u32, // effective weight of the members before it (`hash-balance-factor`)
}

/// An algorithm and the state it keeps between picks. Owned by its
/// `BackendState`.
pub struct Picker {
    algo: Balance,
    hash: HashType,
    factor: u32,        // `hash-balance-factor`, 0: off
    all_backups: bool,  // `option allbackups`
    gcd: u32,           // of the configured weights: the map's weight unit
    farm: Vec<Member>,  // this pick's farm (kept to reuse its allocation)
    built: Vec<Member>, // the farm `map` and `ring` were built for
    map: Map,
    ring: Ring,
    dynamic: dynamic::State,
    rng: u32, // `random`'s xorshift state (never 0)
}

impl Picker {
    pub fn new(proxy: &Proxy) -> Picker {
        let weights: Vec<u32> = proxy.servers.iter().map(|s| s.weight).collect();
        let mut p = Picker::with(proxy.balance.clone(), &weights);
        p.hash = proxy.hash_type;
        p.factor = proxy.hash_balance_factor;
        p.all_backups = proxy.options.allbackups;
        p
    }

    /// A picker for `algo` over servers of the configured `weights`, with
    /// HAProxy's default hashing and no `allbackups`.
    fn with(algo: Balance, weights: &[u32]) -> Picker {
        let gcd = weights.iter().copied().filter(|w| *w > 0).fold(0, gcd);
        let seed = std::process::id().wrapping_mul(2_654_435_761)
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.subsec_nanos());
        Picker {
            algo,
            hash: HashType::default(),
            factor: 0,
            all_backups: false,
            gcd: gcd.max(1),
            farm: Vec::new(),
            built: Vec::new(),
            map: Map::default(),
            ring: Ring::default(),
            dynamic: dynamic::State::default(),
            rng: seed.max(1),
        }
    }

    pub fn algorithm(&self) -> &Balance {
        &self.algo
    }

    /// A stream was attached to or left server `srv` (leastconn reorders).
    pub fn moved(&mut self, srv: usize) {
        self.dynamic.moved(srv);
    }

    /// Whether some server of the farm could take a stream now: what the
    /// backend's queue waits for.
    pub fn farm_has_room(&mut self, servers: &[ServerState], now_ms: u64) -> bool {
        self.collect_farm(servers, now_ms);
        self.farm.iter().any(|m| servers[m.server].lb_has_room(now_ms))
    }

    /// Chooses a server for a new stream, avoiding `avoid` (a redispatch)
    /// where the algorithm can.
    pub fn pick(
        &mut self,
        servers: &[ServerState],
        input: &dyn LbInput,
        avoid: Option<usize>,
        now_ms: u64,
    ) -> Pick {
        self.collect_farm(servers, now_ms);
        if self.farm.is_empty() {
            return Pick::None;
        }
        let room = |i: usize| servers[i].lb_has_room(now_ms);
        let verdict = |s: Option<usize>| match s {
            Some(s) if room(s) => Pick::Server(s),
            Some(s) => Pick::Full(s),
            None => Pick::None,
        };
        // A single backup server takes everything, full or not (HAProxy's
        // `fbck`); the map holds only it anyway.
        let fbck = self.farm[0].server;
        if servers[fbck].backup && !self.all_backups && !self.map_based() {
            return match self.algo {
                Balance::Random { .. } if !room(fbck) => Pick::None,
                _ => verdict(Some(fbck)),
            };
        }
        match self.algo.clone() {
            Balance::RoundRobin => {
                self.dynamic.round_robin(&self.farm, avoid, &room).map_or(Pick::None, Pick::Server)
            }
            Balance::LeastConn => verdict(self.dynamic.least_conn(&self.farm, servers, avoid, now_ms)),
            Balance::First => self.dynamic.first(&self.farm, avoid, &room).map_or(Pick::None, Pick::Server),
            Balance::StaticRr => {
                self.sync();
                self.map.next(avoid, &room).map_or(Pick::None, Pick::Server)
            }
            Balance::Random { draws } => {
                self.sync();
                match self.random(servers, draws, avoid) {
                    // A full server sends the stream to the backend's queue.
                    Some(s) if room(s) => Pick::Server(s),
                    _ => Pick::None,
                }
            }
            algo => {
                self.sync();
                match self.key_hash(&algo, input) {
                    Some(h) if self.hash.consistent => {
                        let eligible = |s: usize| self.eligible(servers, s);
                        verdict(self.ring.by_hash(h, avoid, &eligible))
                    }
                    Some(h) => verdict(self.map.by_hash(h)),
                    // No key: round-robin over the same structure.
                    None if self.hash.consistent => {
                        self.ring.next(avoid, &room).map_or(Pick::None, Pick::Server)
                    }
                    None => self.map.next(avoid, &room).map_or(Pick::None, Pick::Server),
                }
            }
        }
    }

    /// The farm, with effective weights, into `self.farm`.
    fn collect_farm(&mut self, servers: &[ServerState], now_ms: u64) {
        self.farm.clear();
        let active = servers.iter().any(|s| !s.backup && s.usable());
        let map_based = self.map_based();
        let mut cumulative = 0;
        for (i, s) in servers.iter().enumerate() {
            if !s.usable() || s.backup == active {
                continue;
            }
            let weight = if map_based { s.weight.div_ceil(self.gcd) } else { s.lb_weight(now_ms) };
            self.farm.push(Member { server: i, id: s.id, weight, cumulative });
            cumulative += weight;
            if !active && !self.all_backups {
                break; // only the first usable backup server
            }
        }
    }

    /// Servers may be added and removed at run time (not map-based).
    pub fn dynamic(&self) -> bool {
        !self.map_based()
    }

    /// The algorithm uses the weighted array (static weights).
    fn map_based(&self) -> bool {
        matches!(self.algo, Balance::StaticRr) || (self.algo.is_hash() && !self.hash.consistent)
    }

    /// Rebuilds the map and the ring when the farm changed since they were built.
    fn sync(&mut self) {
        if self.farm == self.built {
            return;
        }
        self.built.clear();
        self.built.extend_from_slice(&self.farm);
        let slotted: Vec<Slotted> =
            self.farm.iter().map(|m| Slotted { server: m.server, weight: m.weight }).collect();
        self.map.build(&slotted);
        let pointed: Vec<Pointed> =
            self.farm.iter().map(|m| Pointed { server: m.server, id: m.id, weight: m.weight }).collect();
        self.ring.build(&pointed);
    }

    /// The hash of the request's key, None when the key is absent.
    fn key_hash(&self, algo: &Balance, input: &dyn LbInput) -> Option<u32> {
        let h = |key: &[u8]| hash::hash(&self.hash, key);
        match algo {
            Balance::Source => Some(hash::source(&self.hash, input.src())),
            Balance::Uri(u) => input.uri().map(|uri| h(hash::uri_key(u, uri))),
            Balance::UrlParam { name, check_post } => {
                let from_uri = input.uri().and_then(|u| hash::url_param(u, name));
                let from_body = || {
                    let body = input.post_body().filter(|_| *check_post)?;
                    hash::post_param(body, name)
                };
                from_uri.or_else(from_body).map(h)
            }
            Balance::Hdr { name, use_domain_only } => {
                let v = input.header(name).filter(|v| !v.is_empty())?;
                Some(h(if *use_domain_only { hash::domain_only(v) } else { v }))
            }
            Balance::RdpCookie(name) => {
                hash::rdp_cookie(input.payload(), name).filter(|v| !v.is_empty()).map(h)
            }
            _ => None,
        }
    }

    /// `random[(draws)]`: `draws` random points of the ring, keeping the
    /// least loaded server relative to its weight (HAProxy's power of
    /// random choices).
    fn random(&mut self, servers: &[ServerState], draws: u32, avoid: Option<usize>) -> Option<usize> {
        let mut best: Option<usize> = None;
        for _ in 0..draws.max(1) {
            let h = self.next_random();
            let eligible = |s: usize| self.eligible(servers, s);
            let Some(cur) = self.ring.by_hash(h, avoid, &eligible) else { break };
            best = match best {
                Some(prev) if prev != cur => {
                    let w = |s: usize| u64::from(self.weight_of(s));
                    let load = |s: usize| u64::from(servers[s].cur_conns);
                    if load(cur) * w(prev) > load(prev) * w(cur) { Some(prev) } else { Some(cur) }
                }
                _ => Some(cur),
            };
        }
        best
    }

    fn next_random(&mut self) -> u32 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }

    fn weight_of(&self, srv: usize) -> u32 {
        self.farm.iter().find(|m| m.server == srv).map_or(1, |m| m.weight)
    }

    /// `hash-balance-factor`: whether server `s` is below its share of the
    /// streams the backend's servers carry (plus the one to place), as
    /// HAProxy's `chash_server_is_eligible`. Always true without a factor.
    fn eligible(&self, servers: &[ServerState], s: usize) -> bool {
        if self.factor == 0 {
            return true;
        }
        let Some(m) = self.farm.iter().find(|m| m.server == s) else { return true };
        let total: u64 = self.farm.iter().map(|m| u64::from(m.weight)).sum::<u64>().max(1);
        let served: u64 = servers.iter().map(|s| u64::from(s.cur_conns)).sum();
        let slots_total = ((served + 1) * u64::from(self.factor)).div_ceil(100);
        let (per_weight, remainder) = (slots_total / total, slots_total % total);
        let (w, c) = (u64::from(m.weight), u64::from(m.cumulative));
        let slots = (w * per_weight + ((c + w) * remainder) / total - (c * remainder) / total).max(1);
        u64::from(servers[s].cur_conns) < slots
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests;
