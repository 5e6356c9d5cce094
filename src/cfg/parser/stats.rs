//! `stats socket <addr> [level user|operator|admin] [mode OCTAL]` in the
//! `global` section. The address (expanded first, `$SOCK`) is a unix path
//! (`/...`, `unix@PATH`), an abstract unix name (`abns@NAME`), a TCP
//! `IP:PORT` (`ipv4@`, `ipv6@` accepted), or `fd@N`: a listening socket,
//! TCP or unix, inherited from the parent process (checked now).

use super::addr::{Use, expand_env, inet_expanded, inherited_fd};
use crate::cfg::model::{AccessLevel, ListenAddr, Loc, StatsSocket};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Parses a `stats socket` line (`words[0..2] == ["stats", "socket"]`).
/// As in HAProxy, `unix-bind` does not apply here (only to `bind`
/// lines). Warnings would go to `_warn` (no option warns since
/// `expose-fd listeners` is obeyed).
pub(super) fn socket(
    words: &[String],
    loc: &Loc,
    _warn: &mut dyn FnMut(String),
) -> Result<StatsSocket, String> {
    let fail = |m: String| Err(format!("'stats socket' : {m}"));
    let Some(text) = words.get(2) else {
        return Err("'stats socket' in global section expects an address or a path to a UNIX socket".into());
    };
    let unix = |path: &str| ListenAddr::Unix(PathBuf::from(path));
    let raw = text;
    let text = match expand_env(raw) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let text = text.as_str();
    let addr = if text.starts_with('/') {
        unix(text)
    } else if let Some(path) = text.strip_prefix("unix@") {
        unix(path)
    } else if let Some(name) = text.strip_prefix("abns@") {
        ListenAddr::Abns(name.to_owned())
    } else if let Some(n) = text.strip_prefix("fd@") {
        match inherited_fd(n, raw) {
            Ok((fd, _)) => ListenAddr::Fd(fd),
            Err(e) => return fail(e),
        }
    } else {
        match inet_expanded(text, Use::Listen) {
            Ok((ip, Some(port))) if port > 0 => ListenAddr::Tcp(SocketAddr::new(ip, port)),
            Ok((_, Some(port))) => return fail(format!("invalid port '{port}'")),
            Ok((_, None)) => return fail(format!("missing port specification in '{text}'")),
            Err(e) => return fail(e),
        }
    };
    let mut sock = StatsSocket {
        addr,
        level: AccessLevel::Operator,
        mode: None,
        uid: None,
        gid: None,
        expose_fd: false,
        loc: loc.clone(),
    };
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
            "uid" | "gid" => {
                let n = val
                    .parse::<u32>()
                    .ok()
                    .filter(|_| !val.is_empty() && val.bytes().all(|b| b.is_ascii_digit()));
                let Some(n) = n else { return fail(format!("'{opt}' : missing or invalid value '{val}'")) };
                if opt == "uid" { sock.uid = Some(n) } else { sock.gid = Some(n) }
            }
            "user" => match crate::core::os::user_by_name(val) {
                Some(a) => sock.uid = Some(a.uid),
                None => return fail(format!("'user' : unknown user '{val}'")),
            },
            "group" => match crate::core::os::group_by_name(val) {
                Some(g) => sock.gid = Some(g),
                None => return fail(format!("'group' : unknown group '{val}'")),
            },
            "expose-fd" => {
                if val != "listeners" {
                    return fail(format!("'expose-fd' : only 'listeners' is supported (got '{val}')"));
                }
                // a new process started with `-x` takes the listening sockets here
                sock.expose_fd = true;
            }
            "process" | "thread" => {
                if !matches!(val, "1" | "all" | "1/1" | "1/all") {
                    return fail(format!(
                        "'{opt}' : '{val}' is not a valid number/range. It supports numbers from 1 to 1."
                    ));
                }
            }
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
        socket(&words, &Loc::default(), &mut |_| {})
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
    fn owner_and_expose_fd() {
        let words: Vec<String> = "stats socket unix@s.sock uid 7 gid 2 expose-fd listeners process 1"
            .split_whitespace()
            .map(String::from)
            .collect();
        let mut warned = Vec::new();
        let s = socket(&words, &Loc::default(), &mut |w| warned.push(w));
        let s = s.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.addr, ListenAddr::Unix("s.sock".into()));
        assert_eq!((s.mode, s.uid, s.gid, s.expose_fd), (None, Some(7), Some(2), true));
        assert!(warned.is_empty(), "expose-fd listeners is obeyed: {warned:?}");
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
        assert_eq!(err("stats socket /x bogus 1"), "'stats socket' : unknown keyword 'bogus'.");
        assert_eq!(
            err("stats socket /x expose-fd all"),
            "'stats socket' : 'expose-fd' : only 'listeners' is supported (got 'all')"
        );
    }
}
