//! HTTP/1 forwarding for a stream in `mode http`: request head and body to
//! the server, response head and body back, built-in answers, and the
//! switch to a tunnel after `101 Switching Protocols` or CONNECT.
//!
//! Bodies are never buffered whole: [`BodyState`] classifies the bytes at
//! the front of a receive buffer and exactly those are written out, so a
//! following pipelined request stays where it is.
//!
//! The request side is in `request.rs`, the response side in
//! `response.rs`; this file owns [`HttpPart`] and the loop that drives both.

mod abort;
mod error_page;
mod h1_tally;
mod l7_retry;
mod request;
mod res_wait;
mod response;

use super::client::ClientSide;
use super::service::ServiceState;
use super::stream::{Phase, Stream, StreamCtx};
use super::term::{TermCause, TermPhase};
use crate::core::buffer::Buffer;
use crate::l4_conn::{IoStep, Pipe};
use crate::l7_http::body::{BodyError, BodyState};
use crate::l7_http::errors::BuiltinStatus;
use crate::l7_http::head::{Framing, Version};
use crate::l7_http::txn::Txn;
use log::debug;
use std::time::Instant;

/// Whether a body with `room` bytes left is worth a pipe: a rest smaller
/// than a buffer costs fewer system calls copied through one (a short
/// body's bytes that came after its head, the end of a long one).
fn worth_splicing(room: u64) -> bool {
    room >= crate::core::buffer::size() as u64
}

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
    pub(super) res_out_parsed: bool, // `res_out` is the server's head as `txn.res` describes it
    pub(super) early_hints: Vec<u8>, // `early-hint` header lines for a 103 answer
    pub(super) comp_algo: Option<crate::cfg::CompAlgo>, // compression chosen for this request
    pub(super) comp: Option<Box<crate::l7_http::compress::Compressor>>, // compressing the response
    pub(super) cache: Option<Box<super::http_cache::CacheState>>, // `cache-use` was run
    pub(super) dyn_answer: Option<std::rc::Rc<crate::l7_http::reply::DynReply>>, // an error page to render before it leaves
    res_pipe: Option<Pipe>, // response body bytes spliced from the server, not yet sent
    res_wait: Option<res_wait::ResWait>, // `http-response wait-for-body`: the response is held for its body
    req_pipe: Option<Pipe>, // request body bytes spliced from the client, not yet sent
    h1: h1_tally::H1Tally,  // what the `h1_*` stats have yet to count
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
            res_out_parsed: false,
            early_hints: Vec::new(),
            dyn_answer: None,
            comp_algo: None,
            comp: None,
            cache: None,
            res_pipe: None,
            res_wait: None,
            req_pipe: None,
            h1: h1_tally::H1Tally::default(),
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
        self.req_head.is_sent()
            && self.txn.req_body.is_done()
            && self.req_pending == 0
            && self.req_pipe.is_none()
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

impl Stream {
    /// Replaces the response with one of HAProxy's built-in answers, unless
    /// a response already started (then the client connection is cut).
    /// A page the proxies configured for the status replaces the built-in one.
    pub(super) fn answer(&mut self, status: BuiltinStatus, cause: TermCause, phase: TermPhase) {
        if let Some(page) = crate::l7_http::custom_errors::find(self.backend, self.frontend, status.code()) {
            return self.answer_page(page, cause, phase);
        }
        self.answer_builtin(status, cause, phase);
    }

    /// Replaces the response with HAProxy's built-in answer for `status`.
    pub(super) fn answer_builtin(&mut self, status: BuiltinStatus, cause: TermCause, phase: TermPhase) {
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
        self.try_answer_with(bytes, code, cause, phase);
    }

    /// [`Stream::answer_with`]; false when the answer could not replace
    /// the response (the stream is then aborted).
    pub(super) fn try_answer_with(
        &mut self,
        bytes: &[u8],
        code: u16,
        cause: TermCause,
        phase: TermPhase,
    ) -> bool {
        self.term.set(cause, phase);
        let Some(h) = self.http.as_mut() else {
            self.abort(cause, phase);
            return false;
        };
        if h.response_started || h.answered {
            h.txn.client_close = true;
            self.abort(cause, phase);
            return false;
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
        true
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
            progress |= self.watch_client_close(cli, ctx);
            if self.phase == Phase::Forwarding {
                progress |= self.http_response_head(ctx);
                progress |= self.wait_response_body(ctx);
                // An answer built while reading the response (`http-response
                // deny`, a bad response's 502) gets its rules before it leaves.
                self.after_response_on_answer(ctx);
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

    /// A response rule rejected the response: the client connection ends
    /// without an answer (reset for `silent-drop`).
    fn drop_client(&mut self, silent: bool) {
        if let Some(h) = self.http.as_mut() {
            h.txn.client_close = true;
        }
        self.extra.silent_drop = silent;
        self.abort(TermCause::ProxyRule, TermPhase::Headers);
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
        if self.l7_retry(ctx, crate::cfg::srv_select::RetryOn::EMPTY_RESPONSE) {
            return;
        }
        self.count(ctx, crate::stick::Update::HttpFail);
        self.answer(BuiltinStatus::BadGateway, TermCause::ServerAbort, TermPhase::Headers);
    }
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
