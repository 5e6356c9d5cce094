//! Each proxy's compiled rules: its named ACLs, `use_backend` routes and
//! `http-request`/`http-response` rules. Compiled once at start-up (and by
//! `-c`), shared read-only by every stream.

use crate::acl::{AclSet, Condition, SampleExpr, compile};
use crate::cfg::StickKind;
use crate::cfg::{Config, Diag, Diagnostics};
use crate::l4_conn::track::{TcpRule, compile_tcp_rules};
use crate::l7_http::actions::ExtAction;
use crate::l7_http::rules::{HttpAction, HttpRule, RuleSide, compile_rules};

/// One `use_backend` rule.
pub struct Route {
    pub backend: usize, // proxy index
    pub cond: Option<Condition>,
}

/// The compiled rules of one proxy (index as `Config::proxies`).
#[derive(Default)]
pub struct ProxyRules {
    pub routes: Vec<Route>,
    pub tcp_connection: Vec<TcpRule>,
    pub tcp_session: Vec<TcpRule>,
    pub tcp_content: Vec<TcpRule>,
    pub tcp_response: Vec<super::response_inspect::ResRule>, // `tcp-response content` (backend side)
    pub http_request: Vec<HttpRule>,
    pub http_response: Vec<HttpRule>,
    pub http_after_response: Vec<HttpRule>,
    pub log: super::log::ProxyLog,   // the frontend's log formats
    pub stats_admin: Vec<Condition>, // `stats admin if|unless COND`: any holding allows the admin form
    pub stats_rules: Vec<(crate::cfg::StatsAction, Option<Condition>)>, // `stats http-request`, in order
    pub sticks: Vec<StickRule>,      // `stick ...` (backend side)
    pub persist_rules: Vec<(bool, Condition)>, // `force-persist` (true) / `ignore-persist`, first match wins
    pub unique_id: Option<crate::l7_http::logformat::LogFormat>, // `unique-id-format`
    pub intercept: super::intercept::Intercepts, // `monitor fail` conditions, `redirect` rules
    pub use_servers: Vec<(usize, Condition)>, // `use-server NAME if|unless COND`: server index, in order
}

/// One compiled `stick on|match|store-request|store-response` rule.
pub struct StickRule {
    pub kind: StickKind,
    pub pattern: SampleExpr,
    pub table: usize, // registry index (a proxy index)
    pub cond: Option<Condition>,
}

/// `PATTERN [table NAME] [if|unless COND]`.
fn compile_stick(
    line: &crate::cfg::StickLine,
    acls: &AclSet,
    tables: &dyn Fn(Option<&str>) -> Result<usize, String>,
) -> Result<StickRule, String> {
    let w = &line.words;
    let pattern = SampleExpr::parse(&w[0]).map_err(|e| format!("'stick': {e}"))?;
    let mut i = 1;
    let mut table = None;
    if w.get(i).map(String::as_str) == Some("table") {
        table = Some(w.get(i + 1).ok_or("'stick': missing table name after 'table'.")?.as_str());
        i += 2;
    }
    let table = tables(table)?;
    let cond = match w.get(i).map(String::as_str) {
        None => None,
        Some(k @ ("if" | "unless")) => {
            let c =
                crate::cfg::Cond { negate: k == "unless", words: w[i + 1..].to_vec(), loc: line.loc.clone() };
            Some(
                compile(&c, acls)
                    .map_err(|e| format!("error detected while parsing sticking condition : {e}."))?,
            )
        }
        Some(x) => return Err(format!("'stick': unexpected argument '{x}'.")),
    };
    Ok(StickRule { kind: line.kind, pattern, table, cond })
}

/// Compiles every proxy's rules; every error is reported with its
/// `file:line`, as configuration errors are.
pub fn compile_all(cfg: &Config, diags: &mut Diagnostics) -> Vec<ProxyRules> {
    check_caches(cfg, diags);
    check_page_formats(cfg, diags);
    // Named defaults sections' rules, once each: a proxy built from one
    // runs them before its own, as one list (HAProxy 2.6).
    let defaults: Vec<ProxyRules> =
        cfg.rule_defaults.iter().map(|d| compile_proxy(cfg, d, true, diags)).collect();
    cfg.proxies
        .iter()
        .map(|p| {
            let mut rules = compile_proxy(cfg, p, false, diags);
            if let Some(d) = p.defaults_rules.and_then(|i| defaults.get(i)) {
                rules.run_defaults_first(d);
            }
            rules
        })
        .collect()
}

impl ProxyRules {
    /// The rules of the proxy's named defaults section (`d`) go first.
    fn run_defaults_first(&mut self, d: &ProxyRules) {
        fn prepend<T: Clone>(own: &mut Vec<T>, first: &[T]) {
            own.splice(0..0, first.iter().cloned());
        }
        prepend(&mut self.tcp_connection, &d.tcp_connection);
        prepend(&mut self.tcp_session, &d.tcp_session);
        prepend(&mut self.tcp_content, &d.tcp_content);
        prepend(&mut self.tcp_response, &d.tcp_response);
        prepend(&mut self.http_request, &d.http_request);
        prepend(&mut self.http_response, &d.http_response);
        prepend(&mut self.http_after_response, &d.http_after_response);
    }
}

/// One proxy's rules (`defaults`: a named defaults section's, compiled
/// with its own ACLs and no table or servers of its own).
fn compile_proxy(cfg: &Config, p: &crate::cfg::Proxy, defaults: bool, diags: &mut Diagnostics) -> ProxyRules {
    let what = if defaults { "defaults section" } else { kind(p) };
    // All `acl` lines first: a rule may name an ACL declared after it.
    let mut acls = AclSet::new();
    for line in &p.acls {
        let name = line.words.first().map_or("", String::as_str);
        if let Err(e) = acls.add(name, line.words.get(1..).unwrap_or_default(), &line.loc) {
            diags.push(Diag::alert(&line.loc, e.to_string()));
        }
    }
    let mut rules = ProxyRules { log: super::log::ProxyLog::compile(p, diags), ..Default::default() };
    for ub in &p.use_backends {
        let cond = match ub.cond.as_ref().map(|c| compile(c, &acls)) {
            None => None,
            Some(Ok(c)) => Some(c),
            Some(Err(e)) => {
                let msg = format!("error detected while parsing switching rule : {e}.");
                diags.push(Diag::alert(&ub.backend.loc, msg));
                continue;
            }
        };
        rules.routes.push(Route { backend: ub.backend.index, cond });
    }
    for us in &p.knobs.srv.use_servers {
        let cond = match compile(&us.cond, &acls) {
            Ok(c) => c,
            Err(e) => {
                let msg = format!("error detected while parsing switching rule : {e}.");
                diags.push(Diag::alert(&us.loc, msg));
                continue;
            }
        };
        match p.servers.iter().position(|s| s.name == us.server) {
            Some(i) => rules.use_servers.push((i, cond)),
            None => diags.push(Diag::alert_global(format!(
                "{} '{}' : unable to find server '{}' referenced in a 'use-server' rule.",
                kind(p),
                p.name,
                us.server
            ))),
        }
    }
    let tables = |name: Option<&str>| match name {
        // A defaults section has no table of its own (HAProxy's message).
        None if defaults => {
            Err(format!("unable to find table '{}' (a defaults section has none: name one).", p.name))
        }
        _ => table_index(cfg, p, name),
    };
    for (layer, lines, out) in [
        ("connection", &p.tcp_request_connection, &mut rules.tcp_connection),
        ("session", &p.tcp_request_session, &mut rules.tcp_session),
        ("content", &p.tcp_request_content, &mut rules.tcp_content),
    ] {
        match compile_tcp_rules(lines, layer, &acls, &tables, &compile_var_format) {
            Ok(compiled) => {
                // `switch-mode` upgrades a frontend's streams (HAProxy's message).
                let switch =
                    |r: &&TcpRule| matches!(r.action, crate::l4_conn::track::TcpAction::SwitchHttp(_));
                if let Some(r) = compiled.iter().find(switch).filter(|_| !p.cap.frontend) {
                    let msg = format!(
                        "'tcp-request switch-mode' not allowed because backend '{}' has no frontend capability",
                        p.name
                    );
                    diags.push(Diag::alert(&r.loc, msg));
                }
                *out = compiled
            }
            Err(errors) => {
                for (loc, msg) in errors {
                    diags.push(Diag::alert(&loc, format!("error detected in {} '{}' : {msg}", what, p.name)));
                }
            }
        }
    }
    for (side, lines, out) in [
        (RuleSide::Request, &p.http_request, &mut rules.http_request),
        (RuleSide::Response, &p.http_response, &mut rules.http_response),
        (RuleSide::After, &p.http_after_response, &mut rules.http_after_response),
    ] {
        match compile_rules(lines, side, &acls, &tables) {
            Ok(compiled) => {
                for line in lines {
                    for msg in crate::l7_http::reply::warnings(&line.words) {
                        diags.push(Diag::warning(&line.loc, msg));
                    }
                }
                for r in &compiled {
                    if let Some(msg) = unknown_cache(cfg, r) {
                        diags.push(Diag::alert(&r.loc, msg));
                    }
                    if let Some(msg) = timeout_without_backend(p, r) {
                        diags.push(Diag::alert(&r.loc, msg));
                    }
                    if let Some(d) = unknown_http_errors(cfg, p, r) {
                        diags.push(d);
                    }
                    if let Some(msg) = super::capture::unknown_capture(p, side, r) {
                        diags.push(Diag::alert(&r.loc, msg));
                    }
                }
                for r in compiled.iter().filter(|r| experimental(r) && !cfg.global.expose_experimental) {
                    let msg = "'normalize-uri' action is experimental, must be allowed via a global \
                               'expose-experimental-directives'";
                    diags.push(Diag::alert(&r.loc, msg.to_owned()));
                }
                *out = compiled
            }
            Err(errors) => {
                for (loc, msg) in errors {
                    let msg = format!("error detected in {} '{}' : {msg}", what, p.name);
                    diags.push(Diag::alert(&loc, msg));
                }
            }
        }
    }
    // A TCP proxy's HTTP rules: refused when wrong, as HAProxy does, else dropped.
    let [req, res, after] = &p.ignored_http_rules;
    for (side, lines) in [(RuleSide::Request, req), (RuleSide::Response, res), (RuleSide::After, after)] {
        if let Err(errors) = compile_rules(lines, side, &acls, &tables) {
            for (loc, msg) in errors {
                diags.push(Diag::alert(&loc, format!("error detected in {} '{}' : {msg}", what, p.name)));
            }
        }
    }
    if !p.stats.rules.is_empty() && (!p.stats.auth.is_empty() || p.stats.realm.is_some()) {
        diags.push(Diag::alert_global(format!(
            "proxy '{}': stats 'auth'/'realm' and 'http-request' can't be used at the same time.",
            p.name
        )));
    }
    for rule in &p.stats.rules {
        match rule.cond.as_ref().map(|c| compile(c, &acls)) {
            None => rules.stats_rules.push((rule.action.clone(), None)),
            Some(Ok(c)) => rules.stats_rules.push((rule.action.clone(), Some(c))),
            Some(Err(e)) => {
                let loc = rule.cond.as_ref().map(|c| c.loc.clone()).unwrap_or_default();
                let msg = format!("error detected while parsing a 'stats http-request' rule : {e}.");
                diags.push(Diag::alert(&loc, msg));
            }
        }
    }
    for cond in &p.stats.admin {
        match compile(cond, &acls) {
            Ok(c) => rules.stats_admin.push(c),
            Err(e) => {
                let msg = format!("error detected while parsing a 'stats admin' rule : {e}.");
                diags.push(Diag::alert(&cond.loc, msg));
            }
        }
    }
    for line in &p.sticks {
        match compile_stick(line, &acls, &tables) {
            Ok(r) => rules.sticks.push(r),
            Err(e) => diags.push(Diag::alert(&line.loc, e)),
        }
    }
    rules.intercept = super::intercept::compile_intercepts(p, &acls, diags);
    rules.tcp_response = super::response_inspect::compile(p, &acls, &tables, diags);
    if let Some((fmt, loc)) = &p.unique_id_format {
        match crate::l7_http::logformat::LogFormat::parse(fmt) {
            Ok(f) => rules.unique_id = Some(f),
            Err(e) => diags.push(Diag::alert(loc, format!("failed to parse unique-id-format : {e}"))),
        }
    }
    for (force, c) in &p.persist_rules {
        match compile(c, &acls) {
            Ok(cond) => rules.persist_rules.push((*force, cond)),
            Err(e) => diags.push(Diag::alert(
                &c.loc,
                format!("error detected while parsing a 'force-persist' or 'ignore-persist' rule : {e}."),
            )),
        }
    }
    rules
}

/// `table NAME` (or, without a name, the rule's own proxy's table) as a
/// registry index: tables are indexed like the proxies declaring them.
/// The compiler of `tcp-request ... set-var-fmt` formats: a log-format,
/// which the rule's target (stream or session) renders back.
fn compile_var_format(text: &str) -> Result<crate::l4_conn::track::VarFormat, String> {
    let fmt = crate::l7_http::logformat::LogFormat::parse(text)?;
    Ok(std::sync::Arc::new(fmt))
}

/// Renders a format [`compile_var_format`] built, against `src`.
pub(crate) fn render_var_format(
    fmt: &crate::l4_conn::track::VarFormat,
    src: &dyn crate::l7_http::logformat::LogSource,
) -> Option<Vec<u8>> {
    let fmt = fmt.downcast_ref::<crate::l7_http::logformat::LogFormat>()?;
    Some(fmt.render(src).into_bytes())
}

fn table_index(cfg: &Config, p: &crate::cfg::Proxy, name: Option<&str>) -> Result<usize, String> {
    let wanted = name.unwrap_or(&p.name);
    match cfg.proxies.iter().position(|q| q.name == wanted && q.stick_table.is_some()) {
        Some(i) => Ok(i),
        None if name.is_none() => Err(format!("no stick-table declared in '{}' (use 'table NAME').", p.name)),
        None => Err(format!("unable to find table '{wanted}'.")),
    }
}

/// The cache a rule names must exist (HAProxy's message).
fn unknown_cache(cfg: &Config, r: &HttpRule) -> Option<String> {
    let name = match &r.action {
        HttpAction::Ext(ExtAction::CacheUse(n) | ExtAction::CacheStore(n)) => n,
        _ => return None,
    };
    (!cfg.caches.iter().any(|c| c.name == *name))
        .then(|| format!("unable to find the cache '{name}' referenced by this rule."))
}

/// `return|deny|tarpit ... errorfiles NAME` names an `http-errors` section; one
/// without a page for the status makes an empty answer (HAProxy's
/// messages).
fn unknown_http_errors(cfg: &Config, p: &crate::cfg::Proxy, r: &HttpRule) -> Option<Diag> {
    let reply = match &r.action {
        HttpAction::Deny(reply) | HttpAction::Return(reply) => reply,
        HttpAction::Ext(ExtAction::Tarpit(reply)) => reply,
        _ => return None,
    };
    let Some(crate::l7_http::reply::PageRef { section: Some(name), code, .. }) = reply.page() else {
        return None;
    };
    let Some(s) = cfg.http_errors.iter().find(|s| s.name == *name) else {
        return Some(Diag::alert(
            &r.loc,
            format!("unknown http-errors section '{name}' referenced by http reply."),
        ));
    };
    (!s.pages.iter().any(|pg| pg.code == *code)).then(|| {
        let msg = format!(
            "Proxy '{}': status '{code}' referenced by an http reply not declared in http-errors section '{name}'.",
            p.name
        );
        Diag::warning(&r.loc, msg)
    })
}

/// The log-format parts of `http-error` pages, checked once per line
/// (pages from `defaults` are every proxy's).
fn check_page_formats(cfg: &Config, diags: &mut Diagnostics) {
    let mut seen: Vec<&crate::cfg::Loc> = Vec::new();
    let lines = cfg.proxies.iter().flat_map(|p| &p.knobs.error_lines);
    for page in lines
        .filter_map(|d| if let crate::cfg::errorpages::ErrorDirective::Page(p) = d { Some(p) } else { None })
    {
        let Some(f) = page.format.as_ref().filter(|f| !seen.contains(&&f.loc)) else { continue };
        seen.push(&f.loc);
        if let Err(e) = crate::l7_http::reply::DynReply::from_page(page.code, f) {
            diags.push(Diag::alert(&f.loc, format!("http-error : {e}")));
        }
    }
}

/// `set-timeout` changes a backend's timeouts: a proxy without the
/// backend capability cannot have it (HAProxy's message).
fn timeout_without_backend(p: &crate::cfg::Proxy, r: &HttpRule) -> Option<String> {
    let set_timeout = matches!(r.action, HttpAction::Ext(ExtAction::SetTimeout { .. }));
    (set_timeout && !p.cap.backend).then(|| {
        format!(
            "error detected in {} '{}' while parsing 'http-request set-timeout' rule : proxy '{}' has no backend capability.",
            kind(p),
            p.name,
            p.name
        )
    })
}

/// Each `cache` section has a size and a sane object limit.
pub fn check_caches(cfg: &Config, diags: &mut Diagnostics) {
    for c in &cfg.caches {
        if c.total_max_size == 0 {
            diags.push(Diag::alert(&c.loc, format!("Size not specified for cache '{}'", c.name)));
        }
        if let Some(m) = c.max_object_size
            && m > c.total_max_size / 2
        {
            diags.push(Diag::alert(
                &c.loc,
                format!(
                    "\"max-object-size\" is limited to an half of \"total-max-size\" => {}",
                    c.total_max_size / 2
                ),
            ));
        }
    }
}

/// HAProxy 2.6's experimental actions (`normalize-uri`).
fn experimental(r: &HttpRule) -> bool {
    matches!(r.action, HttpAction::Ext(ExtAction::Normalize(_)))
}

pub(super) fn kind(p: &crate::cfg::Proxy) -> &'static str {
    match (p.cap.frontend, p.cap.backend) {
        (true, true) => "proxy",
        (true, false) => "frontend",
        _ => "backend",
    }
}
