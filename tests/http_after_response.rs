//! `http-after-response` rules and `http_first_req`, as HAProxy 2.6 runs
//! them: on every response the client gets — a server's (after the
//! `http-response` rules, so they see and override what those set) and
//! the ones the proxy builds itself (`return`, `deny`, the 503 of a
//! backend without a usable server, the stats page and other internal
//! services) — the backend's rules before the
//! frontend's; `set-status` changes the status line; `allow` ends one
//! proxy's rules. Also `pool-max-conn 0`: a server that keeps no idle
//! connection even under `http-reuse always`.

mod support;

use support::*;

fn proxy_with(cfg: HttpCfg) -> Proxy {
    Proxy::start(&cfg.render())
}

#[test]
fn server_responses_get_the_backend_rules_then_the_frontend_rules() {
    let server = HttpBackend::start();
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(server.port()))
        .frontend("http-after-response set-header x-last fe")
        .frontend("http-after-response set-header x-first %[http_first_req]")
        .backend("http-response set-header x-last resp")
        .backend("http-after-response set-header x-last be")
        .backend("http-after-response set-status 201");
    let _proxy = proxy_with(cfg);
    let mut c = HttpConn::connect(port);
    let r = c.request(&get("/")).expect("first response");
    assert_eq!(r.status, 201, "{}", r.raw_text());
    assert_eq!(r.header("x-last"), Some("fe"), "the frontend's rules run last: {}", r.raw_text());
    assert_eq!(r.header("x-first"), Some("1"));
    let r = c.request(&get("/")).expect("second response");
    assert_eq!(r.header("x-first"), Some("0"), "the second request of the connection");
}

#[test]
fn the_proxys_own_answers_go_through_the_rules_too() {
    let port = free_port();
    let cfg = HttpCfg::new(port, None)
        .frontend("http-request return status 200 content-type text/plain string hi if { path /ret }")
        .frontend("http-request deny if { path /deny }")
        .frontend("http-after-response set-header x-after %[status]")
        .frontend("http-after-response set-status 299 reason Fine if { status 200 }")
        .frontend("http-after-response del-header cache-control");
    let _proxy = proxy_with(cfg);
    let mut c = HttpConn::connect(port);
    let r = c.request(&get("/ret")).expect("return");
    assert_eq!(r.status, 299, "{}", r.raw_text());
    assert!(r.raw_text().starts_with("HTTP/1.1 299 Fine\r\n"), "{}", r.raw_text());
    assert_eq!(r.header("x-after"), Some("200"));
    assert_eq!(r.body, b"hi", "the body follows the rewritten head");
    let r = HttpConn::connect(port).request(&get("/deny")).expect("deny");
    assert_eq!(r.status, 403);
    assert_eq!(r.header("x-after"), Some("403"));
    assert_eq!(r.header("cache-control"), None, "deleted from the built-in page");
    let r = HttpConn::connect(port).request(&get("/none")).expect("no server");
    assert_eq!(r.status, 503);
    assert_eq!(r.header("x-after"), Some("503"));
}

#[test]
fn an_answer_built_from_the_response_rules_goes_through_them() {
    // reg-tests/http-rules/http_after_response.vtc's `/deny-srv`: the 502
    // of `http-response deny` is built while the server's response is read,
    // and still gets the after-response rules before it leaves.
    let server = HttpBackend::start();
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(server.port()))
        .backend("http-response deny if { capture.req.uri /deny-srv }")
        .backend("http-after-response allow if { status eq 502 }")
        .backend("http-after-response set-header x-be yes")
        .frontend("http-after-response set-header x-was %[status]")
        .frontend("http-after-response set-status 200");
    let _proxy = proxy_with(cfg);
    let r = HttpConn::connect(port).request(&get("/deny-srv")).expect("answer");
    assert_eq!(r.status, 200, "{}", r.raw_text());
    assert_eq!(r.header("x-was"), Some("502"));
    assert_eq!(r.header("x-be"), None, "`allow` ended the backend's rules");
}

#[test]
fn internal_services_replies_go_through_the_rules() {
    // reg-tests/http-rules/http_after_response.vtc's `/stats`: the stats
    // page's head is rewritten (status, added and deleted headers), its
    // body is sent as built. So is the Prometheus exporter's.
    let port = free_port();
    let cfg = HttpCfg::new(port, None)
        .backend("stats enable")
        .backend("stats uri /stats")
        .backend("http-after-response set-status 234 if { capture.req.uri /stats }")
        .backend("http-after-response set-header x-be %[status]")
        .backend("http-after-response del-header content-type")
        .frontend("http-request use-service prometheus-exporter if { path /metrics }")
        .frontend("http-after-response set-header x-fe %[status]");
    let _proxy = proxy_with(cfg);
    let r = HttpConn::connect(port).request(&get("/stats")).expect("stats page");
    assert_eq!(r.status, 234, "{}", r.raw_text());
    assert_eq!(r.header("x-be"), Some("234"));
    assert_eq!(r.header("x-fe"), Some("234"), "the frontend's rules after the backend's");
    assert_eq!(r.header("content-type"), None);
    assert!(String::from_utf8_lossy(&r.body).contains("Statistics Report"), "the page itself follows");
    let r = HttpConn::connect(port).request(&get("/metrics")).expect("exporter");
    assert_eq!(r.status, 200, "{}", r.raw_text());
    assert_eq!(r.header("x-fe"), Some("200"));
    assert_eq!(r.header("x-be"), None, "no backend: only the frontend's rules");
    assert!(String::from_utf8_lossy(&r.body).contains("haproxy_process_"), "the metrics follow");
}

#[test]
fn allow_ends_the_rules_of_its_proxy_only() {
    let server = HttpBackend::start();
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(server.port()))
        .backend("http-after-response allow")
        .backend("http-after-response set-header x-be skipped")
        .frontend("http-after-response set-header x-fe ran");
    let _proxy = proxy_with(cfg);
    let r = HttpConn::connect(port).request(&get("/")).expect("response");
    assert_eq!(r.header("x-be"), None);
    assert_eq!(r.header("x-fe"), Some("ran"));
}

#[test]
fn rules_that_would_end_the_response_are_refused() {
    for action in ["deny", "redirect location /x", "return status 200", "tarpit"] {
        let port = free_port();
        let cfg = HttpCfg::new(port, None).frontend(&format!("http-after-response {action}"));
        let (code, _, err) = Proxy::check(&cfg.render());
        assert_ne!(code, 0, "'{action}' is not an http-after-response action");
        assert!(err.contains("http-after-response"), "{action}: {err}");
    }
    let (code, _, err) =
        Proxy::check(&HttpCfg::new(free_port(), None).defaults("http-after-response allow").render());
    assert_ne!(code, 0);
    assert!(err.contains("'http-after-response' not allowed in"), "{err}");
}

#[test]
fn pool_max_conn_0_keeps_no_idle_server_connection() {
    let server = HttpBackend::start();
    let port = free_port();
    let cfg = HttpCfg::new(port, None)
        .backend("http-reuse always")
        .backend(&format!("server s1 127.0.0.1:{} pool-max-conn 0", server.port()));
    let _proxy = proxy_with(cfg);
    for _ in 0..3 {
        let mut c = HttpConn::connect(port);
        let r = c.request(&request("GET", "/", &["Connection: close"], b"")).expect("response");
        assert_eq!(r.status, 200);
        c.expect_closed(ms(5_000));
    }
    assert_eq!(server.accepted(), 3, "one server connection per session: none kept idle");
    let (code, _, err) = Proxy::check(
        &HttpCfg::new(free_port(), None).backend("server s1 127.0.0.1:1 pool-max-conn -2").render(),
    );
    assert_ne!(code, 0);
    assert!(err.contains("'pool-max-conn' must be >= -1."), "{err}");
}
