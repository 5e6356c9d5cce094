//! HTTP/1 mux: turns the client connection's bytes into one stream per
//! request, one after another.
//!
//! Between requests no stream exists: the mux waits for a request head,
//! enforcing `timeout http-keep-alive` (idle, no byte yet) and
//! `timeout http-request` (head started but incomplete). A complete head
//! becomes a stream; an unparsable one gets HAProxy's raw 400 and the
//! connection closes; a head that does not arrive in time gets the raw 408.
//! Bytes after a request (pipelining) stay in the client buffer until the
//! current stream has ended.

use crate::cfg::Config;
use crate::core::buffer::Buffer;
use crate::l4_conn::{Conn, IoStep};
use crate::l6_stream::term::{TermCause, TermPhase, TermState};
use crate::l6_stream::{PooledStream, Stream, StreamCtx, StreamStatus, Upgraded};
use crate::l7_http::body::{BodyError, BodyState};
use crate::l7_http::errors::BuiltinStatus;
use crate::l7_http::parse::{ParseError, parse_request};
use log::debug;
use mio::Token;
use std::net::SocketAddr;
use std::time::Instant;

/// What the session tells the mux about itself when a stream must start.
pub struct StreamSeed {
    pub key: crate::core::slab::Key, // the session's: token sub-indexes of its streams' server connections
    pub frontend: usize,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub srv_token: Token,
    pub detect_h2: bool, // an HTTP/2 preface as the first bytes switches to HTTP/2 (a `bind` without `proto`, as in HAProxy 2.6)
}

/// One HTTP/1 client connection's request sequence.
pub struct H1 {
    stream: Current,               // the request in progress, if any
    requests: u64,                 // streams started so far
    waiting_since: Instant,        // accept, or end of the last response
    head_started: Option<Instant>, // first byte of the pending request head
}

/// The request in progress, or none, or none yet but a TCP stream that
/// switched to HTTP and that the first request goes on as. One slot for
/// both, as they never coexist (an idle `Session` stays small).
enum Current {
    None,
    Carry(Box<Upgraded>),
    Stream(PooledStream),
}

impl Current {
    fn as_ref(&self) -> Option<&PooledStream> {
        match self {
            Current::Stream(s) => Some(s),
            _ => None,
        }
    }

    fn as_mut(&mut self) -> Option<&mut PooledStream> {
        match self {
            Current::Stream(s) => Some(s),
            _ => None,
        }
    }

    fn is_none(&self) -> bool {
        self.as_ref().is_none()
    }

    /// The stream, leaving the slot empty (a carry stays).
    fn take(&mut self) -> Option<PooledStream> {
        match std::mem::replace(self, Current::None) {
            Current::Stream(s) => Some(s),
            other => {
                *self = other;
                None
            }
        }
    }

    /// The carry, if the slot holds one.
    fn take_carry(&mut self) -> Option<Box<Upgraded>> {
        match std::mem::replace(self, Current::None) {
            Current::Carry(up) => Some(up),
            other => {
                *self = other;
                None
            }
        }
    }
}

/// What one `process` call left behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum H1Status {
    Alive,
    Closed,     // the session can end
    SwitchToH2, // the client sent the HTTP/2 connection preface: left in its buffer
}

impl H1 {
    /// The mux of client connection `cli` of frontend `fe`, counted as
    /// an HTTP/1 connection (`h1_*` stats) until [`H1::close`]. What `cli`
    /// moved before (a TCP stream's bytes) is not HTTP/1's.
    pub fn open(cli: &mut Conn, ctx: &mut StreamCtx<'_>, fe: usize) -> H1 {
        let _ = cli.take_wire();
        ctx.backends.h1().fe(fe).conn_opened();
        H1 { stream: Current::None, requests: 0, waiting_since: ctx.now, head_started: None }
    }

    /// The mux of a connection whose TCP stream switched to HTTP: the
    /// first request's stream continues `up`.
    pub fn upgraded(cli: &mut Conn, ctx: &mut StreamCtx<'_>, fe: usize, up: Box<Upgraded>) -> H1 {
        H1 { stream: Current::Carry(up), ..H1::open(cli, ctx, fe) }
    }

    /// The connection stops being HTTP/1 (closed, or HTTP/2 from now on):
    /// its last bytes counted, its `h1_open_connections` given back. Once,
    /// by whoever replaces or ends the mux, after its stream ended.
    pub fn close(&mut self, cli: &mut Conn, ctx: &mut StreamCtx<'_>, fe: usize) {
        let c = ctx.backends.h1().fe(fe);
        c.moved(cli.take_wire());
        c.conn_closed();
    }

    pub fn stream(&self) -> Option<&Stream> {
        self.stream.as_ref().map(|s| &**s)
    }

    /// The current stream, to act on it from outside (a server taken away).
    pub fn stream_mut(&mut self) -> Option<&mut Stream> {
        self.stream.as_mut().map(|s| &mut **s)
    }

    /// Streams started on this connection (requests received).
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// No request in progress: the next step reads one.
    pub fn between_requests(&self) -> bool {
        self.stream.is_none()
    }

    /// See [`Stream::read_ahead_server`].
    pub fn read_ahead_server(&mut self, ev: &mio::event::Event, now: Instant) -> bool {
        self.stream.as_mut().is_some_and(|s| s.read_ahead_server(ev, now))
    }

    pub fn on_server_event(&mut self, ev: &mio::event::Event) {
        if let Some(s) = self.stream.as_mut() {
            s.on_server_event(ev);
        }
    }

    /// Drives the current stream, then reads the next request when it is
    /// done. `seed` gives what a new stream needs.
    pub fn process(
        &mut self,
        cli: &mut Conn,
        ctx: &mut StreamCtx<'_>,
        seed: &StreamSeed,
        timed_out: bool,
    ) -> H1Status {
        let status = self.run(cli, ctx, seed, timed_out);
        ctx.backends.h1().fe(seed.frontend).moved(cli.take_wire());
        status
    }

    fn run(
        &mut self,
        cli: &mut Conn,
        ctx: &mut StreamCtx<'_>,
        seed: &StreamSeed,
        timed_out: bool,
    ) -> H1Status {
        loop {
            if let Some(stream) = self.stream.as_mut() {
                let status = if timed_out { stream.on_timeout(cli, ctx) } else { stream.process(cli, ctx) };
                if status == StreamStatus::Alive {
                    return H1Status::Alive;
                }
                let keep_alive = stream.client_keep_alive();
                if stream.silent_drop() {
                    cli.silent_drop(); // `silent-drop`: no answer, the client is told nothing
                }
                if let Some(s) = self.stream.take() {
                    s.finish(ctx);
                    ctx.backends.h1().fe(seed.frontend).stream_closed();
                }
                if !keep_alive || crate::core::lifecycle::stopping() {
                    return H1Status::Closed;
                }
                self.waiting_since = ctx.now;
                self.head_started = None;
            }
            if timed_out && self.waiting_expired(cli, ctx.cfg, seed.frontend, ctx.now) {
                return self.request_timeout(cli, ctx, seed);
            }
            match self.read_request(cli, ctx, seed) {
                Some(status) => return status,
                None => continue, // a stream was created: drive it
            }
        }
    }

    /// Waits for a complete request head; creates its stream (None) or
    /// says what happened to the connection.
    fn read_request(
        &mut self,
        cli: &mut Conn,
        ctx: &mut StreamCtx<'_>,
        seed: &StreamSeed,
    ) -> Option<H1Status> {
        let step = cli.fill(ctx.now);
        let pending = cli.pending();
        if pending == 0
            && self.requests > 0
            && crate::core::lifecycle::stopping()
            && !ctx.cfg.proxies[seed.frontend].knobs.http.idle_close_on_response
        {
            // idle after a request: the soft stop closes it (a connection
            // accepted while stopping still gets its first request served;
            // with `option idle-close-on-response` the next one too, its
            // response saying `Connection: close`, as in HAProxy 2.6)
            return Some(H1Status::Closed);
        }
        if pending > 0 && self.head_started.is_none() {
            self.head_started = Some(ctx.now);
        }
        if seed.detect_h2
            && self.requests == 0
            && let Some(rx) = cli.rx.as_ref()
        {
            let preface = crate::l7_http::h2::frame::PREFACE;
            let n = rx.len().min(preface.len());
            if rx.data()[..n] == preface[..n] {
                let whole = n == preface.len();
                return Some(if whole { H1Status::SwitchToH2 } else { H1Status::Alive });
            }
        }
        let parsed = match cli.rx.as_ref() {
            Some(rx) => parse_request(rx.data()),
            None => Ok(None),
        };
        match parsed {
            Ok(Some(head)) => {
                let Some(rx) = cli.rx.as_mut() else { return Some(H1Status::Closed) };
                // Body bytes that came with the head are checked before anything
                // is forwarded, so a malformed request that arrived whole never
                // reaches a server.
                if let Err(e) = BodyState::new(head.framing).advance(&rx.data()[head.len..]) {
                    let why = ParseError::Syntax(if e == BodyError::ChunkSize {
                        "invalid chunk size"
                    } else {
                        "invalid chunk framing"
                    });
                    return Some(self.bad_request(cli, why, ctx, seed));
                }
                if !ctx.cfg.global.h1_accept_payload_with_any_method && payload_forbidden(&head, rx.data()) {
                    let why = ParseError::Syntax("HTTP/1.0 GET/HEAD/DELETE request with a payload");
                    let status = (BuiltinStatus::PayloadTooLarge, RAW_413);
                    return Some(self.refuse(cli, status, why, ctx, seed));
                }
                // The head moves into the transaction: the whole buffer when it
                // holds nothing else, else a copy of the head bytes.
                let buf = if rx.len() == head.len {
                    cli.rx.take().unwrap_or_default()
                } else {
                    let mut b = Buffer::take();
                    b.push(&rx.data()[..head.len]);
                    rx.consume(head.len);
                    b
                };
                let (buf, head) = crate::l7_http::authority::normalize(buf, head);
                self.requests += 1;
                let carry = self.stream.take_carry();
                // an upgraded stream keeps its id (`new_http_upgraded` takes the carried one)
                let id = if carry.is_none() { ctx.next_stream_id() } else { 0 };
                let first = self.requests == 1;
                let begin = self.head_started.unwrap_or(ctx.now);
                ctx.backends.h1().fe(seed.frontend).stream_opened();
                self.stream = Current::Stream(Stream::new_http_upgraded(
                    carry,
                    id,
                    seed.frontend,
                    (seed.src, seed.dst, seed.srv_token),
                    (buf, head, first, begin),
                    ctx,
                ));
                None
            }
            Ok(None) if cli.rx_full() => Some(self.bad_request(cli, ParseError::TooLarge, ctx, seed)),
            Ok(None)
                if matches!(step, IoStep::Eof | IoStep::Failed) || cli.read_closed || cli.error.is_some() =>
            {
                // A client leaving before its first request, or in the middle
                // of a head, is still a (refused) request for HAProxy: counted
                // and logged `CR--`. An idle keep-alive close is not. Half a
                // head then a FIN also gets HAProxy's 400 (its
                // `h1_handle_incomplete`): the client can still read it.
                // After a reset or with nothing received, nothing is sent.
                if pending > 0 && !matches!(step, IoStep::Failed) && cli.error.is_none() {
                    cli.send_all(BuiltinStatus::BadRequest.bytes(), ctx.now);
                    cli.rx = None;
                }
                let probe = self.requests == 0 && pending == 0;
                let ignored = probe && ctx.cfg.proxies[seed.frontend].knobs.http.ignore_probes;
                if (self.requests == 0 || pending > 0) && !ignored {
                    let term = TermState { cause: TermCause::ClientAbort, phase: TermPhase::Request };
                    self.log_refused(ctx, seed, BuiltinStatus::BadRequest, term, pending == 0);
                }
                Some(H1Status::Closed)
            }
            Ok(None) => Some(H1Status::Alive),
            Err(e) => Some(self.bad_request(cli, e, ctx, seed)),
        }
    }

    fn bad_request(
        &mut self,
        cli: &mut Conn,
        why: ParseError,
        ctx: &mut StreamCtx<'_>,
        seed: &StreamSeed,
    ) -> H1Status {
        let status = BuiltinStatus::BadRequest;
        self.refuse(cli, (status, status.bytes()), why, ctx, seed)
    }

    /// An invalid request: captured (`show errors`), answered with
    /// `answer`, logged with `status`, and the connection closed.
    fn refuse(
        &mut self,
        cli: &mut Conn,
        (status, answer): (BuiltinStatus, &[u8]),
        why: ParseError,
        ctx: &mut StreamCtx<'_>,
        seed: &StreamSeed,
    ) -> H1Status {
        debug!(target: "l5", "invalid request: {why}");
        if let Some(rx) = cli.rx.as_ref() {
            ctx.errors.capture(true, seed.frontend, None, None, seed.src, rx.data(), ctx.wall);
        }
        cli.send_all(answer, ctx.now);
        cli.rx = None;
        let term = TermState { cause: TermCause::ProxyRule, phase: TermPhase::Request };
        self.log_refused(ctx, seed, status, term, false);
        H1Status::Closed
    }

    fn request_timeout(&mut self, cli: &mut Conn, ctx: &mut StreamCtx<'_>, seed: &StreamSeed) -> H1Status {
        let probe = self.head_started.is_none() && self.requests == 0;
        if probe && ctx.cfg.proxies[seed.frontend].knobs.http.ignore_probes {
            return H1Status::Closed; // `option http-ignore-probes`: no 408, no log, no count
        }
        if self.head_started.is_some() || self.requests == 0 {
            debug!(target: "l5", "request head not received in time");
            cli.send_all(BuiltinStatus::RequestTimeout.bytes(), ctx.now);
            let term = TermState { cause: TermCause::ClientTimeout, phase: TermPhase::Request };
            self.log_refused(ctx, seed, BuiltinStatus::RequestTimeout, term, self.head_started.is_none());
        }
        H1Status::Closed
    }

    /// A request refused by the mux itself (invalid, timed out, abandoned by
    /// the client) still counts and is logged ([`super::refused`]).
    fn log_refused(
        &mut self,
        ctx: &mut StreamCtx<'_>,
        seed: &StreamSeed,
        status: BuiltinStatus,
        term: TermState,
        null: bool,
    ) {
        self.requests += 1;
        // HAProxy's mux made a stream of it too (h1_total_streams).
        let c = ctx.backends.h1().fe(seed.frontend);
        c.stream_opened();
        c.stream_closed();
        let begin = self.head_started.unwrap_or(self.waiting_since);
        super::refused::log_refused(ctx, seed, status, term, begin, null);
    }

    /// Deadline while no stream exists: keep-alive idle or head in progress.
    fn waiting_deadline(&self, cfg: &Config, fe: usize) -> Option<Instant> {
        let t = &cfg.proxies[fe].timeouts;
        let http_request = t.http_request.or(t.client);
        match self.head_started {
            Some(start) => http_request.map(|d| start + d),
            None if self.requests == 0 => http_request.map(|d| self.waiting_since + d),
            None => t.http_keep_alive.or(http_request).map(|d| self.waiting_since + d),
        }
    }

    fn waiting_expired(&self, cli: &Conn, cfg: &Config, fe: usize, now: Instant) -> bool {
        let _ = cli;
        self.stream.is_none() && self.waiting_deadline(cfg, fe).is_some_and(|d| d <= now)
    }

    pub fn next_deadline(&self, cli: &Conn, cfg: &Config, fe: usize) -> Option<Instant> {
        match self.stream.as_ref() {
            Some(s) => s.next_deadline(cli, cfg),
            None => self.waiting_deadline(cfg, fe),
        }
    }

    /// Ends the current stream now, its log saying `cause`, then the
    /// connection's HTTP/1 counting (the session ends).
    pub fn end(&mut self, cli: &mut Conn, ctx: &mut StreamCtx<'_>, fe: usize, cause: TermCause) {
        if let Some(mut s) = self.stream.take() {
            s.term.set(cause, TermPhase::Data);
            s.finish(ctx);
            ctx.backends.h1().fe(fe).stream_closed();
        }
        self.close(cli, ctx, fe);
    }
}

/// The 413 HAProxy's H1 mux sends for a refused request (its raw
/// message, header names capitalized as written there).
const RAW_413: &[u8] = b"HTTP/1.1 413 Payload Too Large\r\nContent-length: 106\r\nCache-Control: no-cache\r\n\
Content-Type: text/html\r\n\r\n<html><body><h1>413 Payload Too Large</h1>\nThe request entity exceeds the maximum \
allowed.\n</body></html>\n";

/// HAProxy 2.6's rule (its H1 mux): an HTTP/1.0 GET, HEAD or DELETE
/// request with a payload (a non-zero Content-Length, or chunked) is
/// refused with a 413, unless `h1-accept-payload-with-any-method` is set.
fn payload_forbidden(head: &crate::l7_http::head::RequestHead, buf: &[u8]) -> bool {
    use crate::l7_http::head::{Framing, Version};
    let body = matches!(head.framing, Framing::Length(n) if n > 0) || head.framing == Framing::Chunked;
    body && head.version == Version::Http10 && matches!(head.method.of(buf), b"GET" | b"HEAD" | b"DELETE")
}
