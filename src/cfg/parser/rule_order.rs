//! HAProxy 2.6's `-c` warnings about rule order in a proxy section: a rule
//! written after one that runs later (`a 'tcp-request' rule placed after an
//! 'http-request' rule will still be processed before.`), and an HTTP rule
//! after a final one without a condition (`previous 'http-request' action is
//! final and has no condition attached, further entries are NOOP.`).
//! Warnings only: the rules run in their layer's order regardless.

use super::section::Open;
use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::model::{Loc, RuleLine};

/// The rule lists that run in this order, the later ones first in HAProxy's
/// list of what to warn about (its `warnif_misplaced_*` chain).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    TcpConnection,
    TcpSession,
    TcpContent,
    MonitorFail,
    HttpRequest,
    Redirect,
    UseBackend,
    UseServer,
}

impl Stage {
    /// How HAProxy names a rule of the stage.
    fn name(self) -> &'static str {
        match self {
            Stage::TcpConnection => "tcp-request connection",
            Stage::TcpSession => "tcp-request session",
            Stage::TcpContent => "tcp-request content",
            Stage::MonitorFail => "monitor fail",
            Stage::HttpRequest => "http-request",
            Stage::Redirect => "redirect",
            Stage::UseBackend => "use_backend",
            Stage::UseServer => "use-server",
        }
    }

    /// Whether the section already has a rule of the stage.
    fn present(self, o: &Open) -> bool {
        let px = &o.px;
        match self {
            Stage::TcpConnection => !px.tcp_request_connection.is_empty(),
            Stage::TcpSession => !px.tcp_request_session.is_empty(),
            Stage::TcpContent => !px.tcp_request_content.is_empty(),
            Stage::MonitorFail => !px.intercept.monitor_fail.is_empty(),
            Stage::HttpRequest => !px.http_request.is_empty(),
            Stage::Redirect => !px.intercept.redirects.is_empty(),
            Stage::UseBackend => !px.use_backends.is_empty(),
            Stage::UseServer => !px.knobs.srv.use_servers.is_empty(),
        }
    }
}

const LATER: [Stage; 7] = [
    Stage::TcpSession,
    Stage::TcpContent,
    Stage::MonitorFail,
    Stage::HttpRequest,
    Stage::Redirect,
    Stage::UseBackend,
    Stage::UseServer,
];

/// Warns about line `words` of section `o` before it is added, as HAProxy
/// 2.6 does.
pub(super) fn check(o: &Open, words: &[String], loc: &Loc, diags: &mut Diagnostics) {
    let kw = words[0].as_str();
    let sub = words.get(1).map_or("", String::as_str);
    if let Some(list) = match kw {
        "http-request" => Some(&o.px.http_request),
        "http-response" => Some(&o.px.http_response),
        "http-after-response" => Some(&o.px.http_after_response),
        _ => None,
    } && list.last().is_some_and(|r| final_without_condition(kw, r))
    {
        diags.push(Diag::warning_global(format!(
            "parsing [{loc}]: previous '{kw}' action is final and has no condition attached, further entries are NOOP."
        )));
    }
    let (stage, arg) = match (kw, sub) {
        ("tcp-request", "connection") => (Stage::TcpConnection, "tcp-request"),
        ("tcp-request", "session") => (Stage::TcpSession, "tcp-request"),
        ("tcp-request", "content") => (Stage::TcpContent, "tcp-request"),
        ("monitor", "fail") => (Stage::MonitorFail, "monitor fail"),
        ("http-request", _) => (Stage::HttpRequest, "http-request"),
        ("redirect", _) => (Stage::Redirect, "redirect"),
        _ => return,
    };
    if let Some(later) = LATER.iter().find(|s| **s > stage && s.present(o)) {
        let article = if *later == Stage::HttpRequest { "an" } else { "a" };
        diags.push(Diag::warning(
            loc,
            format!(
                "a '{arg}' rule placed after {article} '{}' rule will still be processed before.",
                later.name()
            ),
        ));
    }
}

/// HAProxy's final actions (`ACT_FLAG_FINAL`) of each HTTP rule set, on a
/// rule without `if`/`unless`: nothing after it can run.
fn final_without_condition(kw: &str, rule: &RuleLine) -> bool {
    let finals: &[&str] = match kw {
        "http-request" => &["allow", "auth", "deny", "redirect", "return", "tarpit"],
        "http-response" => &["allow", "deny", "redirect", "return"],
        _ => &["allow"],
    };
    let Some(action) = rule.words.first().map(String::as_str) else { return false };
    let has_cond = rule.words.iter().any(|w| w == "if" || w == "unless");
    let ignore_empty = action == "redirect" && rule.words.iter().any(|w| w == "ignore-empty");
    finals.contains(&action) && !has_cond && !ignore_empty
}
