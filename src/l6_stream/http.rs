//! HTTP/1 forwarding for a stream in `mode http`: request head and body to
//! the server, response head and body back, built-in answers, and the
//! switch to a tunnel after `101 Switching Protocols` or CONNECT.
//!
//! Bodies are never buffered whole: [`BodyState`] classifies the bytes at
//! the front of a receive buffer and exactly those are written out, so a
//! following pipelined request stays where it is.

use super::client::ClientSide;
use super::service::ServiceState;
use super::stream::{Phase, Stream, StreamCtx};
use super::term::{TermCause, TermPhase};
use crate::core::buffer::Buffer;
use crate::l4_conn::{IoStep, Pipe};
use crate::l7_http::body::{BodyError, BodyState};
use crate::l7_http::errors::BuiltinStatus;
use crate::l7_http::head::{Framing, Version};
use crate::l7_http::parse::parse_response;
use crate::l7_http::rewrite::{ConnHeader, NextHead, request_line};
use crate::l7_http::txn::{MethodKind, Txn};
use log::debug;
use std::time::Instant;

/// The HTTP side of a stream: its transaction and forwarding progress.
pub struct HttpPart {
    pub txn: Txn,
    req_head: ReqHead,                                  // the request head still to send
    pub(super) res_out: Option<Buffer>,                 // response head or built-in answer to send
    req_pending: usize, // bytes at the front of the client buffer known to be request body
    res_pending: usize, // same for the response body in the server buffer
    pub(super) answered: bool, // a built-in answer replaced the response
    pub(super) reused: bool, // the server connection came from the idle pool
    pub(super) first_of_session: bool, // first request on its client connection
    pub(super) tunnel: bool, // protocol switched: forward bytes as TCP
    pub(super) response_started: bool, // a response byte reached the client
    pub(super) early_hints: Vec<u8>, // `early-hint` header lines for a 103 answer
    pub(super) comp_algo: Option<crate::cfg::CompAlgo>, // compression chosen for this request
    pub(super) comp: Option<Box<crate::l7_http::compress::Compressor>>, // compressing the response
    pub(super) cache: Option<Box<super::http_cache::CacheState>>, // `cache-use` was run
    res_pipe: Option<Pipe>, // response body bytes spliced from the server, not yet sent
    /// An internal service answers (see `service.rs`).
    pub(super) service: Option<ServiceState>,
}

/// The request head still to send to the server. Part of [`HttpPart`];
/// only the stream's request side (`prepare_request`, `http_request_side`,
/// a built-in answer) changes it.
enum ReqHead {
    Sent,                       // all of it (or none is to be sent)
    Rewritten(Option<Buffer>),  // written again (`NextHead::write`); None once sent
    AsReceived { sent: usize }, // the transaction's `req_buf` as it is; bytes of it sent so far
}

impl ReqHead {
    fn is_sent(&self) -> bool {
        matches!(self, ReqHead::Sent)
    }

    /// Sends what is left of the head on `srv`; `received` is the head as
    /// received (the transaction's `req_buf`).
    fn send(
        &mut self,
        srv: &mut crate::l6_stream::srv_conn::SrvConn,
        received: &[u8],
        now: Instant,
    ) -> IoStep {
        let step = match self {
            ReqHead::Sent => return IoStep::Blocked,
            ReqHead::Rewritten(out) => srv.send_from(out, now),
            ReqHead::AsReceived { sent } => srv.send_bytes(&received[*sent..], now),
        };
        // Checked with nothing moved too: a head with nothing left to send
        // (an emptied buffer) counts as sent.
        let n = if let IoStep::Moved(n) = step { n } else { 0 };
        self.sent(n, received.len());
        step
    }

    /// `n` more bytes of the head went out; `received` is the length of
    /// the received head.
    fn sent(&mut self, n: usize, received: usize) {
        match self {
            ReqHead::Rewritten(None) => *self = ReqHead::Sent,
            ReqHead::AsReceived { sent } if *sent + n >= received => *self = ReqHead::Sent,
            ReqHead::AsReceived { sent } => *sent += n,
            _ => {}
        }
    }
}

impl HttpPart {
    #[inline]
    pub fn new(txn: Txn, first_of_session: bool) -> HttpPart {
        HttpPart {
            txn,
            req_head: ReqHead::Sent,
            res_out: None,
            req_pending: 0,
            res_pending: 0,
            answered: false,
            reused: false,
            first_of_session,
            tunnel: false,
            response_started: false,
            early_hints: Vec::new(),
            comp_algo: None,
            comp: None,
            cache: None,
            res_pipe: None,
            service: None,
        }
    }

    /// Finds how many bytes at the front of the server's buffer belong to
    /// the response body (once per buffered run).
    fn measure_response_body(&mut self, rx: Option<&Buffer>) -> Result<(), BodyError> {
        if self.res_pending == 0
            && let Some(rx) = rx
        {
            self.res_pending = self.txn.res_body.advance(rx.data())?.body_bytes;
            if self.cache.is_some() {
                Stream::cache_copy(self, &rx.data()[..self.res_pending]);
            }
        }
        Ok(())
    }

    /// A response is being copied for the cache (its body must pass here,
    /// not through a pipe).
    fn cache_filling(&self) -> bool {
        self.cache.as_ref().is_some_and(|c| c.filling())
    }

    /// A built-in or cached answer has been sent entirely.
    fn answer_sent(&self) -> bool {
        self.res_out.is_none() && self.cache.as_ref().is_none_or(|c| c.body.is_none())
    }

    /// Request fully sent (head and body).
    pub(super) fn request_done(&self) -> bool {
        self.req_head.is_sent() && self.txn.req_body.is_done() && self.req_pending == 0
    }

    /// Response fully sent to the client: its framing says the body
    /// ended and every byte measured as body (or spliced) has left.
    pub(super) fn response_done(&self) -> bool {
        (self.txn.res.is_some() || self.answered)
            && self.res_out.is_none()
            && self.txn.res_body.is_done()
            && self.res_pending == 0
            && self.res_pipe.is_none()
            && self.service.is_none()
            && self.comp.as_ref().is_none_or(|c| c.done())
            && self.cache.as_ref().is_none_or(|c| c.body.is_none())
    }

    /// Nothing of the response is known yet: the next read of the server
    /// connection is for its head.
    pub fn awaits_response_head(&self) -> bool {
        self.txn.res.is_none() && !self.answered && self.res_out.is_none() && !self.tunnel
    }

    /// Whether the client connection may carry another request.
    pub fn client_keep_alive(&self) -> bool {
        !self.txn.client_close && !self.tunnel && self.request_done() && self.response_done()
    }

    /// Whether the server connection may go back to the idle pool.
    pub(super) fn server_reusable(&self) -> bool {
        let Some(res) = self.txn.res.as_ref() else { return false };
        !self.answered
            && !self.tunnel
            && !self.txn.server_close
            && !res.conn.close
            && (res.version == Version::Http11 || res.conn.keep_alive)
            && res.framing != Framing::UntilClose
            && self.request_done()
            && self.response_done()
    }
}

/// The name of the `X-Forwarded-For` header to add for client `ip`, if
/// one is added: as HAProxy, when the frontend or the backend has `option
/// forwardfor`, the client is in neither one's `except` network, and
/// (when every such proxy said `if-none`) the request has no such header;
/// the backend's `header` name first, then the frontend's.
fn forwardfor_header<'c>(
    fe: &'c crate::cfg::Proxy,
    be: Option<&'c crate::cfg::Proxy>,
    ip: std::net::IpAddr,
    buf: &[u8],
    headers: &[crate::l7_http::head::HeaderSpan],
) -> Option<&'c str> {
    let both = || [Some(fe), be].into_iter().flatten();
    if !both().any(|p| p.options.forwardfor) || both().any(|p| p.knobs.forwardfor.excepted(ip)) {
        return None;
    }
    let name = be
        .and_then(|b| b.knobs.forwardfor.header.as_deref())
        .or(fe.knobs.forwardfor.header.as_deref())
        .unwrap_or("x-forwarded-for");
    let if_none = both().filter(|p| p.options.forwardfor).all(|p| p.knobs.forwardfor.if_none);
    if if_none && crate::l7_http::head::find(buf, headers, name).next().is_some() {
        return None;
    }
    Some(name)
}

impl Stream {
    /// Serialises the request head for the server (again on a retry).
    pub(super) fn prepare_request(&mut self, ctx: &StreamCtx<'_>) {
        let Some(h) = self.http.as_mut() else { return };
        let fe = &ctx.cfg.proxies[self.frontend];
        let be = self.backend.map(|b| &ctx.cfg.proxies[b]);
        let either = |f: fn(&crate::cfg::knobs::HttpConnOpts) -> bool| {
            f(&fe.knobs.http) || be.is_some_and(|b| f(&b.knobs.http))
        };
        let httpclose = fe.options.httpclose || be.is_some_and(|b| b.options.httpclose);
        // `http-server-close` (or `httpclose`): one request per server
        // connection, announced to the server unless the backend has
        // `http-pretend-keepalive` (the server side's option, as in HAProxy).
        let one_shot = httpclose || either(|h| h.server_close);
        let close = one_shot && !be.is_some_and(|b| b.knobs.http.pretend_keepalive);
        h.txn.server_close |= one_shot;
        let t = &h.txn;
        let forwardfor = forwardfor_header(fe, be, self.src.ip(), t.req_bytes(), &t.req.headers);
        let mut ip_text = [0u8; 48];
        let ip_len = if forwardfor.is_some() { format_ip(self.src.ip(), &mut ip_text) } else { 0 };
        let xff_name = forwardfor.unwrap_or("x-forwarded-for");
        let orig_to = super::http_checks::originalto_header(fe, be, self.dst.ip());
        let mut dst_text = [0u8; 48];
        let dst_len = if orig_to.is_some() { format_ip(self.dst.ip(), &mut dst_text) } else { 0 };
        let xot_name = orig_to.unwrap_or("x-original-to");
        let both: &[(&[u8], &[u8])] =
            &[(xff_name.as_bytes(), &ip_text[..ip_len]), (xot_name.as_bytes(), &dst_text[..dst_len])];
        let extra = match (forwardfor.is_some(), orig_to.is_some()) {
            (true, true) => both,
            (true, false) => &both[..1],
            (false, true) => &both[1..],
            (false, false) => &[],
        };
        let src = t.req_bytes();
        let line = request_line(t.method_bytes(), t.outgoing_uri(), t.req.version);
        let conn = if t.req.conn.upgrade {
            ConnHeader::Upgrade
        } else if close {
            ConnHeader::Close
        } else {
            ConnHeader::Default
        };
        let next =
            NextHead { first_line: &line, src, headers: &t.req.headers, edits: &t.req_edits, extra, conn };
        if next.unchanged() {
            h.req_head = ReqHead::AsReceived { sent: 0 };
            return;
        }
        match next.write() {
            Some(out) => h.req_head = ReqHead::Rewritten(Some(out)),
            None => self.answer(BuiltinStatus::BadRequest, TermCause::ProxyRule, TermPhase::Request),
        }
    }

    /// Replaces the response with one of HAProxy's built-in answers, unless
    /// a response already started (then the client connection is cut).
    /// A page the proxies configured for the status replaces the built-in one.
    pub(super) fn answer(&mut self, status: BuiltinStatus, cause: TermCause, phase: TermPhase) {
        if let Some(page) = crate::l7_http::custom_errors::find(self.backend, self.frontend, status.code()) {
            // The page alone decides whether the connection carries on (HAProxy).
            if page.closes
                && let Some(h) = self.http.as_mut()
            {
                h.txn.client_close = true;
            }
            return self.answer_with(&page.bytes, page.code, cause, phase);
        }
        if status.closes()
            && let Some(h) = self.http.as_mut()
        {
            h.txn.client_close = true;
        }
        self.answer_with(status.bytes(), status.code(), cause, phase);
    }

    /// Replaces the response with `bytes` (a complete response of status
    /// `code`), unless a response already started.
    pub(super) fn answer_with(&mut self, bytes: &[u8], code: u16, cause: TermCause, phase: TermPhase) {
        self.term.set(cause, phase);
        let Some(h) = self.http.as_mut() else { return self.abort(cause, phase) };
        if h.response_started || h.answered {
            h.txn.client_close = true;
            return self.abort(cause, phase);
        }
        debug!(target: "l6", "s#{}: answering {code}", self.id);
        let mut out = Buffer::take();
        if out.push(bytes) < bytes.len() {
            h.txn.client_close = true; // larger than a buffer: truncated, so close after it
        }
        h.res_out = Some(out);
        h.answered = true;
        h.txn.status = Some(code);
        h.txn.res_body = BodyState::Done;
        h.txn.server_close = true;
        // A head still waiting for the server (a connect that failed) will
        // never leave now. Only what the client sent decides whether its
        // connection can carry another request: HAProxy keeps it after a
        // 503 too (tests/backend_faults.rs).
        h.req_head = ReqHead::Sent;
        if !h.request_done() {
            h.txn.client_close = true;
        }
        self.phase = Phase::Forwarding;
    }

    /// Forwards HTTP in both directions as far as readiness allows.
    pub(super) fn forward_http<C: ClientSide>(&mut self, cli: &mut C, ctx: &mut StreamCtx<'_>) {
        if self.http.as_ref().is_some_and(|h| h.tunnel) {
            return self.forward(cli, ctx.now);
        }
        self.after_response_on_answer(ctx);
        let pending =
            self.http.as_ref().is_some_and(|h| matches!(h.service, Some(ServiceState::Pending { .. })));
        if pending && !self.run_service(cli, ctx) {
            return;
        }
        loop {
            // Each side runs only while the stream still forwards: a failed
            // send on a reused connection switches to a retry on a new one,
            // and reading the failed socket after that would answer 502.
            let mut progress = self.http_request_side(cli, ctx);
            if self.phase == Phase::Forwarding {
                progress |= self.http_response_head(ctx);
            }
            if self.phase == Phase::Forwarding {
                progress |= self.http_response_side(cli, ctx.now);
            }
            if self.phase != Phase::Forwarding {
                return;
            }
            if !progress {
                break;
            }
        }
        let Some(h) = self.http.as_mut() else { return };
        if h.answered && h.answer_sent() && h.service.is_none() {
            self.phase = Phase::Done;
        } else if h.response_done() && h.txn.upgraded {
            h.tunnel = true;
            debug!(target: "l6", "s#{}: switching to tunnel", self.id);
            self.forward(cli, ctx.now);
        } else if h.response_done() {
            if !h.request_done() {
                h.txn.client_close = true; // the rest of the request body cannot be skipped safely
            }
            self.phase = Phase::Done;
        }
    }

    /// Request head then body, client → server. Returns whether anything moved.
    fn http_request_side<C: ClientSide>(&mut self, cli: &mut C, ctx: &StreamCtx<'_>) -> bool {
        let now = ctx.now;
        let (Some(h), Some(srv)) = (self.http.as_mut(), self.srv.as_mut()) else { return false };
        if h.answered {
            return false;
        }
        let mut progress = false;
        if !h.req_head.is_sent() {
            match h.req_head.send(srv, h.txn.req_bytes(), now) {
                IoStep::Moved(n) => {
                    self.bytes_in += n as u64;
                    progress = true;
                }
                IoStep::Failed => {
                    self.server_failed_early(ctx);
                    return true;
                }
                _ => {}
            }
            if !h.req_head.is_sent() {
                return progress;
            }
        }
        if h.txn.req_body.is_done() && h.req_pending == 0 {
            return progress;
        }
        if h.req_pending == 0
            && let Some(rx) = cli.rx()
        {
            match h.txn.req_body.advance(rx.data()) {
                Ok(adv) => h.req_pending = adv.body_bytes,
                Err(e) => {
                    debug!(target: "l6", "s#{}: bad request body: {e}", self.id);
                    self.answer(BuiltinStatus::BadRequest, TermCause::ClientAbort, TermPhase::Request);
                    return true;
                }
            }
        }
        if h.req_pending > 0 {
            match srv.send_prefix(cli.rx_mut(), h.req_pending, now) {
                IoStep::Moved(n) => {
                    h.req_pending -= n;
                    self.bytes_in += n as u64;
                    progress = true;
                }
                IoStep::Failed => {
                    self.server_failed_early(ctx);
                    return true;
                }
                _ => {}
            }
        }
        if !h.txn.req_body.is_done() && h.req_pending == 0 {
            match cli.fill(now) {
                IoStep::Moved(_) | IoStep::Eof => progress = true,
                IoStep::Failed => {
                    self.abort(TermCause::ClientAbort, TermPhase::Data);
                    return true;
                }
                IoStep::Blocked => {}
            }
            // The client closed before its body was complete (bytes still
            // buffered are forwarded first).
            if cli.read_closed() && cli.pending() == 0 && h.req_pending == 0 && !h.txn.req_body.is_done() {
                self.abort(TermCause::ClientAbort, TermPhase::Data);
                return true;
            }
        }
        progress
    }

    /// Reads and parses the response head; 1xx interim answers are passed
    /// on as they are.
    fn http_response_head(&mut self, ctx: &mut StreamCtx<'_>) -> bool {
        let now = ctx.now;
        let (Some(h), Some(srv)) = (self.http.as_mut(), self.srv.as_mut()) else { return false };
        if h.txn.res.is_some() || h.answered || h.res_out.is_some() {
            return false;
        }
        let step = srv.fill(now);
        let head_req = h.txn.method == MethodKind::Head;
        let connect_req = h.txn.method == MethodKind::Connect;
        let parsed = match srv.rx() {
            Some(rx) => parse_response(rx.data(), head_req, connect_req),
            None => Ok(None),
        };
        match parsed {
            Ok(Some(head)) => {
                let Some(rx) = srv.rx_slot().as_mut() else { return false };
                let mut buf = Buffer::take();
                buf.push(&rx.data()[..head.len]);
                rx.consume(head.len);
                if rx.is_empty() {
                    *srv.rx_slot() = None;
                }
                if (100..200).contains(&head.status) && head.status != 101 {
                    h.res_out = Some(buf); // interim: forward as received, then wait for the final one
                    return true;
                }
                self.res_head_at = Some(now);
                self.accept_response(buf, head, ctx);
                let head_len = self.http.as_ref().and_then(|h| h.res_out.as_ref()).map_or(0, |b| b.len());
                self.log_asap(ctx, self.bytes_out + head_len as u64);
                true
            }
            Ok(None) => {
                if srv.rx_full() {
                    self.answer(BuiltinStatus::BadGateway, TermCause::ProxyRule, TermPhase::Headers);
                    return true;
                }
                match step {
                    IoStep::Eof | IoStep::Failed => {
                        self.server_failed_early(ctx);
                        true
                    }
                    IoStep::Moved(_) => true,
                    IoStep::Blocked => false,
                }
            }
            Err(e) => {
                debug!(target: "l6", "s#{}: invalid response: {e}", self.id);
                if let (Some(be), Some(rx)) = (self.backend, srv.rx()) {
                    ctx.errors.capture(false, be, None, self.server, self.src, rx.data(), ctx.wall);
                }
                self.count(ctx, crate::stick::Update::HttpFail);
                self.answer(BuiltinStatus::BadGateway, TermCause::ProxyRule, TermPhase::Headers);
                true
            }
        }
    }

    /// A final response head arrived: decide the client connection's fate
    /// and serialise the head for the client.
    fn accept_response(
        &mut self,
        buf: Buffer,
        head: crate::l7_http::head::ResponseHead,
        ctx: &StreamCtx<'_>,
    ) {
        match head.status {
            400..=499 => self.count(ctx, crate::stick::Update::HttpErr),
            500..=599 if head.status != 501 && head.status != 505 => {
                self.count(ctx, crate::stick::Update::HttpFail)
            }
            _ => {}
        }
        let fe = &ctx.cfg.proxies[self.frontend];
        let Some(h) = self.http.as_mut() else { return };
        let t = &mut h.txn;
        t.status = Some(head.status);
        t.res_body = BodyState::new(head.framing);
        let be_close = self.backend.is_some_and(|b| ctx.cfg.proxies[b].options.httpclose);
        let stopping = crate::core::lifecycle::stopping(); // clients move to the new process
        if head.framing == Framing::UntilClose || fe.options.httpclose || be_close || stopping {
            t.client_close = true;
        }
        if head.status == 101 || (t.method == MethodKind::Connect && (200..300).contains(&head.status)) {
            t.upgraded = true;
        }
        let conn = if t.upgraded && head.status == 101 {
            ConnHeader::Upgrade
        } else if t.client_close {
            ConnHeader::Close
        } else if t.req.version == Version::Http10 {
            ConnHeader::KeepAlive
        } else {
            ConnHeader::Default
        };
        t.res = Some(head);
        t.res_buf = Some(buf);
        t.vars.clear_scope(crate::acl::Scope::Req); // `req.` variables end with the request's processing
        self.capture_response_headers(ctx);
        match self.run_response_rules(ctx) {
            None => {}
            Some(super::http_rules::Stop::Builtin(status)) => {
                return self.answer(status, TermCause::ProxyRule, TermPhase::Headers);
            }
            Some(stop) => {
                // `reject` / `silent-drop`: nothing more is sent to the client.
                let silent = matches!(stop, super::http_rules::Stop::Close { silent: true });
                return self.drop_client(silent);
            }
        }
        self.persist_response(ctx);
        let be = self.backend.map(|b| &ctx.cfg.proxies[b]);
        if be.is_some_and(|b| b.knobs.http.checkcache)
            && let Some(h) = self.http.as_ref()
            && let (Some(head), Some(buf)) = (h.txn.res.as_ref(), h.txn.res_buf.as_ref())
            && super::http_checks::cacheable_with_cookie(
                matches!(h.txn.method_bytes(), b"GET" | b"HEAD" | b"OPTIONS" | b"TRACE"),
                head.status,
                buf.data(),
                &head.headers,
            )
        {
            let (b, srv) = (self.backend.unwrap_or(self.frontend), self.server.unwrap_or(0));
            let name = ctx.cfg.proxies[b].servers.get(srv).map_or("<NOSRV>", |s| s.name.as_str());
            let be_name = &ctx.cfg.proxies[b].name;
            eprintln!(
                "[ALERT]    ({}) : Blocking cacheable cookie in response from instance {be_name}, server {name}.",
                std::process::id()
            );
            return self.answer(BuiltinStatus::BadGateway, TermCause::ProxyRule, TermPhase::Headers);
        }
        self.run_after_response_rules(ctx);
        self.start_compression(ctx);
        self.cache_head_done();
        let Some(h) = self.http.as_mut() else { return };
        let t = &mut h.txn;
        let (Some(head), Some(buf)) = (t.res.as_ref(), t.res_buf.as_ref()) else { return };
        let src = buf.data();
        // The parser only accepts 3-digit status codes: written on the stack.
        let st = t.status_override.as_ref().map_or(head.status, |(c, _)| *c);
        t.status = Some(st);
        let code = [b'0' + (st / 100 % 10) as u8, b'0' + (st / 10 % 10) as u8, b'0' + (st % 10) as u8];
        let reason: &[u8] = match &t.status_override {
            Some((_, Some(r))) => r.as_bytes(),
            Some((c, None)) => crate::l7_http::rules::reason(*c).as_bytes(),
            None => head.reason.of(src),
        };
        // The version as received when it is (the line may then be copied as it is).
        let version = head.version.as_str().as_bytes();
        let version = src.get(..version.len()).filter(|v| *v == version).unwrap_or(version);
        let line: [&[u8]; 5] = [version, b" ", &code, b" ", reason];
        let next = NextHead {
            first_line: &line,
            src,
            headers: &head.headers,
            edits: &t.res_edits,
            extra: &[],
            conn,
        };
        if next.unchanged() {
            // Sent as received. The rules that read the head have run; from
            // here on only the parsed fields of `t.res` are read.
            h.res_out = t.res_buf.take();
            return;
        }
        match next.write() {
            Some(out) => h.res_out = Some(out),
            None => self.answer(BuiltinStatus::BadGateway, TermCause::ProxyRule, TermPhase::Headers),
        }
    }

    /// A response rule rejected the response: the client connection ends
    /// without an answer (reset for `silent-drop`).
    fn drop_client(&mut self, silent: bool) {
        if let Some(h) = self.http.as_mut() {
            h.txn.client_close = true;
        }
        self.extra.silent_drop = silent;
        self.abort(TermCause::ProxyRule, TermPhase::Headers);
    }

    /// Response head (or answer) then body, server → client.
    fn http_response_side<C: ClientSide>(&mut self, cli: &mut C, now: Instant) -> bool {
        let Some(h) = self.http.as_mut() else { return false };
        if h.service.is_some() {
            return match h.send_service(cli, now) {
                Ok(n) => {
                    self.bytes_out += n as u64;
                    n > 0
                }
                Err(()) => {
                    self.abort(TermCause::ClientAbort, TermPhase::Data);
                    true
                }
            };
        }
        if h.answered {
            super::http_cache::refill_cached_body(h);
        }
        let mut progress = false;
        if h.res_out.is_some() {
            // A server response head goes out with the body bytes already
            // received, in one write.
            let coalesce =
                !h.answered && h.txn.res.is_some() && !h.txn.res_body.is_done() && h.comp.is_none();
            let srv_rx = match self.srv.as_mut() {
                Some(srv) if coalesce => {
                    if let Err(e) = h.measure_response_body(srv.rx()) {
                        return self.bad_response_body(e);
                    }
                    Some(srv.rx_slot())
                }
                _ => None,
            };
            let step = match srv_rx {
                Some(rx) if h.res_pending > 0 => {
                    let (step, _, body) = cli.send_pair(&mut h.res_out, rx, h.res_pending, now);
                    h.res_pending -= body;
                    step
                }
                _ => cli.send_from(&mut h.res_out, now),
            };
            match step {
                IoStep::Moved(n) => {
                    h.response_started = true;
                    self.bytes_out += n as u64;
                    progress = true;
                }
                IoStep::Failed => {
                    self.abort(TermCause::ClientAbort, TermPhase::Data);
                    return true;
                }
                _ => {}
            }
            if h.res_out.is_some() || h.answered || h.txn.res.is_none() {
                return progress;
            }
        }
        if h.comp.is_some() && !h.answered {
            return self.compressed_body(cli, now) || progress;
        }
        let Some(srv) = self.srv.as_mut() else { return progress };
        if h.txn.res.is_none() || (h.txn.res_body.is_done() && h.res_pending == 0) {
            return progress;
        }
        if let Err(e) = h.measure_response_body(srv.rx()) {
            return self.bad_response_body(e);
        }
        if h.res_pending > 0 {
            match cli.send_prefix(srv.rx_slot(), h.res_pending, now) {
                IoStep::Moved(n) => {
                    h.res_pending -= n;
                    self.bytes_out += n as u64;
                    progress = true;
                }
                IoStep::Failed => {
                    self.abort(TermCause::ClientAbort, TermPhase::Data);
                    return true;
                }
                _ => {}
            }
        }
        // A Content-Length body (or one ending at close) whose bytes are not
        // buffered goes from the server socket to the client by splice(2).
        let mut spliced = false;
        if h.res_pending == 0
            && srv.pending() == 0
            && srv.splices()
            && cli.can_splice()
            && !h.cache_filling()
            && let Some(room) = h.txn.res_body.blind_room()
        {
            if h.res_pipe.is_none() && srv.is_readable() {
                h.res_pipe = Pipe::take();
            }
            if let Some(p) = h.res_pipe.as_mut() {
                spliced = true;
                let max = room.saturating_sub(p.len() as u64).min(usize::MAX as u64) as usize;
                match srv.splice_in_max(p, max, now) {
                    IoStep::Moved(_) | IoStep::Eof => progress = true,
                    IoStep::Failed => {
                        h.txn.client_close = true;
                        self.abort(TermCause::ServerAbort, TermPhase::Data);
                        return true;
                    }
                    IoStep::Blocked => {}
                }
                match cli.splice_out(p, now) {
                    IoStep::Moved(n) => {
                        h.txn.res_body.forwarded_blind(n as u64);
                        self.bytes_out += n as u64;
                        progress = true;
                    }
                    IoStep::Failed => {
                        self.abort(TermCause::ClientAbort, TermPhase::Data);
                        return true;
                    }
                    _ => {}
                }
                if p.is_empty()
                    && let Some(p) = h.res_pipe.take()
                {
                    p.release();
                }
            }
        }
        // Without a pipe (or once a close-delimited body hit EOF), the buffers.
        if !h.txn.res_body.is_done()
            && h.res_pending == 0
            && h.res_pipe.is_none()
            && (!spliced || srv.read_closed())
        {
            match srv.fill(now) {
                IoStep::Moved(_) | IoStep::Eof => progress = true,
                IoStep::Failed => {
                    h.txn.client_close = true;
                    self.abort(TermCause::ServerAbort, TermPhase::Data);
                    return true;
                }
                IoStep::Blocked => {}
            }
            // The server closed and everything it sent was forwarded: the
            // end of a body delimited by the close, else a truncated one.
            if srv.read_closed() && srv.pending() == 0 && h.res_pending == 0 && !h.txn.res_body.is_done() {
                if h.txn.res_body == BodyState::UntilClose {
                    h.txn.res_body = BodyState::Done;
                    return true;
                }
                h.txn.client_close = true;
                self.abort(TermCause::ServerAbort, TermPhase::Data);
                return true;
            }
        }
        progress
    }

    /// The response body's framing is broken: the stream ends, and the
    /// client connection with it (nothing after can be trusted).
    fn bad_response_body(&mut self, e: BodyError) -> bool {
        debug!(target: "l6", "s#{}: bad response body: {e}", self.id);
        if let Some(h) = self.http.as_mut() {
            h.txn.client_close = true;
        }
        self.abort(TermCause::ServerAbort, TermPhase::Data);
        true
    }

    /// The server connection failed before any response byte: retry a safe
    /// request that went over a reused connection, else answer 502, a
    /// failed request for the trackers (`http_fail_cnt`) as in HAProxy,
    /// whose response analyser counts a read error like a 5xx.
    fn server_failed_early(&mut self, ctx: &StreamCtx<'_>) {
        let Some(h) = self.http.as_mut() else { return self.abort(TermCause::ServerAbort, TermPhase::Data) };
        if h.reused && h.txn.retryable() {
            debug!(target: "l6", "s#{}: reused connection was closed, retrying on a new one", self.id);
            h.reused = false;
            self.phase = Phase::RetryFresh;
            return;
        }
        self.count(ctx, crate::stick::Update::HttpFail);
        self.answer(BuiltinStatus::BadGateway, TermCause::ServerAbort, TermPhase::Headers);
    }
}

/// Writes `ip` as text into `out` without allocating; returns the length.
fn format_ip(ip: std::net::IpAddr, out: &mut [u8; 48]) -> usize {
    use std::io::Write;
    let mut cursor = std::io::Cursor::new(&mut out[..]);
    let _ = write!(cursor, "{ip}");
    cursor.position() as usize
}

#[cfg(test)]
mod tests {
    use super::ReqHead;
    use crate::core::buffer::Buffer;

    #[test]
    fn a_head_is_sent_once_its_last_byte_left() {
        let mut raw = ReqHead::AsReceived { sent: 0 };
        raw.sent(10, 30);
        assert!(matches!(raw, ReqHead::AsReceived { sent: 10 }));
        raw.sent(19, 30);
        assert!(matches!(raw, ReqHead::AsReceived { sent: 29 }));
        raw.sent(1, 30);
        assert!(matches!(raw, ReqHead::Sent));
        // A rewritten head is sent when its buffer is (emptied: None).
        let mut rewritten = ReqHead::Rewritten(Some(Buffer::take()));
        rewritten.sent(5, 30);
        assert!(matches!(rewritten, ReqHead::Rewritten(Some(_))));
        let mut rewritten = ReqHead::Rewritten(None);
        rewritten.sent(5, 30);
        assert!(matches!(rewritten, ReqHead::Sent));
    }
}
