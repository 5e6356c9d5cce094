//! Health checks as HAProxy's own regression tests drive them
//! (`reg-tests/checks/*.vtc`), each behaviour checked here with the real
//! binary: `option httpchk` with headers and a body hidden after the
//! version (HAProxy 2.6 sends them, with a deprecation warning), a check's
//! `Connection: upgrade` header kept, `log :PORT` (an empty host is the
//! local host), `req.payload` / `req.payload_lv` / `req.len` in
//! `tcp-request content` rules (the intermediate listeners of
//! `mysql-check.vtc` and `redis-check.vtc`), and the log lines of
//! `disable server` / `enable server` / `set server ... state`
//! (`4be_1srv_health_checks.vtc`). Validated with
//! `STRATA_BIN=/usr/sbin/haproxy`.
//!
//! The bug story: strata refused `option httpchk GET / HTTP/1.1\r\nHost:\
//! x` and `log :514`, dropped the `Connection: upgrade` of a check,
//! had no `req.payload`, answered `req.len eq N` false before the bytes
//! came (so the listener rejected the check), and logged nothing when an
//! operator put a server in maintenance.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::*;

/// A server that records each request head (and body, by Content-Length)
/// and answers `reply`.
fn recording(reply: &'static [u8]) -> (Backend, Arc<Mutex<Vec<String>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = got.clone();
    let b = Backend::spawn_closing(move |mut s| {
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let clen = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string())
                    })
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                if buf.len() >= end + 4 + clen {
                    break;
                }
            }
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        seen.lock().unwrap().push(String::from_utf8_lossy(&buf).to_string());
        let _ = s.write_all(reply);
    });
    (b, got)
}

/// The first request `got` recorded, waiting for it.
fn first_request(got: &Arc<Mutex<Vec<String>>>) -> String {
    let mut first = None;
    wait_until(ms(5000), || {
        first = got.lock().unwrap().first().cloned();
        first.is_some()
    });
    first.expect("the check sent a request")
}

/// The header lines of a request, lower-cased names, in order.
fn header_lines(req: &str) -> Vec<String> {
    let head = req.split("\r\n\r\n").next().unwrap_or("");
    head.lines()
        .skip(1)
        .map(|l| match l.split_once(':') {
            Some((n, v)) => format!("{}: {}", n.to_ascii_lowercase(), v.trim()),
            None => l.to_string(),
        })
        .collect()
}

fn check_cfg(stats: u16, backends: &str) -> String {
    format!(
        "global\n    stats socket 127.0.0.1:{stats} level admin\n\
         defaults\n    mode http\n    timeout connect {t}\n    timeout client {t}\n    timeout server {t}\n\
         {backends}",
        t = cfg_time(Duration::from_secs(5)),
    )
}

#[test]
fn option_httpchk_sends_headers_and_body_written_after_the_version() {
    let (srv, got) = recording(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
    let (srv2, got2) = recording(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
    let stats = free_port();
    let inter = cfg_time(Duration::from_millis(200));
    let cfg = check_cfg(
        stats,
        &format!(
            "backend hidden\n    option httpchk GET /status HTTP/1.1\\r\\nHost:\\ www\\r\\nX-Test:\\ yes\\r\\n\\r\\nping\n\
             \x20   server s 127.0.0.1:{} check inter {inter} rise 1 fall 1\n\
             backend replaced\n    option httpchk GET /status HTTP/1.1\\r\\nHdr:\\ must-be-removed\n\
             \x20   http-check send hdr Host other body pong\n\
             \x20   server s 127.0.0.1:{} check inter {inter} rise 1 fall 1\n",
            srv.port(),
            srv2.port()
        ),
    );
    let (code, _, err) = Proxy::check(&cfg);
    assert!(code == 0 || code == 2, "-c refused the config ({code}): {err}");
    assert!(
        err.contains("[WARNING]")
            && err.contains("hiding headers or body at the end of the version string is deprecated"),
        "-c gives HAProxy's deprecation warning: {err}"
    );
    let _p = Proxy::start(&cfg);
    let req = first_request(&got);
    assert!(req.starts_with("GET /status HTTP/1.1\r\n"), "request line: {req:?}");
    let hdrs = header_lines(&req);
    assert!(hdrs.contains(&"host: www".to_string()) && hdrs.contains(&"x-test: yes".to_string()), "{req:?}");
    assert!(hdrs.contains(&"content-length: 4".to_string()), "{req:?}");
    assert!(req.ends_with("\r\n\r\nping"), "the body after \\r\\n\\r\\n is sent: {req:?}");
    // An explicit `http-check send` keeps the option's request line, sets
    // its own headers in place of the option's, and adds its body.
    let req2 = first_request(&got2);
    assert!(req2.starts_with("GET /status HTTP/1.1\r\n"), "request line: {req2:?}");
    let hdrs2 = header_lines(&req2);
    assert!(hdrs2.contains(&"host: other".to_string()), "{req2:?}");
    assert!(!req2.to_ascii_lowercase().contains("must-be-removed"), "{req2:?}");
    assert!(req2.ends_with("\r\n\r\npong"), "{req2:?}");
    expect_stat(stats, "hidden", "s", &[("status", "UP")], "hidden");
    expect_stat(stats, "replaced", "s", &[("status", "UP")], "replaced");
}

#[test]
fn a_connection_upgrade_header_of_a_check_is_sent_as_written() {
    let (srv, got) =
        recording(b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: raw-proto\r\n\r\n");
    let stats = free_port();
    let cfg = check_cfg(
        stats,
        &format!(
            "backend ws\n    option httpchk\n\
             \x20   http-check send meth GET uri / ver HTTP/1.1 hdr host ws-host hdr connection upgrade hdr upgrade raw-proto\n\
             \x20   http-check expect status 101\n\
             \x20   server s 127.0.0.1:{} check inter {} rise 1 fall 1\n",
            srv.port(),
            cfg_time(Duration::from_millis(200))
        ),
    );
    let _p = Proxy::start(&cfg);
    let req = first_request(&got);
    let hdrs = header_lines(&req);
    let conn: Vec<&String> = hdrs.iter().filter(|h| h.starts_with("connection:")).collect();
    assert_eq!(conn, vec!["connection: upgrade"], "no close added, the upgrade token kept: {req:?}");
    assert!(hdrs.contains(&"upgrade: raw-proto".to_string()), "{req:?}");
    expect_stat(stats, "ws", "s", &[("status", "UP"), ("check_code", "101")], "ws");
}

#[test]
fn a_log_target_with_an_empty_host_is_the_local_host() {
    // VTest writes `log ${S1_addr}:${S1_port}` with no such syslog: `log :`.
    // HAProxy reads an empty host as 0.0.0.0 (the local host) and an empty
    // port as 514.
    let logs = LogReceiver::udp();
    let port = logs.target().rsplit_once(':').map(|(_, p)| p.to_string()).expect("port");
    let srv = Backend::echo();
    let cfg = format!(
        "defaults\n    mode tcp\n    timeout connect {t}\n    timeout client {t}\n    timeout server {t}\n\
         frontend fe\n    bind 127.0.0.1:{}\n    default_backend be\n\
         backend be\n    log :{port} daemon\n    option log-health-checks\n\
         \x20   server s 127.0.0.1:{} check inter {} rise 1 fall 1\n\
         backend quiet\n    log : daemon\n    log 127.0.0.1: daemon\n    server s 127.0.0.1:{}\n",
        free_port(),
        srv.port(),
        cfg_time(Duration::from_millis(200)),
        srv.port(),
        t = cfg_time(Duration::from_secs(5)),
    );
    let (code, _, err) = Proxy::check(&cfg);
    assert!(code == 0 || code == 2, "`log :` and `log IP:` are accepted ({code}): {err}");
    assert!(!err.contains("[ALERT]"), "{err}");
    let _p = Proxy::start(&cfg);
    let line = logs.recv_within(ms(5000)).expect("a health check line reached 127.0.0.1");
    assert!(line.contains("Health check for server be/s succeeded"), "{line}");
}

/// A `listen` that lets a connection through only when its first bytes
/// satisfy `cond` (within a long inspect delay), to an echo server.
fn gate(cond: &str) -> (Proxy, u16, Backend) {
    let echo = Backend::echo();
    let port = free_port();
    let cfg = format!(
        "defaults\n    mode tcp\n    timeout connect {t}\n    timeout client {t}\n    timeout server {t}\n\
         listen gate\n    bind 127.0.0.1:{port}\n    tcp-request inspect-delay {delay}\n\
         \x20   tcp-request content accept if {cond}\n    tcp-request content reject\n\
         \x20   server s 127.0.0.1:{}\n",
        echo.port(),
        t = cfg_time(Duration::from_secs(60)),
        delay = cfg_time(Duration::from_secs(30)),
    );
    (Proxy::start(&cfg), port, echo)
}

/// Sends `parts` (a pause between them) and returns what came back before
/// the close or 10 s (the inspect delay is 30 s: an answer means the rule
/// decided on the bytes, not on the delay).
fn through(port: u16, parts: &[&[u8]]) -> Vec<u8> {
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(ms(200));
        }
        c.write_all(p).expect("send");
    }
    let _ = c.shutdown(Shutdown::Write);
    let _ = c.set_read_timeout(Some(ms(10_000)));
    let mut got = Vec::new();
    let _ = c.read_to_end(&mut got);
    got
}

#[test]
fn payload_fetches_decide_tcp_content_rules_once_the_bytes_came() {
    // The listener of redis-check.vtc: a length and the exact bytes.
    let (_p, port, _echo) =
        gate("{ req.len eq 14 } { req.payload(0,14) -m str \"*1\\r\\n\\$4\\r\\nPING\\r\\n\" }");
    assert_eq!(through(port, &[b"*1\r\n$4\r\nPING\r\n"]), b"*1\r\n$4\r\nPING\r\n");
    // Sent in two parts: the rule waits for the rest instead of rejecting.
    assert_eq!(through(port, &[b"*1\r\n$4", b"\r\nPING\r\n"]), b"*1\r\n$4\r\nPING\r\n");
    assert_eq!(through(port, &[b"*1\r\n$4\r\nPONG\r\n"]), b"", "other bytes are rejected");

    // `-m bin` on a hexadecimal pattern (mysql-check.vtc's listeners).
    let (_p2, port2, _echo2) = gate("{ req.payload(1,3) -m bin 616263 }");
    assert_eq!(through(port2, &[b"Xabc-rest"]), b"Xabc-rest");
    assert_eq!(through(port2, &[b"Xabd"]), b"");

    // A 2-byte length at offset 0, then that many bytes.
    let (_p3, port3, _echo3) = gate("{ req.payload_lv(0,2) -m str hello }");
    assert_eq!(through(port3, &[b"\x00\x05hel", b"lo!"]), b"\x00\x05hello!");
    assert_eq!(through(port3, &[b"\x00\x04hello"]), b"");
}

#[test]
fn payload_fetch_arguments_are_checked_at_load() {
    let cfg = |cond: &str| {
        format!(
            "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n\
             listen l\n    bind 127.0.0.1:{}\n    tcp-request inspect-delay 1s\n\
             \x20   tcp-request content accept if {cond}\n    server s 127.0.0.1:1\n",
            free_port()
        )
    };
    for bad in [
        "{ req.payload(0) -m found }",
        "{ req.payload_lv(0,0) -m found }",
        "{ req.payload_lv(-1,1) -m found }",
    ] {
        let (code, _, err) = Proxy::check(&cfg(bad));
        assert_eq!(code, 1, "{bad} is refused: {err}");
        assert!(err.contains("[ALERT]") && err.contains("req.payload"), "{bad}: {err}");
    }
}

#[test]
fn operator_state_changes_are_logged_as_haproxy_logs_them() {
    let logs = LogReceiver::udp();
    let srv = Backend::echo();
    let stats = free_port();
    let cfg = format!(
        "global\n    stats socket 127.0.0.1:{stats} level admin\n\
         defaults\n    mode tcp\n    timeout connect {t}\n    timeout client {t}\n    timeout server {t}\n\
         backend be1\n    log {} daemon\n    option log-health-checks\n\
         \x20   server srv1 127.0.0.1:{} check inter {} rise 1 fall 1\n",
        logs.target(),
        srv.port(),
        cfg_time(Duration::from_millis(200)),
        t = cfg_time(Duration::from_secs(5)),
    );
    let _p = Proxy::start(&cfg);
    let next = || logs.recv_within(ms(5000)).unwrap_or_default();
    let first = next();
    assert!(first.contains("Health check for server be1/srv1 succeeded"), "{first}");
    expect_stat(stats, "be1", "srv1", &[("status", "UP")], "checked");

    cli(stats, "disable server be1/srv1");
    let down = next();
    assert!(down.starts_with("<25>"), "an alert, facility daemon: {down}");
    assert!(
        down.ends_with(
            "Server be1/srv1 is going DOWN for maintenance. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.\n"
        ) || down.ends_with(
            "Server be1/srv1 is going DOWN for maintenance. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."
        ),
        "{down:?}"
    );
    let none = next();
    assert!(none.starts_with("<24>") && none.contains("backend be1 has no server available!"), "{none}");

    cli(stats, "enable server be1/srv1");
    let up = next();
    assert!(
        up.starts_with("<29>") && up.contains("Server be1/srv1 is UP/READY (leaving forced maintenance)."),
        "{up}"
    );
    expect_stat(stats, "be1", "srv1", &[("status", "UP")], "enabled");

    cli(stats, "set server be1/srv1 state drain");
    let drain = next();
    assert!(
        drain.starts_with("<29>")
            && drain.contains(
                "Server be1/srv1 enters drain state. 0 active and 0 backup servers online. 0 sessions requeued, 0 total in queue."
            ),
        "{drain}"
    );
    let none = next();
    assert!(none.contains("backend be1 has no server available!"), "draining the last server: {none}");
    cli(stats, "set server be1/srv1 state ready");
    let ready = next();
    assert!(ready.contains("Server be1/srv1 is UP (leaving forced drain)."), "{ready}");
}
