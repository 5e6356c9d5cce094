//! The immutable configuration every worker reads: what `cfg::load` returns.
//!
//! Built by `cfg::parser` (syntax, per-section keywords, defaults inheritance)
//! and completed by `cfg::resolve` (names → indices, cross-section checks).
//! After `load` returns, nothing mutates it; runtime state (server up/down,
//! counters) lives in the runtime's own types.

use super::balance::{Balance, HashType};
use super::server::Server;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Where a configuration item was written: file name as given on the
/// command line and 1-based line number. Printed as `file:line`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Loc {
    pub file: String, // path as given with -f
    pub line: usize,  // 1-based
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// The whole configuration: one `global` and every proxy in file order.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub global: Global,                                       // the `global` section(s), merged
    pub proxies: Vec<Proxy>, // frontends, backends and listens, in declaration order
    pub userlists: Vec<Userlist>, // `userlist` sections (`http_auth`)
    pub http_errors: Vec<crate::cfg::errorpages::HttpErrors>, // `http-errors` sections (`errorfiles`)
    pub peers: Vec<crate::cfg::peers::PeersSection>, // `peers` sections, in declaration order
    pub localpeer: Option<(String, Loc)>, // the `localpeer` global keyword
    pub local_peer_name: String, // the local peer name in effect (-L, localpeer, host name; set by resolve)
    pub caches: Vec<CacheDef>, // `cache` sections
    pub rings: Vec<super::syslog::RingDef>, // `ring` sections
    pub log_forwards: Vec<super::syslog::LogForwardDef>, // `log-forward` sections
    pub cli_proxy_at: Option<usize>, // HAProxy's internal CLI proxy: how many proxies precede it (it takes an id)
    pub resolvers: Vec<crate::cfg::resolvers::ResolversSection>, // `resolvers` sections
    pub rule_defaults: Vec<Proxy>, // named `defaults` sections with TCP/HTTP rules a proxy runs first (`Proxy::defaults_rules`)
}

/// A `cache NAME` section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheDef {
    pub name: String,
    pub loc: Loc,
    pub total_max_size: u64,          // bytes (`total-max-size` is in megabytes)
    pub max_object_size: Option<u64>, // bytes; None: a 256th of the cache
    pub max_age: u64,                 // seconds, default 60
    pub process_vary: bool,           // default off
    pub max_secondary_entries: u32,   // default 10
}

/// A `userlist NAME` section: users with their password and groups.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Userlist {
    pub name: String,
    pub loc: Loc,
    pub users: Vec<User>,
    pub groups: Vec<String>, // declared group names
}

/// `user NAME password HASH | insecure-password PASS [groups G1,G2]`
/// (and the `group G users U1,U2` lines naming this user).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub password: Password,
    pub groups: Vec<String>,
}

/// How a user's password is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Password {
    Crypt(String), // a crypt(3) hash: `$6$` SHA-512, `$5$` SHA-256, `$1$` MD5, DES
    Plain(String), // `insecure-password`
    Unset,         // named by a `group ... users` line only: never authenticates
}

impl Config {
    /// Finds a proxy by name (proxy names are unique after `resolve`).
    pub fn proxy(&self, name: &str) -> Option<&Proxy> {
        self.proxies.iter().find(|p| p.name == name)
    }

    /// Whether the process would listen on anything: an enabled proxy
    /// with a `bind`, a `stats socket`, an enabled `peers` section with
    /// its local peer, or a `log-forward` bind. HAProxy 2.6 refuses to
    /// start without one (`-c`: "will not start (no listener)", exit 2).
    pub fn has_listener(&self) -> bool {
        self.proxies.iter().any(|p| !p.knobs.disabled && !p.binds.is_empty())
            || !self.global.stats_sockets.is_empty()
            || self.peers.iter().any(|s| !s.disabled && s.local.is_some())
            || self.log_forwards.iter().any(|l| !l.binds.is_empty() || !l.dgram_binds.is_empty())
    }
}

/// `global` section settings.
#[derive(Clone, Debug)]
pub struct Global {
    pub set_vars: Vec<GlobalSetVar>, // `set-var` / `set-var-fmt` lines, evaluated once at start
    pub maxconn: Option<u32>,        // None: derived from the fd limit at start-up, as HAProxy does
    pub rate_limits: crate::cfg::process::RateLimits, // `maxconnrate`, `maxsessrate`, `maxsslrate`
    pub nbthread: u32,               // worker threads (`nbthread`, 1..=64, default 1)
    pub cpu_map: Vec<crate::cfg::threads::CpuMap>, // `cpu-map` lines, in order (the last naming a thread wins)
    pub logs: Vec<LogTarget>,                      // `log` lines, used by proxies with `log global`
    pub stats_sockets: Vec<StatsSocket>,           // `stats socket` lines (served by cli/)
    pub stats_timeout: Duration,                   // `stats timeout`, default 10s
    pub h1_accept_payload_with_any_method: bool, // HTTP/1.0 GET/HEAD/DELETE may carry a body (else 413, as HAProxy)
    pub thread_group_threads: Option<u64>, // `thread-group 1 THREADS`: the threads named (bit n: thread n+1); None: all
    pub stats_maxconn: u32, // `stats maxconn`, default 10: live connections of a stats socket without its own `maxconn` (and its default backlog)
    pub node: Option<String>, // `node`
    pub description: Option<String>, // `description` (words joined by one space)
    pub pidfile: Option<PathBuf>, // `pidfile` (the -p option overrides it)
    pub tune_bufsize: usize, // `tune.bufsize`, default 16384
    pub ulimit_n: Option<u32>, // `ulimit-n`: RLIMIT_NOFILE to set at start-up
    pub expose_experimental: bool, // `expose-experimental-directives` (allows `normalize-uri`)
    pub process: crate::cfg::process::Process, // identity, chroot, daemon, stop delays, env edits...
    pub tune: crate::cfg::process::Tune, // the other `tune.*` knobs strata obeys
    pub ssl: super::ssl::GlobalSsl, // SSL defaults (`ssl-default-*`, `tune.ssl.*`, `crt-base`)
    pub h2: H2Tune,         // `tune.h2.*`
}

/// `tune.h2.*`: the HTTP/2 settings announced to peers (HAProxy 2.6's
/// defaults; `max-header-list-size` is strata's, default `tune.bufsize`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct H2Tune {
    pub header_table_size: u32,      // SETTINGS_HEADER_TABLE_SIZE, default 4096
    pub initial_window_size: u32,    // SETTINGS_INITIAL_WINDOW_SIZE, default 65535
    pub max_concurrent_streams: u32, // SETTINGS_MAX_CONCURRENT_STREAMS, default 100
    pub max_frame_size: u32,         // SETTINGS_MAX_FRAME_SIZE, default 16384
    pub max_header_list_size: u32,   // decoded header list budget; 0: tune.bufsize
    pub no_ext_connect: bool, // `h2-workaround-bogus-websocket-clients`: no SETTINGS_ENABLE_CONNECT_PROTOCOL
}

impl H2Tune {
    /// Concurrent streams per connection at most: each live stream's server
    /// connection needs a token sub-index of its session (1..=249; 250 and
    /// up are the worker's own sockets: HTTP/2 servers, peers, refusals...).
    pub const MAX_STREAMS: u32 = 249;
}

impl Default for H2Tune {
    fn default() -> Self {
        H2Tune {
            header_table_size: 4096,
            initial_window_size: 65_535,
            max_concurrent_streams: 100,
            max_frame_size: 16_384,
            max_header_list_size: 0,
            no_ext_connect: false,
        }
    }
}

impl Default for Global {
    fn default() -> Self {
        Global {
            maxconn: None,
            rate_limits: Default::default(),
            set_vars: Vec::new(),
            nbthread: 1,
            cpu_map: Vec::new(),
            logs: Vec::new(),
            stats_sockets: Vec::new(),
            stats_timeout: Duration::from_secs(10),
            stats_maxconn: 10,
            h1_accept_payload_with_any_method: false,
            thread_group_threads: None,
            node: None,
            description: None,
            pidfile: None,
            tune_bufsize: 16384,
            ulimit_n: None,
            expose_experimental: false,
            process: Default::default(),
            tune: Default::default(),
            ssl: Default::default(),
            h2: H2Tune::default(),
        }
    }
}

/// One `log` target: `log <target> [len N] [format F] <facility> [level [minlevel]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogTarget {
    pub addr: LogAddr,            // where lines go
    pub format: LogFormat,        // `format`, default rfc3164
    pub maxlen: usize,            // `len`, default 1024
    pub facility: String,         // e.g. `local0`
    pub level: Option<String>,    // max level sent, e.g. `info`
    pub minlevel: Option<String>, // min level sent, e.g. `notice`
    pub loc: Loc,
}

/// Destination of a log target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogAddr {
    Stdout,
    Stderr,
    Udp(SocketAddr), // `127.0.0.1:514`, `ipv4@..`, `udp@..`; default port 514
    Unix(PathBuf),   // `/dev/log`
    Ring(String),    // `ring@NAME`: the events of a `ring` section
}

/// Log line framing, as HAProxy's `format` keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Legacy,  // no `format`: RFC 3164 without the hostname field
    Rfc3164, // `format rfc3164`: with a hostname field
    Rfc5424,
    Short,
    Raw,
    Priority, // `<PRI>` then the message
    Timed,    // `<LEVEL>` and an ISO 8601 date
    Iso,      // an ISO 8601 date
}

/// One `stats socket` line: what the runtime's CLI listener binds and how
/// its conversations answer. Built by `cfg::parser::stats`, read by
/// `runtime::cli_port`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatsSocket {
    pub addr: ListenAddr,                   // TCP address or unix path
    pub level: AccessLevel,                 // `level`, default operator
    pub severity: SeverityOutput,           // `severity-output`, default none
    pub expose_fd: bool,                    // `expose-fd listeners`
    pub opts: crate::cfg::listen::BindOpts, // the `bind` options the line carries (mode/uid/gid, backlog, maxconn, accept-proxy...)
    pub loc: Loc,
}

/// `severity-output none|number|string` of a stats socket (and the CLI's
/// `set severity-output`): how a command's message answer is prefixed
/// with its syslog severity (`[3]: ` or `[err]: `), as HAProxy 2.6 does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SeverityOutput {
    #[default]
    None,
    Number,
    String,
}

impl SeverityOutput {
    /// The value of a `severity-output` word, if it is one.
    pub fn parse(word: &str) -> Option<SeverityOutput> {
        match word {
            "none" => Some(SeverityOutput::None),
            "number" => Some(SeverityOutput::Number),
            "string" => Some(SeverityOutput::String),
            _ => None,
        }
    }
}

/// A listening address: TCP (ipv4/ipv6), a unix socket path, a name in
/// Linux's abstract unix namespace (`abns@`), or a listening socket the
/// parent process passed in (`fd@N`, checked when parsed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenAddr {
    Tcp(SocketAddr),
    Unix(PathBuf),
    Abns(String),
    Fd(i32),
}

/// Runtime API access level, ordered: user < operator < admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum AccessLevel {
    User,
    Operator,
    Admin,
}

/// `mode tcp|http`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Tcp,
    Http,
}

/// What a proxy section can do: `frontend` (fe), `backend` (be), `listen` (both).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cap {
    pub frontend: bool,
    pub backend: bool,
}

/// A `frontend`, `backend` or `listen` section after defaults were applied.
#[derive(Clone, Debug)]
pub struct Proxy {
    pub name: String,
    pub loc: Loc, // line of the section header
    pub cap: Cap,
    pub id: u32, // HAProxy's uuid (`iid`, `be_id`, `fe_id`): the `id` line, else the first free one (cfg/parser/ids.rs)
    pub mode: Mode,
    pub binds: Vec<Bind>,     // frontend side only
    pub maxconn: Option<u32>, // frontend `maxconn`; None: the global maxconn
    pub timeouts: Timeouts,
    pub default_backend: Option<ProxyRef>,
    pub use_backends: Vec<UseBackend>, // in declaration order; first match wins
    pub servers: Vec<Server>,          // backend side only
    pub default_server: Server,        // `default-server`: what each `server` line starts from
    pub balance: Balance,
    pub balance_set: bool, // a `balance` line applies (here or in its defaults)
    pub dispatch: Option<std::net::SocketAddr>, // `dispatch IP:PORT`: the one address without `balance`
    pub hash_type: HashType, // `hash-type`, default map-based sdbm
    pub hash_balance_factor: u32, // `hash-balance-factor`, 0: off
    pub retries: u32,      // `retries`, default 3
    pub log_global: Option<usize>, // `log global` written: where in `logs` resolve inserts the global targets
    pub options: Options,
    pub logs: Vec<LogTarget>, // effective targets (`log global` expanded)
    pub checks: super::checks::ProxyChecks, // health-check options and `tcp-check`/`http-check` rules
    pub http_reuse: HttpReuse, // `http-reuse`, default safe
    pub acls: Vec<RuleLine>,  // `acl NAME FETCH ...` lines (words after `acl`)
    pub http_request: Vec<RuleLine>, // `http-request ...` lines (words after the keyword)
    pub http_response: Vec<RuleLine>, // `http-response ...` lines
    pub http_after_response: Vec<RuleLine>, // `http-after-response ...` lines
    pub ignored_http_rules: [Vec<RuleLine>; 3], // a TCP proxy's http-request/-response/-after-response lines: checked, never run
    pub stick_table: Option<crate::stick::TableDef>, // `stick-table` (named after the proxy)
    pub tcp_request_connection: Vec<RuleLine>,  // `tcp-request connection ...` (words after `connection`)
    pub tcp_request_session: Vec<RuleLine>,     // `tcp-request session ...`
    pub tcp_request_content: Vec<RuleLine>,     // `tcp-request content ...`
    pub inspect_delay: Option<Duration>,        // `tcp-request inspect-delay`
    pub tcp_response_content: Vec<RuleLine>,    // `tcp-response content ...` (words after `content`)
    pub res_inspect_delay: Option<Duration>,    // `tcp-response inspect-delay`
    pub knobs: crate::cfg::knobs::Knobs,        // socket, HTTP and log options, identity, limits
    pub stats: StatsPage,                       // `stats enable|uri|auth|...`: the HTTP stats page
    pub compression: Option<Compression>,       // `compression ...` lines
    pub filters: Vec<Filter>,                   // `filter ...` lines, in order
    pub cookie: Option<CookiePersist>,          // `cookie NAME ...` (backend persistence)
    pub persist_rules: Vec<(bool, Cond)>, // `force-persist` (true) / `ignore-persist` (false) rules, in order
    pub sticks: Vec<StickLine>,           // `stick on|match|store-request|store-response ...`
    pub unique_id_format: Option<(String, Loc)>, // `unique-id-format FMT`
    pub unique_id_header: Option<String>, // `unique-id-header NAME`
    pub captures: crate::cfg::capture::Captures, // `capture ...`, `declare capture`, capture rules' slots (frontend)
    pub intercept: crate::cfg::intercept::Intercept, // `monitor-uri`, `monitor fail`, `redirect`
    pub defaults_rules: Option<usize>, // index in `Config::rule_defaults`: the defaults whose rules run before this proxy's
}

/// `cookie NAME [rewrite|insert|prefix] [indirect] [nocache] [postonly]
/// [preserve] [httponly] [secure] [domain D]* [maxidle T] [maxlife T] [attr V]*`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CookiePersist {
    pub name: String,
    pub mode: CookieMode,
    pub indirect: bool,
    pub nocache: bool,
    pub postonly: bool,
    pub preserve: bool,
    pub httponly: bool,
    pub secure: bool,
    pub domains: Vec<String>,
    pub maxidle: u32, // seconds, 0: none
    pub maxlife: u32, // seconds, 0: none
    pub attrs: Vec<String>,
}

/// How the persistence cookie is carried.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CookieMode {
    #[default]
    Rewrite, // the server sets it, strata puts the server's value in
    Insert, // strata sets it
    Prefix, // the server's own cookie gets `VALUE~` in front
}

/// Which `stick` rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StickKind {
    On,            // match, then store at the request
    Match,         // look the server up
    StoreRequest,  // remember the server for a request pattern
    StoreResponse, // remember the server for a response pattern
}

/// A `stick` line kept as words (pattern, `table T`, condition) until the
/// rule compiler reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StickLine {
    pub kind: StickKind,
    pub words: Vec<String>, // after `stick on|match|...`
    pub loc: Loc,
}

/// `compression algo|type|offload|minsize-res` of one proxy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Compression {
    pub algos: Vec<CompAlgo>, // in the order HAProxy tries them (the last configured first)
    pub types: Vec<String>,   // Content-Type prefixes; empty: every type
    pub offload: bool,        // remove Accept-Encoding from requests to the server
    pub minsize_res: u64,     // smaller known-length responses are sent as they are (0: none, as HAProxy 2.6)
}

/// A compression algorithm, by its configuration name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompAlgo {
    Identity,
    Gzip,
    Deflate,    // zlib-wrapped deflate (`Content-Encoding: deflate`)
    RawDeflate, // bare deflate, announced as `deflate`
}

impl CompAlgo {
    /// The token in `Accept-Encoding` / `Content-Encoding`.
    pub fn token(self) -> &'static str {
        match self {
            CompAlgo::Identity => "identity",
            CompAlgo::Gzip => "gzip",
            CompAlgo::Deflate | CompAlgo::RawDeflate => "deflate",
        }
    }
}

/// A `filter` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    Compression,
    Cache(String), // `filter cache NAME`
}

/// A reference to a proxy by name, filled with its index by `resolve`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyRef {
    pub name: String,
    pub loc: Loc,
    pub index: usize, // index into Config::proxies (valid after resolve)
}

/// One listening address of a frontend (a comma list gives several).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bind {
    pub addr: SocketAddr, // for `fd@N`: the inherited socket's own address
    pub fd: Option<i32>,  // `fd@N`: adopt this listening socket instead of binding
    pub loc: Loc,
    pub opts: crate::cfg::listen::BindOpts,    // options of the line
    pub ssl: Option<Box<super::ssl::BindSsl>>, // TLS options of the line (`ssl`, `crt`...), if any
    pub unix: Option<crate::cfg::listen::UnixAddr>, // a unix socket (`addr` is then 0.0.0.0:0, unused)
}

impl Bind {
    /// The address as messages show it (`127.0.0.1:80`, `unix@/run/x.sock`).
    pub fn addr_text(&self) -> String {
        self.unix.as_ref().map_or_else(|| self.addr.to_string(), |u| u.to_string())
    }
}

/// Which mux a `bind` line's connections start with (`proto`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BindProto {
    #[default]
    Auto, // HTTP/1, switching to HTTP/2 on its connection preface (mode http)
    H1,   // HTTP/1 only
    H2,   // HTTP/2 from the first byte (prior knowledge)
    None, // `proto none` (mode tcp): pass-through that `switch-mode http` may not upgrade
}

/// Proxy timeouts; None means not set (infinite, as in HAProxy).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Option<Duration>,
    pub client: Option<Duration>,
    pub server: Option<Duration>,
    pub client_fin: Option<Duration>,
    pub server_fin: Option<Duration>,
    pub tunnel: Option<Duration>,
    pub http_request: Option<Duration>,
    pub http_keep_alive: Option<Duration>,
    pub queue: Option<Duration>,
    pub check: Option<Duration>,  // `timeout check`: read timeout of health checks
    pub tarpit: Option<Duration>, // `timeout tarpit`; None: `timeout connect`, as HAProxy
}

/// `use_backend NAME [if|unless COND]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UseBackend {
    pub backend: ProxyRef,
    pub cond: Option<Cond>,
}

/// A rule condition kept as words until the ACL engine compiles it:
/// `if A B || !C` gives `negate: false, words: [A, B, ||, !C]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cond {
    pub negate: bool,       // `unless`
    pub words: Vec<String>, // the words after `if`/`unless`
    pub loc: Loc,
}

/// `option` flags (set with `option X`, cleared with `no option X`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub redispatch: Option<i32>, // Some(interval): `option redispatch [interval]`, default interval -1 (last retry)
    pub dontlognull: bool,
    pub forwardfor: bool,
    pub http_keep_alive: bool,
    pub httpclose: bool,
    pub allbackups: bool, // `option allbackups`: every usable backup server, not only the first
    pub persist: bool,    // `option persist`: keep sending a persistent client to its server while it is down
}

/// A rule line kept as words until the rule engine compiles it (the ACL
/// and HTTP layers sit above the configuration and report their errors
/// with this location).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleLine {
    pub words: Vec<String>, // the words after the keyword
    pub loc: Loc,
}

/// `http-reuse`: when idle server connections may serve another session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HttpReuse {
    Never, // a server connection serves one session only
    #[default]
    Safe, // a session's first request always gets its own connection
    Always, // any request may use any idle connection (`aggressive` too)
}

/// The HTTP stats page of a proxy (`stats enable`, `stats uri`, ...):
/// parsed by `cfg/parser/stats_page.rs`, served by `service::stats_page`.
/// Any `stats` keyword but `stats admin` enables it, as in HAProxy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatsPage {
    pub enabled: bool,
    pub uri: Option<String>,         // `stats uri`; None: `/haproxy?stats`
    pub refresh: Option<Duration>,   // `stats refresh`: the `Refresh:` header
    pub realm: Option<String>,       // `stats realm`; None: `HAProxy Statistics`
    pub auth: Vec<(String, String)>, // `stats auth user:password`
    pub admin: Vec<Cond>,            // `stats admin if|unless COND`: who may change servers
    pub hide_version: bool,          // `stats hide-version`
    pub show_legends: bool,          // `stats show-legends`
    pub show_modules: bool,          // `stats show-modules`: the modules' columns
    pub show_node: Option<String>,   // `stats show-node [NAME]`; Some("") = the node name
    pub show_desc: Option<String>,   // `stats show-desc [TEXT]`; Some("") = the global description
    pub scope: Vec<String>,          // `stats scope NAME`: proxies shown (empty: all)
    pub rules: Vec<StatsRule>,       // `stats http-request allow|deny|auth`, in order
}

/// One `stats http-request ACTION [if|unless COND]` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatsRule {
    pub action: StatsAction,
    pub cond: Option<Cond>,
}

/// What a `stats http-request` rule does when it matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StatsAction {
    Allow,                // serve the page, `stats auth` not asked
    Deny,                 // HAProxy's 403
    Auth(Option<String>), // HAProxy's 401, with this realm (else the page's)
}

impl StatsPage {
    /// The prefix a request path must start with.
    pub fn uri(&self) -> &str {
        self.uri.as_deref().unwrap_or("/haproxy?stats")
    }

    /// The `WWW-Authenticate` realm.
    pub fn realm(&self) -> &str {
        self.realm.as_deref().unwrap_or("HAProxy Statistics")
    }
}

/// One `set-var NAME EXPR` (or `set-var-fmt NAME FMT`) of `global`: a
/// `proc.` variable set once when the configuration loads. Read by
/// `runtime::global_vars`.
#[derive(Clone, Debug)]
pub struct GlobalSetVar {
    pub loc: Loc,
    pub name: String,
    pub value: String, // the sample expression, or the log-format string
    pub fmt: bool,     // `set-var-fmt`
}
