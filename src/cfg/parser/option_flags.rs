//! `[no] option X` for the on/off options beyond routing and checks:
//! socket options (`tcpka`, `clitcpka`, `srvtcpka`, `nolinger`), log
//! selection (`dontlog-normal`, `log-separate-errors`) and
//! the options HAProxy knows that mean nothing for strata (warned). The
//! others go on to `options::option`.

use super::args::{Res, no_extra};
use super::proxy::{Side, need};
use super::section::Open;
use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::model::Loc;

/// Options accepted with a warning: no effect in strata, and why.
const WARNED: &[(&str, &str)] = &[
    ("accept-invalid-http-request", "strata always rejects invalid requests"),
    ("accept-invalid-http-response", "strata always rejects invalid responses"),
    ("contstats", "strata updates its counters when a stream ends"),
    ("http-use-htx", "HTX is HAProxy's only mode since 2.1; strata has one mode too"),
    ("independent-streams", "strata measures each side's timeout from that side's own activity"),
    ("splice-auto", "strata decides on its own when to splice"),
    ("splice-request", "strata decides on its own when to splice"),
    ("splice-response", "strata decides on its own when to splice"),
    ("transparent", "strata has no transparent proxying: a backend without a server connects nowhere"),
];

/// `option <name>` (`words[0]` is the name) or `no option <name>`.
pub(super) fn option(
    o: &mut Open,
    words: &[String],
    negate: bool,
    loc: &Loc,
    diags: &mut Diagnostics,
) -> Res {
    let Some(name) = words.first().map(String::as_str) else {
        return super::options::option(o, words, negate);
    };
    if let Some(text) = super::removed::option(name) {
        // HAProxy writes this one without the blank before the colon
        diags.push(Diag::alert_global(format!("parsing [{loc}]: {text}")));
        return Ok(());
    }
    if name == "httpchk" && !negate {
        return super::checks::option_httpchk(o, words, loc, diags);
    }
    if let Some(res) = super::logfmt::option(o, words, negate, loc, diags) {
        return res;
    }
    if let Some(res) = super::http_opts::option(o, words, negate, loc, diags) {
        return res;
    }
    let kw = format!("option {name}");
    let on = !negate;
    let k = &mut o.px.knobs;
    let (cli, srv) = (o.px.cap.frontend, o.px.cap.backend);
    match name {
        "tcpka" => {
            k.cli_sock.keepalive = on && cli;
            k.srv_sock.keepalive = on && srv;
        }
        "clitcpka" => {
            need(o, &kw, Side::Front)?;
            o.px.knobs.cli_sock.keepalive = on;
        }
        "srvtcpka" => {
            need(o, &kw, Side::Back)?;
            o.px.knobs.srv_sock.keepalive = on;
        }
        "forwardfor" if !negate => {
            o.px.knobs.forwardfor = addr_header(&kw, &words[1..], true)?;
            o.px.options.forwardfor = true;
            return Ok(());
        }
        "dontlog-normal" | "log-separate-errors" => {
            need(o, &kw, Side::Front)?;
            let k = &mut o.px.knobs;
            *(if name == "dontlog-normal" { &mut k.dontlog_normal } else { &mut k.log_separate_errors }) = on;
        }
        "socket-stats" => {
            need(o, &kw, Side::Front)?;
            o.px.knobs.socket_stats = on;
        }
        "nolinger" => {
            k.cli_sock.nolinger = on && cli;
            k.srv_sock.nolinger = on && srv;
        }
        _ => match WARNED.iter().find(|(n, _)| *n == name) {
            Some((_, why)) => {
                diags.push(Diag::warning(loc, format!("'{kw}' has no effect in strata ({why}); ignored.")));
            }
            None => return super::options::option(o, words, negate),
        },
    }
    no_extra(&kw, words, 1)
}

/// `[except NET] [header NAME] [if-none]` of `option forwardfor` (of
/// `option originalto` without `if-none`).
pub(super) fn addr_header(
    kw: &str,
    args: &[String],
    with_if_none: bool,
) -> Result<crate::cfg::knobs::AddrHeader, String> {
    let mut a = crate::cfg::knobs::AddrHeader::default();
    let mut i = 0;
    while let Some(w) = args.get(i) {
        let val = args.get(i + 1).filter(|v| !v.is_empty());
        match w.as_str() {
            "except" => {
                let v = val.ok_or_else(|| format!("'{kw}' : missing address after '{w}'."))?;
                a.except = Some(
                    network(v).ok_or_else(|| format!("'{kw}' : invalid address '{v}' after 'except'."))?,
                );
                i += 2;
            }
            "header" => {
                let v = val.ok_or_else(|| format!("'{kw}' : missing header name after '{w}'."))?;
                a.header = Some(v.to_ascii_lowercase());
                i += 2;
            }
            "if-none" if with_if_none => {
                a.if_none = true;
                i += 1;
            }
            other => return Err(format!("'{kw}' : unknown parameter '{other}'.")),
        }
    }
    Ok(a)
}

/// `IP[/BITS]` (an IPv4 mask `a.b.c.d` too), as HAProxy's networks.
fn network(v: &str) -> Option<(std::net::IpAddr, u8)> {
    let (ip, bits) = match v.split_once('/') {
        Some((ip, b)) => (ip, Some(b)),
        None => (v, None),
    };
    let ip: std::net::IpAddr = ip.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        None => max,
        Some(b) => match (b.parse::<u8>(), b.parse::<std::net::Ipv4Addr>()) {
            (Ok(n), _) if n <= max => n,
            (_, Ok(mask)) if ip.is_ipv4() => u32::from(mask).count_ones() as u8,
            _ => return None,
        },
    };
    Some((ip, bits))
}
