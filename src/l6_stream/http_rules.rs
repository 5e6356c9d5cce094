//! Running a stream's rules: `tcp-request content` (every stream),
//! `http-request` and `http-response` (mode http).
//!
//! Conditions are evaluated against the head as received; header edits
//! are collected and applied when the head is serialised (so a condition
//! never sees an edit made by an earlier rule — HAProxy would). The first
//! deny, return or redirect ends a pass. Stick-counter actions take effect
//! at once: a later condition sees a tracker an earlier rule installed.

use super::sample::{SlotAccess, StreamSample};
use super::stream::{Stream, StreamCtx};
use super::term::{TermCause, TermPhase};
use crate::acl::SampleSource;
use crate::l4_conn::track::{ScAction, TrackSlots, Verdict, run_sc_action, run_tcp_rules};
use crate::l7_http::errors::BuiltinStatus;
use crate::l7_http::head::find;
use crate::l7_http::logformat::LogFormat;
use crate::l7_http::rewrite::HeaderEdit;
use crate::l7_http::rules::{HttpAction, redirect_response};
use crate::stick::Update;

/// How a rule pass ended.
enum Stop {
    Builtin(BuiltinStatus),
    Response(Vec<u8>), // return / redirect
}

/// A stream's sample with write access to its slots, built from disjoint
/// fields so the transaction can be read while slots are filled.
macro_rules! writable_sample {
    ($s:expr, $ctx:expr, $response:expr, $proxy:expr) => {
        StreamSample {
            src: $s.src,
            dst: $s.dst,
            txn: $s.http.as_ref().map(|h| &h.txn),
            frontend: $s.frontend,
            backend: $s.backend,
            cfg: $ctx.cfg,
            backends: &*$ctx.backends,
            response: $response,
            slots: SlotAccess::Write(&mut $s.slots),
            inherited: $ctx.inherited,
            tables: $ctx.tables,
            rule_proxy: $proxy,
            now_ms: $ctx.now_ms,
        }
    };
}

impl Stream {
    /// Runs `proxy`'s `tcp-request content` rules. False when a rule
    /// rejected the stream (it is then aborted).
    pub(super) fn run_content_rules(&mut self, proxy: usize, ctx: &StreamCtx<'_>) -> bool {
        let rules = &ctx.rules[proxy].tcp_content;
        if rules.is_empty() {
            return true;
        }
        let verdict = {
            let mut sample = writable_sample!(self, ctx, false, proxy);
            run_tcp_rules(rules, &mut sample, ctx.tables, ctx.now_ms)
        };
        if verdict == Verdict::Reject {
            if let Some(h) = self.http.as_mut() {
                h.txn.client_close = true;
            }
            self.abort(TermCause::ProxyRule, TermPhase::Request);
            return false;
        }
        true
    }

    /// Counts the request on every slot (HAProxy does it before the
    /// `http-request` rules run, so they see it).
    pub(super) fn count_request(&self, ctx: &StreamCtx<'_>) {
        self.count(ctx, Update::HttpReq);
    }

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
            let mut sample = writable_sample!(self, ctx, false, proxy);
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
                    HttpAction::DynHeader { name, value, set } => {
                        edits.push(dyn_edit(name, value, *set, &sample))
                    }
                    HttpAction::SetPath(p) => new_path = Some(p),
                    HttpAction::Sc(a) => {
                        if run_sc_action(a, &mut sample, ctx.tables, ctx.now_ms)
                            && let ScAction::Track(spec) = a
                            && let Some(t) = sample.tracker(spec.slot)
                        {
                            // A tracker started by an http-request rule counts the current request.
                            t.inc_http_req(ctx.now_ms);
                        }
                    }
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
                self.count(ctx, Update::HttpErr);
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
        'passes: for proxy in order.into_iter().flatten() {
            let sample = self.sample(ctx, true, proxy);
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
                    HttpAction::DynHeader { name, value, set } => {
                        edits.push(dyn_edit(name, value, *set, &sample))
                    }
                    _ => {}
                }
            }
        }
        if let Some(h) = self.http.as_mut() {
            h.txn.res_edits.append(&mut edits);
        }
        denied
    }
}

/// A set/add-header edit with its value rendered for this stream.
fn dyn_edit(name: &str, value: &LogFormat, set: bool, sample: &dyn SampleSource) -> HeaderEdit {
    let v = value.render(sample);
    if set { HeaderEdit::Set(name.to_owned(), v) } else { HeaderEdit::Add(name.to_owned(), v) }
}

/// The status code of a response we built (`HTTP/1.1 NNN ...`).
fn status_of(bytes: &[u8]) -> u16 {
    bytes.get(9..12).and_then(|d| std::str::from_utf8(d).ok()).and_then(|d| d.parse().ok()).unwrap_or(200)
}
