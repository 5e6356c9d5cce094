//! strata's `snapshot FILE [every T]` on `stick-table` (docs/peers.md):
//! the table survives a `kill -9` (the last periodic snapshot) and a
//! stop (a final snapshot), with its values, its expiries counted down
//! and its rates; a cut or damaged file is refused with a line naming the
//! file and the byte offset, and the process starts with an empty table.
//!
//! strata only: HAProxy refuses the `snapshot` keyword (`haproxy -c`:
//! "stick-table: unknown argument 'snapshot'"), so these tests skip under
//! `STRATA_BIN=/usr/sbin/haproxy`.

mod support;

use std::path::Path;
use std::time::Duration;
use support::cli_client::cli;
use support::client::wait_until;
use support::http_client::{HttpConn, get};
use support::launcher::{Proxy, under_haproxy};
use support::ports::free_port;
use support::stick::{Exp, expect_entry, scenario_head, show_table};
use support::time::{cfg_time, ms};

fn cfg(stats: u16, fe: u16, path: &Path, every: Duration) -> String {
    let mut c = scenario_head(stats, Some("http"));
    c.push_str(&format!(
        "frontend fe\n    bind 127.0.0.1:{fe}\n    tcp-request connection track-sc0 src table t\n\
         \x20   http-request return status 200 content-type text/plain string ok\n\
         backend t\n    stick-table type ip size 1000 expire 60s store conn_cur,conn_cnt,http_req_cnt,gpc0,http_req_rate(10s) snapshot {} every {}\n",
        path.display(),
        cfg_time(every)
    ));
    c
}

/// `show table t` lines without addresses, exp or rates: what must survive as it was.
fn values(stats: u16) -> Vec<String> {
    let mut v: Vec<String> = cli(stats, "show table t")
        .lines()
        .filter(|l| l.starts_with("0x"))
        .map(|l| {
            let l = l.split_once(": ").map_or(l, |x| x.1);
            l.split(' ')
                .filter(|w| !w.starts_with("exp=") && !w.contains("_rate("))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    v.sort();
    v
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("strata-snapshot-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d.join("t.snap")
}

#[test]
fn stick_snapshot_survives_kill_and_stop() {
    if under_haproxy() {
        return;
    }
    let path = tmp("kill");
    let (stats, fe) = (free_port(), free_port());
    let text = cfg(stats, fe, &path, Duration::from_millis(300));
    let p = Proxy::start(&text);
    for _ in 0..3 {
        HttpConn::connect(fe).request(&get("/")).expect("response");
    }
    for i in 0..100 {
        cli(stats, &format!("set table t key 10.3.0.{i} data.gpc0 {i}"));
    }
    expect_entry(
        stats,
        "t",
        "127.0.0.1",
        "conn_cnt=3 conn_cur=0 http_req_cnt=3",
        Exp::Within(60_000),
        "counted",
    );
    let before = values(stats);
    let exp_before = show_table(stats, "t").entry("10.3.0.7").and_then(|e| e.get("exp")).expect("exp");
    // a periodic write happens within the interval; the file then holds all 101 entries
    let written = || std::fs::metadata(&path).is_ok_and(|m| m.len() > 2_000);
    assert!(wait_until(ms(10_000), written), "snapshot written");
    std::thread::sleep(ms(700)); // one more write, after every change
    drop(p); // SIGKILL: no final write
    let p = Proxy::start(&text);
    assert_eq!(values(stats), before, "the table as it was");
    let e = show_table(stats, "t").entry("10.3.0.7").cloned().expect("entry");
    let exp = e.get("exp").expect("exp");
    assert!(exp > 0 && exp <= exp_before, "expiry kept and counting down: {exp} (was {exp_before})");
    // a change, then a stop: the final write keeps it
    cli(stats, "set table t key 10.3.1.1 data.gpc0 77");
    p.signal("USR1");
    let mut p = p;
    assert!(p.wait_exit(ms(10_000)).is_some(), "stopped");
    let _p = Proxy::start(&text);
    expect_entry(stats, "t", "10.3.1.1", "gpc0=77", Exp::Within(60_000), "written at stop");
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}

/// Regression story (issue 23 item 4): "a bad file never stops the
/// proxy": a cut file and a damaged one are refused with the file's name
/// and the offset of the first bad byte, and the process serves with an
/// empty table.
#[test]
fn stick_snapshot_cut_or_damaged_is_refused() {
    if under_haproxy() {
        return;
    }
    let path = tmp("bad");
    let (stats, fe) = (free_port(), free_port());
    // an hour between writes: only the stop writes
    let text = cfg(stats, fe, &path, Duration::from_secs(3600));
    let mut p = Proxy::start(&text);
    for i in 0..50 {
        cli(stats, &format!("set table t key 10.4.0.{i} data.gpc0 {i}"));
    }
    p.signal("TERM");
    assert!(p.wait_exit(ms(10_000)).is_some(), "stopped");
    let good = std::fs::read(&path).expect("snapshot written at stop");
    assert!(good.len() > 500, "{} bytes", good.len());
    for (what, bytes) in [
        ("cut", good[..good.len() * 2 / 3].to_vec()),
        ("damaged", {
            let mut b = good.clone();
            let i = b.len() / 2;
            b[i] ^= 0xff;
            b
        }),
    ] {
        std::fs::write(&path, &bytes).expect("write the bad file");
        let p = Proxy::start(&text);
        let log = p.stderr_text();
        let line = log
            .lines()
            .find(|l| l.contains("refused"))
            .unwrap_or_else(|| panic!("{what}: no refusal in\n{log}"));
        assert!(line.contains(&format!("snapshot file '{}' refused", path.display())), "{what}: {line}");
        let offset: usize = line
            .split("at byte offset ")
            .nth(1)
            .and_then(|r| r.split(';').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{what}: no offset in {line}"));
        assert!(offset > 0 && offset < bytes.len(), "{what}: offset {offset} of {}", bytes.len());
        assert_eq!(show_table(stats, "t").used, Some(0), "{what}: empty table");
        HttpConn::connect(fe).request(&get("/")).expect("still serving");
        drop(p);
    }
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}
