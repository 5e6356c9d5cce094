//! Health checks and agent checks: one `Check` per checked server (and
//! one more per server with `agent-check`), run by the worker.
//!
//! Each run executes its backend's check program (`program.rs`: the
//! `tcp-check` / `http-check` rules, or a built-in protocol check from
//! `protocols.rs`) step by step (`run.rs`, `expect.rs`, `http.rs`,
//! `custom.rs`, `agent.rs`) and ends with one of HAProxy's statuses
//! (`status.rs`). The result moves the check's health counter exactly as
//! HAProxy 2.6 does (`set_server_check_status`): it runs from 0 to
//! rise+fall-1, the server is UP while it is at least `rise`; a success
//! that reaches `rise` jumps to the top, a failure that drops below `rise`
//! falls to 0. An agent's failure to answer does not count against it.

pub mod agent;
mod custom;
mod expect;
mod http;
pub mod program;
mod protocols;
mod run;
pub mod send_state;
mod spop;
pub mod status;

use mio::{Registry, Token};
use program::Program;
use run::{Env, Run};
use status::{Outcome, Verdict};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to check and how often. Built from the configuration.
#[derive(Clone, Debug)]
pub struct CheckSpec {
    pub backend: usize,              // proxy index
    pub server: usize,               // server index in the backend
    pub agent: bool,                 // an `agent-check` (else the health check)
    pub port: u16,                   // where to connect: `port` (`agent-port`), else the server's port
    pub inter: Duration,             // interval between checks while fully UP
    pub fastinter: Option<Duration>, // while transitionally UP or DOWN (`inter` if unset)
    pub downinter: Option<Duration>, // while fully DOWN (`inter` if unset)
    pub rise: u32,
    pub fall: u32,
    pub timeout_connect: Option<Duration>, // `timeout connect` (applies with `timeout check`)
    pub timeout_check: Option<Duration>,   // `timeout check`
    pub program: Arc<Program>,
    pub tls: Option<(Arc<crate::l4_conn::tls::ServerTls>, Option<String>)>, // `check-ssl`: settings and `check-sni`
    pub proxy_header: Option<crate::cfg::ProxyVersion>, // `check-send-proxy`, or `send-proxy*` on the service port
    pub unix: Option<crate::cfg::listen::UnixAddr>, // a unix server's socket, checked when no `addr`/`port` says otherwise
}

/// What one finished run said.
#[derive(Clone, Debug)]
pub struct Finished {
    pub outcome: Outcome,
    pub duration: Duration,
    pub moved: bool,   // the health counter changed (HAProxy's `report`)
    pub changed: bool, // the status differs from the previous run's
    pub agent: Option<agent::Reply>,
}

enum Phase {
    Waiting { next: Instant },
    Running(Box<Run>),
}

/// One server's health or agent check. Owned by the worker (in its own
/// slab); the worker applies what it reports to the server's state.
pub struct Check {
    pub spec: CheckSpec,
    pub health: u32,                       // HAProxy's counter, 0..=rise+fall-1
    pub last: Option<(Outcome, Duration)>, // the last completed run and its duration
    pub failures: u64,                     // failed runs that lowered the health counter (chkfail)
    pub running: bool,                     // a run is in progress (`CHK_ST_INPROGRESS`)
    phase: Phase,
    pub timer: crate::core::timer::TimerSlot,
}

impl Check {
    /// A check that starts with the server UP (health = rise, as HAProxy),
    /// its first run after a spread-out delay `first_in`.
    pub fn new(spec: CheckSpec, now: Instant, first_in: Duration) -> Check {
        let health = spec.rise;
        Check {
            spec,
            health,
            last: None,
            failures: 0,
            running: false,
            phase: Phase::Waiting { next: now + first_in },
            timer: Default::default(),
        }
    }

    pub fn is_up(&self) -> bool {
        self.health >= self.spec.rise
    }

    /// The delay before the next check, as HAProxy's `srv_getinter`:
    /// `inter` while fully UP, `downinter` while fully DOWN, `fastinter`
    /// in between (each falls back to `inter`).
    pub fn interval(&self) -> Duration {
        let spec = &self.spec;
        if self.health + 1 >= spec.rise + spec.fall {
            return spec.inter;
        }
        if self.health == 0 {
            return spec.downinter.unwrap_or(spec.inter);
        }
        spec.fastinter.unwrap_or(spec.inter)
    }

    pub fn next_deadline(&self) -> Instant {
        match &self.phase {
            Phase::Waiting { next } => *next,
            Phase::Running(r) => r.deadline,
        }
    }

    pub fn on_event(&mut self, ev: &mio::event::Event) {
        if let Phase::Running(r) = &mut self.phase {
            r.on_event(ev);
        }
    }

    /// Advances the check after an event or its timer. `target`: the
    /// address to check now (`addr`, else the server's); None pauses the
    /// check (the server is in maintenance or has no address).
    /// `server_up`: the server's state (`http-check disable-on-404`).
    /// Returns what a run that just ended said.
    pub fn run(
        &mut self,
        registry: &Registry,
        token: Token,
        now: Instant,
        target: Option<IpAddr>,
        server_up: bool,
        server_state: Option<&str>,
    ) -> Option<Finished> {
        let proxy_header = self.spec.proxy_header;
        match &mut self.phase {
            Phase::Waiting { next } if *next > now => None,
            Phase::Waiting { .. } => {
                let Some(ip) = target else {
                    self.phase = Phase::Waiting { next: now + self.interval() };
                    return None;
                };
                let connect = self.spec.timeout_check.and(self.spec.timeout_connect);
                self.phase = Phase::Running(Box::new(Run::start(now, self.spec.inter, connect)));
                self.running = true;
                self.step(registry, token, now, ip, (server_up, server_state), proxy_header)
            }
            Phase::Running(_) => {
                let ip = target?;
                self.step(registry, token, now, ip, (server_up, server_state), proxy_header)
            }
        }
    }

    fn step(
        &mut self,
        registry: &Registry,
        token: Token,
        now: Instant,
        ip: IpAddr,
        (server_up, server_state): (bool, Option<&str>),
        proxy_header: Option<crate::cfg::ProxyVersion>,
    ) -> Option<Finished> {
        let Phase::Running(run) = &mut self.phase else { return None };
        let env = Env {
            registry,
            token,
            now,
            program: &self.spec.program,
            ip,
            port: self.spec.port,
            tls: self.spec.tls.as_ref(),
            unix: self.spec.unix.as_ref(),
            proxy_header,
            server_up,
            server_state,
            timeout_check: self.spec.timeout_check,
        };
        let outcome = run.advance(&env)?;
        let agent = if self.spec.agent { run.agent_reply() } else { None };
        run.close(registry, &self.spec.program);
        let duration = now.saturating_duration_since(run.started);
        self.running = false;
        let changed = self.last.as_ref().is_none_or(|(o, _)| o.status != outcome.status);
        if let Some((up, _)) = agent.as_ref().and_then(|a| a.health.as_ref()) {
            // The agent's `up`/`down` set the counter itself.
            self.health = if *up { self.spec.rise + self.spec.fall - 1 } else { 0 };
        }
        let moved = self.apply(&outcome);
        let mut shown = outcome.clone();
        if shown.info_logged_only {
            shown.info.clear();
        }
        self.last = Some((shown, duration));
        self.phase = Phase::Waiting { next: now + super::spread::interval(self.interval()) };
        Some(Finished { outcome, duration, moved, changed, agent })
    }

    /// HAProxy's health arithmetic for `outcome`; true when the counter moved.
    fn apply(&mut self, outcome: &Outcome) -> bool {
        let (rise, fall) = (self.spec.rise, self.spec.fall);
        match outcome.status.verdict() {
            Verdict::Passed | Verdict::CondPass if self.health < rise + fall - 1 => {
                self.health += 1;
                if self.health >= rise {
                    self.health = rise + fall - 1;
                }
                true
            }
            // An agent's failure counts only when it answered (a layer 7 status).
            Verdict::Failed if self.health > 0 && (!self.spec.agent || outcome.status.is_l7_data()) => {
                // HAProxy's chkfail counts the failures that move the
                // counter: while UP, and while DOWN but part way up.
                self.failures += 1;
                self.health -= 1;
                if self.health < rise {
                    self.health = 0;
                }
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;
