//! What a proxy answers before any server (`cfg::intercept`): the
//! frontend's `monitor-uri` (200, or 503 when a `monitor fail` condition
//! holds; checked once the request head is in, before the captures and
//! the `http-request` rules, as in HAProxy's `http_wait_for_request`) and
//! the proxy's `redirect` rules (after its `http-request` rules and stats
//! page: `http_process_req_common`).

use super::stream::{Stream, StreamCtx};
use super::term::{TermCause, TermPhase};
use crate::acl::{AclSet, Condition, compile};
use crate::cfg::{Diag, Diagnostics, Proxy};
use crate::l7_http::errors::BuiltinStatus;
use crate::l7_http::head::find;
use crate::l7_http::redirect::{self, Redirect};

/// The compiled `monitor fail` conditions and `redirect` rules of one proxy.
#[derive(Default)]
pub struct Intercepts {
    pub monitor_fail: Vec<Condition>,
    pub redirects: Vec<(Redirect, Option<Condition>)>,
}

/// Compiles proxy `p`'s conditions and redirect rules; problems are alerts.
pub(super) fn compile_intercepts(p: &Proxy, acls: &AclSet, diags: &mut Diagnostics) -> Intercepts {
    let mut out = Intercepts::default();
    for c in &p.intercept.monitor_fail {
        match compile(c, acls) {
            Ok(c) => out.monitor_fail.push(c),
            Err(e) => diags.push(Diag::alert(
                &c.loc,
                format!("error detected while parsing a 'monitor fail' condition : {e}."),
            )),
        }
    }
    for line in &p.intercept.redirects {
        let parsed = redirect::parse(&line.words, false).and_then(|(r, used)| {
            let cond = match line.words.get(used).map(String::as_str) {
                None => None,
                Some(w) => {
                    let c = crate::cfg::Cond {
                        negate: w == "unless",
                        words: line.words[used + 1..].to_vec(),
                        loc: line.loc.clone(),
                    };
                    Some(compile(&c, acls).map_err(|e| format!("error in condition: {e}"))?)
                }
            };
            Ok((r, cond))
        });
        match parsed {
            Ok(r) => out.redirects.push(r),
            Err(e) => diags.push(Diag::alert(
                &line.loc,
                format!(
                    "error detected in {} '{}' while parsing redirect rule : {e}.",
                    super::rules::kind(p),
                    p.name
                ),
            )),
        }
    }
    out
}

impl Stream {
    /// The frontend's monitor URI: true when this request was one (it is
    /// then answered). A URI starting with `/` is compared with the
    /// request's path (from its first `/`, query included), any other with
    /// the whole target.
    pub(super) fn monitor(&mut self, ctx: &StreamCtx<'_>) -> bool {
        let Some(uri) = ctx.cfg.proxies[self.frontend].intercept.monitor_uri.as_deref() else { return false };
        let Some(h) = self.http.as_ref() else { return false };
        let target = h.txn.uri_bytes();
        let hit =
            target == uri.as_bytes() || (uri.starts_with('/') && path_of(target) == Some(uri.as_bytes()));
        if !hit {
            return false;
        }
        let failed = {
            let sample = self.sample(ctx, false, self.frontend);
            ctx.rules[self.frontend].intercept.monitor_fail.iter().any(|c| c.eval(&sample))
        };
        let status = if failed { BuiltinStatus::ServiceUnavailable } else { BuiltinStatus::Ok };
        // HAProxy never logs a monitor request.
        self.extra.log_level = Some(crate::l7_http::actions::LOG_SILENT);
        self.answer(status, TermCause::Local, TermPhase::Request);
        true
    }

    /// Proxy `proxy`'s `redirect` rules: the first whose condition holds
    /// answers (true), unless it is an `ignore-empty` one with nothing to
    /// say.
    pub(super) fn run_redirects(&mut self, proxy: usize, ctx: &StreamCtx<'_>) -> bool {
        let rules = &ctx.rules[proxy].intercept.redirects;
        if rules.is_empty() {
            return false;
        }
        let answer = {
            let sample = self.sample(ctx, false, proxy);
            let Some(txn) = self.http.as_ref().map(|h| &h.txn) else { return false };
            let Some((r, _)) = rules.iter().find(|(_, c)| c.as_ref().is_none_or(|c| c.eval(&sample))) else {
                return false;
            };
            let host = find(txn.req_bytes(), &txn.req.headers, "host").next();
            r.response(&sample, txn.outgoing_uri(), host)
        };
        match answer {
            Some(bytes) => {
                let code = r_code(&bytes);
                self.answer_with(&bytes, code, TermCause::Local, TermPhase::Request);
                true
            }
            None => false,
        }
    }
}

/// The path of a request target (origin or absolute form), query included.
fn path_of(target: &[u8]) -> Option<&[u8]> {
    match target.first()? {
        b'/' => Some(target),
        _ => {
            let s = target.windows(3).position(|w| w == b"://")? + 3;
            let rest = &target[s..];
            Some(&rest[rest.iter().position(|&c| c == b'/')?..])
        }
    }
}

/// The status of a response strata built (`HTTP/1.1 NNN ...`).
fn r_code(bytes: &[u8]) -> u16 {
    bytes.get(9..12).and_then(|d| std::str::from_utf8(d).ok()).and_then(|d| d.parse().ok()).unwrap_or(302)
}
