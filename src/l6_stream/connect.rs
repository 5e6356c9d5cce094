//! Server assignment, non-blocking connect, retries and redispatch.
//!
//! HAProxy's rules: a failed or timed-out connect is retried `retries`
//! times; a retry on the same server waits MIN(1s, timeout connect) first
//! (the turn-around); with `option redispatch [N]` some retries go to
//! another server instead, immediately (default N = -1: the last retry).

use super::client::ClientSide;
use super::h2srv::H2Servers;
use super::lb_input::StreamLb;
use super::srv_conn::SrvConn;
use super::stream::{Phase, Stream, StreamCtx};
use super::term::{TermCause, TermPhase};
use crate::backend::{BackendsGuard, Pick};
use crate::l4_conn::{Conn, IoStep};
use log::debug;
use std::time::Duration;

impl Stream {
    /// Picks a server (avoiding `avoid` if possible) and starts connecting.
    /// `payload`: the client's bytes already received (what hash-based
    /// balancing may read besides the request head).
    pub(super) fn assign_and_connect(
        &mut self,
        ctx: &mut StreamCtx<'_>,
        avoid: Option<usize>,
        payload: &[u8],
    ) {
        let Some(be) = self.backend else {
            debug!(target: "l6", "{self}: no backend for frontend {}", ctx.cfg.proxies[self.frontend].name);
            return self.no_server(TermCause::ServerAbort, TermPhase::Connect);
        };
        let last = self.last_server(ctx, be, avoid);
        // The pick, the server's count taken or the queue joined: one hold
        // of the backends' lock, so no other thread's stream slips between.
        let backends = ctx.backends;
        let mut locked = backends.lock();
        let Some(state) = locked.get_mut(be) else {
            drop(locked);
            return self.abort(TermCause::Internal, TermPhase::Connect);
        };
        // Streams already waiting go first (HAProxy's fairness).
        let behind_others = self.must_queue_behind(state);
        let granted = self.granted_server();
        // A persistent client goes to its server (queued there when it is
        // full); else, with `option prefer-last-server`, the one its
        // session keeps a connection to, while usable and, with
        // `max-keep-alive-queue N`, with room or fewer than N waiting
        // (HAProxy's assign_server; not load balancing either).
        let ka_queue = ctx.cfg.proxies[be].knobs.srv.max_ka_queue;
        let preferred = |s: &crate::backend::ServerState| {
            s.usable() && ka_queue.is_none_or(|n| s.lb_has_room(ctx.now_ms) || s.queue.waiting < n)
        };
        let persistent = self
            .persistent_server()
            .filter(|_| avoid.is_none())
            .or_else(|| last.filter(|&l| state.servers.get(l).is_some_and(preferred)));
        let mut by_persistence = false;
        let picked = match granted {
            // A server's queue handed this stream its slot.
            Some(s) if state.servers.get(s).is_some_and(|s| s.usable()) => Pick::Server(s),
            _ => match persistent {
                Some(p) => {
                    by_persistence = true;
                    if state.servers[p].lb_has_room(ctx.now_ms) { Pick::Server(p) } else { Pick::Full(p) }
                }
                None if behind_others => Pick::None,
                None => {
                    let input =
                        StreamLb { src: self.src.ip(), txn: self.http.as_ref().map(|h| &h.txn), payload };
                    state.pick(&input, avoid, ctx.now_ms)
                }
            },
        };
        let chosen = match picked {
            Pick::Server(s) | Pick::Full(s) => Some(s),
            Pick::None => None,
        };
        // A redispatch (`avoid`: the server whose connect failed) counts
        // as HAProxy's `assign_server_and_queue` does: on another server
        // it is a redispatch, on the same one a retry.
        if let Some(prev) = avoid {
            if chosen == Some(prev) {
                state.count_retry(prev);
            } else {
                state.count_redispatch(prev);
                self.redispatched = true;
            }
        }
        let srv = match picked {
            Pick::Server(s) => s,
            // Pinned to a full server: wait in its queue, unless it is at `maxqueue`.
            Pick::Full(s) if state.servers[s].queue_full() => {
                debug!(target: "l6", "{self}: queue of {}/{} is full", state.name, state.servers[s].name);
                state.servers[s].stats.failed_conns += 1;
                drop(locked);
                return self.no_server(TermCause::ServerAbort, TermPhase::Queue);
            }
            Pick::Full(s) => return self.joined(ctx, locked, be, Some(s)),
            Pick::None if state.is_up() => return self.joined(ctx, locked, be, None),
            Pick::None => {
                debug!(target: "l6", "{self}: no server available in backend {}", state.name);
                drop(locked);
                return self.no_server(TermCause::ServerAbort, TermPhase::Connect);
            }
        };
        state.take(srv, ctx.now_ms, self.counted_on_backend());
        if by_persistence {
            // Persistence chose it, not load balancing (HAProxy's lbtot counts the latter).
            state.servers[srv].stats.lbtot -= 1;
            state.stats.lbtot -= 1;
        }
        drop(locked);
        self.queue_served();
        self.server = Some(srv);
        if self.http.is_some() && ctx.cfg.proxies[be].knobs.srv.send_name_header.is_some() {
            self.prepare_request(ctx); // the head names this server now
            if self.http.as_ref().is_some_and(|h| h.answered) {
                return; // it no longer fits in a buffer: answered 400
            }
        }
        self.stick_store_request(ctx, srv);
        if self.try_reuse(ctx, be, srv) {
            return;
        }
        self.connect_to_assigned(ctx);
    }

    /// Joins a queue of backend `be` in the hold `locked` of the pick;
    /// the lock is released before the stream is ended if it cannot.
    fn joined(
        &mut self,
        ctx: &StreamCtx<'_>,
        mut locked: BackendsGuard<'_>,
        be: usize,
        server: Option<usize>,
    ) {
        let joined = match locked.get_mut(be) {
            Some(state) => self.join_queue(ctx, state, server),
            None => Err(TermPhase::Queue),
        };
        drop(locked);
        if let Err(phase) = joined {
            self.abort(TermCause::Internal, phase);
        }
    }

    /// `balance rdp-cookie` in TCP mode with `tcp-request inspect-delay`:
    /// the key is in the client's first bytes, so the stream waits for
    /// them (at most the inspect delay) before choosing. True while it
    /// waits; the client's bytes are buffered meanwhile.
    pub(super) fn awaits_balance_key<C: ClientSide>(&self, cli: &mut C, ctx: &StreamCtx<'_>) -> bool {
        let Some(until) = self.balance_key_deadline(ctx.cfg) else { return false };
        if ctx.now >= until || self.http.is_some() {
            return false;
        }
        let step = cli.fill(ctx.now);
        let data = cli.rx().map_or(&[][..], |b| b.data());
        // Done at the end of the request line, cookie or not, or when the client stops.
        let line_done = data.len() > 11 && data[11..].windows(2).any(|w| w == b"\r\n");
        !(line_done || cli.rx_full() || matches!(step, IoStep::Eof | IoStep::Failed))
    }

    /// Until when the stream may wait for its balancing key (see
    /// [`Stream::awaits_balance_key`]): None when it does not wait.
    pub(super) fn balance_key_deadline(&self, cfg: &crate::cfg::Config) -> Option<std::time::Instant> {
        let be = self.backend?;
        if self.server.is_some() || !matches!(cfg.proxies[be].balance, crate::cfg::Balance::RdpCookie(_)) {
            return None;
        }
        let delay = cfg.proxies[self.frontend].inspect_delay.or(cfg.proxies[be].inspect_delay)?;
        Some(self.started + delay)
    }

    /// The server of backend `be` this stream's session keeps its private
    /// connection to, when `option prefer-last-server` may send the stream
    /// there: a first attempt, and an algorithm that does not hash
    /// (HAProxy 2.6 prefers only connections the session holds: `http-reuse
    /// never` or `send-proxy`, as its shared ones go to the server's pool).
    fn last_server(&self, ctx: &StreamCtx<'_>, be: usize, avoid: Option<usize>) -> Option<usize> {
        use crate::cfg::Balance;
        let px = &ctx.cfg.proxies[be];
        if !px.knobs.srv.prefer_last || avoid.is_some() || self.http.is_none() {
            return None;
        }
        if !matches!(
            px.balance,
            Balance::RoundRobin | Balance::StaticRr | Balance::LeastConn | Balance::First
        ) {
            return None;
        }
        ctx.idle.private_server(self.srv_token).filter(|(b, _)| *b == be).map(|(_, s)| s)
    }

    /// Takes an idle connection to the chosen server when the reuse policy
    /// allows (`http-reuse safe`: not for a session's first request;
    /// `never`: only the session's own connection).
    fn try_reuse(&mut self, ctx: &mut StreamCtx<'_>, be: usize, srv: usize) -> bool {
        let Some(h) = self.http.as_mut() else { return false };
        let taken = match private_reuse(ctx.cfg, be, srv) {
            true => ctx.idle.take_private(ctx.registry, (be, srv), self.srv_token),
            false if ctx.cfg.proxies[be].http_reuse == crate::cfg::HttpReuse::Safe && h.first_of_session => {
                None
            }
            false => ctx.idle.take(ctx.registry, (be, srv), self.srv_token),
        };
        let Some(conn) = taken else { return false };
        if !self.reuse_fits(&conn, ctx, be, srv) {
            conn.close(); // sent another SNI: a new connection is made
            ctx.backends.h1().be(be).conn_closed();
            return false;
        }
        let Some(h) = self.http.as_mut() else { return false };
        debug!(target: "l6", "s#{}: reusing an idle connection", self.id);
        h.reused = true;
        h.took_pooled_conn();
        self.srv = Some(SrvConn::Plain(conn));
        self.connect_time = Some(std::time::Duration::ZERO);
        self.phase = Phase::Forwarding;
        true
    }

    /// No server can take the stream: HTTP answers 503, TCP closes.
    pub(super) fn no_server(&mut self, cause: TermCause, phase: TermPhase) {
        if self.http.is_some() {
            self.answer(crate::l7_http::errors::BuiltinStatus::ServiceUnavailable, cause, phase);
        } else {
            self.abort(cause, phase);
        }
    }

    /// The turn-around is over: connect again to the same server. Like
    /// HAProxy, the server counts the attempt in `stot` (load balancing did
    /// not choose it again: no `lbtot`).
    pub(super) fn retry_same_server(&mut self, ctx: &mut StreamCtx<'_>) {
        if let (Some(be), Some(srv)) = (self.backend, self.server)
            && let Some(state) = ctx.backends.lock().get_mut(be)
        {
            state.count_attempt(srv, ctx.now_ms);
        }
        self.connect_to_assigned(ctx);
    }

    /// Starts connecting to the server already assigned.
    pub(super) fn connect_to_assigned(&mut self, ctx: &mut StreamCtx<'_>) {
        let (Some(be), Some(srv)) = (self.backend, self.server) else {
            return self.abort(TermCause::Internal, TermPhase::Connect);
        };
        let target = match ctx.backends.lock().get(be) {
            Some(state) => {
                let target = state.servers[srv].target(self.dst);
                if let Some(t) = target {
                    debug!(target: "l6", "{self}: connecting to {}/{} at {t}", state.name, state.servers[srv].name);
                }
                Ok(target)
            }
            None => Err(()),
        };
        let Ok(target) = target else {
            return self.abort(TermCause::Internal, TermPhase::Connect);
        };
        let Some(target) = target else {
            // The resolvers removed the address since the server was picked.
            return self.connect_failed(ctx, "no address");
        };
        self.connect_started = Some(ctx.now);
        // Servers added at run time and the `dispatch` address have no
        // configuration line: plain HTTP/1.1.
        let h2 = ctx.cfg.proxies[be].servers.get(srv).map(|c| (c.proto_h2, c.proto_h2 || c.alpn_h2()));
        if let (true, Some((proto_h2, true))) = (self.http.is_some(), h2) {
            return self.connect_h2(ctx, be, srv, target, proto_h2);
        }
        // An idle connection this session left under its server token moves first.
        ctx.idle.rehome(ctx.registry, self.srv_token);
        let connected = self.dial(ctx, be, srv, target);
        match connected {
            Ok(mut conn) => match conn.register(ctx.registry, self.srv_token) {
                Ok(()) => {
                    self.srv = Some(SrvConn::Plain(conn));
                    self.phase = Phase::Connecting;
                }
                Err(e) => self.connect_failed(ctx, &e.to_string()),
            },
            Err(e) => self.connect_failed(ctx, &e.to_string()),
        }
    }

    /// A new connection to server `srv` of `be` at `target` (its unix
    /// socket for `unix@`/`abns@` servers), socket options and TLS set.
    fn dial(
        &mut self,
        ctx: &mut StreamCtx<'_>,
        be: usize,
        srv: usize,
        target: std::net::SocketAddr,
    ) -> std::io::Result<Conn> {
        let unix = ctx.cfg.proxies[be].servers.get(srv).and_then(|s| s.unix.as_ref());
        let source = ctx.cfg.proxies[be].knobs.srv.source.as_ref();
        let opened = match (unix, source) {
            (Some(unix), _) => Conn::connect_unix(unix, ctx.now),
            (None, Some(s)) if s.addr.is_ipv4() == target.is_ipv4() => {
                Conn::connect_from(target, s.addr, s.interface.as_deref(), ctx.now)
            }
            (None, _) => Conn::connect(target, ctx.now),
        };
        let sock_opts = &ctx.cfg.proxies[be].knobs.srv_sock;
        opened
            .inspect(|c| crate::l4_conn::sockopt::apply(c, crate::l4_conn::sockopt::Side::Server, sock_opts))
            .and_then(|mut c| self.start_server_tls(&mut c, ctx, be, srv).map(|()| c))
    }

    /// An HTTP/2 server: a stream on a connection to it with room (as
    /// `http-reuse` allows: never shared with `never`, not for a session's
    /// first request with `safe`), else on a new one.
    fn connect_h2(
        &mut self,
        ctx: &mut StreamCtx<'_>,
        be: usize,
        srv: usize,
        target: std::net::SocketAddr,
        decided: bool,
    ) {
        let first = self.http.as_ref().is_some_and(|h| h.first_of_session);
        let reuse = ctx.cfg.proxies[be].http_reuse;
        let private = reuse == crate::cfg::HttpReuse::Never;
        let may_share = match reuse {
            crate::cfg::HttpReuse::Never => false,
            crate::cfg::HttpReuse::Safe => !first,
            crate::cfg::HttpReuse::Always => true,
        };
        if may_share && let Some(shared) = ctx.h2srv.find((be, srv)) {
            debug!(target: "l6", "{self}: a stream on a shared HTTP/2 connection");
            if let Some(h) = self.http.as_mut() {
                h.reused = true;
            }
            self.srv = Some(SrvConn::H2(H2Servers::attach(shared, self.srv_token, ctx.now)));
            self.phase = Phase::Connecting;
            return;
        }
        let connected = self.dial(ctx, be, srv, target);
        let token = ctx.h2srv.vacant_token();
        match connected.and_then(|mut c| c.register(ctx.registry, token).map(|()| c)) {
            Ok(conn) => {
                let purge = ctx.cfg.proxies[be]
                    .servers
                    .get(srv)
                    .map_or(crate::cfg::server::DEFAULT_POOL_PURGE_DELAY, |s| s.pool_purge_delay);
                let shared = ctx.h2srv.insert(conn, (be, srv), decided, private, purge);
                self.srv = Some(SrvConn::H2(H2Servers::attach(shared, self.srv_token, ctx.now)));
                self.phase = Phase::Connecting;
            }
            Err(e) => self.connect_failed(ctx, &e.to_string()),
        }
    }

    /// Checks a connect in progress; on success the stream forwards.
    pub(super) fn check_connect<C: ClientSide>(&mut self, cli: &mut C, ctx: &mut StreamCtx<'_>) {
        self.buffer_client_while_waiting(cli, ctx);
        if self.phase == Phase::Done {
            return;
        }
        let Some(srv) = self.srv.as_mut() else {
            return self.abort(TermCause::Internal, TermPhase::Connect);
        };
        if let Some(srv) = srv.plain_mut().filter(|c| c.connecting) {
            // `send-proxy`: the header goes first, once the TCP connect is done.
            let send_proxy = match (self.backend, self.server) {
                (Some(be), Some(s)) => ctx.cfg.proxies[be].servers.get(s).and_then(|s| s.send_proxy),
                _ => None,
            };
            match srv.tcp_connected(ctx.now) {
                Ok(false) => return,
                Ok(true) => {
                    if let Some(v) = send_proxy {
                        let header = crate::l4_conn::proxy_proto::encode(v, self.src, self.dst);
                        if let Err(e) = srv.send_proxy_header(&header) {
                            return self.connect_failed(ctx, &e.to_string());
                        }
                    }
                }
                Err(e) => return self.connect_failed(ctx, &e.to_string()),
            }
        }
        let Some(srv) = self.srv.as_mut() else {
            return self.abort(TermCause::Internal, TermPhase::Connect);
        };
        match srv.finish_connect(ctx.now) {
            Ok(true) => {
                if let SrvConn::H2(chan) = srv
                    && let Some(mut conn) = chan.take_http1()
                {
                    // ALPN chose HTTP/1.1: the new connection is this stream's own.
                    if let Err(e) = conn.reregister(ctx.registry, self.srv_token) {
                        return self.connect_failed(ctx, &e.to_string());
                    }
                    self.srv = Some(SrvConn::Plain(conn));
                }
                debug!(target: "l6", "{self}: connected");
                self.connect_time = self.connect_started.map(|t| ctx.now.saturating_duration_since(t));
                self.phase = Phase::Forwarding;
                if self.http.is_none() {
                    self.log_asap(ctx, self.bytes_out);
                }
            }
            Ok(false) => {}
            Err(e) => self.connect_failed(ctx, &e.to_string()),
        }
    }

    /// A connect attempt failed (error or `timeout connect`): retry, maybe
    /// elsewhere, or give up.
    pub(super) fn connect_failed(&mut self, ctx: &mut StreamCtx<'_>, why: &str) {
        self.h1_server_closed(ctx);
        if let Some(srv) = self.srv.take() {
            srv.close();
        }
        let (Some(be), Some(srv)) = (self.backend, self.server) else {
            return self.abort(TermCause::Internal, TermPhase::Connect);
        };
        let proxy = &ctx.cfg.proxies[be];
        let srv_name = ctx.backends.lock().get(be).and_then(|b| b.servers.get(srv)).map(|s| s.name.clone());
        let srv_name = srv_name.unwrap_or_else(|| "?".into());
        debug!(
            target: "l6",
            "{self}: connect to {}/{} failed ({why}), {} retries left",
            proxy.name, srv_name, self.retries_left
        );
        // `retry-on` without `conn-failure`: no retry of a connect (HAProxy)
        let retried = proxy.knobs.srv.retry_on.has(crate::cfg::srv_select::RetryOn::CONN_FAILURE);
        if self.retries_left == 0 || !retried {
            let cause = if why == "timeout" { TermCause::ServerTimeout } else { TermCause::ServerAbort };
            return self.no_server(cause, TermPhase::Connect);
        }
        self.retries_left -= 1;
        self.retries_done += 1;
        if self.redispatch_now(ctx, be, srv) {
            debug!(target: "l6", "{self}: redispatch from {}/{}", proxy.name, srv_name);
            self.detach_server(ctx);
            return self.assign_and_connect(ctx, Some(srv), &[]);
        }
        if let Some(state) = ctx.backends.lock().get_mut(be) {
            state.count_retry(srv);
        }
        let mut delay = Duration::from_secs(1);
        if let Some(c) = proxy.timeouts.connect {
            delay = delay.min(c);
        }
        self.phase = Phase::TurnAround { until: ctx.now + delay };
    }

    /// Whether the retry just counted goes to another server of `be` than
    /// `srv` (HAProxy's stream_choose_redispatch): with `option
    /// redispatch`, at once when the server is no longer usable or when
    /// the algorithm does not pin the client and another active server
    /// exists; else at the retries its interval names.
    pub(super) fn redispatch_now(&self, ctx: &StreamCtx<'_>, be: usize, srv: usize) -> bool {
        let proxy = &ctx.cfg.proxies[be];
        let (active, hashed, srv_down) = {
            let locked = ctx.backends.lock();
            let state = locked.get(be);
            (
                state.map_or(0, |b| b.servers.iter().filter(|s| !s.backup && s.usable()).count()),
                state.is_some_and(|b| b.pins_clients()),
                state.is_some_and(|b| b.servers.get(srv).is_none_or(|s| !s.usable())),
            )
        };
        let immediate = proxy.options.redispatch.is_some() && (srv_down || (active > 1 && !hashed));
        immediate || self.should_redispatch(proxy.retries, proxy.options.redispatch)
    }

    /// HAProxy's redispatch rule: with interval N > 0, every Nth retry;
    /// with N < 0, the retry |N| before the end counting from the last.
    fn should_redispatch(&self, retries: u32, redispatch: Option<i32>) -> bool {
        let Some(every) = redispatch else {
            return false;
        };
        let done = self.retries_done as i64;
        match every {
            0 => false,
            n if n > 0 => done % n as i64 == 0,
            n => {
                let period = retries as i64 + 1 + n as i64;
                period > 0 && done % period == 0
            }
        }
    }

    /// Before the server is connected, client bytes are read into the
    /// client's buffer (bounded by its size) so they leave at connect.
    /// With `option abortonclose`, a client that closed its side gives up.
    pub(super) fn buffer_client_while_waiting<C: ClientSide>(&mut self, cli: &mut C, ctx: &StreamCtx<'_>) {
        let step = cli.fill(ctx.now);
        let be = self.backend.map(|b| &ctx.cfg.proxies[b]);
        let gone = cli.read_closed() && super::http_checks::abort_on_close(be);
        if matches!(step, IoStep::Failed) || gone {
            let phase = if matches!(self.phase, Phase::Queued { .. }) {
                TermPhase::Queue
            } else {
                TermPhase::Connect
            };
            self.abort(TermCause::ClientAbort, phase);
        }
    }
}

/// Idle connections to server `srv` of `be` stay with the session that
/// opened them: `http-reuse never`, or `send-proxy` (its header named that
/// session's client).
pub(super) fn private_reuse(cfg: &crate::cfg::Config, be: usize, srv: usize) -> bool {
    let p = &cfg.proxies[be];
    p.http_reuse == crate::cfg::HttpReuse::Never || p.servers.get(srv).is_some_and(|s| s.send_proxy.is_some())
}
