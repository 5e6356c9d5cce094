//! `maxconn` on a server queues what does not fit: a request that finds
//! every usable server full waits in its backend's queue, is served in
//! arrival order as slots free, and after `timeout queue` gets HAProxy's
//! 503 with termination state `sQ`. Seen from every side: the client's
//! answer, the httplog line (`%Tw`, `%bq`, `<NOSRV>`), `show stat`
//! (`qcur`, `qmax`, `scur`, `econ`), what the server received, and the
//! client's stick-table entry, which ends at `conn_cur=0 use=0`.
//!
//! One deliberate difference: a client that resets its connection while
//! it waits leaves the queue at once in strata (`CQ`), and its request is
//! never sent; HAProxy 2.6 notices only when the request's turn comes and
//! still sends it to the server.
//!
//! A waiting request is held behind `/hold` on the test server, so no
//! assertion depends on timing: the tests wait for the queue to show the
//! waiter in `show stat` before going on. Every expected value was
//! observed with HAProxy 2.6.12 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::thread::JoinHandle;
use std::time::Duration;

use support::http_answers::SERVICE_UNAVAILABLE_503;
use support::*;

/// A proxy (stats socket, httplog, tracking table) in front of one server
/// `s1` that takes one request at a time.
struct Rig {
    port: u16,
    stats: u16,
    proxy: Proxy,
    server: HttpBackend,
}

/// `timeout queue` is `queue` (scaled), or unset.
fn rig(queue: Option<Duration>) -> Rig {
    let server = HttpBackend::start();
    let (port, stats) = (free_port(), free_port());
    let mut cfg = HttpCfg::new(port, None)
        .httplog()
        .global(&format!("stats socket ipv4@127.0.0.1:{stats} level admin"))
        .global(&format!("stats timeout {}", cfg_time(Duration::from_secs(30))))
        .defaults(&format!("timeout server {}", cfg_time(Duration::from_secs(60))))
        .frontend("stick-table type ip size 10 expire 60s store conn_cur,http_req_cnt")
        .frontend("tcp-request connection track-sc0 src")
        .backend(&format!("server s1 127.0.0.1:{} maxconn 1", server.port()));
    if let Some(q) = queue {
        cfg = cfg.backend(&format!("timeout queue {}", cfg_time(q)));
    }
    Rig { port, stats, proxy: Proxy::start(&cfg.render()), server }
}

/// The httplog fields these tests check.
#[derive(Debug, PartialEq)]
struct Logged {
    path: String,   // from the request line
    server: String, // `be/s1`, `be/<NOSRV>`
    tw: i64,        // `%Tw`
    status: String, // `%ST`
    term: String,   // `%tsc`
    bq: String,     // `%bq`
}

impl Rig {
    /// Waits for `n` log lines; their fields, in log order.
    fn log(&self, n: usize) -> Vec<Logged> {
        let lines = || self.proxy.stdout_text().lines().map(str::to_string).collect::<Vec<_>>();
        wait_until(ms(10_000), || lines().len() >= n);
        lines()
            .iter()
            .map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                assert!(f.len() > 13, "not an httplog line: {l:?}");
                let times: Vec<&str> = f[4].split('/').collect();
                Logged {
                    path: f[13].to_string(),
                    server: f[3].to_string(),
                    tw: times[1].parse().expect("Tw"),
                    status: f[5].to_string(),
                    term: f[9].to_string(),
                    bq: f[11].rsplit('/').next().unwrap_or_default().to_string(),
                }
            })
            .collect()
    }

    /// `be/sv` shows exactly `spec` (polled).
    fn stat(&self, sv: &str, spec: &[(&str, &str)], label: &str) {
        expect_stat(self.stats, "be", sv, spec, label);
    }

    /// Sends `GET path` on a fresh connection from another thread; the
    /// status and whether the proxy closed the connection after it.
    fn request(&self, path: &str) -> JoinHandle<(String, String)> {
        let (port, path) = (self.port, path.to_string());
        std::thread::spawn(move || {
            let mut c = HttpConn::connect(port);
            c.send(&get(&path)).expect("send");
            let (got, _) = c.read_until_closed(ms(30_000));
            let text = String::from_utf8_lossy(&got).into_owned();
            let status = text.split(' ').nth(1).unwrap_or("none").to_string();
            (status, text)
        })
    }

    /// Starts `/hold` and waits until the server holds it: `s1` is full.
    fn fill_the_server(&self) -> JoinHandle<(String, String)> {
        self.server.close_gate();
        let held = self.request("/hold");
        assert!(self.server.wait_holding(1, ms(10_000)), "the first request reached the server");
        held
    }

    fn paths_received(&self) -> Vec<String> {
        self.server.requests().iter().map(|r| r.target.clone()).collect()
    }
}

fn logged(path: &str, server: &str, status: &str, term: &str, bq: &str) -> Logged {
    Logged {
        path: path.into(),
        server: server.into(),
        tw: 0,
        status: status.into(),
        term: term.into(),
        bq: bq.into(),
    }
}

#[test]
fn a_request_that_waits_longer_than_timeout_queue_gets_503_sq() {
    let queue = Duration::from_millis(500);
    let r = rig(Some(queue));
    let held = r.fill_the_server();
    let waiting = r.request("/size/7");
    // While it waits: counted on the backend (scur 2) and in its queue,
    // not on the server (scur 1).
    r.stat("BACKEND", &[("qcur", "1"), ("qmax", "1"), ("scur", "2")], "waiting");
    r.stat("s1", &[("qcur", "0"), ("scur", "1")], "server full");
    let (status, text) = waiting.join().expect("client");
    assert_eq!(text, String::from_utf8_lossy(SERVICE_UNAVAILABLE_503), "HAProxy's 503, then closed");
    assert_eq!(status, "503");
    r.server.open_gate();
    assert_eq!(held.join().expect("held client").0, "200");

    let mut log = r.log(2);
    let waited = log[0].tw;
    assert!(waited >= scaled(queue).as_millis() as i64, "%Tw {waited} is the time spent waiting");
    log[0].tw = 0;
    assert_eq!(
        log,
        vec![
            logged("/size/7", "be/<NOSRV>", "503", "sQ--", "1"),
            logged("/hold", "be/s1", "200", "----", "0"),
        ]
    );
    assert_eq!(r.paths_received(), ["/hold"], "the server never saw the request that gave up");
    r.stat("BACKEND", &[("qcur", "0"), ("qmax", "1"), ("scur", "0"), ("stot", "2"), ("econ", "1")], "after");
    r.stat("s1", &[("qcur", "0"), ("scur", "0"), ("stot", "1"), ("econ", "0")], "server after");
    expect_entry(
        r.stats,
        "fe",
        "127.0.0.1",
        "conn_cur=0 use=0 http_req_cnt=2",
        Exp::Within(expire_ms(Duration::from_secs(60))),
        "both requests counted, both connections released",
    );
}

#[test]
fn waiting_requests_are_served_in_arrival_order_as_slots_free() {
    let r = rig(Some(Duration::from_secs(30)));
    let held = r.fill_the_server();
    let mut waiting = Vec::new();
    for (i, path) in ["/size/1", "/size/2", "/size/3"].into_iter().enumerate() {
        waiting.push(r.request(path));
        let n = (i + 1).to_string();
        r.stat("BACKEND", &[("qcur", n.as_str())], "one more waiting");
    }
    r.stat("BACKEND", &[("qmax", "3"), ("scur", "4")], "three waiting, one served");
    let wait = scaled(Duration::from_millis(300));
    std::thread::sleep(wait); // every waiter waits at least this long
    r.server.open_gate();
    assert_eq!(held.join().expect("held").0, "200");
    for w in waiting {
        assert_eq!(w.join().expect("waiting client").0, "200", "every waiting request is served");
    }
    assert_eq!(r.paths_received(), ["/hold", "/size/1", "/size/2", "/size/3"], "first come, first served");
    let mut log = r.log(4);
    for l in &mut log {
        l.tw = 0; // waiting times depend on the machine's speed
    }
    assert_eq!(
        log,
        vec![
            logged("/hold", "be/s1", "200", "----", "0"),
            logged("/size/1", "be/s1", "200", "----", "1"),
            logged("/size/2", "be/s1", "200", "----", "2"),
            logged("/size/3", "be/s1", "200", "----", "3"),
        ]
    );
    r.stat("BACKEND", &[("qcur", "0"), ("qmax", "3"), ("scur", "0"), ("stot", "4"), ("econ", "0")], "after");
    r.stat("s1", &[("scur", "0"), ("smax", "1"), ("stot", "4")], "never more than maxconn at once");
    // `qtime_max`: the longest wait of a request that then connected.
    let stat = show_stat(r.stats, "");
    for sv in ["s1", "BACKEND"] {
        let longest: u128 = stat.get("be", sv, "qtime_max").parse().expect("qtime_max");
        assert!(longest >= wait.as_millis(), "{sv}: qtime_max {longest} ms, the waiters waited longer");
    }
    expect_entry(
        r.stats,
        "fe",
        "127.0.0.1",
        "conn_cur=0 use=0 http_req_cnt=4",
        Exp::Within(expire_ms(Duration::from_secs(60))),
        "all released",
    );
}

#[test]
fn a_client_that_leaves_the_queue_is_skipped_and_logged_cq() {
    let r = rig(Some(Duration::from_secs(30)));
    let held = r.fill_the_server();
    let mut quitter = HttpConn::connect(r.port);
    quitter.send(&get("/size/1")).expect("send");
    r.stat("BACKEND", &[("qcur", "1")], "first waiter");
    let patient = r.request("/size/2");
    r.stat("BACKEND", &[("qcur", "2"), ("scur", "3")], "second waiter");
    quitter.reset();
    if !under_haproxy() {
        // HAProxy 2.6 notices the reset only when the stream leaves the
        // queue; strata reads the client while it waits and frees the
        // place at once (deliberately: a dead client holds nothing).
        r.stat("BACKEND", &[("qcur", "1"), ("scur", "2")], "the quitter left the queue");
    }
    r.server.open_gate();
    assert_eq!(held.join().expect("held").0, "200");
    assert_eq!(patient.join().expect("patient").0, "200");
    if under_haproxy() {
        // HAProxy 2.6 even sends the reset client's request to the server
        // when its turn comes. strata does not: a dead client's request is
        // work nobody will read.
        assert_eq!(r.paths_received(), ["/hold", "/size/1", "/size/2"]);
        return;
    }
    assert_eq!(r.paths_received(), ["/hold", "/size/2"], "nothing was sent for the client that left");
    let mut log = r.log(3);
    for l in &mut log {
        l.tw = 0;
    }
    assert_eq!(
        log,
        vec![
            logged("/size/1", "be/<NOSRV>", "-1", "CQ--", "1"),
            logged("/hold", "be/s1", "200", "----", "0"),
            logged("/size/2", "be/s1", "200", "----", "1"),
        ]
    );
    r.stat("BACKEND", &[("qcur", "0"), ("qmax", "2"), ("scur", "0")], "after");
    expect_entry(
        r.stats,
        "fe",
        "127.0.0.1",
        "conn_cur=0 use=0 http_req_cnt=3",
        Exp::Within(expire_ms(Duration::from_secs(60))),
        "all released",
    );
}

#[test]
fn tcp_mode_connections_queue_too() {
    let echo = Backend::echo();
    let (port, stats) = (free_port(), free_port());
    let cfg = format!(
        "global\n    stats socket ipv4@127.0.0.1:{stats} level admin\n\
         defaults\n    mode tcp\n    timeout connect {c}\n    timeout client {l}\n    timeout server {l}\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n\
         backend be\n    timeout queue {q}\n    server s1 127.0.0.1:{} maxconn 1\n",
        echo.port(),
        c = cfg_time(Duration::from_secs(1)),
        l = cfg_time(Duration::from_secs(30)),
        q = cfg_time(Duration::from_secs(30)),
    );
    let _p = Proxy::start(&cfg);
    let mut first = connect(port);
    assert_eq!(round_trip(&mut first, b"one", ms(10_000)).expect("echo"), b"one");
    let mut second = connect(port);
    std::io::Write::write_all(&mut second, b"two").expect("send while queued");
    expect_stat(stats, "be", "BACKEND", &[("qcur", "1"), ("scur", "2")], "the second waits");
    drop(first);
    let echoed = read_exact_with_timeout(&mut second, 3, ms(10_000)).expect("read back");
    assert_eq!(echoed, b"two", "the second connects once the first leaves");
    expect_stat(stats, "be", "BACKEND", &[("qcur", "0"), ("qmax", "1")], "served");
}
