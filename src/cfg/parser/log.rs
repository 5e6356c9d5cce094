//! The `log` keyword, shared by `global` and proxy sections:
//! `log <target> [len N] [format F] <facility> [level [minlevel]]`,
//! `log global` (proxies only) and `no log`.

use super::addr::{Use, expand_env, inet_expanded};
use crate::cfg::model::{Loc, LogAddr, LogFormat, LogTarget};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The 24 syslog facilities, in code order.
pub(super) const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2", "ftp", "ntp",
    "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4", "local5", "local6",
    "local7",
];

/// Syslog levels, most severe first.
pub(super) const LEVELS: [&str; 8] = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];

/// What one `log` line asks for.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum LogLine {
    Target(LogTarget), // a destination
    Global,            // `log global`: use the global section's targets
}

/// Parses `log ...` (`words[0] == "log"`). `in_global` words the errors as
/// HAProxy does for the global section, where `log global` is refused.
pub(super) fn parse(words: &[String], in_global: bool, loc: &Loc) -> Result<LogLine, String> {
    let fail = |m: String| Err(format!("log : {m}"));
    let usage = if in_global {
        "expects <address> and <facility> as arguments"
    } else {
        "expects <address> and <facility> or global as arguments"
    };
    let Some(target) = words.get(1) else { return fail(usage.into()) };
    if target == "global" {
        if in_global {
            return fail("'global' is not supported for a global syslog server".into());
        }
        if let Some(extra) = words.get(2) {
            return fail(format!("cannot handle unexpected argument '{extra}'"));
        }
        return Ok(LogLine::Global);
    }
    let addr = match log_addr(target) {
        Ok(a) => a,
        Err(e) => return fail(e),
    };
    let mut i = 2;
    let mut maxlen = 1024;
    if words.get(i).map(String::as_str) == Some("len") {
        let v = words.get(i + 1).map_or("", String::as_str);
        match v.parse::<usize>() {
            Ok(n) if (80..=65535).contains(&n) && v.bytes().all(|b| b.is_ascii_digit()) => maxlen = n,
            _ => return fail(format!("invalid log length '{v}', must be between 80 and 65535")),
        }
        i += 2;
    }
    let mut format = LogFormat::Legacy;
    if words.get(i).map(String::as_str) == Some("format") {
        let v = words.get(i + 1).map_or("", String::as_str);
        format = match super::syslog::log_format(v) {
            Some(f) => f,
            None => return fail(format!("unknown log format '{v}'")),
        };
        i += 2;
    }
    let Some(facility) = words.get(i) else { return fail(usage.into()) };
    if !FACILITIES.contains(&facility.as_str()) {
        return fail(format!("unknown log facility '{facility}'"));
    }
    let level = words.get(i + 1);
    if let Some(l) = level.filter(|l| !LEVELS.contains(&l.as_str())) {
        return fail(format!("unknown optional log level '{l}'"));
    }
    let minlevel = words.get(i + 2);
    if let Some(l) = minlevel.filter(|l| !LEVELS.contains(&l.as_str())) {
        return fail(format!("unknown optional minimum log level '{l}'"));
    }
    if let Some(extra) = words.get(i + 3) {
        return fail(format!("cannot handle unexpected argument '{extra}'"));
    }
    Ok(LogLine::Target(LogTarget {
        addr,
        format,
        maxlen,
        facility: facility.clone(),
        level: level.cloned(),
        minlevel: minlevel.cloned(),
        loc: loc.clone(),
    }))
}

/// `stdout`, `stderr`, a unix path, or a UDP address (default port 514),
/// after `$VAR` expansion.
fn log_addr(target: &str) -> Result<LogAddr, String> {
    let target = expand_env(target)?;
    let target = target.as_str();
    match target {
        "stdout" | "fd@1" => return Ok(LogAddr::Stdout),
        "stderr" | "fd@2" => return Ok(LogAddr::Stderr),
        _ => {}
    }
    if target.starts_with('/') {
        return Ok(LogAddr::Unix(PathBuf::from(target)));
    }
    if let Some(ring) = target.strip_prefix("ring@") {
        if ring.is_empty() {
            return Err("missing ring name in 'ring@'".into());
        }
        return Ok(LogAddr::Ring(ring.to_string()));
    }
    if let Some(path) = target.strip_prefix("unix@") {
        return Ok(LogAddr::Unix(PathBuf::from(path)));
    }
    let (ip, port) = inet_expanded(target, Use::Log)?;
    match port {
        Some(0) => Err("invalid port '0'".into()),
        port => Ok(LogAddr::Udp(SocketAddr::new(ip, port.unwrap_or(514)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    fn parse_line(line: &str, in_global: bool) -> Result<LogLine, String> {
        parse(&words(line), in_global, &Loc::default())
    }

    fn target(line: &str) -> LogTarget {
        match parse_line(line, false) {
            Ok(LogLine::Target(t)) => t,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn targets() {
        let t = target("log 127.0.0.1 local0");
        assert_eq!(t.addr, LogAddr::Udp(SocketAddr::from(([127, 0, 0, 1], 514))));
        assert_eq!(
            (t.format, t.maxlen, t.facility.as_str(), t.level),
            (LogFormat::Legacy, 1024, "local0", None)
        );
        let t = target("log udp@127.0.0.1:515 len 200 format raw daemon info notice");
        assert_eq!(t.addr, LogAddr::Udp(SocketAddr::from(([127, 0, 0, 1], 515))));
        assert_eq!((t.format, t.maxlen), (LogFormat::Raw, 200));
        assert_eq!((t.level.as_deref(), t.minlevel.as_deref()), (Some("info"), Some("notice")));
        assert_eq!(target("log stdout format short local7").addr, LogAddr::Stdout);
        assert_eq!(target("log stderr user").addr, LogAddr::Stderr);
        assert_eq!(target("log /dev/log local0").addr, LogAddr::Unix("/dev/log".into()));
        assert_eq!(
            target("log ipv6@[::1]:600 local0").addr,
            LogAddr::Udp("[::1]:600".parse().unwrap_or_else(|_| unreachable!()))
        );
        assert_eq!(parse_line("log global", false), Ok(LogLine::Global));
        // HAProxy 2.6: an empty host is 0.0.0.0 (the local host), an empty
        // port the syslog port (VTest writes `log :` for an unset syslog).
        assert_eq!(target("log : daemon").addr, LogAddr::Udp(SocketAddr::from(([0, 0, 0, 0], 514))));
        assert_eq!(target("log :600 daemon").addr, LogAddr::Udp(SocketAddr::from(([0, 0, 0, 0], 600))));
        assert_eq!(
            target("log 127.0.0.1: daemon").addr,
            LogAddr::Udp(SocketAddr::from(([127, 0, 0, 1], 514)))
        );
        assert_eq!(target("log *:601 daemon").addr, LogAddr::Udp(SocketAddr::from(([0, 0, 0, 0], 601))));
    }

    #[test]
    fn errors_use_haproxy_wording() {
        let err = |l: &str, g: bool| parse_line(l, g).err().unwrap_or_default();
        assert_eq!(err("log", true), "log : expects <address> and <facility> as arguments");
        assert_eq!(err("log stdout", false), "log : expects <address> and <facility> or global as arguments");
        assert_eq!(err("log global", true), "log : 'global' is not supported for a global syslog server");
        assert_eq!(err("log 127.0.0.1 foo", true), "log : unknown log facility 'foo'");
        assert_eq!(
            err("log 127.0.0.1 len 100 format wrong local0", true),
            "log : unknown log format 'wrong'"
        );
        assert_eq!(err("log 127.0.0.1:99999 local0", true), "log : invalid port '99999'");
        assert_eq!(
            err("log stderr len abc local0", true),
            "log : invalid log length 'abc', must be between 80 and 65535"
        );
        assert_eq!(err("log stdout local0 badlevel", true), "log : unknown optional log level 'badlevel'");
        assert_eq!(
            err("log stdout local0 info notice x", true),
            "log : cannot handle unexpected argument 'x'"
        );
        assert_eq!(err("log stdout local0 info bad", true), "log : unknown optional minimum log level 'bad'");
    }
}
