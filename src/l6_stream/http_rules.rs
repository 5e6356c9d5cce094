//! Running `http-request` and `http-response` rules on a stream.
//!
//! Conditions are evaluated against the head as received; header edits
//! are collected and applied when the head is serialised (so a condition
//! never sees an edit made by an earlier rule — HAProxy would; noted in
//! docs/architecture.md). The first deny, return or redirect ends the pass.

use super::stream::{Stream, StreamCtx};
use super::term::{TermCause, TermPhase};
use crate::l7_http::errors::BuiltinStatus;
use crate::l7_http::head::find;
use crate::l7_http::rewrite::HeaderEdit;
use crate::l7_http::rules::{HttpAction, redirect_response};

/// How a rule pass ended.
enum Stop {
    Builtin(BuiltinStatus),
    Response(Vec<u8>), // return / redirect
}

impl Stream {
    /// Runs `proxy`'s `http-request` rules. True when a rule answered the
    /// request itself (the stream then only sends that answer).
    pub(super) fn run_request_rules(&mut self, proxy: usize, ctx: &StreamCtx<'_>) -> bool {
        let rules = &ctx.rules[proxy].http_request;
        if rules.is_empty() {
            return false;
        }
        let mut edits: Vec<HeaderEdit> = Vec::new();
        let mut new_path: Option<&str> = None;
        let mut stop = None;
        {
            let sample = self.sample(ctx, false);
            let Some(txn) = sample.txn else { return false };
            for rule in rules {
                if !rule.cond.as_ref().is_none_or(|c| c.eval(&sample)) {
                    continue;
                }
                match &rule.action {
                    HttpAction::Deny(status) => stop = Some(Stop::Builtin(*status)),
                    HttpAction::Return(bytes) => stop = Some(Stop::Response(bytes.clone())),
                    HttpAction::Redirect { to, code } => {
                        let buf = txn.req_bytes();
                        let host = find(buf, &txn.req.headers, "host").next();
                        stop = Some(Stop::Response(redirect_response(to, *code, txn.uri_bytes(), host)));
                    }
                    HttpAction::Edit(e) => edits.push(e.clone()),
                    HttpAction::SetPath(p) => new_path = Some(p),
                }
                if stop.is_some() {
                    break;
                }
            }
        }
        let Some(h) = self.http.as_mut() else { return false };
        h.txn.req_edits.append(&mut edits);
        if let Some(p) = new_path {
            h.txn.set_path(p);
        }
        match stop {
            None => false,
            Some(Stop::Builtin(status)) => {
                self.answer(status, TermCause::ProxyRule, TermPhase::Request);
                true
            }
            Some(Stop::Response(bytes)) => {
                self.answer_with(&bytes, status_of(&bytes), TermCause::Local, TermPhase::Request);
                true
            }
        }
    }

    /// Runs the response rules of the backend, then of the frontend.
    /// Returns the status of a deny, if one fired.
    pub(super) fn run_response_rules(&mut self, ctx: &StreamCtx<'_>) -> Option<BuiltinStatus> {
        let mut order = [self.backend, Some(self.frontend)];
        if order[0] == order[1] {
            order[1] = None;
        }
        let mut edits: Vec<HeaderEdit> = Vec::new();
        let mut denied = None;
        {
            let sample = self.sample(ctx, true);
            'passes: for proxy in order.into_iter().flatten() {
                for rule in &ctx.rules[proxy].http_response {
                    if !rule.cond.as_ref().is_none_or(|c| c.eval(&sample)) {
                        continue;
                    }
                    match &rule.action {
                        HttpAction::Deny(status) => {
                            denied = Some(*status);
                            break 'passes;
                        }
                        HttpAction::Edit(e) => edits.push(e.clone()),
                        _ => {}
                    }
                }
            }
        }
        if let Some(h) = self.http.as_mut() {
            h.txn.res_edits.append(&mut edits);
        }
        denied
    }
}

/// The status code of a response we built (`HTTP/1.1 NNN ...`).
fn status_of(bytes: &[u8]) -> u16 {
    bytes.get(9..12).and_then(|d| std::str::from_utf8(d).ok()).and_then(|d| d.parse().ok()).unwrap_or(200)
}
