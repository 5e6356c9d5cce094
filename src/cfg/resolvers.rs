//! `resolvers NAME` sections as read from the configuration: the name
//! servers to ask and the timers of run-time name resolution (HAProxy
//! 2.6's section 5.3.2). Read-only after `cfg::load`; the worker's
//! `backend::dns` runs the resolutions they describe.

use crate::cfg::model::Loc;
use std::net::SocketAddr;
use std::time::Duration;

/// One `resolvers` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolversSection {
    pub name: String,
    pub loc: Loc,
    pub nameservers: Vec<Nameserver>, // in declaration order (`parse-resolv-conf` in place)
    pub resolve_retries: u32,         // queries sent before giving up (default 3)
    pub timeout_resolve: Duration,    // period of resolutions without a valid answer (default 1s)
    pub timeout_retry: Duration,      // wait for an answer before asking again (default 1s)
    pub hold: Hold,
    pub accepted_payload_size: u16, // EDNS0 payload size announced (default 512)
}

impl ResolversSection {
    /// A section with HAProxy's defaults and no name server.
    pub fn new(name: String, loc: Loc) -> ResolversSection {
        ResolversSection {
            name,
            loc,
            nameservers: Vec::new(),
            resolve_retries: 3,
            timeout_resolve: Duration::from_secs(1),
            timeout_retry: Duration::from_secs(1),
            hold: Hold::default(),
            accepted_payload_size: 512,
        }
    }
}

/// `nameserver NAME ADDR:PORT` (or one line of /etc/resolv.conf, named by its address).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nameserver {
    pub name: String,
    pub addr: SocketAddr, // UDP
    pub loc: Loc,
}

/// `hold STATUS PERIOD`: how long the last answer of each kind is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hold {
    pub valid: Duration,    // a valid answer is asked again after this (10s)
    pub nx: Duration,       // NXDOMAIN for this long since the last valid answer: server in maintenance (30s)
    pub other: Duration,    // any other error (30s)
    pub refused: Duration,  // REFUSED (30s)
    pub timeout: Duration,  // no answer (30s)
    pub obsolete: Duration, // an address absent from the answers stays usable this long (0s)
}

impl Default for Hold {
    fn default() -> Hold {
        let s30 = Duration::from_secs(30);
        Hold {
            valid: Duration::from_secs(10),
            nx: s30,
            other: s30,
            refused: s30,
            timeout: s30,
            obsolete: Duration::ZERO,
        }
    }
}

/// The checks HAProxy makes once every section is read: a section
/// without name servers is warned, a server naming an unknown section is
/// refused.
pub fn check(cfg: &crate::cfg::Config, diags: &mut crate::cfg::Diagnostics) {
    use crate::cfg::Diag;
    for r in cfg.resolvers.iter().filter(|r| r.nameservers.is_empty()) {
        diags.push(Diag::warning_global(format!(
            "resolvers '{}' [{}] has no nameservers configured!",
            r.name, r.loc
        )));
    }
    for p in &cfg.proxies {
        let kind = if p.cap.frontend { "proxy" } else { "backend" };
        for s in &p.servers {
            if let Some(name) = s.resolvers.as_deref().filter(|n| !cfg.resolvers.iter().any(|r| r.name == *n))
            {
                diags.push(Diag::alert_global(format!(
                    "{kind} '{}', server '{}': unable to find required resolvers '{name}'",
                    p.name, s.name
                )));
            }
        }
    }
}
