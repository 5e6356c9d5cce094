//! The worker's health checks: one [`Check`] per server with `check`, in
//! a slab of their own (token socket number [`CHECK_SUB`]), and the
//! reporting of state changes the way HAProxy reports them.

use crate::backend::Backends;
use crate::backend::check::{Check, CheckSpec, HttpProbe, Transition};
use crate::cfg::Config;
use crate::core::slab::{Key, TokenSlab};
use log::warn;
use mio::Registry;
use std::time::Instant;

/// Socket number marking a token as a health check's.
pub const CHECK_SUB: u8 = 254;

/// All health checks of a worker.
#[derive(Default)]
pub struct Checks {
    slab: TokenSlab<Check>,
}

impl Checks {
    /// One check per server with `check`, first probes spread over the
    /// first interval so they do not all fire at once.
    pub fn new(cfg: &Config, now: Instant) -> Checks {
        let mut slab = TokenSlab::default();
        for (bi, p) in cfg.proxies.iter().enumerate().filter(|(_, p)| p.cap.backend) {
            let n = p.servers.iter().filter(|s| s.check).count().max(1) as u32;
            for (si, s) in p.servers.iter().enumerate().filter(|(_, s)| s.check) {
                let connect = p.timeouts.connect.map_or(s.inter, |c| c.min(s.inter));
                let http = p.http_check.as_ref().map(|h| HttpProbe {
                    request: format!("{} {} {}\r\n\r\n", h.method, h.uri, h.version).into_bytes(),
                    expect_status: h.expect_status,
                });
                let spec = CheckSpec {
                    backend: bi,
                    server: si,
                    addr: std::net::SocketAddr::new(s.addr, s.port.unwrap_or(80)),
                    inter: s.inter,
                    rise: s.rise.max(1),
                    fall: s.fall.max(1),
                    connect_timeout: connect,
                    read_timeout: p.timeouts.check.unwrap_or(s.inter),
                    http,
                };
                let first_in = s.inter * (slab.len() as u32 % n) / n;
                slab.insert(Check::new(spec, now, first_in));
            }
        }
        Checks { slab }
    }

    pub fn keys(&self) -> Vec<Key> {
        self.slab.keys()
    }

    pub fn get_mut(&mut self, key: Key) -> Option<&mut Check> {
        self.slab.get_mut(key)
    }

    /// Runs check `key` (after an event or its timer) and applies a state
    /// change to the server. Returns the check's next deadline.
    pub fn run(
        &mut self,
        key: Key,
        registry: &Registry,
        now: Instant,
        backends: &mut Backends,
        cfg: &Config,
    ) -> Option<Instant> {
        let check = self.slab.get_mut(key)?;
        if let Some(t) = check.run(registry, key.token(CHECK_SUB), now) {
            apply(&t, &check.spec, backends, cfg);
        }
        Some(check.next_deadline())
    }
}

/// Marks the server UP or DOWN and prints HAProxy's messages.
fn apply(t: &Transition, spec: &CheckSpec, backends: &mut Backends, cfg: &Config) {
    let Some(be) = backends.get_mut(spec.backend) else { return };
    let Some(srv) = be.servers.get_mut(spec.server) else { return };
    srv.up = t.up;
    let name = format!("{}/{}", cfg.proxies[spec.backend].name, srv.name);
    let cur = srv.cur_conns;
    let active = be.servers.iter().filter(|s| !s.backup && s.usable()).count();
    let backup = be.servers.iter().filter(|s| s.backup && s.usable()).count();
    let ms = t.duration.as_millis();
    let line = if t.up {
        format!(
            "Server {name} is UP, reason: {}, check duration: {ms}ms. {active} active and {backup} backup servers online. 0 sessions requeued, 0 total in queue.",
            t.reason
        )
    } else {
        format!(
            "Server {name} is DOWN, reason: {}, check duration: {ms}ms. {active} active and {backup} backup servers left. {cur} sessions active, 0 requeued, 0 remaining in queue.",
            t.reason
        )
    };
    warn!(target: "check", "{line}");
    eprintln!("[WARNING]  ({}) : {line}", std::process::id());
    if active + backup == 0 {
        eprintln!("[ALERT]    ({}) : backend '{}' has no server available!", std::process::id(), be.name);
    }
}
