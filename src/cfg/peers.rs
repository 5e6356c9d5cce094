//! `peers` sections in the configuration: their model, and their
//! resolution (which peer is the local one, which tables use them).
//!
//! Parsed by `parser/peers.rs`; resolved here once every section is read,
//! because the local peer is chosen by name (`local_peer`): the peer whose
//! name is the local peer name is the one this process listens as, every
//! other one is connected to.

use super::diag::{Diag, Diagnostics, Severity};
use super::local_peer;
use super::model::{Config, Loc};
use std::net::SocketAddr;

/// A `peers NAME` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeersSection {
    pub name: String,
    pub loc: Loc,                        // the header line
    pub peers: Vec<PeerLine>,            // `peer`/`server` lines, in order
    pub bind: Option<(SocketAddr, Loc)>, // `bind`: the local peer's address (bind + server form)
    pub bind_fd: Option<i32>,            // `bind fd@N`: the listening socket inherited (VTest), adopted as is
    pub disabled: bool,                  // `disabled`: no listener, no synchronisation
    pub local: Option<usize>,            // index in `peers` of the local peer (set by resolve)
}

impl PeersSection {
    /// The address the local peer listens on (its `peer` line, or `bind`).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        let local = &self.peers[self.local?];
        local.addr.or(self.bind.as_ref().map(|(a, _)| *a))
    }
}

/// The name peers exchange for `table`: a proxy's table is the proxy's
/// name; a peers section's own table (`SECTION/NAME`) is `/NAME`, what
/// HAProxy 2.6 sends (its table's network name starts at the '/' after
/// the section's name: observed with 2.6.12), so such a table is shared
/// with the other nodes' `table NAME` lines only, never with a backend
/// called NAME.
pub fn wire_name<'a>(section: &str, table: &'a str) -> &'a str {
    table.strip_prefix(section).filter(|t| t.starts_with('/')).unwrap_or(table)
}

/// One `peer NAME ADDR:PORT` or `server NAME [ADDR:PORT]` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerLine {
    pub name: String,
    pub addr: Option<SocketAddr>, // None: a `server` line without address (the local peer)
    pub loc: Loc,
    pub server_form: bool, // written `server` rather than `peer`
}

/// The local peer name in effect and the checks that depend on it; tables
/// naming a section that does not exist are refused, tables of a disabled
/// or incomplete section are not shared.
pub fn resolve(cfg: &mut Config, diags: &mut Diagnostics) {
    let name = match (local_peer::cmdline(), &cfg.localpeer) {
        (Some(cli), Some((_, loc))) => {
            diags.push(Diag::warning(
                loc,
                "'localpeer' ignored since it is already set by using the '-L' command line argument.",
            ));
            cli.to_owned()
        }
        (Some(cli), None) => cli.to_owned(),
        (None, Some((kw, _))) => kw.clone(),
        (None, None) => local_peer::hostname(),
    };
    for s in &mut cfg.peers {
        s.local = None;
        for (i, p) in s.peers.iter().enumerate() {
            if p.name != name {
                if p.addr.is_none() {
                    diags.push(Diag::alert(
                        &p.loc,
                        format!("'server {}' : expects <name> and <addr>[:<port>] as arguments.", p.name),
                    ));
                }
                continue;
            }
            if let Some(first) = s.local {
                let at = &s.peers[first].loc;
                let kw = if p.server_form { "server" } else { "peer" };
                diags.push(Diag::alert(
                    &p.loc,
                    format!("'{kw} {}' : local peer name already referenced at {at}. {name}", p.name),
                ));
                continue;
            }
            if p.server_form && p.addr.is_some() {
                diags.push(Diag::alert_global(format!(
                    "[{}] : 'server {}/{}' : no address was expected for this server (the local peer listens on the 'bind' address).",
                    p.loc, s.name, p.name
                )));
            }
            s.local = Some(i);
        }
        if s.local.is_some() && s.local_addr().is_none() && !s.disabled {
            diags.push(Diag::alert(
                &s.loc,
                format!(
                    "peers section '{}': the local peer '{name}' has no address ('bind' line missing).",
                    s.name
                ),
            ));
        }
        if s.local.is_none() && !s.disabled {
            diags.push(Diag {
                severity: Severity::Warning,
                loc: None,
                msg: format!("Removing incomplete section 'peers {}' (no peer named '{name}').", s.name),
            });
        }
    }
    cfg.local_peer_name = name;
    for p in &mut cfg.proxies {
        let Some(t) = p.stick_table.as_mut() else { continue };
        let Some(wanted) = t.peers.clone() else { continue };
        match cfg.peers.iter().find(|s| s.name == wanted) {
            None => {
                diags.push(Diag::alert_global(format!(
                    "Proxy '{}': unable to find sync peers '{wanted}'.",
                    p.name
                )));
                t.peers = None;
            }
            // a disabled or incomplete section: the table is not shared
            Some(s) if s.disabled || s.local.is_none() => t.peers = None,
            Some(_) => {}
        }
    }
}
