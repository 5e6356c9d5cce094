//! Session trackers are counted once and released once (golden scenario S1).
//!
//! The bug this guards against: in HAProxy 1.6 (Aug 2015, commit 827752e)
//! a new stream copied its session's stick counters *and took a reference*
//! on each; at the end both the stream and the session released the entry,
//! each decrementing `conn_cur` and the refcount, so `conn_cur` went
//! negative and `use=` drifted (fixed by a68f7629d, "fix double-decrement of
//! tracked entries"). In strata the session owns its trackers and a stream
//! only borrows them, so the same mistake cannot compile; this test checks
//! the numbers from the outside.
//!
//! Scenario S1: `tcp-request connection track-sc0 src` in HTTP mode, one
//! keep-alive client, three requests (the third held at the server so the
//! table can be read while its stream is alive). HAProxy 2.6 shows
//! `conn_cnt=1 conn_cur=1 sess_cnt=1 use=1` from connect to close, whatever
//! the requests do (streams come and go without touching the session's
//! tracker); `http_req_cnt` goes 1, 2, 3 (one count per request: the
//! stream's inherited slot is the same tracker, not a second one); after the
//! close `conn_cur=0 use=0`, and the entry stays until `expire`.

mod support;

use support::*;

const KEY: &str = "127.0.0.1";
const TABLE: &str = "st_src";
/// The table's `expire 60s`: `exp=` counts down from it.
const EXP: Exp = Exp::Within(60_000);

#[test]
fn session_tracker_counts_once_and_is_released_once() {
    let backend = HttpBackend::start();
    let (fe, stats) = (free_port(), free_port());
    let cfg = format!(
        "{head}\
frontend fe
    bind 127.0.0.1:{fe}
    tcp-request connection track-sc0 src table st_src
    default_backend be
backend be
    server s1 127.0.0.1:{be}
backend st_src
    stick-table type ip size 100 expire 60s store conn_cur,conn_cnt,conn_rate(10s),sess_cnt,sess_rate(10s),http_req_cnt,http_req_rate(10s),http_err_cnt,http_err_rate(10s),bytes_in_cnt,bytes_out_cnt,bytes_in_rate(10s),bytes_out_rate(10s),gpc0,gpc0_rate(10s),gpt0
",
        head = scenario_head(stats, Some("http")),
        be = backend.port()
    );
    let _proxy = Proxy::start(&cfg);

    let d = expect_keys(stats, TABLE, &[], "before traffic");
    assert_eq!(d.size, Some(100), "{}", d.raw);

    let mut c = HttpConn::connect(fe);
    expect_entry(
        stats,
        TABLE,
        KEY,
        "use=1 gpt0=0 gpc0=0 conn_cnt=1 conn_rate(10000)=1 conn_cur=1 sess_cnt=1 sess_rate(10000)=1 \
         http_req_cnt=0 http_req_rate(10000)=0 http_err_cnt=0 http_err_rate(10000)=0 \
         bytes_in_cnt=0 bytes_out_cnt=0",
        EXP,
        "client connected, no request yet",
    );

    for i in 1..=2 {
        assert_eq!(c.request(&get("/")).expect("response").status, 200);
        expect_entry(
            stats,
            TABLE,
            KEY,
            &format!(
                "use=1 conn_cnt=1 conn_rate(10000)=1 conn_cur=1 sess_cnt=1 sess_rate(10000)=1 \
                 http_req_cnt={i} http_req_rate(10000)={i} http_err_cnt=0"
            ),
            EXP,
            &format!("after request {i}, connection idle"),
        );
    }

    // Request 3 waits at the server: its stream is alive while we look.
    c.send(&get("/hold")).expect("send request 3");
    assert!(backend.wait_holding(1, ms(10_000)), "request 3 never reached the server");
    expect_entry(
        stats,
        TABLE,
        KEY,
        "use=1 conn_cnt=1 conn_cur=1 sess_cnt=1 http_req_cnt=3 http_req_rate(10000)=3 http_err_cnt=0",
        EXP,
        "request 3 in flight (stream alive)",
    );
    backend.open_gate();
    assert_eq!(c.read_response(false).expect("response 3").status, 200);
    let idle = expect_entry(
        stats,
        TABLE,
        KEY,
        "use=1 conn_cnt=1 conn_cur=1 sess_cnt=1 http_req_cnt=3 http_req_rate(10000)=3 http_err_cnt=0",
        EXP,
        "after request 3, connection idle",
    );
    // Byte counters exist and moved (their exact values differ by design).
    assert!(idle.get("bytes_in_cnt").is_some_and(|b| b > 0), "{idle:?}");
    assert!(idle.get("bytes_out_cnt").is_some_and(|b| b > 0), "{idle:?}");

    let by_key = Dump::parse(&cli(stats, &format!("show table {TABLE} key {KEY}")));
    assert_eq!(by_key.keys(), [KEY], "lookup by key:\n{}", by_key.raw);
    assert!(
        by_key.entry(KEY).unwrap().mismatches("use=1 conn_cur=1 http_req_cnt=3").is_empty(),
        "{}",
        by_key.raw
    );

    drop(c);
    expect_entry(
        stats,
        TABLE,
        KEY,
        "use=0 conn_cnt=1 conn_rate(10000)=1 conn_cur=0 sess_cnt=1 sess_rate(10000)=1 \
         http_req_cnt=3 http_req_rate(10000)=3 http_err_cnt=0",
        EXP,
        "after client closed",
    );
    // The released entry stays (expire 60s): still one entry.
    std::thread::sleep(ms(300));
    expect_keys(stats, TABLE, &[KEY], "after close, entry kept");
}
