//! Who holds what, on the stats port: `show sess`, `show sess tree` and
//! `debug counters check`.
//!
//! The bug this guards against: HAProxy's negative `conn_cur` (a stream
//! copied its session's trackers and both released them) stayed invisible
//! until counters went wrong in production, because nothing showed which
//! object held which entry. strata shows it: `show sess tree` lists each
//! session's trackers and each stream's own and inherited slots, and
//! `debug counters check` recounts the live trackers and compares them with
//! every entry. This test holds a request in flight with trackers at both
//! layers, reads both views, proves the audit catches a hand-made drift
//! (`set table ... data.conn_cur`), and that everything is released after.
//! strata only: HAProxy has neither command.

mod support;

use support::*;

#[test]
fn sess_tree_and_counters_check_show_live_trackers() {
    if under_haproxy() {
        return; // strata's own commands
    }
    let backend = HttpBackend::start();
    let (fe, stats) = (free_port(), free_port());
    let cfg = format!(
        "{head}\
frontend fe
    bind 127.0.0.1:{fe}
    tcp-request connection track-sc0 src table t_src
    http-request track-sc1 req.hdr(x-user) table t_user
    default_backend be
backend be
    server s1 127.0.0.1:{be}
backend t_src
    stick-table type ip size 100 expire 60s store conn_cur,conn_cnt
backend t_user
    stick-table type string len 16 size 100 expire 60s store conn_cur,http_req_cnt
",
        head = scenario_head(stats, Some("http")),
        be = backend.port()
    );
    let _proxy = Proxy::start(&cfg);
    backend.close_gate();

    let mut c = HttpConn::connect(fe);
    c.send(b"GET /hold HTTP/1.1\r\nHost: t\r\nx-user: alice\r\n\r\n").expect("send");
    assert!(backend.wait_holding(1, ms(10_000)), "request held at the server");

    let sess = cli(stats, "show sess");
    let lines: Vec<&str> = sess.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 1, "one live stream:\n{sess}");
    assert!(lines[0].starts_with("0x") && lines[0].contains(" proto=tcpv4 src=127.0.0.1:"), "{sess}");
    assert!(lines[0].contains(" fe=fe be=be srv=s1 "), "{sess}");

    let tree = cli(stats, "show sess tree");
    let tree_lines: Vec<&str> = tree.lines().collect();
    assert!(tree_lines[0].starts_with("sess#") && tree_lines[0].contains(" fe=fe src=127.0.0.1:"), "{tree}");
    assert!(tree_lines[0].ends_with(" streams=1"), "{tree}");
    assert_eq!(tree_lines[1], "  sc0 session table=t_src key=127.0.0.1 use=1", "{tree}");
    assert!(tree_lines[2].starts_with("  s#") && tree_lines[2].contains(" be=be srv=s1 "), "{tree}");
    assert_eq!(tree_lines[3], "    sc0 inherited table=t_src key=127.0.0.1 use=1", "{tree}");
    assert_eq!(tree_lines[4], "    sc1 own table=t_user key=alice use=1", "{tree}");

    assert_eq!(cli(stats, "debug counters check"), "counters consistent: 2 entries, 2 trackers\n\n");

    // A value set by hand no longer matches the live trackers: reported.
    assert_eq!(cli(stats, "set table t_src key 127.0.0.1 data.conn_cur 5"), "\n");
    assert_eq!(
        cli(stats, "debug counters check"),
        "MISMATCH table=t_src key=127.0.0.1 use=1 conn_cur=5 live_trackers=1\n\
         counters INCONSISTENT: 2 entries, 2 trackers\n\n"
    );
    assert_eq!(cli(stats, "set table t_src key 127.0.0.1 data.conn_cur 1"), "\n");

    backend.open_gate();
    assert_eq!(c.read_response(false).expect("response").status, 200);
    // Between requests the stream is gone; only the session's tracker is left.
    assert!(
        wait_until(ms(10_000), || cli(stats, "debug counters check")
            == "counters consistent: 2 entries, 1 trackers\n\n"),
        "{}",
        cli(stats, "debug counters check; show sess tree")
    );
    drop(c);
    assert!(
        wait_until(ms(10_000), || cli(stats, "debug counters check")
            == "counters consistent: 2 entries, 0 trackers\n\n"),
        "{}",
        cli(stats, "debug counters check; show sess tree")
    );
    assert_eq!(cli(stats, "show sess"), "\n", "no stream left");
}
