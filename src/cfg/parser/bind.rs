//! `bind ADDR[,ADDR...] [options]`: listening addresses of a frontend.
//!
//! Forms: `IP:PORT`, `:PORT` and `*:PORT` (all IPv4 addresses),
//! `[IPv6]:PORT`, `ipv4@..`, `ipv6@..` (`ipv6@:PORT` is all IPv6
//! addresses), a host name resolved now, `fd@N`: a listening TCP
//! socket inherited from the parent process (checked now), or a unix
//! socket (`unix@PATH`, `/PATH`, `abns@NAME`; `unix-bind` applies its
//! prefix and defaults once the file is read); each address
//! is expanded first (`bind :$PORT`). Options: `mode`, `uid`, `user`,
//! `gid`, `group` (unix sockets), `name`, `id`,
//! `defer-accept`, `tfo`, `interface`, `v4v6`, `v6only`, `maxconn`,
//! `backlog`, `proto h1|h2`, `thread` and `process` (`bind_threads`)
//! (obeyed); `transparent`, `namespace` (warned: no effect in strata); the TLS options (`ssl`, `crt`,
//! `alpn`...) are `ssl_opts`'s. Error texts are HAProxy's.

use super::addr::{Use, expand_env, inet_expanded, inherited_fd};
use super::args::Res;
use super::section::Open;
use super::ssl_opts;
use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::listen::{BindOpts, UnixAddr};
use crate::cfg::model::{Bind, Loc};
use crate::cfg::ssl::BindSsl;
use crate::core::inherited::Bound;
use std::net::SocketAddr;

/// Parses a `bind` line into `o.px.binds`. All addresses are checked; the
/// first problem is the alert; warnings go to `diags`.
pub(super) fn parse(o: &mut Open, words: &[String], loc: &Loc, diags: &mut Diagnostics) -> Res {
    let Some(list) = words.get(1).filter(|w| !w.is_empty()) else {
        return Err(
            "'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.".into()
        );
    };
    let mut addrs = Vec::new();
    for text in list.split(',') {
        let expanded = expand_env(text).map_err(|e| format!("'bind' : {e}"))?;
        if let Some(unix) = UnixAddr::parse(&expanded) {
            addrs.push((SocketAddr::from(([0, 0, 0, 0], 0)), None, Some(unix)));
            continue;
        }
        let inet = listen_addrs(text).map_err(|e| format!("'bind' : {e}"))?;
        addrs.extend(inet.into_iter().map(|(a, fd)| (a, fd, None)));
    }
    let prefix = format!("'bind {list}' in section '{}'", o.kind.keyword());
    let mut opts = BindOpts::default();
    let mut i = 2;
    let section = o.kind.keyword();
    let blank =
        BindSsl { addr_text: list.clone(), section: section.into(), loc: loc.clone(), ..BindSsl::default() };
    let mut ssl = blank.clone();
    while let Some(opt) = words.get(i) {
        match ssl_opts::bind_option(&mut ssl, words, i) {
            Some(Ok(n)) => {
                i += n;
                continue;
            }
            Some(Err(e)) => return Err(format!("{prefix} : {e}")),
            None => {}
        }
        let val = words.get(i + 1).map(String::as_str);
        match super::stats::cli_word(opt, val) {
            Ok(Some(_)) => {
                diags.push(Diag::warning(
                    loc,
                    format!("{prefix} : '{opt}' has no effect in strata on a 'bind' line (only a 'stats socket' uses it); ignored."),
                ));
                i += 2;
                continue;
            }
            Ok(None) => {}
            Err(e) => return Err(format!("{prefix} : {e}")),
        }
        let used = option(&mut opts, opt, val).map_err(|e| format!("{prefix} : '{opt}' : {e}"))?;
        let Some(used) = used else {
            if super::known::bind_option(opt) {
                return Err(format!("{prefix} : '{opt}' is not supported by strata yet."));
            }
            return Err(format!("{prefix}: unknown keyword '{opt}'"));
        };
        if opt == "process" {
            let v = val.unwrap_or_default();
            diags.push(Diag::warning(loc, format!("{prefix} : {}", super::bind_threads::process_warning(v))));
        }
        if let Some(why) = warned(opt) {
            diags.push(Diag::warning(
                loc,
                format!("{prefix} : '{opt}' has no effect in strata ({why}); ignored."),
            ));
        }
        i += 1 + used;
    }
    if let Some(id) = opts.id {
        let taken = o.px.binds.iter().find(|b| b.opts.id == Some(id));
        if let Some(b) = taken {
            return Err(format!("{prefix} : 'id' : custom id {id} already used at {}", b.loc));
        }
    }
    let ssl = (ssl != blank).then(|| Box::new(ssl));
    o.px.binds.extend(addrs.into_iter().map(|(addr, fd, unix)| Bind {
        addr,
        fd,
        loc: loc.clone(),
        opts: opts.clone(),
        ssl: ssl.clone(),
        unix,
    }));
    Ok(())
}

/// Options accepted for what they are but without effect in strata.
pub(super) fn warned(opt: &str) -> Option<&'static str> {
    match opt {
        "transparent" => Some("strata does not bind foreign addresses"),
        "namespace" => Some("strata binds in its own network namespace"),
        _ => None,
    }
}

/// One bind option: how many value words it took, or None if unknown.
pub(super) fn option(b: &mut BindOpts, opt: &str, val: Option<&str>) -> Result<Option<usize>, String> {
    let value = || val.filter(|v| !v.is_empty()).ok_or_else(|| "missing value".to_string());
    let number = || -> Result<u32, String> {
        let v = value()?;
        v.parse::<u32>()
            .ok()
            .filter(|_| v.bytes().all(|c| c.is_ascii_digit()))
            .ok_or_else(|| format!("'{v}' is not a valid number."))
    };
    match opt {
        "proto" => {
            b.proto = match value()? {
                "h2" => crate::cfg::model::BindProto::H2,
                "h1" => crate::cfg::model::BindProto::H1,
                "none" => crate::cfg::model::BindProto::None,
                other => return Err(format!("unknown MUX protocol '{other}'")),
            };
        }
        "name" => b.name = Some(value().map_err(|_| "missing name")?.to_string()),
        "id" => {
            if val.is_none_or(str::is_empty) {
                return Err("expects an integer argument".into());
            }
            let n = number()?;
            if n == 0 {
                return Err("custom id has to be > 0".into());
            }
            b.id = Some(n);
        }
        "maxconn" => b.maxconn = Some(number()?),
        "backlog" => b.backlog = Some(number()?),
        "interface" => b.interface = Some(value().map_err(|_| "missing interface name")?.to_string()),
        "namespace" => {
            value()?;
        }
        "process" => super::bind_threads::process(b, value()?)?,
        "thread" => super::bind_threads::thread(b, value()?)?,
        "defer-accept" => {
            b.defer_accept = true;
            return Ok(Some(0));
        }
        "tfo" => {
            b.tfo = true;
            return Ok(Some(0));
        }
        "accept-proxy" => {
            b.accept_proxy = true;
            return Ok(Some(0));
        }
        "v4v6" => {
            b.v6only = Some(false);
            return Ok(Some(0));
        }
        "v6only" => {
            b.v6only = Some(true);
            return Ok(Some(0));
        }
        "transparent" => return Ok(Some(0)),
        "mode" => {
            let v = val.unwrap_or_default();
            let m = u32::from_str_radix(v, 8)
                .ok()
                .filter(|m| *m <= 0o7777 && v.bytes().all(|c| c.is_ascii_digit()));
            b.mode =
                Some(m.ok_or_else(|| format!("missing or invalid mode '{v}' (octal integer expected)"))?);
        }
        "uid" => b.uid = Some(number()?),
        "gid" => b.gid = Some(number()?),
        "user" => {
            let v = value()?;
            b.uid =
                Some(crate::core::os::user_by_name(v).ok_or_else(|| format!("unknown user name '{v}'"))?.uid);
        }
        "group" => {
            let v = value()?;
            b.gid =
                Some(crate::core::os::group_by_name(v).ok_or_else(|| format!("unknown group name '{v}'"))?);
        }
        _ => return Ok(None),
    }
    Ok(Some(1))
}

/// One address of the list, every port of a `PORT1-PORT2` range (one
/// listener each, as HAProxy), and the inherited descriptor for `fd@N`.
fn listen_addrs(raw: &str) -> Result<Vec<(SocketAddr, Option<i32>)>, String> {
    let text = expand_env(raw)?;
    let Some((host, range)) = text.rsplit_once(':').filter(|(_, p)| p.contains('-')) else {
        return listen_addr(raw).map(|a| vec![a]);
    };
    let bad = || format!("invalid port range '{range}'");
    let (first, last) = range.split_once('-').ok_or_else(bad)?;
    let port = |p: &str| p.parse::<u16>().ok().filter(|p| *p > 0);
    let (Some(first), Some(last)) = (port(first), port(last)) else { return Err(bad()) };
    if first > last {
        return Err(bad());
    }
    let (ip, _) = listen_addr(&format!("{host}:{first}"))?;
    Ok((first..=last).map(|p| (SocketAddr::new(ip.ip(), p), None)).collect())
}

/// One address of the list, and the inherited descriptor for `fd@N`.
fn listen_addr(raw: &str) -> Result<(SocketAddr, Option<i32>), String> {
    let text = expand_env(raw)?;
    let text = text.as_str();
    if let Some(n) = text.strip_prefix("fd@") {
        return match inherited_fd(n, raw)? {
            (fd, Bound::Inet(addr)) => Ok((addr, Some(fd))),
            (fd, Bound::Unix(_)) => Err(format!(
                "file descriptor '{fd}' is a unix socket: only TCP listeners are supported by strata yet"
            )),
        };
    }
    if text.starts_with("sockpair@") {
        return Err(format!("'{text}' : socket pairs are not supported by strata yet"));
    }
    match inet_expanded(text, Use::Listen)? {
        (ip, Some(port)) if port > 0 => Ok((SocketAddr::new(ip, port), None)),
        (_, Some(port)) => Err(format!("invalid port '{port}'")),
        (_, None) => Err(format!("missing port specification in '{text}'")),
    }
}
