//! The stream object and its life cycle.

use super::client::ClientSide;
use super::http::HttpPart;
use super::log::StreamRecord;
use super::pooled::PooledStream;
use super::queue::QueueState;
use super::rules::ProxyRules;
use super::sample::{SlotAccess, StreamSample};
use super::slots::{InheritedSlots, StreamSlots};
use super::srv_conn::SrvConn;
use super::term::{TermCause, TermPhase, TermState};
use crate::acl::tls_facts::TlsFacts;
use crate::backend::SharedBackends;
use crate::cfg::Config;
use crate::core::buffer::Buffer;
use crate::l4_conn::{IdlePool, Pipe};
use crate::l7_http::head::RequestHead;
use crate::l7_http::txn::Txn;
use log::debug;
use mio::{Registry, Token};
use std::fmt;
use std::net::SocketAddr;
use std::time::{Instant, SystemTime};

/// What a stream needs from its worker for one call: the poller to
/// register its server connection, the time of this loop turn, the
/// configuration and the backends' run-time state; and where it leaves
/// its record when it ends (the worker logs it).
pub struct StreamCtx<'a> {
    pub registry: &'a Registry,
    pub now: Instant,
    pub wall: SystemTime,
    pub cfg: &'a Config,
    pub backends: &'a SharedBackends, // process-wide: lock only around what reads or changes them, never across a call back into rules
    pub ended: &'a mut Vec<StreamRecord>,
    pub errors: &'a mut crate::l7_http::capture::ErrorLog, // `show errors`: last invalid request/response per proxy
    pub idle: &'a mut IdlePool,
    pub stream_ids: &'a std::sync::atomic::AtomicU64, // last stream id given out, process-wide (`next_stream_id`)
    pub rules: &'a [ProxyRules],                      // compiled rules, indexed like Config::proxies
    pub tables: &'a crate::stick::Registry,           // stick tables, indexed like Config::proxies
    pub now_ms: u64,                                  // the tables' clock
    pub inherited: InheritedSlots<'a>,                // the calling session's trackers (read and update only)
    pub sess_vars: Option<&'a crate::acl::Vars>,      // the calling session's `sess.` variables
    pub client_tls: Option<&'a TlsFacts>, // the client connection's TLS parameters (`ssl_fc*`), if TLS
    pub client_pp: Option<&'a crate::acl::pp_facts::ProxyTlvs>, // the TLVs of the client's PROXY v2 header (`fc_pp_*`)
    pub h2: &'a mut crate::l7_http::h2::counters::H2Counters,   // HTTP/2 misbehaviour seen (show info)
    pub h2srv: &'a mut super::h2srv::H2Servers,                 // shared HTTP/2 server connections
    pub services: Option<&'a mut dyn super::service::ServiceHost>, // answers internal-service requests; None: 503
    pub caches: &'a crate::l7_http::cache::Caches,                 // `cache` sections
    pub thread: usize, // the calling worker's thread number (queue waiters name it)
    pub listener: u16, // the calling session's listener (bind index in its frontend): where its streams count
}

impl StreamCtx<'_> {
    /// Gives out the next stream id (process-wide, from 1).
    pub fn next_stream_id(&self) -> u64 {
        self.stream_ids.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
    }

    /// The same context lent to a session's streams with that session's
    /// trackers as their inherited slots.
    pub fn for_session<'b>(
        &'b mut self,
        inherited: InheritedSlots<'b>,
        sess_vars: &'b crate::acl::Vars,
    ) -> StreamCtx<'b> {
        StreamCtx {
            registry: self.registry,
            now: self.now,
            wall: self.wall,
            cfg: self.cfg,
            backends: self.backends,
            ended: &mut *self.ended,
            errors: &mut *self.errors,
            idle: &mut *self.idle,
            stream_ids: self.stream_ids,
            rules: self.rules,
            tables: self.tables,
            caches: self.caches,
            now_ms: self.now_ms,
            inherited,
            sess_vars: Some(sess_vars),
            client_tls: self.client_tls,
            client_pp: self.client_pp,
            h2: &mut *self.h2,
            h2srv: &mut *self.h2srv,
            thread: self.thread,
            listener: self.listener,
            services: match self.services.as_mut() {
                Some(h) => Some(&mut **h),
                None => None,
            },
        }
    }
}

/// Where the stream is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    Inspect { until: Instant, next: usize }, // `tcp-request inspect-delay`: waiting for content (next rule to run)
    Assign,                                  // no server yet: pick one and connect
    Connecting,                              // connect() in progress
    Queued { until: Option<Instant> },       // every usable server is full: waiting for a slot
    TurnAround { until: Instant },           // waiting before retrying the same server
    Tarpit { until: Instant, rule: super::last_rule::RuleRef }, // `http-request tarpit`: its reply at `until`
    WaitBody(super::body_wait::BodyWait),    // waiting for the request body before the rest of the rules
    RetryFresh,                              // a reused connection failed: connect anew to the same server
    Forwarding,                              // connected: bytes flow both ways
    Done,                                    // ended; the owner drops it
}

/// Result of driving a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamStatus {
    Alive,
    Done,
}

/// One forwarding between the session's client connection and a server.
/// Owned by its session's mux; ends when dropped after reporting `Done`.
pub struct Stream {
    pub id: u64,                       // worker-unique, shown as `s#id`
    pub(super) frontend: usize,        // proxy index of the frontend
    pub(super) backend: Option<usize>, // proxy index of the backend
    pub(super) server: Option<usize>,  // server index while attached (counted in its cur_conns)
    pub(super) srv: Option<SrvConn>,   // server side: own connection, or a stream of a shared HTTP/2 one
    pub(super) srv_token: Token,       // token for the server connection's events
    pub(super) phase: Phase,
    pub(super) retries_left: u32, // connect retries still allowed
    pub(super) retries_done: u32, // connect retries made
    pub(super) src: SocketAddr,   // client address (balance source)
    pub(super) dst: SocketAddr,   // address the client connected to
    pub term: TermState,          // why it ended
    pub bytes_in: u64,            // client → server bytes forwarded
    pub bytes_out: u64,           // server → client bytes forwarded
    pub started: Instant,
    pub(super) accepted: Instant, // the log's accept: the connection's, or (keep-alive) the previous request's end
    pub(super) connect_started: Option<Instant>, // last connect attempt began
    pub(super) connect_time: Option<std::time::Duration>, // %Tc once connected
    pub(super) redispatched: bool,
    pub(super) req_begin: Instant, // first byte of the request (accept in TCP mode)
    pub(super) res_head_at: Option<Instant>, // response head received
    pub http: Option<HttpPart>,    // mode http: the transaction and its progress
    pub(super) aborted: bool,      // ended by abort(): nothing more on this client connection
    pub(super) slots: StreamSlots, // stick counters: own trackers drop with the stream
    pub(super) pipe_up: Option<Pipe>, // TCP mode: client → server bytes in flight (splice)
    pub(super) pipe_down: Option<Pipe>, // TCP mode: server → client bytes in flight (splice)
    pub(super) queue: QueueState,  // waiting for a server slot, and what it cost
    pub(super) extra: StreamExtra, // what the extra HTTP actions decided (log level, priority, silent-drop)
    pub(super) persist: Option<Box<super::persist::PersistState>>, // cookie / stick persistence, when the backend has any
    pub(super) vars: crate::acl::Vars, // TCP mode: the `txn.`/`req.`/`res.` variables (an HTTP stream's are its transaction's)
    pub(super) upgrade: Option<Option<crate::cfg::BindProto>>, // stopped to go on as HTTP (`upgrade.rs`), with the mux forced
}

/// What `http-request`/`http-response` actions decided beyond the
/// transaction itself. Part of [`Stream`]; set by its rule passes.
#[derive(Clone, Copy, Debug, Default)]
pub struct StreamExtra {
    pub log_level: Option<u32>,                           // `set-log-level` (8: silent)
    pub priority_class: i64,                              // `set-priority-class`, -2047..=2047
    pub priority_offset: i64,                             // `set-priority-offset` in ms, -524287..=524287
    pub silent_drop: bool, // `silent-drop`: the client connection is reset, nothing sent
    pub logged: bool,      // `option logasap`: the line went out already
    pub timeouts: super::timeouts::SetTimeouts, // `http-request set-timeout`
    pub routed: Option<usize>, // the upgraded TCP stream's backend: it stays (`upgrade.rs`)
    pub last_rule: Option<super::last_rule::RuleRef>, // the last final rule (`last_rule_file`, `last_rule_line`)
    pub res_inspect: super::response_inspect::ResInspect, // `tcp-response content` rules: not run, waiting, decided
    pub retry_elsewhere: bool, // `retry-on`: the next `RetryFresh` goes to another server (redispatch)
}

impl fmt::Display for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s#{}", self.id)
    }
}

/// Read-only facts for the runtime API (`show sess`, `debug counters check`).
impl Stream {
    pub fn frontend(&self) -> usize {
        self.frontend
    }
    pub fn backend(&self) -> Option<usize> {
        self.backend
    }
    pub fn server(&self) -> Option<usize> {
        self.server
    }
    pub fn src(&self) -> SocketAddr {
        self.src
    }
    /// The server connection's descriptor, if connected or connecting.
    pub fn server_fd(&self) -> Option<i32> {
        self.srv.as_ref().map(SrvConn::fd)
    }
    /// Ended with its whole response handed to the client side (not
    /// aborted): what an HTTP/2 stream's END_STREAM needs.
    pub fn ended_cleanly(&self) -> bool {
        !self.aborted && self.http.as_ref().is_some_and(HttpPart::response_done)
    }
    /// The stick-counter slots (reading only: trackers stay where they are).
    pub fn slots(&self) -> &StreamSlots {
        &self.slots
    }
}

impl Stream {
    /// A stream of `frontend` for the client `src` → `dst`, whose server
    /// connection will use `srv_token`. It routes to its backend now and
    /// connects on the first `process` call.
    pub fn new(
        id: u64,
        frontend: usize,
        src: SocketAddr,
        dst: SocketAddr,
        srv_token: Token,
        ctx: &StreamCtx<'_>,
    ) -> Stream {
        let mut s = Stream::unrouted(id, frontend, src, dst, srv_token, ctx);
        if let Some(until) = Stream::wants_inspection(frontend, ctx) {
            s.phase = Phase::Inspect { until, next: 0 };
            return s;
        }
        if !s.run_content_rules(frontend, ctx) {
            return s;
        }
        s.route(ctx);
        if s.upgrade_for_backend(ctx) {
            return s;
        }
        if let Some(be) = s.backend.filter(|&b| b != frontend) {
            s.run_content_rules(be, ctx);
        }
        s.persistence(ctx);
        s
    }

    /// A stream not yet routed to a backend.
    fn unrouted(
        id: u64,
        frontend: usize,
        src: SocketAddr,
        dst: SocketAddr,
        srv_token: Token,
        ctx: &StreamCtx<'_>,
    ) -> Stream {
        Stream {
            id,
            frontend,
            backend: None,
            server: None,
            srv: None,
            srv_token,
            phase: Phase::Assign,
            retries_left: 0,
            retries_done: 0,
            src,
            dst,
            term: TermState::default(),
            bytes_in: 0,
            bytes_out: 0,
            started: ctx.now,
            accepted: ctx.now,
            connect_started: None,
            connect_time: None,
            redispatched: false,
            req_begin: ctx.now,
            res_head_at: None,
            http: None,
            aborted: false,
            slots: StreamSlots::inherit(ctx.inherited),
            pipe_up: None,
            pipe_down: None,
            queue: QueueState::default(),
            extra: StreamExtra::default(),
            persist: None,
            vars: crate::acl::Vars::new(),
            upgrade: None,
        }
    }

    /// A stream carrying the HTTP transaction `txn` (mode http), whose
    /// first byte arrived at `req_begin`. Its request head is serialised for
    /// the server at once.
    #[allow(clippy::too_many_arguments)]
    pub fn new_http(
        id: u64,
        frontend: usize,
        src: SocketAddr,
        dst: SocketAddr,
        srv_token: Token,
        req_buf: Buffer,
        req: RequestHead,
        first_of_session: bool,
        req_begin: Instant,
        ctx: &StreamCtx<'_>,
    ) -> PooledStream {
        let head = (req_buf, req, first_of_session, req_begin);
        Stream::new_http_upgraded(None, id, frontend, (src, dst, srv_token), head, ctx)
    }

    /// [`Stream::new_http`] for the first request of a connection whose
    /// TCP stream switched to HTTP (`upgraded`, see `upgrade.rs`): it goes
    /// on as that stream (its id, variables, trackers and backend), without
    /// the frontend's content rules, which it ran already.
    pub fn new_http_upgraded(
        upgraded: Option<Box<super::Upgraded>>,
        id: u64,
        frontend: usize,
        (src, dst, srv_token): (SocketAddr, SocketAddr, Token),
        (req_buf, req, first_of_session, req_begin): (Buffer, RequestHead, bool, Instant),
        ctx: &StreamCtx<'_>,
    ) -> PooledStream {
        let id = upgraded.as_ref().map_or(id, |u| u.id);
        let continued = upgraded.is_some();
        // Built in its pooled slot: the rules below run on it where it will stay.
        let mut s = PooledStream::build(|| Stream::unrouted(id, frontend, src, dst, srv_token, ctx));
        s.req_begin = req_begin;
        s.accepted = req_begin;
        // Built where it stays (the transaction is a few hundred bytes).
        let mut txn = Txn::new(req_buf, req);
        txn.first_req = first_of_session;
        let mut routed = None;
        if let Some(u) = upgraded {
            txn.vars = u.vars;
            s.slots = u.slots;
            routed = u.backend;
        }
        s.http = Some(HttpPart::new(txn, first_of_session));
        // HAProxy's order: content rules, the request counted, frontend
        // rules, backend choice, backend rules.
        if !continued && !s.run_content_rules(frontend, ctx) {
            return s;
        }
        if s.monitor(ctx) {
            return s;
        }
        s.capture_request_headers(ctx);
        s.count_request(ctx);
        s.extra.routed = routed;
        s.request_flow(super::request_flow::ReqStep::FeBody, None, ctx);
        s
    }

    /// Chooses the backend (`use_backend` rules, `default_backend`).
    pub(super) fn route(&mut self, ctx: &StreamCtx<'_>) {
        let fe = &ctx.cfg.proxies[self.frontend];
        let rules = &ctx.rules[self.frontend];
        // Without `use_backend` rules nothing is evaluated: no sample built.
        let backend = match rules.routes.is_empty() {
            true => fe.default_backend.as_ref().map(|d| d.index),
            false => super::route::select_backend(fe, rules, &self.sample(ctx, false, self.frontend)),
        };
        self.backend = backend;
        self.retries_left = backend.map_or(0, |b| ctx.cfg.proxies[b].retries);
    }

    /// What conditions see of this stream (rules of `rule_proxy`).
    pub(super) fn sample<'a>(
        &'a self,
        ctx: &'a StreamCtx<'_>,
        response: bool,
        rule_proxy: usize,
    ) -> StreamSample<'a> {
        StreamSample {
            facts: self.sample_facts(ctx),
            lazy: Default::default(),
            src: self.src,
            dst: self.dst,
            txn: self.http.as_ref().map(|h| &h.txn),
            frontend: self.frontend,
            backend: self.backend,
            server: self.server,
            cfg: ctx.cfg,
            backends: ctx.backends,
            response,
            slots: SlotAccess::Read(&self.slots),
            inherited: ctx.inherited,
            sess_vars: ctx.sess_vars,
            unique_id_fmt: ctx.rules[self.frontend].unique_id.as_ref(),
            tables: ctx.tables,
            rule_proxy,
            now_ms: ctx.now_ms,
            client_tls: ctx.client_tls,
            client_pp: ctx.client_pp,
            server_tls: self.srv.as_ref().is_some_and(SrvConn::is_tls),
            payload: None,
            set_timeouts: self.extra.timeouts,
            tcp_vars: &self.vars,
            last_rule: self.extra.last_rule.and_then(|r| r.loc(ctx.rules)),
        }
    }

    /// Applies a counter update to every slot's tracker (own, else the
    /// session's): once per slot.
    pub(super) fn count(&self, ctx: &StreamCtx<'_>, upd: crate::stick::Update) {
        self.slots.each(ctx.inherited, |t| {
            t.update(upd, ctx.now_ms);
        });
    }

    /// Reads ahead for a server event (see [`Conn::read_ahead`]) while the
    /// response head is awaited on an established connection: reading it
    /// is then the next thing processing does. True when taken.
    pub fn read_ahead_server(&mut self, ev: &mio::event::Event, now: Instant) -> bool {
        let awaiting = self.http.as_ref().is_some_and(HttpPart::awaits_response_head);
        match self.srv.as_mut().and_then(SrvConn::plain_mut) {
            Some(srv) if awaiting && !srv.connecting => {
                srv.read_ahead(ev, now);
                true
            }
            _ => false,
        }
    }

    /// Records readiness for the server connection.
    pub fn on_server_event(&mut self, ev: &mio::event::Event) {
        if let Some(srv) = self.srv.as_mut() {
            srv.on_event(ev);
        }
    }

    /// `unique-id-header NAME`: the request carries the stream's unique id.
    pub(super) fn unique_id_header(&mut self, ctx: &StreamCtx<'_>) {
        let Some(name) = ctx.cfg.proxies[self.frontend].unique_id_header.as_ref() else { return };
        let id = {
            let sample = self.sample(ctx, false, self.frontend);
            crate::acl::SampleSource::unique_id(&sample).map(|b| String::from_utf8_lossy(b).into_owned())
        };
        if let (Some(id), Some(h)) = (id, self.http.as_mut()) {
            h.txn.req_edits.push(crate::l7_http::rewrite::HeaderEdit::Add(name.to_ascii_lowercase(), id));
        }
    }

    /// Whether a rule asked to drop the client connection silently (reset,
    /// nothing sent).
    pub fn silent_drop(&self) -> bool {
        self.extra.silent_drop
    }

    /// Whether the client connection may carry another request after this
    /// stream (HTTP keep-alive); always false in TCP mode.
    pub fn client_keep_alive(&self) -> bool {
        !self.aborted && self.http.as_ref().is_some_and(HttpPart::client_keep_alive)
    }

    /// Drives the stream as far as readiness allows.
    pub fn process<C: ClientSide>(&mut self, cli: &mut C, ctx: &mut StreamCtx<'_>) -> StreamStatus {
        loop {
            let before = self.phase;
            match self.phase {
                Phase::Inspect { .. } => self.inspect(cli, ctx),
                Phase::Assign if self.awaits_balance_key(cli, ctx) => {}
                Phase::Assign => {
                    let payload = cli.rx().map_or(&[][..], |b| b.data());
                    self.assign_and_connect(ctx, None, payload)
                }
                Phase::Queued { .. } => self.wait_in_queue(cli, ctx),
                Phase::Connecting => self.check_connect(cli, ctx),
                Phase::TurnAround { .. } => self.buffer_client_while_waiting(cli, ctx),
                Phase::Tarpit { .. } => {}
                Phase::WaitBody(_) => self.wait_body(cli, ctx),
                Phase::RetryFresh => {
                    self.h1_server_closed(ctx);
                    if let Some(srv) = self.srv.take() {
                        srv.close();
                    }
                    self.prepare_request(ctx);
                    if std::mem::take(&mut self.extra.retry_elsewhere) {
                        let prev = self.server;
                        self.detach_server(ctx);
                        self.phase = Phase::Assign;
                        self.assign_and_connect(ctx, prev, &[]);
                    } else {
                        self.connect_to_assigned(ctx);
                    }
                }
                Phase::Forwarding if self.http.is_some() => self.forward_http(cli, ctx),
                Phase::Forwarding => self.forward_tcp(cli, ctx),
                Phase::Done => {}
            }
            if self.phase == before || self.phase == Phase::Done {
                break;
            }
        }
        self.tally_h1(ctx);
        if self.phase == Phase::Done { StreamStatus::Done } else { StreamStatus::Alive }
    }

    /// The client side went away (an HTTP/2 stream reset by the client, or
    /// its connection lost): the stream ends now, a client abort in the
    /// phase it was in, without waiting for its server.
    pub fn client_gone(&mut self) {
        let phase = match self.phase {
            Phase::Queued { .. } => TermPhase::Queue,
            Phase::Assign | Phase::Connecting | Phase::TurnAround { .. } | Phase::RetryFresh => {
                TermPhase::Connect
            }
            _ if self.http.as_ref().is_some_and(|h| h.txn.res.is_none()) => TermPhase::Headers,
            _ => TermPhase::Data,
        };
        self.abort(TermCause::ClientAbort, phase);
    }

    /// Whether the stream forwards between its client and its server: it
    /// then only has work when one of them moved (a multiplexing mux may
    /// skip it otherwise); in other phases it may wait on rules, a queue
    /// or a connect and runs on every drive.
    pub fn forwarding(&self) -> bool {
        self.phase == Phase::Forwarding
    }

    /// Ends the stream on a fatal condition (first cause wins).
    pub(super) fn abort(&mut self, cause: TermCause, phase: TermPhase) {
        self.term.set(cause, phase);
        self.aborted = true;
        self.phase = Phase::Done;
    }

    /// Called exactly once, by value, when the owner drops the stream:
    /// gives the server slot back, closes the server connection and leaves
    /// its record in `ctx.ended`.
    pub fn finish(mut self, ctx: &mut StreamCtx<'_>) {
        self.record_end(ctx);
    }

    /// What ending does before the drop: counters, server connection back
    /// to the pool or closed, the log record. Only [`Stream::finish`] and
    /// the pooled slot (which then drops the stream where it lies, without
    /// moving it) call it.
    pub(super) fn record_end(&mut self, ctx: &mut StreamCtx<'_>) {
        self.cache_commit(ctx);
        self.count(ctx, crate::stick::Update::BytesIn(self.bytes_in));
        self.count(ctx, crate::stick::Update::BytesOut(self.bytes_out));
        // Read before the server connection goes back to the pool.
        let addrs = self.with_server_addrs(ctx, crate::l7_http::logformat::LogFacts::NONE);
        let server = self.server;
        let reusable = self.http.as_ref().is_some_and(HttpPart::server_reusable);
        let to_pool = reusable && self.backend.is_some() && server.is_some();
        self.tally_h1_end(ctx, to_pool && matches!(self.srv, Some(SrvConn::Plain(_))));
        let plain = match self.srv.take() {
            Some(SrvConn::Plain(c)) => Some(c),
            other => {
                self.srv = other;
                None
            }
        };
        // One hold of the backends' lock: the server's `pool-max-conn`, the
        // queue left and the server slot given back, the connection counts
        // after this stream left (`%bc %sc`) and the backend's and server's
        // counters of the ended stream. The idle connection and the log line
        // come after, unlocked.
        let pooled = (reusable, self.backend, server, plain);
        let shared_pool = matches!(pooled, (true, Some(be), Some(srv), Some(_))
            if !super::connect::private_reuse(ctx.cfg, be, srv));
        let http = ctx.cfg.proxies[self.frontend].mode == crate::cfg::Mode::Http;
        let (cap, counts, mut record) = {
            let mut locked = ctx.backends.lock();
            let cap = match pooled {
                (_, Some(be), Some(srv), _) if shared_pool => {
                    locked.get(be).and_then(|b| b.servers.get(srv)).and_then(|s| s.pool_max_conn)
                }
                _ => None,
            };
            let state = self.backend.and_then(|b| locked.get_mut(b));
            self.leave_queue_of(state, ctx.now, false);
            if let (Some(be), Some(s)) = (self.backend, self.server.take())
                && let Some(state) = locked.get_mut(be)
            {
                state.release(s);
            }
            // The counts after this stream left; the server it had (the slot
            // was given back: only names and counts are read now).
            self.server = server;
            let counts = super::log_facts::conn_counts(&locked, self.frontend, self.backend, server);
            let mut record = self.record(ctx, self.accept_date(ctx), (counts[2], counts[3]));
            super::end_stats::count_on_backend(&mut locked, &record, http);
            record.backend_counted = true;
            (cap, counts, record)
        };
        if let (true, Some(be), Some(srv), Some(conn)) = pooled {
            // `never` or `send-proxy`: private to this session (HAProxy
            // still keeps the connection alive for the session's next request).
            match shared_pool {
                false => ctx.idle.put_private((be, srv), self.srv_token, conn),
                true => {
                    let keep = ctx.cfg.proxies[be]
                        .servers
                        .get(srv)
                        .map_or(crate::cfg::server::DEFAULT_POOL_PURGE_DELAY, |s| s.pool_purge_delay);
                    ctx.idle.put(ctx.registry, (be, srv), self.srv_token, conn, cap, (ctx.now, keep))
                }
            }
        }
        // The log facts only for a line (most of them are times).
        if self.logs_a_line(ctx) {
            let mut facts = self.sample_facts(ctx);
            [facts.actconn, facts.feconn, facts.beconn, facts.srvconn] = counts;
            (facts.server_addr, facts.backend_src) = (addrs.server_addr, addrs.backend_src);
            (record.line, record.sd) = self.render_log(ctx, facts);
        }
        self.server = None;
        ctx.ended.push(record);
        if let Some(srv) = self.srv.take() {
            srv.close();
        }
        debug!(
            target: "l6",
            "{self}: end {} in={} out={} after {:?}",
            self.term,
            self.bytes_in,
            self.bytes_out,
            ctx.now.saturating_duration_since(self.started)
        );
    }

    /// The stream's record for the counters (no line yet): accepted at
    /// `accept_date` (`Stream::accept_date`), `(%bc, %sc)` = `conns`.
    pub(super) fn record(
        &self,
        ctx: &StreamCtx<'_>,
        accept_date: SystemTime,
        (backend_conns, server_conns): (u32, u32),
    ) -> StreamRecord {
        StreamRecord {
            stream_id: self.id,
            listener: ctx.listener,
            client: self.src,
            dst: self.dst,
            accept_date,
            frontend: self.frontend,
            backend: self.backend,
            server: self.server,
            connect_time: self.connect_time,
            total_time: ctx.now.saturating_duration_since(self.started),
            bytes_in: self.bytes_in,
            bytes_out: self.bytes_out,
            term: self.term,
            retries: self.retries_done,
            redispatched: self.redispatched,
            backend_conns,
            server_conns,
            status: self.http.as_ref().and_then(|h| h.txn.status),
            response_time: self.response_time(),
            queue_time: self.queue.time,
            queue_pos: self.queue.pos,
            log_level: self.extra.log_level,
            ssl: ctx.client_tls.map(|t| (t.version, t.cipher)),
            line: None,
            sd: None,
            early: false,
            backend_counted: false,
        }
    }

    /// From the request sent to the server (connected) to the response head (`%Tr`).
    pub(super) fn response_time(&self) -> Option<std::time::Duration> {
        let sent =
            self.connect_started.map(|c| c + self.connect_time.unwrap_or_default()).unwrap_or(self.started);
        self.res_head_at.map(|r| r.saturating_duration_since(sent.max(self.started)))
    }

    /// Releases the server's connection slot, if one is held.
    pub(super) fn detach_server(&mut self, ctx: &mut StreamCtx<'_>) {
        if let (Some(be), Some(s)) = (self.backend, self.server.take())
            && let Some(state) = ctx.backends.lock().get_mut(be)
        {
            state.release(s);
        }
    }

    /// The earliest moment this stream must be looked at again.
    pub fn next_deadline<C: ClientSide>(&self, cli: &C, cfg: &Config) -> Option<Instant> {
        super::timeouts::next_deadline(self, cli, cfg)
    }

    /// Handles deadlines that passed at `now`.
    pub fn on_timeout<C: ClientSide>(&mut self, cli: &mut C, ctx: &mut StreamCtx<'_>) -> StreamStatus {
        super::timeouts::expire(self, cli, ctx);
        self.process(cli, ctx)
    }
}
