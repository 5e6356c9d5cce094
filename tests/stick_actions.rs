//! Stick-counter actions at every rule layer, with exact values: `track-scN`
//! keyed on `src`, `dst`, `req.hdr(x)`, `path`, `base`, `url_param(u)`;
//! `sc-inc-gpc0(N)`, `sc-inc-gpc1(N)`, `sc-set-gpt0(N) V` at `tcp-request
//! connection|session|content` and `http-request`; `accept` and `reject`;
//! a track on a used slot; two slots on one entry.
//!
//! The bug this guards against: in HAProxy 1.6 (Aug 2015, commit 827752e)
//! a stream copied its session's stick counters and both released them,
//! so `conn_cur` went negative (fixed by a68f7629d). Actions are where
//! ownership is decided: a track action must give its tracker to whoever
//! runs it (the session for connection and session rules, the stream for
//! content and HTTP rules), a track on a slot already held (by the stream
//! or its session) must do nothing, and the counter actions must update
//! the entry of their slot without ever taking or dropping a reference.
//! Every test ends with `use=` and `conn_cur` equal to the live trackers.
//!
//! Values are read with `show table` on the stats port and through
//! `http-response set-header X-... %[fetch]`. Every expectation was checked
//! against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy cargo test --test
//! stick_actions`).

mod support;

use std::net::Ipv4Addr;
use support::*;

const A1: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const A2: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const A3: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
const A4: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 4);
/// The tables' `expire 60s`: `exp=` counts down from it.
const EXP: Exp = Exp::Within(60_000);

fn send(c: &mut HttpConn, raw: &[u8]) -> Response {
    let r = c.request(raw).unwrap_or_else(|e| panic!("request {:?}: {e}", String::from_utf8_lossy(raw)));
    assert_eq!(r.status, 200, "{}", r.raw_text());
    r
}

/// The HTTP-mode head plus `body` with `{be}` and `{stats}` filled in.
fn start(backend: &HttpBackend, stats: u16, body: &str) -> Proxy {
    let cfg = format!(
        "{}{}backend be\n    server s1 127.0.0.1:{}\n",
        scenario_head(stats, Some("http")),
        body,
        backend.port()
    );
    Proxy::start(&cfg)
}

/// gpc0/gpc1/gpt0 actions at each layer land on slot 0's entry (the
/// session's tracker) or slot 1's (a stream's own, per request); an action
/// on an untracked slot does nothing.
#[test]
fn counter_actions_at_every_layer_update_their_slot() {
    let backend = HttpBackend::start();
    let (fe, stats) = (free_port(), free_port());
    let _proxy = start(
        &backend,
        stats,
        &format!(
            "\
frontend fe
    bind 127.0.0.1:{fe}
    tcp-request inspect-delay 5s
    tcp-request connection track-sc0 src table t_act
    tcp-request connection sc-inc-gpc0(0)
    tcp-request connection sc-set-gpt0(0) 5
    tcp-request connection sc-inc-gpc0(2)
    tcp-request session sc-inc-gpc1(0)
    tcp-request content sc-inc-gpc0(0)
    http-request sc-inc-gpc0(0) if {{ query inc }}
    http-request sc-set-gpt0(0) 7 if {{ query gpt }}
    http-request track-sc1 src table t_http
    http-request sc-inc-gpc1(1)
    http-request sc-inc-gpc0(2)
    http-response set-header X-gpc0 %[sc0_get_gpc0]
    http-response set-header X-gpc1 %[sc0_get_gpc1]
    http-response set-header X-gpt0 %[sc0_get_gpt0]
    http-response set-header X-sc1-gpc1 %[sc1_get_gpc1]
    default_backend be
backend t_act
    stick-table type ip size 10 expire 60s store gpt0,gpc0,gpc1,conn_cur,conn_cnt,sess_cnt,http_req_cnt
backend t_http
    stick-table type ip size 10 expire 60s store gpc1,conn_cur,conn_cnt,sess_cnt,http_req_cnt
"
        ),
    );
    let key = "127.0.0.1";
    let mut c = HttpConn::connect_from(fe, A1);
    // Connection and session rules ran; no stream yet, so no content rule.
    let spec = "use=1 conn_cur=1 conn_cnt=1 sess_cnt=1 gpc0=1 gpc1=1 gpt0=5 http_req_cnt=0";
    expect_entry(stats, "t_act", key, spec, EXP, "connected, no request yet");

    // Each request: content +1 on gpc0; `?inc` another +1 from http-request;
    // slot 1 (t_http, tracked per request) gets gpc1 +1.
    let steps: [(&str, &str); 3] = [
        ("/", "x-gpc0=2 x-gpc1=1 x-gpt0=5 x-sc1-gpc1=1"),
        ("/?inc", "x-gpc0=4 x-gpc1=1 x-gpt0=5 x-sc1-gpc1=2"),
        ("/?gpt", "x-gpc0=5 x-gpc1=1 x-gpt0=7 x-sc1-gpc1=3"),
    ];
    for (path, spec) in steps {
        let r = send(&mut c, &get(path));
        assert_headers(&r.headers, spec, &format!("GET {path}"));
    }
    let label = "three requests, connection open";
    let spec = "use=1 conn_cur=1 conn_cnt=1 sess_cnt=1 gpc0=5 gpc1=1 gpt0=7 http_req_cnt=3";
    expect_entry(stats, "t_act", key, spec, EXP, label);
    let spec = "use=0 conn_cur=0 conn_cnt=3 sess_cnt=0 gpc1=3 http_req_cnt=3";
    expect_entry(stats, "t_http", key, spec, EXP, label);
    drop(c);
    let spec = "use=0 conn_cur=0 conn_cnt=1 sess_cnt=1 gpc0=5 gpc1=1 gpt0=7 http_req_cnt=3";
    expect_entry(stats, "t_act", key, spec, EXP, "closed");
}

/// Track keys from every kind of fetch, at the layer each is available.
#[test]
fn track_keys_from_src_dst_header_path_base_and_url_param() {
    let backend = HttpBackend::start();
    let (fe1, fe2, stats) = (free_port(), free_port(), free_port());
    let _proxy = start(
        &backend,
        stats,
        &format!(
            "\
frontend fe1
    bind 127.0.0.1:{fe1}
    tcp-request inspect-delay 5s
    tcp-request connection track-sc0 dst table t_dst
    tcp-request content track-sc1 req.hdr(x-key) table t_hdr
    http-request track-sc2 url_param(u) table t_urlp
    default_backend be
frontend fe2
    bind 127.0.0.1:{fe2}
    tcp-request session track-sc0 src table t_src
    http-request track-sc1 path table t_path
    http-request track-sc2 base table t_base
    default_backend be
backend t_dst
    stick-table type ip size 10 expire 60s store conn_cur,conn_cnt,sess_cnt,http_req_cnt
backend t_hdr
    stick-table type string len 32 size 10 expire 60s store conn_cur,conn_cnt,sess_cnt,http_req_cnt
backend t_urlp
    stick-table type string len 32 size 10 expire 60s store conn_cur,conn_cnt,sess_cnt,http_req_cnt
backend t_src
    stick-table type ip size 10 expire 60s store conn_cur,conn_cnt,sess_cnt,http_req_cnt
backend t_path
    stick-table type string len 32 size 10 expire 60s store conn_cur,conn_cnt,sess_cnt,http_req_cnt
backend t_base
    stick-table type string len 64 size 10 expire 60s store conn_cur,conn_cnt,sess_cnt,http_req_cnt
"
        ),
    );
    let stream_entry = |n: u32| format!("use=0 conn_cur=0 conn_cnt={n} sess_cnt=0 http_req_cnt={n}");

    // fe1, from 127.0.0.2 to 127.0.0.1: dst is the key, not src.
    let mut c = HttpConn::connect_from(fe1, A2);
    let spec = "use=1 conn_cur=1 conn_cnt=1 sess_cnt=1 http_req_cnt=0";
    expect_entry(stats, "t_dst", "127.0.0.1", spec, EXP, "fe1 connected");
    send(&mut c, &request("GET", "/size/1?u=alice", &["X-Key: k1"], b""));
    send(&mut c, &request("GET", "/size/1?v=1&u=bob", &["X-Key: k1"], b""));
    send(&mut c, &get("/size/1")); // neither key: nothing tracked in sc1/sc2
    let label = "fe1: three requests, connection open";
    let spec = "use=1 conn_cur=1 conn_cnt=1 sess_cnt=1 http_req_cnt=3";
    expect_entry(stats, "t_dst", "127.0.0.1", spec, EXP, label);
    expect_keys(stats, "t_hdr", &["k1"], label);
    expect_entry(stats, "t_hdr", "k1", &stream_entry(2), EXP, label);
    expect_keys(stats, "t_urlp", &["alice", "bob"], label);
    expect_entry(stats, "t_urlp", "alice", &stream_entry(1), EXP, label);
    expect_entry(stats, "t_urlp", "bob", &stream_entry(1), EXP, label);
    drop(c);
    let spec = "use=0 conn_cur=0 conn_cnt=1 sess_cnt=1 http_req_cnt=3";
    expect_entry(stats, "t_dst", "127.0.0.1", spec, EXP, "fe1 closed");

    // fe2: session tracker on src, stream trackers on path and base.
    let mut c = HttpConn::connect_from(fe2, A3);
    send(&mut c, &get("/size/1?u=alice"));
    send(&mut c, &get("/size/1"));
    send(&mut c, &get("/size/2"));
    let label = "fe2: three requests, connection open";
    let spec = "use=1 conn_cur=1 conn_cnt=1 sess_cnt=1 http_req_cnt=3";
    expect_entry(stats, "t_src", "127.0.0.3", spec, EXP, label);
    expect_keys(stats, "t_path", &["/size/1", "/size/2"], label);
    expect_entry(stats, "t_path", "/size/1", &stream_entry(2), EXP, label);
    expect_entry(stats, "t_path", "/size/2", &stream_entry(1), EXP, label);
    expect_keys(stats, "t_base", &["test/size/1", "test/size/2"], label);
    expect_entry(stats, "t_base", "test/size/1", &stream_entry(2), EXP, label);
    expect_entry(stats, "t_base", "test/size/2", &stream_entry(1), EXP, label);
    drop(c);
    let spec = "use=0 conn_cur=0 conn_cnt=1 sess_cnt=1 http_req_cnt=3";
    expect_entry(stats, "t_src", "127.0.0.3", spec, EXP, "fe2 closed");
}

/// First tracker wins: a track on a slot the session holds is a no-op
/// whatever table it names, and so is a second track on a slot the stream
/// holds; a second slot on the same entry is a second tracker and counts
/// twice.
#[test]
fn track_on_a_used_slot_is_a_noop_and_two_slots_count_twice() {
    let backend = HttpBackend::start();
    let (fe, stats) = (free_port(), free_port());
    let _proxy = start(
        &backend,
        stats,
        &format!(
            "\
frontend fe
    bind 127.0.0.1:{fe}
    tcp-request inspect-delay 5s
    tcp-request connection track-sc0 src table t_dup
    tcp-request content track-sc0 src table t_other
    http-request track-sc0 src table t_other
    http-request track-sc1 src table t_dup
    http-request track-sc1 src table t_other
    http-response set-header X-sc0-trackers %[sc0_trackers]
    http-response set-header X-sc1-trackers %[sc1_trackers]
    http-response set-header X-sc1-conn-cur %[sc1_conn_cur]
    http-response set-header X-sc0-req-cnt %[sc0_http_req_cnt]
    default_backend be
backend t_dup
    stick-table type ip size 10 expire 60s store conn_cur,conn_cnt,sess_cnt,http_req_cnt
backend t_other
    stick-table type ip size 10 expire 60s store conn_cur,conn_cnt,sess_cnt,http_req_cnt
"
        ),
    );
    let key = "127.0.0.1";
    let mut c = HttpConn::connect_from(fe, A1);
    let r = send(&mut c, &get("/"));
    let spec = "x-sc0-trackers=2 x-sc1-trackers=2 x-sc1-conn-cur=2 x-sc0-req-cnt=2";
    assert_headers(&r.headers, spec, "request 1: slots 0 and 1 on one entry");
    let spec = "use=1 conn_cur=1 conn_cnt=2 sess_cnt=1 http_req_cnt=2";
    expect_entry(stats, "t_dup", key, spec, EXP, "after request 1");
    let r = send(&mut c, &get("/"));
    let spec = "x-sc0-trackers=2 x-sc1-trackers=2 x-sc1-conn-cur=2 x-sc0-req-cnt=4";
    assert_headers(&r.headers, spec, "request 2");
    let label = "after request 2";
    expect_entry(stats, "t_dup", key, "use=1 conn_cur=1 conn_cnt=3 sess_cnt=1 http_req_cnt=4", EXP, label);
    expect_keys(stats, "t_other", &[], label);
    drop(c);
    let spec = "use=0 conn_cur=0 conn_cnt=3 sess_cnt=1 http_req_cnt=4";
    expect_entry(stats, "t_dup", key, spec, EXP, "closed");
}

/// `tcp-request connection reject` after a track: the client sees its
/// connection closed, the entry counted the connection (`conn_cnt`) and
/// released it at once, no session (`sess_cnt=0`). `accept` stops the
/// connection rules (a later track does not run). `tcp-request session
/// reject` likewise releases the connection's trackers.
#[test]
fn reject_releases_its_trackers_and_accept_stops_the_rules() {
    let backend = HttpBackend::start();
    let (fe, stats) = (free_port(), free_port());
    let _proxy = start(
        &backend,
        stats,
        &format!(
            "\
frontend fe
    bind 127.0.0.1:{fe}
    tcp-request connection track-sc0 src table t_rej
    tcp-request connection reject if {{ src 127.0.0.2 }}
    tcp-request connection accept if {{ src 127.0.0.3 }}
    tcp-request connection track-sc1 src table t_after
    tcp-request session reject if {{ src 127.0.0.4 }}
    default_backend be
backend t_rej
    stick-table type ip size 10 expire 60s store conn_cur,conn_cnt,sess_cnt,http_req_cnt
backend t_after
    stick-table type ip size 10 expire 60s store conn_cur,conn_cnt,sess_cnt,http_req_cnt
"
        ),
    );
    let refused = |src: Ipv4Addr| {
        let how = expect_refused_from(src, fe, ms(5_000));
        assert!(
            matches!(how, Closed::Eof(_) | Closed::Reset(_)),
            "connection from {src}: want it closed, got {how:?}"
        );
    };
    let mut c1 = HttpConn::connect_from(fe, A1);
    send(&mut c1, &get("/"));
    refused(A2);
    refused(A2);
    let mut c3 = HttpConn::connect_from(fe, A3);
    send(&mut c3, &get("/"));
    refused(A4);

    let label = "after .1 and .3 served, .2 rejected twice, .4 rejected by a session rule";
    let open = "use=1 conn_cur=1 conn_cnt=1 sess_cnt=1 http_req_cnt=1";
    expect_keys(stats, "t_rej", &["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"], label);
    expect_entry(stats, "t_rej", "127.0.0.1", open, EXP, label);
    expect_entry(
        stats,
        "t_rej",
        "127.0.0.2",
        "use=0 conn_cur=0 conn_cnt=2 sess_cnt=0 http_req_cnt=0",
        EXP,
        label,
    );
    expect_entry(stats, "t_rej", "127.0.0.3", open, EXP, label);
    expect_entry(
        stats,
        "t_rej",
        "127.0.0.4",
        "use=0 conn_cur=0 conn_cnt=1 sess_cnt=0 http_req_cnt=0",
        EXP,
        label,
    );
    expect_keys(stats, "t_after", &["127.0.0.1", "127.0.0.4"], label);
    expect_entry(stats, "t_after", "127.0.0.1", open, EXP, label);
    expect_entry(
        stats,
        "t_after",
        "127.0.0.4",
        "use=0 conn_cur=0 conn_cnt=1 sess_cnt=0 http_req_cnt=0",
        EXP,
        label,
    );

    drop((c1, c3));
    let label = "all closed";
    let closed = "use=0 conn_cur=0 conn_cnt=1 sess_cnt=1 http_req_cnt=1";
    expect_entry(stats, "t_rej", "127.0.0.1", closed, EXP, label);
    expect_entry(stats, "t_rej", "127.0.0.3", closed, EXP, label);
    expect_entry(stats, "t_after", "127.0.0.1", closed, EXP, label);
}
