//! Per-proxy keywords beyond routing, servers and rules: socket options
//! of each side, HTTP connection and logging options, and the proxy's own
//! identity and limits (`description`, `id`, `fullconn`...).
//!
//! Filled by the parser's `options` and `proxy_misc` modules (inherited
//! from `defaults` as a whole), read by the layers that obey each one.

use super::errorpages::{ErrorDirective, ErrorPage};
use super::listen::ConnOpts;

/// `option forwardfor [except NET] [header NAME] [if-none]` (and the same
/// for `option originalto`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddrHeader {
    pub except: Option<(std::net::IpAddr, u8)>, // clients in this network get no header
    pub header: Option<String>,                 // header name instead of the default
    pub if_none: bool,                          // only when the request has no such header
}

impl AddrHeader {
    /// Whether `ip` is in the `except` network.
    pub fn excepted(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr;
        let Some((net, bits)) = self.except else { return false };
        match (net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if bits == 0 { 0 } else { u32::MAX << (32 - u32::from(bits.min(32))) };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if bits == 0 { 0 } else { u128::MAX << (128 - u32::from(bits.min(128))) };
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// A proxy's log line format: one of HAProxy's built-in ones or a
/// `log-format` string; the last line setting it wins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogFormatKind {
    Http,           // `option httplog`
    HttpClf,        // `option httplog clf`
    Tcp,            // `option tcplog`
    Custom(String), // `log-format FMT`
}

impl LogFormatKind {
    /// The directive that set it, as HAProxy names it in its warnings.
    pub fn directive(&self) -> &'static str {
        match self {
            LogFormatKind::Http => "option httplog",
            LogFormatKind::HttpClf => "option httplog clf",
            LogFormatKind::Tcp => "option tcplog",
            LogFormatKind::Custom(_) => "log-format",
        }
    }
}

/// A format string with the line that set it (`log-format-sd`, `error-log-format`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatLine<K> {
    pub kind: K,
    pub loc: super::model::Loc,
}

/// The settings of one proxy section kept in [`crate::cfg::Proxy::knobs`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Knobs {
    pub cli_sock: ConnOpts,                            // frontend side: accepted connections
    pub srv_sock: ConnOpts,                            // backend side: server connections
    pub description: Option<String>,                   // `description` (not inherited)
    pub custom_id: Option<(u32, super::model::Loc)>,   // `id N` and its line: the proxy's id (not inherited)
    pub disabled: bool, // `disabled`: a frontend is not bound, a backend serves nothing
    pub dontlog_normal: bool, // `option dontlog-normal`: only streams with an error are logged
    pub log_separate_errors: bool, // `option log-separate-errors`: those are logged at level err
    pub socket_stats: bool, // `option socket-stats`: `show stat` has a line per listener
    pub forwardfor: AddrHeader, // `option forwardfor` arguments (the switch is `Options::forwardfor`)
    pub error_lines: Vec<ErrorDirective>, // `errorfile`, `errorfiles`, `http-error`, in order (defaults' first)
    pub error_pages: Vec<ErrorPage>,      // what they come to, filled by `resolve`
    pub log_format: Option<FormatLine<LogFormatKind>>, // `option httplog|tcplog`, `log-format` (frontend side)
    pub log_format_sd: Option<FormatLine<String>>,     // `log-format-sd`: RFC 5424 structured data
    pub error_log_format: Option<FormatLine<String>>,  // `error-log-format`: connection errors
    pub logasap: bool,                                 // `option logasap`: log before the data transfer
    pub log_tag: Option<String>,                       // `log-tag` of this proxy (else the global one)
    pub http: HttpConnOpts,                            // `option http-server-close`, `abortonclose`...
    pub load_server_state: LoadServerState,            // `load-server-state-from-file`
    pub server_state_file_name: Option<String>, // `server-state-file-name` (not inherited; None: the backend's name)
    pub fullconn: Option<u32>, // `fullconn N` (backend): the load at which servers reach their maxconn
    pub rate_limit_sessions: u32, // `rate-limit sessions N` (frontend): new sessions per second at most; 0 none
    pub email_alert: EmailAlert,  // which `email-alert` lines were given
    pub srv: super::srv_select::SrvSelect, // `use-server`, `http-send-name-header`, `option prefer-last-server`...
    pub backlog: Option<u32>, // `backlog N` (frontend): the listen queue of its binds without `backlog`
    pub smart_accept: Option<bool>, // `[no] option tcp-smart-accept` (frontend); None: on in mode http
}

/// The `email-alert` lines of a proxy (inherited from defaults). strata
/// sends no mail: without all of `from`, `mailers` and `to` HAProxy
/// ignores them with a warning, and so does strata; with all three (which
/// also needs a `mailers` section) strata refuses them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EmailAlert {
    pub any: bool, // any `email-alert` line
    pub from: bool,
    pub to: bool,
    pub mailers: bool,
}

/// The HTTP and connection options of one proxy (`src/cfg/parser/http_opts.rs`);
/// where both the frontend and the backend may set one, either one setting
/// it is enough (HAProxy's rule).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpConnOpts {
    pub server_close: bool, // `option http-server-close`: one request per server connection
    pub pretend_keepalive: bool, // `option http-pretend-keepalive`: no `Connection: close` to the server
    pub ignore_probes: bool, // `option http-ignore-probes` (frontend): no 408/log for empty connections
    pub abortonclose: bool, // `option abortonclose` (backend): a client that closes leaves the queue
    pub checkcache: bool,   // `option checkcache` (backend): cacheable responses with cookies refused
    pub originalto: Option<AddrHeader>, // `option originalto [except NET] [header NAME]`
    pub restrict_hdr_names: RestrictHdrNames, // `option http-restrict-req-hdr-names`
    pub buffer_request: bool, // `option http-buffer-request`: the request body is waited for before the rules
    pub no_h2_upgrade: bool, // `option disable-h2-upgrade` (frontend): an HTTP/2 preface on an HTTP/1 bind is a bad request
    pub idle_close_on_response: bool, // `option idle-close-on-response` (frontend): a soft stop keeps idle connections for one more request
}

/// What a proxy does with request header names outside `[A-Za-z0-9-]`
/// (`option http-restrict-req-hdr-names`), after its `http-request` rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RestrictHdrNames {
    #[default]
    Preserve, // forwarded as they are
    Delete, // such headers are removed
    Reject, // the request is answered 403
}

/// `load-server-state-from-file global|local|none`: where a backend's
/// servers find the state a previous process saved (`show servers state`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LoadServerState {
    #[default]
    None, // nothing loaded (also when the keyword is absent)
    Global, // the global `server-state-file`
    Local,  // `server-state-file-name`, else a file named as the backend, under `server-state-base`
}
