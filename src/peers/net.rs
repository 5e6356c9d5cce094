//! The sockets of the peers sections, driven by the worker's poll loop:
//! one listener per section (the local peer's address) and the
//! connections to and from peers, in a slab of their own (token socket
//! number [`PEER_SUB`]). [`Peers`] is the object the worker owns.
//!
//! Nothing here blocks: reads and writes stop at `WouldBlock`, output is
//! bounded ([`proto::OUT_HIGH`]) and a connection that does not drain it,
//! or a peer that sends nothing, is closed with a log line.

use super::hello;
use super::proto::{self, Ctx, Effect, Proto};
use super::state::{self, Peer, Section, Shared};
use super::task::{self, Act};
use crate::cfg::Config;
use crate::cfg::listen::BindOpts;
use crate::cfg::peers::wire_name;
use crate::core::slab::{Key, TokenSlab};
use crate::l4_conn::Listener;
use crate::stick::Registry;
use mio::net::TcpStream;
use mio::{Interest, Registry as PollRegistry};
use std::io::{self, Read, Write};
use std::net::SocketAddr;

/// Socket number marking a token as a peers socket's.
pub const PEER_SUB: u8 = 251;

/// An accepted connection that has not finished its handshake, or a
/// peer that sends nothing, is closed after this (HAProxy's peers
/// frontend `timeout client`).
const IDLE_TIMEOUT: u64 = 5000;
/// A connection whose output does not move for this long is closed.
const WRITE_STALL: u64 = 5000;
/// Bytes read per call before the input is treated.
const READ_CHUNK: usize = 16 * 1024;
/// Output written per connection per turn before others get their turn.
const TURN_BUDGET: usize = 1 << 20;

/// One connection to or from a peer.
struct Conn {
    sock: TcpStream,
    section: usize,
    proto: Proto,
    connecting: bool,       // TCP connect not completed yet
    last_in: u64,           // when bytes last came in (ms)
    out_since: Option<u64>, // since when output is waiting without moving
    sent: usize,            // bytes of `proto.out` already written
    started: u64,
    calls: u32,     // times it was driven (`show peers` task_calls)
    accepted: bool, // the peer opened it
}

/// One connection as `show peers` shows it.
pub struct ConnInfo {
    pub addr: *const (),
    pub phase: proto::Phase,
    pub st1: u16,
    pub calls: u32,
    pub connecting: bool,
    pub remote_table: Option<usize>,
    pub last_local_table: Option<usize>,
    pub dict_tx: Vec<(usize, Option<std::sync::Arc<str>>)>,
    pub dict_rx: Vec<(usize, Option<std::sync::Arc<str>>)>,
    pub xprt: Option<(SocketAddr, SocketAddr)>, // accepted: (peer's address, ours)
}

enum Slot {
    Listen { l: Listener, section: usize },
    Conn(Box<Conn>),
}

/// Every peers section of the process and their sockets.
pub struct Peers {
    sections: Vec<Section>,
    slab: TokenSlab<Slot>,
    local_name: String,
    pid: u32,
    stopping: bool,
    stop_started: bool,
    stop_at: Option<u64>, // when the soft stop began
    wait_old: bool,
    rng: u64,
    next_run: Option<u64>, // when the sections' tasks want to run
    pending: bool,         // a connection has more to write than its turn allowed
}

impl Peers {
    /// The sections of `cfg` with a local peer, their tables from
    /// `tables`. `wait_old`: this process replaces an old one (`-sf`), whose
    /// lesson it waits for before asking remote peers.
    pub fn new(cfg: &Config, tables: &Registry, wait_old: bool) -> Peers {
        let mut sections = Vec::new();
        for sc in cfg.peers.iter().filter(|s| !s.disabled) {
            let Some(local) = sc.local else { continue };
            let shared: Vec<Shared> = cfg
                .proxies
                .iter()
                .enumerate()
                .filter(|(_, p)| {
                    p.stick_table.as_ref().and_then(|t| t.peers.as_deref()) == Some(sc.name.as_str())
                })
                .filter_map(|(i, p)| {
                    tables
                        .get(i)
                        .map(|t| Shared { table: t.clone(), name: wire_name(&sc.name, &p.name).to_string() })
                })
                .collect();
            let peers = sc
                .peers
                .iter()
                .enumerate()
                .map(|(i, pl)| {
                    let addr = if i == local { sc.local_addr() } else { pl.addr };
                    Peer::new(pl.name.clone(), addr, i == local, shared.len())
                })
                .collect();
            sections.push(Section {
                name: sc.name.clone(),
                flags: 0,
                resync_timeout: None,
                last_change: std::time::SystemTime::now(),
                task_calls: 0,
                peers,
                local,
                tables: shared,
                listen: sc.local_addr(),
                // the inherited socket serves when the address is the `bind` line's
                listen_fd: sc.bind_fd.filter(|_| sc.peers[local].addr.is_none()),
            });
        }
        let seed = u64::from(std::process::id()) << 32
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64);
        Peers {
            sections,
            slab: TokenSlab::default(),
            local_name: cfg.local_peer_name.clone(),
            pid: std::process::id(),
            stopping: false,
            stop_started: false,
            stop_at: None,
            wait_old,
            rng: seed | 1,
            next_run: Some(0),
            pending: false,
        }
    }

    /// This process replaces an old one: wait for its lesson first.
    pub fn set_replacing(&mut self) {
        self.wait_old = true;
    }

    pub fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }

    /// The sections, for `show peers`.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// What `show peers` prints of connection `link`.
    pub fn conn_info(&self, link: u64) -> Option<ConnInfo> {
        match self.slab.get(Key::from_u64(link))? {
            Slot::Conn(c) => Some(ConnInfo {
                addr: std::ptr::from_ref::<Conn>(c).cast(),
                phase: c.proto.phase,
                st1: c.proto.st1,
                calls: c.calls,
                connecting: c.connecting,
                remote_table: c.proto.remote_table,
                last_local_table: c.proto.last_local_table,
                dict_tx: c.proto.dict_tx.filled(),
                dict_rx: c.proto.dict_rx.all(),
                xprt: c.accepted.then(|| c.sock.peer_addr().ok().zip(c.sock.local_addr().ok())).flatten(),
            }),
            Slot::Listen { .. } => None,
        }
    }

    fn rand(&mut self) -> u32 {
        // xorshift64*: collision back-off only needs to differ between processes
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
    }

    /// The peers listeners' descriptors (handed to a new process by `-x`).
    pub fn listener_fds(&self) -> Vec<i32> {
        use std::os::fd::AsRawFd;
        self.slab
            .keys()
            .into_iter()
            .filter_map(|k| match self.slab.get(k) {
                Some(Slot::Listen { l, .. }) => Some(l.sock.as_raw_fd()),
                _ => None,
            })
            .collect()
    }

    /// Binds every section's local peer address (SO_REUSEPORT, so a new
    /// process binds while the old one still listens).
    pub fn bind(&mut self, reg: &PollRegistry) -> Result<(), (String, SocketAddr, io::Error)> {
        for (i, s) in self.sections.iter().enumerate() {
            let Some(addr) = s.listen else { continue };
            let l = match s.listen_fd {
                Some(fd) => Listener::adopt(fd, addr, usize::MAX, false),
                None => Listener::bind(addr, usize::MAX, false, &BindOpts::default(), true, 1024),
            };
            let mut l = l.map_err(|e| (s.name.clone(), addr, e))?;
            let key = self.slab.vacant_key();
            reg.register(&mut l.sock, key.token(PEER_SUB), Interest::READABLE)
                .map_err(|e| (s.name.clone(), addr, e))?;
            self.slab.insert(Slot::Listen { l, section: i });
        }
        Ok(())
    }

    /// A readiness event on one of our sockets.
    pub fn on_event(&mut self, key: Key, reg: &PollRegistry, now: u64) {
        let section = match self.slab.get_mut(key) {
            Some(Slot::Listen { section, .. }) => Some(*section),
            Some(Slot::Conn(_)) => None,
            None => return,
        };
        if let Some(s) = section {
            return self.accept(key, s, reg, now);
        }
        self.drive(key, reg, now);
    }

    fn accept(&mut self, key: Key, section: usize, reg: &PollRegistry, now: u64) {
        loop {
            let Some(Slot::Listen { l, .. }) = self.slab.get_mut(key) else { return };
            match l.accept() {
                Ok(Some((mut sock, from))) => {
                    let _ = sock.set_nodelay(true);
                    let ck = self.slab.vacant_key();
                    if reg
                        .register(&mut sock, ck.token(PEER_SUB), Interest::READABLE | Interest::WRITABLE)
                        .is_err()
                    {
                        continue;
                    }
                    log::debug!(target: "peers", "peers {}: connection from {from}", self.sections[section].name);
                    let c = Conn {
                        sock,
                        section,
                        proto: Proto::accepted(),
                        connecting: false,
                        last_in: now,
                        out_since: None,
                        sent: 0,
                        started: now,
                        calls: 0,
                        accepted: true,
                    };
                    self.slab.insert(Slot::Conn(Box::new(c)));
                }
                Ok(None) => return,
                Err(e) => {
                    log::warn!(target: "peers", "peers {}: accept failed: {e}", self.sections[section].name);
                    return;
                }
            }
        }
    }

    /// Opens our connection to peer `p` of section `s`.
    fn connect(&mut self, s: usize, p: usize, reg: &PollRegistry, now: u64) {
        let Some(addr) = self.sections[s].peers[p].addr else { return };
        let sect = &mut self.sections[s];
        let (sname, peer) = (&sect.name, &mut sect.peers[p]);
        peer.new_conn += 1;
        peer.reconnect = Some(now + state::RECONNECT_TIMEOUT);
        peer.heartbeat = None;
        peer.statuscode = hello::ST_CONNECTING;
        peer.last_hdshk = Some(now);
        let mut sock = match TcpStream::connect(addr) {
            Ok(s) => s,
            Err(e) => {
                log::debug!(target: "peers", "peers {}: connect to {} ({addr}) failed: {e}", sname, peer.name);
                return;
            }
        };
        let _ = sock.set_nodelay(true);
        let key = self.slab.vacant_key();
        if reg.register(&mut sock, key.token(PEER_SUB), Interest::READABLE | Interest::WRITABLE).is_err() {
            return;
        }
        peer.link = Some(key.as_u64());
        let c = Conn {
            sock,
            section: s,
            proto: Proto::connecting(p),
            connecting: true,
            last_in: now,
            out_since: None,
            sent: 0,
            started: now,
            calls: 0,
            accepted: false,
        };
        self.slab.insert(Slot::Conn(Box::new(c)));
    }

    /// Reads, treats, writes; closes the connection when it ended.
    fn drive(&mut self, key: Key, reg: &PollRegistry, now: u64) {
        let rand = self.rand();
        let Peers { sections, slab, local_name, pid, stopping, .. } = self;
        let Some(Slot::Conn(c)) = slab.get_mut(key) else { return };
        c.calls = c.calls.wrapping_add(1);
        let sect = &mut sections[c.section];
        let ctx = Ctx { local_name, pid: *pid, stopping: *stopping, now, rand, link: key.as_u64() };
        let mut closed = None;
        if c.connecting {
            match c.sock.take_error() {
                Ok(None) if c.sock.peer_addr().is_ok() => {
                    c.connecting = false;
                    c.proto.on_connected(sect, &ctx);
                }
                Ok(None) => {} // still in progress
                Ok(Some(e)) | Err(e) => closed = Some(format!("connect failed: {e}")),
            }
        }
        let mut effect = Effect::None;
        if closed.is_none() && !c.connecting {
            let mut buf = [0u8; READ_CHUNK];
            loop {
                match c.sock.read(&mut buf) {
                    Ok(0) => {
                        closed = Some("closed by the peer".into());
                        break;
                    }
                    Ok(n) => {
                        c.last_in = now;
                        c.proto.input.extend_from_slice(&buf[..n]);
                        if let e @ Effect::Kill(_) = c.proto.on_input(sect, &ctx) {
                            effect = e;
                        }
                        if c.proto.phase == proto::Phase::End {
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        closed = Some(format!("read error: {e}"));
                        break;
                    }
                }
            }
        }
        if closed.is_none() && c.proto.established() {
            c.proto.produce(sect, &ctx);
        }
        if closed.is_none()
            && let Err(e) = flush(c, now)
        {
            closed = Some(format!("write error: {e}"));
        }
        if closed.is_none() && c.proto.phase == proto::Phase::End && c.sent >= c.proto.out.len() {
            closed = c.proto.reason.take().or(Some("ended".into()));
        }
        if let Effect::Kill(other) = effect {
            self.close(Key::from_u64(other), reg, now, "replaced by the peer's new connection");
        }
        if let Some(why) = closed {
            self.close(key, reg, now, &why);
        } else {
            self.pump(key, reg, now);
        }
    }

    /// Writes what is due on an established connection, within its turn.
    fn pump(&mut self, key: Key, reg: &PollRegistry, now: u64) {
        let rand = self.rand();
        let Peers { sections, slab, local_name, pid, stopping, pending, .. } = self;
        let Some(Slot::Conn(c)) = slab.get_mut(key) else { return };
        if !c.proto.established() {
            return;
        }
        let sect = &mut sections[c.section];
        let ctx = Ctx { local_name, pid: *pid, stopping: *stopping, now, rand, link: key.as_u64() };
        let mut written = 0;
        let mut err = None;
        loop {
            let more = c.proto.produce(sect, &ctx);
            let before = c.sent;
            match flush(c, now) {
                Err(e) => {
                    err = Some(format!("write error: {e}"));
                    break;
                }
                Ok(drained) => {
                    written += c.sent.max(before) - before;
                    if !drained || !more {
                        break;
                    }
                }
            }
            if written >= TURN_BUDGET {
                *pending = true;
                break;
            }
        }
        let ended = c.proto.phase == proto::Phase::End && c.sent >= c.proto.out.len();
        if let Some(e) = err {
            self.close(key, reg, now, &e);
        } else if ended {
            let why = c.proto.reason.take().unwrap_or_else(|| "ended".into());
            self.close(key, reg, now, &why);
        }
    }

    /// Closes connection `key` (`why` goes to the log).
    fn close(&mut self, key: Key, reg: &PollRegistry, now: u64, why: &str) {
        let Some(Slot::Conn(mut c)) = self.slab.remove(key) else { return };
        let _ = reg.deregister(&mut c.sock);
        let sect = &mut self.sections[c.section];
        let who = c
            .proto
            .peer
            .map_or_else(|| "an unidentified peer".to_owned(), |p| format!("peer '{}'", sect.peers[p].name));
        // retried connects are routine; a peer going away is news; the
        // rest (bad bytes, stalls, refused handshakes) is a warning
        let level = if why.starts_with("connect") {
            log::Level::Debug
        } else if ["lesson confirmed", "replaced", "soft stop", "closed by the peer"]
            .iter()
            .any(|n| why.starts_with(n))
        {
            log::Level::Info
        } else {
            log::Level::Warn
        };
        log::log!(target: "peers", level, "peers {}: connection with {who} closed: {why}", sect.name);
        if let Some(p) = c.proto.peer
            && sect.peers[p].link == Some(key.as_u64())
        {
            if sect.peers[p].statuscode == hello::ST_TRY_AGAIN {
                sect.peers[p].reconnect = Some(now + 100);
            }
            sect.session_ended(p, now);
        }
        self.next_run = Some(now);
    }

    /// Runs at the end of every loop turn and when the peers timer fires:
    /// the sections' tasks when due, time-outs, and the writing of local
    /// updates. Returns when it wants to run next (ms).
    pub fn turn(&mut self, reg: &PollRegistry, now: u64) -> Option<u64> {
        if self.sections.is_empty() {
            return None;
        }
        self.pending = false;
        self.expire_conns(reg, now);
        let stop_started = std::mem::take(&mut self.stop_started);
        let mut next = None;
        for s in 0..self.sections.len() {
            let env = task::Env {
                now,
                stopping: self.stopping,
                stop_started,
                wait_old: self.wait_old,
                rand: self.rand(),
            };
            let slab = &self.slab;
            let est = |p: usize| {
                self.sections[s].peers[p].link.is_some_and(
                    |l| matches!(slab.get(Key::from_u64(l)), Some(Slot::Conn(c)) if c.proto.established()),
                )
            };
            let est_now: Vec<bool> = (0..self.sections[s].peers.len()).map(est).collect();
            let (acts, at) = task::plan(&mut self.sections[s], &env, &|p| est_now[p]);
            next = min(next, at);
            for a in acts {
                match a {
                    Act::Connect(p) => self.connect(s, p, reg, now),
                    Act::Kill(p) => {
                        if let Some(l) = self.sections[s].peers[p].link {
                            let why = if self.stopping { "soft stop" } else { "peer not alive" };
                            self.close(Key::from_u64(l), reg, now, why);
                        }
                    }
                    Act::Wake(_) => {}
                }
            }
        }
        // every established connection writes what is due (updates, acks, lessons)
        for key in self.slab.keys() {
            if matches!(self.slab.get(key), Some(Slot::Conn(c)) if c.proto.established()) {
                self.pump(key, reg, now);
            }
        }
        self.next_run = next;
        if self.pending { Some(now) } else { min(next, self.conn_deadline()) }
    }

    /// Closes connections past their time limits.
    fn expire_conns(&mut self, reg: &PollRegistry, now: u64) {
        let mut dead = Vec::new();
        for key in self.slab.keys() {
            let Some(Slot::Conn(c)) = self.slab.get(key) else { continue };
            let peer_is_local = c.proto.peer.is_some_and(|p| self.sections[c.section].peers[p].local);
            if c.connecting && now >= c.started + state::RECONNECT_TIMEOUT {
                dead.push((key, "connect timeout".to_owned()));
            } else if !c.proto.established() && !c.connecting && now >= c.last_in + IDLE_TIMEOUT {
                dead.push((key, "handshake timeout (the peer stalled)".to_owned()));
            } else if (c.proto.peer.is_none() || peer_is_local)
                && c.proto.established()
                && now >= c.last_in + 3 * IDLE_TIMEOUT
                && c.proto.out.is_empty()
            {
                dead.push((key, "no message for 15 s".to_owned()));
            }
            if let Some(since) = c.out_since
                && now >= since + WRITE_STALL
            {
                dead.push((key, "output not read by the peer for 5 s (stalled)".to_owned()));
            }
        }
        for (k, why) in dead {
            self.close(k, reg, now, &why);
        }
    }

    fn conn_deadline(&self) -> Option<u64> {
        let mut d = None;
        for key in self.slab.keys() {
            if let Some(Slot::Conn(c)) = self.slab.get(key) {
                if c.connecting {
                    d = min(d, Some(c.started + state::RECONNECT_TIMEOUT));
                } else if !c.proto.established() {
                    d = min(d, Some(c.last_in + IDLE_TIMEOUT));
                }
                d = min(d, c.out_since.map(|s| s + WRITE_STALL));
            }
        }
        d
    }

    /// Soft stop: listeners close (the new process takes the local peer
    /// connections), connections to peers close, and the tables are taught
    /// to the new process before this one may exit.
    pub fn soft_stop(&mut self, reg: &PollRegistry, now: u64) {
        if self.stopping {
            return;
        }
        self.stopping = true;
        self.stop_started = true;
        self.stop_at = Some(now);
        for key in self.slab.keys() {
            if let Some(Slot::Listen { .. }) = self.slab.get(key)
                && let Some(Slot::Listen { mut l, .. }) = self.slab.remove(key)
            {
                let _ = reg.deregister(&mut l.sock);
            }
        }
        self.turn(reg, now);
    }

    /// Whether the process must stay up to finish handing its tables over
    /// (at most 10 s after the soft stop, then it gives up with a warning).
    pub fn holds_stop(&mut self, now: u64) -> bool {
        let holding = self.sections.iter().any(|s| s.flags & state::DONOTSTOP != 0);
        if holding && self.stop_at.is_some_and(|t| now >= t + 10_000) {
            for s in &mut self.sections {
                if s.flags & state::DONOTSTOP != 0 {
                    log::warn!(target: "peers", "peers {}: the new process did not take the tables over in 10 s; stopping anyway", s.name);
                    s.flags &= !state::DONOTSTOP;
                }
            }
            return false;
        }
        holding
    }
}

fn min(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Writes pending output. `Ok(true)` when all of it went out.
fn flush(c: &mut Conn, now: u64) -> io::Result<bool> {
    while c.sent < c.proto.out.len() {
        match c.sock.write(&c.proto.out[c.sent..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                c.sent += n;
                c.out_since = None;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                c.out_since.get_or_insert(now);
                return Ok(false);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    c.proto.out.clear();
    c.sent = 0;
    c.out_since = None;
    Ok(true)
}
