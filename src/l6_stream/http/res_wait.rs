//! `http-response wait-for-body time T [at-least N]`: the response head
//! is held (nothing of it goes to the client) until its body is whole,
//! N body bytes are in, the buffer is full or the server stops sending,
//! as HAProxy 2.6's `http_wait_for_msg_body` does; then the response
//! rules go on after the one that waited, reading the body (`res.body`,
//! de-chunked). Past T, or the server timeout, the client gets HAProxy's
//! 504 (`sR`, as HAProxy 2.6.12 logs it) and the server connection is dropped. Owned by the
//! stream's response side ([`super::HttpPart::res_wait`]).

use crate::l6_stream::body_wait::{body_seen, enough};
use crate::l6_stream::stream::{Stream, StreamCtx};
use crate::l6_stream::term::{TermCause, TermPhase};
use crate::l7_http::errors::BuiltinStatus;
use crate::l7_http::head::Framing;
use std::time::{Duration, Instant};

/// A response held for its body.
#[derive(Clone, Copy, Debug)]
pub(super) struct ResWait {
    until: Instant,       // the wait's deadline
    at_least: u64,        // body bytes that are enough (0: the whole body)
    next: (usize, usize), // the response rules go on there (see `run_response_rules`)
}

impl Stream {
    /// Holds the response for its body (a `wait-for-body` rule matched);
    /// false when there is nothing to wait for (no body, a cached answer):
    /// the rules then go on at once.
    pub(in crate::l6_stream) fn hold_response(
        &mut self,
        time: Duration,
        at_least: u64,
        next: (usize, usize),
        ctx: &StreamCtx<'_>,
    ) -> bool {
        let Some(h) = self.http.as_mut() else { return false };
        let bodyless =
            h.txn.res.as_ref().is_none_or(|r| matches!(r.framing, Framing::None | Framing::Length(0)));
        if bodyless || self.srv.is_none() || h.cache.is_some() {
            return false;
        }
        h.res_wait = Some(ResWait { until: ctx.now + time, at_least, next });
        true
    }

    /// While a response is held: reads the server and, once the body is
    /// there, runs the rest of the response rules on it. True on progress.
    pub(super) fn wait_response_body(&mut self, ctx: &StreamCtx<'_>) -> bool {
        let (Some(h), Some(srv)) = (self.http.as_mut(), self.srv.as_mut()) else { return false };
        let Some(w) = h.res_wait else { return false };
        let Some(framing) = h.txn.res.as_ref().map(|r| r.framing) else { return false };
        let step = srv.fill(ctx.now);
        let closed =
            srv.read_closed() || matches!(step, crate::l4_conn::IoStep::Eof | crate::l4_conn::IoStep::Failed);
        let full = srv.rx_full();
        // Out of the connection while the rules read it (they never read
        // the server's buffer), put back for the body's forwarding.
        let rx = srv.rx_slot().take();
        let mut decoded = Vec::new();
        let seen = body_seen(framing, rx.as_ref().map_or(&[][..], |b| b.data()), &mut decoded);
        let ready = match &seen {
            Ok((body, done)) => *done || enough(body, w.at_least) || full || closed,
            Err(_) => true,
        };
        if !ready {
            *srv.rx_slot() = rx;
            if ctx.now >= w.until {
                self.response_body_late(ctx);
                return true;
            }
            return matches!(step, crate::l4_conn::IoStep::Moved(_));
        }
        h.res_wait = None;
        match seen {
            Ok((body, _)) => self.response_rules_on(w.next, Some(body), ctx),
            Err(_) => {
                // A broken body: HAProxy's 502 for an invalid response.
                self.count(ctx, crate::stick::Update::HttpFail);
                self.answer(BuiltinStatus::BadGateway, TermCause::ProxyRule, TermPhase::Headers);
            }
        }
        if let Some(srv) = self.srv.as_mut() {
            *srv.rx_slot() = rx;
        }
        true
    }

    /// When the held response's wait ends (None: nothing is held).
    pub(in crate::l6_stream) fn response_wait_until(&self) -> Option<Instant> {
        self.http.as_ref().and_then(|h| h.res_wait).map(|w| w.until)
    }

    /// The held response's body did not come in time (its own time or the
    /// server timeout): HAProxy's 504, `sR`, a failed request for the
    /// trackers.
    pub(in crate::l6_stream) fn response_body_late(&mut self, ctx: &StreamCtx<'_>) {
        if let Some(h) = self.http.as_mut() {
            h.res_wait = None;
        }
        self.res_head_at = None; // no response was accepted: `Tr` is -1, as in HAProxy
        self.count(ctx, crate::stick::Update::HttpFail);
        self.answer(BuiltinStatus::GatewayTimeout, TermCause::ServerTimeout, TermPhase::Request);
    }
}
