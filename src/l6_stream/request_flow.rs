//! What an HTTP request goes through once its head is in, after the
//! frontend's content rules, the monitor URI and the captures, in
//! HAProxy's order: the frontend's `http-request` rules, its stats page
//! and `redirect` rules, the backend choice, the backend's content and
//! `http-request` rules, stats page and redirects, then persistence, the
//! cache, compression and the head for the server. The way can stop to
//! wait for the request body (`option http-buffer-request` of the
//! frontend or the backend, an `http-request wait-for-body` rule): the
//! stream then waits in `Phase::WaitBody` (`body_wait.rs`) and comes back
//! here at the [`ReqStep`] it stopped at, with the body it has.

use super::stream::{Stream, StreamCtx};
use crate::core::buffer::Buffer;

/// Where the request's way (re)starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ReqStep {
    FeBody,         // the frontend's `option http-buffer-request`, then its rules
    FeRules(usize), // the frontend's `http-request` rules from this one
    BeBody,         // the backend's `option http-buffer-request`, then its rules
    BeRules(usize), // the backend's `http-request` rules from this one
}

impl Stream {
    /// Runs the request's way from `from`; `body` is the request body
    /// once waited for (what `req.body` reads).
    pub(super) fn request_flow(&mut self, from: ReqStep, body: Option<&[u8]>, ctx: &StreamCtx<'_>) {
        let fe = self.frontend;
        let mut step = from;
        if step == ReqStep::FeBody {
            if self.buffers_request(fe, ctx) {
                return self.wait_for_body(fe, None, 0, ReqStep::FeRules(0), ctx);
            }
            step = ReqStep::FeRules(0);
        }
        if let ReqStep::FeRules(from) = step {
            if self.run_request_rules(fe, from, body, ctx) || self.restrict_header_names(fe, ctx) {
                return;
            }
            // The stats page of the frontend, then of the backend (HAProxy's order).
            if let Some(call) = self.stats_call(fe, ctx) {
                return self.start_service(call);
            }
            if self.run_redirects(fe, ctx) {
                return;
            }
            match self.extra.routed {
                // The TCP stream's backend, an HTTP one: it stays.
                Some(b) => {
                    self.backend = Some(b);
                    self.retries_left = ctx.cfg.proxies[b].retries;
                }
                None => self.route(ctx),
            }
            let Some(be) = self.backend.filter(|&b| b != fe) else { return self.request_tail(ctx) };
            if !self.run_content_rules(be, ctx) {
                return;
            }
            step = ReqStep::BeBody;
        }
        let Some(be) = self.backend else { return };
        if step == ReqStep::BeBody {
            if self.buffers_request(be, ctx) {
                return self.wait_for_body(be, None, 0, ReqStep::BeRules(0), ctx);
            }
            step = ReqStep::BeRules(0);
        }
        if let ReqStep::BeRules(from) = step
            && (self.run_request_rules(be, from, body, ctx) || self.restrict_header_names(be, ctx))
        {
            return;
        }
        if let Some(call) = self.stats_call(be, ctx) {
            return self.start_service(call);
        }
        if self.run_redirects(be, ctx) {
            return;
        }
        self.request_tail(ctx);
    }

    /// After every rule: persistence, the cache, compression, the head
    /// for the server and a 103 for `early-hint` lines.
    fn request_tail(&mut self, ctx: &StreamCtx<'_>) {
        self.persistence(ctx);
        if self.serve_from_cache(ctx) {
            return;
        }
        self.select_compression(ctx);
        self.unique_id_header(ctx);
        self.prepare_request(ctx);
        if let Some(h) = self.http.as_mut()
            && !h.early_hints.is_empty()
            && h.res_out.is_none()
        {
            // `early-hint`: a 103 goes out before the server's answer.
            let mut out = Buffer::take();
            out.push(b"HTTP/1.1 103 Early Hints\r\n");
            out.push(&h.early_hints);
            out.push(b"\r\n");
            h.res_out = Some(out);
        }
    }
}
