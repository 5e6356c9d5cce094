//! Log selection options, by the lines a syslog server receives:
//! `option dontlog-normal` (only streams with an error: a deny, a 5xx, a
//! retry, a redispatch) and `option log-separate-errors` (those at level
//! err, the others at info), in HTTP and TCP mode. Validated against
//! HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use support::syslog::LogReceiver;
use support::time::ms;
use support::{Backend, HttpBackend, HttpCfg, HttpConn, Proxy, connect, free_port, get, round_trip};

/// `GET /` (200), `GET /deny` (403 by a rule) on one connection, then
/// the lines received: (PRI, text).
fn http_lines(frontend_opts: &[&str]) -> Vec<(u32, String)> {
    let be = HttpBackend::start();
    let port = free_port();
    let rx = LogReceiver::udp();
    let mut cfg = HttpCfg::new(port, Some(be.port()))
        .httplog()
        .frontend(&format!("log {} local0", rx.target()))
        .frontend("http-request deny if { path /deny }");
    for o in frontend_opts {
        cfg = cfg.frontend(o);
    }
    let _p = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    assert_eq!(c.request(&get("/")).expect("ok").status, 200);
    assert_eq!(c.request(&get("/deny")).expect("deny").status, 403);
    drop(c);
    rx.drain_for(ms(800))
        .into_iter()
        .map(|l| {
            let pri = l.strip_prefix('<').and_then(|r| r.split_once('>')).and_then(|(p, _)| p.parse().ok());
            (pri.unwrap_or(0), l)
        })
        .collect()
}

const INFO: u32 = 16 * 8 + 6; // local0.info
const ERR: u32 = 16 * 8 + 3; // local0.err

#[test]
fn dontlog_normal_keeps_only_errors() {
    let lines = http_lines(&[]);
    assert_eq!(lines.len(), 2, "control: both requests logged: {lines:?}");
    let lines = http_lines(&["option dontlog-normal"]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].1.contains(" 403 ") && lines[0].1.contains("PR--"), "{lines:?}");
}

#[test]
fn log_separate_errors_raises_errors_to_err() {
    let lines = http_lines(&[]);
    assert!(lines.iter().all(|(p, _)| *p == INFO), "control: all at info: {lines:?}");
    let lines = http_lines(&["option log-separate-errors"]);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let ok = lines.iter().find(|(_, l)| l.contains("GET / HTTP")).expect("ok line");
    let deny = lines.iter().find(|(_, l)| l.contains("GET /deny")).expect("deny line");
    assert_eq!((ok.0, deny.0), (INFO, ERR), "{lines:?}");
}

/// TCP mode: a stream whose server refuses is an error; a clean one is not.
#[test]
fn tcp_streams_with_and_without_error() {
    let echo = Backend::echo();
    let closed = support::closed_port();
    let (p1, p2) = (free_port(), free_port());
    let rx = LogReceiver::udp();
    let cfg = format!(
        "defaults\n    mode tcp\n    timeout connect 500ms\n    timeout client 5s\n    timeout server 5s\n    retries 0\n\
         frontend f1\n    bind 127.0.0.1:{p1}\n    option tcplog\n    option dontlog-normal\n    option log-separate-errors\n    \
         log {t} local0\n    default_backend ok\n\
         frontend f2\n    bind 127.0.0.1:{p2}\n    option tcplog\n    option dontlog-normal\n    option log-separate-errors\n    \
         log {t} local0\n    default_backend down\n\
         backend ok\n    server s {}\nbackend down\n    server s 127.0.0.1:{closed}\n",
        echo.addr(),
        t = rx.target()
    );
    let _p = Proxy::start(&cfg);
    let mut c = connect(p1);
    assert!(round_trip(&mut c, b"x", ms(3000)).is_ok());
    drop(c);
    let mut c = connect(p2);
    let _ = support::expect_closed_within(&mut c, ms(3000));
    let lines = rx.drain_for(ms(800));
    assert_eq!(lines.len(), 1, "only the failed stream: {lines:?}");
    assert!(lines[0].starts_with(&format!("<{ERR}>")) && lines[0].contains(" f2 "), "{lines:?}");
}
