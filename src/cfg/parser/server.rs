//! `server NAME ADDR[:PORT] [weight N] [maxconn N] [disabled] [backup]
//! [check] [inter T] [rise N] [fall N]` in a backend or listen section.
//!
//! Every option is checked and each problem is its own alert, prefixed as
//! HAProxy does: `'server be/s1' : ...`. An unknown option stops the scan
//! (its arity is unknown). The server id is its 1-based rank in the proxy.

use super::addr::{Use, inet};
use super::args::{int, time};
use super::section::Open;
use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::model::{Loc, Server};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// Parses a `server` line and appends it to `o.px.servers`.
pub(super) fn parse(o: &mut Open, words: &[String], loc: &Loc, diags: &mut Diagnostics) {
    let (Some(name), Some(addr_text)) = (words.get(1), words.get(2)) else {
        diags.push(Diag::alert(loc, "'server' expects <name> and <addr>[:<port>] as arguments."));
        return;
    };
    let prefix = format!("'server {}/{name}' : ", o.px.name);
    let mut alert = |msg: String| diags.push(Diag::alert(loc, format!("{prefix}{msg}")));
    let mut srv = Server {
        name: name.clone(),
        loc: loc.clone(),
        id: o.px.servers.len() as u32 + 1,
        addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        port: None,
        weight: 1,
        maxconn: None,
        disabled: false,
        backup: false,
        check: false,
        inter: Duration::from_secs(2),
        rise: 2,
        fall: 3,
    };
    let mut ok = true;
    match inet(addr_text, Use::Connect) {
        // Port 0 means "the port the client connected to", like no port.
        Ok((ip, port)) => (srv.addr, srv.port) = (ip, port.filter(|p| *p > 0)),
        Err(e) => {
            alert(e);
            ok = false;
        }
    }
    let mut i = 3;
    while let Some(opt) = words.get(i) {
        let arg = words.get(i + 1);
        let res = match opt.as_str() {
            "disabled" => set(&mut srv.disabled, true),
            "backup" => set(&mut srv.backup, true),
            "check" => set(&mut srv.check, true),
            "weight" => match int::<u32>("weight", arg) {
                Ok(w) if w <= 256 => set(&mut srv.weight, w),
                Ok(w) => Err(format!("weight of server {name} is not within 0 and 256 ({w}).")),
                Err(e) => Err(e),
            },
            "maxconn" => int("maxconn", arg).and_then(|m| set(&mut srv.maxconn, Some(m))),
            "rise" | "fall" => match int::<u32>(opt, arg) {
                Ok(0) => Err(format!("'{opt}' has to be > 0.")),
                Ok(n) if opt == "rise" => set(&mut srv.rise, n),
                Ok(n) => set(&mut srv.fall, n),
                Err(e) => Err(e),
            },
            "inter" => match arg.map(|a| time("inter", a)) {
                None => Err("'inter' expects a delay as argument.".into()),
                Some(Ok(d)) if d.is_zero() => Err("'inter' has to be > 0.".into()),
                Some(Ok(d)) => set(&mut srv.inter, d),
                Some(Err(e)) => Err(format!("{e} (argument of server {name}).")),
            },
            _ => {
                alert(format!("unknown keyword '{opt}'."));
                ok = false;
                break;
            }
        };
        if let Err(e) = res {
            alert(e);
            ok = false;
        }
        i += if ["disabled", "backup", "check"].contains(&opt.as_str()) { 1 } else { 2 };
    }
    if ok {
        o.px.servers.push(srv);
    }
}

/// Stores an option's value (keeps the option table one line per arm).
fn set<T>(slot: &mut T, value: T) -> Result<(), String> {
    *slot = value;
    Ok(())
}
