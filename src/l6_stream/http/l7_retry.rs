//! `retry-on`'s L7 conditions, as HAProxy 2.6 retries (`do_l7_retry`):
//! after the request went to the server, the server closed or reset
//! before a response (`empty-response`), sent an invalid response head
//! (`junk-response`), let `timeout server` pass before a response
//! (`response-timeout`) or answered a listed status: the request goes
//! again, on a new connection, counted against `retries` (`wretr` of the
//! server and the backend), to the same server or, with `option
//! redispatch`, as that option decides, to another one.
//!
//! strata keeps no copy of a request body it forwarded, so only a request
//! without a body is sent again (HAProxy needs the whole request in its
//! buffer); nothing of a response must have reached the client.

use crate::l6_stream::stream::{Phase, Stream, StreamCtx};
use crate::l7_http::head::Framing;
use log::debug;

impl Stream {
    /// Whether the response failure `why` (a [`crate::cfg::srv_select::RetryOn`]
    /// bit) is retried; when it is, the stream is set to connect again
    /// (`Phase::RetryFresh`) and the server connection is closed.
    pub(in crate::l6_stream) fn l7_retry(&mut self, ctx: &StreamCtx<'_>, why: u32) -> bool {
        let (Some(be), Some(srv)) = (self.backend, self.server) else { return false };
        if !ctx.cfg.proxies[be].knobs.srv.retry_on.has(why) || self.retries_left == 0 || self.bytes_out > 0 {
            return false;
        }
        let Some(h) = self.http.as_mut() else { return false };
        let again = h.txn.req.framing == Framing::None
            && !h.response_started
            && !h.answered
            && !h.tunnel
            && h.res_out.is_none()
            && h.txn.res.is_none();
        if !again {
            return false;
        }
        h.reused = false;
        self.retries_left -= 1;
        self.retries_done += 1;
        self.extra.retry_elsewhere = self.redispatch_now(ctx, be, srv);
        if !self.extra.retry_elsewhere
            && let Some(state) = ctx.backends.lock().get_mut(be)
        {
            state.count_retry(srv);
        }
        debug!(
            target: "l6",
            "{self}: retry-on: sending the request again ({} retries left, {})",
            self.retries_left,
            if self.extra.retry_elsewhere { "another server" } else { "the same server" }
        );
        self.phase = Phase::RetryFresh;
        true
    }
}
