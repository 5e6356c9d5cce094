//! Keywords of `defaults`, `frontend`, `backend` and `listen` sections,
//! with each keyword's capability rule.
//!
//! A keyword needing a side the proxy lacks (`server` in a frontend,
//! `default_backend` in a backend) is an alert, where HAProxy often only
//! warns and ignores the line: strata never ignores a line silently.

use super::args::{Res, int, no_extra};
use super::log::{self, LogLine};
use super::section::{Kind, Open};
use super::{
    balance, bind, checks, option_flags, options, proxy_misc, server, stats_page, stick, tcp_response,
};
use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::model::{Cond, HttpReuse, Loc, Mode, ProxyRef, RuleLine, UseBackend};

/// The side of a proxy a keyword acts on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Front,
    Back,
}

/// Refuses `kw` when the proxy lacks `side`.
pub(super) fn need(o: &Open, kw: &str, side: Side) -> Res {
    let (has, missing) = match side {
        Side::Front => (o.px.cap.frontend, "frontend"),
        Side::Back => (o.px.cap.backend, "backend"),
    };
    if has {
        return Ok(());
    }
    Err(format!(
        "'{kw}' not allowed because {} '{}' has no {missing} capability.",
        o.kind.type_str(),
        o.px.name
    ))
}

/// Refuses `kw` in a `defaults` section.
fn not_in_defaults(o: &Open, kw: &str) -> Res {
    if o.kind == Kind::Defaults {
        return Err(format!("'{kw}' not allowed in 'defaults' section."));
    }
    Ok(())
}

/// Applies one line of a proxy-like section to `o`.
pub(super) fn keyword(o: &mut Open, words: &[String], loc: &Loc, diags: &mut Diagnostics) {
    let kw = words[0].as_str();
    if let Some(refusal) = super::known::lua_or_spoe(words) {
        return diags.push(Diag::alert(loc, refusal));
    }
    super::rule_order::check(o, words, loc, diags);
    let res = match kw {
        // `server` may report several problems on one line: it pushes them itself.
        "server" | "server-template" => match not_in_defaults(o, kw).and_then(|()| need(o, kw, Side::Back)) {
            Ok(()) if kw == "server" => {
                server::parse(o, words, loc, diags);
                Ok(())
            }
            Ok(()) => {
                server::template(o, words, loc, diags);
                Ok(())
            }
            Err(e) => Err(e),
        },
        "default-server" => need(o, kw, Side::Back).map(|()| server::default_server(o, words, loc, diags)),
        "bind" => not_in_defaults(o, kw)
            .and_then(|()| need(o, kw, Side::Front))
            .and_then(|()| bind::parse(o, words, loc, diags)),
        "mode" => mode(o, words),
        "maxconn" => need(o, kw, Side::Front).and_then(|()| {
            o.px.maxconn = Some(int(kw, words.get(1))?);
            no_extra(kw, words, 2)
        }),
        "timeout" => options::timeout(o, words),
        "default_backend" => need(o, kw, Side::Front).and_then(|()| default_backend(o, words, loc)),
        "use_backend" => not_in_defaults(o, kw)
            .and_then(|()| need(o, kw, Side::Front))
            .and_then(|()| use_backend(o, words, loc)),
        "balance" => need(o, kw, Side::Back).and_then(|()| balance::balance(o, words)),
        "dispatch" if o.kind != Kind::Defaults && !o.px.cap.backend => {
            let msg = format!(
                "'dispatch' ignored because {} '{}' has no backend capability.",
                o.kind.type_str(),
                o.px.name
            );
            return diags.push(Diag::warning(loc, msg));
        }
        "dispatch" => not_in_defaults(o, kw).and_then(|()| dispatch(o, words)),
        // HAProxy 2.6 runs one process: the keyword is only warned.
        "bind-process" => {
            let msg = "'bind-process' has no effect, is deprecated, and will be removed in version 2.7.";
            return diags.push(Diag::warning_global(format!("parsing [{loc}]: {msg}")));
        }
        "email-alert" => email_alert(o, words),
        // The old spelling of `option transparent` (HAProxy 2.6 still takes it).
        "transparent" => {
            let why = "strata has no transparent proxying: a backend without a server connects nowhere";
            return diags.push(Diag::warning(
                loc,
                format!("'transparent' has no effect in strata ({why}); ignored."),
            ));
        }
        "hash-type" => need(o, kw, Side::Back).and_then(|()| balance::hash_type(o, words)),
        "hash-balance-factor" => {
            need(o, kw, Side::Back).and_then(|()| balance::hash_balance_factor(o, words))
        }
        "retries" => need(o, kw, Side::Back).and_then(|()| {
            o.px.retries = int::<u32>(kw, words.get(1)).map_err(|_| {
                "'retries' expects an integer argument (dispatch counts for one).".to_string()
            })?;
            no_extra(kw, words, 2)
        }),
        "option" => option_flags::option(o, &words[1..], false, loc, diags),
        "http-check" => checks::http_check(o, words),
        "tcp-check" => checks::tcp_check(o, words),
        "stick-table" => not_in_defaults(o, kw).and_then(|()| stick::stick_table(o, words)),
        "tcp-request" => stick::tcp_request(o, words, loc),
        "tcp-response" => super::defaults_rules::tcp_response_here(o, words)
            .and_then(|()| tcp_response::tcp_response(o, words, loc)),
        "http-reuse" => need(o, kw, Side::Back).and_then(|()| http_reuse(o, words)),
        "acl" => super::defaults_rules::allowed_here(o, kw)
            .and_then(|()| rule_line(&mut o.px.acls, kw, words, loc, 3)),
        "http-request" => super::defaults_rules::allowed_here(o, kw).and_then(|()| {
            let slotted = super::capture::rule_slot(o, words)?;
            rule_line(&mut o.px.http_request, kw, slotted.as_deref().unwrap_or(words), loc, 2)
        }),
        "http-response" => super::defaults_rules::allowed_here(o, kw)
            .and_then(|()| rule_line(&mut o.px.http_response, kw, words, loc, 2)),
        "http-after-response" => super::defaults_rules::allowed_here(o, kw)
            .and_then(|()| rule_line(&mut o.px.http_after_response, kw, words, loc, 2)),
        "log" => proxy_log(o, words, loc),
        "stats" => stats_page::keyword(o, words, loc),
        "compression" => super::compression::compression(o, words, loc, diags),
        "unique-id-format" | "unique-id-header" => need(o, kw, Side::Front).and_then(|()| {
            let v = words.get(1).ok_or(format!("'{kw}' expects an argument."))?;
            super::args::no_extra(kw, words, 2)?;
            if kw == "unique-id-format" {
                o.px.unique_id_format = Some((v.clone(), loc.clone()));
            } else {
                o.px.unique_id_header = Some(v.clone());
            }
            Ok(())
        }),
        "cookie" => need(o, kw, Side::Back).and_then(|()| super::persist::cookie(o, words)),
        "stick" => not_in_defaults(o, kw)
            .and_then(|()| need(o, kw, Side::Back))
            .and_then(|()| super::persist::stick(o, words, loc)),
        "force-persist" | "ignore-persist" => {
            not_in_defaults(o, kw).and_then(|()| super::persist::persist_rule(o, words, loc))
        }
        "filter" => not_in_defaults(o, kw).and_then(|()| super::compression::filter(o, words)),
        "no" => match words.get(1).map(String::as_str) {
            Some("option") => option_flags::option(o, &words[2..], true, loc, diags),
            Some("log") => {
                o.px.logs.clear();
                o.px.log_global = None;
                no_extra("no log", words, 2)
            }
            _ => Err("negation/default currently supported only for options and log.".into()),
        },
        _ => proxy_misc::keyword(o, words, loc, diags),
    };
    if let Err(e) = res {
        diags.push(Diag::alert(loc, e));
    }
}

/// `dispatch IP:PORT`: where a backend without `balance` sends every
/// stream (HAProxy's dispatch mode; resolve ignores it under `balance`).
fn dispatch(o: &mut Open, words: &[String]) -> Res {
    let text = words.get(1).ok_or("'dispatch' expects <addr>:<port> as argument.")?;
    let (ip, port) =
        super::addr::inet(text, super::addr::Use::Connect).map_err(|e| format!("'dispatch' : {e}"))?;
    let port = port
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("'dispatch' : missing port specification in '{text}'"))?;
    o.px.dispatch = Some(std::net::SocketAddr::new(ip, port));
    no_extra("dispatch", words, 2)
}

/// Keeps a rule line for the rule engine, which checks it after parsing.
fn rule_line(list: &mut Vec<RuleLine>, kw: &str, words: &[String], loc: &Loc, min_words: usize) -> Res {
    if words.len() < min_words {
        return Err(format!("'{kw}' expects arguments."));
    }
    list.push(RuleLine { words: words[1..].to_vec(), loc: loc.clone() });
    Ok(())
}

/// `http-reuse never|safe|aggressive|always`.
fn http_reuse(o: &mut Open, words: &[String]) -> Res {
    o.px.http_reuse = match words.get(1).map(String::as_str) {
        Some("never") => HttpReuse::Never,
        Some("safe") => HttpReuse::Safe,
        Some("aggressive" | "always") => HttpReuse::Always,
        _ => return Err("'http-reuse' only supports 'never', 'safe', 'aggressive', 'always'".into()),
    };
    no_extra("http-reuse", words, 2)
}

/// `mode tcp|http`.
fn mode(o: &mut Open, words: &[String]) -> Res {
    let v = words.get(1).map_or("", String::as_str);
    o.px.mode = match v {
        "tcp" => Mode::Tcp,
        "http" => Mode::Http,
        _ => return Err(format!("unknown proxy mode '{v}'.")),
    };
    no_extra("mode", words, 2)
}

/// `default_backend NAME`.
fn default_backend(o: &mut Open, words: &[String], loc: &Loc) -> Res {
    let Some(name) = words.get(1) else {
        return Err("'default_backend' expects a backend name.".into());
    };
    no_extra("default_backend", words, 2)?;
    o.px.default_backend = Some(ProxyRef { name: name.clone(), loc: loc.clone(), index: 0 });
    Ok(())
}

/// `use_backend NAME [if|unless COND...]`.
fn use_backend(o: &mut Open, words: &[String], loc: &Loc) -> Res {
    let Some(name) = words.get(1) else {
        return Err("'use_backend' expects a backend name.".into());
    };
    let cond = match words.get(2).map(String::as_str) {
        None => None,
        Some(w @ ("if" | "unless")) => {
            if words.len() == 3 {
                return Err(format!("'use_backend {name}' : missing condition after '{w}'."));
            }
            Some(Cond { negate: w == "unless", words: words[3..].to_vec(), loc: loc.clone() })
        }
        Some(w) => {
            return Err(format!(
                "unexpected keyword '{w}' after switching rule, only 'if' and 'unless' are allowed."
            ));
        }
    };
    let backend = ProxyRef { name: name.clone(), loc: loc.clone(), index: 0 };
    o.px.use_backends.push(UseBackend { backend, cond });
    Ok(())
}

/// `log ...` in a proxy: a target, or `log global`.
fn proxy_log(o: &mut Open, words: &[String], loc: &Loc) -> Res {
    match log::parse(words, false, loc)? {
        LogLine::Target(t) => o.px.logs.push(t),
        LogLine::Global => {
            if o.px.log_global.is_none() {
                o.px.log_global = Some(o.px.logs.len());
            }
        }
    }
    Ok(())
}

/// `email-alert from|to|mailers|myhostname|level ARG`, with HAProxy 2.6's
/// refusals; what they mean for strata is `cfg::knobs::EmailAlert`'s.
fn email_alert(o: &mut Open, words: &[String]) -> Res {
    let sub = words.get(1).map_or("", String::as_str);
    if sub.is_empty() {
        return Err("missing argument after 'email-alert'.".into());
    }
    let what = match sub {
        "from" | "to" => "<address>",
        "mailers" => "<mailers>",
        "myhostname" => "<hostname>",
        "level" => "<level>",
        _ => return Err(format!("email-alert: unknown argument '{sub}'.")),
    };
    if words.get(2).is_none_or(|a| a.is_empty()) {
        return Err(format!("'email-alert {sub}' expects {what} as argument."));
    }
    if sub == "level" && !super::log::LEVELS.contains(&words[2].as_str()) {
        // HAProxy's words, its two arguments swapped as it prints them.
        return Err(format!("unknown log level 'level' after '{}'", words[2]));
    }
    let e = &mut o.px.knobs.email_alert;
    e.any = true;
    match sub {
        "from" => e.from = true,
        "to" => e.to = true,
        "mailers" => e.mailers = true,
        _ => {}
    }
    no_extra(&format!("email-alert {sub}"), words, 3)
}
