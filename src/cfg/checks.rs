//! What a proxy's health-check keywords say: which check runs (`option
//! httpchk`, `tcp-check`, `mysql-check`...) and the `tcp-check` /
//! `http-check` rules, kept as HAProxy 2.6 keeps them.
//!
//! HAProxy's rule sets belong to the section that wrote them: a proxy
//! starts with its `defaults` section's rules, and its first own
//! `tcp-check` (or `http-check`) line replaces them all. So `option
//! httpchk GET /health` in `defaults` followed by a backend's own
//! `http-check expect status 200` sends nothing (HAProxy then reports
//! `L7TOUT`): the backend's rule set has only the expect. Built by
//! `cfg::parser::checks`; turned into a program by `backend::check`.

use std::net::SocketAddr;

/// The health checks of one proxy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyChecks {
    pub kind: CheckKind,
    pub tcp: RuleSet,            // `tcp-check` lines
    pub http: RuleSet,           // `option httpchk` and `http-check` lines
    pub disable_on_404: bool,    // `http-check disable-on-404`
    pub send_state: bool,        // `http-check send-state`
    pub log_health_checks: bool, // `option log-health-checks`
}

/// Which check a checked server of the proxy runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CheckKind {
    #[default]
    Connect, // no check option: a connect (HAProxy's implicit tcp-check)
    Http, // `option httpchk`: the `http` rules
    Tcp,  // `option tcp-check`: the `tcp` rules
    Mysql {
        user: Option<String>,
        post41: bool,
    }, // `option mysql-check [user U [post-41|pre-41]]`
    Pgsql {
        user: String,
    }, // `option pgsql-check user U`
    Redis, // `option redis-check`
    Ldap, // `option ldap-check`
    Smtp {
        hello: String,
    }, // `option smtpchk [EHLO|HELO domain]` (default `HELO localhost`)
    SslHello, // `option ssl-hello-chk`
    Spop, // `option spop-check`: an SPOE agent's HELLO handshake
}

/// The rules of one kind and whether the proxy wrote them (else they
/// come from its `defaults` section and its own first line replaces them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleSet {
    pub rules: Vec<CheckRule>,
    pub own: bool,
}

/// One `tcp-check` / `http-check` line (or the request of `option httpchk`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckRule {
    pub action: CheckAction,
    pub index: usize, // HAProxy's rule index: the step number is index + 1
    pub comment: Option<String>,
}

/// What a rule does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckAction {
    Connect(ConnectRule),
    Send(Vec<u8>),      // `tcp-check send` / `send-binary`
    HttpSend(HttpSend), // `http-check send`, `option httpchk`
    Expect(ExpectRule),
    Comment, // `tcp-check comment` / `http-check comment`: names the rules after it
}

/// `tcp-check connect` / `http-check connect`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectRule {
    pub port: Option<u16>,
    pub addr: Option<SocketAddr>,
    pub send_proxy: bool,
    pub linger: bool,   // close with a FIN instead of a reset
    pub default: bool,  // the server's own check settings (`addr`, `port`, `check-send-proxy`)
    pub implicit: bool, // added because the rules start with no connect
}

/// An HTTP request to send (`http-check send` merged with `option httpchk`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpSend {
    pub method: Option<String>,         // default OPTIONS
    pub uri: Option<String>,            // default /
    pub version: Option<String>,        // default HTTP/1.0
    pub headers: Vec<(String, String)>, // `hdr NAME VALUE`
    pub body: Option<String>,
    pub from_option: bool, // the implicit request of `option httpchk`
}

/// `tcp-check expect` / `http-check expect`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectRule {
    pub kind: ExpectKind,
    pub negate: bool,            // `!`
    pub min_recv: Option<usize>, // wait for at least this many bytes (None: HAProxy's -1)
    pub ok_status: Option<CheckStatus>,
    pub error_status: Option<CheckStatus>,
    pub timeout_status: Option<CheckStatus>,
    pub on_success: Option<CheckMsg>,
    pub on_error: Option<CheckMsg>,
    pub status_code: Option<CheckMsg>, // `status-code` (only HAProxy's built-in checks use one)
}

/// What an expect rule looks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExpectKind {
    String(Vec<u8>), // TCP: contained in the data; HTTP: in the body
    Binary(Vec<u8>),
    Rstring(String),         // a regex over the data (HTTP: the body)
    Rbinary(String),         // a regex over the data as hexadecimal
    Status(Vec<(u16, u16)>), // HTTP status code ranges
    Rstatus(String),         // a regex over the status code
    Custom(Custom),          // a protocol's own parser
}

/// Protocol parsers of the built-in checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Custom {
    MysqlHandshake, // the server's initial handshake packet
    MysqlOk,        // the OK packet after the client's authentication
    LdapBind,       // the bind response
    SpopHello,      // an SPOE agent's AGENT-HELLO frame
}

/// A check status an expect rule may force (`ok-status`, `error-status`,
/// `tout-status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckStatus {
    L4Ok,
    L4Tout,
    L4Con,
    L6Ok,
    L6Tout,
    L6Rsp,
    L7Tout,
    L7Rsp,
    L7Ok,
    L7OkC,
    L7Sts,
}

/// A message an expect rule gives on success or error: a literal text, or
/// part of the received data (what HAProxy's built-in checks print with
/// `%[res.payload(...)]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckMsg {
    Text(String),
    Payload { from: usize, trim_spaces: bool, cut_crlf: bool }, // the data from byte `from`
    PayloadNumber { from: usize, len: usize },                  // digits at `from..from+len`, as a code
}
