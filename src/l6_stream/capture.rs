//! The stream's side of captures (`cfg::capture`): the frontend's header
//! and cookie captures taken when a head arrives, before that side's
//! rules (HAProxy's order), the values of `capture` rules, and the check
//! that a frontend's capture rule names a slot it has.

use super::stream::{Stream, StreamCtx};
use crate::cfg::Proxy;
use crate::l7_http::actions::ExtAction;
use crate::l7_http::captured::Captured;
use crate::l7_http::rules::{HttpAction, HttpRule, RuleSide};

impl Stream {
    /// A request head arrived: the frontend's request header captures.
    pub(super) fn capture_request_headers(&mut self, ctx: &StreamCtx<'_>) {
        let caps = &ctx.cfg.proxies[self.frontend].captures;
        let Some(h) = self.http.as_mut() else { return };
        let t = &mut h.txn;
        t.captured = Captured::for_frontend(caps);
        if caps.any() {
            let buf = t.req_buf.data();
            t.captured.take_headers(caps, false, buf, &t.req.headers);
        }
    }

    /// A final response head arrived: the frontend's response captures.
    pub(super) fn capture_response_headers(&mut self, ctx: &StreamCtx<'_>) {
        let caps = &ctx.cfg.proxies[self.frontend].captures;
        if !caps.any() {
            return;
        }
        let Some(h) = self.http.as_mut() else { return };
        let t = &mut h.txn;
        if let (Some(res), Some(buf)) = (t.res.as_ref(), t.res_buf.as_ref()) {
            t.captured.take_headers(caps, true, buf.data(), &res.headers);
        }
    }

    /// Stores what a `capture` rule computed in the frontend's slot.
    pub(super) fn store_capture(&mut self, ctx: &StreamCtx<'_>, response: bool, slot: usize, value: &[u8]) {
        let caps = &ctx.cfg.proxies[self.frontend].captures;
        if let Some(h) = self.http.as_mut() {
            h.txn.captured.set(caps, response, slot, value);
        }
    }
}

/// A frontend's `capture ... id N` rule naming a slot it does not declare
/// (a backend's cannot be checked: its frontends are known only at run
/// time, as in HAProxy).
pub(super) fn unknown_capture(p: &Proxy, side: RuleSide, r: &HttpRule) -> Option<String> {
    let HttpAction::Ext(ExtAction::Capture { slot, .. }) = &r.action else { return None };
    let response = side == RuleSide::Response;
    (p.cap.frontend && *slot >= p.captures.side(response).len()).then(|| {
        let kw = if response { "http-response" } else { "http-request" };
        format!("unable to find capture id '{slot}' referenced by {kw} capture rule")
    })
}
