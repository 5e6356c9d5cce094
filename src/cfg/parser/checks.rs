//! Health-check keywords of backend-side sections: the check options
//! (`option httpchk`, `tcp-check`, `mysql-check`, `pgsql-check`,
//! `redis-check`, `ldap-check`, `smtpchk`, `ssl-hello-chk`,
//! `log-health-checks`, `external-check`) and the `tcp-check` /
//! `http-check` rules (`expect` in `check_expect`). Texts are HAProxy 2.6's.

use super::args::{Res, no_extra};
use super::check_expect::expect;
use super::proxy::{Side, need};
use super::section::Open;
use crate::cfg::checks::{CheckAction, CheckKind, CheckRule, ConnectRule, HttpSend, RuleSet};
use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::model::Loc;
use std::net::SocketAddr;

/// Handles `option NAME` when NAME is a check option (`words[0]`); None
/// for other options.
pub(super) fn option(o: &mut Open, words: &[String], negate: bool) -> Option<Res> {
    let name = words.first()?.as_str();
    let kind = match name {
        "httpchk" | "tcp-check" | "mysql-check" | "pgsql-check" | "redis-check" | "ldap-check"
        | "smtpchk" | "ssl-hello-chk" | "spop-check" | "log-health-checks" | "external-check" => name,
        _ => return None,
    };
    let kw = format!("option {kind}");
    Some(need(o, &kw, Side::Back).and_then(|()| {
        if negate && kind != "log-health-checks" {
            return Err(format!("negation/default is not supported for option '{kind}'."));
        }
        let c = &mut o.px.checks;
        let res = match kind {
            "log-health-checks" => {
                c.log_health_checks = !negate;
                no_extra(&kw, words, 1)
            }
            "external-check" => {
                Err("'option external-check' is not supported by strata: it runs no external \
                                     programs (use tcp-check or http-check rules)."
                    .into())
            }
            "httpchk" => httpchk(o, words).map(drop),
            "tcp-check" => {
                no_extra(&kw, words, 1)?;
                c.kind = CheckKind::Tcp;
                Ok(())
            }
            "redis-check" => set(c, CheckKind::Redis, &kw, words),
            "ldap-check" => set(c, CheckKind::Ldap, &kw, words),
            "ssl-hello-chk" => set(c, CheckKind::SslHello, &kw, words),
            "spop-check" => set(c, CheckKind::Spop, &kw, words),
            "smtpchk" => {
                no_extra(&kw, words, 3)?;
                let hello = match (words.get(1).map(String::as_str), words.get(2)) {
                    (Some(cmd @ ("EHLO" | "HELO")), Some(domain)) => format!("{cmd} {domain}"),
                    _ => "HELO localhost".to_string(),
                };
                c.kind = CheckKind::Smtp { hello };
                Ok(())
            }
            "pgsql-check" => {
                no_extra(&kw, words, 3)?;
                match (words.get(1).map(String::as_str), words.get(2)) {
                    (Some("user"), Some(u)) if !u.is_empty() => {
                        c.kind = CheckKind::Pgsql { user: u.clone() };
                        Ok(())
                    }
                    (None, _) | (Some("user"), _) => {
                        Err("'option pgsql-check' expects 'user <username>' as argument.".into())
                    }
                    _ => Err("'option pgsql-check' only supports optional values: 'user'.".into()),
                }
            }
            _ => mysql(c, words),
        };
        if res.is_ok() {
            // As HAProxy 2.6: a check option drops the check rules written
            // before it (`option tcp-check` only the http-check ones), so
            // only rules written after it are "ignored" (warned at the end).
            let c = &mut o.px.checks;
            match kind {
                "httpchk" | "log-health-checks" => {}
                "tcp-check" => drop_rules(&mut c.http),
                _ => {
                    drop_rules(&mut c.http);
                    drop_rules(&mut c.tcp);
                }
            }
        }
        res
    }))
}

/// Forgets a proxy's check rules (its own and those it inherited).
fn drop_rules(set: &mut RuleSet) {
    set.rules.clear();
    set.own = true;
}

fn set(c: &mut crate::cfg::ProxyChecks, kind: CheckKind, kw: &str, words: &[String]) -> Res {
    no_extra(kw, words, 1)?;
    c.kind = kind;
    Ok(())
}

/// `option mysql-check [user NAME [post-41|pre-41]]`.
fn mysql(c: &mut crate::cfg::ProxyChecks, words: &[String]) -> Res {
    no_extra("option mysql-check", words, 4)?;
    let kind = match words.get(1).map(String::as_str) {
        None => CheckKind::Mysql { user: None, post41: true },
        Some("user") => {
            let user = words
                .get(2)
                .filter(|u| !u.is_empty())
                .ok_or("'option mysql-check user' expects <username> as argument.")?;
            let post41 = match words.get(3).map(String::as_str) {
                None | Some("post-41") => true,
                Some("pre-41") => false,
                Some(v) => {
                    return Err(format!("keyword 'user' only supports 'post-41' and 'pre-41' (got '{v}')."));
                }
            };
            CheckKind::Mysql { user: Some(user.clone()), post41 }
        }
        Some(v) => {
            return Err(format!("'option mysql-check' only supports optional values: 'user' (got '{v}')."));
        }
    };
    c.kind = kind;
    Ok(())
}

/// `option httpchk` from `option_flags`, which has the line for the
/// warning HAProxy 2.6 gives about headers or a body after the version.
pub(super) fn option_httpchk(o: &mut Open, words: &[String], loc: &Loc, diags: &mut Diagnostics) -> Res {
    need(o, "option httpchk", Side::Back)?;
    if let Some(w) = httpchk(o, words)? {
        diags.push(Diag::warning(loc, format!("'option httpchk' : {w}")));
    }
    Ok(())
}

/// `option httpchk [[METH] URI [VERSION]]`: HTTP checks, with this request
/// unless an `http-check send` says otherwise (HAProxy merges both). As in
/// HAProxy 2.6, VERSION may go on with `\r\n` and header lines, then
/// `\r\n\r\n` and a body (deprecated: the returned warning says so).
fn httpchk(o: &mut Open, words: &[String]) -> Result<Option<&'static str>, String> {
    no_extra("option httpchk", words, 4)?;
    let (method, uri, version) = match &words[1..] {
        [] => (None, None, None),
        [uri] => (None, Some(uri.clone()), None),
        [m, uri] => (Some(m.clone()), Some(uri.clone()), None),
        [m, uri, v, ..] => (Some(m.clone()), Some(uri.clone()), Some(v.clone())),
    };
    let (version, headers, body) = match version {
        Some(v) => split_version(&v)?,
        None => (None, Vec::new(), None),
    };
    let warning = (!headers.is_empty() || body.is_some()).then_some(
        "hiding headers or body at the end of the version string is deprecated. Please, consider to use \
         'http-check send' directive instead.",
    );
    let c = &mut o.px.checks;
    own(&mut c.http);
    c.kind = CheckKind::Http;
    let send = HttpSend { method, uri, version, headers, body, from_option: true };
    add_option_send(&mut c.http, send);
    Ok(warning)
}

/// Header name and value pairs of an `option httpchk` request.
type Headers = Vec<(String, String)>;

/// HAProxy's `proxy_parse_httpchk_req` on the version word: what comes
/// before the first `\r\n` is the version (None when empty), then header
/// lines up to a `\r\n\r\n`, then the body.
fn split_version(v: &str) -> Result<(Option<String>, Headers, Option<String>), String> {
    let (head, body) = match v.split_once("\r\n\r\n") {
        Some((h, b)) => (h, Some(b.to_string())),
        None => (v, None),
    };
    let (version, hdrs) = match head.split_once("\r\n") {
        Some((ver, hdrs)) => (ver, Some(hdrs)),
        None => (head, None),
    };
    let mut headers = Vec::new();
    for line in hdrs.into_iter().flat_map(|h| h.split("\r\n")) {
        let parsed = line.split_once(':').filter(|(n, _)| {
            !n.is_empty() && n.bytes().all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
        });
        let Some((name, value)) = parsed else {
            return Err(format!(
                "'option httpchk' : unable to parse the request '{}'.",
                hdrs.unwrap_or_default().escape_debug()
            ));
        };
        let value = value.trim_matches([' ', '\t']);
        // Framing headers are the check's own (as for `http-check send`).
        if !name.eq_ignore_ascii_case("content-length") && !name.eq_ignore_ascii_case("transfer-encoding") {
            headers.push((name.to_string(), value.to_string()));
        }
    }
    Ok(((!version.is_empty()).then(|| version.to_string()), headers, body))
}

/// HAProxy's `tcpcheck_add_http_rule` for the request of `option
/// httpchk`: it replaces an earlier one, merges into an explicit `http-check
/// send` (which keeps what it set), or goes first (after a first connect).
fn add_option_send(set: &mut RuleSet, send: HttpSend) {
    let first = set.rules.iter().position(|r| !matches!(r.action, CheckAction::Comment));
    let first = match first {
        Some(i) if matches!(set.rules[i].action, CheckAction::Connect(_)) => set.rules[i + 1..]
            .iter()
            .position(|r| !matches!(r.action, CheckAction::Comment))
            .map(|j| i + 1 + j),
        other => other,
    };
    match first.map(|i| (i, &mut set.rules[i].action)) {
        Some((i, CheckAction::HttpSend(old))) if old.from_option => {
            set.rules.remove(i);
            set.rules.insert(0, CheckRule { action: CheckAction::HttpSend(send), index: 0, comment: None });
        }
        Some((_, CheckAction::HttpSend(explicit))) => merge_send(explicit, send),
        _ => set.rules.insert(0, CheckRule { action: CheckAction::HttpSend(send), index: 0, comment: None }),
    }
}

/// HAProxy's `tcpcheck_overwrite_send_http_rule`: `new`'s method, URI,
/// version and body replace `old`'s where set; its headers replace all.
fn merge_send(old: &mut HttpSend, new: HttpSend) {
    old.method = new.method.or(old.method.take());
    old.uri = new.uri.or(old.uri.take());
    old.version = new.version.or(old.version.take());
    old.headers = new.headers;
    old.body = new.body.or(old.body.take());
}

/// The proxy starts its own rules: the inherited ones are dropped.
fn own(set: &mut RuleSet) {
    if !set.own {
        set.rules.clear();
        set.own = true;
    }
}

/// The index of the next rule (HAProxy numbers steps from it).
fn next_index(set: &RuleSet) -> usize {
    match set.rules.last() {
        None => 0,
        Some(r) if matches!(&r.action, CheckAction::HttpSend(s) if s.from_option) => r.index,
        Some(r) => r.index + 1,
    }
}

/// `tcp-check connect|send|send-binary|expect|comment ...`.
pub(super) fn tcp_check(o: &mut Open, words: &[String]) -> Res {
    need(o, "tcp-check", Side::Back)?;
    let sub = words.get(1).map_or("", String::as_str);
    let action = rule(words, false).map_err(|e| format!("'tcp-check {sub}' : {e}."))?;
    let set = &mut o.px.checks.tcp;
    own(set);
    if let (CheckAction::Connect(_), Some(e)) = (&action.0, connect_not_first(set)) {
        return Err(format!("'tcp-check {sub}' : {e}."));
    }
    let index = next_index(set);
    set.rules.push(CheckRule { action: action.0, index, comment: action.1 });
    Ok(())
}

/// `http-check connect|send|expect|comment|disable-on-404|send-state ...`.
pub(super) fn http_check(o: &mut Open, words: &[String]) -> Res {
    need(o, "http-check", Side::Back)?;
    let sub = words.get(1).map_or("", String::as_str);
    match sub {
        "disable-on-404" | "send-state" => {
            no_extra(&format!("http-check {sub}"), words, 2)?;
            if sub == "send-state" {
                o.px.checks.send_state = true;
            } else {
                o.px.checks.disable_on_404 = true;
            }
            return Ok(());
        }
        _ => {}
    }
    let (action, comment) = rule(words, true).map_err(|e| format!("'http-check {sub}' : {e}."))?;
    let set = &mut o.px.checks.http;
    own(set);
    let index = next_index(set);
    let last = set.rules.iter().rev().find(|r| !matches!(r.action, CheckAction::Comment)).map(|r| &r.action);
    let from_opt = matches!(last, Some(CheckAction::HttpSend(s)) if s.from_option);
    let step = index + 1;
    let order = match (&action, last) {
        _ if last.is_none() || from_opt => None,
        (CheckAction::HttpSend(_), Some(l)) if !matches!(l, CheckAction::Connect(_)) => {
            Some(format!("unable to add http-check send rule at step {step} (missing connect rule)"))
        }
        (CheckAction::Expect(_), Some(l))
            if !matches!(l, CheckAction::HttpSend(_) | CheckAction::Expect(_)) =>
        {
            Some(format!("unable to add http-check expect rule at step {step} (missing send rule)"))
        }
        (CheckAction::Connect(_), Some(l)) if !matches!(l, CheckAction::Expect(_)) => {
            Some(format!("unable to add http-check connect rule at step {step} (missing expect rule)"))
        }
        _ => None,
    };
    if let Some(e) =
        order.or_else(|| matches!(action, CheckAction::Connect(_)).then(|| connect_not_first(set)).flatten())
    {
        return Err(format!("'http-check {sub}' : {e}."));
    }
    // An explicit send merges with the request of `option httpchk`.
    if let CheckAction::HttpSend(mut send) = action {
        let opt =
            set.rules.iter().position(|r| matches!(&r.action, CheckAction::HttpSend(s) if s.from_option));
        if let Some(i) = opt {
            let CheckAction::HttpSend(old) = set.rules.remove(i).action else { unreachable!() };
            let mut merged = old;
            merge_send(&mut merged, std::mem::take(&mut send));
            merged.from_option = false;
            send = merged;
        }
        set.rules.push(CheckRule { action: CheckAction::HttpSend(send), index, comment });
        return Ok(());
    }
    set.rules.push(CheckRule { action, index, comment });
    Ok(())
}

/// A connect must be the first rule when there is one (comments and the
/// request of `option httpchk` aside): HAProxy's `parse_tcpcheck_connect`.
fn connect_not_first(set: &RuleSet) -> Option<String> {
    for r in &set.rules {
        match &r.action {
            CheckAction::Connect(_) => return None,
            CheckAction::Comment => {}
            CheckAction::HttpSend(s) if s.from_option => {}
            _ => {
                return Some(
                    "first step MUST also be a 'connect', optionally preceded by a 'set-var', an 'unset-var' or \
                     a 'comment', when there is a 'connect' step in the tcp-check ruleset"
                        .into(),
                );
            }
        }
    }
    None
}

/// One rule line (`words[1]` is the action) and its comment.
fn rule(words: &[String], http: bool) -> Result<(CheckAction, Option<String>), String> {
    let kw = if http { "http-check" } else { "tcp-check" };
    let sub = words.get(1).map_or("", String::as_str);
    let args = &words[2.min(words.len())..];
    match sub {
        "connect" => connect(args),
        "send" if http => send_http(args),
        "send" | "send-binary" => send_tcp(sub, args),
        "send-lf" | "send-binary-lf" if !http => {
            Err(format!("'{sub}' (log-format) is not supported by strata yet"))
        }
        "expect" => expect(args, http),
        "comment" => match args {
            [c] => Ok((CheckAction::Comment, Some(c.clone()))),
            [] => Err("expects a string as argument".into()),
            [_, x, ..] => Err(format!("cannot handle unexpected argument '{x}'")),
        },
        "set-var" | "unset-var" => Err(format!("'{sub}' is not supported by strata yet")),
        _ if http => Err(format!(
            "'{kw}' only supports 'disable-on-404', 'send-state', 'comment', 'connect', 'send', 'expect', \
             'set-var' and 'unset-var'. but got '{sub}'"
        )),
        _ => Err(format!(
            "'{kw}' only supports 'comment', 'connect', 'send', 'send-binary', 'expect', 'set-var' and \
             'unset-var'. but got '{sub}'"
        )),
    }
    .map_err(|e| e.trim_end_matches('.').to_string())
}

/// `connect [default] [port N] [addr IP[:PORT]] [send-proxy] [linger] [comment C]`.
fn connect(args: &[String]) -> Result<(CheckAction, Option<String>), String> {
    let mut c = ConnectRule::default();
    let mut comment = None;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let val = args.get(i + 1).filter(|v| !v.is_empty());
        match a.as_str() {
            "default" => c.default = true,
            "send-proxy" => c.send_proxy = true,
            "linger" => c.linger = true,
            "port" => {
                let v = val.ok_or("'port' expects a port number or a sample expression as argument.")?;
                match v.parse::<u32>() {
                    Ok(p @ 1..=65535) => c.port = Some(p as u16),
                    Ok(_) => {
                        return Err(format!(
                            "expects a valid TCP port (from range 1 to 65535) or a sample expression, got {v}."
                        ));
                    }
                    Err(_) => {
                        return Err(format!(
                            "'port' : sample expressions ('{v}') are not supported by strata yet."
                        ));
                    }
                }
                i += 1;
            }
            "addr" => {
                let v = val.ok_or("'addr' expects <ipv4|ipv6> as argument.")?;
                let sa = v
                    .parse::<SocketAddr>()
                    .or_else(|_| v.parse::<std::net::IpAddr>().map(|ip| SocketAddr::new(ip, 0)))
                    .map_err(|_| format!("'addr' : invalid address: '{v}'."))?;
                c.addr = Some(sa);
                i += 1;
            }
            "comment" => {
                comment = Some(val.ok_or("'comment' expects a string as argument.")?.clone());
                i += 1;
            }
            "ssl" | "sni" | "alpn" | "proto" | "via-socks4" => {
                return Err(format!("'{a}' on a check connect rule is not supported by strata yet"));
            }
            _ => {
                return Err(format!(
                    "expects 'comment', 'port', 'addr', 'send-proxy', 'ssl', 'sni', 'alpn' or 'via-socks4', \
                     'linger', 'default' but got '{a}' as argument."
                ));
            }
        }
        i += 1;
    }
    Ok((CheckAction::Connect(c), comment))
}

/// `send|send-binary DATA [comment C]`.
fn send_tcp(sub: &str, args: &[String]) -> Result<(CheckAction, Option<String>), String> {
    let data = args.first().filter(|d| !d.is_empty()).ok_or_else(|| {
        format!(
            "'{sub}' expects a {} as argument",
            if sub == "send-binary" { "binary string" } else { "string" }
        )
    })?;
    let comment = trailing_comment(&args[1..])?;
    let bytes = if sub == "send-binary" {
        parse_hex(data).map_err(|e| format!("'{data}' invalid binary string ({e})"))?
    } else {
        data.as_bytes().to_vec()
    };
    Ok((CheckAction::Send(bytes), comment))
}

/// `send [meth M] [uri U] [ver V] [hdr N V]... [body B] [comment C]`.
fn send_http(args: &[String]) -> Result<(CheckAction, Option<String>), String> {
    let mut s = HttpSend::default();
    let mut comment = None;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let val = || {
            args.get(i + 1)
                .filter(|v| !v.is_empty())
                .cloned()
                .ok_or(format!("'{a}' expects a string as argument."))
        };
        match a.as_str() {
            "meth" => s.method = Some(val()?),
            "uri" => s.uri = Some(val()?),
            "ver" => s.version = Some(val()?),
            "body" => s.body = Some(val()?),
            "comment" => comment = Some(val()?),
            "hdr" => {
                let (Some(n), Some(v)) = (args.get(i + 1), args.get(i + 2)) else {
                    return Err("'hdr' expects <name> and <value> as arguments".into());
                };
                if n.eq_ignore_ascii_case("host")
                    && let Some((_, prev)) = s.headers.iter().find(|(h, _)| h.eq_ignore_ascii_case("host"))
                {
                    return Err(format!("'{n}' header already defined (previous value is '{prev}')"));
                }
                // Framing headers are the check's own.
                if !n.eq_ignore_ascii_case("content-length") && !n.eq_ignore_ascii_case("transfer-encoding") {
                    s.headers.push((n.clone(), v.clone()));
                }
                i += 1;
            }
            "uri-lf" | "body-lf" => return Err(format!("'{a}' (log-format) is not supported by strata yet")),
            _ => {
                return Err(format!(
                    "expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', 'body' or 'body-lf' but got '{a}' as argument."
                ));
            }
        }
        i += 2;
    }
    Ok((CheckAction::HttpSend(s), comment))
}

/// An optional `comment C` ending a rule.
fn trailing_comment(args: &[String]) -> Result<Option<String>, String> {
    match args {
        [] => Ok(None),
        [c, v] if c == "comment" => Ok(Some(v.clone())),
        [c] if c == "comment" => Err("'comment' expects a string as argument.".into()),
        [x, ..] => Err(format!("expects 'comment' but got '{x}' as argument.")),
    }
}

/// A hexadecimal string (`send-binary`, `expect binary`).
pub(super) fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    if !s.len().is_multiple_of(2) {
        return Err(format!("an hex string must have an even number of characters ('{s}')"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| format!("'{s}' is not an hexadecimal string"))
        })
        .collect()
}
