//! One entry, two slots: counted twice; one slot, two layers: counted once
//! (golden scenario S3).
//!
//! The bug this guards against: in HAProxy 1.6 (Aug 2015, commit 827752e)
//! a stream copied its session's stick counters with a reference, and both
//! the stream and the session released them, so `conn_cur` went negative.
//! The fix (a68f7629d) made the copy reference-free and made a stream leave
//! alone any slot its session holds. Two consequences are checked here:
//! a stream rule on a slot the session already fills does nothing at all
//! (table `t_b`), while a *different* slot on the *same* entry is a second,
//! independent tracker that counts and releases on its own (`t_a`, `t_c`).
//!
//! Scenario S3, one keep-alive client per frontend, two requests, the
//! second held at the server:
//! - `fe_a`: `tcp-request connection track-sc0` + `tcp-request content
//!   track-sc1`, both on `t_a`: in flight `conn_cur=2 use=2`, idle 1/1,
//!   `conn_cnt` 1 + one per request, `http_req_cnt` +2 per request.
//! - `fe_b`: the same rules on slot 0 twice (`t_b`): the content rule finds
//!   sc0 set and is ignored, so the numbers are S1's.
//! - `fe_c`: `http-request track-sc1` instead of the content rule (`t_c`):
//!   same numbers as `t_a`.
//!
//! After each close: `conn_cur=0 use=0`.

mod support;

use support::*;

const KEY: &str = "127.0.0.1";
/// The tables' `expire 60s`: `exp=` counts down from it.
const EXP: Exp = Exp::Within(60_000);

/// What one table shows at the five moments of the scenario.
struct Expected {
    connected: &'static str,
    after_1: &'static str,
    in_flight: &'static str,
    after_2: &'static str,
    closed: &'static str,
}

/// Both slots count: what `t_a` and `t_c` show.
const DOUBLE: Expected = Expected {
    connected: "use=1 conn_cnt=1 conn_cur=1 sess_cnt=1 http_req_cnt=0 http_req_rate(10000)=0",
    after_1: "use=1 conn_cnt=2 conn_cur=1 sess_cnt=1 http_req_cnt=2 http_req_rate(10000)=2",
    in_flight: "use=2 conn_cnt=3 conn_cur=2 sess_cnt=1 http_req_cnt=4 http_req_rate(10000)=4",
    after_2: "use=1 conn_cnt=3 conn_cur=1 sess_cnt=1 http_req_cnt=4 http_req_rate(10000)=4",
    closed: "use=0 conn_cnt=3 conn_cur=0 sess_cnt=1 http_req_cnt=4 http_req_rate(10000)=4",
};

/// Only the session's slot: what `t_b` shows.
const SINGLE: Expected = Expected {
    connected: "use=1 conn_cnt=1 conn_cur=1 sess_cnt=1 http_req_cnt=0 http_req_rate(10000)=0",
    after_1: "use=1 conn_cnt=1 conn_cur=1 sess_cnt=1 http_req_cnt=1 http_req_rate(10000)=1",
    in_flight: "use=1 conn_cnt=1 conn_cur=1 sess_cnt=1 http_req_cnt=2 http_req_rate(10000)=2",
    after_2: "use=1 conn_cnt=1 conn_cur=1 sess_cnt=1 http_req_cnt=2 http_req_rate(10000)=2",
    closed: "use=0 conn_cnt=1 conn_cur=0 sess_cnt=1 http_req_cnt=2 http_req_rate(10000)=2",
};

#[test]
fn two_slots_on_one_entry_count_twice_and_a_used_slot_is_not_tracked_again() {
    let backend = HttpBackend::start();
    let (fe_a, fe_b, fe_c, stats) = (free_port(), free_port(), free_port(), free_port());
    let store = "store conn_cur,conn_cnt,sess_cnt,http_req_cnt,http_req_rate(10s),bytes_in_cnt,bytes_out_cnt";
    let cfg = format!(
        "{head}\
frontend fe_a
    bind 127.0.0.1:{fe_a}
    tcp-request connection track-sc0 src table t_a
    tcp-request content track-sc1 src table t_a
    default_backend be
frontend fe_b
    bind 127.0.0.1:{fe_b}
    tcp-request connection track-sc0 src table t_b
    tcp-request content track-sc0 src table t_b
    default_backend be
frontend fe_c
    bind 127.0.0.1:{fe_c}
    tcp-request connection track-sc0 src table t_c
    http-request track-sc1 src table t_c
    default_backend be
backend be
    server s1 127.0.0.1:{be}
backend t_a
    stick-table type ip size 100 expire 60s {store}
backend t_b
    stick-table type ip size 100 expire 60s {store}
backend t_c
    stick-table type ip size 100 expire 60s {store}
",
        head = scenario_head(stats, Some("http")),
        be = backend.port()
    );
    let _proxy = Proxy::start(&cfg);

    for (fe, table, want) in [(fe_a, "t_a", DOUBLE), (fe_b, "t_b", SINGLE), (fe_c, "t_c", DOUBLE)] {
        let check = |spec: &str, label: &str| expect_entry(stats, table, KEY, spec, EXP, label);
        let mut c = HttpConn::connect(fe);
        check(want.connected, "client connected, no request yet");
        assert_eq!(c.request(&get("/")).expect("response 1").status, 200);
        check(want.after_1, "after request 1, connection idle");
        backend.close_gate();
        c.send(&get("/hold")).expect("send request 2");
        assert!(backend.wait_holding(1, ms(10_000)), "request 2 never reached the server");
        check(want.in_flight, "request 2 in flight (stream alive)");
        backend.open_gate();
        assert_eq!(c.read_response(false).expect("response 2").status, 200);
        check(want.after_2, "after request 2, connection idle");
        drop(c);
        check(want.closed, "after client closed");
    }
}
