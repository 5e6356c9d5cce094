//! Evaluating one expect step on the data received, as HAProxy 2.6's
//! `tcpcheck_eval_expect` (TCP) and `tcpcheck_eval_expect_http` (HTTP),
//! with their messages.

use super::custom;
use super::http::HttpResponse;
use super::program::{Expect, Matcher, Proto, Step};
use super::status::{Outcome, Status};
use crate::cfg::checks::CheckMsg;

/// What an expect step decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Eval {
    Continue,        // matched: next step
    Wait,            // needs more data
    Stop(Outcome),   // failed (or a custom parser concluded)
    Passed(Outcome), // a custom parser ended the check successfully
}

/// A TCP expect over `data`; `last_read`: no more data will come.
pub fn tcp(step: &Step, e: &Expect, data: &[u8], last_read: bool, proto: Proto, is_last: bool) -> Eval {
    if let Matcher::Custom(c) = e.matcher {
        return custom::eval(c, step, e, data, last_read, is_last);
    }
    if !last_read {
        let needed = match &e.matcher {
            Matcher::String(p) | Matcher::Binary(p) => p.len(),
            _ => 0,
        };
        if data.len() < needed || e.min_recv.is_some_and(|m| data.len() < m) {
            return Eval::Wait;
        }
    }
    let matched = match &e.matcher {
        Matcher::String(p) | Matcher::Binary(p) => contains(data, p),
        Matcher::Rstring(r) => r.as_ref().is_some_and(|r| r.is_match(data)),
        Matcher::Rbinary(r) => r.as_ref().is_some_and(|r| r.is_match(hex(data).as_bytes())),
        _ => false,
    };
    if !matched && !last_read && e.min_recv.is_none() {
        return Eval::Wait;
    }
    if matched != e.negate {
        return Eval::Continue;
    }
    let status = e.error_status.map_or(Status::L7Rsp, Status::from_cfg);
    let mut out = Outcome::new(status, error_message(step, e, data, matched, "", proto));
    out.code = status_code(e, data);
    Eval::Stop(out)
}

/// An HTTP expect over the parsed response `r`; `server_up` for
/// `disable-on-404` (a 404 then only asks to stop sending new traffic).
pub fn http(
    step: &Step,
    e: &Expect,
    r: &HttpResponse,
    last_read: bool,
    disable_404: bool,
    server_up: bool,
) -> Eval {
    let last_read = last_read || r.complete;
    if disable_404 && server_up && r.status == 404 {
        return Eval::Continue;
    }
    let code = Some(u32::from(r.status));
    let fail = |status: Status, desc: &str| {
        let mut out = Outcome::new(status, error_message(step, e, &r.body, false, desc, Proto::Http));
        out.code = code;
        Eval::Stop(out)
    };
    let err = |default: Status| e.error_status.map_or(default, Status::from_cfg);
    let matched = match &e.matcher {
        Matcher::Status(codes) => codes.iter().any(|(lo, hi)| (*lo..=*hi).contains(&r.status)),
        Matcher::Rstatus(re) => re.as_ref().is_some_and(|re| re.is_match(r.status.to_string().as_bytes())),
        Matcher::Body(_) | Matcher::Rbody(_) => {
            if r.body.is_empty() {
                if !last_read {
                    return Eval::Wait;
                }
                return fail(err(Status::L7Rsp), "HTTP content check could not find a response body");
            }
            let short = match &e.matcher {
                Matcher::Body(p) => r.body.len() < p.len(),
                _ => false,
            };
            if !last_read && (short || e.min_recv.is_some_and(|m| r.body.len() < m)) {
                return Eval::Wait;
            }
            let m = match &e.matcher {
                Matcher::Body(p) => contains(&r.body, p),
                Matcher::Rbody(re) => re.as_ref().is_some_and(|re| re.is_match(&r.body)),
                _ => false,
            };
            if !m && !last_read && e.min_recv.is_none() {
                return Eval::Wait;
            }
            if m != e.negate {
                return Eval::Continue;
            }
            let desc = if e.negate {
                "HTTP check matched unwanted content"
            } else {
                "HTTP content check did not match"
            };
            return fail(err(Status::L7Rsp), if e.on_error.is_some() { "" } else { desc });
        }
        _ => false,
    };
    if matched != e.negate {
        return Eval::Continue;
    }
    let reason = if e.on_error.is_some() { String::new() } else { r.reason.clone() };
    fail(err(Status::L7Sts), &reason)
}

/// HAProxy's `tcpcheck_expect_onerror_message`: the given `info`, else the
/// rule's `on-error`, else (plain `tcp-check` only) the generic text;
/// then the rule's comment.
pub fn error_message(
    step: &Step,
    e: &Expect,
    data: &[u8],
    matched: bool,
    info: &str,
    proto: Proto,
) -> String {
    let mut msg = if !info.is_empty() {
        info.to_string()
    } else if let Some(m) = &e.on_error {
        render(m, data)
    } else if proto == Proto::Tcp {
        let what = if matched { "TCPCHK matched unwanted content" } else { "TCPCHK did not match content" };
        let id = step.id();
        match &e.matcher {
            Matcher::String(p) => format!("{what} '{}' at step {id}", String::from_utf8_lossy(p)),
            Matcher::Binary(_) => format!("{what} (binary) at step {id}"),
            Matcher::Rstring(_) => format!("{what} (regex) at step {id}"),
            Matcher::Rbinary(_) => format!("{what} (binary regex) at step {id}"),
            Matcher::Custom(_) | Matcher::Agent => format!("{what} (custom function) at step {id}"),
            _ => format!("{what}(status codes) at step {id}"),
        }
    } else {
        String::new()
    };
    if let Some(c) = &step.comment {
        msg.push_str(" comment: ");
        msg.push_str(c);
    }
    msg
}

/// HAProxy's `tcpcheck_expect_onsuccess_message`.
pub fn success_message(e: &Expect, data: &[u8], proto: Proto) -> String {
    match &e.on_success {
        Some(m) => render(m, data),
        None if proto == Proto::Tcp => "(tcp-check)".into(),
        None => String::new(),
    }
}

/// The code a rule's `status-code` reads from the data, if any.
pub fn status_code(e: &Expect, data: &[u8]) -> Option<u32> {
    match &e.status_code {
        Some(CheckMsg::PayloadNumber { from, len }) => {
            let digits = data.get(*from..(*from + *len).min(data.len()))?;
            std::str::from_utf8(digits).ok()?.parse().ok()
        }
        _ => None,
    }
}

/// A message of a rule.
fn render(m: &CheckMsg, data: &[u8]) -> String {
    match m {
        CheckMsg::Text(t) => t.clone(),
        CheckMsg::Payload { from, trim_spaces, cut_crlf } => {
            let mut p = data.get(*from..).unwrap_or_default();
            if *trim_spaces {
                p = &p[p.iter().take_while(|&&b| b == b' ').count()..];
            }
            if *cut_crlf && let Some(end) = p.iter().position(|&b| b == b'\r' || b == b'\n') {
                p = &p[..end];
            }
            // HAProxy keeps the text as a C string: it ends at a NUL byte.
            if let Some(end) = p.iter().position(|&b| b == 0) {
                p = &p[..end];
            }
            String::from_utf8_lossy(p).into_owned()
        }
        CheckMsg::PayloadNumber { .. } => String::new(),
    }
}

/// `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// Bytes as upper case hexadecimal (HAProxy's `dump_binary`, what `rbinary` matches).
fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02X}")).collect()
}
