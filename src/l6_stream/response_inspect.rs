//! `tcp-response inspect-delay` and `tcp-response content` rules (HAProxy
//! 2.6, backend side): they judge the server's response before any of it
//! reaches the client.
//!
//! In TCP mode the response waits in the server connection's buffer while
//! the rules run; a rule whose condition reads bytes that have not come
//! yet (`res.len`, `res.payload(...)`, `WAIT_END`) waits there until they
//! come, the buffer is full, the server closes or the delay ends, and is
//! then judged with what there is (HAProxy's "may change" samples). The
//! client → server direction flows meanwhile. In HTTP mode the rules run
//! once, on the parsed response head, before the `http-response` rules
//! (`WAIT_END` is then true at once; the `res.payload` fetches see nothing,
//! as HAProxy's find nothing in its HTX buffers).
//!
//! Actions: `accept`, `reject` (the response is dropped, the client
//! connection closed), `close` (the server connection is closed; what it
//! sent still goes to the client), `set-var`, `set-var-fmt`, `unset-var`,
//! `sc-inc-gpc0/1`, `sc-set-gpt0`, `set-log-level`, `silent-drop`.

use super::last_rule::{RuleRef, RuleSet};
use super::sample::{SlotAccess, StreamSample};
use super::srv_conn::SrvConn;
use super::stream::{Phase, Stream, StreamCtx};
use super::term::{TermCause, TermPhase};
use crate::acl::{AclSet, Condition, SampleSource, Tri, VarAction, VarTarget, take_incomplete};
use crate::cfg::{Cond, Diag, Diagnostics, Loc, RuleLine};
use crate::l4_conn::track::{ScAction, TableLookup, VarFormat, parse_sc_action, run_sc_action, run_var_fmt};
use std::time::Instant;

/// A `tcp-response content` action.
#[derive(Clone, Debug)]
pub enum ResAction {
    Accept,
    Reject,
    Close,
    Sc(ScAction),
    Var(VarAction),
    VarFmt(VarTarget, VarFormat),
    SetLogLevel(u32),
    SilentDrop,
}

/// One compiled `tcp-response content` rule.
#[derive(Clone, Debug)]
pub struct ResRule {
    pub action: ResAction,
    pub cond: Option<Condition>,
    pub loc: Loc,
}

/// Where a stream's response stands with its backend's rules. Part of
/// `StreamExtra`; moved only by this file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResInspect {
    #[default]
    NotRun,
    Waiting {
        until: Option<Instant>, // the inspect delay's end (none: no delay)
        next: usize,            // the rule to resume at
    },
    Decided,
}

impl ResInspect {
    /// When a waiting pass must run again at the latest.
    pub fn deadline(&self) -> Option<Instant> {
        match *self {
            ResInspect::Waiting { until, .. } => until,
            _ => None,
        }
    }
}

/// How a pass ended.
enum Pass {
    Wait(usize),
    Done(End),
}

/// What the rules decided.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Continue, // no final rule fired, or `accept`
    Reject,
    Close,
    SilentDrop,
}

const EXPECTS: &str = "'tcp-response content' expects 'accept', 'close', 'reject', 'set-log-level', \
                       'sc-inc-gpc0(*)', 'sc-inc-gpc1(*)', 'sc-set-gpt0(*)', 'set-var-fmt(*)', 'set-var(*)', \
                       'unset-var(*)', 'silent-drop'";

/// HAProxy 2.6's `tcp-response content` actions strata does not have.
const NOT_YET: &[&str] = &["set-mark", "set-tos", "set-nice", "send-spoe-group", "ot-group"];

/// Compiles `p`'s `tcp-response content` lines; errors name file:line.
pub(super) fn compile(
    p: &crate::cfg::Proxy,
    acls: &AclSet,
    tables: TableLookup<'_>,
    diags: &mut Diagnostics,
) -> Vec<ResRule> {
    let mut out = Vec::new();
    for line in &p.tcp_response_content {
        match compile_rule(line, acls, tables) {
            Ok(r) => out.push(r),
            Err(e) => diags.push(Diag::alert(
                &line.loc,
                format!("error detected in {} '{}' : {e}", super::rules::kind(p), p.name),
            )),
        }
    }
    out
}

fn compile_rule(line: &RuleLine, acls: &AclSet, tables: TableLookup<'_>) -> Result<ResRule, String> {
    let words = &line.words;
    let split = words.iter().position(|w| w == "if" || w == "unless").unwrap_or(words.len());
    let (act, cond_words) = words.split_at(split);
    let kw = act.first().map_or("", String::as_str);
    let (action, used) = match kw {
        "accept" => (ResAction::Accept, 1),
        "reject" => (ResAction::Reject, 1),
        "close" => (ResAction::Close, 1),
        "silent-drop" => (ResAction::SilentDrop, 1),
        "set-log-level" => {
            let l = act.get(1).ok_or("'tcp-response content set-log-level' expects a log level")?;
            (ResAction::SetLogLevel(log_level(l)?), 2)
        }
        _ if kw.starts_with("set-var-fmt(") => {
            let fmt = |t: &str| -> Result<VarFormat, String> {
                let f = crate::l7_http::logformat::LogFormat::parse(t)?;
                Ok(std::sync::Arc::new(f))
            };
            let (target, f) = crate::l4_conn::track::var_fmt(act, &fmt)
                .map_err(|e| format!("'tcp-response content': {e}"))?;
            (ResAction::VarFmt(target, f), 2)
        }
        _ if NOT_YET.contains(&kw) => {
            return Err(format!("'tcp-response content {kw}' is not supported by strata yet."));
        }
        _ if kw.starts_with("track-sc") => return Err(format!("{EXPECTS} (got '{kw}').")),
        _ => match parse_sc_action(act, tables)? {
            Some((a, n)) => (ResAction::Sc(a), n),
            None => match crate::acl::parse_var_action(act) {
                Some(parsed) => {
                    let (a, n) = parsed.map_err(|e| format!("'tcp-response content': {e}"))?;
                    (ResAction::Var(a), n)
                }
                None => return Err(format!("{EXPECTS} (got '{kw}').")),
            },
        },
    };
    if let Some(extra) = act.get(used) {
        return Err(format!("'tcp-response content {kw}': unexpected argument '{extra}'"));
    }
    let cond = match cond_words.split_first() {
        None => None,
        Some((k, rest)) => {
            let c = Cond { negate: k == "unless", words: rest.to_vec(), loc: line.loc.clone() };
            Some(crate::acl::compile(&c, acls).map_err(|e| {
                format!("error detected while parsing 'tcp-response content' condition : {e}.")
            })?)
        }
    };
    Ok(ResRule { action, cond, loc: line.loc.clone() })
}

/// A syslog severity by name (8: `silent`, no line).
fn log_level(l: &str) -> Result<u32, String> {
    const NAMES: [&str; 8] = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];
    match NAMES.iter().position(|n| *n == l) {
        Some(i) => Ok(i as u32),
        None if l == "silent" => Ok(crate::l7_http::actions::LOG_SILENT),
        None => Err(format!("'tcp-response content set-log-level': unsupported log level '{l}'.")),
    }
}

impl Stream {
    /// The backend has response rules that have not decided yet.
    fn response_held(&self, ctx: &StreamCtx<'_>) -> bool {
        self.extra.res_inspect != ResInspect::Decided
            && self.backend.is_some_and(|b| !ctx.rules[b].tcp_response.is_empty())
    }

    /// TCP mode forwarding with the backend's response rules: while they
    /// have not decided, the server's bytes stay in its buffer (the
    /// client's flow on); once decided, everything flows.
    pub(super) fn forward_tcp<C: super::client::ClientSide>(&mut self, cli: &mut C, ctx: &StreamCtx<'_>) {
        if !self.response_held(ctx) {
            return self.forward(cli, ctx.now);
        }
        self.forward_holding(cli, ctx.now);
        if self.phase != Phase::Forwarding {
            return;
        }
        let Some(be) = self.backend else { return };
        let (until, next) = match self.extra.res_inspect {
            ResInspect::Waiting { until, next } => (until, next),
            _ => (ctx.cfg.proxies[be].res_inspect_delay.map(|d| ctx.now + d), 0),
        };
        let Some(srv) = self.srv.as_ref().and_then(SrvConn::plain) else { return };
        let last = until.is_none_or(|u| ctx.now >= u) || srv.rx_full() || srv.read_closed;
        match self.response_pass(be, next, last, true, ctx) {
            Pass::Wait(i) => self.extra.res_inspect = ResInspect::Waiting { until, next: i },
            Pass::Done(end) => {
                self.extra.res_inspect = ResInspect::Decided;
                match end {
                    End::Continue => self.forward(cli, ctx.now),
                    End::Close => {
                        if let Some(srv) = self.srv.as_mut().and_then(SrvConn::plain_mut) {
                            srv.reset_on_close();
                            srv.read_closed = true; // what it sent still goes out, then the client's FIN
                            srv.shutdown_write();
                        }
                        self.forward(cli, ctx.now);
                    }
                    End::Reject => self.abort(TermCause::ProxyRule, TermPhase::Data),
                    End::SilentDrop => {
                        self.extra.silent_drop = true;
                        self.abort(TermCause::ProxyRule, TermPhase::Data);
                    }
                }
            }
        }
    }

    /// HTTP mode: the backend's response rules on the response head just
    /// parsed, before the `http-response` rules. False when they ended
    /// the stream (the client gets no answer).
    pub(super) fn tcp_response_on_head(&mut self, ctx: &StreamCtx<'_>) -> bool {
        if !self.response_held(ctx) {
            return true;
        }
        let Some(be) = self.backend else { return true };
        let Pass::Done(end) = self.response_pass(be, 0, true, false, ctx) else { return true };
        self.extra.res_inspect = ResInspect::Decided;
        let silent = match end {
            End::Continue => return true,
            End::Close => {
                if let Some(h) = self.http.as_mut() {
                    h.txn.server_close = true; // the server connection ends with this response
                }
                return true;
            }
            End::Reject => false,
            End::SilentDrop => true,
        };
        if let Some(h) = self.http.as_mut() {
            h.txn.client_close = true;
        }
        self.extra.silent_drop = silent;
        self.abort(TermCause::ProxyRule, TermPhase::Data);
        false
    }

    /// Runs `be`'s response rules from `from`; `tcp`: over the bytes
    /// waiting in the server's buffer.
    fn response_pass(&mut self, be: usize, from: usize, last: bool, tcp: bool, ctx: &StreamCtx<'_>) -> Pass {
        let data = match self.srv.as_ref().and_then(SrvConn::plain) {
            Some(srv) if tcp => Some((srv.rx.as_ref().map_or(&[][..], |b| b.data()), last)),
            _ => None,
        };
        let mut level = None;
        let mut fired = None;
        let pass = {
            let mut sample = StreamSample {
                facts: self.sample_facts(ctx),
                lazy: Default::default(),
                src: self.src,
                dst: self.dst,
                txn: self.http.as_ref().map(|h| &h.txn),
                frontend: self.frontend,
                backend: self.backend,
                server: self.server,
                cfg: ctx.cfg,
                backends: ctx.backends,
                response: true,
                slots: SlotAccess::Write(&mut self.slots),
                inherited: ctx.inherited,
                sess_vars: ctx.sess_vars,
                unique_id_fmt: ctx.rules[self.frontend].unique_id.as_ref(),
                tables: ctx.tables,
                rule_proxy: be,
                now_ms: ctx.now_ms,
                client_tls: ctx.client_tls,
                client_pp: ctx.client_pp,
                server_tls: self.srv.as_ref().is_some_and(SrvConn::is_tls),
                payload: data,
                set_timeouts: self.extra.timeouts,
                tcp_vars: &self.vars,
                last_rule: self.extra.last_rule.and_then(|r| r.loc(ctx.rules)),
            };
            run_from(&ctx.rules[be].tcp_response, from, last, &mut sample, ctx, &mut level, &mut fired)
        };
        if let Some(l) = level {
            self.extra.log_level = Some(l);
        }
        if let Some(i) = fired {
            self.extra.last_rule = Some(RuleRef::new(RuleSet::TcpResponse, be, i));
        }
        pass
    }
}

/// The rules from `from`; a condition that read missing bytes stops the
/// pass (unless no more can come) so that it runs again with more.
fn run_from(
    rules: &[ResRule],
    from: usize,
    last: bool,
    sample: &mut StreamSample<'_>,
    ctx: &StreamCtx<'_>,
    level: &mut Option<u32>,
    fired: &mut Option<usize>,
) -> Pass {
    for (i, rule) in rules.iter().enumerate().skip(from) {
        let _ = take_incomplete();
        let res = rule.cond.as_ref().map_or(Tri::Pass, |c| c.eval_partial(&*sample as &dyn SampleSource));
        match res {
            Tri::Pass => {}
            Tri::Miss if !last => return Pass::Wait(i),
            Tri::Miss | Tri::Fail => continue,
        }
        let end = match &rule.action {
            ResAction::Accept => Some(End::Continue),
            ResAction::Reject => Some(End::Reject),
            ResAction::Close => Some(End::Close),
            ResAction::SilentDrop => Some(End::SilentDrop),
            ResAction::SetLogLevel(l) => {
                *level = Some(*l);
                None
            }
            ResAction::Sc(a) => {
                run_sc_action(a, sample, ctx.tables, ctx.now_ms);
                None
            }
            ResAction::Var(a) => {
                a.run(&*sample);
                None
            }
            ResAction::VarFmt(var, fmt) => {
                run_var_fmt(var, fmt, &*sample);
                None
            }
        };
        if let Some(end) = end {
            *fired = Some(i);
            return Pass::Done(end);
        }
        // An action whose sample read missing bytes did nothing: it runs
        // again when more have come.
        if take_incomplete() && !last {
            return Pass::Wait(i);
        }
    }
    Pass::Done(End::Continue)
}
