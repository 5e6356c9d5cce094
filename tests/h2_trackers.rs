//! Trackers under HTTP/2 concurrency: the case the session/stream split
//! exists for. One client connection (one L5 session) runs 100 L6 streams
//! at once, each inheriting the session's tracker and tracking its own.
//!
//! The bug this guards against is HAProxy's 2015 negative `conn_cur`: a
//! stream that released its session's tracker. With 100 streams of one
//! session, a release per stream would drive `conn_cur` to -99; a stream
//! tracker not released on one of the paths a stream can end by (END_STREAM,
//! RST_STREAM from the client, the connection's end) would leave `use=`
//! above 0 for ever. `debug counters check` is asserted consistent while
//! the streams are in flight, and every entry exact after.

mod support;

use std::time::Duration;
use support::h2_client::*;
use support::*;

const LIMIT: Duration = Duration::from_secs(20);
const EXP: Exp = Exp::Within(60_000);

/// `tcp-request connection track-sc0 src` and `http-request track-sc1 path`
/// over an HTTP/2 bind.
fn setup() -> (HttpBackend, Proxy, u16, u16) {
    let backend = HttpBackend::start();
    let (fe, stats) = (free_port(), free_port());
    let store = "store conn_cur,conn_cnt,sess_cnt,http_req_cnt";
    let cfg = format!(
        "{head}\
frontend fe
    mode http
    bind 127.0.0.1:{fe} proto h2
    tcp-request connection track-sc0 src table st_src
    http-request track-sc1 path table st_path
    default_backend be
backend be
    mode http
    server s1 127.0.0.1:{be}
backend st_src
    stick-table type ip size 100 expire 60s {store}
backend st_path
    stick-table type string len 32 size 100 expire 60s {store}
",
        head = scenario_head(stats, None),
        be = backend.port()
    );
    let proxy = Proxy::start(&cfg);
    backend.close_gate();
    (backend, proxy, fe, stats)
}

/// strata's `debug counters check` (HAProxy has no such command: true there).
fn consistent(stats: u16) -> bool {
    under_haproxy() || cli(stats, "debug counters check").starts_with("counters consistent")
}

/// `debug counters check` says exactly this (strata only).
fn check_says(stats: u16, want: &str) {
    if !under_haproxy() {
        assert_eq!(cli(stats, "debug counters check"), want);
    }
}

#[test]
fn hundred_concurrent_streams_count_the_session_once_and_each_stream_exactly() {
    let (backend, _proxy, fe, stats) = setup();
    let mut c = H2Conn::connect(fe);
    let ids: Vec<u32> = (0..100).map(|i| c.get(&format!("/hold/{}", i % 10))).collect();
    assert!(backend.wait_holding(100, ms(15_000)), "100 requests held at the server ({})", backend.holding());

    // During the burst: the session's entry counted once, each path entry
    // once per live stream.
    expect_entry(
        stats,
        "st_src",
        "127.0.0.1",
        "use=1 conn_cur=1 conn_cnt=1 sess_cnt=1 http_req_cnt=100",
        EXP,
        "burst",
    );
    for k in 0..10 {
        let key = format!("/hold/{k}");
        expect_entry(
            stats,
            "st_path",
            &key,
            "use=10 conn_cur=10 conn_cnt=10 sess_cnt=0 http_req_cnt=10",
            EXP,
            "burst",
        );
    }
    check_says(stats, "counters consistent: 11 entries, 101 trackers\n\n");
    let sess = cli(stats, "show sess");
    // (HAProxy also lists the stats connection's own stream, on no frontend `fe`.)
    assert_eq!(
        sess.lines().filter(|l| l.contains(" fe=fe ")).count(),
        100,
        "show sess lists every live stream"
    );
    if !under_haproxy() {
        // strata's `show sess tree`: the session, then each stream with the
        // slot it inherited and the one it owns.
        let tree = cli(stats, "show sess tree");
        let first = tree.lines().next().unwrap_or_default();
        assert!(first.ends_with(" streams=100"), "{first}");
        assert_eq!(tree.matches(" inherited table=st_src key=127.0.0.1 use=1").count(), 100);
        assert_eq!(tree.matches(" own table=st_path key=/hold/").count(), 100);
    }

    backend.open_gate();
    let (res, end) = c.run(&ids, LIMIT);
    assert!(end.is_none(), "{end:?}");
    assert!(ids.iter().all(|id| res[id].status == Some(200)));
    for k in 0..10 {
        let key = format!("/hold/{k}");
        expect_entry(stats, "st_path", &key, "use=0 conn_cur=0 conn_cnt=10 http_req_cnt=10", EXP, "after");
    }
    expect_entry(stats, "st_src", "127.0.0.1", "use=1 conn_cur=1 conn_cnt=1 http_req_cnt=100", EXP, "after");
    drop(c);
    expect_entry(
        stats,
        "st_src",
        "127.0.0.1",
        "use=0 conn_cur=0 conn_cnt=1 sess_cnt=1 http_req_cnt=100",
        EXP,
        "closed",
    );
    check_says(stats, "counters consistent: 11 entries, 0 trackers\n\n");
}

#[test]
fn every_way_a_stream_ends_releases_its_own_tracker() {
    let (backend, _proxy, fe, stats) = setup();
    let mut c = H2Conn::connect(fe);
    // 30 streams: 10 will be reset by the client, 10 answered, 10 cut by the
    // connection's end.
    let reset: Vec<u32> = (0..10).map(|_| c.get("/hold/reset")).collect();
    let answered: Vec<u32> = (0..10).map(|_| c.get("/hold/answered")).collect();
    let _cut: Vec<u32> = (0..10).map(|_| c.get("/hold/cut")).collect();
    assert!(backend.wait_holding(30, ms(15_000)), "30 held ({})", backend.holding());
    expect_entry(stats, "st_path", "/hold/reset", "use=10 conn_cur=10", EXP, "held");
    assert!(consistent(stats));

    for id in &reset {
        c.rst(*id, CANCEL);
    }
    expect_entry(stats, "st_path", "/hold/reset", "use=0 conn_cur=0 conn_cnt=10", EXP, "after RST_STREAM");
    expect_entry(stats, "st_path", "/hold/answered", "use=10 conn_cur=10", EXP, "others untouched");
    expect_entry(stats, "st_src", "127.0.0.1", "use=1 conn_cur=1", EXP, "session untouched");
    assert!(consistent(stats));

    backend.open_gate();
    let (res, _) = c.run(&answered, LIMIT);
    assert!(answered.iter().all(|id| res[id].status == Some(200)));
    expect_entry(stats, "st_path", "/hold/answered", "use=0 conn_cur=0 conn_cnt=10", EXP, "after END_STREAM");

    // The gate's opening released the first `cut` ones too (and the server
    // threads of the reset ones): once they are all gone, exactly the next
    // ten are held, whatever the machine's load.
    backend.close_gate();
    assert!(backend.wait_holding(0, ms(15_000)), "{} still held", backend.holding());
    let more: Vec<u32> = (0..10).map(|_| c.get("/hold/cut")).collect();
    assert!(backend.wait_holding(10, ms(15_000)), "{} held", backend.holding());
    drop(c);
    let _ = more;
    // The client's close is a FIN, which may be a half-close: as HAProxy
    // (without `option abortonclose`), a stream whose request was complete
    // goes on until its server answers; the answer meets the closed socket
    // (a reset), which ends the connection and every stream on it.
    backend.open_gate();
    expect_entry(
        stats,
        "st_path",
        "/hold/cut",
        "use=0 conn_cur=0 conn_cnt=20",
        EXP,
        "after the connection's end",
    );
    expect_entry(stats, "st_src", "127.0.0.1", "use=0 conn_cur=0 conn_cnt=1", EXP, "session ended");
    check_says(stats, "counters consistent: 4 entries, 0 trackers\n\n");
    backend.open_gate();
}
