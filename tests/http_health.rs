//! Health checks steer traffic: a server whose port closes goes DOWN and
//! gets no more requests, then comes back UP when it listens again; with
//! every server DOWN the client gets HAProxy's exact 503; a `backup`
//! server is used only while no active server is UP; `option httpchk`
//! with `http-check expect status 200` marks a server DOWN on any other
//! status.
//!
//! Checks run every 100ms (scaled), but no assertion depends on how fast
//! they are: the tests poll with requests until traffic settles, under a
//! generous deadline, then assert that it stays settled.

mod support;

use std::time::{Duration, Instant};

use support::http_answers::SERVICE_UNAVAILABLE_503;
use support::*;

/// How long traffic may take to settle after a change: a safety net.
const SETTLE_MS: u64 = 20_000;
/// Consecutive answers from the expected server that count as settled.
const STREAK: usize = 8;

/// `server NAME 127.0.0.1:PORT check inter 100ms rise 2 fall 2` + `extra`.
fn checked(name: &str, port: u16, extra: &str) -> String {
    format!(
        "server {name} 127.0.0.1:{port} check inter {} rise 2 fall 2{extra}",
        cfg_time(Duration::from_millis(100))
    )
}

/// Who answered one `GET /` on a fresh connection: the `X-Server` name, or
/// `status N` for an answer without it (the proxy's own), or the error.
fn served_by(port: u16) -> String {
    match HttpConn::connect(port).request(&get("/")) {
        Ok(r) => r.header("x-server").map_or_else(|| format!("status {}", r.status), str::to_string),
        Err(e) => format!("error {e}"),
    }
}

/// Sends requests until `STREAK` in a row are answered by `want`; the
/// answers seen, as an error, if that does not happen within `SETTLE_MS`.
fn settle_on(port: u16, want: &str) -> Result<(), Vec<String>> {
    let deadline = Instant::now() + ms(SETTLE_MS);
    let (mut seen, mut streak) = (Vec::new(), 0);
    while Instant::now() < deadline {
        let who = served_by(port);
        streak = if who == want { streak + 1 } else { 0 };
        if streak >= STREAK {
            return Ok(());
        }
        seen.push(who);
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(seen)
}

fn assert_settles(port: u16, want: &str, why: &str) {
    if let Err(seen) = settle_on(port, want) {
        let tail = &seen[seen.len().saturating_sub(20)..];
        panic!("{why}: traffic never settled on {want}; last answers: {tail:?}");
    }
}

/// The next `n` answers, all from `want`.
fn assert_stays_on(port: u16, want: &str, n: usize) {
    let seen: Vec<String> = (0..n).map(|_| served_by(port)).collect();
    assert!(seen.iter().all(|w| w == want), "all {n} answers from {want}: {seen:?}");
}

#[test]
fn a_server_whose_port_closes_goes_down_and_comes_back_up() {
    let a = HttpBackend::named("a");
    let b = HttpBackend::named("b");
    let b_port = b.port();
    let port = free_port();
    let cfg = HttpCfg::new(port, None)
        .backend("balance roundrobin")
        .backend(&checked("a", a.port(), ""))
        .backend(&checked("b", b_port, ""));
    let _proxy = Proxy::start(&cfg.render());
    let first: Vec<String> = (0..4).map(|_| served_by(port)).collect();
    assert!(first.contains(&"a".into()) && first.contains(&"b".into()), "both UP at first: {first:?}");

    drop(b); // its port now refuses connections
    assert_settles(port, "a", "b's port closed");
    assert_stays_on(port, "a", 20);

    let _b = HttpBackend::named_on("b", b_port);
    assert!(wait_until(ms(SETTLE_MS), || served_by(port) == "b"), "b gets traffic again once it listens");
    let next: Vec<String> = (0..4).map(|_| served_by(port)).collect();
    assert!(next.contains(&"b".into()) && next.contains(&"a".into()), "both UP again: {next:?}");
}

#[test]
fn every_server_down_gives_haproxys_503_without_touching_the_server() {
    let s = HttpBackend::named("s");
    let port = free_port();
    let cfg = HttpCfg::new(port, None)
        .backend("option httpchk GET /health")
        .backend("http-check expect status 200")
        .backend(&checked("s", s.port(), ""));
    let _proxy = Proxy::start(&cfg.render());
    assert_eq!(served_by(port), "s", "UP at first");

    s.set_health(500);
    assert_settles(port, "status 503", "the only server fails its checks");
    let before = s.requests_to("/");
    let r = HttpConn::connect(port).request(&get("/")).expect("503");
    assert_eq!(r.raw_text(), String::from_utf8_lossy(SERVICE_UNAVAILABLE_503));
    assert_eq!(s.requests_to("/"), before, "a DOWN server gets no request");

    s.set_health(200);
    assert_settles(port, "s", "the server passes its checks again");
}

#[test]
fn backup_serves_only_while_no_active_server_is_up() {
    let a = HttpBackend::named("a");
    let spare = HttpBackend::named("spare");
    let port = free_port();
    let cfg = HttpCfg::new(port, None)
        .backend("option httpchk GET /health")
        .backend("http-check expect status 200")
        .backend(&checked("a", a.port(), ""))
        .backend(&checked("spare", spare.port(), " backup"));
    let _proxy = Proxy::start(&cfg.render());
    assert_stays_on(port, "a", 10);
    assert_eq!(spare.requests_to("/"), 0, "the backup is idle while a is UP");

    a.set_health(500);
    assert_settles(port, "spare", "a fails its checks");
    a.set_health(200);
    assert_settles(port, "a", "a passes its checks again");
    let spare_total = spare.requests_to("/");
    assert_stays_on(port, "a", 10);
    assert_eq!(spare.requests_to("/"), spare_total, "the backup is idle again");
}

#[test]
fn httpchk_expect_status_200_marks_other_answers_down() {
    let good = HttpBackend::named("good");
    let failing = HttpBackend::named("failing");
    let moved = HttpBackend::named("moved");
    failing.set_health(500);
    moved.set_health(302); // would pass without `http-check expect`
    let port = free_port();
    let cfg = HttpCfg::new(port, None)
        .backend("balance roundrobin")
        .backend("option httpchk GET /health")
        .backend("http-check expect status 200")
        .backend(&checked("good", good.port(), ""))
        .backend(&checked("failing", failing.port(), ""))
        .backend(&checked("moved", moved.port(), ""));
    let _proxy = Proxy::start(&cfg.render());
    assert_settles(port, "good", "failing and moved fail their checks");
    assert_stays_on(port, "good", 20);
    let checks = failing.requests();
    assert!(
        checks.iter().any(|r| r.method == "GET" && r.target == "/health"),
        "the check is `GET /health`: {:?}",
        checks.iter().map(|r| format!("{} {}", r.method, r.target)).collect::<Vec<_>>()
    );
}

/// The first checks of a backend's servers are spread over the check
/// interval (server k of n first checked after k/n of it), and global
/// `max-spread-checks` bounds that window: four servers checked every 60 s
/// get their first checks within moments with `max-spread-checks 200ms`,
/// and without it only the first one is checked in the first 5 s (the
/// next is due after 15 s). Same on HAProxy 2.6.
#[test]
fn max_spread_checks_bounds_the_start_up_spread_of_first_checks() {
    let inter = cfg_time(Duration::from_secs(60));
    for (global, first_5s) in [("    max-spread-checks 200ms\n", 4), ("", 1)] {
        let servers: Vec<HttpBackend> = (1..=4).map(|i| HttpBackend::named(&format!("s{i}"))).collect();
        let fe = free_port();
        let lines: Vec<String> = servers
            .iter()
            .enumerate()
            .map(|(i, s)| format!("    server s{} 127.0.0.1:{} check inter {inter}\n", i + 1, s.port()))
            .collect();
        let cfg = format!(
            "global\n{global}defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
             frontend fe\n    bind 127.0.0.1:{fe}\n    default_backend be\n\
             backend be\n    option httpchk GET /health\n{}",
            lines.concat()
        );
        let _proxy = Proxy::start(&cfg);
        let checked = || servers.iter().filter(|s| s.requests_to("/health") > 0).count();
        if first_5s == 4 {
            assert!(wait_until(ms(5_000), || checked() == 4), "only {} of 4 checked", checked());
        } else {
            assert!(wait_until(ms(5_000), || checked() == 1), "the first server is checked at once");
            std::thread::sleep(ms(5_000));
            assert_eq!(checked(), 1, "first checks spread over the 60 s interval");
        }
    }
}

/// `http-check send-state`: each HTTP check request tells the server its
/// state as HAProxy 2.6 writes it (`httpchk_build_status_header`), right
/// after the configured headers. The first check of a server that starts
/// UP sees `UP 1/3` (health at `rise`, one step into `fall`), the next
/// ones `UP` (health at the top). The bug story: strata refused the
/// keyword although docs/configuration.md listed it. Same header from
/// HAProxy 2.6.12 on this configuration.
#[test]
fn send_state_tells_the_server_its_state_in_each_check() {
    let be = HttpBackend::named("s1");
    let port = free_port();
    let cfg = HttpCfg::new(port, None)
        .global("node lb1")
        .backend("option httpchk GET /health")
        .backend("http-check send hdr X-Check yes")
        .backend("http-check send-state")
        .backend(&format!(
            "server s1 127.0.0.1:{} check inter {} rise 2 fall 3",
            be.port(),
            cfg_time(Duration::from_millis(100))
        ));
    let _proxy = Proxy::start(&cfg.render());
    let checks = be.wait_requests(3, ms(SETTLE_MS)).expect("three checks");
    let tail = format!(
        "; address=127.0.0.1; port={}; name=be/s1; node=lb1; weight=1/1; scur=0/0; qcur=0",
        be.port()
    );
    let states: Vec<Option<&str>> =
        checks.iter().take(3).map(|r| r.header("x-haproxy-server-state")).collect();
    assert_eq!(
        states,
        [Some(format!("UP 1/3{tail}")), Some(format!("UP{tail}")), Some(format!("UP{tail}"))]
            .iter()
            .map(|s| s.as_deref())
            .collect::<Vec<_>>()
    );
    let names: Vec<String> = checks[0].headers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
    let (x, state) =
        (names.iter().position(|n| n == "x-check"), names.iter().position(|n| n == "x-haproxy-server-state"));
    assert!(x.is_some() && state == x.map(|i| i + 1), "after the configured headers: {names:?}");
}
