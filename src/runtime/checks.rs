//! The worker's health and agent checks: one [`Check`] per server with
//! `check` (and one per server with `agent-check`), in a slab of their
//! own (token socket number [`CHECK_SUB`]). After each run the result
//! goes to the server's `show stat` view, the agent's words are applied,
//! and the server's state follows both checks as HAProxy's
//! `check_notify_*`: UP only while every configured check is at `rise` or
//! above; the messages are `check_report`'s.

use super::check_report::{self, LogLine};
use crate::backend::check::program::Program;
use crate::backend::check::send_state;
use crate::backend::check::{Check, CheckSpec, Finished};
use crate::backend::{Backends, Health};
use crate::cfg::Config;
use crate::core::slab::{Key, TokenSlab};
use mio::Registry;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A server a check just marked UP or DOWN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerChange {
    pub backend: usize, // proxy index
    pub server: usize,  // index in the backend
    pub up: bool,
}

/// What one check event produced for the worker.
#[derive(Debug, Default)]
pub struct CheckOutput {
    pub next: Option<Instant>,        // the check's next deadline
    pub change: Option<ServerChange>, // the server went UP or DOWN
    pub logs: Vec<LogLine>,           // lines for the backend's log targets
}

/// Socket number marking a token as a health check's.
pub const CHECK_SUB: u8 = 254;

/// All health checks of a worker.
#[derive(Default)]
pub struct Checks {
    slab: TokenSlab<Check>,
}

impl Checks {
    /// The checks of every server, first runs spread as HAProxy's
    /// `start_checks` does: check number `pos` of `n` starts after
    /// `max(m, its interval) * pos / n`, `m` being the shortest interval
    /// of at least 1s among all checks, so they do not all fire at once.
    pub fn new(cfg: &Config, now: Instant) -> Checks {
        let mut checks = Vec::new();
        for (bi, p) in cfg.proxies.iter().enumerate().filter(|(_, p)| p.cap.backend) {
            let program = Arc::new(Program::build(&p.checks));
            let t = &p.timeouts;
            for (si, s) in p.servers.iter().enumerate() {
                let spec = |agent: bool, program: Arc<Program>, port: u16, inter: Duration| CheckSpec {
                    backend: bi,
                    server: si,
                    agent,
                    port,
                    inter,
                    fastinter: s.fastinter,
                    downinter: s.downinter,
                    rise: s.rise.max(1),
                    fall: s.fall.max(1),
                    timeout_connect: t.connect,
                    timeout_check: t.check,
                    program,
                    tls: None,
                    // The service's PROXY header goes to checks of the service port.
                    proxy_header: if s.check_send_proxy {
                        Some(s.send_proxy.unwrap_or(crate::cfg::ProxyVersion::V1))
                    } else if s.check_port.is_none() && s.check_addr.is_none() {
                        s.send_proxy
                    } else {
                        None
                    },
                    unix: s
                        .unix
                        .clone()
                        .filter(|_| !agent && s.check_port.is_none() && s.check_addr.is_none()),
                };
                if s.check {
                    let port = s.check_port.or(s.port).unwrap_or(0);
                    checks.push(Check::new(spec(false, program.clone(), port, s.inter), now, Duration::ZERO));
                }
                if s.agent.enabled {
                    let agent = Arc::new(Program::agent(s.agent.send.as_deref()));
                    let mut a =
                        spec(true, agent, s.agent.port.unwrap_or(0), s.agent.inter.unwrap_or(s.inter));
                    a.proxy_header = None;
                    checks.push(Check::new(a, now, Duration::ZERO));
                }
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
            if let Some(c) = self.slab.get_mut(key).filter(|c| !c.spec.agent) {
                c.spec.tls = tls
                    .server(c.spec.backend, c.spec.server)
                    .filter(|t| t.check_ssl)
                    .map(|t| (t.clone(), t.check_sni.clone()));
            }
        }
    }

    /// How many health checks run.
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    pub fn keys(&self) -> Vec<Key> {
        self.slab.keys()
    }

    /// A server-state file set where server `server` of `backend` stands:
    /// its check continues from `health` and connects to `port`.
    pub fn take_over(&mut self, backend: usize, server: usize, health: Option<u32>, port: Option<u16>) {
        for key in self.slab.keys() {
            if let Some(c) =
                self.slab.get_mut(key).filter(|c| c.spec.backend == backend && c.spec.server == server)
            {
                if let Some(h) = health {
                    c.health = h;
                }
                if let Some(p) = port {
                    c.spec.port = p;
                }
            }
        }
    }

    pub fn get_mut(&mut self, key: Key) -> Option<&mut Check> {
        self.slab.get_mut(key)
    }

    /// Runs check `key` (after an event or its timer) and applies what a
    /// finished run says to its server.
    pub fn run(
        &mut self,
        key: Key,
        registry: &Registry,
        (now, now_ms): (Instant, u64),
        backends: &mut Backends,
        cfg: &Config,
        node: &str, // `node`, else the host name (`http-check send-state`)
    ) -> CheckOutput {
        let Some(check) = self.slab.get_mut(key) else { return CheckOutput::default() };
        let (bi, si, agent) = (check.spec.backend, check.spec.server, check.spec.agent);
        let srv = backends.get(bi).and_then(|b| b.servers.get(si));
        // Health checks pause while the server is in maintenance or its
        // checks are disabled (`disable health`); both need an address.
        let target = srv
            .filter(|s| agent || (!s.in_maint() && s.check_enabled))
            .and_then(|s| if agent { s.agent_addr.or(s.addr) } else { s.check_addr.or(s.addr) });
        let server_up = srv.is_some_and(|s| s.up);
        let state = (check.spec.program.send_state && !agent)
            .then(|| {
                let h = send_state::CheckHealth {
                    value: check.health,
                    rise: check.spec.rise,
                    fall: check.spec.fall,
                };
                send_state::header(backends.get(bi)?, si, h, node, now_ms)
            })
            .flatten();
        let finished = check.run(registry, key.token(CHECK_SUB), now, target, server_up, state.as_deref());
        report(check, backends);
        let mut out = CheckOutput { next: Some(check.next_deadline()), ..CheckOutput::default() };
        if let Some(f) = finished {
            settle(check, &f, backends, cfg, now_ms, &mut out);
        }
        out
    }
}

/// Copies what the check knows into the server's `show stat` view.
fn report(check: &Check, backends: &mut Backends) {
    let spec = &check.spec;
    let Some(srv) = backends.get_mut(spec.backend).and_then(|be| be.servers.get_mut(spec.server)) else {
        return;
    };
    let slot = if spec.agent { &mut srv.agent } else { &mut srv.health };
    let h = slot.get_or_insert_with(Health::default);
    h.value = check.health;
    h.rise = spec.rise;
    h.fall = spec.fall;
    h.failures = check.failures;
    h.running = check.running;
    if let Some((o, duration)) = &check.last {
        h.status = o.status.name();
        h.number = o.status.number();
        // Layer 7 statuses always show a code (0 without one), others none.
        h.code = o.status.is_l7_data().then(|| o.code.and_then(|c| u16::try_from(c).ok()).unwrap_or(0));
        h.desc = o.status.desc().to_owned();
        // A run in progress has no information yet, as in HAProxy.
        h.info = if check.running { String::new() } else { o.info.clone() };
        h.duration_ms = Some(duration.as_millis() as u64);
    }
}

/// After a run: the agent's words, `log-health-checks`, the server's new
/// state (UP, DOWN, NOLB) and HAProxy's messages.
fn settle(
    check: &Check,
    f: &Finished,
    backends: &mut Backends,
    cfg: &Config,
    now_ms: u64,
    out: &mut CheckOutput,
) {
    let spec = &check.spec;
    let proxy = &cfg.proxies[spec.backend];
    let Some(be) = backends.get_mut(spec.backend) else { return };
    let was_up = be.is_up();
    let Some(srv) = be.servers.get_mut(spec.server) else { return };
    if let Some(reply) = &f.agent {
        let _ = reply.apply(srv);
    }
    if proxy.checks.log_health_checks && (f.changed || f.moved) {
        out.logs.push(check_report::health_line(proxy, srv, check, f));
    }
    let checks_up = srv.health.as_ref().is_none_or(|h| h.value >= h.rise);
    let agent_up = srv.agent.as_ref().is_none_or(|a| a.value >= a.rise);
    let condpass = !spec.agent && f.outcome.status == crate::backend::check::status::Status::L7OkC;
    let want_up = checks_up && agent_up;
    let was_nolb = srv.nolb;
    if !spec.agent && want_up {
        srv.nolb = condpass;
    }
    if want_up == srv.up && srv.nolb == was_nolb {
        be.note_state(was_up, now_ms);
        return;
    }
    // A server in maintenance changes state silently; only its checks move.
    let quiet = srv.in_maint();
    let stopping_before = was_nolb || srv.admin == crate::backend::SrvAdmin::Drain;
    if want_up != srv.up {
        srv.set_up(want_up, now_ms);
        out.change =
            Some(super::checks::ServerChange { backend: spec.backend, server: spec.server, up: want_up });
    }
    let reason = (!proxy.checks.log_health_checks).then_some(f);
    if !quiet {
        out.logs.push(check_report::state_line(proxy, be, spec.server, reason, stopping_before));
    }
    be.note_state(was_up, now_ms);
    if was_up && !be.is_up() {
        out.logs.push(check_report::no_server(proxy, spec.backend));
    }
}
