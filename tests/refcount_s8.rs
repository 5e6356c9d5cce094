//! The three rule layers in TCP mode, `tcp-request session` in HTTP mode,
//! and tracked-then-rejected connections (golden scenario S8).
//!
//! The bug this guards against: in HAProxy 1.6 (Aug 2015, commit 827752e)
//! a stream copied its session's stick counters with a reference and both
//! released them, so `conn_cur` went negative (fixed by a68f7629d). The
//! owner of each tracker decides who releases it: connection and session
//! rules belong to the session, content rules to the stream. In TCP mode
//! the one stream lives as long as the connection, so all three look alike
//! except `sess_cnt`; a connection rejected right after being tracked must
//! give its reference back at once (it never becomes a session).
//!
//! Scenario S8:
//! - `fe_tcp` (mode tcp): connection rule → sc0 `t_conn`, session rule →
//!   sc1 `t_sess`, content rule → sc2 `t_cont`; one connection carrying
//!   three HTTP requests: all three `conn_cnt=1 conn_cur=1 use=1` while
//!   open (`sess_cnt=1` for the session's, 0 for the content one), no
//!   `http_req_cnt`, 0/0 after close. Byte counters in TCP mode count
//!   payload, which is what strata counts too: `bytes_in_cnt` = the three
//!   requests, `bytes_out_cnt` = the three responses.
//! - `fe_http` (mode http): `tcp-request session track-sc0` (`t_hsess`) is
//!   a session tracker (S1's numbers); `tcp-request content track-sc1`
//!   (`t_hcont`) counts per request like an `http-request` tracker (S2's).
//! - `fe_reject` (mode tcp): `tcp-request connection track-sc0` then
//!   `tcp-request connection reject`: the client sees a reset; after two
//!   such connections `conn_cnt=2 conn_cur=0 sess_cnt=0 use=0`.

mod support;

use support::*;

const KEY: &str = "127.0.0.1";
/// The tables' `expire 60s`: `exp=` counts down from it.
const EXP: Exp = Exp::Within(60_000);

#[test]
fn tcp_mode_layers_session_rules_and_rejected_connections() {
    let backend = HttpBackend::start();
    let (fe_tcp, fe_http, fe_rej, stats) = (free_port(), free_port(), free_port(), free_port());
    let store = "store conn_cur,conn_cnt,sess_cnt,http_req_cnt,bytes_in_cnt,bytes_out_cnt";
    let cfg = format!(
        "{head}\
frontend fe_tcp
    mode tcp
    bind 127.0.0.1:{fe_tcp}
    tcp-request connection track-sc0 src table t_conn
    tcp-request session    track-sc1 src table t_sess
    tcp-request content    track-sc2 src table t_cont
    default_backend be_tcp
backend be_tcp
    mode tcp
    server s1 127.0.0.1:{be}
frontend fe_http
    mode http
    bind 127.0.0.1:{fe_http}
    tcp-request session track-sc0 src table t_hsess
    tcp-request content track-sc1 src table t_hcont
    default_backend be_http
backend be_http
    mode http
    server s1 127.0.0.1:{be}
frontend fe_reject
    mode tcp
    bind 127.0.0.1:{fe_rej}
    tcp-request connection track-sc0 src table t_rej
    tcp-request connection reject
    default_backend be_tcp
backend t_rej
    stick-table type ip size 100 expire 60s store conn_cur,conn_cnt,sess_cnt
backend t_conn
    stick-table type ip size 100 expire 60s {store}
backend t_sess
    stick-table type ip size 100 expire 60s {store}
backend t_cont
    stick-table type ip size 100 expire 60s {store}
backend t_hsess
    stick-table type ip size 100 expire 60s {store}
backend t_hcont
    stick-table type ip size 100 expire 60s {store}
",
        head = scenario_head(stats, None),
        be = backend.port()
    );
    let _proxy = Proxy::start(&cfg);

    // mode tcp: 3 HTTP requests through one TCP connection.
    let layers = [("t_conn", 1), ("t_sess", 1), ("t_cont", 0)]; // (table, sess_cnt)
    let mut c = HttpConn::connect(fe_tcp);
    for (t, sess) in layers {
        let spec = format!(
            "use=1 conn_cnt=1 conn_cur=1 sess_cnt={sess} http_req_cnt=0 bytes_in_cnt=0 bytes_out_cnt=0"
        );
        expect_entry(stats, t, KEY, &spec, EXP, "tcp connection open, nothing sent");
    }
    let req = get("/");
    let mut out_bytes = 0;
    for i in 1..=3 {
        let r = c.request(&req).expect("response");
        assert_eq!(r.status, 200, "request {i}");
        out_bytes += r.raw.len();
    }
    for (t, sess) in layers {
        let spec = format!("use=1 conn_cnt=1 conn_cur=1 sess_cnt={sess} http_req_cnt=0");
        expect_entry(stats, t, KEY, &spec, EXP, "after 3 requests on the same tcp connection");
    }
    drop(c);
    for (t, sess) in layers {
        let spec = format!(
            "use=0 conn_cnt=1 conn_cur=0 sess_cnt={sess} http_req_cnt=0 bytes_in_cnt={} bytes_out_cnt={out_bytes}",
            3 * req.len()
        );
        expect_entry(stats, t, KEY, &spec, EXP, "after close");
    }

    // mode http: tcp-request session sc0 + tcp-request content sc1.
    let hsess = |reqs: u32, spec: &str, label: &str| {
        let spec = format!("{spec} conn_cnt=1 sess_cnt=1 http_req_cnt={reqs}");
        expect_entry(stats, "t_hsess", KEY, &spec, EXP, label)
    };
    let mut c = HttpConn::connect(fe_http);
    hsess(0, "use=1 conn_cur=1", "connected, no request yet");
    expect_keys(stats, "t_hcont", &[], "connected, no request yet");
    for i in 1..=2 {
        assert_eq!(c.request(&get("/")).expect("response").status, 200, "request {i}");
    }
    let label = "after 2 requests, idle";
    hsess(2, "use=1 conn_cur=1", label);
    expect_entry(stats, "t_hcont", KEY, "use=0 conn_cnt=2 conn_cur=0 sess_cnt=0 http_req_cnt=2", EXP, label);
    c.send(&get("/hold")).expect("send request 3");
    assert!(backend.wait_holding(1, ms(10_000)), "request 3 never reached the server");
    let label = "request 3 in flight";
    hsess(3, "use=1 conn_cur=1", label);
    expect_entry(stats, "t_hcont", KEY, "use=1 conn_cnt=3 conn_cur=1 sess_cnt=0 http_req_cnt=3", EXP, label);
    backend.open_gate();
    assert_eq!(c.read_response(false).expect("response 3").status, 200);
    drop(c);
    let label = "after close";
    hsess(3, "use=0 conn_cur=0", label);
    expect_entry(stats, "t_hcont", KEY, "use=0 conn_cnt=3 conn_cur=0 sess_cnt=0 http_req_cnt=3", EXP, label);

    // Tracked, then rejected at the connection level.
    for i in 1..=2 {
        // Not `connect()`: its set_nodelay may already meet the reset.
        let mut s = std::net::TcpStream::connect(("127.0.0.1", fe_rej)).expect("connect fe_reject");
        match expect_closed_within(&mut s, ms(5_000)) {
            Closed::Reset(_) => {}
            other => panic!("rejected connection {i}: want a reset, got {other:?}"),
        }
    }
    expect_entry(
        stats,
        "t_rej",
        KEY,
        "use=0 conn_cnt=2 conn_cur=0 sess_cnt=0",
        EXP,
        "after two rejected connections",
    );
}
