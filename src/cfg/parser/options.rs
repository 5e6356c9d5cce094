//! `timeout <name> <time>` and `[no] option <name> [arg]` in proxy-like
//! sections, each name with the side of the proxy it applies to.

use super::args::{Res, no_extra, time};
use super::proxy::{Side, need};
use super::section::Open;
use crate::cfg::model::HttpCheck;

/// `timeout <name> <time>`.
pub(super) fn timeout(o: &mut Open, words: &[String]) -> Res {
    let name = words.get(1).map_or("", String::as_str);
    let side = match name {
        "client" | "client-fin" => Some(Side::Front),
        "server" | "connect" | "queue" | "tunnel" | "server-fin" | "check" => Some(Side::Back),
        "http-request" | "http-keep-alive" | "tarpit" => None,
        _ => {
            return Err(format!(
                "'timeout' supports 'client', 'server', 'connect', 'check', 'queue', 'http-keep-alive', \
                 'http-request', 'tarpit', 'tunnel', 'client-fin' and 'server-fin' (got '{name}')"
            ));
        }
    };
    let kw = format!("timeout {name}");
    if let Some(side) = side {
        need(o, &kw, side)?;
    }
    let value = words.get(2).map_or("", String::as_str);
    let d = time(&kw, value)?;
    if let Some(extra) = words.get(3) {
        return Err(format!("'{kw}' : unexpected extra argument '{extra}' after value '{value}'."));
    }
    let t = &mut o.px.timeouts;
    let slot = match name {
        "client" => &mut t.client,
        "client-fin" => &mut t.client_fin,
        "server" => &mut t.server,
        "connect" => &mut t.connect,
        "queue" => &mut t.queue,
        "tunnel" => &mut t.tunnel,
        "server-fin" => &mut t.server_fin,
        "http-request" => &mut t.http_request,
        "check" => &mut t.check,
        "tarpit" => &mut t.tarpit,
        _ => &mut t.http_keep_alive,
    };
    *slot = Some(d);
    Ok(())
}

/// `option <name> [arg]` (`words[0]` is the name), or `no option <name>`
/// when `negate`.
pub(super) fn option(o: &mut Open, words: &[String], negate: bool) -> Res {
    let Some(name) = words.first().map(String::as_str) else {
        return Err("'option' expects an option name.".into());
    };
    let kw = format!("option {name}");
    let side = match name {
        "redispatch" | "httpchk" => Some(Side::Back),
        "dontlognull" => Some(Side::Front),
        "forwardfor" | "http-keep-alive" | "httpclose" => None,
        "allbackups" => Some(Side::Back),
        _ if super::known::OPTIONS_NOT_YET.contains(&name) => {
            return Err(format!("'option {name}' is not supported by strata yet."));
        }
        _ => return Err(format!("unknown option '{name}'.")),
    };
    if let Some(side) = side {
        need(o, &kw, side)?;
    }
    if name == "httpchk" {
        return httpchk(o, words, negate);
    }
    let opts = &mut o.px.options;
    if name == "redispatch" {
        if negate {
            opts.redispatch = None;
            return no_extra(&kw, words, 1);
        }
        let interval = match words.get(1) {
            None => -1,
            Some(v) => {
                v.parse::<i32>().map_err(|_| format!("'{kw}' expects an integer argument (got '{v}')."))?
            }
        };
        opts.redispatch = Some(interval);
        return no_extra(&kw, words, 2);
    }
    no_extra(&kw, words, 1)?;
    let on = !negate;
    match name {
        "dontlognull" => opts.dontlognull = on,
        "allbackups" => opts.allbackups = on,
        "forwardfor" => opts.forwardfor = on,
        // The HTTP connection modes exclude each other, as in HAProxy.
        "http-keep-alive" => {
            opts.http_keep_alive = on;
            opts.httpclose &= !on;
        }
        _ => {
            opts.httpclose = on;
            opts.http_keep_alive &= !on;
        }
    }
    Ok(())
}

/// `option httpchk [[METH] URI [VERSION]]` (one argument is the URI) and
/// `no option httpchk`. A later `option httpchk` keeps the expected status.
fn httpchk(o: &mut Open, words: &[String], negate: bool) -> Res {
    if negate {
        o.px.http_check = None;
        return no_extra("option httpchk", words, 1);
    }
    no_extra("option httpchk", words, 4)?;
    let arg = |i: usize, default: &str| words.get(i).map_or(default.to_string(), String::clone);
    let (method, uri, version) = match words.len() {
        1 => ("OPTIONS".to_string(), "/".to_string(), "HTTP/1.0".to_string()),
        2 => ("OPTIONS".to_string(), arg(1, "/"), "HTTP/1.0".to_string()),
        _ => (arg(1, "OPTIONS"), arg(2, "/"), arg(3, "HTTP/1.0")),
    };
    let expect_status = o.px.http_check.as_ref().and_then(|c| c.expect_status);
    o.px.http_check = Some(HttpCheck { method, uri, version, expect_status });
    Ok(())
}

/// `http-check expect status <code>`; needs `option httpchk` above it
/// (in the section or inherited).
pub(super) fn http_check(o: &mut Open, words: &[String]) -> Res {
    need(o, "http-check", Side::Back)?;
    match (words.get(1).map(String::as_str), words.get(2).map(String::as_str)) {
        (Some("expect"), Some("status")) => {}
        (Some("expect"), _) => {
            return Err("'http-check expect' only supports 'status <code>' in strata yet.".into());
        }
        (Some(other), _) => return Err(format!("'http-check {other}' is not supported by strata yet.")),
        (None, _) => return Err("'http-check' expects 'expect status <code>'.".into()),
    }
    let code = words.get(3).map_or("", String::as_str);
    let status = match code.parse::<u16>() {
        Ok(n) if (100..=599).contains(&n) && code.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => {
            return Err(format!(
                "'http-check expect status' expects a status code between 100 and 599 (got '{code}')."
            ));
        }
    };
    no_extra("http-check expect status", words, 4)?;
    match o.px.http_check.as_mut() {
        Some(c) => c.expect_status = Some(status),
        None => return Err("'http-check expect' needs 'option httpchk' above it.".into()),
    }
    Ok(())
}
