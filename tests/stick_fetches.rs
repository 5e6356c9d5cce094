//! Stick-counter fetches read through the right slot, with exact values:
//! `sc0_*`, `sc_*(N)`, `sc_*(N,table)`, `scN_tracked`, `scN_trackers`, the
//! gpc0 fetches, `src_*`, `table_cnt`/`table_avl`, and `deny` on them.
//!
//! The bug this guards against: in HAProxy 1.6 (Aug 2015, commit 827752e)
//! a stream copied its session's stick counters and both released them,
//! so `conn_cur` went negative (fixed by a68f7629d: the copy takes no
//! reference, and a stream skips at release every slot its session
//! holds). A fetch is the other side of that story: `sc0_conn_cur` must
//! read the session's tracker from inside a stream that does not own it,
//! a stream tracker must win over nothing but an empty slot, and reading
//! (or bumping gpc0 through a fetch) must never move a reference: every
//! test ends with `use=` and `conn_cur` equal to the live trackers.
//!
//! Values are read back through `http-response set-header X-... %[fetch]`
//! (a failing fetch gives an empty header) and through `show table` on the
//! stats port. Every expectation was checked against HAProxy 2.6
//! (`STRATA_BIN=/usr/sbin/haproxy cargo test --test stick_fetches`).

mod support;

use std::net::Ipv4Addr;
use std::time::Duration;
use support::http_answers::{FORBIDDEN_403, TOO_MANY_REQUESTS_429};
use support::*;

const A1: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const A2: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
/// The tables' `expire 60s`: `exp=` counts down from it.
const EXP: Exp = Exp::Within(60_000);

/// A rate period long enough that every request of a test falls in its
/// first period (scaled with the machine): rates then read exact counts.
fn period_ms() -> u64 {
    expire_ms(Duration::from_secs(60))
}

fn send(c: &mut HttpConn, raw: &[u8]) -> Response {
    let r = c.request(raw).unwrap_or_else(|e| panic!("request {:?}: {e}", String::from_utf8_lossy(raw)));
    assert_eq!(r.status, 200, "{}", r.raw_text());
    r
}

/// `sc0_*`/`sc2_*` resolve to the session's tracker or the stream's own,
/// `sc_*(N,table)` looks the tracked key up elsewhere, an untracked slot
/// fails, `src_*` reads by address (0 when missing), `table_cnt/avl`.
#[test]
fn sc_and_src_fetches_read_the_slot_that_holds_the_tracker() {
    let backend = HttpBackend::start();
    let (fe, stats) = (free_port(), free_port());
    let p = period_ms();
    let cfg = format!(
        "{head}\
frontend fe
    bind 127.0.0.1:{fe}
    stick-table type ip size 10 expire 60s store conn_cur,conn_cnt,http_req_cnt,http_req_rate({p}ms)
    tcp-request connection track-sc0 src
    http-request track-sc2 src table t_stream
    http-response set-header X-sc0-conn-cur %[sc0_conn_cur]
    http-response set-header X-sc0-conn-cnt %[sc0_conn_cnt]
    http-response set-header X-sc0-req-cnt %[sc0_http_req_cnt]
    http-response set-header X-sc0-req-rate %[sc0_http_req_rate]
    http-response set-header X-sc-req-cnt-0 %[sc_http_req_cnt(0)]
    http-response set-header X-sc-req-rate-0 %[sc_http_req_rate(0)]
    http-response set-header X-sc0-trackers %[sc0_trackers]
    http-response set-header X-sc0-tracked %[sc0_tracked]
    http-response set-header X-sc0-found yes if {{ sc0_conn_cur -m found }}
    http-response set-header X-sc0-gpc0 %[sc0_get_gpc0]
    http-response set-header X-sc2-inc-ns %[sc2_inc_gpc0]
    http-response set-header X-sc1-tracked %[sc1_tracked]
    http-response set-header X-sc1-conn-cur %[sc1_conn_cur]
    http-response set-header X-sc1-found yes if {{ sc1_conn_cur -m found }}
    http-response set-header X-sc2-conn-cur %[sc2_conn_cur]
    http-response set-header X-sc2-conn-cnt %[sc2_conn_cnt]
    http-response set-header X-sc2-req-cnt %[sc_http_req_cnt(2)]
    http-response set-header X-sc2-trackers %[sc2_trackers]
    http-response set-header X-sc0-in-stream %[sc_conn_cnt(0,t_stream)]
    http-response set-header X-sc2-in-fe %[sc2_http_req_cnt(fe)]
    http-response set-header X-sc0-in-empty %[sc0_conn_cur(t_empty)]
    http-response set-header X-sc0-in-empty-ns %[sc0_http_req_cnt(t_empty)]
    http-response set-header X-sc0-trk-stream %[sc0_trackers(t_stream)]
    http-response set-header X-src-conn-cur %[src_conn_cur]
    http-response set-header X-src-req-cnt %[src_http_req_cnt(t_stream)]
    http-response set-header X-src-empty %[src_conn_cur(t_empty)]
    http-response set-header X-src-empty-ns %[src_http_req_cnt(t_empty)]
    http-response set-header X-src-ns %[src_get_gpc0(t_stream)]
    http-response set-header X-table-cnt %[table_cnt]
    http-response set-header X-table-avl %[table_avl]
    http-response set-header X-stream-cnt %[table_cnt(t_stream)]
    http-response set-header X-stream-avl %[table_avl(t_stream)]
    http-response set-header X-empty-cnt %[table_cnt(t_empty)]
    default_backend be
backend be
    server s1 127.0.0.1:{be}
backend t_stream
    stick-table type ip size 5 expire 60s store conn_cur,conn_cnt,http_req_cnt
backend t_empty
    stick-table type ip size 3 expire 60s store conn_cur
",
        head = scenario_head(stats, Some("http")),
        be = backend.port()
    );
    let _proxy = Proxy::start(&cfg);
    // What does not change with the request: slot 1 is never tracked (its
    // fetches fail, `-m found` is false); a type the table does not store
    // fails on an existing entry (`sc0_get_gpc0`, `src_get_gpc0(t_stream)`),
    // except an increment, which reads 0 (`sc2_inc_gpc0`);
    // t_empty has no entry, so `src_*(t_empty)` and `sc0_*(t_empty)` read
    // 0, even for a type t_empty does not store (`-ns`: HAProxy only looks
    // at the stored types once it has an entry).
    let fixed = "x-sc0-tracked=1 x-sc0-found=yes x-sc0-gpc0= x-sc2-inc-ns=0 x-sc1-tracked=0 x-sc1-conn-cur= \
                 x-sc1-found=- x-sc0-in-empty=0 x-sc0-in-empty-ns=0 x-src-empty=0 x-src-empty-ns=0 \
                 x-src-ns= x-empty-cnt=0";

    let mut c1 = HttpConn::connect_from(fe, A1);
    expect_entry(stats, "fe", "127.0.0.1", "use=1 conn_cur=1 conn_cnt=1 http_req_cnt=0", EXP, "c1 connected");
    let r = send(&mut c1, &get("/"));
    assert_headers(&r.headers, fixed, "c1 request 1");
    assert_headers(
        &r.headers,
        "x-sc0-conn-cur=1 x-sc0-conn-cnt=1 x-sc0-req-cnt=1 x-sc0-req-rate=1 x-sc-req-cnt-0=1 \
             x-sc-req-rate-0=1 x-sc0-trackers=1 x-sc2-conn-cur=1 x-sc2-conn-cnt=1 x-sc2-req-cnt=1 \
             x-sc2-trackers=1 x-sc0-in-stream=1 x-sc0-trk-stream=1 x-sc2-in-fe=1 x-src-conn-cur=1 \
             x-src-req-cnt=1 x-table-cnt=1 x-table-avl=9 x-stream-cnt=1 x-stream-avl=4",
        "c1 request 1: sc0 is the session's tracker, sc2 the stream's own",
    );
    // The stream tracker is released with its stream, the session's is not.
    expect_entry(
        stats,
        "t_stream",
        "127.0.0.1",
        "use=0 conn_cur=0 conn_cnt=1 http_req_cnt=1",
        EXP,
        "c1 idle",
    );
    expect_entry(stats, "fe", "127.0.0.1", "use=1 conn_cur=1 conn_cnt=1 http_req_cnt=1", EXP, "c1 idle");

    let r = send(&mut c1, &get("/"));
    assert_headers(&r.headers, fixed, "c1 request 2");
    assert_headers(
        &r.headers,
        "x-sc0-conn-cur=1 x-sc0-conn-cnt=1 x-sc0-req-cnt=2 x-sc0-req-rate=2 x-sc-req-cnt-0=2 \
         x-sc-req-rate-0=2 x-sc0-trackers=1 x-sc2-conn-cur=1 x-sc2-conn-cnt=2 x-sc2-req-cnt=2 \
         x-sc2-trackers=1 x-sc0-in-stream=2 x-sc2-in-fe=2 x-src-conn-cur=1 x-src-req-cnt=2 \
         x-table-cnt=1 x-table-avl=9 x-stream-cnt=1 x-stream-avl=4",
        "c1 request 2: a new stream tracker per request, the same session tracker",
    );

    // A second connection from the same address: two session trackers on
    // one entry (two sessions), each stream reads the shared entry.
    let mut c2 = HttpConn::connect_from(fe, A1);
    expect_entry(stats, "fe", "127.0.0.1", "use=2 conn_cur=2 conn_cnt=2 http_req_cnt=2", EXP, "c2 connected");
    let r = send(&mut c2, &get("/"));
    assert_headers(&r.headers, fixed, "c2 request 1");
    assert_headers(
        &r.headers,
        "x-sc0-conn-cur=2 x-sc0-conn-cnt=2 x-sc0-req-cnt=3 x-sc0-req-rate=3 x-sc0-trackers=2 \
         x-sc2-conn-cur=1 x-sc2-conn-cnt=3 x-sc2-req-cnt=3 x-sc2-trackers=1 x-src-conn-cur=2 \
         x-table-cnt=1 x-stream-cnt=1",
        "c2 request 1 (c1 open and idle)",
    );

    // Another address: its own entries, the table counts grow.
    let mut c3 = HttpConn::connect_from(fe, A2);
    let r = send(&mut c3, &get("/"));
    assert_headers(&r.headers, fixed, "c3 request 1");
    assert_headers(
        &r.headers,
        "x-sc0-conn-cur=1 x-sc0-conn-cnt=1 x-sc0-req-cnt=1 x-sc0-trackers=1 x-sc2-conn-cnt=1 \
         x-src-conn-cur=1 x-src-req-cnt=1 x-table-cnt=2 x-table-avl=8 x-stream-cnt=2 x-stream-avl=3",
        "c3 (127.0.0.2) request 1",
    );

    // Reading never moved a reference: close everything, all back to 0.
    drop((c1, c2, c3));
    let label = "all closed";
    expect_keys(stats, "fe", &["127.0.0.1", "127.0.0.2"], label);
    expect_entry(stats, "fe", "127.0.0.1", "use=0 conn_cur=0 conn_cnt=2 http_req_cnt=3", EXP, label);
    expect_entry(stats, "fe", "127.0.0.2", "use=0 conn_cur=0 conn_cnt=1 http_req_cnt=1", EXP, label);
    expect_entry(stats, "t_stream", "127.0.0.1", "use=0 conn_cur=0 conn_cnt=3 http_req_cnt=3", EXP, label);
    expect_entry(stats, "t_stream", "127.0.0.2", "use=0 conn_cur=0 conn_cnt=1 http_req_cnt=1", EXP, label);
    expect_keys(stats, "t_empty", &[], label);
}

/// `scN_inc_gpc0` / `scN_clr_gpc0` / `scN_get_gpc0` act on the tracked
/// entry of their slot (the session's or the stream's own), fail on an
/// untracked slot; `src_inc_gpc0` creates the entry without tracking it.
/// The values are set as request headers (`path` is a request fetch) and
/// read at the server, in rule order.
#[test]
fn gpc0_fetches_update_the_entry_of_their_slot() {
    let backend = HttpBackend::start();
    let (fe, stats) = (free_port(), free_port());
    let cfg = format!(
        "{head}\
frontend fe
    bind 127.0.0.1:{fe}
    tcp-request connection track-sc0 src table t_gpc
    http-request track-sc1 req.hdr(x-user) table t_user if {{ req.hdr(x-user) -m found }}
    http-request set-header X-inc %[sc0_inc_gpc0] if {{ query inc }}
    http-request set-header X-clr %[sc0_clr_gpc0] if {{ query clr }}
    http-request set-header X-get %[sc0_get_gpc0]
    http-request set-header X-u-inc %[sc1_inc_gpc0] if {{ query uinc }}
    http-request set-header X-u-get %[sc_get_gpc0(1)]
    http-request set-header X-src-inc %[src_inc_gpc0(t_src)] if {{ query srcinc }}
    http-request set-header X-src-get %[src_get_gpc0(t_src)]
    default_backend be
backend be
    server s1 127.0.0.1:{be}
backend t_gpc
    stick-table type ip size 10 expire 60s store gpc0,conn_cur,conn_cnt
backend t_user
    stick-table type string len 16 size 10 expire 60s store gpc0,conn_cur,conn_cnt
backend t_src
    stick-table type ip size 10 expire 60s store gpc0
",
        head = scenario_head(stats, Some("http")),
        be = backend.port()
    );
    let _proxy = Proxy::start(&cfg);
    let mut c = HttpConn::connect_from(fe, A1);
    let user = |path: &str| request("GET", path, &["X-User: bob"], b"");
    let steps: [(Vec<u8>, &str, &str); 8] = [
        (get("/"), "x-inc=- x-clr=- x-get=0 x-u-inc=- x-u-get= x-src-inc=- x-src-get=0", "GET /"),
        (get("/?inc"), "x-inc=1 x-get=1", "?inc (returns the new value)"),
        (get("/?inc"), "x-inc=2 x-get=2", "?inc again"),
        (get("/?clr"), "x-clr=2 x-get=0", "?clr (returns the value before clearing)"),
        (get("/?uinc"), "x-u-inc= x-u-get= x-get=0", "?uinc without X-User: slot 1 untracked, fails"),
        (user("/?uinc"), "x-u-inc=1 x-u-get=1 x-get=0", "?uinc as bob: slot 1's entry, not slot 0's"),
        (get("/?srcinc"), "x-src-inc=1 x-src-get=1 x-get=0", "?srcinc: creates t_src's entry"),
        (get("/?srcinc"), "x-src-inc=2 x-src-get=2", "?srcinc again"),
    ];
    for (n, (raw, spec, label)) in steps.iter().enumerate() {
        send(&mut c, raw);
        let got = backend.wait_requests(n + 1, ms(10_000)).expect("request reached the server");
        assert_headers(&got[n].headers, spec, label);
    }
    let label = "after the gpc0 requests, connection open";
    expect_entry(stats, "t_gpc", "127.0.0.1", "use=1 conn_cur=1 conn_cnt=1 gpc0=0", EXP, label);
    expect_entry(stats, "t_user", "bob", "use=0 conn_cur=0 conn_cnt=1 gpc0=1", EXP, label);
    expect_entry(stats, "t_src", "127.0.0.1", "use=0 gpc0=2", EXP, label);
    drop(c);
    expect_entry(stats, "t_gpc", "127.0.0.1", "use=0 conn_cur=0 conn_cnt=1 gpc0=0", EXP, "closed");
}

/// `deny if { sc0_conn_cur gt 1 }` and `deny deny_status 429 if {
/// sc_http_req_rate(0) gt 2 }` bite at exactly the counts they name, with
/// HAProxy's exact answers, and let go when the count drops.
#[test]
fn deny_on_sc_fetches_bites_at_the_exact_count() {
    let backend = HttpBackend::start();
    let (fe, stats) = (free_port(), free_port());
    let p = period_ms();
    let cfg = format!(
        "{head}\
frontend fe
    bind 127.0.0.1:{fe}
    tcp-request connection track-sc0 src table t_deny
    http-request deny if {{ sc0_conn_cur gt 1 }}
    http-request deny deny_status 429 if {{ sc_http_req_rate(0) gt 2 }}
    default_backend be
backend be
    server s1 127.0.0.1:{be}
backend t_deny
    stick-table type ip size 10 expire 60s store conn_cur,conn_cnt,http_req_cnt,http_req_rate({p}ms),http_err_cnt
",
        head = scenario_head(stats, Some("http")),
        be = backend.port()
    );
    let _proxy = Proxy::start(&cfg);
    let answer = |c: &mut HttpConn| c.request(&get("/")).expect("response").raw_text();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let key = "127.0.0.1";

    let mut c1 = HttpConn::connect_from(fe, A1);
    send(&mut c1, &get("/"));
    send(&mut c1, &get("/"));
    assert_eq!(answer(&mut c1), text(TOO_MANY_REQUESTS_429), "3rd request: rate 3 > 2");
    expect_entry(
        stats,
        "t_deny",
        key,
        "use=1 conn_cur=1 http_req_cnt=3 http_err_cnt=1",
        EXP,
        "after the 429",
    );

    // A second connection: conn_cur 2 > 1, the first rule answers 403.
    let mut c2 = HttpConn::connect_from(fe, A1);
    expect_entry(stats, "t_deny", key, "use=2 conn_cur=2 conn_cnt=2", EXP, "c2 connected");
    assert_eq!(answer(&mut c2), text(FORBIDDEN_403), "c2 while c1 is open: conn_cur 2 > 1");
    drop(c2);
    expect_entry(
        stats,
        "t_deny",
        key,
        "use=1 conn_cur=1 conn_cnt=2 http_req_cnt=4 http_err_cnt=2",
        EXP,
        "c2 closed",
    );
    // Back to one connection: the 403 rule lets go, the rate still bites.
    assert_eq!(answer(&mut c1), text(TOO_MANY_REQUESTS_429), "c1 again: conn_cur 1, rate 5 > 2");
    drop(c1);
    let label = "all closed";
    expect_entry(
        stats,
        "t_deny",
        key,
        "use=0 conn_cur=0 conn_cnt=2 http_req_cnt=5 http_err_cnt=3",
        EXP,
        label,
    );
}
