//! The options of a `stats socket` line (issue 17): the CLI's own `level`,
//! `severity-output` and `expose-fd`, and the `bind` options HAProxy 2.6
//! takes there too (`accept-proxy`, `maxconn`, `backlog`, `thread`...),
//! each shown by what the socket does. The answers are HAProxy 2.6.12's,
//! observed on the same configurations (`STRATA_BIN=/usr/sbin/haproxy`
//! runs this file against it).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::http_cfg::global_with_answering_frontend;
use support::{CliSession, Proxy, cli, cli_raw, free_port, under_haproxy};

#[test]
fn severity_output_prefixes_message_answers() {
    let (number, string, none) = (free_port(), free_port(), free_port());
    let (cfg, _) = global_with_answering_frontend(&[
        format!("stats socket 127.0.0.1:{number} level admin severity-output number"),
        format!("stats socket 127.0.0.1:{string} level operator severity-output string"),
        format!("stats socket 127.0.0.1:{none} level user severity-output none"),
    ]);
    let _proxy = Proxy::start(&cfg);
    // errors are syslog "err" (3)
    assert_eq!(cli(string, "set maxconn global 10"), "[err]: Permission denied\n\n");
    assert_eq!(cli(none, "set maxconn global 10"), "Permission denied\n\n");
    assert_eq!(cli(number, "set maxconn frontend nosuch 1"), "[3]: No such frontend.\n\n");
    assert_eq!(cli(string, "show servers state nosuch"), "[err]: Can't find backend.\n\n");
    assert_eq!(
        cli(number, "set severity-output loud"),
        "[3]: one of 'none', 'number', 'string' is a required argument\n\n"
    );
    // informational answers are "info" (6)
    assert_eq!(cli(number, "expert-mode"), "[6]: expert-mode is OFF\n\n");
    assert!(cli(number, "show version").starts_with("[6]: "));
    let unknown = cli(string, "bogus");
    assert!(unknown.starts_with("[info]: Unknown command, but maybe one of the following"), "{unknown:?}");
    assert!(cli(number, "help").starts_with("[6]: The following commands are valid at this level:\n"));
    // a command without a message answer, and a dump, are not prefixed
    assert_eq!(cli(number, "set maxconn global 100"), "\n");
    assert!(cli(number, "show info").starts_with("Name: "));
    // `set severity-output` changes the conversation's own format
    assert_eq!(
        cli(none, "set severity-output string; set maxconn global 1"),
        "\n[err]: Permission denied\n\n"
    );
    assert_eq!(cli(string, "set severity-output none; set maxconn global 1"), "\nPermission denied\n\n");
    // and only the conversation's
    assert_eq!(cli(none, "set maxconn global 1"), "Permission denied\n\n");
}

#[test]
fn severity_output_is_listed_by_help() {
    let port = free_port();
    let (cfg, _) = global_with_answering_frontend(&[format!("stats socket 127.0.0.1:{port} level user")]);
    let _proxy = Proxy::start(&cfg);
    let help = cli(port, "help");
    assert!(
        help.contains(
            "\n  set severity-output [none|number|string]: set presence of severity level in feedback information\n"
        ),
        "{help}"
    );
}

/// Reads until the peer closes or `within` passes; (bytes, closed).
fn read_until_close(s: &mut TcpStream, within: Duration) -> (Vec<u8>, bool) {
    s.set_read_timeout(Some(within)).expect("timeout");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return (out, false);
            }
            Err(_) => return (out, true),
        }
    }
}

#[test]
fn accept_proxy_needs_a_proxy_header_first() {
    let port = free_port();
    let (cfg, _) =
        global_with_answering_frontend(&[format!("stats socket 127.0.0.1:{port} level admin accept-proxy")]);
    let _proxy = Proxy::start(&cfg);
    let with = cli_raw(port, b"PROXY TCP4 10.1.2.3 10.0.0.1 4000 9999\r\nshow version\n");
    assert!(!with.is_empty() && with.ends_with(b"\n\n"), "{:?}", String::from_utf8_lossy(&with));
    let v2 = {
        let mut h = b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c".to_vec();
        h.extend_from_slice(&[10, 1, 2, 3, 10, 0, 0, 1, 0x0f, 0xa0, 0x27, 0x0f]);
        h.extend_from_slice(b"show version\n");
        cli_raw(port, &h)
    };
    assert_eq!(v2, with, "a version 2 header is taken as well");
    // a command without the header is never run: the connection closes
    assert!(cli_raw(port, b"show version\n").is_empty());
}

#[test]
fn maxconn_holds_further_connections_until_one_closes() {
    let port = free_port();
    let (cfg, _) =
        global_with_answering_frontend(&[format!("stats socket 127.0.0.1:{port} level admin maxconn 1")]);
    let _proxy = Proxy::start(&cfg);
    let mut first = CliSession::connect(port);
    let (greeting, closed) = first.exchange(b"prompt\n", b"> ");
    assert!(!closed && greeting.ends_with(b"> "));
    // the second connection waits in the backlog: its command gets no answer yet
    let mut second = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    second.write_all(b"show version\n").expect("send");
    let (early, closed) = read_until_close(&mut second, Duration::from_millis(500));
    assert!(early.is_empty() && !closed, "answered beyond maxconn 1: {:?}", String::from_utf8_lossy(&early));
    drop(first);
    let (answer, closed) = read_until_close(&mut second, Duration::from_secs(10));
    assert!(closed && answer.ends_with(b"\n\n"), "{:?}", String::from_utf8_lossy(&answer));
}

/// The listen backlog of the TCP socket on `port`, as `ss -ltn` shows it
/// (its Send-Q column); None without `ss`.
fn listen_backlog(port: u16) -> Option<u32> {
    let out = std::process::Command::new("ss").args(["-ltnH", &format!("sport = :{port}")]).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().find_map(|l| l.split_whitespace().nth(2)?.parse().ok())
}

#[test]
fn backlog_and_stats_maxconn_size_the_listen_queue() {
    if std::process::Command::new("ss").arg("-V").output().is_err() {
        eprintln!("skipped: no `ss` to read listen backlogs");
        return;
    }
    let (own, default, global) = (free_port(), free_port(), free_port());
    let (cfg, _) = global_with_answering_frontend(&[
        format!("stats socket 127.0.0.1:{own} backlog 7"),
        format!("stats socket 127.0.0.1:{default}"),
    ]);
    let _proxy = Proxy::start(&cfg);
    cli(own, "show version");
    assert_eq!(listen_backlog(own), Some(7));
    // without `backlog`: the socket's maxconn, `stats maxconn`'s default 10
    assert_eq!(listen_backlog(default), Some(10));
    let (cfg, _) = global_with_answering_frontend(&[
        "stats maxconn 3".into(),
        format!("stats socket 127.0.0.1:{global}"),
    ]);
    let _proxy = Proxy::start(&cfg);
    cli(global, "show version");
    assert_eq!(listen_backlog(global), Some(3));
}

#[test]
fn refusals_name_the_option_as_haproxy() {
    let alert = |opts: &str| {
        let (cfg, _) =
            global_with_answering_frontend(&[format!("stats socket 127.0.0.1:{} {opts}", free_port())]);
        let (code, out, err) = Proxy::check(&cfg);
        assert_ne!(code, 0, "{opts}: accepted\n{out}{err}");
        err.lines()
            .find(|l| l.contains("[ALERT]"))
            .map(|l| l.split(" : ").skip(2).collect::<Vec<_>>().join(" : "))
    };
    let cases = [
        ("level", "'stats socket' : ''level' : missing level'"),
        (
            "level root",
            "'stats socket' : ''level' only supports 'user', 'operator', and 'admin' (got 'root')'",
        ),
        ("severity-output", "'stats socket' : ''severity-output' : missing severity format'"),
        (
            "severity-output loud",
            "'stats socket' : ''severity-output' only supports 'none', 'number', and 'string' (got 'loud')'",
        ),
        ("expose-fd all", "'stats socket' : ''expose-fd' only supports 'listeners' (got 'all')'"),
        ("mode 999", "'stats socket' : ''mode' : missing or invalid mode '999' (octal integer expected)'"),
        ("backlog", "'stats socket' : ''backlog' : missing value'"),
        ("id 0", "'stats socket' : ''id' : custom id has to be > 0'"),
        ("name", "'stats socket' : ''name' : missing name'"),
        ("bogus 1", "'stats socket' : unknown keyword 'bogus'."),
    ];
    for (opts, want) in cases {
        let got = alert(opts).unwrap_or_default();
        assert!(got.ends_with(want), "{opts}: {got:?}\n want {want:?}");
    }
    let (cfg, _) = global_with_answering_frontend(&[
        "nbthread 2".into(),
        format!("stats socket 127.0.0.1:{} thread 3", free_port()),
    ]);
    let (code, _, err) = Proxy::check(&cfg);
    assert_ne!(code, 0);
    assert!(
        err.contains(
            "Proxy 'GLOBAL': 'thread' directive contains threads that belong to no group in 'bind 127.0.0.1:"
        ),
        "{err}"
    );
    let (cfg, _) = global_with_answering_frontend(&["stats maxconn 0"]);
    let (_, _, err) = Proxy::check(&cfg);
    assert!(err.contains("'stats maxconn' expects a positive value"), "{err}");
}

#[test]
fn bind_options_are_accepted_on_a_stats_socket() {
    let port = free_port();
    let (cfg, _) = global_with_answering_frontend(&[format!(
        "stats socket 127.0.0.1:{port} level operator severity-output string name cli id 4 thread 1 \
         defer-accept tfo v4v6 maxconn 5"
    )]);
    let (code, out, err) = Proxy::check(&cfg);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("[ALERT]") && !err.contains("[WARNING]"), "{err}");
    let _proxy = Proxy::start(&cfg);
    assert_eq!(cli(port, "set maxconn global 1"), "[err]: Permission denied\n\n");
}

#[test]
fn cli_options_on_a_bind_line_are_warned_by_strata() {
    let port = free_port();
    let (mut cfg, fe) = global_with_answering_frontend::<&str>(&[]);
    cfg = cfg.replace(
        &format!("bind 127.0.0.1:{fe}\n"),
        &format!("bind 127.0.0.1:{port} level admin severity-output number expose-fd listeners\n"),
    );
    let (code, out, err) = Proxy::check(&cfg);
    assert_eq!(code, 0, "{out}{err}");
    if under_haproxy() {
        return; // HAProxy accepts them silently: they only act on its CLI applet
    }
    for opt in ["level", "severity-output", "expose-fd"] {
        assert!(
            err.lines().any(|l| l.contains("[WARNING]") && l.contains(&format!("'{opt}' has no effect"))),
            "{opt}: {err}"
        );
    }
}
