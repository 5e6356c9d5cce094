//! Running a stream's rules: `tcp-request content` (every stream),
//! `http-request` and `http-response` (mode http).
//!
//! Conditions are evaluated against the head as received; header edits
//! are collected and applied when the head is serialised (so a condition
//! never sees an edit made by an earlier rule — HAProxy would). The first
//! deny, return or redirect ends a pass. Stick-counter actions take effect
//! at once: a later condition sees a tracker an earlier rule installed.

use super::last_rule::{RuleRef, RuleSet};
use super::request_flow::ReqStep;
use super::sample::{SlotAccess, StreamSample};
use super::stream::{Phase, Stream, StreamCtx};
use super::term::{TermCause, TermPhase};
use crate::l4_conn::track::{ScAction, TrackSlots, Verdict, run_sc_action};
use crate::l7_http::errors::BuiltinStatus;
use crate::l7_http::head::find;
use crate::l7_http::logformat::LogFormat;
use crate::l7_http::reply::Answer;
use crate::l7_http::rewrite::HeaderEdit;
use crate::l7_http::rules::HttpAction;
use crate::stick::Update;

/// How a rule pass ended.
pub(super) enum Stop {
    Builtin(BuiltinStatus),
    Response(Vec<u8>),                    // return / redirect / auth
    Page(crate::l7_http::reply::PageRef), // `return ... default-errorfiles|errorfiles NAME`
    Deny(Answer),                         // `deny`: an error answer (counted, cause 'P')
    Tarpit,                               // hold the request, then answer the rule's reply
    Close {
        silent: bool,
    },    // `reject` (close) or `silent-drop` (reset)
    Allow,                                // stop the rules, go on
    /// `use-service`: an internal service answers.
    Service(super::service::ServiceCall),
    /// `wait-for-body time T at-least N`: the rest waits for the body.
    WaitBody(std::time::Duration, u64),
}

/// A stream's sample with write access to its slots, built from disjoint
/// fields so the transaction can be read while slots are filled.
macro_rules! writable_sample {
    ($s:expr, $ctx:expr, $response:expr, $proxy:expr) => {{
        StreamSample {
            facts: $s.sample_facts($ctx),
            lazy: Default::default(),
            src: $s.src,
            dst: $s.dst,
            txn: $s.http.as_ref().map(|h| &h.txn),
            frontend: $s.frontend,
            backend: $s.backend,
            server: $s.server,
            cfg: $ctx.cfg,
            backends: $ctx.backends,
            response: $response,
            slots: SlotAccess::Write(&mut $s.slots),
            inherited: $ctx.inherited,
            sess_vars: $ctx.sess_vars,
            unique_id_fmt: $ctx.rules[$s.frontend].unique_id.as_ref(),
            tables: $ctx.tables,
            rule_proxy: $proxy,
            now_ms: $ctx.now_ms,
            client_tls: $ctx.client_tls,
            client_pp: $ctx.client_pp,
            server_tls: $s.srv.as_ref().is_some_and(crate::l6_stream::srv_conn::SrvConn::is_tls),
            payload: None,
            set_timeouts: $s.extra.timeouts,
            tcp_vars: &$s.vars,
            last_rule: $s.extra.last_rule.and_then(|r| r.loc($ctx.rules)),
        }
    }};
}

impl Stream {
    /// Runs `proxy`'s `tcp-request content` rules. False when a rule
    /// rejected the stream (it is then aborted).
    pub(super) fn run_content_rules(&mut self, proxy: usize, ctx: &StreamCtx<'_>) -> bool {
        let rules = &ctx.rules[proxy].tcp_content;
        if rules.is_empty() {
            return true;
        }
        let (verdict, fired) = {
            let mut sample = writable_sample!(self, ctx, false, proxy);
            crate::l4_conn::track::run_tcp_rules_noting(rules, &mut sample, ctx.tables, ctx.now_ms)
        };
        if let Some(i) = fired {
            self.extra.last_rule = Some(RuleRef::new(RuleSet::TcpContent, proxy, i));
        }
        if let Verdict::SwitchHttp(proto) = verdict
            && self.http.is_none()
        {
            self.switch_to_http(proto);
            return false;
        }
        if matches!(verdict, Verdict::Reject | Verdict::SilentDrop) {
            self.refuse_request(verdict == Verdict::SilentDrop);
            return false;
        }
        true
    }

    /// A request rule (`reject`, `silent-drop`) ended the stream: the
    /// client connection closes without an answer, reset where `silent`
    /// (Conn::silent_drop: the client is told nothing).
    pub(super) fn refuse_request(&mut self, silent: bool) {
        if let Some(h) = self.http.as_mut() {
            h.txn.client_close = true;
        }
        self.extra.silent_drop = silent;
        self.abort(TermCause::ProxyRule, TermPhase::Request);
    }

    /// Counts the request on every slot (HAProxy does it before the
    /// `http-request` rules run, so they see it).
    pub(super) fn count_request(&self, ctx: &StreamCtx<'_>) {
        self.count(ctx, Update::HttpReq);
    }

    /// Runs `proxy`'s `http-request` rules from rule `from`, `body` the
    /// request body when it was waited for. True when a rule answered the
    /// request itself (the stream then only sends that answer, or holds
    /// it for a tarpit, or drops the connection) or the rest waits for
    /// the body.
    pub(super) fn run_request_rules(
        &mut self,
        proxy: usize,
        from: usize,
        body: Option<&[u8]>,
        ctx: &StreamCtx<'_>,
    ) -> bool {
        let rules = &ctx.rules[proxy].http_request;
        if rules.len() <= from {
            return false;
        }
        let mut stop = None;
        for (i, rule) in rules.iter().enumerate().skip(from) {
            // The sample lives for one rule: what a rule changes (the URI,
            // the method, the source) is applied before the next one reads it.
            let effect = {
                let mut sample = writable_sample!(self, ctx, false, proxy);
                sample.payload = body.map(|b| (b, true));
                let Some(txn) = sample.txn else { return false };
                if !rule.cond.as_ref().is_none_or(|c| c.eval(&sample)) {
                    continue;
                }
                match &rule.action {
                    HttpAction::Deny(r) => Effect::Stop(Stop::Deny(r.answer(&sample))),
                    HttpAction::Return(r) => Effect::Stop(returned(r.answer(&sample))),
                    HttpAction::Redirect(r) => {
                        let buf = txn.req_bytes();
                        let host = find(buf, &txn.req.headers, "host").next();
                        match r.response(&sample, txn.outgoing_uri(), host) {
                            Some(bytes) => Effect::Stop(Stop::Response(bytes)),
                            None => Effect::Nothing,
                        }
                    }
                    HttpAction::Edit(e) => Effect::Edit(e.clone()),
                    HttpAction::DynHeader { name, value, set } => {
                        Effect::Edit(dyn_edit(name, value, *set, &sample))
                    }
                    HttpAction::UseService(svc) => {
                        Effect::Stop(Stop::Service(super::service::ServiceCall::Use(svc.clone())))
                    }
                    HttpAction::Sc(a) => {
                        if run_sc_action(a, &mut sample, ctx.tables, ctx.now_ms)
                            && let ScAction::Track(spec) = a
                            && let Some(t) = sample.tracker(spec.slot)
                        {
                            // A tracker started by an http-request rule counts the current request.
                            t.inc_http_req(ctx.now_ms);
                        }
                        Effect::Nothing
                    }
                    HttpAction::Ext(a) => super::http_actions::request_effect(a, txn, &sample, proxy, ctx),
                }
            };
            if let Effect::CacheUse(name) = &effect {
                self.cache_use(name, ctx);
                continue;
            }
            if let Effect::Capture(slot, value) = &effect {
                self.store_capture(ctx, false, *slot, value);
                continue;
            }
            if let Effect::Stop(Stop::WaitBody(time, at_least)) = effect {
                let next =
                    if proxy == self.frontend { ReqStep::FeRules(i + 1) } else { ReqStep::BeRules(i + 1) };
                self.wait_for_body(proxy, Some(time), at_least, next, ctx);
                return true;
            }
            if let Some(end) = self.apply_effect(effect) {
                self.extra.last_rule = Some(RuleRef::new(RuleSet::HttpRequest, proxy, i));
                stop = Some((end, i));
                break;
            }
        }
        let Some((stop, at)) = stop else { return false };
        match stop {
            Stop::Allow => false,
            Stop::Builtin(status) => {
                self.count(ctx, Update::HttpErr);
                self.answer(status, TermCause::ProxyRule, TermPhase::Request);
                true
            }
            Stop::Response(bytes) => {
                self.answer_with(&bytes, status_of(&bytes), TermCause::Local, TermPhase::Request);
                true
            }
            Stop::Page(r) => {
                self.answer_page_ref(&r, TermCause::Local, TermPhase::Request, ctx);
                true
            }
            Stop::Deny(a) => {
                self.count(ctx, Update::HttpErr);
                self.answer_reply(a, TermCause::ProxyRule, TermPhase::Request, ctx);
                true
            }
            Stop::Tarpit => {
                self.count(ctx, Update::HttpErr);
                let fe = &ctx.cfg.proxies[proxy].timeouts;
                let delay = fe.tarpit.or(fe.connect).unwrap_or_default();
                let rule = RuleRef::new(RuleSet::HttpRequest, proxy, at);
                self.phase = Phase::Tarpit { until: ctx.now + delay, rule };
                true
            }
            Stop::Close { silent } => {
                self.refuse_request(silent);
                true
            }
            Stop::Service(call) => {
                self.start_service(call);
                true
            }
            Stop::WaitBody(..) => true, // handled in the pass
        }
    }

    /// Applies what one request rule decided; a rule that ends the pass
    /// returns how.
    fn apply_effect(&mut self, effect: Effect) -> Option<Stop> {
        let h = self.http.as_mut()?;
        match effect {
            Effect::Nothing => {}
            Effect::Stop(s) => return Some(s),
            Effect::Edit(e) => h.txn.req_edits.push(e),
            Effect::Uri(u) => h.txn.uri_override = Some(u),
            Effect::Method(m) => h.txn.set_method(m),
            Effect::Src(a) => self.src = a,
            Effect::PriorityClass(c) => self.extra.priority_class = c.clamp(-2047, 2047),
            Effect::PriorityOffset(o) => self.extra.priority_offset = o.clamp(-524_287, 524_287),
            Effect::LogLevel(l) => self.extra.log_level = Some(l),
            Effect::EarlyHint(line) => h.early_hints.extend_from_slice(&line),
            Effect::Timeout { tunnel: false, value } => self.extra.timeouts.server = Some(value),
            Effect::Timeout { tunnel: true, value } => self.extra.timeouts.tunnel = Some(value),
            Effect::Status(..) | Effect::CacheUse(_) | Effect::CacheStore(_) | Effect::Capture(..) => {}
        }
        None
    }

    /// Runs the response rules of the backend, then of the frontend, from
    /// `from` (the proxy's place in that order, the rule's in its list);
    /// `body` is the response body when a `wait-for-body` waited for it.
    /// Returns how a pass ended early (deny, reject, silent-drop, or a
    /// wait for the body: the stream then holds the response, see
    /// `http/res_wait.rs`).
    pub(super) fn run_response_rules(
        &mut self,
        from: (usize, usize),
        body: Option<&[u8]>,
        ctx: &StreamCtx<'_>,
    ) -> Option<Stop> {
        let mut order = [self.backend, Some(self.frontend)];
        if order[0] == order[1] {
            order[1] = None;
        }
        for (at, proxy) in order.into_iter().enumerate().skip(from.0) {
            let Some(proxy) = proxy else { continue };
            let first = if at == from.0 { from.1 } else { 0 };
            for (i, rule) in ctx.rules[proxy].http_response.iter().enumerate().skip(first) {
                let effect = {
                    let mut sample = self.sample(ctx, true, proxy);
                    sample.payload = body.map(|b| (b, true));
                    if !rule.cond.as_ref().is_none_or(|c| c.eval(&sample)) {
                        continue;
                    }
                    match &rule.action {
                        HttpAction::Deny(r) => Effect::Stop(Stop::Deny(r.answer(&sample))),
                        HttpAction::Return(r) => Effect::Stop(returned(r.answer(&sample))),
                        HttpAction::Edit(e) => Effect::Edit(e.clone()),
                        HttpAction::DynHeader { name, value, set } => {
                            Effect::Edit(dyn_edit(name, value, *set, &sample))
                        }
                        HttpAction::Ext(a) => super::http_actions::response_effect(a, &sample),
                        HttpAction::Redirect(r) => match sample.txn {
                            Some(txn) => {
                                let host = find(txn.req_bytes(), &txn.req.headers, "host").next();
                                match r.response(&sample, txn.outgoing_uri(), host) {
                                    Some(bytes) => Effect::Stop(Stop::Response(bytes)),
                                    None => Effect::Nothing,
                                }
                            }
                            None => Effect::Nothing,
                        },
                        _ => Effect::Nothing,
                    }
                };
                if let Effect::Stop(Stop::WaitBody(time, at_least)) = effect {
                    if self.hold_response(time, at_least, (at, i + 1), ctx) {
                        return Some(Stop::WaitBody(time, at_least));
                    }
                    continue; // nothing to wait for
                }
                if let Effect::Stop(_) = effect {
                    self.extra.last_rule = Some(RuleRef::new(RuleSet::HttpResponse, proxy, i));
                }
                let h = self.http.as_mut()?;
                match effect {
                    Effect::Stop(Stop::Allow) => break, // the rest of this proxy's rules are skipped
                    Effect::Stop(s) => return Some(s),
                    Effect::Edit(e) => h.txn.res_edits.push(e),
                    Effect::Status(code, reason) => h.txn.status_override = Some((code, reason)),
                    Effect::LogLevel(l) => self.extra.log_level = Some(l),
                    Effect::CacheStore(name) => self.cache_store(&name, ctx),
                    Effect::Capture(slot, value) => self.store_capture(ctx, true, slot, &value),
                    _ => {}
                }
            }
        }
        None
    }
}

/// What one rule decided, computed while its sample is borrowed and
/// applied once it is not.
pub(super) enum Effect {
    Nothing,
    Stop(Stop),
    Edit(HeaderEdit),
    Uri(Vec<u8>),
    Method(Vec<u8>),
    Src(std::net::SocketAddr),
    PriorityClass(i64),
    PriorityOffset(i64),
    LogLevel(u32),
    EarlyHint(Vec<u8>),          // one `name: value\r\n` line of the 103 answer
    Status(u16, Option<String>), // response `set-status`
    CacheUse(String),            // `cache-use NAME`
    CacheStore(String),          // `cache-store NAME`
    Capture(usize, Box<[u8]>),   // `capture <sample> id N`: slot N of the side's captures
    Timeout { tunnel: bool, value: std::time::Duration }, // `set-timeout server|tunnel`
}

/// A set/add-header edit with its value rendered for this stream.
fn dyn_edit(
    name: &str,
    value: &LogFormat,
    set: bool,
    sample: &dyn crate::l7_http::logformat::LogSource,
) -> HeaderEdit {
    let v = value.render(sample);
    if set { HeaderEdit::Set(name.to_owned(), v) } else { HeaderEdit::Add(name.to_owned(), v) }
}

/// The status code of a response we built (`HTTP/1.1 NNN ...`).
/// How a `return` ends the rules.
fn returned(a: Answer) -> Stop {
    match a {
        Answer::Bytes(b) => Stop::Response(b),
        Answer::Page(p) => Stop::Page(p),
    }
}

pub(super) fn status_of(bytes: &[u8]) -> u16 {
    bytes.get(9..12).and_then(|d| std::str::from_utf8(d).ok()).and_then(|d| d.parse().ok()).unwrap_or(200)
}
