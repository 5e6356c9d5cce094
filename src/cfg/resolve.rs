//! Resolve: the checks that need the whole configuration, run once after
//! parsing. Fills `ProxyRef::index`, expands `log global`, and reports
//! duplicate names, missing or incompatible backends, frontends without
//! `bind`, addresses bound twice and (as warnings) missing timeouts or a
//! missing global `server-state-file`, in
//! HAProxy's words where HAProxy has them.

use super::diag::{Diag, Diagnostics, Severity};
use super::model::{Config, Mode, Proxy, ProxyRef};

/// Completes `cfg` in place; every problem is pushed to `diags`.
pub fn resolve(cfg: &mut Config, diags: &mut Diagnostics) {
    expand_log_global(cfg);
    check_proxy_names(cfg, diags);
    link_backends(cfg, diags);
    check_server_names(cfg, diags);
    check_ports(cfg, diags);
    layer7_hash_needs_http(cfg, diags);
    super::listen::apply_unix_bind(cfg);
    check_binds(cfg, diags);
    super::listen::check_bind_threads(cfg, diags);
    resolve_error_pages(cfg, diags);
    warn_missing_timeouts(cfg, diags);
    check_email_alerts(cfg, diags);
    dispatch_or_balance(cfg, diags);
    super::resolve_modes::check_early(cfg, diags);
    super::resolve_logs::check(cfg, diags);
    warn_no_global_state_file(cfg, diags);
    super::peers::resolve(cfg, diags);
    super::syslog::check(cfg, diags);
    super::resolvers::check(cfg, diags);
    super::resolve_modes::check(cfg, diags);
}

/// What HAProxy calls a proxy in messages, from its capabilities.
fn type_str(p: &Proxy) -> &'static str {
    match (p.cap.frontend, p.cap.backend) {
        (true, true) => "proxy",
        (true, false) => "frontend",
        (false, true) => "backend",
        (false, false) => "defaults",
    }
}

/// `log global`: the global targets go where the line was written.
fn expand_log_global(cfg: &mut Config) {
    for p in &mut cfg.proxies {
        if let Some(at) = p.log_global.take() {
            let at = at.min(p.logs.len());
            p.logs.splice(at..at, cfg.global.logs.iter().cloned());
        }
    }
}

/// A name must be unique among proxies sharing a capability: a frontend
/// and a backend may share one, a listen shares with nobody.
fn check_proxy_names(cfg: &Config, diags: &mut Diagnostics) {
    for (i, p) in cfg.proxies.iter().enumerate() {
        let clash = cfg.proxies[..i].iter().find(|q| {
            q.name == p.name && ((q.cap.frontend && p.cap.frontend) || (q.cap.backend && p.cap.backend))
        });
        if let Some(q) = clash {
            diags.push(Diag::alert(
                &p.loc,
                format!(
                    "{} '{}' has the same name as {} '{}' declared at {}.",
                    type_str(p),
                    p.name,
                    type_str(q),
                    q.name,
                    q.loc
                ),
            ));
        }
    }
}

/// Fills `default_backend` and `use_backend` indices, gives a listen
/// without `default_backend` itself as default, and refuses an HTTP
/// frontend routing to a TCP backend.
fn link_backends(cfg: &mut Config, diags: &mut Diagnostics) {
    let backends: Vec<(String, usize)> = cfg
        .proxies
        .iter()
        .enumerate()
        .filter(|(_, p)| p.cap.backend)
        .map(|(i, p)| (p.name.clone(), i))
        .collect();
    let find = |name: &str| backends.iter().find(|(n, _)| n == name).map(|(_, i)| *i);
    let modes: Vec<(Mode, String)> =
        cfg.proxies.iter().map(|p| (p.mode, format!("{} '{}' ({})", type_str(p), p.name, p.loc))).collect();
    for (pi, p) in cfg.proxies.iter_mut().enumerate() {
        if !p.cap.frontend {
            continue;
        }
        if p.default_backend.is_none() && p.cap.backend {
            p.default_backend = Some(ProxyRef { name: p.name.clone(), loc: p.loc.clone(), index: pi });
        }
        let fe_mode = p.mode;
        let fe_name = p.name.clone();
        let fe_desc = &modes[pi].1;
        let refs = p.default_backend.iter_mut().map(|r| (r, "default_backend", "as its default backend"));
        let rules =
            p.use_backends.iter_mut().map(|u| (&mut u.backend, "use_backend", "in a 'use_backend' rule"));
        for (r, kw, how) in refs.chain(rules) {
            let Some(bi) = find(&r.name) else {
                diags.push(Diag::alert(
                    &r.loc,
                    format!("Proxy '{fe_name}': unable to find required {kw}: '{}'.", r.name),
                ));
                continue;
            };
            r.index = bi;
            if fe_mode == Mode::Http && modes[bi].0 != Mode::Http {
                diags.push(Diag::alert(
                    &r.loc,
                    format!(
                        "http {fe_desc} tries to use incompatible tcp {} {how} (see 'mode').",
                        modes[bi].1
                    ),
                ));
            }
        }
    }
}

/// Server names must be unique within their proxy, among servers without
/// an `id` (HAProxy: an explicit id is what tells such servers apart).
fn check_server_names(cfg: &Config, diags: &mut Diagnostics) {
    for p in &cfg.proxies {
        for (i, s) in p.servers.iter().enumerate().filter(|(_, s)| !s.id_forced) {
            if let Some(first) = p.servers[..i].iter().find(|f| f.name == s.name && !f.id_forced) {
                diags.push(Diag::alert(
                    &s.loc,
                    format!(
                        "{} '{}', another server named '{}' was already defined at line {}, please use distinct names.",
                        type_str(p),
                        p.name,
                        s.name,
                        first.loc.line
                    ),
                ));
            }
        }
    }
}

/// `uri`, `url_param` and `hdr()` need HTTP: a TCP backend falls back to
/// round robin with HAProxy's warning.
fn layer7_hash_needs_http(cfg: &mut Config, diags: &mut Diagnostics) {
    use super::balance::Balance;
    for p in cfg.proxies.iter_mut().filter(|p| p.cap.backend && p.mode == Mode::Tcp) {
        if matches!(p.balance, Balance::Uri(_) | Balance::UrlParam { .. } | Balance::Hdr { .. }) {
            p.balance = Balance::RoundRobin;
            diags.push(Diag {
                severity: Severity::Warning,
                loc: None,
                msg: format!(
                    "Layer 7 hash not possible for {} '{}' (needs 'mode http'). Falling back to round robin.",
                    type_str(p),
                    p.name
                ),
            });
        }
    }
}

/// A checked server needs a port to check: its own, `port`, or ports on
/// every `connect` rule of its checks (the first rule being one), as
/// HAProxy's `init_srv_check`.
fn check_ports(cfg: &Config, diags: &mut Diagnostics) {
    use super::checks::{CheckAction, CheckKind};
    for p in cfg.proxies.iter().filter(|p| p.cap.backend) {
        let rules = match p.checks.kind {
            CheckKind::Tcp => &p.checks.tcp.rules[..],
            CheckKind::Http => &p.checks.http.rules[..],
            _ => &[],
        };
        let connects = || {
            rules.iter().filter_map(|r| match &r.action {
                CheckAction::Connect(c) => Some(c.port.is_some() || c.addr.is_some_and(|a| a.port() > 0)),
                _ => None,
            })
        };
        let first = rules.iter().find(|r| !matches!(r.action, CheckAction::Comment));
        for s in p
            .servers
            .iter()
            .filter(|s| s.check && s.port.is_none() && s.check_port.is_none() && s.unix.is_none())
        {
            let head = format!(
                "config: {} '{}': server '{}' has neither service port nor check port",
                type_str(p),
                p.name,
                s.name
            );
            let msg = if rules.is_empty() {
                format!("{head}.")
            } else if !matches!(first.map(|r| &r.action), Some(CheckAction::Connect(_)))
                || connects().next() != Some(true)
            {
                format!("{head} nor tcp_check rule 'connect' with port information.")
            } else if connects().any(|has| !has) {
                format!("{head}, and a tcp_check rule 'connect' with no port information.")
            } else {
                continue;
            };
            diags.push(Diag::alert_global(msg));
        }
        check_rules_used(p, diags);
    }
}

/// HAProxy's warnings for check rules a proxy wrote but does not use.
fn check_rules_used(p: &Proxy, diags: &mut Diagnostics) {
    use super::checks::CheckKind;
    let c = &p.checks;
    let mut warn = |msg: String| diags.push(Diag { severity: Severity::Warning, loc: None, msg });
    if c.http.own && !c.http.rules.is_empty() && c.kind != CheckKind::Http {
        warn(format!(
            "{} '{}' uses http-check rules without 'option httpchk', so the rules are ignored.",
            type_str(p),
            p.name
        ));
    }
    if c.tcp.own && !c.tcp.rules.is_empty() && c.kind != CheckKind::Tcp {
        warn(format!(
            "{} '{}' uses tcp-check rules without 'option tcp-check', so the rules are ignored.",
            type_str(p),
            p.name
        ));
    }
    if c.disable_on_404 && c.kind != CheckKind::Http {
        warn(format!(
            "'disable-on-404' will be ignored for {} '{}' (requires 'option httpchk').",
            type_str(p),
            p.name
        ));
    }
}

/// A frontend needs a `bind`; an address may be bound once.
fn check_binds(cfg: &Config, diags: &mut Diagnostics) {
    let mut seen: Vec<(&Proxy, &super::model::Bind)> = Vec::new();
    for p in &cfg.proxies {
        if !p.cap.frontend {
            continue;
        }
        if p.binds.is_empty() {
            diags.push(Diag::alert(
                &p.loc,
                format!(
                    "{} '{}' has no 'bind' directive. Please declare it as a backend if this was intended.",
                    type_str(p),
                    p.name
                ),
            ));
        }
        for b in &p.binds {
            // HAProxy's wording: `proto h1|h2` need an HTTP frontend, `none` a TCP one.
            let usable = match b.opts.proto {
                super::model::BindProto::Auto => None,
                super::model::BindProto::H1 => Some(("h1", p.mode == super::model::Mode::Http)),
                super::model::BindProto::H2 => Some(("h2", p.mode == super::model::Mode::Http)),
                super::model::BindProto::None => Some(("none", p.mode == super::model::Mode::Tcp)),
            };
            if let Some((name, false)) = usable {
                diags.push(Diag::alert_global(format!(
                    "{} '{}' : MUX protocol '{name}' is not usable for 'bind {}' at [{}].",
                    type_str(p),
                    p.name,
                    b.addr_text(),
                    b.loc
                )));
            }
            if let Some((q, first)) = seen.iter().find(|(_, f)| (f.addr, &f.unix) == (b.addr, &b.unix)) {
                diags.push(Diag::alert(
                    &b.loc,
                    format!(
                        "{} '{}' : address {} is already bound by {} '{}' at {}.",
                        type_str(p),
                        p.name,
                        b.addr_text(),
                        type_str(q),
                        q.name,
                        first.loc
                    ),
                ));
            } else {
                seen.push((p, b));
            }
        }
    }
}

/// HAProxy's rule: a `balance` algorithm wins over `dispatch`, which is
/// then ignored with a warning.
fn dispatch_or_balance(cfg: &mut Config, diags: &mut Diagnostics) {
    for p in cfg.proxies.iter_mut().filter(|p| p.balance_set && p.dispatch.is_some()) {
        p.dispatch = None;
        diags.push(Diag {
            severity: Severity::Warning,
            loc: None,
            msg: format!("dispatch address of {} '{}' will be ignored in balance mode.", type_str(p), p.name),
        });
    }
}

/// HAProxy's warning for a proxy missing the client, connect or server
/// timeout its sides need.
fn warn_missing_timeouts(cfg: &Config, diags: &mut Diagnostics) {
    for p in &cfg.proxies {
        let t = &p.timeouts;
        let set = |d: Option<std::time::Duration>| d.is_some_and(|d| !d.is_zero());
        let missing =
            (p.cap.frontend && !set(t.client)) || (p.cap.backend && (!set(t.connect) || !set(t.server)));
        if missing {
            diags.push(Diag {
                severity: Severity::Warning,
                loc: None,
                msg: format!(
                    "missing timeouts for {} '{}'.\n   \
                     | While not properly invalid, you will certainly encounter various problems\n   \
                     | with such a configuration. To fix this, please ensure that all following\n   \
                     | timeouts are set to a non-zero value: 'client', 'connect', 'server'.",
                    type_str(p),
                    p.name
                ),
            });
        }
    }
}

/// `load-server-state-from-file global` without a global `server-state-file`.
fn warn_no_global_state_file(cfg: &Config, diags: &mut Diagnostics) {
    if cfg.global.process.server_state_file.is_some() {
        return;
    }
    let global = super::knobs::LoadServerState::Global;
    for p in cfg.proxies.iter().filter(|p| p.cap.backend && p.knobs.load_server_state == global) {
        diags.push(Diag {
            severity: Severity::Warning,
            loc: None,
            msg: format!(
                "backend '{}' configured to load server state file from global section 'server-state-file' \
                 directive. Unfortunately, 'server-state-file' is not set!",
                p.name
            ),
        });
    }
}

/// Each proxy's error pages from its `errorfile`/`errorfiles`/`http-error`
/// lines, now that every `http-errors` section is known.
fn resolve_error_pages(cfg: &mut Config, diags: &mut Diagnostics) {
    for p in &mut cfg.proxies {
        match super::errorpages::resolve(&p.knobs.error_lines, &cfg.http_errors) {
            Ok(pages) => p.knobs.error_pages = pages,
            Err((loc, msg)) => diags.push(Diag::alert(&loc, format!("proxy '{}': {msg}", p.name))),
        }
    }
}

/// `email-alert` lines: HAProxy 2.6 ignores them, with this warning,
/// unless `from`, `mailers` and `to` are all given; then it would send
/// mail through a `mailers` section, which strata does not have.
fn check_email_alerts(cfg: &Config, diags: &mut Diagnostics) {
    for p in cfg.proxies.iter().filter(|p| p.knobs.email_alert.any) {
        let e = &p.knobs.email_alert;
        if e.from && e.mailers && e.to {
            diags.push(Diag::alert_global(format!(
                "{} '{}': 'email-alert' is not supported by strata yet: it sends no mail ('mailers' sections \
                 are not supported).",
                type_str(p),
                p.name
            )));
        } else {
            diags.push(Diag::warning_global(format!(
                "'email-alert' will be ignored for {} '{}' (the presence any of 'email-alert from', 'email-alert \
                 level' 'email-alert mailers', 'email-alert myhostname', or 'email-alert to' requires each of \
                 'email-alert from', 'email-alert mailers' and 'email-alert to' to be present).",
                type_str(p),
                p.name
            )));
        }
    }
}
