//! The worker's health checks: one [`Check`] per server with `check`, in
//! a slab of their own (token socket number [`CHECK_SUB`]), and the
//! reporting of state changes the way HAProxy reports them.

use crate::backend::Backends;
use crate::backend::Health;
use crate::backend::check::{Check, CheckSpec, HttpProbe, Transition};
use crate::cfg::Config;
use crate::core::slab::{Key, TokenSlab};
use log::warn;
use mio::Registry;
use std::time::{Duration, Instant};

/// A server a check just marked UP or DOWN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerChange {
    pub backend: usize, // proxy index
    pub server: usize,  // index in the backend
    pub up: bool,
}

/// Socket number marking a token as a health check's.
pub const CHECK_SUB: u8 = 254;

/// All health checks of a worker.
#[derive(Default)]
pub struct Checks {
    slab: TokenSlab<Check>,
}

impl Checks {
    /// One check per server with `check`, first probes spread as HAProxy's
    /// `start_checks` does: check number `pos` of `n` starts after
    /// `max(m, its interval) * pos / n`, `m` being the shortest interval
    /// of at least 1s among all checks, so they do not all fire at once.
    pub fn new(cfg: &Config, now: Instant) -> Checks {
        let mut checks = Vec::new();
        for (bi, p) in cfg.proxies.iter().enumerate().filter(|(_, p)| p.cap.backend) {
            for (si, s) in p.servers.iter().enumerate().filter(|(_, s)| s.check) {
                let connect = p.timeouts.connect.map_or(s.inter, |c| c.min(s.inter));
                let http = p.http_check.as_ref().map(|h| HttpProbe {
                    request: format!("{} {} {}\r\n\r\n", h.method, h.uri, h.version).into_bytes(),
                    expect_status: h.expect_status,
                });
                let spec = CheckSpec {
                    backend: bi,
                    server: si,
                    port: s.check_port.or(s.port).unwrap_or(0),
                    fastinter: s.fastinter,
                    downinter: s.downinter,
                    inter: s.inter,
                    rise: s.rise.max(1),
                    fall: s.fall.max(1),
                    connect_timeout: connect,
                    read_timeout: p.timeouts.check.unwrap_or(s.inter),
                    http,
                    tls: None,
                };
                checks.push(Check::new(spec, now, Duration::ZERO));
            }
        }
        let n = checks.len().max(1) as u32;
        let threshold = Duration::from_secs(1);
        let shortest = checks.iter().map(Check::interval).filter(|i| *i >= threshold).min();
        let mut slab = TokenSlab::default();
        for (pos, check) in checks.into_iter().enumerate() {
            let spread = shortest.map_or(check.interval(), |m| m.max(check.interval()));
            // `max-spread-checks` bounds the window.
            let spread = cfg.global.process.max_spread_checks.map_or(spread, |m| spread.min(m));
            let first_in = spread * pos as u32 / n;
            slab.insert(Check::new(check.spec, now, first_in));
        }
        Checks { slab }
    }

    /// Gives `check-ssl` checks their TLS settings.
    pub fn use_tls(&mut self, tls: &crate::l4_conn::TlsSet) {
        for key in self.slab.keys() {
            if let Some(c) = self.slab.get_mut(key) {
                c.spec.tls = tls
                    .server(c.spec.backend, c.spec.server)
                    .filter(|t| t.check_ssl)
                    .map(|t| (t.clone(), t.check_sni.clone()));
            }
        }
    }

    pub fn keys(&self) -> Vec<Key> {
        self.slab.keys()
    }

    pub fn get_mut(&mut self, key: Key) -> Option<&mut Check> {
        self.slab.get_mut(key)
    }

    /// Runs check `key` (after an event or its timer) and applies a state
    /// change to the server. Returns the check's next deadline and the
    /// change, if the server went UP or DOWN.
    pub fn run(
        &mut self,
        key: Key,
        registry: &Registry,
        now: Instant,
        backends: &mut Backends,
        cfg: &Config,
        now_ms: u64,
    ) -> (Option<Instant>, Option<ServerChange>) {
        let Some(check) = self.slab.get_mut(key) else { return (None, None) };
        // Checks pause while the server is in maintenance, has no address
        // or its checks are disabled (`disable health`).
        let target = backends
            .get(check.spec.backend)
            .and_then(|b| b.servers.get(check.spec.server))
            .filter(|s| !s.in_maint() && s.check_enabled)
            .and_then(|s| s.check_addr.or(s.addr));
        let transition = check.run(registry, key.token(CHECK_SUB), now, target);
        report(check, backends);
        let change = transition.map(|t| {
            apply(&t, &check.spec, backends, cfg, now_ms);
            ServerChange { backend: check.spec.backend, server: check.spec.server, up: t.up }
        });
        (Some(check.next_deadline()), change)
    }
}

/// Copies what the check knows into the server's `show stat` view.
fn report(check: &Check, backends: &mut Backends) {
    let spec = &check.spec;
    let Some(srv) = backends.get_mut(spec.backend).and_then(|be| be.servers.get_mut(spec.server)) else {
        return;
    };
    let h = srv.health.get_or_insert_with(Health::default);
    h.value = check.health;
    h.rise = spec.rise;
    h.fall = spec.fall;
    h.failures = check.failures;
    match &check.last {
        Some((result, duration)) => {
            let (status, code, desc, info) = result.parts();
            h.status = status;
            h.code = code;
            h.desc = desc.to_owned();
            h.info = info.to_owned();
            h.duration_ms = Some(duration.as_millis() as u64);
        }
        None => h.status = "INI",
    }
}

/// Marks the server UP or DOWN and prints HAProxy's messages.
fn apply(t: &Transition, spec: &CheckSpec, backends: &mut Backends, cfg: &Config, now_ms: u64) {
    let Some(be) = backends.get_mut(spec.backend) else { return };
    let was_up = be.is_up();
    let Some(srv) = be.servers.get_mut(spec.server) else { return };
    srv.set_up(t.up, now_ms);
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
    be.note_state(was_up, now_ms);
    if active + backup == 0 {
        eprintln!("[ALERT]    ({}) : backend '{}' has no server available!", std::process::id(), be.name);
    }
}
