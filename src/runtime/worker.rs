//! One worker: a poll loop owning its listeners, sessions, timers and
//! backend state. With `nbthread 1` there is exactly one, on the main thread.

use super::StartError;

mod queues;
mod server_events;
use super::checks::{CHECK_SUB, Checks};
use super::cli_port::{CLI_SUB, CliConns, CliListener};
use super::env::Env;
use super::info::{WorkerView, hostname, unix_micros};
use super::logsink::LogSink;
use super::refusal::{REFUSED_SUB, Refusals};
use super::services::{InfoParts, WorkerServices};
use super::signals::{SIGNAL_TOKEN, SignalAction, SignalSource};
use super::stats;
use super::stopping::{StopPlan, StopStep};
use crate::backend::{Backends, Counters};
use crate::cfg::Config;
use crate::cli::ProcessInfo;
use crate::core::clock::Clock;
use crate::core::slab::{Key, RESERVED_TOKEN_BASE, TokenSlab};
use crate::core::timer::{TimerId, Timers};
use crate::l4_conn::{Conn, IDLE_SUB, IdlePool, Listener};
use crate::l5_session::{Session, SessionStatus};
use crate::l6_stream::rules::ProxyRules;
use crate::peers::net::{PEER_SUB, Peers};
use crate::service::Audit;
use crate::stick::Registry;
use idle::IdleMeter;
use log::{debug, info, warn};
use mio::{Events, Poll, Token};

mod tls_setup;
use std::io;
use std::sync::Arc;
use std::time::SystemTime;

mod idle;
mod peers_glue;

/// Timer owner kinds (which slab a timer's key refers to).
const TIMER_SESSION: u8 = 0;
const TIMER_CHECK: u8 = 1;
const TIMER_CLI: u8 = 2;
const TIMER_REFUSED: u8 = 3;

/// Buffers a new connection must find room for under `-m` (HAProxy counts
/// two per stream); below that it is refused with a 503.
const CONN_BUFFERS: usize = 2;

/// Tokens of runtime API listeners (above the proxy listeners' range).
const CLI_LISTENER_BASE: usize = RESERVED_TOKEN_BASE + (1 << 32);

/// Idle server connections kept per server for reuse.
const IDLE_CONNS_PER_SERVER: usize = 64;

/// A listener plus whether accepting is paused by a connection limit.
struct ListenerSlot {
    listener: Listener,
    limited: bool, // stopped at maxconn; retried when a connection ends
}

/// Connection counts the worker enforces limits with.
#[derive(Default)]
struct Counts {
    cur_conns: u32,          // live sessions (global maxconn)
    fe_cur: Vec<u32>,        // live sessions per frontend (proxy index)
    fe_max: Vec<u32>,        // effective maxconn per frontend
    fe_stats: Vec<Counters>, // `show stat` FRONTEND lines, per proxy index
    cum_conns: u64,          // sessions ever accepted
    next_id: u64,            // last session/stream id given out
    cli_cum: u64, // runtime API connections ever accepted (each counts as a connection and a request)
    bytes_out: u64, // bytes sent to clients by ended streams
    process: Counters, // process-wide connection and session rates (show info ConnRate, SessRate)
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
    node: String, // `show info` node: the configured one, else the host name (read once)
    maxconn: u32,
    initial_maxconn: u32, // `set maxconn global 0` goes back to it
    counts: Counts,
    stopping: bool,      // soft stop: listeners closed, waiting for sessions to end
    stop_plan: StopPlan, // `grace` and `hard-stop-after` deadlines of a soft stop
    next_purge_ms: u64,  // when the stick tables are purged next
    idle: IdleMeter,     // `Idle_pct` of show info
    peers: Peers,        // peers sections: listeners, connections (worker/peers_glue.rs)
    peers_next: Option<std::time::Instant>, // when the peers want to run next
    taken: Vec<bool>,    // kept between turns: `read_ahead`'s result, reused
    certs: Vec<crate::l4_conn::tls::certs::CertInfo>, // loaded certificates (`show ssl cert`)
    audit: Option<Audit>, // the last counters audit (strata_counters_consistent)
    audit_wanted: bool,  // a Prometheus exporter is configured: audit once a second
    next_audit_ms: u64,
}

/// The worker's `show info` facts as of now ([`InfoParts`]), from its
/// fields one by one (so that the session slab and the stream context can
/// be borrowed at the same time).
macro_rules! info_parts {
    ($w:ident) => {
        InfoParts {
            uptime_us: $w.env.clock.uptime().as_micros() as u64,
            start_time_us: unix_micros($w.started),
            maxconn: $w.maxconn,
            curr_conns: $w.counts.cur_conns,
            cum_conns: $w.counts.cum_conns + $w.counts.cli_cum,
            cli_cum: $w.counts.cli_cum,
            tasks: ($w.sessions.len() + $w.cli.count() + $w.checks.len()) as u64,
            jobs: ($w.sessions.len() + $w.cli.count() + $w.listeners.iter().flatten().count()) as u64,
            listeners: ($w.listeners.iter().flatten().count() + $w.cli_listeners.len()) as u64,
            idle_pct: $w.idle.pct,
            stopping: $w.stopping,
            total_bytes_out: $w.counts.bytes_out,
            node: &$w.node,
            process: &$w.counts.process,
        }
    };
}

/// What the runtime API sees of the worker ([`WorkerView`]), from its
/// fields one by one.
macro_rules! worker_view {
    ($w:ident, $info:expr, $now_ms:expr) => {
        WorkerView {
            listener_fds: $w.listener_fds(),
            info: $info,
            tables: &$w.env.tables,
            now_ms: $now_ms,
            cfg: &$w.env.cfg,
            backends: &mut $w.env.backends,
            fe_stats: &mut $w.counts.fe_stats,
            fe_cur: &$w.counts.fe_cur,
            fe_max: &mut $w.counts.fe_max,
            maxconn: &mut $w.maxconn,
            initial_maxconn: $w.initial_maxconn,
            sessions: &$w.sessions,
            errors: &$w.env.errors,
            peers: &$w.peers,
            certs: &$w.certs,
            idle: &mut $w.env.idle,
            caches: &$w.env.caches,
            now: $w.env.clock.now(),
        }
    };
}

/// The service host lent to one session call ([`WorkerServices`]).
macro_rules! services {
    ($w:ident) => {
        WorkerServices {
            parts: info_parts!($w),
            fe_stats: &$w.counts.fe_stats,
            fe_cur: &$w.counts.fe_cur,
            fe_max: &$w.counts.fe_max,
            audit: $w.audit,
        }
    };
}

impl Worker {
    /// Binds every frontend listener and registers it with a new poller.
    pub fn new(
        cfg: Arc<Config>,
        rules: Arc<Vec<ProxyRules>>,
        tables: Registry,
        caches: Arc<crate::l7_http::cache::Caches>,
        maxconn: u32,
    ) -> Result<Worker, StartError> {
        crate::core::buffer::set_bufsize(cfg.global.tune_bufsize);
        crate::l7_http::custom_errors::install(&cfg);
        let poll = Poll::new().map_err(StartError::Poll)?;
        let mut listeners = Vec::new();
        for (pi, proxy) in cfg.proxies.iter().enumerate() {
            // A `disabled` frontend is not started.
            if !proxy.cap.frontend || proxy.knobs.disabled {
                continue;
            }
            for (bi, bind) in proxy.binds.iter().enumerate() {
                let http = proxy.mode == crate::cfg::Mode::Http;
                let reuse_port = !cfg.global.process.noreuseport;
                let backlog = 1024;
                let mut listener = Listener::open(bind, pi, http, reuse_port, backlog)
                    .map_err(|err| StartError::Bind { proxy: proxy.name.clone(), addr: bind.addr, err })?;
                listener.luid = bind.opts.id.unwrap_or(bi as u32 + 1);
                listener.bind = bi;
                let token = Token(RESERVED_TOKEN_BASE + listeners.len());
                poll.registry()
                    .register(&mut listener.sock, token, mio::Interest::READABLE)
                    .map_err(StartError::Poll)?;
                listeners.push(Some(ListenerSlot { listener, limited: false }));
            }
        }
        let mut cli_listeners = Vec::new();
        for spec in &cfg.global.stats_sockets {
            let mut l = CliListener::bind(spec)
                .map_err(|err| StartError::StatsSocket { addr: format!("{:?}", spec.addr), err })?;
            l.register(poll.registry(), Token(CLI_LISTENER_BASE + cli_listeners.len()))
                .map_err(StartError::Poll)?;
            cli_listeners.push(l);
        }
        let signals = SignalSource::register(poll.registry()).map_err(StartError::Poll)?;
        let fe_max = cfg.proxies.iter().map(|p| p.maxconn.unwrap_or(maxconn)).collect();
        let counts = Counts {
            fe_cur: vec![0; cfg.proxies.len()],
            fe_max,
            fe_stats: vec![Counters::default(); cfg.proxies.len()],
            ..Counts::default()
        };
        let peers = peers_glue::start(&cfg, &tables, poll.registry())?;
        let env = Env {
            clock: Clock::new(),
            backends: Backends::new(&cfg),
            ended: Vec::new(),
            errors: crate::l7_http::capture::ErrorLog::new(cfg.proxies.len()),
            cfg: cfg.clone(),
            idle: IdlePool::new(IDLE_CONNS_PER_SERVER),
            stream_ids: 0,
            h2: Default::default(),
            h2srv: Default::default(),
            rules,
            tables,
            caches,
        };
        let now = env.clock.now();
        let checks = Checks::new(&cfg, now);
        let mut timers = Timers::default();
        let mut worker = Worker {
            poll,
            events: Events::with_capacity(cfg.global.tune.maxpollevents),
            timers: Timers::default(),
            sessions: TokenSlab::default(),
            listeners,
            signals,
            logs: LogSink::new(&cfg),
            checks,
            cli_listeners,
            cli: CliConns::default(),
            refusals: Refusals::default(),
            started: SystemTime::now(),
            node: cfg.global.node.clone().unwrap_or_else(hostname),
            env,
            maxconn,
            initial_maxconn: maxconn,
            counts,
            stopping: false,
            stop_plan: StopPlan::default(),
            next_purge_ms: 0,
            idle: IdleMeter::new(),
            peers,
            peers_next: None,
            taken: Vec::with_capacity(cfg.global.tune.maxpollevents),
            certs: Vec::new(),
            audit: None,
            audit_wanted: false,
            next_audit_ms: 0,
        };
        worker.audit_wanted = worker.env.rules.iter().any(|r| {
            r.http_request.iter().any(|rule| {
                matches!(rule.action, crate::l7_http::rules::HttpAction::UseService(ref s) if *s == crate::l7_http::service_rules::InternalService::Prometheus)
            })
        });
        for key in worker.checks.keys() {
            if let Some(check) = worker.checks.get_mut(key) {
                let next = Some(check.next_deadline());
                timers.arm(&mut check.timer, TimerId { kind: TIMER_CHECK, key }, next);
            }
        }
        worker.timers = timers;
        Ok(worker)
    }

    /// Runs until stopped. Returns Ok after SIGINT/SIGTERM or a completed
    /// soft stop.
    pub fn run(&mut self) -> io::Result<()> {
        loop {
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
            // Streams an HTTP/2 server connection has news for run first.
            let timeout = if self.env.h2srv.has_wakes() { std::time::Duration::ZERO } else { timeout };
            let polling_since = std::time::Instant::now();
            if let Err(e) = self.poll.poll(&mut self.events, Some(timeout)) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            self.env.clock.update();
            self.idle.record(polling_since, self.env.clock.now());
            self.tick_tables();
            self.tick_audit();
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
                    Token(t) if t >= CLI_LISTENER_BASE => self.accept_cli(t - CLI_LISTENER_BASE),
                    Token(t) if t >= RESERVED_TOKEN_BASE => self.accept_from(t - RESERVED_TOKEN_BASE),
                    token => self.session_event(token, ev),
                }
            }
            self.events = events;
            self.taken = taken;
            self.wake_h2_streams();
            self.run_timers();
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
        let mut ctx = self.env.ctx(self.poll.registry());
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
        // HTTP/2 connections say GOAWAY now: their clients open no new stream.
        for key in self.sessions.keys() {
            if let Some(session) = self.sessions.get_mut(key) {
                let status = session.soft_stop(&mut self.env.ctx(self.poll.registry()));
                self.after_session(key, status);
            }
        }
        // idle HTTP/1 keep-alive connections close now (clients move to the new process)
        self.close_idle_sessions();
    }

    /// Accepts on listener `index` until it would block or a limit is hit.
    fn accept_from(&mut self, index: usize) {
        loop {
            let Some(Some(slot)) = self.listeners.get_mut(index) else {
                return;
            };
            let fe = slot.listener.proxy;
            // A listener bound to one address tells where clients connected
            // without a `getsockname` per connection.
            let bound = slot.listener.addr;
            let local = (!bound.ip().is_unspecified() && bound.port() != 0).then_some(bound);
            if self.counts.cur_conns >= self.maxconn || self.counts.fe_cur[fe] >= self.counts.fe_max[fe] {
                slot.limited = true;
                return;
            }
            slot.limited = false;
            let tls = slot.listener.tls.clone();
            match slot.listener.accept() {
                Ok(Some((sock, _))) if !crate::core::buffer::admits(CONN_BUFFERS) => self.refuse(fe, sock),
                Ok(Some((sock, src))) => {
                    let mut conn = Conn::accepted(sock, self.env.clock.now());
                    if let Some(bind) = &tls {
                        conn.start_tls_server(bind);
                    }
                    let luid = slot.listener.luid;
                    let opts = &self.env.cfg.proxies[fe].binds[slot.listener.bind].opts;
                    let (proto, accept_proxy) = (opts.proto, opts.accept_proxy);
                    self.start_session(fe, conn, (src, local, accept_proxy), (luid, proto))
                }
                Ok(None) => return,
                Err(e) => {
                    // EMFILE/ENFILE and friends: retry when a connection ends.
                    warn!(target: "l4", "accept on {} failed: {e}", slot.listener.addr);
                    slot.limited = true;
                    return;
                }
            }
        }
    }

    /// `-m` cap reached: the connection gets a 503 (HTTP) and is closed.
    fn refuse(&mut self, fe: usize, sock: mio::net::TcpStream) {
        let http = self.env.cfg.proxies[fe].mode == crate::cfg::Mode::Http;
        let now = self.env.clock.now();
        if let Some(key) = self.refusals.refuse(sock, http, self.poll.registry(), now)
            && let Some(r) = self.refusals.get_mut(key)
        {
            self.timers.arm(&mut r.timer, TimerId { kind: TIMER_REFUSED, key }, Some(r.deadline));
        }
    }

    fn start_session(
        &mut self,
        fe: usize,
        conn: Conn,
        (src, local, accept_proxy): (std::net::SocketAddr, Option<std::net::SocketAddr>, bool),
        (luid, proto): (u32, crate::cfg::BindProto),
    ) {
        let key = self.sessions.vacant_key();
        self.counts.next_id += 1;
        let id = self.counts.next_id;
        let now_ms = self.env.clock.ticks_ms();
        self.counts.fe_stats[fe].count_connection(now_ms);
        self.counts.process.count_connection(now_ms);
        use crate::l4_conn::sockopt;
        sockopt::apply(&conn, sockopt::Side::Client, &self.env.cfg.proxies[fe].knobs.cli_sock);
        let mut ctx = self.env.ctx(self.poll.registry());
        match Session::start(id, key, fe, conn, (src, local, accept_proxy), proto, &mut ctx) {
            Ok(mut session) => {
                session.luid = luid;
                // HTTP mode logs its `Connect from` line per request (stream end).
                if self.env.cfg.proxies[fe].mode == crate::cfg::Mode::Tcp {
                    self.logs.connect(&self.env.cfg, fe, src, session.dst, self.env.clock.wall());
                }
                self.counts.cur_conns += 1;
                self.counts.fe_cur[fe] += 1;
                self.env.backends.set_fe_conn(fe, self.counts.fe_cur[fe], self.counts.cur_conns);
                self.counts.cum_conns += 1;
                self.counts.fe_stats[fe].count_session(now_ms, self.counts.fe_cur[fe]);
                self.counts.process.count_session(now_ms, self.counts.cur_conns);
                let inserted = self.sessions.insert(Box::new(session));
                debug_assert_eq!(inserted, key);
                // The first stream connects right away.
                self.drive_session(key, None);
            }
            Err(e) => {
                if matches!(e, crate::l5_session::StartError::Rejected) {
                    self.counts.fe_stats[fe].denied_conns += 1;
                }
                debug!(target: "l5", "session from {src} failed to start: {e}");
            }
        }
    }

    fn session_event(&mut self, token: Token, ev: &mio::event::Event) {
        let (key, sub) = Key::from_token(token);
        if sub == CLI_SUB {
            return self.drive_cli(key);
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
        let mut ctx = self.env.ctx(self.poll.registry());
        ctx.services = Some(&mut host);
        let status = match event {
            Some((sub, ev)) => session.on_event(sub, ev, &mut ctx),
            None => session.on_timeout(&mut ctx),
        };
        self.after_session(key, status);
    }

    fn after_session(&mut self, key: Key, status: SessionStatus) {
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

    /// Accepts runtime API connections on stats listener `index`.
    fn accept_cli(&mut self, index: usize) {
        let Some(listener) = self.cli_listeners.get(index) else { return };
        let idle = self.env.cfg.global.stats_timeout;
        let keys = self.cli.accept_all(listener, self.poll.registry(), self.env.clock.now(), idle);
        for key in keys {
            // Each runtime API connection counts as a connection and a request (HAProxy's CumConns/CumReq).
            self.counts.cli_cum += 1;
            self.drive_cli(key);
        }
    }

    /// Runs runtime API connection `key` after an event.
    fn drive_cli(&mut self, key: Key) {
        let now_ms = self.env.clock.ticks_ms();
        let info = self.process_info();
        let mut view = worker_view!(self, info, now_ms);
        let idle = self.env.cfg.global.stats_timeout;
        if self.cli.drive(key, self.poll.registry(), &mut view, self.env.clock.now(), idle) {
            self.arm_cli(key);
        }
        // A raised limit lets waiting connections in.
        self.resume_listeners();
    }

    fn arm_cli(&mut self, key: Key) {
        if let Some(c) = self.cli.get_mut(key) {
            let deadline = Some(c.deadline);
            self.timers.arm(&mut c.timer, TimerId { kind: TIMER_CLI, key }, deadline);
        }
    }

    /// The numbers `show info` prints.
    fn process_info(&self) -> ProcessInfo {
        info_parts!(self).info(&self.env.cfg, self.env.stream_ids, self.env.clock.ticks_ms(), &self.env.h2)
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
        let info = self.process_info();
        let view = worker_view!(self, info, now_ms);
        let report = crate::cli::sess_cmds::counters_audit(&view);
        self.audit = Some(Audit {
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
        if now_ms >= self.next_purge_ms {
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
        let out =
            self.checks.run(key, self.poll.registry(), now, &mut self.env.backends, &self.env.cfg, now_ms);
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
        }
    }

    /// Logs the streams that ended during the last call.
    fn log_ended_streams(&mut self) {
        let now_ms = self.env.clock.ticks_ms();
        // Read in place, then cleared: a record is a few hundred bytes.
        for r in &self.env.ended {
            if r.early {
                // `option logasap`: the line only; the stream is counted when it ends.
                self.logs.stream_end(&self.env.cfg, r, self.env.clock.wall());
                continue;
            }
            self.counts.bytes_out += r.bytes_out;
            let http = self.env.cfg.proxies[r.frontend].mode == crate::cfg::Mode::Http;
            // As HAProxy: in HTTP mode without httplog, one `Connect from`
            // line per request; a client leaving before sending one has none.
            let abandoned =
                r.backend.is_none() && r.term.cause == crate::l6_stream::term::TermCause::ClientAbort;
            if http && !abandoned {
                self.logs.connect(&self.env.cfg, r.frontend, r.client, r.dst, self.env.clock.wall());
            }
            stats::count_stream(
                &mut self.counts.fe_stats[r.frontend],
                &mut self.env.backends,
                r,
                http,
                now_ms,
            );
            self.logs.stream_end(&self.env.cfg, r, self.env.clock.wall());
        }
        self.env.ended.clear();
    }

    fn end_session(&mut self, key: Key, cause: crate::l6_stream::term::TermCause) {
        let Some(session) = self.sessions.remove(key) else {
            return;
        };
        let fe = session.frontend;
        if let Some(failure) = session.handshake_failure() {
            self.logs.handshake_failed(
                &self.env.cfg,
                &session,
                failure,
                &self.env.rules[fe].log,
                (self.counts.cur_conns, self.counts.fe_cur[fe]),
                (self.env.clock.wall(), self.env.clock.now()),
            );
        }
        session.end(&mut self.env.ctx(self.poll.registry()), cause);
        self.counts.cur_conns -= 1;
        self.counts.fe_cur[fe] -= 1;
        self.env.backends.set_fe_conn(fe, self.counts.fe_cur[fe], self.counts.cur_conns);
        self.resume_listeners();
    }

    /// A connection slot freed: accept again on listeners stopped by a limit
    /// (edge-triggered polling will not report their pending connections).
    fn resume_listeners(&mut self) {
        for index in 0..self.listeners.len() {
            if matches!(&self.listeners[index], Some(s) if s.limited) {
                self.accept_from(index);
            }
        }
    }

    fn run_timers(&mut self) {
        let now = self.env.clock.now();
        while let Some((at, TimerId { kind, key })) = self.timers.pop_due(now) {
            if kind == TIMER_CLI {
                let fired = self.cli.get_mut(key).is_some_and(|c| Timers::fired(&mut c.timer, at));
                if fired && !self.cli.expire(key, self.poll.registry(), now) {
                    self.arm_cli(key);
                }
                continue;
            }
            if kind == TIMER_REFUSED {
                self.refusals.expire(key, self.poll.registry(), now);
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
