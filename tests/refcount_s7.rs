//! Expiry versus references (golden scenario S7).
//!
//! The bug this guards against: in HAProxy 1.6 (Aug 2015, commit 827752e)
//! a stream copied its session's stick counters with a reference and both
//! released them, so `conn_cur` went negative and the refcount drifted
//! (fixed by a68f7629d). The refcount is also what keeps an entry alive: an
//! entry with a reference must outlive its `expire`, and the release decides
//! what happens next. A refcount released too early lets an entry expire
//! under a live connection; one never released keeps it forever.
//!
//! Scenario S7, a 2 s `expire` (scaled), one client:
//! - `t_exp` (stores `conn_cur`): held past its expiry it stays with
//!   `use=1 exp=0`; released, the `conn_cur` decrement refreshes it
//!   (`use=0`, `0 < exp <= expire`); a second short connection counts on it
//!   (`conn_cnt=2`); unreferenced, it is purged by the expiry task.
//! - `t_exp_nocur` (stores only `conn_cnt`): held past expiry it stays with
//!   `exp=0`; released, nothing refreshes it and it is removed at once.
//! - `t_noexp` (no `expire`, stream tracker): entries stay with `exp=0`.

mod support;

use std::time::Duration;
use support::*;

const KEY: &str = "127.0.0.1";

#[test]
fn referenced_entries_outlive_expiry_and_release_decides_their_fate() {
    let backend = HttpBackend::start();
    let (fe, stats) = (free_port(), free_port());
    let expire = Duration::from_secs(2);
    let exp_ms = expire_ms(expire);
    let cfg = format!(
        "{head}\
frontend fe
    bind 127.0.0.1:{fe}
    tcp-request connection track-sc0 src table t_exp
    tcp-request connection track-sc2 src table t_exp_nocur
    http-request track-sc1 src table t_noexp
    default_backend be
backend be
    server s1 127.0.0.1:{be}
backend t_exp
    stick-table type ip size 100 expire {exp} store conn_cur,conn_cnt,http_req_cnt
backend t_exp_nocur
    stick-table type ip size 100 expire {exp} store conn_cnt
backend t_noexp
    stick-table type ip size 100 store conn_cur,conn_cnt,http_req_cnt
",
        head = scenario_head(stats, Some("http")),
        be = backend.port(),
        exp = cfg_time(expire)
    );
    let _proxy = Proxy::start(&cfg);

    let mut c = HttpConn::connect(fe);
    assert_eq!(c.request(&get("/")).expect("response").status, 200);
    // Tolerant: a slow machine may already be past the expiry here.
    let label = "connection held, just after the request";
    expect_entry(
        stats,
        "t_exp",
        KEY,
        "use=1 conn_cnt=1 conn_cur=1 http_req_cnt=1",
        Exp::AtMost(exp_ms),
        label,
    );

    let label = "connection still held, past the expire";
    expect_entry(stats, "t_exp", KEY, "use=1 conn_cnt=1 conn_cur=1 http_req_cnt=1", Exp::Zero, label);
    expect_entry(stats, "t_exp_nocur", KEY, "use=1 conn_cnt=1", Exp::Zero, label);
    // And it stays: the purge task skips referenced entries.
    std::thread::sleep(ms(1000));
    let label = "connection still held, well past the expire";
    assert_entry_now(stats, "t_exp", KEY, "use=1 conn_cnt=1 conn_cur=1 http_req_cnt=1", Exp::Zero, label);
    assert_entry_now(stats, "t_exp_nocur", KEY, "use=1 conn_cnt=1", Exp::Zero, label);
    let label = "table without expire";
    expect_entry(stats, "t_noexp", KEY, "use=0 conn_cnt=1 conn_cur=0 http_req_cnt=1", Exp::Zero, label);

    drop(c);
    let label = "after close: kept, the conn_cur decrement refreshed its expiry";
    expect_entry(
        stats,
        "t_exp",
        KEY,
        "use=0 conn_cnt=1 conn_cur=0 http_req_cnt=1",
        Exp::Within(exp_ms),
        label,
    );
    expect_keys(
        stats,
        "t_exp_nocur",
        &[],
        "after close: nothing refreshed it, expired entry removed on release",
    );

    let mut c = HttpConn::connect(fe);
    assert_eq!(c.request(&get("/")).expect("response").status, 200);
    drop(c);
    let label = "new short connection, closed at once";
    expect_entry(
        stats,
        "t_exp",
        KEY,
        "use=0 conn_cnt=2 conn_cur=0 http_req_cnt=2",
        Exp::Within(exp_ms),
        label,
    );

    expect_keys(stats, "t_exp", &[], "unreferenced: purged by the expiry task");
    let label = "table without expire: entries stay, exp=0";
    expect_entry(stats, "t_noexp", KEY, "use=0 conn_cnt=2 conn_cur=0 http_req_cnt=2", Exp::Zero, label);
}
