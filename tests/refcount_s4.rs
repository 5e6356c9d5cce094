//! Twenty connections in, twenty out, with aborts: every reference comes
//! back (golden scenario S4).
//!
//! The bug this guards against: in HAProxy 1.6 (Aug 2015, commit 827752e)
//! a stream copied its session's stick counters with a reference and both
//! the stream and the session released them, so each connection took
//! `conn_cur` down twice and it went negative (fixed by a68f7629d). With
//! many concurrent connections such a drift shows as `use=`/`conn_cur` not
//! matching the number of live connections, or not coming back to 0.
//!
//! Scenario S4: session tracker on `st_src` (`tcp-request connection
//! track-sc0`) and stream tracker on `other` (`http-request track-sc1`).
//! - Phase 1: 20 concurrent keep-alive connections: `st_src` shows
//!   `use=20 conn_cur=20 sess_cnt=20` before any request and after each
//!   round; `other` shows `use=20 conn_cur=20` only while 20 requests are in
//!   flight (held at the server), 0/0 between them, one `conn_cnt` per
//!   request. All closed: both `use=0 conn_cur=0`.
//! - Phase 2: 20 more connections each with a request held at the server,
//!   then aborted, 10 with an RST (`SO_LINGER` 0) and 10 with a FIN. HAProxy
//!   (no `option abortonclose`) keeps every tracker until the server
//!   answers: `use=20 conn_cur=20` on both tables after the aborts; once the
//!   server answers, everything is back to `use=0 conn_cur=0` and
//!   `CurrConns` to 0.

mod support;

use support::*;

const KEY: &str = "127.0.0.1";
const N: usize = 20;
/// Both tables' `expire 60s`: `exp=` counts down from it.
const EXP: Exp = Exp::Within(60_000);

#[test]
fn twenty_connections_and_twenty_aborts_give_every_reference_back() {
    let backend = HttpBackend::start();
    let (fe, stats) = (free_port(), free_port());
    let cfg = format!(
        "{head}\
frontend fe
    bind 127.0.0.1:{fe}
    tcp-request connection track-sc0 src table st_src
    http-request track-sc1 src table other
    default_backend be
backend be
    server s1 127.0.0.1:{be}
backend st_src
    stick-table type ip size 100 expire 60s store conn_cur,conn_cnt,sess_cnt,http_req_cnt
backend other
    stick-table type ip size 100 expire 60s store conn_cur,conn_cnt,sess_cnt,http_req_cnt
",
        head = scenario_head(stats, Some("http")),
        be = backend.port()
    );
    let _proxy = Proxy::start(&cfg);
    let st_src = |spec: &str, label: &str| expect_entry(stats, "st_src", KEY, spec, EXP, label);
    let other = |spec: &str, label: &str| expect_entry(stats, "other", KEY, spec, EXP, label);

    // Phase 1: 20 connections, two requests each, then closed.
    let mut conns: Vec<HttpConn> = (0..N).map(|_| HttpConn::connect(fe)).collect();
    st_src("use=20 conn_cnt=20 conn_cur=20 sess_cnt=20 http_req_cnt=0", "20 connected, no request yet");
    expect_keys(stats, "other", &[], "20 connected, no request yet");

    for c in &mut conns {
        assert_eq!(c.request(&get("/")).expect("response").status, 200);
    }
    let label = "20 connected and idle after one request each";
    st_src("use=20 conn_cnt=20 conn_cur=20 sess_cnt=20 http_req_cnt=20", label);
    other("use=0 conn_cnt=20 conn_cur=0 sess_cnt=0 http_req_cnt=20", label);

    for c in &mut conns {
        c.send(&get("/hold")).expect("send");
    }
    assert!(backend.wait_holding(N, ms(10_000)), "only {} requests reached the server", backend.holding());
    let label = "20 requests in flight";
    st_src("use=20 conn_cnt=20 conn_cur=20 sess_cnt=20 http_req_cnt=40", label);
    other("use=20 conn_cnt=40 conn_cur=20 sess_cnt=0 http_req_cnt=40", label);
    backend.open_gate();
    for c in &mut conns {
        assert_eq!(c.read_response(false).expect("response").status, 200);
    }
    let label = "20 connected and idle after two requests each";
    st_src("use=20 conn_cnt=20 conn_cur=20 sess_cnt=20 http_req_cnt=40", label);
    other("use=0 conn_cnt=40 conn_cur=0 sess_cnt=0 http_req_cnt=40", label);

    conns.clear();
    st_src("use=0 conn_cnt=20 conn_cur=0 sess_cnt=20 http_req_cnt=40", "all 20 closed");
    other("use=0 conn_cnt=40 conn_cur=0 sess_cnt=0 http_req_cnt=40", "all 20 closed");

    // Phase 2: 20 connections, each with a request held at the server, aborted.
    backend.close_gate();
    let mut conns: Vec<HttpConn> = (0..N).map(|_| HttpConn::connect(fe)).collect();
    for c in &mut conns {
        c.send(&get("/hold")).expect("send");
    }
    assert!(backend.wait_holding(N, ms(10_000)), "only {} requests reached the server", backend.holding());
    let label = "20 requests in flight";
    st_src("use=20 conn_cnt=40 conn_cur=20 sess_cnt=40 http_req_cnt=60", label);
    other("use=20 conn_cnt=60 conn_cur=20 sess_cnt=0 http_req_cnt=60", label);

    for (i, c) in conns.drain(..).enumerate() {
        if i < N / 2 {
            c.reset(); // RST
        } else {
            drop(c); // FIN
        }
    }
    // Without `option abortonclose` the streams wait for the server: the
    // trackers must still be there a moment after the aborts.
    std::thread::sleep(ms(300));
    let label = "after aborting all 20 (10 RST + 10 FIN) while the server still works";
    assert_entry_now(
        stats,
        "st_src",
        KEY,
        "use=20 conn_cnt=40 conn_cur=20 sess_cnt=40 http_req_cnt=60",
        EXP,
        label,
    );
    assert_entry_now(
        stats,
        "other",
        KEY,
        "use=20 conn_cnt=60 conn_cur=20 sess_cnt=0 http_req_cnt=60",
        EXP,
        label,
    );

    backend.open_gate();
    let label = "after the server answered the aborted requests";
    st_src("use=0 conn_cnt=40 conn_cur=0 sess_cnt=40 http_req_cnt=60", label);
    other("use=0 conn_cnt=60 conn_cur=0 sess_cnt=0 http_req_cnt=60", label);
    assert!(
        wait_until(ms(10_000), || info_u64(stats, "CurrConns") == 0),
        "CurrConns stays at {}",
        info_u64(stats, "CurrConns")
    );
}
