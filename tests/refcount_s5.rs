//! A full table: refused keys stay untracked, referenced entries are never
//! evicted, `nopurge` refuses (golden scenario S5).
//!
//! The bug this guards against: in HAProxy 1.6 (Aug 2015, commit 827752e)
//! a stream copied its session's stick counters with a reference and both
//! released them, so `conn_cur` went negative and the refcount drifted
//! (fixed by a68f7629d). A drifting refcount is worse on a full table: an
//! entry whose count fell to 0 while still tracked can be evicted under a
//! live connection, and one whose count never returns to 0 can never be
//! evicted again. The reference count is what eviction obeys, so this
//! scenario checks `use=` against eviction.
//!
//! Scenario S5: `size 2`, clients from 127.0.0.1, .2 and .3 (all of
//! 127.0.0.0/8 is on `lo`), `tcp-request connection track-sc0 src`, and
//! response headers showing what `sc0_tracked`, `sc0_conn_cur` and
//! `src_conn_cur(small)` see. HAProxy 2.6:
//! - A: with .1 and .2 held open (`use=1` each), .3 is not tracked
//!   (`x-sc0-tracked: 0`, `x-sc0-conn-cur` empty, `x-src-conn-cur: 0`) but
//!   served; the table keeps .1 and .2.
//! - B: after .1 closes (`use=0`), the first new connection from .3 is
//!   still refused (the released entry was refreshed, so the eviction walk
//!   only re-queues it), the second evicts .1 and is tracked, a third joins
//!   it (`use=2 conn_cur=2`); the old untracked .3 connection still sees no
//!   tracker but `x-src-conn-cur: 2`. Everything closed: `use=0
//!   conn_cur=0` on .2 and .3.
//! - C: with `nopurge`, three short connections in turn: the third key is
//!   refused although both entries are unused.

mod support;

use std::net::Ipv4Addr;
use support::*;

const A1: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const A2: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const A3: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
/// The tables' `expire 60s`: `exp=` counts down from it.
const EXP: Exp = Exp::Within(60_000);

/// GET / on `c`; the three headers the frontend adds (`None` if absent).
fn probe(c: &mut HttpConn) -> [Option<String>; 3] {
    let r = c.request(&get("/")).expect("response");
    assert_eq!(r.status, 200, "{}", r.raw_text());
    ["x-sc0-tracked", "x-sc0-conn-cur", "x-src-conn-cur"].map(|h| r.header(h).map(str::to_string))
}

fn seen(tracked: &str, sc0_cur: &str, src_cur: &str) -> [Option<String>; 3] {
    [Some(tracked.into()), Some(sc0_cur.into()), Some(src_cur.into())]
}

#[test]
fn full_table_refuses_or_evicts_by_reference_count() {
    let backend = HttpBackend::start();
    let (fe, fe_np, stats) = (free_port(), free_port(), free_port());
    let cfg = format!(
        "{head}\
frontend fe
    bind 127.0.0.1:{fe}
    tcp-request connection track-sc0 src table small
    http-response set-header X-sc0-tracked %[sc0_tracked]
    http-response set-header X-sc0-conn-cur %[sc0_conn_cur]
    http-response set-header X-src-conn-cur %[src_conn_cur(small)]
    default_backend be
backend be
    server s1 127.0.0.1:{be}
backend small
    stick-table type ip size 2 expire 60s store conn_cur,conn_cnt,http_req_cnt
frontend fe_nopurge
    bind 127.0.0.1:{fe_np}
    tcp-request connection track-sc0 src table small_nopurge
    http-response set-header X-sc0-tracked %[sc0_tracked]
    default_backend be
backend small_nopurge
    stick-table type ip size 2 expire 60s nopurge store conn_cur,conn_cnt,http_req_cnt
",
        head = scenario_head(stats, Some("http")),
        be = backend.port()
    );
    let _proxy = Proxy::start(&cfg);
    let small = |key: &str, spec: &str, label: &str| expect_entry(stats, "small", key, spec, EXP, label);

    // Part A: all three keys held open.
    let mut c1 = HttpConn::connect_from(fe, A1);
    let mut c2 = HttpConn::connect_from(fe, A2);
    let label = "127.0.0.1 and 127.0.0.2 connected";
    small("127.0.0.1", "use=1 conn_cnt=1 conn_cur=1 http_req_cnt=0", label);
    small("127.0.0.2", "use=1 conn_cnt=1 conn_cur=1 http_req_cnt=0", label);
    let mut c3 = HttpConn::connect_from(fe, A3);
    assert_eq!(probe(&mut c1), seen("1", "1", "1"), "GET / from 127.0.0.1");
    assert_eq!(probe(&mut c2), seen("1", "1", "1"), "GET / from 127.0.0.2");
    assert_eq!(probe(&mut c3), seen("0", "", "0"), "GET / from 127.0.0.3 (table full)");
    let label = "after one request on each of the three connections";
    expect_keys(stats, "small", &["127.0.0.1", "127.0.0.2"], label);
    small("127.0.0.1", "use=1 conn_cnt=1 conn_cur=1 http_req_cnt=1", label);
    small("127.0.0.2", "use=1 conn_cnt=1 conn_cur=1 http_req_cnt=1", label);

    // Part B: release 127.0.0.1, then new connections from 127.0.0.3.
    drop(c1);
    let label = "127.0.0.1 closed (its entry stays, use=0)";
    small("127.0.0.1", "use=0 conn_cnt=1 conn_cur=0 http_req_cnt=1", label);
    small("127.0.0.2", "use=1 conn_cnt=1 conn_cur=1 http_req_cnt=1", label);

    let mut n1 = HttpConn::connect_from(fe, A3);
    assert_eq!(probe(&mut n1), seen("0", "", "0"), "new connection #1 from 127.0.0.3: refused once");
    let label = "after new 127.0.0.3 connection #1";
    expect_keys(stats, "small", &["127.0.0.1", "127.0.0.2"], label);
    small("127.0.0.1", "use=0 conn_cnt=1 conn_cur=0 http_req_cnt=1", label);

    let mut n2 = HttpConn::connect_from(fe, A3);
    assert_eq!(probe(&mut n2), seen("1", "1", "1"), "new connection #2 from 127.0.0.3: evicts 127.0.0.1");
    let label = "after new 127.0.0.3 connection #2";
    expect_keys(stats, "small", &["127.0.0.2", "127.0.0.3"], label);
    small("127.0.0.2", "use=1 conn_cnt=1 conn_cur=1 http_req_cnt=1", label);
    small("127.0.0.3", "use=1 conn_cnt=1 conn_cur=1 http_req_cnt=1", label);

    let mut n3 = HttpConn::connect_from(fe, A3);
    assert_eq!(probe(&mut n3), seen("1", "2", "2"), "new connection #3 from 127.0.0.3");
    let label = "after new 127.0.0.3 connection #3";
    small("127.0.0.2", "use=1 conn_cnt=1 conn_cur=1 http_req_cnt=1", label);
    small("127.0.0.3", "use=2 conn_cnt=2 conn_cur=2 http_req_cnt=2", label);

    assert_eq!(probe(&mut c3), seen("0", "", "2"), "GET / again on the old, untracked 127.0.0.3 connection");
    drop((c2, c3, n1, n2, n3));
    let label = "everything closed";
    expect_keys(stats, "small", &["127.0.0.2", "127.0.0.3"], label);
    small("127.0.0.2", "use=0 conn_cnt=1 conn_cur=0 http_req_cnt=1", label);
    small("127.0.0.3", "use=0 conn_cnt=2 conn_cur=0 http_req_cnt=2", label);

    // Part C: nopurge, one short connection per address in turn.
    let released = "use=0 conn_cnt=1 conn_cur=0 http_req_cnt=1";
    for (src, tracked) in [(A1, "1"), (A2, "1"), (A3, "0")] {
        let mut c = HttpConn::connect_from(fe_np, src);
        let r = c.request(&get("/")).expect("response");
        assert_eq!(r.status, 200, "{}", r.raw_text());
        assert_eq!(r.header("x-sc0-tracked"), Some(tracked), "GET / from {src} (nopurge)");
        drop(c);
        if tracked == "1" {
            let key = src.to_string();
            expect_entry(stats, "small_nopurge", &key, released, EXP, &format!("{src} came and went"));
        }
    }
    let label = "three keys came and went: with nopurge the third was never stored";
    expect_keys(stats, "small_nopurge", &["127.0.0.1", "127.0.0.2"], label);
    expect_entry(stats, "small_nopurge", "127.0.0.1", released, EXP, label);
    expect_entry(stats, "small_nopurge", "127.0.0.2", released, EXP, label);
}
