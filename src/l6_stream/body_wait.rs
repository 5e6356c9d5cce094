//! Waiting for the request body before the rules, as HAProxy 2.6's
//! `http_wait_for_msg_body` does for `option http-buffer-request` and
//! `http-request wait-for-body time T [at-least N]`: the stream stops in
//! `Phase::WaitBody` until the whole body is buffered, at least N of its
//! bytes are, the buffer is full or the client stops sending; then the
//! request's way goes on (`request_flow.rs`) with the body readable by
//! `req.body`. Past the time (`timeout http-request` for the option; the
//! client timeout bounds both) the client gets a 408 (`cR`, as HAProxy
//! 2.6.12 logs it). A request
//! without a body, or a CONNECT, does not wait; an HTTP/1.1 request with
//! `Expect: 100-continue` gets a `100 Continue` first and the header is
//! not forwarded.

use super::client::ClientSide;
use super::request_flow::ReqStep;
use super::stream::{Phase, Stream, StreamCtx};
use super::term::{TermCause, TermPhase};
use crate::core::buffer::Buffer;
use crate::l4_conn::IoStep;
use crate::l7_http::body::BodyState;
use crate::l7_http::errors::BuiltinStatus;
use crate::l7_http::head::{Framing, Version};
use crate::l7_http::rewrite::HeaderEdit;
use std::time::{Duration, Instant};

/// A stream waiting for its request body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct BodyWait {
    pub until: Option<Instant>, // the wait's own deadline (none: only the client timeout)
    pub at_least: u64,          // body bytes that are enough (0: the whole body)
    pub next: ReqStep,          // where the request's way goes on
    pub send_continue: bool,    // a `100 Continue` is owed to the client
}

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

impl Stream {
    /// Whether `proxy` has `option http-buffer-request`.
    pub(super) fn buffers_request(&self, proxy: usize, ctx: &StreamCtx<'_>) -> bool {
        ctx.cfg.proxies[proxy].knobs.http.buffer_request
    }

    /// Starts waiting for the body (`time`: the wait's limit, None for
    /// `proxy`'s `timeout http-request`), unless the request has none; then
    /// goes on at `next` at once.
    pub(super) fn wait_for_body(
        &mut self,
        proxy: usize,
        time: Option<Duration>,
        at_least: u64,
        next: ReqStep,
        ctx: &StreamCtx<'_>,
    ) {
        let Some(h) = self.http.as_mut() else { return };
        let req = &h.txn.req;
        let has_body = !matches!(req.framing, Framing::None | Framing::Length(0));
        if !has_body || h.txn.method_bytes() == b"CONNECT" {
            return self.request_flow(next, None, ctx);
        }
        let buf = h.txn.req_bytes();
        let expects = req.version == Version::Http11
            && crate::l7_http::head::find(buf, &req.headers, "expect")
                .next()
                .is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"));
        if expects {
            h.txn.req_edits.push(HeaderEdit::Del("expect".into()));
        }
        let time = time.or(ctx.cfg.proxies[proxy].timeouts.http_request);
        let until = time.map(|t| ctx.now + t);
        self.phase = Phase::WaitBody(BodyWait { until, at_least, next, send_continue: expects });
    }

    /// One step of the wait: read, and go on when the body is there.
    pub(super) fn wait_body<C: ClientSide>(&mut self, cli: &mut C, ctx: &StreamCtx<'_>) {
        let Phase::WaitBody(mut w) = self.phase else { return };
        let Some(h) = self.http.as_mut() else { return };
        if w.send_continue {
            let mut out = Buffer::take();
            out.push(CONTINUE);
            h.res_out = Some(out);
            w.send_continue = false;
            self.phase = Phase::WaitBody(w);
        }
        if h.res_out.is_some() && cli.send_from(&mut h.res_out, ctx.now) == IoStep::Failed {
            return self.abort(TermCause::ClientAbort, TermPhase::Data);
        }
        if cli.fill(ctx.now) == IoStep::Failed {
            return self.abort(TermCause::ClientAbort, TermPhase::Data);
        }
        let data = cli.rx().map_or(&[][..], |b| b.data());
        let mut decoded = Vec::new();
        let Ok((body, done)) = body_seen(h.txn.req.framing, data, &mut decoded) else {
            return self.answer(BuiltinStatus::BadRequest, TermCause::ProxyRule, TermPhase::Request);
        };
        if !(done || enough(body, w.at_least) || cli.rx_full() || cli.read_closed()) {
            if w.until.is_some_and(|u| ctx.now >= u) {
                self.body_timeout();
            }
            return;
        }
        self.phase = Phase::Assign;
        self.request_flow(w.next, Some(body), ctx);
    }

    /// The body did not come in time: HAProxy's 408, `cR`.
    pub(super) fn body_timeout(&mut self) {
        self.answer(BuiltinStatus::RequestTimeout, TermCause::ClientTimeout, TermPhase::Request);
    }
}

/// The body at the front of `data`, framed by `framing`: its bytes
/// (de-chunked into `decoded` when chunked) and whether it is whole.
pub(super) fn body_seen<'a>(
    framing: Framing,
    data: &'a [u8],
    decoded: &'a mut Vec<u8>,
) -> Result<(&'a [u8], bool), crate::l7_http::body::BodyError> {
    let chunked = framing == Framing::Chunked;
    let seen = BodyState::new(framing).advance_payload(data, &mut |p| {
        if chunked {
            decoded.extend_from_slice(p);
        }
    })?;
    let body = if chunked { &decoded[..] } else { &data[..seen.body_bytes] };
    Ok((body, seen.done))
}

/// `at-least N` is reached (N = 0: only the whole body will do).
pub(super) fn enough(body: &[u8], at_least: u64) -> bool {
    at_least > 0 && body.len() as u64 >= at_least
}
