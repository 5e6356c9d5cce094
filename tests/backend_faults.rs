//! HTTP mode, one test per backend fault, seen from every place HAProxy
//! reports it: the client's answer (HAProxy's exact bytes), the
//! termination state of the `option httplog` line, the `show stat`
//! counters of the server and backend lines (`econ`, `eresp`, `wretr`,
//! `srv_abrt`, `cli_abrt`, `hrsp_5xx`), and the client's stick-table entry
//! (`tcp-request connection track-sc0 src` storing `http_req_cnt` and
//! `http_fail_cnt`), which must end at `conn_cur=0 use=0`.
//!
//! The bug story: counters that disagree between the log, the stats and
//! the stick table make a dashboard or a `deny if { sc0_http_fail_cnt ...}`
//! rule lie about a failing server. Every expected value below was
//! observed with HAProxy 2.6.12 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::time::Duration;

use support::http_answers::*;
use support::*;

/// One proxy (stats socket, httplog on stdout, tracking table) in front
/// of one server.
struct Rig {
    port: u16,           // the frontend
    stats: u16,          // the admin stats socket
    proxy: Proxy,        // the binary under test
    server: HttpBackend, // `s1`, unless `closed` was asked
}

/// `backend` lines are added to `be`; `s1` points at a closed port if
/// `closed`, else at a fresh [`HttpBackend`].
fn rig(closed: bool, backend: &[&str]) -> Rig {
    let server = HttpBackend::start();
    let (port, stats) = (free_port(), free_port());
    let target = if closed { closed_port() } else { server.port() };
    let mut cfg = HttpCfg::new(port, Some(target))
        .httplog()
        .global(&format!("stats socket ipv4@127.0.0.1:{stats} level admin"))
        .global(&format!("stats timeout {}", cfg_time(Duration::from_secs(30))))
        .frontend("stick-table type ip size 10 expire 60s store conn_cur,http_req_cnt,http_fail_cnt")
        .frontend("tcp-request connection track-sc0 src");
    for l in backend {
        cfg = cfg.backend(l);
    }
    Rig { port, stats, proxy: Proxy::start(&cfg.render()), server }
}

/// The fields of one httplog line that these tests check.
#[derive(Debug, PartialEq)]
struct Logged {
    server: String,  // `be/s1`
    status: String,  // `502`
    term: String,    // `SH--`
    retries: String, // last of actconn/feconn/beconn/srv_conn/retries
}

impl Rig {
    /// Waits for `n` log lines; the fields of each.
    fn log(&self, n: usize) -> Vec<Logged> {
        let lines = || self.proxy.stdout_text().lines().map(str::to_string).collect::<Vec<_>>();
        wait_until(ms(5_000), || lines().len() >= n);
        lines()
            .iter()
            .map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                assert!(f.len() > 10, "not an httplog line: {l:?}");
                Logged {
                    server: f[3].to_string(),
                    status: f[5].to_string(),
                    term: f[9].to_string(),
                    retries: f[10].rsplit('/').next().unwrap_or_default().to_string(),
                }
            })
            .collect()
    }

    /// `show stat` line `be/sv` shows exactly `spec` (polled).
    fn stat(&self, sv: &str, spec: &[(&str, &str)], label: &str) {
        expect_stat(self.stats, "be", sv, spec, label);
    }

    /// With `DUMP` set, prints the counters, table and log this file
    /// checks (to record a binary's values, e.g. HAProxy's).
    fn dump(&self) {
        if std::env::var_os("DUMP").is_some() {
            std::thread::sleep(ms(500));
            let st = show_stat(self.stats, "");
            let f =
                ["econ", "eresp", "wretr", "srv_abrt", "cli_abrt", "hrsp_5xx", "hrsp_2xx", "stot", "wredis"];
            for sv in ["s1", "BACKEND"] {
                let v: Vec<String> = f.iter().map(|n| format!("{n}={}", st.get("be", sv, n))).collect();
                eprintln!("DUMP {sv}: {}", v.join(" "));
            }
            eprintln!("DUMP table: {}", show_table(self.stats, "fe").raw);
            eprintln!("DUMP log: {}", self.proxy.stdout_text());
        }
    }

    /// The client's entry shows exactly `spec`, released (polled).
    fn tracked(&self, spec: &str, label: &str) {
        let spec = format!("conn_cur=0 use=0 {spec}");
        expect_entry(
            self.stats,
            "fe",
            "127.0.0.1",
            &spec,
            Exp::Within(expire_ms(Duration::from_secs(60))),
            label,
        );
    }
}

fn logged(server: &str, status: &str, term: &str, retries: &str) -> Logged {
    Logged { server: server.into(), status: status.into(), term: term.into(), retries: retries.into() }
}

/// `eresp` after a server reset, when strata counts `strata` (a response
/// that failed before or in its head counts once, a body cut counts as
/// `srv_abrt` only). HAProxy 2.6 counts one more: `process_stream` adds
/// an `eresp` for any error on an established server connection, on top
/// of the one of the response analyser, so a reset before the head gives
/// 2 and a reset mid-body 1. Deliberately not copied: one failed response
/// is one `eresp`.
fn eresp_on_reset(strata: u8) -> &'static str {
    match (under_haproxy(), strata) {
        (false, 0) => "0",
        (false, _) | (true, 0) => "1",
        (true, _) => "2",
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// One request on a fresh connection, everything received until the proxy
/// closes it (or a generous bound), then the connection is dropped.
fn one_request(port: u16, path: &str) -> (Vec<u8>, Closed) {
    let mut c = HttpConn::connect(port);
    c.send(&get(path)).expect("send"); // keep-alive: HAProxy adds `connection: close` to its answer otherwise
    c.read_until_closed(ms(10_000))
}

#[test]
fn refused_connect_is_retried_then_answered_503_sc() {
    let r = rig(true, &["retries 2"]);
    let (got, _) = one_request(r.port, "/");
    r.dump();
    assert_eq!(text(&got), text(SERVICE_UNAVAILABLE_503));
    assert_eq!(r.log(1), vec![logged("be/s1", "503", "SC--", "2")]);
    let counts = [("econ", "1"), ("eresp", "0"), ("wretr", "2"), ("srv_abrt", "0"), ("cli_abrt", "0")];
    r.stat("s1", &[&counts[..], &[("hrsp_5xx", "0")]].concat(), "server");
    r.stat("BACKEND", &[&counts[..], &[("hrsp_5xx", "1")]].concat(), "backend");
    // HAProxy counts `http_fail_cnt` on the response analyser's path only
    // (a 5xx from the server, or one produced while waiting for it); a
    // 503 after the connection failed never gets there.
    r.tracked("http_req_cnt=1 http_fail_cnt=0", "a refused connect is not counted as failed");
}

/// Found by the soak (tests/soak.rs). The bug: strata closed the client
/// connection after the 503, because the request head it never managed to
/// send to the dead server still counted as "request not finished", as if
/// unread request bytes were left on the connection. HAProxy keeps the
/// connection for the next request, and so must strata: only what the
/// client sent decides.
#[test]
fn refused_connect_503_keeps_the_client_connection_open() {
    let r = rig(true, &["retries 0"]);
    let mut c = HttpConn::connect(r.port);
    for i in 1..=2 {
        let got = c.request(&get("/")).unwrap_or_else(|e| panic!("answer {i} on the same connection: {e}"));
        assert_eq!(text(&got.raw), text(SERVICE_UNAVAILABLE_503), "answer {i}");
    }
    drop(c);
    r.tracked("http_req_cnt=2 http_fail_cnt=0", "both requests on one connection");
}

#[test]
fn reset_before_the_response_is_answered_502_sh() {
    let r = rig(false, &[]);
    let (got, _) = one_request(r.port, "/reset");
    r.dump();
    assert_eq!(text(&got), text(BAD_GATEWAY_502));
    assert_eq!(r.log(1), vec![logged("be/s1", "502", "SH--", "0")]);
    let counts =
        [("econ", "0"), ("eresp", eresp_on_reset(1)), ("wretr", "0"), ("srv_abrt", "0"), ("cli_abrt", "0")];
    r.stat("s1", &[&counts[..], &[("hrsp_5xx", "0")]].concat(), "server");
    r.stat("BACKEND", &[&counts[..], &[("hrsp_5xx", "1")]].concat(), "backend");
    r.tracked("http_req_cnt=1 http_fail_cnt=1", "a reset is a failed request");
}

#[test]
fn reset_mid_body_cuts_the_client_sd() {
    let r = rig(false, &[]);
    let (got, end) = one_request(r.port, "/reset-body");
    assert!(
        got.starts_with(b"HTTP/1.1 200 "),
        "the head was forwarded: {:?}",
        text(&got[..got.len().min(80)])
    );
    assert!(got.len() < RESET_BODY_LEN, "the body is cut ({} bytes received)", got.len());
    assert!(matches!(end, Closed::Eof(_) | Closed::Reset(_)), "then the connection ends: {end:?}");
    assert_eq!(r.log(1), vec![logged("be/s1", "200", "SD--", "0")]);
    let counts =
        [("econ", "0"), ("eresp", eresp_on_reset(0)), ("wretr", "0"), ("srv_abrt", "1"), ("cli_abrt", "0")];
    r.stat("s1", &[&counts[..], &[("hrsp_5xx", "0"), ("hrsp_2xx", "1")]].concat(), "server");
    r.stat("BACKEND", &[&counts[..], &[("hrsp_5xx", "0"), ("hrsp_2xx", "1")]].concat(), "backend");
    r.tracked("http_req_cnt=1 http_fail_cnt=0", "a 200 is not a failure, even cut");
}

#[test]
fn response_slower_than_timeout_server_is_answered_504_sh() {
    let r = rig(false, &[&format!("timeout server {}", cfg_time(Duration::from_millis(300)))]);
    let delay = scaled(Duration::from_millis(5_000)).as_millis();
    let (got, _) = one_request(r.port, &format!("/delay/{delay}"));
    r.dump();
    assert_eq!(text(&got), text(GATEWAY_TIMEOUT_504));
    assert_eq!(r.log(1), vec![logged("be/s1", "504", "sH--", "0")]);
    let counts = [("econ", "0"), ("eresp", "1"), ("wretr", "0"), ("srv_abrt", "0"), ("cli_abrt", "0")];
    r.stat("s1", &[&counts[..], &[("hrsp_5xx", "0")]].concat(), "server");
    r.stat("BACKEND", &[&counts[..], &[("hrsp_5xx", "1")]].concat(), "backend");
    r.tracked("http_req_cnt=1 http_fail_cnt=1", "a server timeout is a failed request");
}

#[test]
fn invalid_response_head_is_answered_502_ph() {
    let r = rig(false, &[]);
    let (got, _) = one_request(r.port, "/garbage");
    r.dump();
    assert_eq!(text(&got), text(BAD_GATEWAY_502));
    assert_eq!(r.log(1), vec![logged("be/s1", "502", "PH--", "0")]);
    let counts = [("econ", "0"), ("eresp", "1"), ("wretr", "0"), ("srv_abrt", "0"), ("cli_abrt", "0")];
    r.stat("s1", &[&counts[..], &[("hrsp_5xx", "0")]].concat(), "server");
    r.stat("BACKEND", &[&counts[..], &[("hrsp_5xx", "1")]].concat(), "backend");
    r.tracked("http_req_cnt=1 http_fail_cnt=1", "an invalid response is a failed request");
}

/// The server answers the first request of a keep-alive connection, then
/// closes that connection when the second one arrives on it (read, never
/// answered): the race of a server closing an idle connection just as the
/// proxy reuses it.
#[test]
fn server_closing_a_kept_alive_connection_between_requests() {
    let r = rig(false, &[]);
    let mut c = HttpConn::connect(r.port);
    assert_eq!(c.request(&get("/")).expect("first response").status, 200);
    r.server.drop_reused(true);
    let second = c.request(&get("/"));
    r.dump();
    let lines = r.log(2);
    assert_eq!(lines[0], logged("be/s1", "200", "----", "0"), "{lines:?}");
    let answered = if under_haproxy() {
        // HAProxy 2.6 (no `retry-on empty-response`) closes the client
        // connection without an answer nor a log line, leaving the retry
        // to the client.
        assert!(second.is_err(), "no answer: {second:?}");
        assert_eq!(lines.len(), 1, "{lines:?}");
        "1"
    } else {
        // strata replays an idempotent request on a fresh connection
        // (tests/http_reuse.rs): deliberate, hence the branch.
        assert_eq!(second.expect("a retried answer").status, 200);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[1], logged("be/s1", "200", "----", "0"), "{lines:?}");
        "2"
    };
    assert_eq!(r.server.dropped(), 1, "the reused connection was closed on the second request");
    drop(c);
    let counts = [("econ", "0"), ("eresp", "0"), ("wretr", "0"), ("srv_abrt", "0"), ("cli_abrt", "0")];
    let more = [("hrsp_5xx", "0"), ("hrsp_2xx", answered), ("stot", "2")];
    r.stat("s1", &[&counts[..], &more[..]].concat(), "server");
    r.stat("BACKEND", &[&counts[..], &more[..]].concat(), "backend");
    r.tracked("http_req_cnt=2 http_fail_cnt=0", "both requests counted, none failed");
}

/// `on-marked-down shutdown-sessions` with a request held at the server:
/// the server fails its check and goes DOWN, and the stream waiting for
/// its response head is shut down with it. HAProxy 2.6.12: a 502, logged
/// `DH--` (D: the server was marked down), a failed request for the
/// tracker, and the client connection closed after the answer.
#[test]
fn server_marked_down_under_a_held_request_502_dh() {
    let server = HttpBackend::start();
    let (port, stats) = (free_port(), free_port());
    let cfg = HttpCfg::new(port, None)
        .httplog()
        .global(&format!("stats socket ipv4@127.0.0.1:{stats} level admin"))
        .frontend("stick-table type ip size 10 expire 60s store conn_cur,http_req_cnt,http_fail_cnt")
        .frontend("tcp-request connection track-sc0 src")
        .backend("option httpchk GET /health")
        .backend(&format!(
            "server s1 127.0.0.1:{} check inter {} fall 1 rise 1 on-marked-down shutdown-sessions",
            server.port(),
            cfg_time(Duration::from_millis(200))
        ));
    let r = Rig { port, stats, proxy: Proxy::start(&cfg.render()), server };
    r.stat("s1", &[("status", "UP")], "checked UP first");
    let held = std::thread::spawn(move || one_request(port, "/hold"));
    assert!(r.server.wait_holding(1, ms(10_000)), "the request is held at the server");
    r.server.set_health(503);
    let (got, end) = held.join().expect("client");
    r.dump();
    assert_eq!(text(&got), text(BAD_GATEWAY_502));
    assert!(end.after().is_some(), "the client connection is closed after the 502");
    // the log also has the server's state changes: the request's line
    let line = || r.proxy.stdout_text().lines().find(|l| l.contains("\"GET /hold ")).map(str::to_owned);
    wait_until(ms(5_000), || line().is_some());
    let f: Vec<String> = line().unwrap_or_default().split(' ').map(str::to_owned).collect();
    assert_eq!(
        (f.get(3), f.get(5), f.get(9)),
        (Some(&"be/s1".into()), Some(&"502".into()), Some(&"DH--".into())),
        "{f:?}"
    );
    r.stat("s1", &[("status", "DOWN"), ("scur", "0")], "DOWN, nothing left on it");
    r.tracked("http_req_cnt=1 http_fail_cnt=1", "a request shut down with its server failed");
    r.server.open_gate();
}

/// The same over one HTTP/2 connection carrying two held requests, one on
/// the server that goes DOWN and one on another backend's server: only
/// the first is shut down (its 502; HAProxy resets it, see below), the
/// other gets its server's answer on the same connection. (Ending the whole client session, as a
/// one-stream-per-session shutdown would, cuts both.)
#[test]
fn server_marked_down_ends_only_its_own_http2_streams() {
    let (down, up) = (HttpBackend::named("down"), HttpBackend::named("up"));
    let (port, stats) = (free_port(), free_port());
    let cfg = HttpCfg::new(port, None)
        .global(&format!("stats socket ipv4@127.0.0.1:{stats} level admin"))
        .frontend(&format!("bind 127.0.0.1:{} proto h2", port))
        .frontend("use_backend other if { path_beg /hold/other }")
        .backend("option httpchk GET /health")
        .backend(&format!(
            "server s1 127.0.0.1:{} check inter {} fall 1 rise 1 on-marked-down shutdown-sessions",
            down.port(),
            cfg_time(Duration::from_millis(200))
        ))
        .section("backend other", &[&format!("server s2 127.0.0.1:{}", up.port())]);
    let text_cfg = cfg.render().replacen(&format!("bind 127.0.0.1:{port}\n"), "", 1);
    let _p = Proxy::start(&text_cfg);
    expect_stat(stats, "be", "s1", &[("status", "UP")], "checked UP first");
    let mut c = H2Conn::connect(port);
    let (a, b) = (c.get("/hold/a"), c.get("/hold/other"));
    assert!(down.wait_holding(1, ms(10_000)) && up.wait_holding(1, ms(10_000)), "both requests held");
    down.set_health(503);
    expect_stat(stats, "be", "s1", &[("status", "DOWN"), ("scur", "0")], "s1 DOWN, its stream ended");
    up.open_gate();
    let (got, end) = c.run(&[a, b], ms(10_000));
    if under_haproxy() {
        // HAProxy 2.6 resets it with REFUSED_STREAM, which tells the client
        // the request was not processed and may be retried (RFC 9113 §8.7),
        // untrue here: the server had it. strata answers the 502 of HTTP/1.
        assert_eq!(got[&a].reset, Some(7), "the stream on the DOWN server: {got:?} {end:?}");
    } else {
        assert_eq!(got[&a].status, Some(502), "the stream on the DOWN server: {got:?} {end:?}");
    }
    assert_eq!(got[&b].status, Some(200), "the stream on the other server goes on: {got:?} {end:?}");
    assert_eq!(got[&b].field("x-server"), Some("up"));
    down.open_gate();
}
