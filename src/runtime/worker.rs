//! One worker: a poll loop owning its listeners, sessions, timers and
//! buffers. `nbthread N` runs N of them, one per thread (the first on the
//! main thread); what must be process-wide (backends, connection counts,
//! limits) they share through `runtime::shared`.

use super::StartError;

mod accept;
mod build;
mod dns_glue;
mod queues;
mod server_events;
use super::checks::{CHECK_SUB, Checks};
use super::cli_port::{CLI_SUB, CliConns, CliListener};
use super::env::Env;
use super::info::{WorkerView, unix_micros};
use super::logsink::LogSink;
use super::refusal::{REFUSED_SUB, Refusals};
use super::services::{WorkerFacts, WorkerServices};
use super::shared::{Process, Shared, Threads, lock};
use super::signals::{SIGNAL_TOKEN, SignalAction, SignalSource};
use super::stats;
use super::stopping::{StopPlan, StopStep};
use crate::cli::ProcessInfo;
use crate::core::slab::{Key, RESERVED_TOKEN_BASE, TokenSlab};
use crate::core::timer::{TimerId, Timers};
use crate::l4_conn::{IDLE_SUB, Listener};
use crate::l5_session::{Session, SessionStatus};
use crate::peers::net::{PEER_SUB, Peers};
use crate::service::Audit;
use build::WAKE_TOKEN;
pub use build::{WorkerSeed, open_listeners};
use idle::IdleMeter;
use log::{info, warn};
use mio::{Events, Poll, Token};

mod tls_setup;
use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

mod idle;
mod peers_glue;
mod state_glue;

/// Timer owner kinds (which slab a timer's key refers to).
const TIMER_SESSION: u8 = 0;
const TIMER_CHECK: u8 = 1;
const TIMER_CLI: u8 = 2;
const TIMER_REFUSED: u8 = 3;
const TIMER_LISTENER: u8 = 4; // key: the listener's index (`rate-limit sessions` pause)

/// Buffers a new connection must find room for under `-m` (HAProxy counts
/// two per stream); below that it is refused with a 503.
const CONN_BUFFERS: usize = 2;

/// Tokens of runtime API listeners (above the proxy listeners' range).
const CLI_LISTENER_BASE: usize = RESERVED_TOKEN_BASE + (1 << 32);

/// A listener plus whether accepting is paused by a connection limit.
struct ListenerSlot {
    listener: Listener,
    limited: bool, // stopped at maxconn; retried when a connection ends
    rate_timer: crate::core::timer::TimerSlot, // stopped by `rate-limit sessions`: when to accept again
}

/// The event loop and everything it owns.
pub struct Worker {
    poll: Poll,
    events: Events,
    timers: Timers,
    sessions: TokenSlab<Box<Session>>,
    listeners: Vec<Option<ListenerSlot>>, // token RESERVED_TOKEN_BASE + index; None once closed
    signals: SignalSource,
    env: Env,
    logs: LogSink,
    checks: Checks,
    cli_listeners: Vec<CliListener>, // token CLI_LISTENER_BASE + index
    cli: CliConns,
    refusals: Refusals, // connections refused under the `-m` cap, being closed
    started: SystemTime,
    node: String,          // `show info` node: the configured one, else the host name (read once)
    shared: Shared,        // process-wide state: backends, connection counts, limits
    threads: Arc<Threads>, // every thread's accept counts, heartbeats and wakers
    thread: usize,         // this worker's thread number (0: the main thread)
    stopping: bool,        // soft stop: listeners closed, waiting for sessions to end
    stop_plan: StopPlan,   // `grace` and `hard-stop-after` deadlines of a soft stop
    next_purge_ms: u64,    // when the stick tables are purged next
    idle: IdleMeter,       // `Idle_pct` of show info
    peers: Peers,          // peers sections: listeners, connections (worker/peers_glue.rs)
    dns: crate::backend::dns::Resolvers, // `resolvers` sections, first thread only (worker/dns_glue.rs)
    peers_next: Option<std::time::Instant>, // when the peers want to run next
    taken: Vec<bool>,      // kept between turns: `read_ahead`'s result, reused
    certs: Vec<crate::l4_conn::tls::certs::CertInfo>, // loaded certificates (`show ssl cert`)
    audit_wanted: bool,    // a Prometheus exporter is configured: audit once a second
    next_audit_ms: u64,
}

/// The worker's own `show info` facts as of now ([`WorkerFacts`]), from
/// its fields one by one (so that the session slab and the stream context
/// can be borrowed at the same time); `WorkerFacts::parts` adds the
/// process-wide ones of the locked [`Process`].
macro_rules! worker_facts {
    ($w:ident) => {
        WorkerFacts {
            uptime_us: $w.env.clock.uptime().as_micros() as u64,
            start_time_us: unix_micros($w.started),
            own_tasks: ($w.cli.count() + $w.checks.len()) as u64,
            own_jobs: ($w.cli.count() + $w.listeners.iter().flatten().count()) as u64,
            listeners: ($w.listeners.iter().flatten().count() + $w.cli_listeners.len()) as u64,
            idle_pct: $w.idle.pct,
            stopping: $w.stopping,
            node: &$w.node,
        }
    };
}

/// What the runtime API sees ([`WorkerView`]): the worker's fields one by
/// one, the locked process state `$p` and the locked backends `$b`.
macro_rules! worker_view {
    ($w:ident, $p:expr, $b:expr, $info:expr, $now_ms:expr, $lent:expr) => {
        WorkerView {
            listener_fds: $w.listener_fds(),
            info: $info,
            tables: &$w.env.tables,
            now_ms: $now_ms,
            cfg: &$w.env.cfg,
            backends: &mut $b,
            fe_stats: &mut $p.counts.fe_stats,
            fe_cur: &$p.counts.fe_cur,
            fe_max: &mut $p.counts.fe_max,
            li: &mut $p.counts.li,
            maxconn: &mut $p.maxconn,
            initial_maxconn: $p.initial_maxconn,
            rate_limits: &mut $p.rate_limits,
            sessions: &$w.sessions,
            errors: &$w.env.errors,
            peers: &$w.peers,
            certs: &$w.certs,
            idle: &mut $w.env.idle,
            caches: &$w.env.caches,
            dns: &$w.dns,
            now: $w.env.clock.now(),
            lent: $lent,
            threads: (&$w.threads, $w.thread),
            logs: (&$w.logs, $w.env.clock.wall()),
        }
    };
}

/// The service host lent to one session call ([`WorkerServices`]).
macro_rules! services {
    ($w:ident) => {
        WorkerServices { facts: worker_facts!($w), shared: &$w.shared }
    };
}

impl Worker {
    /// Runs until stopped. Returns Ok after SIGINT/SIGTERM or a completed
    /// soft stop.
    pub fn run(&mut self) -> io::Result<()> {
        let res = self.run_loop();
        self.threads.iso.gone(self.thread);
        res
    }

    fn run_loop(&mut self) -> io::Result<()> {
        loop {
            // A runtime API command on another thread reads every thread's
            // sessions: wait here, between two turns, until it is done.
            if self.threads.iso.requested() {
                self.threads.iso.park(self.thread, &self.sessions);
            }
            let purge_in = std::time::Duration::from_millis(
                self.next_purge_ms.saturating_sub(self.env.clock.ticks_ms()),
            );
            let timeout = self
                .timers
                .next()
                .map(|at| at.saturating_duration_since(self.env.clock.now()))
                .map_or(purge_in, |t| t.min(purge_in));
            let timeout = self
                .stop_plan
                .next()
                .map_or(timeout, |at| timeout.min(at.saturating_duration_since(self.env.clock.now())));
            let timeout = self
                .peers_next
                .map_or(timeout, |at| timeout.min(at.saturating_duration_since(self.env.clock.now())));
            let purge = [self.env.h2srv.next_purge(), self.env.idle.next_purge()].into_iter().flatten().min();
            let timeout =
                purge.map_or(timeout, |at| timeout.min(at.saturating_duration_since(self.env.clock.now())));
            let timeout = self
                .dns
                .next_deadline()
                .map_or(timeout, |at| timeout.min(at.saturating_duration_since(self.env.clock.now())));
            // Streams an HTTP/2 server connection has news for run first.
            let timeout = if self.env.h2srv.has_wakes() { std::time::Duration::ZERO } else { timeout };
            let polling_since = std::time::Instant::now();
            self.threads.busy_since[self.thread].store(0, Ordering::Relaxed);
            if let Err(e) = self.poll.poll(&mut self.events, Some(timeout)) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            self.env.clock.update();
            self.threads.busy_since[self.thread].store(self.env.clock.ticks_ms(), Ordering::Relaxed);
            self.threads.loops[self.thread].fetch_add(1, Ordering::Relaxed);
            self.idle.record(polling_since, self.env.clock.now());
            self.tick_tables();
            self.tick_audit();
            self.tick_dns();
            let events = std::mem::replace(&mut self.events, Events::with_capacity(0));
            let taken = self.read_ahead(&events);
            for (ev, &taken) in events.iter().zip(&taken) {
                if taken {
                    self.drive_read_ahead(ev.token());
                    continue;
                }
                match ev.token() {
                    SIGNAL_TOKEN => match self.signals.take() {
                        SignalAction::Stop => {
                            info!(target: "runtime", "stop requested, exiting now");
                            self.events = events;
                            return Ok(());
                        }
                        SignalAction::SoftStop => self.begin_soft_stop(),
                        SignalAction::None => {}
                    },
                    // Another thread freed a slot this one waits for (queue,
                    // maxconn), or posted something for its connections.
                    WAKE_TOKEN => {
                        self.read_mail();
                        self.resume_listeners()
                    }
                    Token(t) if t >= CLI_LISTENER_BASE => self.accept_cli(t - CLI_LISTENER_BASE),
                    Token(t) if t >= RESERVED_TOKEN_BASE => self.accept_from(t - RESERVED_TOKEN_BASE),
                    token => self.session_event(token, ev),
                }
            }
            self.events = events;
            self.taken = taken;
            self.wake_h2_streams();
            self.env.h2srv.purge_idle(self.env.clock.now());
            self.env.idle.purge(self.env.clock.now());
            self.run_timers();
            if self.cli.take_resume() {
                // a `stats socket ... maxconn` listener has room again
                (0..self.cli_listeners.len()).for_each(|i| self.accept_cli(i));
            }
            self.serve_queues();
            self.turn_peers();
            match self.stop_plan.due(self.env.clock.now()) {
                StopStep::CloseListeners => self.soft_stop(),
                StopStep::HardStop => {
                    warn!(target: "runtime", "Some tasks resisted to hard-stop, exiting now.");
                    return Ok(());
                }
                StopStep::None => {}
            }
            if self.stopping && self.sessions.is_empty() && !self.peers.holds_stop(self.env.clock.ticks_ms())
            {
                info!(target: "runtime", "soft stop complete");
                return Ok(());
            }
        }
    }

    /// First pass over a poll batch: every session socket whose next step is
    /// a read is read now (`Session::read_ahead`), before any session is
    /// processed; the result says which events were. As in HAProxy's loop
    /// (I/O callbacks first, then the streams), the requests and responses
    /// of a batch then go out together, so the backend and the clients are
    /// woken once per batch rather than once per request.
    fn read_ahead(&mut self, events: &Events) -> Vec<bool> {
        let now = self.env.clock.now();
        let mut taken = std::mem::take(&mut self.taken);
        taken.clear();
        for ev in events.iter() {
            let token = ev.token();
            let (key, sub) = Key::from_token(token);
            // Not a listener's nor the signals' (reserved), nor a runtime
            // API, check or idle-pool socket.
            let session_socket = token.0 < RESERVED_TOKEN_BASE
                && !matches!(
                    sub,
                    CLI_SUB
                        | CHECK_SUB
                        | IDLE_SUB
                        | PEER_SUB
                        | crate::backend::dns::DNS_SUB
                        | REFUSED_SUB
                        | crate::l6_stream::h2srv::H2SRV_SUB
                );
            let was_taken =
                session_socket && self.sessions.get_mut(key).is_some_and(|s| s.read_ahead(sub, ev, now));
            taken.push(was_taken);
        }
        taken
    }

    /// Second pass for an event the first pass took.
    fn drive_read_ahead(&mut self, token: Token) {
        let (key, _) = Key::from_token(token);
        let mut host = services!(self);
        let Some(session) = self.sessions.get_mut(key) else { return };
        let mut ctx = self.env.ctx(self.poll.registry(), &self.shared);
        ctx.services = Some(&mut host);
        let status = session.on_read_ahead(&mut ctx);
        self.after_session(key, status);
    }

    /// SIGUSR1: after `grace` (at once without), close the listeners; with
    /// `hard-stop-after`, exit at the latest that long after the signal.
    fn begin_soft_stop(&mut self) {
        let p = &self.env.cfg.global.process;
        self.stop_plan.begin(self.env.clock.now(), p.grace, p.hard_stop_after);
        if p.grace.is_none_or(|g| g.is_zero()) {
            self.soft_stop();
        }
    }

    /// Closes every listener (new connections are refused) and lets live
    /// sessions finish.
    fn soft_stop(&mut self) {
        info!(target: "runtime", "soft stop: closing listeners, {} sessions left", self.sessions.len());
        self.stopping = true;
        crate::core::lifecycle::set_stopping();
        self.peers.soft_stop(self.poll.registry(), self.env.clock.ticks_ms());
        // take what waits in the listen queues first: closing a socket
        // resets the connections still queued on it
        (0..self.listeners.len()).for_each(|i| self.accept_from(i));
        for slot in self.listeners.iter_mut() {
            if let Some(mut s) = slot.take() {
                let _ = self.poll.registry().deregister(&mut s.listener.sock);
            }
        }
        self.threads.set_listener_fds(self.thread, Vec::new());
        // HTTP/2 connections say GOAWAY now: their clients open no new stream.
        for key in self.sessions.keys() {
            if let Some(session) = self.sessions.get_mut(key) {
                let status = session.soft_stop(&mut self.env.ctx(self.poll.registry(), &self.shared));
                self.after_session(key, status);
            }
        }
        // idle HTTP/1 keep-alive connections close now (clients move to the new process)
        self.close_idle_sessions();
    }

    fn session_event(&mut self, token: Token, ev: &mio::event::Event) {
        let (key, sub) = Key::from_token(token);
        if sub == CLI_SUB {
            return self.drive_cli(key);
        }
        if sub == crate::backend::dns::DNS_SUB {
            return self.dns_event(key);
        }
        if sub == PEER_SUB {
            return self.peers.on_event(key, self.poll.registry(), self.env.clock.ticks_ms());
        }
        if sub == CHECK_SUB {
            if let Some(check) = self.checks.get_mut(key) {
                check.on_event(ev);
            }
            return self.run_check(key);
        }
        if sub == REFUSED_SUB {
            self.refusals.on_event(key, self.poll.registry());
            return;
        }
        if sub == IDLE_SUB {
            let now = self.env.clock.now();
            self.env.idle.on_event(key, ev, now);
            return;
        }
        if sub == crate::l6_stream::h2srv::H2SRV_SUB {
            let now = self.env.clock.now();
            self.env.h2srv.on_event(key, ev, now);
            return;
        }
        self.drive_session(key, Some((sub, ev)));
    }

    /// Runs the sessions of the streams shared HTTP/2 server connections
    /// have news for (their response bytes, window, a reset). Bounded per
    /// turn: what the runs wake in turn waits for the next turn (polled
    /// without waiting).
    fn wake_h2_streams(&mut self) {
        for _ in 0..4096 {
            let Some(token) = self.env.h2srv.pop_wake() else { return };
            let (key, _) = Key::from_token(token);
            self.drive_session(key, None);
        }
    }

    /// Runs one session for an event (or, with `None`, a plain pass), then
    /// ends it or re-arms its timer.
    fn drive_session(&mut self, key: Key, event: Option<(u8, &mio::event::Event)>) {
        let mut host = services!(self);
        let Some(session) = self.sessions.get_mut(key) else {
            // The session ended. It may have left an idle server connection
            // registered under its server token: that event goes to the pool.
            if let Some((sub, ev)) = event {
                let now = self.env.clock.now();
                self.env.idle.on_token_event(key.token(sub), ev, now);
            }
            return;
        };
        let mut ctx = self.env.ctx(self.poll.registry(), &self.shared);
        ctx.services = Some(&mut host);
        let status = match event {
            Some((sub, ev)) => session.on_event(sub, ev, &mut ctx),
            None => session.on_timeout(&mut ctx),
        };
        self.after_session(key, status);
    }

    fn after_session(&mut self, key: Key, status: SessionStatus) {
        self.fold_h2_counts();
        // Log first: HAProxy's %ac/%fc still count the ending connection.
        self.log_ended_streams();
        if status == SessionStatus::Ended {
            self.end_session(key, crate::l6_stream::term::TermCause::Killed);
            self.log_ended_streams();
        }
        if status == SessionStatus::Alive
            && let Some(session) = self.sessions.get_mut(key)
        {
            let deadline = session.next_deadline(&self.env.cfg);
            self.timers.arm(&mut session.timer, TimerId { kind: TIMER_SESSION, key }, deadline);
        }
    }

    /// Runs runtime API connection `key` after an event.
    fn drive_cli(&mut self, key: Key) {
        let now_ms = self.env.clock.ticks_ms();
        // Commands may read every thread's sessions: the others park first.
        let iso = self.threads.isolate_others(self.thread);
        let lent = iso.as_ref().map_or(&[][..], |i| &i.lent[..]);
        let mut guard = lock(&self.shared);
        let p = &mut *guard;
        let info = self.process_info(p);
        let mut backends = self.shared.backends.lock();
        let mut view = worker_view!(self, p, backends, info, now_ms, lent);
        let idle = self.env.cfg.global.stats_timeout;
        let now = self.env.clock.now();
        let alive = self.cli.drive(key, self.poll.registry(), &self.cli_listeners, &mut view, now, idle);
        drop(backends);
        drop(guard);
        drop(iso);
        if alive {
            self.arm_cli(key);
        }
        // A raised limit lets waiting connections in, on every thread.
        self.resume_listeners();
        self.threads.wake_limited(self.thread);
    }

    fn arm_cli(&mut self, key: Key) {
        if let Some(c) = self.cli.get_mut(key) {
            let deadline = Some(c.deadline);
            self.timers.arm(&mut c.timer, TimerId { kind: TIMER_CLI, key }, deadline);
        }
    }

    /// The numbers `show info` prints.
    fn process_info(&self, p: &Process) -> ProcessInfo {
        let mut info = worker_facts!(self).parts(p).info(
            &self.env.cfg,
            self.shared.streams(),
            self.env.clock.ticks_ms(),
            &p.h2,
        );
        info.nbthread = self.threads.count() as u32;
        info.thread_accepted = self.threads.accepted();
        info.thread_loops = self.threads.loops.iter().map(|l| l.load(Ordering::Relaxed)).collect();
        info
    }

    /// Runs the counters audit (`debug counters check`) for
    /// `strata_counters_consistent`, at most once a second and only when a
    /// Prometheus exporter is configured.
    fn tick_audit(&mut self) {
        let now_ms = self.env.clock.ticks_ms();
        if !self.audit_wanted || now_ms < self.next_audit_ms {
            return;
        }
        self.next_audit_ms = now_ms + 1000;
        let iso = self.threads.isolate_others(self.thread);
        let lent = iso.as_ref().map_or(&[][..], |i| &i.lent[..]);
        let mut guard = lock(&self.shared);
        let p = &mut *guard;
        let info = self.process_info(p);
        let mut backends = self.shared.backends.lock();
        let view = worker_view!(self, p, backends, info, now_ms, lent);
        let report = crate::cli::sess_cmds::counters_audit(&view);
        p.audit = Some(Audit {
            consistent: report.mismatches.is_empty(),
            entries: report.entries as u64,
            trackers: report.trackers,
        });
    }

    /// Gives the stick tables this turn's time and purges expired entries
    /// when one is due.
    fn tick_tables(&mut self) {
        let now_ms = self.env.clock.ticks_ms();
        self.env.tables.set_now(now_ms);
        // One thread purges (the tables are shared).
        if self.thread == 0 && now_ms >= self.next_purge_ms {
            let next = self.env.tables.purge(now_ms).unwrap_or(u64::MAX);
            let any = self.env.tables.tables().next().is_some();
            // At least once a second while tables exist; never without tables.
            self.next_purge_ms = if any { next.min(now_ms + 1000) } else { u64::MAX };
        }
    }

    /// Runs health check `key` and re-arms its timer.
    fn run_check(&mut self, key: Key) {
        let now = self.env.clock.now();
        let now_ms = self.env.clock.ticks_ms();
        let mut backends = self.shared.backends.lock();
        let out = self.checks.run(
            key,
            self.poll.registry(),
            (now, now_ms),
            &mut backends,
            &self.env.cfg,
            &self.node,
        );
        drop(backends);
        if let Some(check) = self.checks.get_mut(key) {
            self.timers.arm(&mut check.timer, TimerId { kind: TIMER_CHECK, key }, out.next);
        }
        for l in &out.logs {
            self.logs.event(l.proxy, self.env.clock.wall(), &l.text, l.level);
            let tag = if l.alert { "[ALERT]   " } else { "[WARNING] " };
            eprintln!("{tag} ({}) : {}", std::process::id(), l.stderr);
        }
        if let Some(change) = out.change {
            self.server_changed(change);
            self.threads.broadcast(self.thread, super::shared::Mail::ServerChanged(change));
        }
    }

    /// Logs the streams that ended during the last call.
    fn log_ended_streams(&mut self) {
        if self.env.ended.is_empty() {
            return;
        }
        let now_ms = self.env.clock.ticks_ms();
        let is_http = |fe: usize| self.env.cfg.proxies[fe].mode == crate::cfg::Mode::Http;
        // Counted under the locks (process first, then backends), logged
        // after: no log write waits for another thread.
        {
            let mut guard = lock(&self.shared);
            let p = &mut *guard;
            // Streams count on their backend themselves as they end: the
            // backends' lock only for a record that did not.
            let uncounted =
                |r: &crate::l6_stream::StreamRecord| !r.early && !r.backend_counted && r.backend.is_some();
            let mut backends = self.env.ended.iter().any(uncounted).then(|| self.shared.backends.lock());
            // `option logasap`'s early records: the line only; the stream
            // is counted when it ends.
            for r in self.env.ended.iter().filter(|r| !r.early) {
                p.counts.bytes_out += r.bytes_out;
                stats::count_stream(
                    &mut p.counts.fe_stats[r.frontend],
                    backends.as_deref_mut(),
                    r,
                    is_http(r.frontend),
                    now_ms,
                );
                if let Some(li) =
                    p.counts.li.get_mut(r.frontend).and_then(|l| l.get_mut(usize::from(r.listener)))
                {
                    super::listener_stats::count_stream(&mut li.c, r);
                }
            }
        }
        // Read in place, then cleared: a record is a few hundred bytes.
        for r in &self.env.ended {
            // As HAProxy: in HTTP mode without httplog, one `Connect from`
            // line per request; a client leaving before sending one has none.
            let abandoned =
                r.backend.is_none() && r.term.cause == crate::l6_stream::term::TermCause::ClientAbort;
            if !r.early && is_http(r.frontend) && !abandoned {
                self.logs.connect(&self.env.cfg, r.frontend, r.client, r.dst, self.env.clock.wall());
            }
            self.logs.stream_end(&self.env.cfg, r, self.env.clock.wall());
        }
        self.env.ended.clear();
    }

    /// Adds this thread's HTTP/2 mitigation counts of the last call to
    /// the process's (`show info`), when any fired: no lock otherwise.
    fn fold_h2_counts(&mut self) {
        if self.env.h2.is_empty() {
            return;
        }
        let local = std::mem::take(&mut self.env.h2);
        lock(&self.shared).h2.add(&local);
    }

    fn run_timers(&mut self) {
        let now = self.env.clock.now();
        while let Some((at, TimerId { kind, key })) = self.timers.pop_due(now) {
            if kind == TIMER_CLI {
                let fired = self.cli.get_mut(key).is_some_and(|c| Timers::fired(&mut c.timer, at));
                if fired && !self.cli.expire(key, self.poll.registry(), &self.cli_listeners, now) {
                    self.arm_cli(key);
                }
                continue;
            }
            if kind == TIMER_REFUSED {
                self.refusals.expire(key, self.poll.registry(), now);
                continue;
            }
            if kind == TIMER_LISTENER {
                let index = key.as_u64() as usize;
                if let Some(Some(slot)) = self.listeners.get_mut(index)
                    && Timers::fired(&mut slot.rate_timer, at)
                {
                    self.accept_from(index);
                }
                continue;
            }
            if kind == TIMER_CHECK {
                if let Some(check) = self.checks.get_mut(key)
                    && Timers::fired(&mut check.timer, at)
                {
                    self.run_check(key);
                }
                continue;
            }
            let Some(session) = self.sessions.get_mut(key) else {
                continue;
            };
            if !Timers::fired(&mut session.timer, at) {
                continue; // stale entry: the session re-armed earlier
            }
            self.drive_session(key, None);
        }
    }
}
