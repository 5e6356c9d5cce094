//! Section bookkeeping: which section a line belongs to, section headers
//! (`global`, `defaults [NAME] [from D]`, `frontend|backend|listen NAME
//! [from D]`) and defaults inheritance.
//!
//! Inheritance follows HAProxy 2.6: a proxy starts as a copy of the most
//! recent `defaults` section above it (named or not, across files), or of
//! the one named by `from`. A `defaults` section starts fresh unless it has
//! a `from` itself.

use super::{global, proxy};
use crate::cfg::balance::Balance;
use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::model::{Cap, Config, HttpReuse, Loc, Mode, Options, Proxy, Timeouts};

/// HAProxy sections strata does not implement: their header is an alert
/// and their body is skipped (it would only add misleading alerts).
const UNSUPPORTED_SECTIONS: [&str; 2] = ["mailers", "program"];

/// The kind of a proxy-like section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Defaults,
    Frontend,
    Backend,
    Listen,
}

impl Kind {
    /// The section keyword.
    pub(super) fn keyword(self) -> &'static str {
        match self {
            Kind::Defaults => "defaults",
            Kind::Frontend => "frontend",
            Kind::Backend => "backend",
            Kind::Listen => "listen",
        }
    }

    /// What HAProxy calls such a proxy in messages (`proxy` for a listen).
    pub(super) fn type_str(self) -> &'static str {
        match self {
            Kind::Defaults => "defaults",
            Kind::Frontend => "frontend",
            Kind::Backend => "backend",
            Kind::Listen => "proxy",
        }
    }

    fn cap(self) -> Cap {
        match self {
            Kind::Frontend => Cap { frontend: true, backend: false },
            Kind::Backend => Cap { frontend: false, backend: true },
            Kind::Defaults | Kind::Listen => Cap { frontend: true, backend: true },
        }
    }
}

/// A proxy-like section being read.
pub(super) struct Open {
    pub kind: Kind,
    pub px: Proxy,  // a defaults section is kept as a template proxy
    pub keep: bool, // false when the header was invalid: the body is checked, then dropped
}

/// A closed `defaults` section and how proxies used it.
struct Defaults {
    px: Proxy,               // the settings, as a template proxy (anonymous: name "")
    explicit: bool,          // named by a `from`
    implicit: bool,          // inherited as the most recent defaults section
    rules_at: Option<usize>, // its index in `Config::rule_defaults` once a proxy runs its rules
    used_as: Option<Kind>,   // the kind of the proxies running its rules (`defaults_rules.rs`)
}

/// The section the next line belongs to.
#[derive(Default)]
enum Current {
    #[default]
    Out,
    Global,
    Proxy(Box<Open>),
    Skipped,    // an unsupported section, already reported
    Userlist,   // the last of `cfg.userlists`
    HttpErrors, // the last of `cfg.http_errors`
    Peers(Box<super::peers::OpenPeers>),
    Cache,      // the last of `cfg.caches`
    Ring,       // the last of `cfg.rings`
    LogForward, // the last of `cfg.log_forwards`
    Fcgi,       // an `fcgi-app` section (`fcgi.rs`)
    Resolvers,  // the last of `cfg.resolvers`
}

/// Parser state across lines and files.
#[derive(Default)]
pub(super) struct Sections {
    cfg: Config,
    cur: Current,
    defaults: Vec<Defaults>,       // closed `defaults` sections in order
    last_defaults: Option<usize>,  // index in `defaults` of the most recent one
    name: String,                  // `${.SECTION}`: the last header's name, else its keyword
    fcgi_apps: Vec<(String, Loc)>, // `fcgi-app` sections declared so far
}

impl Sections {
    /// Handles one non-empty line.
    pub(super) fn line(&mut self, loc: &Loc, words: &[String], diags: &mut Diagnostics) {
        let kw = words[0].as_str();
        // Every section keyword must be listed here for `${.SECTION}`.
        if matches!(
            kw,
            "global"
                | "defaults"
                | "frontend"
                | "backend"
                | "listen"
                | "ring"
                | "log-forward"
                | "fcgi-app"
                | "resolvers"
        ) || UNSUPPORTED_SECTIONS.contains(&kw)
        {
            self.name = words.get(1).filter(|w| !w.is_empty()).unwrap_or(&words[0]).clone();
        }
        let kind = match kw {
            "defaults" => Some(Kind::Defaults),
            "frontend" => Some(Kind::Frontend),
            "backend" => Some(Kind::Backend),
            "listen" => Some(Kind::Listen),
            _ => None,
        };
        if let Some(kind) = kind {
            self.close();
            self.open_proxy(kind, loc, words, diags);
            return;
        }
        if kw == "global" {
            self.close();
            if let Some(extra) = words.get(1) {
                diags
                    .push(Diag::alert(loc, format!("'global' cannot handle unexpected argument '{extra}'.")));
            }
            self.cur = Current::Global;
            return;
        }
        if kw == "cache" {
            self.close();
            match super::cache::open(&self.cfg, words, loc) {
                Ok(c) => {
                    self.cfg.caches.push(c);
                    self.cur = Current::Cache;
                }
                Err(e) => {
                    diags.push(Diag::alert(loc, e));
                    self.cur = Current::Skipped;
                }
            }
            return;
        }
        if kw == "ring" || kw == "log-forward" {
            self.close();
            let opened = if kw == "ring" {
                super::syslog::open_ring(&self.cfg, words, loc)
                    .map(|r| self.cfg.rings.push(r))
                    .map(|()| Current::Ring)
            } else {
                super::syslog::open_log_forward(&self.cfg, words, loc)
                    .map(|f| self.cfg.log_forwards.push(f))
                    .map(|()| Current::LogForward)
            };
            self.cur = opened.unwrap_or_else(|e| {
                diags.push(Diag::alert(loc, e));
                Current::Skipped
            });
            return;
        }
        if kw == "resolvers" {
            self.close();
            match super::resolvers::open(&self.cfg, words, loc, diags) {
                Some(r) => {
                    self.cfg.resolvers.push(r);
                    self.cur = Current::Resolvers;
                }
                None => self.cur = Current::Skipped,
            }
            return;
        }
        if kw == "userlist" {
            self.close();
            match super::userlist::open(&self.cfg, words, loc) {
                Ok(list) => {
                    self.cfg.userlists.push(list);
                    self.cur = Current::Userlist;
                }
                Err(e) => {
                    diags.push(Diag::alert(loc, e));
                    self.cur = Current::Skipped;
                }
            }
            return;
        }
        if kw == "http-errors" {
            self.close();
            match super::errors::open_section(words, loc, &self.cfg.http_errors) {
                Ok(section) => {
                    self.cfg.http_errors.push(section);
                    self.cur = Current::HttpErrors;
                }
                Err(e) => {
                    diags.push(Diag::alert(loc, e));
                    self.cur = Current::Skipped;
                }
            }
            return;
        }
        if kw == "fcgi-app" {
            self.close();
            self.cur = match super::fcgi::open(words, loc, &self.fcgi_apps) {
                Ok(app) => {
                    self.fcgi_apps.push(app);
                    Current::Fcgi
                }
                Err(e) => {
                    diags.push(Diag::alert(loc, e));
                    Current::Skipped
                }
            };
            return;
        }
        if kw == "peers" {
            self.close();
            self.cur = Current::Peers(Box::new(super::peers::open(&self.cfg, loc, words, diags)));
            return;
        }
        if UNSUPPORTED_SECTIONS.contains(&kw) {
            self.close();
            diags.push(Diag::alert(loc, format!("section '{kw}' is not supported by strata yet.")));
            self.cur = Current::Skipped;
            return;
        }
        match &mut self.cur {
            // HAProxy writes this one without the blank before the colon
            Current::Out => diags
                .push(Diag::alert_global(format!("parsing [{loc}]: unknown keyword '{kw}' out of section."))),
            Current::Global if kw == "localpeer" => super::peers::localpeer(&mut self.cfg, words, loc, diags),
            Current::Global => {
                if super::ssl_global::keyword(&mut self.cfg.global.ssl, words, loc, diags) {
                    return;
                }
                super::ids::note_cli_proxy(&mut self.cfg, words);
                if let Err(e) = global::keyword(&mut self.cfg.global, words, loc, diags) {
                    diags.push(Diag::alert(loc, e));
                }
            }
            Current::Proxy(open) => proxy::keyword(open, words, loc, diags),
            Current::Peers(open) => super::peers::keyword(open, words, loc, diags),
            Current::Skipped => {}
            Current::Fcgi => {
                if let Err(e) = super::fcgi::line(words) {
                    diags.push(Diag::alert(loc, e));
                }
            }
            Current::HttpErrors => {
                if let Some(section) = self.cfg.http_errors.last_mut()
                    && let Err(e) = super::errors::section_line(section, words)
                {
                    diags.push(Diag::alert(loc, e));
                }
            }
            Current::Cache => {
                if let Some(c) = self.cfg.caches.last_mut()
                    && let Err(e) = super::cache::keyword(c, words)
                {
                    diags.push(Diag::alert(loc, e));
                }
            }
            Current::Ring => {
                if let Some(r) = self.cfg.rings.last_mut()
                    && let Err(e) = super::syslog::ring_line(r, words)
                {
                    diags.push(Diag::alert(loc, e));
                }
            }
            Current::LogForward => {
                let res = match self.cfg.log_forwards.pop() {
                    Some(mut f) => {
                        let res = super::syslog::log_forward_line(&mut f, &self.cfg, words, loc);
                        self.cfg.log_forwards.push(f);
                        res
                    }
                    None => Ok(()),
                };
                if let Err(e) = res {
                    diags.push(Diag::alert(loc, e));
                }
            }
            Current::Resolvers => {
                if let Some(r) = self.cfg.resolvers.last_mut() {
                    super::resolvers::keyword(r, words, loc, diags);
                }
            }
            Current::Userlist => {
                if let Some(list) = self.cfg.userlists.last_mut()
                    && let Err(e) = super::userlist::keyword(list, words)
                {
                    diags.push(Diag::alert(loc, e));
                }
            }
        }
    }

    /// The current section's name, as `${.SECTION}` expands (empty before
    /// any section).
    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// Ends the section in progress (at a new header or the end of a file).
    pub(super) fn close(&mut self) {
        let cur = std::mem::take(&mut self.cur);
        if let Current::Peers(open) = cur {
            return super::peers::close(&mut self.cfg, *open);
        }
        if let Current::Proxy(open) = cur {
            let Open { kind, mut px, keep } = *open;
            if kind == Kind::Defaults {
                self.defaults.push(Defaults {
                    px,
                    explicit: false,
                    implicit: false,
                    rules_at: None,
                    used_as: None,
                });
                self.last_defaults = Some(self.defaults.len() - 1);
            } else if keep {
                super::server::number(&mut px.servers);
                self.cfg.proxies.push(px);
            }
        }
    }

    /// An environment variable as the lines read so far see it
    /// (`setenv` and friends apply from their line on).
    pub(super) fn env_lookup(&self, name: &str) -> Option<String> {
        super::process::env_lookup(&self.cfg.global.process.env, name)
    }

    /// Ends parsing and hands the configuration over.
    pub(super) fn finish(mut self) -> Config {
        self.close();
        self.cfg
    }

    /// Reads a proxy-like header and starts its section.
    fn open_proxy(&mut self, kind: Kind, loc: &Loc, words: &[String], diags: &mut Diagnostics) {
        let kwd = kind.keyword();
        let mut keep = true;
        let mut alert = |msg: String| diags.push(Diag::alert(loc, msg));
        // `defaults` may be anonymous, even with a `from`.
        let named = words.get(1).is_some_and(|w| kind != Kind::Defaults || w != "from");
        let name = if named { words[1].clone() } else { String::new() };
        if kind != Kind::Defaults && name.is_empty() {
            alert(format!("'{kwd}' expects an <id> argument"));
            keep = false;
        } else if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c))) {
            alert(format!("character '{c}' is not permitted in '{kwd}' name '{name}'."));
            keep = false;
        }
        let rest = &words[if named { 2 } else { 1 }..];
        let from = match rest {
            [] => None,
            [f, d, extra @ ..] if f == "from" => {
                if let Some(x) = extra.first() {
                    alert(format!("'{kwd}' cannot handle unexpected argument '{x}'."));
                }
                Some(d.as_str())
            }
            [x, ..] if kind == Kind::Defaults => {
                alert(format!("'{kwd}' cannot handle unexpected argument '{x}'."));
                None
            }
            _ => {
                alert("please use the 'bind' keyword for listening addresses.".into());
                None
            }
        };
        let template = match from {
            Some(d) => {
                let found = self.defaults.iter().rposition(|t| !d.is_empty() && t.px.name == d);
                if found.is_none() {
                    alert(format!("defaults section '{d}' not found for {} '{name}'.", kind.type_str()));
                }
                found.map(|i| (i, true))
            }
            None if kind == Kind::Defaults => None,
            None => self.last_defaults.map(|i| (i, false)),
        };
        let mut unresolved = Vec::new(); // alerts at the defaults' rule lines
        let template = template.and_then(|(i, explicit)| {
            let t = self.defaults.get_mut(i)?;
            if super::defaults_rules::has_rules(&t.px) {
                match super::defaults_rules::may_inherit(kind, &t.px, &mut t.used_as) {
                    Err(e) => alert(e),
                    Ok(()) if t.rules_at.is_none() => {
                        t.rules_at = Some(self.cfg.rule_defaults.len());
                        self.cfg.rule_defaults.push(t.px.clone());
                        unresolved = super::defaults_rules::unresolved_servers(&t.px);
                    }
                    Ok(()) => {}
                }
            }
            // HAProxy refuses a named defaults section used both ways.
            let mixed = if explicit { t.implicit } else { t.explicit && !t.px.name.is_empty() };
            if mixed {
                alert(format!(
                    "defaults section '{}' (declared at {}) is explicitly referenced by another proxy and \
                     implicitly used here. To avoid any ambiguity don't mix both usage. Add a last defaults \
                     section not explicitly used or always use explicit references.",
                    t.px.name, t.px.loc
                ));
            }
            if explicit {
                t.explicit = true;
            } else {
                t.implicit = true;
            }
            Some(&*t)
        });
        for (at, msg) in unresolved {
            diags.push(Diag::alert(&at, msg));
        }
        let rules = template.and_then(|t| t.rules_at.filter(|_| t.used_as == Some(kind)));
        let mut px = inherit(template.map(|t| &t.px), name, loc, kind.cap());
        px.defaults_rules = rules;
        self.cur = Current::Proxy(Box::new(Open { kind, px, keep }));
    }
}

/// A new proxy: a copy of the inheritable settings of `template` (a
/// defaults section), or HAProxy's built-in defaults without one.
pub(super) fn inherit(template: Option<&Proxy>, name: String, loc: &Loc, cap: Cap) -> Proxy {
    let mut px = Proxy {
        name,
        loc: loc.clone(),
        cap,
        id: 0,
        mode: Mode::Tcp,
        binds: Vec::new(),
        maxconn: None,
        timeouts: Timeouts::default(),
        default_backend: None,
        use_backends: Vec::new(),
        servers: Vec::new(),
        default_server: Default::default(),
        balance: Balance::RoundRobin,
        balance_set: false,
        dispatch: None,
        hash_type: Default::default(),
        hash_balance_factor: 0,
        retries: 3,
        options: Options::default(),
        logs: Vec::new(),
        log_global: None,
        checks: Default::default(),
        http_reuse: HttpReuse::default(),
        acls: Vec::new(),
        http_request: Vec::new(),
        http_response: Vec::new(),
        http_after_response: Vec::new(),
        ignored_http_rules: Default::default(),
        stick_table: None,
        tcp_request_connection: Vec::new(),
        tcp_request_session: Vec::new(),
        tcp_request_content: Vec::new(),
        inspect_delay: None,
        tcp_response_content: Vec::new(),
        res_inspect_delay: None,
        knobs: Default::default(),
        stats: Default::default(),
        compression: None,
        filters: Vec::new(),
        cookie: None,
        persist_rules: Vec::new(),
        sticks: Vec::new(),
        unique_id_format: None,
        unique_id_header: None,
        captures: Default::default(),
        intercept: Default::default(),
        defaults_rules: None,
    };
    if let Some(t) = template {
        px.mode = t.mode;
        px.timeouts = t.timeouts;
        px.balance = t.balance.clone();
        px.hash_type = t.hash_type;
        px.hash_balance_factor = t.hash_balance_factor;
        px.retries = t.retries;
        px.inspect_delay = t.inspect_delay;
        px.res_inspect_delay = t.res_inspect_delay;
        px.options = t.options;
        px.logs = t.logs.clone();
        px.log_global = t.log_global;
        px.checks = t.checks.clone();
        // The proxy's own first rule line replaces the inherited rules.
        px.checks.tcp.own = false;
        px.checks.http.own = false;
        px.http_reuse = t.http_reuse;
        px.default_server = t.default_server.clone();
        px.knobs = t.knobs.clone();
        px.knobs.description = None;
        px.knobs.custom_id = None;
        px.stats = t.stats.clone();
        px.intercept.monitor_uri = t.intercept.monitor_uri.clone();
        px.compression = t.compression.clone();
        if cap.backend {
            px.cookie = t.cookie.clone();
        }
        if cap.frontend {
            px.unique_id_format = t.unique_id_format.clone();
            px.unique_id_header = t.unique_id_header.clone();
        }
        px.knobs.server_state_file_name = None;
        px.knobs.srv.send_name_header = None; // HAProxy 2.6 does not inherit it
        if cap.frontend {
            px.maxconn = t.maxconn;
            px.default_backend = t.default_backend.clone();
        }
    }
    px
}
