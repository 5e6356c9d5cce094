//! `stats socket <addr> [level user|operator|admin] [mode OCTAL]` in the
//! `global` section. The address is a unix path (`/...`, `unix@/...`) or
//! a TCP `IP:PORT` (`ipv4@`, `ipv6@` accepted).

use super::addr::{Use, inet};
use crate::cfg::model::{AccessLevel, ListenAddr, Loc, StatsSocket};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Parses a `stats socket` line (`words[0..2] == ["stats", "socket"]`).
pub(super) fn socket(words: &[String], loc: &Loc) -> Result<StatsSocket, String> {
    let fail = |m: String| Err(format!("'stats socket' : {m}"));
    let Some(text) = words.get(2) else {
        return Err("'stats socket' in global section expects an address or a path to a UNIX socket".into());
    };
    let addr = if text.starts_with('/') {
        ListenAddr::Unix(PathBuf::from(text))
    } else if let Some(path) = text.strip_prefix("unix@") {
        ListenAddr::Unix(PathBuf::from(path))
    } else {
        match inet(text, Use::Listen) {
            Ok((ip, Some(port))) if port > 0 => ListenAddr::Tcp(SocketAddr::new(ip, port)),
            Ok((_, Some(port))) => return fail(format!("invalid port '{port}'")),
            Ok((_, None)) => return fail(format!("missing port specification in '{text}'")),
            Err(e) => return fail(e),
        }
    };
    let mut sock = StatsSocket { addr, level: AccessLevel::Operator, mode: None, loc: loc.clone() };
    let mut i = 3;
    while let Some(opt) = words.get(i) {
        let val = words.get(i + 1).map_or("", String::as_str);
        match opt.as_str() {
            "level" => {
                sock.level = match val {
                    "user" => AccessLevel::User,
                    "operator" => AccessLevel::Operator,
                    "admin" => AccessLevel::Admin,
                    "" => return fail("'level' : missing level".into()),
                    _ => {
                        return fail(format!(
                            "'level' only supports 'user', 'operator', and 'admin' (got '{val}')"
                        ));
                    }
                }
            }
            "mode" => match u32::from_str_radix(val, 8) {
                Ok(m)
                    if !val.is_empty() && val.bytes().all(|b| (b'0'..=b'7').contains(&b)) && m <= 0o7777 =>
                {
                    sock.mode = Some(m)
                }
                _ => {
                    return fail(format!(
                        "'mode' : missing or invalid mode '{val}' (octal integer expected)"
                    ));
                }
            },
            _ => return fail(format!("unknown keyword '{opt}'.")),
        }
        i += 2;
    }
    Ok(sock)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<StatsSocket, String> {
        let words: Vec<String> = line.split_whitespace().map(String::from).collect();
        socket(&words, &Loc::default())
    }

    #[test]
    fn forms() {
        let s = parse("stats socket /run/s.sock mode 600 level admin");
        assert_eq!(
            s.as_ref().map(|s| (&s.addr, s.level, s.mode)),
            Ok((&ListenAddr::Unix("/run/s.sock".into()), AccessLevel::Admin, Some(0o600)))
        );
        let s = parse("stats socket ipv4@127.0.0.1:9999");
        assert_eq!(
            s.map(|s| (s.addr, s.level)),
            Ok((ListenAddr::Tcp(SocketAddr::from(([127, 0, 0, 1], 9999))), AccessLevel::Operator))
        );
        assert!(matches!(
            parse("stats socket :9999 level user"),
            Ok(StatsSocket { level: AccessLevel::User, .. })
        ));
    }

    #[test]
    fn errors() {
        let err = |l: &str| parse(l).err().unwrap_or_default();
        assert_eq!(
            err("stats socket"),
            "'stats socket' in global section expects an address or a path to a UNIX socket"
        );
        assert_eq!(err("stats socket 1.2.3.4:99999"), "'stats socket' : invalid port '99999'");
        assert_eq!(err("stats socket 1.2.3.4"), "'stats socket' : missing port specification in '1.2.3.4'");
        assert_eq!(
            err("stats socket /x level bogus"),
            "'stats socket' : 'level' only supports 'user', 'operator', and 'admin' (got 'bogus')"
        );
        assert_eq!(err("stats socket /x level"), "'stats socket' : 'level' : missing level");
        assert_eq!(
            err("stats socket /x mode 999"),
            "'stats socket' : 'mode' : missing or invalid mode '999' (octal integer expected)"
        );
        assert_eq!(
            err("stats socket /x expose-fd listeners"),
            "'stats socket' : unknown keyword 'expose-fd'."
        );
    }
}
