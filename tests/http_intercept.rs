//! What a proxy answers itself (issue 17 item 5): `monitor-uri` (200, or
//! 503 when a `monitor fail` condition holds; before any rule, compared
//! with the path of an absolute-form target too, case-sensitive, never
//! logged), the proxy-level `redirect location|prefix|scheme` with `code`,
//! `drop-query`, `append-slash`, `set-cookie`, `clear-cookie` (after the
//! `http-request` rules of its proxy, the frontend's before the
//! backend's), and `fullconn` with a server's `minconn`: below `fullconn`
//! the server takes `max(minconn, be_conns * maxconn / fullconn)` at once
//! and the rest waits in the queue. Every assertion holds for HAProxy 2.6
//! (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::time::Duration;

use support::*;

/// `GET target` with `Host: host`.
fn get_from(host: &str, target: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()
}

fn status_of(c: &mut HttpConn, raw: &[u8]) -> u16 {
    c.request(raw).expect("response").status
}

#[test]
fn monitor_uri_answers_before_the_rules_and_is_not_logged() {
    let be = HttpBackend::start();
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(be.port()))
        .httplog()
        .frontend("monitor-uri /health")
        .frontend("acl down req.hdr(x-down) -m found")
        .frontend("monitor fail if down")
        .frontend("http-request deny if { path /health }")
        .frontend("http-request return status 204 if { path /rules }");
    let p = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    let r = c.request(&get("/health")).expect("monitor");
    assert_eq!(r.status, 200, "the monitor answers before the deny rule");
    assert!(
        String::from_utf8_lossy(&r.body).contains("Service ready."),
        "HAProxy's 200 page: {:?}",
        r.raw_text()
    );
    let mut c = HttpConn::connect(port);
    assert_eq!(status_of(&mut c, &request("GET", "/health", &["X-Down: 1"], b"")), 503, "monitor fail");
    let mut c = HttpConn::connect(port);
    assert_eq!(
        status_of(&mut c, &get_from("www.example.org", "http://www.example.org/health")),
        200,
        "absolute form: its path"
    );
    let mut c = HttpConn::connect(port);
    assert_eq!(status_of(&mut c, &get("/HEALTH")), 404, "case matters: forwarded to the server");
    assert_eq!(be.requests().len(), 1, "the server answered /HEALTH, only it");
    let mut c = HttpConn::connect(port);
    assert_eq!(status_of(&mut c, &get("/health?x=1")), 403, "the query is part of the URI: not the monitor");
    assert_eq!(status_of(&mut HttpConn::connect(port), &get("/rules")), 204);
    // Only the three requests that were not the monitor's are logged.
    wait_until(ms(5000), || p.stdout_text().lines().count() >= 3);
    std::thread::sleep(ms(200));
    let log = p.stdout_text();
    let paths: Vec<&str> = log.lines().filter_map(|l| l.split(' ').nth(13)).collect();
    assert_eq!(paths, ["/HEALTH", "/health?x=1", "/rules"], "{log}");
}

#[test]
fn monitor_uri_with_an_absolute_target_compares_the_whole_target() {
    let port = free_port();
    let cfg = HttpCfg::new(port, None).frontend("monitor-uri http://www.example.org/health");
    let _p = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    assert_eq!(status_of(&mut c, &get_from("www.example.org", "http://www.example.org/health")), 200);
    let mut c = HttpConn::connect(port);
    assert_eq!(status_of(&mut c, &get("/health")), 503, "no server: not the monitor");
}

#[test]
fn redirect_rules_answer_after_their_proxys_http_request_rules() {
    let be = HttpBackend::start();
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(be.port()))
        .frontend("http-request deny if { path /old/denied }")
        .frontend("redirect prefix https://example.com code 301 if { path_beg /old }")
        .frontend("redirect location /moved set-cookie SEEN=1 if { path /loc }")
        .frontend("redirect location /gone clear-cookie SEEN= code 303 if { path /clear }")
        .frontend("redirect scheme https drop-query append-slash if { path_beg /sch }")
        .frontend("redirect prefix / append-slash code 308 if { path /dir }")
        .backend("http-request return status 204 if { path /be/rule }")
        .backend("redirect location /from-backend code 307 if { path_beg /be }");
    let _p = Proxy::start(&cfg.render());
    let go = |raw: Vec<u8>| HttpConn::connect(port).request(&raw).expect("response");

    let r = go(get("/old/page?a=1"));
    assert_eq!((r.status, r.header("location")), (301, Some("https://example.com/old/page?a=1")));
    assert_eq!(r.header("cache-control"), None, "a permanent redirect may be cached");
    assert_eq!(r.header("content-length"), Some("0"));
    assert_eq!(go(get("/old/denied")).status, 403, "the frontend's http-request rules come first");

    let r = go(get("/loc"));
    assert_eq!((r.status, r.header("location")), (302, Some("/moved")));
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    assert_eq!(r.header("set-cookie"), Some("SEEN=1; path=/;"));
    let r = go(get("/clear"));
    assert_eq!((r.status, r.header("location")), (303, Some("/gone")));
    assert_eq!(r.header("set-cookie"), Some("SEEN=; path=/; Max-Age=0;"));

    let r = go(get_from("www.example.org", "/sch/x?q=1"));
    assert_eq!((r.status, r.header("location")), (302, Some("https://www.example.org/sch/x/")));
    let r = go(get("/dir"));
    assert_eq!((r.status, r.header("location")), (308, Some("/dir/")));

    assert_eq!(go(get("/be/rule")).status, 204, "the backend's http-request rules before its redirects");
    let r = go(get("/be/other"));
    assert_eq!((r.status, r.header("location")), (307, Some("/from-backend")));
    assert_eq!(go(get("/plain")).status, 404, "no rule: to the server (which has no /plain)");
    assert_eq!(be.requests().len(), 1, "only /plain reached the server");
}

#[test]
fn redirect_and_monitor_refusals_name_the_line() {
    let bad = |line: &str, section: &str| {
        let cfg = HttpCfg::new(free_port(), None);
        let cfg = if section == "defaults" { cfg.defaults(line) } else { cfg.frontend(line) };
        let (code, out, err) = Proxy::check(&cfg.render());
        assert_ne!(code, 0, "{line}: refused");
        format!("{out}{err}")
    };
    let e = bad("redirect location /x code 305", "frontend");
    assert!(
        e.contains("[ALERT]") && e.contains(":11]") && e.contains("'code': unsupported HTTP code '305'"),
        "{e}"
    );
    let e = bad("redirect code 301", "frontend");
    assert!(e.contains("redirection type expected"), "{e}");
    let e = bad("monitor fail", "frontend");
    assert!(e.contains("'monitor fail' requires either 'if' or 'unless' followed by a condition"), "{e}");
    let e = bad("monitor fail if { path /x }", "defaults");
    assert!(e.contains("'monitor' not allowed in 'defaults' section"), "{e}");
}

#[test]
fn a_minconn_server_takes_what_the_backends_load_allows() {
    let server = HttpBackend::start();
    let (port, stats) = (free_port(), free_port());
    let cfg = HttpCfg::new(port, None)
        .global(&format!("stats socket ipv4@127.0.0.1:{stats} level admin"))
        .defaults(&format!("timeout server {}", cfg_time(Duration::from_secs(60))))
        .backend("fullconn 100")
        .backend(&format!("server s1 127.0.0.1:{} minconn 2 maxconn 10", server.port()));
    let _p = Proxy::start(&cfg.render());
    server.close_gate();
    let send = || {
        std::thread::spawn(move || HttpConn::connect(port).request(&get("/hold")).expect("response").status)
    };
    let clients: Vec<_> = (0..3).map(|_| send()).collect();
    // 3 streams on a backend of fullconn 100: the limit is max(2, 3*10/100) = 2.
    expect_stat(stats, "be", "BACKEND", &[("scur", "3"), ("qcur", "1"), ("slim", "100")], "one waits");
    expect_stat(stats, "be", "s1", &[("scur", "2"), ("slim", "10")], "two served");
    assert_eq!(server.holding(), 2);
    server.open_gate();
    for c in clients {
        assert_eq!(c.join().expect("client"), 200, "the waiting one is served when a slot frees");
    }
}
