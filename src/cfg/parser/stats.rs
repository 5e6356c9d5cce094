//! `stats socket <addr> [options]` in the `global` section. The address
//! (expanded first, `$SOCK`) is a unix path (`/...`, `unix@PATH`), an
//! abstract unix name (`abns@NAME`), a TCP `IP:PORT` (`ipv4@`, `ipv6@`
//! accepted), or `fd@N`: a listening socket, TCP or unix, inherited from
//! the parent process (checked now).
//!
//! Options, as HAProxy 2.6 takes them on a stats socket: the CLI's own
//! `level user|operator|admin`, `severity-output none|number|string` and
//! `expose-fd listeners`, then every `bind` option (`bind::option`, the
//! same parser as `bind` lines: `mode`, `user`/`uid`, `group`/`gid`,
//! `maxconn`, `backlog`, `accept-proxy`, `name`, `id`, `thread`,
//! `process`, `defer-accept`, `tfo`, `interface`, `v4v6`/`v6only`...).
//! Error texts are HAProxy's (`'stats socket' : ''level' : ...'`).

use super::addr::{Use, expand_env, inet_expanded, inherited_fd};
use crate::cfg::listen::BindOpts;
use crate::cfg::model::{AccessLevel, ListenAddr, Loc, SeverityOutput, StatsSocket};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Parses a `stats socket` line (`words[0..2] == ["stats", "socket"]`).
/// As in HAProxy, `unix-bind` does not apply here (only to `bind`
/// lines). Warnings (`process`, options without effect) go to `warn`.
pub(super) fn socket(
    words: &[String],
    loc: &Loc,
    warn: &mut dyn FnMut(String),
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
        severity: SeverityOutput::None,
        expose_fd: false,
        opts: BindOpts::default(),
        loc: loc.clone(),
    };
    let mut i = 3;
    while let Some(opt) = words.get(i) {
        let val = words.get(i + 1).map(String::as_str);
        match cli_word(opt, val) {
            Ok(Some(word)) => {
                match word {
                    CliWord::Level(l) => sock.level = l,
                    CliWord::Severity(s) => sock.severity = s,
                    // a new process started with `-x` takes the listening sockets here
                    CliWord::ExposeFd => sock.expose_fd = true,
                }
                i += 2;
                continue;
            }
            Ok(None) => {}
            Err(e) => return fail(format!("'{e}'")),
        }
        if opt == "proto" {
            // HAProxy: "MUX protocol 'h2' is not usable for 'bind ...'"
            return fail(format!(
                "MUX protocol '{}' is not usable for a stats socket.",
                val.unwrap_or_default()
            ));
        }
        match super::bind::option(&mut sock.opts, opt, val) {
            Ok(Some(n)) => i += 1 + n,
            Ok(None) => return fail(refusal(words, i)),
            Err(e) => return fail(format!("''{opt}' : {e}'")),
        }
        if opt == "process" {
            warn(format!(
                "'stats socket' : {}",
                super::bind_threads::process_warning(val.unwrap_or_default())
            ));
        }
        if let Some(why) = super::bind::warned(opt) {
            warn(format!("'stats socket' : '{opt}' has no effect in strata ({why}); ignored."));
        }
    }
    Ok(sock)
}

/// An option only a CLI listener uses (`level`, `severity-output`,
/// `expose-fd`); `bind` lines accept them too, as HAProxy does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CliWord {
    Level(AccessLevel),
    Severity(SeverityOutput),
    ExposeFd,
}

/// `opt val` if `opt` is a CLI listener's option (it takes one value
/// word); Err the text HAProxy gives (quoted by the caller).
pub(super) fn cli_word(opt: &str, val: Option<&str>) -> Result<Option<CliWord>, String> {
    let val = val.unwrap_or_default();
    Ok(Some(match opt {
        "level" => CliWord::Level(match val {
            "user" => AccessLevel::User,
            "operator" => AccessLevel::Operator,
            "admin" => AccessLevel::Admin,
            "" => return Err("'level' : missing level".into()),
            _ => return Err(format!("'level' only supports 'user', 'operator', and 'admin' (got '{val}')")),
        }),
        "severity-output" => {
            if val.is_empty() {
                return Err("'severity-output' : missing severity format".into());
            }
            CliWord::Severity(SeverityOutput::parse(val).ok_or_else(|| {
                format!("'severity-output' only supports 'none', 'number', and 'string' (got '{val}')")
            })?)
        }
        "expose-fd" if val == "listeners" => CliWord::ExposeFd,
        "expose-fd" => return Err(format!("'expose-fd' only supports 'listeners' (got '{val}')")),
        _ => return Ok(None),
    }))
}

/// Why option `words[i]`, which no parser took, is refused.
fn refusal(words: &[String], i: usize) -> String {
    let opt = words[i].as_str();
    let mut ssl = crate::cfg::ssl::BindSsl::default();
    if super::ssl_opts::bind_option(&mut ssl, words, i).is_some() {
        return format!("'{opt}' : TLS on a stats socket is not supported by strata yet.");
    }
    if super::known::bind_option(opt) {
        return format!("'{opt}' is not supported by strata yet.");
    }
    format!("unknown keyword '{opt}'.")
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
            s.as_ref().map(|s| (&s.addr, s.level, s.opts.mode)),
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
        assert_eq!((s.opts.mode, s.opts.uid, s.opts.gid, s.expose_fd), (None, Some(7), Some(2), true));
        assert_eq!(warned.len(), 1, "process 1 is deprecated: {warned:?}");
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
            "'stats socket' : ''level' only supports 'user', 'operator', and 'admin' (got 'bogus')'"
        );
        assert_eq!(err("stats socket /x level"), "'stats socket' : ''level' : missing level'");
        assert_eq!(
            err("stats socket /x mode 999"),
            "'stats socket' : ''mode' : missing or invalid mode '999' (octal integer expected)'"
        );
        assert_eq!(err("stats socket /x bogus 1"), "'stats socket' : unknown keyword 'bogus'.");
        assert_eq!(
            err("stats socket /x expose-fd all"),
            "'stats socket' : ''expose-fd' only supports 'listeners' (got 'all')'"
        );
        assert_eq!(
            err("stats socket /x severity-output loud"),
            "'stats socket' : ''severity-output' only supports 'none', 'number', and 'string' (got 'loud')'"
        );
        assert_eq!(
            err("stats socket /x severity-output"),
            "'stats socket' : ''severity-output' : missing severity format'"
        );
        assert_eq!(err("stats socket /x backlog"), "'stats socket' : ''backlog' : missing value'");
        assert_eq!(err("stats socket /x id 0"), "'stats socket' : ''id' : custom id has to be > 0'");
        assert!(
            err("stats socket /x ssl crt /c.pem")
                .contains("TLS on a stats socket is not supported by strata yet")
        );
    }

    #[test]
    fn bind_options() {
        let s = parse(
            "stats socket 127.0.0.1:9 level user severity-output string maxconn 3 backlog 7 accept-proxy name cli id 4 thread 1 defer-accept",
        );
        let s = s.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((s.level, s.severity), (AccessLevel::User, SeverityOutput::String));
        assert_eq!((s.opts.maxconn, s.opts.backlog, s.opts.accept_proxy), (Some(3), Some(7), true));
        assert_eq!((s.opts.name.as_deref(), s.opts.id, s.opts.defer_accept), (Some("cli"), Some(4), true));
        assert!(s.opts.thread.is_some());
    }
}
