//! `ring` and `log-forward` sections (HAProxy 2.6): in-memory rings of
//! log events that `log ring@NAME` writes to, `show events NAME` shows and
//! their `server` lines receive over TCP; and syslog relays that receive
//! messages (UDP `dgram-bind`, TCP `bind`) and send them on to their own
//! `log` targets. Parsed by `cfg::parser::syslog`; run by
//! `runtime::syslog`. Immutable once loaded.

use super::diag::{Diag, Diagnostics};
use super::model::{Config, Loc, LogAddr, LogFormat, LogTarget};
use std::net::SocketAddr;
use std::time::Duration;

/// A `ring NAME` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RingDef {
    pub name: String,
    pub description: Option<String>, // `description`, shown by `show events`
    pub format: LogFormat,           // `format`, default raw
    pub maxlen: usize,               // `maxlen`: longest event kept (bytes)
    pub size: usize,                 // `size`: bytes the ring holds
    pub timeout_connect: Option<Duration>,
    pub timeout_server: Option<Duration>,
    pub servers: Vec<RingServer>, // where events are forwarded (TCP syslog)
    pub loc: Loc,
}

impl RingDef {
    /// A ring with HAProxy's defaults (a `tune.bufsize` of 16384 bytes,
    /// raw format).
    pub fn new(name: &str, loc: &Loc) -> RingDef {
        RingDef {
            name: name.to_string(),
            description: None,
            format: LogFormat::Raw,
            maxlen: DEFAULT_RING_SIZE,
            size: DEFAULT_RING_SIZE,
            timeout_connect: None,
            timeout_server: None,
            servers: Vec::new(),
            loc: loc.clone(),
        }
    }
}

/// HAProxy's `BUFSIZE`: a ring's size and event length without `size`
/// and `maxlen`.
pub const DEFAULT_RING_SIZE: usize = 16384;

/// The ring every HAProxy has: `buf0`, 1 MB, `timed` format.
pub const BUILTIN_RING: &str = "buf0";

/// A `server NAME ADDR:PORT [log-proto legacy|octet-count]` of a ring.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RingServer {
    pub name: String,
    pub addr: SocketAddr,
    pub octet_count: bool, // `log-proto octet-count` (RFC 6587 octet counting), else one event per line
}

/// A `log-forward NAME` section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogForwardDef {
    pub name: String,
    pub binds: Vec<SocketAddr>,       // `bind`: TCP syslog (RFC 6587 framings)
    pub dgram_binds: Vec<SocketAddr>, // `dgram-bind`: UDP syslog, one message per datagram
    pub logs: Vec<LogTarget>,         // where received messages go
    pub maxconn: Option<u32>,         // TCP connections at once
    pub backlog: Option<u32>,
    pub timeout_client: Option<Duration>, // an idle TCP client is closed after it
    pub loc: Loc,
}

/// After parsing: each ring's `maxlen` at most its `size` (HAProxy's
/// warning, then forced), and every `log ring@NAME` naming a ring (else
/// HAProxy's alert at the `log` line).
pub fn check(cfg: &mut Config, diags: &mut Diagnostics) {
    for r in &mut cfg.rings {
        if r.maxlen > r.size {
            diags.push(Diag::warning_global(format!(
                "ring '{}' event max length '{}' exceeds size, forced to size '{}'.",
                r.name, r.maxlen, r.size
            )));
            r.maxlen = r.size;
        }
    }
    let global = cfg.global.logs.iter().map(|t| ("global section".to_string(), t));
    let proxies =
        cfg.proxies.iter().flat_map(|p| p.logs.iter().map(|t| (format!("proxy section '{}'", p.name), t)));
    let forwards = cfg
        .log_forwards
        .iter()
        .flat_map(|f| f.logs.iter().map(|t| (format!("log-forward section '{}'", f.name), t)));
    let mut seen = Vec::new();
    for (owner, t) in global.chain(proxies).chain(forwards) {
        if let LogAddr::Ring(name) = &t.addr
            && name != BUILTIN_RING
            && !cfg.rings.iter().any(|r| r.name == *name)
            && !seen.contains(&(owner.clone(), t.loc.clone()))
        {
            // HAProxy's words; it finds this only when starting, strata at `-c` too.
            diags.push(Diag::alert_global(format!(
                "log server declared in {owner} in file '{}' at line {} uses unknown ring named '{name}'.",
                t.loc.file, t.loc.line
            )));
            seen.push((owner, t.loc.clone()));
        }
    }
}
