//! `bind ADDR[,ADDR...] [options]`: listening addresses of a frontend.
//!
//! Forms: `IP:PORT`, `:PORT` and `*:PORT` (all IPv4 addresses),
//! `[IPv6]:PORT`, `ipv4@..`, `ipv6@..` (`ipv6@:PORT` is all IPv6
//! addresses), or a host name resolved now. No bind option is supported
//! yet, so any word after the address list is an alert.

use super::addr::{Use, inet};
use super::args::Res;
use super::section::Open;
use crate::cfg::model::{Bind, Loc};
use std::net::SocketAddr;

/// Parses a `bind` line into `o.px.binds`. All addresses are checked; the
/// first problem is the alert.
pub(super) fn parse(o: &mut Open, words: &[String], loc: &Loc) -> Res {
    let Some(list) = words.get(1).filter(|w| !w.is_empty()) else {
        return Err(
            "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.".into()
        );
    };
    let mut binds = Vec::new();
    for text in list.split(',') {
        binds.push(Bind { addr: listen_addr(text).map_err(|e| format!("'bind' : {e}"))?, loc: loc.clone() });
    }
    if let Some(opt) = words.get(2) {
        return Err(format!("'bind {list}' in section '{}': unknown keyword '{opt}'", o.kind.keyword()));
    }
    o.px.binds.extend(binds);
    Ok(())
}

/// One address of the list.
fn listen_addr(text: &str) -> Result<SocketAddr, String> {
    if text.starts_with('/') || ["unix@", "abns@", "fd@", "sockpair@"].iter().any(|p| text.starts_with(p)) {
        return Err(format!("'{text}' : only TCP addresses are supported by strata yet"));
    }
    if let Some((_, port)) = text.rsplit_once(':').filter(|(_, p)| p.contains('-')) {
        return Err(format!("port ranges are not supported by strata yet ('{port}' in '{text}')"));
    }
    match inet(text, Use::Listen)? {
        (ip, Some(port)) if port > 0 => Ok(SocketAddr::new(ip, port)),
        (_, Some(port)) => Err(format!("invalid port '{port}'")),
        (_, None) => Err(format!("missing port specification in '{text}'")),
    }
}
