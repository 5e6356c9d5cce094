//! What a resolution's outcome does to its servers, as HAProxy 2.6's
//! `snr_resolution_cb` / `snr_update_srv_status`: the address each
//! server takes from an answer (its own kept while answered, no address
//! shared within a backend unless `resolve-opts allow-dup-ip`), and the
//! resolution maintenance (`MAINT (resolution)`) entered after `hold`
//! of errors or an answer without a usable address, left on a valid
//! one. Every change is told in HAProxy's words.

use super::resolution::Status;
use crate::backend::{BackendState, SrvAdmin};
use crate::cfg::Proxy;
use std::net::IpAddr;

/// Syslog levels of the messages.
const ALERT: u32 = 1;
const NOTICE: u32 = 5;

/// One message for a backend's log targets (and stderr as a warning).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DnsLog {
    pub proxy: usize,
    pub level: u32,
    pub text: String,
}

/// A server that became usable or unusable through resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DnsChange {
    pub backend: usize,
    pub server: usize,
    pub up: bool,
}

/// What applying an outcome produced.
#[derive(Debug, Default)]
pub struct DnsOutput {
    pub logs: Vec<DnsLog>,
    pub changes: Vec<DnsChange>,
}

/// The address server `si` of `be` takes among `cands` (answer order):
/// the best score (preferred family 8, a `resolve-net` network 4), its
/// current address when that scores best; addresses held by another
/// server resolving the same name are skipped unless it allows
/// duplicates. None: no usable address.
pub fn pick(be: &BackendState, px: &Proxy, si: usize, cands: &[IpAddr], v6: bool) -> Option<IpAddr> {
    let me = &be.servers[si];
    let cfg = &px.servers[si];
    let taken = |ip: &IpAddr| {
        be.servers.iter().enumerate().any(|(i, s)| i != si && s.addr == Some(*ip) && s.fqdn == me.fqdn)
    };
    let score = |ip: &IpAddr| {
        let fam = if ip.is_ipv6() == v6 { 8 } else { 0 };
        let net = if cfg.resolve_net.iter().any(|(n, len)| in_net(ip, n, *len)) { 4 } else { 0 };
        fam + net
    };
    let usable: Vec<&IpAddr> = cands.iter().filter(|ip| cfg.allow_dup_ip || !taken(ip)).collect();
    let best = usable.iter().map(|ip| score(ip)).max()?;
    if let Some(cur) = me.addr.filter(|c| usable.contains(&c) && score(c) == best) {
        return Some(cur);
    }
    usable.into_iter().find(|ip| score(ip) == best).copied()
}

fn in_net(ip: &IpAddr, net: &IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len.min(32))).unwrap_or(0);
            u32::from(*a) & mask == u32::from(*n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len.min(128))).unwrap_or(0);
            u128::from(*a) & mask == u128::from(*n) & mask
        }
        _ => false,
    }
}

/// A valid answer for server `si`: its new address `ip` (None: none
/// usable), `by` naming the name server (`resolvers/nameserver`).
pub fn valid(
    be: &mut BackendState,
    px: &Proxy,
    si: usize,
    ip: Option<IpAddr>,
    by: &str,
    now_ms: u64,
    out: &mut DnsOutput,
) -> bool {
    let proxy = be.proxy;
    let Some(ip) = ip else {
        return enter_maint(be, px, si, "No IP for server ", now_ms, out);
    };
    let s = &mut be.servers[si];
    let mut changed = false;
    if s.addr != Some(ip) {
        let old = s.addr.map_or_else(|| "(none)".to_owned(), |a| a.to_string());
        out.logs.push(DnsLog {
            proxy,
            level: NOTICE,
            text: format!("{}/{} changed its IP from {old} to {ip} by {by}.", px.name, s.name),
        });
        s.addr = Some(ip);
        changed = true;
    }
    if !s.resolution_maint {
        return changed;
    }
    let was_up = be.is_up();
    let s = &mut be.servers[si];
    s.resolution_maint = false;
    let fqdn = s.fqdn.clone().unwrap_or_default();
    let who = format!("{}Server {}/{}", if s.backup { "Backup " } else { "" }, px.name, s.name);
    let text = if s.admin == SrvAdmin::Maint {
        format!("{who} ('{fqdn}') resolves again but remains in maintenance.")
    } else {
        let state = if s.up { "UP" } else { "DOWN" };
        let admin = if s.admin == SrvAdmin::Drain { "DRAIN" } else { "READY" };
        format!("{who} ('{fqdn}') is {state}/{admin} (resolves again).")
    };
    out.logs.push(DnsLog { proxy, level: NOTICE, text });
    out.logs.push(DnsLog {
        proxy,
        level: NOTICE,
        text: format!("Server {}/{} administratively READY thanks to valid DNS answer.", px.name, s.name),
    });
    if s.usable() {
        out.changes.push(DnsChange { backend: proxy, server: si, up: true });
    }
    be.note_state(was_up, now_ms);
    true
}

/// A failed resolution (`status`, the last valid answer `since_valid_ms`
/// ago): the server enters resolution maintenance once that has lasted
/// the status's `hold`.
pub fn failed(
    be: &mut BackendState,
    px: &Proxy,
    si: usize,
    status: Status,
    expired: bool,
    now_ms: u64,
    out: &mut DnsOutput,
) -> bool {
    if !expired {
        return false;
    }
    enter_maint(be, px, si, status.cause(), now_ms, out)
}

/// Resolution maintenance: no address, no traffic (HAProxy's RMAINT).
fn enter_maint(
    be: &mut BackendState,
    px: &Proxy,
    si: usize,
    cause: &str,
    now_ms: u64,
    out: &mut DnsOutput,
) -> bool {
    if be.servers[si].resolution_maint {
        return false;
    }
    let was_up = be.is_up();
    let was_usable = be.servers[si].usable();
    let s = &mut be.servers[si];
    let running = s.up && !s.in_maint();
    s.resolution_maint = true;
    s.addr = None;
    let who = format!("{}Server {}/{}", if s.backup { "Backup " } else { "" }, px.name, s.name);
    let act = be.servers.iter().filter(|x| !x.backup && x.usable()).count();
    let bck = be.servers.iter().filter(|x| x.backup && x.usable()).count();
    let s = &be.servers[si];
    let on_backup = if bck > 0 && act == 0 { " Running on backup." } else { "" };
    let text = if running {
        format!(
            "{who} is going DOWN for maintenance ({cause}). {act} active and {bck} backup servers left.{on_backup} \
             {} sessions active, 0 requeued, {} remaining in queue.",
            s.cur_conns, s.queue.waiting
        )
    } else {
        format!(
            "{who} was DOWN and now enters maintenance ({cause}). {act} active and {bck} backup servers left.{on_backup} \
             {} sessions active, 0 requeued, {} remaining in queue.",
            s.cur_conns, s.queue.waiting
        )
    };
    out.logs.push(DnsLog { proxy: be.proxy, level: if running { ALERT } else { NOTICE }, text });
    if was_usable {
        out.changes.push(DnsChange { backend: be.proxy, server: si, up: false });
    }
    be.note_state(was_up, now_ms);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_match_by_prefix() {
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        assert!(in_net(&ip, &"10.0.0.0".parse().unwrap(), 8));
        assert!(!in_net(&ip, &"10.0.0.0".parse().unwrap(), 16));
        assert!(in_net(&ip, &"0.0.0.0".parse().unwrap(), 0));
        assert!(!in_net(&ip, &"::".parse().unwrap(), 0));
    }
}
