//! Denying on tracked counters, and error counters per tracker (golden
//! scenario S6).
//!
//! The bug this guards against: in HAProxy 1.6 (Aug 2015, commit 827752e)
//! a stream copied its session's stick counters with a reference and both
//! released them, so `conn_cur` went negative (fixed by a68f7629d). Rules
//! read those counters: with a drifting `conn_cur`, `deny if { sc0_conn_cur
//! gt 2 }` denies clients that are gone or lets through clients over the
//! limit. Here the limit must bite at exactly the third connection and let
//! go as soon as one closes.
//!
//! Scenario S6, all with `tcp-request connection track-sc0 src`:
//! - `fe_conn`, `deny if { sc0_conn_cur gt 2 }`: two connections served,
//!   the third denied (`use=3 conn_cur=3`), twice on the same keep-alive
//!   connection, with HAProxy's exact 403 bytes, counted in `http_req_cnt`
//!   and `http_err_cnt`; once the first connection closes the third is
//!   served; all closed `use=0 conn_cur=0`.
//! - `fe_rate`, `deny if { sc0_http_req_rate gt 3 }`: the 4th and 5th
//!   requests are denied (the rate includes the current request), and so is
//!   the first request of a fresh connection.
//! - `fe_429`, the same with `deny_status 429`: HAProxy's exact 429 bytes.
//! - `fe_err`, no rule: the server answers 200, 404, 500, 501, 503:
//!   `http_err_cnt=1` (404), `http_fail_cnt=2` (500 and 503, not 501).

mod support;

use std::time::Duration;
use support::http_answers::{FORBIDDEN_403, TOO_MANY_REQUESTS_429};
use support::*;

const KEY: &str = "127.0.0.1";
/// The tables' `expire 60s`: `exp=` counts down from it.
const EXP: Exp = Exp::Within(60_000);

/// One request on `c`; the response.
fn send(c: &mut HttpConn, path: &str) -> Response {
    c.request(&get(path)).unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// One request on `c` that must be answered with exactly `raw`.
fn denied(c: &mut HttpConn, raw: &[u8], label: &str) {
    let r = send(c, "/");
    assert_eq!(r.raw_text(), String::from_utf8_lossy(raw), "{label}");
}

fn ok(c: &mut HttpConn, label: &str) {
    let r = send(c, "/");
    assert_eq!(r.status, 200, "{label}: {}", r.raw_text());
}

#[test]
fn deny_rules_see_exact_counters_and_errors_count_per_tracker() {
    let backend = HttpBackend::start();
    let (fe_conn, fe_rate, fe_429, fe_err, stats) =
        (free_port(), free_port(), free_port(), free_port(), free_port());
    // The rate period (10s in the scenario) scales with the machine so the
    // bursts below always fit in one period.
    let period = expire_ms(Duration::from_secs(10));
    let store = format!(
        "store conn_cur,conn_cnt,http_req_cnt,http_req_rate({period}ms),http_err_cnt,http_err_rate({period}ms)"
    );
    let cfg = format!(
        "{head}\
frontend fe_conn
    bind 127.0.0.1:{fe_conn}
    tcp-request connection track-sc0 src table t_conn
    http-request deny if {{ sc0_conn_cur gt 2 }}
    default_backend be
frontend fe_rate
    bind 127.0.0.1:{fe_rate}
    tcp-request connection track-sc0 src table t_rate
    http-request deny if {{ sc0_http_req_rate gt 3 }}
    default_backend be
frontend fe_429
    bind 127.0.0.1:{fe_429}
    tcp-request connection track-sc0 src table t_429
    http-request deny deny_status 429 if {{ sc0_http_req_rate gt 3 }}
    default_backend be
frontend fe_err
    bind 127.0.0.1:{fe_err}
    tcp-request connection track-sc0 src table t_err
    default_backend be
backend be
    server s1 127.0.0.1:{be}
backend t_conn
    stick-table type ip size 100 expire 60s {store}
backend t_rate
    stick-table type ip size 100 expire 60s {store}
backend t_429
    stick-table type ip size 100 expire 60s {store}
backend t_err
    stick-table type ip size 100 expire 60s store http_req_cnt,http_err_cnt,http_fail_cnt
",
        head = scenario_head(stats, Some("http")),
        be = backend.port()
    );
    let _proxy = Proxy::start(&cfg);
    let counts = |cnt: &str, req: u32, err: u32| {
        format!(
            "{cnt} http_req_cnt={req} http_req_rate({period})={req} http_err_cnt={err} http_err_rate({period})={err}"
        )
    };

    // fe_conn: deny if { sc0_conn_cur gt 2 }
    let t = |spec: &str, label: &str| expect_entry(stats, "t_conn", KEY, spec, EXP, label);
    let mut a = HttpConn::connect(fe_conn);
    ok(&mut a, "conn A (conn_cur=1)");
    let mut b = HttpConn::connect(fe_conn);
    ok(&mut b, "conn B (conn_cur=2)");
    let mut c = HttpConn::connect(fe_conn);
    t(&counts("use=3 conn_cnt=3 conn_cur=3", 2, 0), "three connections open, A and B served");
    denied(&mut c, FORBIDDEN_403, "conn C (conn_cur=3)");
    denied(&mut c, FORBIDDEN_403, "conn C again on the same connection (deny keeps it open)");
    t(&counts("use=3 conn_cnt=3 conn_cur=3", 4, 2), "after C was denied twice");
    drop(a);
    t(&counts("use=2 conn_cnt=3 conn_cur=2", 4, 2), "A closed");
    ok(&mut c, "conn C after A closed (conn_cur=2)");
    drop((b, c));
    t(&counts("use=0 conn_cnt=3 conn_cur=0", 5, 2), "all closed");

    // fe_rate: deny if { sc0_http_req_rate gt 3 }
    let t = |spec: &str, label: &str| expect_entry(stats, "t_rate", KEY, spec, EXP, label);
    let mut k = HttpConn::connect(fe_rate);
    for i in 1..=3 {
        ok(&mut k, &format!("keep-alive conn, request {i}"));
    }
    denied(&mut k, FORBIDDEN_403, "keep-alive conn, request 4");
    denied(&mut k, FORBIDDEN_403, "keep-alive conn, request 5");
    t(&counts("use=1 conn_cnt=1 conn_cur=1", 5, 2), "after the burst");
    drop(k);
    let mut n = HttpConn::connect(fe_rate);
    denied(&mut n, FORBIDDEN_403, "fresh connection, request");
    drop(n);
    t(&counts("use=0 conn_cnt=2 conn_cur=0", 6, 3), "end");

    // fe_429: same rule with deny_status 429
    let mut k = HttpConn::connect(fe_429);
    for i in 1..=3 {
        ok(&mut k, &format!("keep-alive conn, request {i}"));
    }
    denied(&mut k, TOO_MANY_REQUESTS_429, "keep-alive conn, request 4");
    drop(k);
    expect_entry(stats, "t_429", KEY, &counts("use=0 conn_cnt=1 conn_cur=0", 4, 1), EXP, "end");

    // fe_err: server statuses into http_err_cnt / http_fail_cnt
    let mut k = HttpConn::connect(fe_err);
    for code in [200, 404, 500, 501, 503] {
        assert_eq!(send(&mut k, &format!("/status/{code}")).status, code);
    }
    drop(k);
    expect_entry(
        stats,
        "t_err",
        KEY,
        "use=0 http_req_cnt=5 http_err_cnt=1 http_fail_cnt=2",
        EXP,
        "404 is an error, 500 and 503 are failures, 501 is neither",
    );
}
