//! A stream tracker lives exactly as long as its request (golden scenario S2).
//!
//! The bug this guards against: in HAProxy 1.6 (Aug 2015, commit 827752e)
//! a stream copied its session's stick counters with a reference, and both
//! released them at the end, so `conn_cur` went negative (fixed by
//! a68f7629d: the copy takes no reference and a stream skips, at release,
//! every slot its session holds). The other half of that rule is that a
//! tracker the *stream* started is released by the stream, at its end, and
//! only then.
//!
//! Scenario S2: S1's session tracker (`tcp-request connection track-sc0
//! src table st_src`) plus `http-request track-sc1 src table other`, one
//! keep-alive client, three requests, the third held at the server. HAProxy
//! 2.6: `st_src` behaves exactly as in S1 (`conn_cur=1 use=1` throughout);
//! `other` appears with the first request, shows `conn_cur=1 use=1` only
//! while a request is in flight and `0/0` between requests, counts one
//! `conn_cnt` per request (3) and never `sess_cnt`.

mod support;

use support::*;

const KEY: &str = "127.0.0.1";
/// Both tables' `expire 60s`: `exp=` counts down from it.
const EXP: Exp = Exp::Within(60_000);

#[test]
fn stream_tracker_is_held_only_while_its_request_lives() {
    let backend = HttpBackend::start();
    let (fe, stats) = (free_port(), free_port());
    let store = "store conn_cur,conn_cnt,conn_rate(10s),sess_cnt,http_req_cnt,http_req_rate(10s),http_err_cnt,bytes_in_cnt,bytes_out_cnt";
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
    stick-table type ip size 100 expire 60s {store}
backend other
    stick-table type ip size 100 expire 60s {store}
",
        head = scenario_head(stats, Some("http")),
        be = backend.port()
    );
    let _proxy = Proxy::start(&cfg);
    expect_keys(stats, "st_src", &[], "before traffic");
    expect_keys(stats, "other", &[], "before traffic");

    let mut c = HttpConn::connect(fe);
    let session = |label: &str, reqs: u32| {
        expect_entry(
            stats,
            "st_src",
            KEY,
            &format!(
                "use=1 conn_cnt=1 conn_rate(10000)=1 conn_cur=1 sess_cnt=1 \
                 http_req_cnt={reqs} http_req_rate(10000)={reqs} http_err_cnt=0"
            ),
            EXP,
            label,
        )
    };
    session("client connected, no request yet", 0);
    expect_keys(stats, "other", &[], "client connected, no request yet");

    for i in 1..=2 {
        assert_eq!(c.request(&get("/")).expect("response").status, 200);
        let label = format!("after request {i}, connection idle");
        session(&label, i);
        expect_entry(
            stats,
            "other",
            KEY,
            &format!(
                "use=0 conn_cnt={i} conn_rate(10000)={i} conn_cur=0 sess_cnt=0 \
                 http_req_cnt={i} http_req_rate(10000)={i} http_err_cnt=0"
            ),
            EXP,
            &label,
        );
    }

    c.send(&get("/hold")).expect("send request 3");
    assert!(backend.wait_holding(1, ms(10_000)), "request 3 never reached the server");
    session("request 3 in flight", 3);
    expect_entry(
        stats,
        "other",
        KEY,
        "use=1 conn_cnt=3 conn_rate(10000)=3 conn_cur=1 sess_cnt=0 http_req_cnt=3 http_req_rate(10000)=3",
        EXP,
        "request 3 in flight",
    );
    backend.open_gate();
    assert_eq!(c.read_response(false).expect("response 3").status, 200);
    session("after request 3, connection idle", 3);
    expect_entry(
        stats,
        "other",
        KEY,
        "use=0 conn_cnt=3 conn_cur=0 sess_cnt=0 http_req_cnt=3 http_req_rate(10000)=3",
        EXP,
        "after request 3, connection idle",
    );

    drop(c);
    let label = "after client closed";
    expect_entry(stats, "st_src", KEY, "use=0 conn_cnt=1 conn_cur=0 sess_cnt=1 http_req_cnt=3", EXP, label);
    expect_entry(stats, "other", KEY, "use=0 conn_cnt=3 conn_cur=0 sess_cnt=0 http_req_cnt=3", EXP, label);
}
