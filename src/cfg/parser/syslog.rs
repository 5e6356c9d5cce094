//! `ring NAME` sections (`description`, `format`, `maxlen`, `size`,
//! `timeout connect|server`, `server NAME ADDR:PORT [log-proto
//! legacy|octet-count]`) and `log-forward NAME` sections (`bind`,
//! `dgram-bind`, `log`, `maxconn`, `backlog`, `timeout client`), with
//! HAProxy 2.6's messages. Types in `cfg::syslog`.

use super::addr::{Use, inet};
use super::args::{Res, int, no_extra, time};
use super::log::LogLine;
use crate::cfg::model::{Config, Loc, LogFormat};
use crate::cfg::syslog::{BUILTIN_RING, LogForwardDef, RingDef, RingServer};
use std::net::SocketAddr;

/// A section name: HAProxy's `invalid_char` (letters, digits, `-_.:`).
fn check_name(kind: &str, name: Option<&String>) -> Result<String, String> {
    let name = name.filter(|n| !n.is_empty()).ok_or(format!("missing {kind} name."))?;
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c))) {
        return Err(format!("invalid {kind} name '{name}' (character '{c}' is not permitted)."));
    }
    Ok(name.clone())
}

/// The `ring NAME` header.
pub(super) fn open_ring(cfg: &Config, words: &[String], loc: &Loc) -> Result<RingDef, String> {
    let name = check_name("ring", words.get(1))?;
    if name == BUILTIN_RING
        || matches!(name.as_str(), "stdout" | "stderr")
        || cfg.rings.iter().any(|r| r.name == name)
    {
        return Err(format!("sink named '{name}' already exists."));
    }
    Ok(RingDef::new(&name, loc))
}

/// One line of a `ring` section.
pub(super) fn ring_line(r: &mut RingDef, words: &[String]) -> Res {
    let kw = words[0].as_str();
    let arg = words.get(1).map_or("", String::as_str);
    match kw {
        "description" => {
            if arg.is_empty() {
                return Err("missing ring description text.".into());
            }
            r.description = Some(arg.to_string());
            no_extra(kw, words, 2)
        }
        "format" => {
            r.format = log_format(arg).ok_or(format!("unknown format '{arg}'."))?;
            no_extra(kw, words, 2)
        }
        "maxlen" | "size" => {
            let n: usize = arg.parse().unwrap_or(0);
            if n == 0 {
                return Err(format!(
                    "invalid size '{arg}' for new sink buffer{}.",
                    if kw == "maxlen" { " event max length" } else { "" }
                ));
            }
            if kw == "maxlen" {
                r.maxlen = n;
            } else {
                r.size = n;
            }
            no_extra(kw, words, 2)
        }
        "timeout" => {
            let which = arg;
            if which != "connect" && which != "server" {
                return Err(format!("unable to set timeout '{which}'."));
            }
            let v = words.get(2).ok_or(format!("'timeout {which}' expects <time> as argument."))?;
            let t = time(&format!("timeout {which}"), v)?;
            *(if which == "connect" { &mut r.timeout_connect } else { &mut r.timeout_server }) = Some(t);
            no_extra(kw, words, 3)
        }
        "server" => {
            let name = words
                .get(1)
                .filter(|n| !n.is_empty())
                .ok_or("'server' expects <name> and <addr>[:<port>] as arguments.")?;
            let text = words.get(2).ok_or(format!("'server {name}' expects <addr>[:<port>] as argument."))?;
            let (ip, port) = inet(text, Use::Connect).map_err(|e| format!("'server {name}' : {e}"))?;
            let port = port
                .filter(|p| *p != 0)
                .ok_or(format!("'server {name}' : missing port specification in '{text}'"))?;
            let mut octet_count = false;
            let mut i = 3;
            while let Some(opt) = words.get(i) {
                match opt.as_str() {
                    "log-proto" => {
                        octet_count = match words.get(i + 1).map(String::as_str) {
                            Some("legacy") => false,
                            Some("octet-count") => true,
                            other => {
                                return Err(format!(
                                    "'server {name}' : 'log-proto' expects one of 'legacy' or 'octet-count' but got '{}'",
                                    other.unwrap_or("")
                                ));
                            }
                        };
                        i += 2;
                    }
                    _ => {
                        return Err(format!(
                            "'server {name}' : '{opt}' is not supported by strata on a ring server (only 'log-proto')."
                        ));
                    }
                }
            }
            r.servers.push(RingServer { name: name.clone(), addr: SocketAddr::new(ip, port), octet_count });
            Ok(())
        }
        _ => Err(format!("unknown statement '{kw}'.")),
    }
}

/// A `format` name (`local` is the legacy format).
pub(super) fn log_format(name: &str) -> Option<LogFormat> {
    Some(match name {
        "local" => LogFormat::Legacy,
        "rfc3164" => LogFormat::Rfc3164,
        "rfc5424" => LogFormat::Rfc5424,
        "priority" => LogFormat::Priority,
        "short" => LogFormat::Short,
        "timed" => LogFormat::Timed,
        "iso" => LogFormat::Iso,
        "raw" => LogFormat::Raw,
        _ => return None,
    })
}

/// The `log-forward NAME` header.
pub(super) fn open_log_forward(cfg: &Config, words: &[String], loc: &Loc) -> Result<LogForwardDef, String> {
    let name = check_name("log-forward", words.get(1))?;
    if let Some(other) = cfg.log_forwards.iter().find(|f| f.name == name) {
        return Err(format!(
            "log-forward section '{name}' has the same name as another log-forward section declared at {}.",
            other.loc
        ));
    }
    if cfg.proxies.iter().any(|p| p.name == name) {
        return Err(format!("log forward section '{name}' has the same name as a proxy."));
    }
    Ok(LogForwardDef { name, loc: loc.clone(), ..LogForwardDef::default() })
}

/// One line of a `log-forward` section.
pub(super) fn log_forward_line(f: &mut LogForwardDef, cfg: &Config, words: &[String], loc: &Loc) -> Res {
    let kw = words[0].as_str();
    match kw {
        "bind" | "dgram-bind" => {
            let text = words
                .get(1)
                .ok_or(format!("'{kw}' expects {{<path>|[addr1]:port1[-end1]}}[,...] as arguments."))?;
            let mut addrs = Vec::new();
            for one in text.split(',') {
                let (ip, port) = inet(one, Use::Listen).map_err(|e| format!("'{kw}' : {e}"))?;
                let port = port.ok_or(format!("'{kw}' : missing port specification in '{one}'"))?;
                addrs.push(SocketAddr::new(ip, port));
            }
            if let Some(opt) = words.get(2) {
                return Err(format!(
                    "'{kw}' : '{opt}' is not supported by strata on a log-forward listener."
                ));
            }
            if kw == "bind" { &mut f.binds } else { &mut f.dgram_binds }.extend(addrs);
            Ok(())
        }
        "log" => match super::log::parse(words, false, loc)? {
            LogLine::Target(t) => {
                f.logs.push(t);
                Ok(())
            }
            LogLine::Global => {
                f.logs.extend(cfg.global.logs.iter().cloned());
                Ok(())
            }
        },
        "maxconn" | "backlog" => {
            let n: u32 = int(kw, words.get(1))?;
            *(if kw == "maxconn" { &mut f.maxconn } else { &mut f.backlog }) = Some(n);
            no_extra(kw, words, 2)
        }
        "timeout" if words.get(1).map(String::as_str) == Some("client") => {
            let v = words.get(2).ok_or("'timeout client' expects an integer value (in milliseconds)")?;
            f.timeout_client = Some(time("timeout client", v)?);
            no_extra(kw, words, 3)
        }
        "timeout" => Err(format!(
            "unknown timeout '{}' in log-forward section.",
            words.get(1).map_or("", String::as_str)
        )),
        _ => Err(format!("unknown keyword '{kw}' in log-forward section")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn ring_lines() {
        let mut r = RingDef::new("r", &Loc::default());
        for l in [
            "format rfc5424",
            "maxlen 1200",
            "size 32764",
            "timeout connect 5s",
            "server s 127.0.0.1:2514 log-proto octet-count",
        ] {
            ring_line(&mut r, &w(l)).unwrap_or_else(|e| panic!("{l}: {e}"));
        }
        assert_eq!((r.format, r.maxlen, r.size), (LogFormat::Rfc5424, 1200, 32764));
        assert_eq!(r.timeout_connect, Some(std::time::Duration::from_secs(5)));
        assert_eq!(r.servers[0].addr.port(), 2514);
        assert!(r.servers[0].octet_count);
        assert_eq!(ring_line(&mut r, &w("format bogus")), Err("unknown format 'bogus'.".into()));
        assert_eq!(ring_line(&mut r, &w("colour red")), Err("unknown statement 'colour'.".into()));
        assert!(ring_line(&mut r, &w("server s 127.0.0.1")).is_err());
        assert!(ring_line(&mut r, &w("size 0")).is_err());
    }
}
