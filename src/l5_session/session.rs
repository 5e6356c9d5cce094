//! The session object.

use super::mux::{H1, H1Status, H2, H2Status, Pt, PtStatus, StreamSeed};
use super::rules::SessionTarget;
use crate::acl::pp_facts::ProxyTlvs;
use crate::acl::tls_facts::TlsFacts;
use crate::cfg::{BindProto, Mode};
use crate::core::slab::Key;
use crate::core::timer::TimerSlot;
use crate::l4_conn::Conn;
use crate::l4_conn::HsFailure;
use crate::l4_conn::tls::Handshake;
use crate::l4_conn::track::{SLOTS, Verdict, run_tcp_rules};
use crate::l6_stream::slots::InheritedSlots;
use crate::l6_stream::{Stream, StreamCtx};
use crate::stick::Tracker;
use log::debug;
use std::fmt;
use std::net::SocketAddr;
use std::time::Instant;

/// Token sub-index of the client connection; a stream's server
/// connection uses [`SERVER_SUB`].
pub const CLIENT_SUB: u8 = 0;
pub const SERVER_SUB: u8 = 1;

/// Why a session could not start.
#[derive(Debug)]
pub enum StartError {
    Rejected(Refusal),  // `tcp-request connection|session reject|silent-drop`
    Io(std::io::Error), // the socket could not be registered or queried
}

/// Which rule refused a session, for the frontend's counters (HAProxy 2.6
/// counts a `silent-drop` as a denied request whatever its rule set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Connection, // `tcp-request connection reject`: dcon
    Session,    // `tcp-request session reject`: dses
    SilentDrop, // `tcp-request connection|session silent-drop`: dreq
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Rejected(Refusal::SilentDrop) => f.write_str("dropped by tcp-request rules"),
            StartError::Rejected(_) => f.write_str("rejected by tcp-request rules"),
            StartError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// Whether the session lives on after a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStatus {
    Alive,
    Ended,
}

/// The session's mux, chosen by the frontend's mode.
enum Mux {
    Pt(Pt),      // mode tcp: one stream
    H1(H1),      // mode http: one stream per request, in sequence
    Handshake,   // `bind ... ssl`: the TLS handshake first, then the mux (and `tcp-request session`)
    H2(Box<H2>), // mode http over HTTP/2: many streams at once (boxed: HPACK state and stream table)
}

/// An accepted client connection with its mux and streams. Owned by the
/// worker's slab; dropped (its end) only after `mux` has no stream left.
/// Field order matters: streams (inside `mux`) drop before anything the
/// session itself holds.
pub struct Session {
    pub id: u64,                        // worker-unique, shown as `sess#id`
    pub frontend: usize,                // proxy index
    mux: Mux,                           // the streams: declared first, dropped first
    trackers: [Option<Tracker>; SLOTS], // session trackers (connection/session rules); only the session drops them
    vars: crate::acl::Vars,             // `sess.` variables
    cli: Conn,                          // the client connection
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub timer: TimerSlot, // this session's entry in the worker's timers
    pub accepted: Instant,
    key: Key,                        // where the worker stores it (tokens for its sockets)
    facts: Option<Box<ClientFacts>>, // TLS and PROXY v2 facts, when the connection has any
    pub bind: u16, // the listener's bind index in its frontend (its streams' `StreamCtx::listener`; `fe/1` in logs)
    proto: BindProto, // the bind's `proto`: which mux the connection starts with
    proxy_hdr: ProxyHdr, // the PROXY protocol header (`accept-proxy`, `expect-proxy layer4`)
    pub thread: u8, // the worker thread running it (`tmask` of `show sess all`; at most 64)
    refused: Option<Refusal>, // `tcp-request session` rules refused it after a handshake
}

/// What a client connection told about itself beyond its addresses:
/// boxed in its `Session`, most connections have neither.
#[derive(Default)]
struct ClientFacts {
    tls: Option<TlsFacts>, // what the client's TLS handshake negotiated (`ssl_fc*`)
    pp: Option<ProxyTlvs>, // the TLVs of the client's PROXY v2 header (`fc_pp_*`)
}

impl ClientFacts {
    fn tls(facts: &Option<Box<ClientFacts>>) -> Option<&TlsFacts> {
        facts.as_ref().and_then(|f| f.tls.as_ref())
    }

    fn pp(facts: &Option<Box<ClientFacts>>) -> Option<&ProxyTlvs> {
        facts.as_ref().and_then(|f| f.pp.as_ref())
    }
}

/// Where a session stands with the PROXY protocol header it must read
/// before anything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProxyHdr {
    None,    // not expected, or read
    Waiting, // expected, not whole yet
    Failed(crate::l4_conn::proxy_proto::Refused),
}

impl fmt::Display for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sess#{}", self.id)
    }
}

impl Session {
    /// Creates the session for an accepted connection stored under `key`:
    /// runs `tcp-request connection` then `tcp-request session` rules
    /// (either may reject), counts the session on its trackers, registers
    /// the client socket. In TCP mode its only stream is created now; in
    /// HTTP mode streams come with requests. `src` is the client's
    /// address, `local` the address it connected to when the listener
    /// knows it (bound to one address), else asked of the socket.
    /// `accept_proxy`: the bind line's `accept-proxy` (a `tcp-request
    /// connection expect-proxy layer4` rule may ask for it too); the
    /// header is then read before TLS and the session rules, and its
    /// addresses replace `src` and `dst`.
    pub fn start(
        id: u64,
        key: Key,
        frontend: usize,
        mut cli: Conn,
        (src, local, accept_proxy): (SocketAddr, Option<SocketAddr>, bool),
        proto: BindProto,
        ctx: &mut StreamCtx<'_>,
    ) -> Result<Session, StartError> {
        let dst = match local {
            Some(addr) => addr,
            None => cli.local_addr().map_err(StartError::Io)?,
        };
        let mut trackers: [Option<Tracker>; SLOTS] = Default::default();
        let vars = crate::acl::Vars::new();
        let tls = cli.is_tls();
        // With TLS, `tcp-request session` waits for the handshake (HAProxy's order).
        let seen = (&vars, src, dst);
        let rules = &ctx.rules[frontend].tcp_connection;
        let expect_proxy =
            match run_rules(rules, &mut trackers, seen, (frontend, None, Refusal::Connection), ctx) {
                Ok(expect_proxy) => expect_proxy,
                Err(refusal) => {
                    debug!(target: "l5", "sess#{id}: refused by tcp-request connection rules ({refusal:?})");
                    // The trackers drop here: conn_cnt stays counted, conn_cur goes back down.
                    close_refused(&mut cli, refusal);
                    return Err(StartError::Rejected(refusal));
                }
            };
        let proxy_hdr = if accept_proxy || expect_proxy { ProxyHdr::Waiting } else { ProxyHdr::None };
        cli.register(ctx.registry, key.token(CLIENT_SUB)).map_err(StartError::Io)?;
        let mut session = Session {
            id,
            frontend,
            mux: Mux::Handshake,
            trackers,
            vars,
            cli,
            src,
            dst,
            timer: TimerSlot::default(),
            accepted: ctx.now,
            key,
            facts: None,
            bind: 0,
            proto,
            proxy_hdr,
            thread: ctx.thread as u8,
            refused: None,
        };
        if !tls && proxy_hdr == ProxyHdr::None {
            session.open(ctx)?;
        }
        debug!(target: "l5", "sess#{id}: accepted {src} -> {dst}");
        Ok(session)
    }

    /// The connection is ready for its mux: `tcp-request session` rules
    /// (which may reject), the trackers' session count, the mux itself (in
    /// TCP mode with its only stream).
    fn open(&mut self, ctx: &mut StreamCtx<'_>) -> Result<(), StartError> {
        let proto = self.proto;
        let (frontend, key) = (self.frontend, self.key);
        if let Err(refusal) = run_rules(
            &ctx.rules[frontend].tcp_session,
            &mut self.trackers,
            (&self.vars, self.src, self.dst),
            (frontend, ClientFacts::pp(&self.facts), Refusal::Session),
            ctx,
        ) {
            debug!(target: "l5", "{self}: refused by tcp-request session rules ({refusal:?})");
            close_refused(&mut self.cli, refusal);
            self.refused = Some(refusal);
            return Err(StartError::Rejected(refusal));
        }
        for t in self.trackers.iter().flatten() {
            t.inc_sess(ctx.now_ms);
        }
        self.mux = match ctx.cfg.proxies[frontend].mode {
            Mode::Tcp => {
                let id = ctx.next_stream_id();
                let mut sub = ctx.for_session(InheritedSlots::new(&self.trackers), &self.vars);
                sub.listener = self.bind;
                sub.client_tls = ClientFacts::tls(&self.facts);
                sub.client_pp = ClientFacts::pp(&self.facts);
                Mux::Pt(Pt::new(Stream::new(id, frontend, self.src, self.dst, key.token(SERVER_SUB), &sub)))
            }
            // HTTP/2 by prior knowledge (`proto h2`) or by ALPN on TLS;
            // otherwise HTTP/1, switching on the HTTP/2 preface unless `proto h1`.
            Mode::Http if proto == BindProto::H2 || self.alpn_h2() => {
                Mux::H2(Box::new(H2::new(ctx.cfg, frontend, ctx.now)))
            }
            Mode::Http => Mux::H1(H1::open(&mut self.cli, ctx, frontend)),
        };
        Ok(())
    }

    /// Which `tcp-request session` rule refused the session after its
    /// handshake, if one did (the worker counts it when the session ends).
    pub fn refused(&self) -> Option<Refusal> {
        self.refused
    }

    /// The TLS handshake negotiated `h2` by ALPN.
    fn alpn_h2(&self) -> bool {
        self.tls().and_then(|t| t.alpn.as_deref()) == Some(b"h2")
    }

    /// Reads the PROXY header; then the TLS handshake or the mux follows.
    /// False when the session ends (no valid header).
    fn proxy_header(&mut self, ctx: &mut StreamCtx<'_>, timed_out: bool) -> bool {
        let expired = timed_out && self.handshake_deadline(ctx.cfg).is_some_and(|d| d <= ctx.now);
        match self.cli.read_proxy_header(expired) {
            Ok(None) => true,
            Ok(Some(d)) => {
                if let crate::l4_conn::proxy_proto::Header::Proxied { src, dst } = d.header {
                    debug!(target: "l5", "{self}: PROXY header: {src} -> {dst}");
                    (self.src, self.dst) = (src, dst);
                }
                if let Some(tlvs) = d.tlvs {
                    self.facts.get_or_insert_default().pp = Some(*tlvs);
                }
                self.proxy_hdr = ProxyHdr::None;
                self.cli.is_tls() || self.open(ctx).is_ok()
            }
            Err(r) => {
                debug!(target: "l5", "{self}: {}", r.message());
                self.proxy_hdr = ProxyHdr::Failed(r);
                false
            }
        }
    }

    /// Drives the TLS handshake; opens the mux once it is done. False when
    /// the session ends (failure, or rejected by `tcp-request session`).
    fn handshake(&mut self, ctx: &mut StreamCtx<'_>, timed_out: bool) -> bool {
        if timed_out && self.handshake_deadline(ctx.cfg).is_some_and(|d| d <= ctx.now) {
            self.cli.tls_timed_out();
        }
        match self.cli.handshake(ctx.now) {
            Handshake::Pending => true,
            Handshake::Failed(f) => {
                debug!(target: "l5", "{self}: TLS handshake failed: {}", f.message());
                false
            }
            Handshake::Done => {
                if let Some(tls) = self.cli.take_tls_facts() {
                    self.facts.get_or_insert_default().tls = Some(tls);
                }
                self.open(ctx).is_ok()
            }
        }
    }

    /// While handshaking: `timeout client` from the accept, as HAProxy's
    /// embryonic session.
    fn handshake_deadline(&self, cfg: &crate::cfg::Config) -> Option<Instant> {
        cfg.proxies[self.frontend].timeouts.client.map(|t| self.accepted + t)
    }

    /// Why the TLS handshake failed, when the session ends before it was
    /// done (HAProxy logs such a connection's error instead of a request).
    pub fn handshake_failure(&self) -> Option<HsFailure> {
        use crate::l4_conn::proxy_proto::Refused;
        match self.proxy_hdr {
            ProxyHdr::Failed(r) => return Some(HsFailure::Proxy(r)),
            ProxyHdr::Waiting => return Some(HsFailure::Proxy(Refused::Empty)),
            ProxyHdr::None => {}
        }
        match self.mux {
            Mux::Handshake => Some(self.cli.tls_failure().unwrap_or(HsFailure::Empty)),
            _ => None,
        }
    }

    /// What the client's TLS handshake negotiated, if TLS.
    pub fn tls(&self) -> Option<&TlsFacts> {
        ClientFacts::tls(&self.facts)
    }

    /// Handles readiness on socket `sub` of this session.
    pub fn on_event(&mut self, sub: u8, ev: &mio::event::Event, ctx: &mut StreamCtx<'_>) -> SessionStatus {
        if sub == CLIENT_SUB {
            self.cli.on_event(ev);
        } else if let Mux::H2(h2) = &mut self.mux {
            if !h2.on_server_event(sub, ev) {
                ctx.idle.on_token_event(self.key.token(sub), ev, ctx.now);
            }
        } else if self.streams().next().is_none() {
            // No stream uses the server token: the event is for the idle
            // connection the pool left registered under it.
            ctx.idle.on_token_event(self.key.token(SERVER_SUB), ev, ctx.now);
        } else {
            match &mut self.mux {
                Mux::Pt(pt) => pt.on_server_event(ev),
                Mux::H1(h1) => h1.on_server_event(ev),
                Mux::Handshake | Mux::H2(_) => {}
            }
        }
        self.drive(ctx, false)
    }

    /// Reads ahead for `ev` (see [`Conn::read_ahead`]) when processing
    /// would read that socket first: in HTTP/1, the client connection
    /// between requests and the server connection before its response
    /// head. True when the event was taken: [`Session::on_read_ahead`] must
    /// then process it, not [`Session::on_event`].
    ///
    /// In HTTP/2 the event is only noted (its socket's readiness) and the
    /// connection runs once for all the events of the batch: the responses
    /// of its streams that came together then leave in one write, not one
    /// write per response.
    pub fn read_ahead(&mut self, sub: u8, ev: &mio::event::Event, now: Instant) -> bool {
        if let Mux::H2(h2) = &mut self.mux {
            if sub == CLIENT_SUB {
                self.cli.on_event(ev);
            } else if !h2.on_server_event(sub, ev) {
                return false; // an idle pooled connection's: the pool's, in the second pass
            }
            h2.batch_pending = true;
            return true;
        }
        let Mux::H1(h1) = &mut self.mux else { return false };
        if sub != CLIENT_SUB {
            return h1.read_ahead_server(ev, now);
        }
        if !h1.between_requests() {
            return false;
        }
        self.cli.read_ahead(ev, now);
        true
    }

    /// Processes an event [`Session::read_ahead`] took.
    pub fn on_read_ahead(&mut self, ctx: &mut StreamCtx<'_>) -> SessionStatus {
        if let Mux::H2(h2) = &mut self.mux {
            if !h2.batch_pending {
                return SessionStatus::Alive; // an earlier event of the batch ran it
            }
            h2.batch_pending = false;
        }
        self.drive(ctx, false)
    }

    /// Handles the session's timer firing.
    pub fn on_timeout(&mut self, ctx: &mut StreamCtx<'_>) -> SessionStatus {
        self.drive(ctx, true)
    }

    fn drive(&mut self, ctx: &mut StreamCtx<'_>, timed_out: bool) -> SessionStatus {
        if self.proxy_hdr != ProxyHdr::None {
            if !self.proxy_header(ctx, timed_out) {
                return SessionStatus::Ended;
            }
            if self.proxy_hdr != ProxyHdr::None {
                return SessionStatus::Alive;
            }
        }
        if matches!(self.mux, Mux::Handshake) {
            if !self.handshake(ctx, timed_out) {
                return SessionStatus::Ended;
            }
            if matches!(self.mux, Mux::Handshake) {
                return SessionStatus::Alive;
            }
        }
        let ctx = &mut ctx.for_session(InheritedSlots::new(&self.trackers), &self.vars);
        ctx.listener = self.bind;
        ctx.client_tls = ClientFacts::tls(&self.facts);
        ctx.client_pp = ClientFacts::pp(&self.facts);
        let seed = StreamSeed {
            key: self.key,
            frontend: self.frontend,
            src: self.src,
            dst: self.dst,
            srv_token: self.key.token(SERVER_SUB),
            detect_h2: self.proto == BindProto::Auto
                && !ctx.cfg.proxies[self.frontend].knobs.http.no_h2_upgrade,
        };
        let alive = match &mut self.mux {
            Mux::Handshake => true,
            Mux::Pt(pt) => match pt.process(&mut self.cli, ctx, timed_out) {
                PtStatus::Alive => true,
                PtStatus::Closed => false,
                PtStatus::Upgrade(up) => {
                    let parts = (&mut self.mux, &mut self.cli, &mut self.proto);
                    switch_to_http(parts, up, ctx, seed, (self.id, self.frontend, timed_out))
                }
            },
            Mux::H1(h1) => match h1.process(&mut self.cli, ctx, &seed, timed_out) {
                H1Status::Alive => true,
                H1Status::Closed => false,
                H1Status::SwitchToH2 => {
                    debug!(target: "l5", "sess#{}: HTTP/2 preface: switching to HTTP/2", self.id);
                    h1.close(&mut self.cli, ctx, self.frontend);
                    let mut h2 = Box::new(H2::new(ctx.cfg, self.frontend, ctx.now));
                    let alive = h2.process(&mut self.cli, ctx, &seed, timed_out) == H2Status::Alive;
                    self.mux = Mux::H2(h2);
                    alive
                }
            },
            Mux::H2(h2) => h2.process(&mut self.cli, ctx, &seed, timed_out) == H2Status::Alive,
        };
        if alive { SessionStatus::Alive } else { SessionStatus::Ended }
    }

    /// Soft stop: an HTTP/2 connection announces GOAWAY (its streams
    /// finish, no new one starts); other muxes close after their request.
    pub fn soft_stop(&mut self, ctx: &mut StreamCtx<'_>) -> SessionStatus {
        if let Mux::H2(h2) = &mut self.mux {
            h2.go_away();
            return self.drive(ctx, false);
        }
        SessionStatus::Alive
    }

    /// Shuts down, with `cause`, each of the session's streams on a server
    /// of backend `be` for which `which(server index)` holds
    /// ([`Stream::shut_down_with_server`]: a 502 for one waiting for its
    /// response head), then runs the session so the answers leave. Its
    /// other streams (HTTP/2) go on.
    pub fn shut_down_server_streams(
        &mut self,
        be: usize,
        which: &dyn Fn(usize) -> bool,
        cause: crate::l6_stream::term::TermCause,
        ctx: &mut StreamCtx<'_>,
    ) -> SessionStatus {
        let mut hit = false;
        {
            let sub = &mut ctx.for_session(InheritedSlots::new(&self.trackers), &self.vars);
            sub.listener = self.bind;
            let streams: Vec<&mut Stream> = match &mut self.mux {
                Mux::Pt(m) => m.stream_mut().into_iter().collect(),
                Mux::H1(m) => m.stream_mut().into_iter().collect(),
                Mux::Handshake => Vec::new(),
                Mux::H2(m) => m.l6_streams_mut().collect(),
            };
            for s in streams {
                if s.backend() == Some(be) && s.server().is_some_and(which) {
                    s.shut_down_with_server(cause, sub);
                    hit = true;
                }
            }
        }
        if hit { self.drive(ctx, false) } else { SessionStatus::Alive }
    }

    /// The earliest deadline of the session's streams and connection.
    pub fn next_deadline(&self, cfg: &crate::cfg::Config) -> Option<Instant> {
        match &self.mux {
            Mux::Pt(pt) => pt.next_deadline(&self.cli, cfg),
            Mux::H1(h1) => h1.next_deadline(&self.cli, cfg, self.frontend),
            Mux::Handshake => self.handshake_deadline(cfg),
            Mux::H2(h2) => h2.next_deadline(),
        }
    }

    /// The live streams (one at most with HTTP/1 and TCP), for display.
    pub fn streams(&self) -> impl Iterator<Item = &Stream> {
        let (one, many) = match &self.mux {
            Mux::Pt(m) => (m.stream(), None),
            Mux::H1(m) => (m.stream(), None),
            Mux::Handshake => (None, None),
            Mux::H2(m) => (None, Some(m.l6_streams())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }

    /// The session's trackers, read-only (what its streams inherit).
    pub fn inherited(&self) -> InheritedSlots<'_> {
        InheritedSlots::new(&self.trackers)
    }

    /// The client connection's descriptor.
    pub fn client_fd(&self) -> i32 {
        self.cli.fd()
    }

    /// Requests (streams) started on this session.
    pub fn streams_started(&self) -> u64 {
        match &self.mux {
            Mux::Pt(_) => 1,
            Mux::H1(h1) => h1.requests(),
            Mux::Handshake => 0,
            Mux::H2(h2) => h2.requests(),
        }
    }

    /// Ends the session: streams first (already gone unless killed, their
    /// log saying `cause`), then the client connection. Consumes the
    /// session so it runs once.
    pub fn end(mut self, ctx: &mut StreamCtx<'_>, cause: crate::l6_stream::term::TermCause) {
        let ctx = &mut ctx.for_session(InheritedSlots::new(&self.trackers), &self.vars);
        ctx.listener = self.bind;
        let subs = match &mut self.mux {
            Mux::Pt(pt) => {
                pt.kill(ctx, cause);
                1
            }
            Mux::H1(h1) => {
                h1.end(&mut self.cli, ctx, self.frontend, cause);
                1
            }
            Mux::Handshake => 1,
            Mux::H2(h2) => {
                h2.kill(ctx, cause);
                h2.subs_used().max(1)
            }
        };
        for sub in 1..=subs {
            ctx.idle.drop_owned(self.key.token(sub as u8)); // `http-reuse never`
        }
        // A shared idle connection it left registered under its server token
        // stays so: the worker routes that token's events to the pool.
        debug!(target: "l5", "{self}: end after {:?}", ctx.now.saturating_duration_since(self.accepted));
    }
}

/// The TCP stream stopped to go on as HTTP (`l6_stream/upgrade.rs`): an
/// HTTP mux replaces the session's pass-through one and reads what the
/// client sent. `switch-mode http proto h1|h2` forces the mux; else an
/// HTTP/2 preface selects HTTP/2, as on a `bind` without `proto`. A
/// `proto none` bind cannot be upgraded: the connection closes (HAProxy).
/// False when the session ends.
fn switch_to_http(
    (mux, cli, proto): (&mut Mux, &mut Conn, &mut BindProto),
    up: Box<crate::l6_stream::Upgraded>,
    ctx: &mut StreamCtx<'_>,
    mut seed: StreamSeed,
    (id, frontend, timed_out): (u64, usize, bool),
) -> bool {
    if *proto == BindProto::None {
        debug!(target: "l5", "sess#{id}: 'proto none': no upgrade to HTTP, closing");
        return false;
    }
    debug!(target: "l5", "sess#{id}: switching to HTTP");
    if let Some(p) = up.proto {
        *proto = p; // no other mux from now on
    }
    seed.detect_h2 = *proto == BindProto::Auto && !ctx.cfg.proxies[frontend].knobs.http.no_h2_upgrade;
    let h2 = |cli: &mut Conn, ctx: &mut StreamCtx<'_>, mux: &mut Mux| {
        let mut h2 = Box::new(H2::new(ctx.cfg, frontend, ctx.now));
        let alive = h2.process(cli, ctx, &seed, timed_out) == H2Status::Alive;
        *mux = Mux::H2(h2);
        alive
    };
    if *proto == BindProto::H2 {
        return h2(cli, ctx, mux); // HTTP/2 streams are new ones: the TCP stream's state goes
    }
    let mut h1 = H1::upgraded(cli, ctx, frontend, up);
    match h1.process(cli, ctx, &seed, timed_out) {
        H1Status::SwitchToH2 => {
            h1.close(cli, ctx, frontend);
            h2(cli, ctx, mux)
        }
        status => {
            *mux = Mux::H1(h1);
            status == H1Status::Alive
        }
    }
}

/// Runs one `tcp-request connection|session` rule set (a `reject` there
/// is `reject_as`); Ok: whether an `expect-proxy layer4` rule fired.
fn run_rules(
    rules: &[crate::l4_conn::track::TcpRule],
    trackers: &mut [Option<Tracker>; SLOTS],
    (vars, src, dst): (&crate::acl::Vars, SocketAddr, SocketAddr),
    (frontend, pp, reject_as): (usize, Option<&crate::acl::pp_facts::ProxyTlvs>, Refusal),
    ctx: &StreamCtx<'_>,
) -> Result<bool, Refusal> {
    let mut target = SessionTarget {
        trackers,
        vars,
        src,
        dst,
        frontend,
        cfg: ctx.cfg,
        tables: ctx.tables,
        now_ms: ctx.now_ms,
        expect_proxy: false,
        pp,
    };
    match run_tcp_rules(rules, &mut target, ctx.tables, ctx.now_ms) {
        Verdict::Reject => Err(reject_as),
        Verdict::SilentDrop => Err(Refusal::SilentDrop),
        _ => Ok(target.expect_proxy),
    }
}

/// How a refused client connection closes: a reset, or nothing at all
/// for `silent-drop` (Conn::silent_drop).
fn close_refused(cli: &mut Conn, refusal: Refusal) {
    if refusal == Refusal::SilentDrop {
        cli.silent_drop();
    } else {
        cli.reset_on_close();
    }
}

#[cfg(test)]
mod size_tests {
    /// An idle connection costs its `Session` and little else: streams live
    /// in pooled slots only while they run (see `l6_stream::pooled`). The
    /// budget is RSS per idle connection <= 0.4x HAProxy's (~1.1 kB).
    #[test]
    fn idle_session_stays_small() {
        let size = std::mem::size_of::<super::Session>();
        assert!(size <= 384, "Session is {size} bytes");
    }
}
