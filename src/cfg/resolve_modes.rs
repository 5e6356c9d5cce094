//! HAProxy's warnings for HTTP-only settings of a proxy that is not in
//! `mode http` (`'option forwardfor' ignored for proxy 'l' as it requires
//! HTTP mode.`), in HAProxy 2.6's order and words. As in HAProxy, each
//! such setting is then dropped, so what `-c` says is what runs. A TCP
//! frontend with a `tcp-request content switch-mode http` rule is upgraded
//! (HAProxy's PR_O_HTTP_UPG): its HTTP settings run and are kept.

use super::diag::{Diag, Diagnostics};
use super::model::{Config, Mode, Proxy};

/// What HAProxy calls a proxy in messages.
fn kind(p: &Proxy) -> &'static str {
    match (p.cap.frontend, p.cap.backend) {
        (true, true) => "proxy",
        (true, false) => "frontend",
        _ => "backend",
    }
}

/// Whether one of the proxy's `tcp-request content` rules is `switch-mode http`.
fn switches_to_http(p: &Proxy) -> bool {
    p.tcp_request_content.iter().any(|r| {
        let mut w = r.words.iter().map(String::as_str);
        w.any(|x| x == "switch-mode") && w.next() == Some("http")
    })
}

/// The first of HAProxy's mode warnings, before the log checks: a TCP
/// proxy's `cookie` and `monitor-uri`, then dropped.
pub fn check_early(cfg: &mut Config, diags: &mut Diagnostics) {
    for p in cfg.proxies.iter_mut().filter(|p| p.mode != Mode::Http && !switches_to_http(p)) {
        let (k, name) = (kind(p), p.name.clone());
        let mut warn = |what: &str| {
            diags.push(Diag::warning_global(format!(
                "{what} will be ignored for {k} '{name}' (needs 'mode http')."
            )))
        };
        if p.cookie.take().is_some() {
            warn("cookie");
        }
        if p.intercept.monitor_uri.take().is_some() {
            warn("monitor-uri");
        }
    }
}

/// Warns and drops the HTTP-only settings of TCP proxies.
pub fn check(cfg: &mut Config, diags: &mut Diagnostics) {
    for p in cfg.proxies.iter_mut().filter(|p| p.mode != Mode::Http && !switches_to_http(p)) {
        let (k, name) = (kind(p), p.name.clone());
        let mut warn = |what: &str, they: bool| {
            let verb = if they { "they require" } else { "it requires" };
            diags.push(Diag::warning_global(format!("{what} ignored for {k} '{name}' as {verb} HTTP mode.")));
        };
        if p.stats.enabled || p.stats.uri.is_some() {
            warn("'stats' statement", false);
            p.stats.enabled = false;
            p.stats.uri = None;
        }
        // Moved aside, not dropped: HAProxy refuses a bad rule whatever the
        // mode, so the rule compiler still checks these (and runs none).
        let [req, res, after] = &mut p.ignored_http_rules;
        for (rules, ignored, kw) in [
            (&mut p.http_request, req, "'http-request' rules"),
            (&mut p.http_response, res, "'http-response' rules"),
            (&mut p.http_after_response, after, "'http-after-response' rules"),
        ] {
            if !rules.is_empty() {
                warn(kw, true);
                *ignored = std::mem::take(rules);
            }
        }
        if p.options.forwardfor {
            warn("'option forwardfor'", false);
            p.options.forwardfor = false;
        }
        let h = &mut p.knobs.http;
        if h.originalto.take().is_some() {
            warn("'option originalto'", false);
        }
        for (on, opt) in [
            (&mut h.checkcache, "'option checkcache'"),
            (&mut h.buffer_request, "'option http-buffer-request'"),
            (&mut h.ignore_probes, "'option http-ignore-probes'"),
            (&mut h.pretend_keepalive, "'option http-pretend-keepalive'"),
        ] {
            if std::mem::take(on) {
                warn(opt, false);
            }
        }
        // The value stays (`show stat` prints it, as HAProxy's): nothing reads it in TCP mode.
        for s in p.servers.iter().filter(|s| s.cookie.is_some()) {
            diags.push(Diag::warning_global(format!(
                "{k} '{name}' : ignoring cookie for server '{}' as HTTP mode is disabled.",
                s.name
            )));
        }
    }
}
