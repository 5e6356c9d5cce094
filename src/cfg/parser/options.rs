//! `timeout <name> <time>` and `[no] option <name> [arg]` in proxy-like
//! sections, each name with the side of the proxy it applies to.

use super::args::{Res, no_extra, time};
use super::proxy::{Side, need};
use super::section::Open;

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
    if let Some(r) = super::checks::option(o, words, negate) {
        return r;
    }
    let kw = format!("option {name}");
    let side = match name {
        "redispatch" | "persist" => Some(Side::Back),
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
        "persist" => opts.persist = on,
        // The HTTP connection modes (`http-keep-alive`, `http-server-close`,
        // `httpclose`) are one setting in HAProxy: the last one given in a
        // proxy wins, also over the one inherited from its defaults.
        "http-keep-alive" => {
            opts.http_keep_alive = on;
            opts.httpclose &= !on;
            o.px.knobs.http.server_close &= !on;
        }
        _ => {
            opts.httpclose = on;
            opts.http_keep_alive &= !on;
            o.px.knobs.http.server_close &= !on;
        }
    }
    Ok(())
}
