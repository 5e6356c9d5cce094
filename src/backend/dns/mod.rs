//! Run-time name resolution of servers (`resolvers` sections, server
//! `resolvers NAME`): one UDP socket per name server, registered on the
//! worker's poller (token socket number [`DNS_SUB`]), one
//! [`resolution::Resolution`] per name a section resolves, shared by the
//! servers using it (a `server-template`'s servers share one). Answers
//! change the servers' addresses live; `show resolvers` prints the name
//! servers' counters. The worker owns one [`Resolvers`] and calls
//! [`Resolvers::tick`] when [`Resolvers::next_deadline`] is due and
//! [`Resolvers::on_readable`] on socket events.

pub mod apply;
pub mod message;
pub mod resolution;

use crate::backend::Backends;
use crate::cfg::resolvers::ResolversSection;
use crate::cfg::{Config, Family};
use crate::core::slab::Key;
use apply::DnsOutput;
use hashbrown::HashMap;
use message::{QType, Reply};
use mio::net::UdpSocket;
use resolution::{Next, Resolution, Status};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Instant;

/// Socket number marking a token as a name server's.
pub const DNS_SUB: u8 = 249;

/// A name server's counters, as `show resolvers` prints them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NsCounters {
    pub sent: u64,
    pub snd_error: u64,
    pub valid: u64,
    pub update: u64, // valid answers that changed a server's address
    pub cname: u64,
    pub cname_error: u64,
    pub any_err: u64, // no record of the asked type
    pub nx: u64,
    pub timeout: u64,
    pub refused: u64,
    pub other: u64,
    pub invalid: u64,
    pub too_big: u64,
    pub truncated: u64,
    pub outdated: u64, // answers to no pending query (a later name server's, or late)
}

/// One name server: its connected socket (None if it could not be
/// opened: every send then counts as `snd_error`).
struct Ns {
    name: String,
    addr: SocketAddr,
    sock: Option<UdpSocket>,
    counters: NsCounters,
}

struct Section {
    cfg: ResolversSection,
    ns: Vec<Ns>,
}

/// Every `resolvers` section of the worker and its resolutions.
pub struct Resolvers {
    sections: Vec<Section>,
    resolutions: Vec<Resolution>,
    ns_keys: Vec<(usize, usize)>, // token key index → (section, name server)
    pending: HashMap<u16, usize>, // query id → resolution
    next_id: u32,                 // xorshift state for query ids
    buf: Vec<u8>,                 // receive buffer (65535 bytes, allocated once)
}

impl Resolvers {
    /// The sections and the resolutions the servers ask for. Nothing is
    /// opened yet.
    pub fn new(cfg: &Config, now: Instant) -> Resolvers {
        let sections: Vec<Section> = cfg
            .resolvers
            .iter()
            .map(|r| Section {
                cfg: r.clone(),
                ns: r
                    .nameservers
                    .iter()
                    .map(|n| Ns {
                        name: n.name.clone(),
                        addr: n.addr,
                        sock: None,
                        counters: NsCounters::default(),
                    })
                    .collect(),
            })
            .collect();
        let mut resolutions: Vec<Resolution> = Vec::new();
        for (bi, p) in cfg.proxies.iter().enumerate().filter(|(_, p)| p.cap.backend) {
            for (si, s) in p.servers.iter().enumerate() {
                let (Some(name), Some(fqdn)) = (&s.resolvers, &s.fqdn) else { continue };
                let Some(sec) = sections.iter().position(|x| x.cfg.name == *name) else { continue };
                let prefer = if s.resolve_prefer == Family::V4 { QType::A } else { QType::Aaaa };
                let fqdn = fqdn.to_ascii_lowercase();
                let at =
                    resolutions.iter().position(|r| r.section == sec && r.fqdn == fqdn && r.prefer == prefer);
                let at = at.unwrap_or_else(|| {
                    resolutions.push(Resolution::new(sec, fqdn, prefer, now));
                    resolutions.len() - 1
                });
                resolutions[at].requesters.push((bi, si));
            }
        }
        let ns_keys =
            sections.iter().enumerate().flat_map(|(i, s)| (0..s.ns.len()).map(move |j| (i, j))).collect();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let seed = (std::process::id() ^ nanos ^ 0x9e37_79b9) | 1;
        Resolvers { sections, resolutions, ns_keys, pending: HashMap::new(), next_id: seed, buf: Vec::new() }
    }

    /// Opens and registers a socket per name server of a section that has
    /// resolutions. A name server that cannot be reached this way is
    /// logged and counted as send errors.
    pub fn open(&mut self, reg: &mio::Registry) {
        let used: Vec<bool> =
            (0..self.sections.len()).map(|i| self.resolutions.iter().any(|r| r.section == i)).collect();
        for (k, &(si, ni)) in self.ns_keys.iter().enumerate() {
            if !used[si] {
                continue;
            }
            let sec = &mut self.sections[si];
            let ns = &mut sec.ns[ni];
            let any: std::net::IpAddr = if ns.addr.is_ipv6() {
                std::net::Ipv6Addr::UNSPECIFIED.into()
            } else {
                std::net::Ipv4Addr::UNSPECIFIED.into()
            };
            let local = SocketAddr::new(any, 0);
            let opened = UdpSocket::bind(local).and_then(|mut s| {
                s.connect(ns.addr)?;
                reg.register(&mut s, Key::from_u64(k as u64).token(DNS_SUB), mio::Interest::READABLE)?;
                Ok(s)
            });
            match opened {
                Ok(s) => ns.sock = Some(s),
                Err(e) => {
                    log::warn!(target: "dns", "resolvers '{}': can't open a socket for nameserver '{}': {e}", sec.cfg.name, ns.name)
                }
            }
        }
        if self.buf.is_empty() && !self.resolutions.is_empty() {
            self.buf = vec![0; 65535];
        }
    }

    /// When [`Resolvers::tick`] has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.resolutions.iter().map(|r| r.deadline(&self.sections[r.section].cfg)).min()
    }

    /// Starts the resolutions that are due and handles the queries whose
    /// `timeout retry` passed.
    pub fn tick(&mut self, now: Instant, cfg: &Config, backends: &mut Backends, now_ms: u64) -> DnsOutput {
        let mut out = DnsOutput::default();
        for i in 0..self.resolutions.len() {
            let sec = self.resolutions[i].section;
            if self.resolutions[i].deadline(&self.sections[sec].cfg) > now {
                continue;
            }
            if let Some(f) = &self.resolutions[i].flight {
                self.pending.remove(&f.id);
                let answered = f.answered;
                for (n, ns) in self.sections[sec].ns.iter_mut().enumerate() {
                    if answered & (1 << n.min(63)) == 0 {
                        ns.counters.timeout += 1;
                    }
                }
                let next = self.resolutions[i].on_silence();
                self.follow(i, next, now, cfg, backends, now_ms, &mut out);
            } else {
                let id = self.new_id();
                self.resolutions[i].start(id, &self.sections[sec].cfg, now);
                self.send(i);
            }
        }
        out
    }

    /// Reads what name server socket `key` received.
    pub fn on_readable(
        &mut self,
        key: Key,
        now: Instant,
        cfg: &Config,
        backends: &mut Backends,
        now_ms: u64,
    ) -> DnsOutput {
        let mut out = DnsOutput::default();
        let Some(&(si, ni)) = self.ns_keys.get(key.as_u64() as usize) else { return out };
        let mut buf = std::mem::take(&mut self.buf);
        while let Some(sock) = &self.sections[si].ns[ni].sock {
            let n = match sock.recv(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break, // WouldBlock, or an ICMP error (refused port) for this socket
            };
            self.on_datagram(si, ni, &buf[..n], now, cfg, backends, now_ms, &mut out);
        }
        self.buf = buf;
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn on_datagram(
        &mut self,
        si: usize,
        ni: usize,
        data: &[u8],
        now: Instant,
        cfg: &Config,
        backends: &mut Backends,
        now_ms: u64,
        out: &mut DnsOutput,
    ) {
        let found = message::id_of(data).and_then(|id| self.pending.get(&id).copied());
        let Some(ri) = found.filter(|ri| self.resolutions[*ri].section == si) else {
            self.sections[si].ns[ni].counters.outdated += 1;
            return;
        };
        let Some(qtype) = self.resolutions[ri].flight.as_ref().map(|f| f.qtype) else { return };
        let reply = message::reply(data, &self.resolutions[ri].fqdn, qtype);
        let c = &mut self.sections[si].ns[ni].counters;
        let status = match reply {
            Reply::Valid { addrs, cname } => {
                c.valid += 1;
                c.cname += u64::from(cname);
                if let Some(f) = self.resolutions[ri].flight.take() {
                    self.pending.remove(&f.id);
                }
                let by = format!("{}/{}", self.sections[si].cfg.name, self.sections[si].ns[ni].name);
                let obsolete = self.sections[si].cfg.hold.obsolete;
                self.resolutions[ri].valid(&addrs, obsolete, now);
                if self.apply_valid(ri, &by, cfg, backends, now_ms, out) {
                    self.sections[si].ns[ni].counters.update += 1;
                }
                return;
            }
            Reply::NxDomain => {
                c.nx += 1;
                Status::Nx
            }
            Reply::Refused => {
                c.refused += 1;
                Status::Refused
            }
            Reply::NoAnswer => {
                c.any_err += 1;
                Status::Other
            }
            Reply::CnameOnly => {
                c.cname_error += 1;
                Status::Other
            }
            Reply::Truncated => {
                c.truncated += 1;
                Status::Other
            }
            Reply::OtherError => {
                c.other += 1;
                Status::Other
            }
            Reply::Invalid => {
                c.invalid += 1;
                Status::Other
            }
        };
        let count = self.sections[si].ns.len();
        let next = self.resolutions[ri].on_error(ni, count, status);
        self.follow(ri, next, now, cfg, backends, now_ms, out);
    }

    /// Carries out what the resolution decided after an error or a silence.
    #[allow(clippy::too_many_arguments)]
    fn follow(
        &mut self,
        ri: usize,
        next: Next,
        now: Instant,
        cfg: &Config,
        backends: &mut Backends,
        now_ms: u64,
        out: &mut DnsOutput,
    ) {
        match next {
            Next::Wait => {}
            Next::Send => {
                if let Some(f) = &self.resolutions[ri].flight {
                    self.pending.remove(&f.id);
                }
                let id = self.new_id();
                self.resolutions[ri].resend(id, now);
                self.send(ri);
            }
            Next::Fail(status) => {
                if let Some(f) = &self.resolutions[ri].flight {
                    self.pending.remove(&f.id);
                }
                self.resolutions[ri].fail(status, now);
                let r = &self.resolutions[ri];
                let sec = &self.sections[r.section].cfg;
                let expired = now.duration_since(r.last_valid) >= status.hold(sec);
                for &(bi, si) in &r.requesters {
                    if let (Some(be), Some(px)) = (backends.get_mut(bi), cfg.proxies.get(bi)) {
                        apply::failed(be, px, si, status, expired, now_ms, out);
                    }
                }
            }
        }
    }

    /// Gives each server of resolution `ri` its address from the cache.
    /// True when an address changed.
    fn apply_valid(
        &self,
        ri: usize,
        by: &str,
        cfg: &Config,
        backends: &mut Backends,
        now_ms: u64,
        out: &mut DnsOutput,
    ) -> bool {
        let r = &self.resolutions[ri];
        let cands: Vec<std::net::IpAddr> = r.cache.iter().map(|c| c.0).collect();
        let v6 = r.prefer == QType::Aaaa;
        let mut changed = false;
        for &(bi, si) in &r.requesters {
            let (Some(be), Some(px)) = (backends.get_mut(bi), cfg.proxies.get(bi)) else { continue };
            if si >= be.servers.len() || be.servers[si].deleted {
                continue;
            }
            let ip = apply::pick(be, px, si, &cands, v6);
            changed |= apply::valid(be, px, si, ip, by, now_ms, out);
        }
        changed
    }

    /// Sends resolution `ri`'s current query to every name server of its section.
    fn send(&mut self, ri: usize) {
        let r = &self.resolutions[ri];
        let Some(f) = &r.flight else { return };
        let sec = &mut self.sections[r.section];
        self.pending.insert(f.id, ri);
        let q = message::query(f.id, &r.fqdn, f.qtype, sec.cfg.accepted_payload_size);
        for ns in &mut sec.ns {
            let sent = match (&q, &ns.sock) {
                (Some(q), Some(s)) => s.send(q).is_ok(),
                _ => false,
            };
            if sent {
                ns.counters.sent += 1;
            } else {
                ns.counters.snd_error += 1;
            }
        }
    }

    /// A query id not pending now (xorshift32).
    fn new_id(&mut self) -> u16 {
        loop {
            let mut x = self.next_id;
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            self.next_id = x;
            let id = (x >> 8) as u16;
            if !self.pending.contains_key(&id) {
                return id;
            }
        }
    }

    /// `show resolvers [id]` in HAProxy 2.6's layout.
    pub fn show(&self, only: Option<&str>) -> Result<String, &'static str> {
        if only.is_some_and(|n| !self.sections.iter().any(|s| s.cfg.name == n)) {
            return Err("Can't find that resolvers section");
        }
        if self.sections.is_empty() {
            return Ok("No resolvers found\n".into());
        }
        let mut s = String::new();
        for sec in self.sections.iter().filter(|s| only.is_none_or(|n| s.cfg.name == n)) {
            let _ = writeln!(s, "Resolvers section {}", sec.cfg.name);
            for ns in &sec.ns {
                let c = &ns.counters;
                let _ = writeln!(s, " nameserver {}:", ns.name);
                for (k, v) in [
                    ("sent:       ", c.sent),
                    ("snd_error:  ", c.snd_error),
                    ("valid:      ", c.valid),
                    ("update:     ", c.update),
                    ("cname:      ", c.cname),
                    ("cname_error:", c.cname_error),
                    ("any_err:    ", c.any_err),
                    ("nx:         ", c.nx),
                    ("timeout:    ", c.timeout),
                    ("refused:    ", c.refused),
                    ("other:      ", c.other),
                    ("invalid:    ", c.invalid),
                    ("too_big:    ", c.too_big),
                    ("truncated:  ", c.truncated),
                    ("outdated:   ", c.outdated),
                ] {
                    let _ = writeln!(s, "  {k} {v}");
                }
            }
        }
        Ok(s)
    }
}
