//! `use-server`, `http-send-name-header` and `max-keep-alive-queue` in
//! proxy sections (see [`crate::cfg::srv_select`]), with HAProxy 2.6's
//! messages.

use super::args::Res;
use super::section::{Kind, Open};
use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::model::{Cond, Loc};
use crate::cfg::srv_select::{RetryOn, UseServer};

/// Applies `words` if it is one of these keywords; None otherwise.
pub(super) fn keyword(o: &mut Open, words: &[String], loc: &Loc, diags: &mut Diagnostics) -> Option<Res> {
    let kw = words[0].as_str();
    let res = match kw {
        "use-server" => use_server(o, words, loc, diags),
        "http-send-name-header" => send_name_header(o, words, loc, diags),
        "max-keep-alive-queue" => max_ka_queue(o, words, loc, diags),
        "retry-on" => retry_on(o, words, loc, diags),
        "source" => source(o, words, loc, diags),
        _ => return None,
    };
    Some(res)
}

/// HAProxy's `warnifnotcap`: a backend keyword in a proxy without the
/// backend side is warned and ignored. True when it was.
fn ignored_without_backend(o: &Open, kw: &str, loc: &Loc, diags: &mut Diagnostics) -> bool {
    if o.px.cap.backend {
        return false;
    }
    let msg =
        format!("'{kw}' ignored because {} '{}' has no backend capability.", o.kind.type_str(), o.px.name);
    diags.push(Diag::warning(loc, msg));
    true
}

/// `use-server NAME if|unless COND`.
fn use_server(o: &mut Open, words: &[String], loc: &Loc, diags: &mut Diagnostics) -> Res {
    if o.kind == Kind::Defaults {
        return Err("'use-server' not allowed in 'defaults' section.".into());
    }
    if ignored_without_backend(o, "use-server", loc, diags) {
        return Ok(());
    }
    let Some(name) = words.get(1).filter(|n| !n.is_empty()) else {
        return Err("'use-server' expects a server name.".into());
    };
    let negate = match words.get(2).map(String::as_str) {
        Some("if") => false,
        Some("unless") => true,
        _ => return Err("'use-server' requires either 'if' or 'unless' followed by a condition.".into()),
    };
    if words.len() == 3 {
        // HAProxy 2.6 accepts an empty condition (a rule that never
        // matches); strata refuses it, as its `use_backend` does.
        return Err(format!("'use-server {name}' : missing condition after '{}'.", words[2]));
    }
    if name.contains('%') {
        return Err(format!(
            "'use-server {name}' : a server name made of a log-format expression is not supported by strata yet."
        ));
    }
    let cond = Cond { negate, words: words[3..].to_vec(), loc: loc.clone() };
    o.px.knobs.srv.use_servers.push(UseServer { server: name.clone(), cond, loc: loc.clone() });
    Ok(())
}

/// `http-send-name-header NAME`.
fn send_name_header(o: &mut Open, words: &[String], loc: &Loc, diags: &mut Diagnostics) -> Res {
    if ignored_without_backend(o, "http-send-name-header", loc, diags) {
        return Ok(());
    }
    let Some(name) = words.get(1).filter(|n| !n.is_empty()) else {
        return Err("'http-send-name-header' requires a header string.".into());
    };
    o.px.knobs.srv.send_name_header = Some(name.to_ascii_lowercase());
    Ok(())
}

/// `max-keep-alive-queue N` (-1: no limit).
fn max_ka_queue(o: &mut Open, words: &[String], loc: &Loc, diags: &mut Diagnostics) -> Res {
    let kw = "max-keep-alive-queue";
    let Some(v) = words.get(1).filter(|n| !n.is_empty()) else {
        return Err(format!("'{kw}' expects expects an integer value (or -1 to disable)"));
    };
    let n: i64 = v.parse().map_err(|_| {
        let bad = v.chars().find(|c| !c.is_ascii_digit() && *c != '-').unwrap_or('?');
        format!("'{kw}' : unexpected character '{bad}' in integer value '{v}'")
    })?;
    if !o.px.cap.backend {
        let msg = format!(
            "{kw} will be ignored because {} '{}' has no backend capability",
            o.kind.type_str(),
            o.px.name
        );
        diags.push(Diag::warning(loc, msg));
    }
    o.px.knobs.srv.max_ka_queue = u32::try_from(n).ok();
    Ok(())
}

/// `retry-on KEYWORD...` (HAProxy 2.6's list; the line replaces the
/// inherited one).
fn retry_on(o: &mut Open, words: &[String], loc: &Loc, diags: &mut Diagnostics) -> Res {
    let kw = "retry-on";
    let args: Vec<&str> = words[1..].iter().map(String::as_str).filter(|w| !w.is_empty()).collect();
    if args.is_empty() {
        return Err(format!("'{kw}' needs at least one keyword to specify when to retry"));
    }
    if !o.px.cap.backend {
        return Err(format!("'{kw}' only available in backend or listen section"));
    }
    let mut bits = 0;
    for a in &args {
        bits |= match *a {
            "conn-failure" => RetryOn::CONN_FAILURE,
            "empty-response" => RetryOn::EMPTY_RESPONSE,
            "junk-response" => RetryOn::JUNK_RESPONSE,
            "response-timeout" => RetryOn::RESPONSE_TIMEOUT,
            "0rtt-rejected" => {
                diags.push(Diag::warning(
                    loc,
                    "'retry-on 0rtt-rejected' has no effect in strata (it accepts no TLS early data); ignored.",
                ));
                RetryOn::ZERO_RTT
            }
            "all-retryable-errors" => RetryOn::ALL_RETRYABLE,
            "none" if args.len() == 1 => 0,
            "none" => return Err(format!("'{kw}' 'none' keyworld only usable alone")),
            code => match code.parse::<u16>().map(RetryOn::status_bit) {
                Ok(bit) if bit != 0 => bit,
                _ => return Err(format!("'{kw}': unknown keyword '{code}'")),
            },
        };
    }
    o.px.knobs.srv.retry_on = RetryOn(bits);
    Ok(())
}

/// `source ADDR[:PORT] [usesrc ...] [interface NAME]` (backend side).
fn source(o: &mut Open, words: &[String], loc: &Loc, diags: &mut Diagnostics) -> Res {
    if ignored_without_backend(o, "source", loc, diags) {
        return Ok(());
    }
    let Some(text) = words.get(1).filter(|w| !w.is_empty()) else {
        return Err("'source' expects <addr>[:<port>] as argument.".into());
    };
    if text.rsplit_once(':').is_some_and(|(_, p)| p.contains('-')) {
        return Err(format!("'source {text}' : a source port range is not supported by strata yet."));
    }
    let (ip, port) =
        super::addr::inet(text, super::addr::Use::Connect).map_err(|e| format!("'source' : {e}"))?;
    let mut src = crate::cfg::srv_select::Source {
        addr: std::net::SocketAddr::new(ip, port.unwrap_or(0)),
        interface: None,
    };
    let mut i = 2;
    while let Some(w) = words.get(i).filter(|w| !w.is_empty()) {
        match w.as_str() {
            "usesrc" => {
                let v = words.get(i + 1).filter(|v| !v.is_empty()).ok_or("'usesrc' expects <addr>[:<port>], 'client', 'clientip', or 'hdr_ip(name,#)' as argument.")?;
                diags.push(Diag::warning(
                    loc,
                    format!("'source ... usesrc {v}' has no effect in strata (no transparent proxying): connections come from the source address."),
                ));
                i += 2;
            }
            "interface" => {
                let v = words
                    .get(i + 1)
                    .filter(|v| !v.is_empty())
                    .ok_or("'interface' expects an interface name.")?;
                src.interface = Some(v.clone());
                i += 2;
            }
            other => {
                return Err(format!(
                    "'source' only supports the 'usesrc' and 'interface' sub-options (got '{other}')."
                ));
            }
        }
    }
    o.px.knobs.srv.source = Some(src);
    Ok(())
}
