//! Waiting for the request body before the rules: `option
//! http-buffer-request` (frontend or backend) and `http-request
//! wait-for-body time T [at-least N]`. Rules after the wait read the body
//! (`req.body`, de-chunked; `req.body_len`); without a wait they see none.
//! A body that does not come within the time gets HAProxy's 408 (`cR`,
//! counted in `ereq`); `at-least N` goes on with the first N bytes; an
//! HTTP/1.1 `Expect: 100-continue` request gets `100 Continue` from the
//! proxy and its `Expect` header goes no further. Every assertion holds
//! for HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::time::Duration;

use support::*;

/// `POST /p` with `Content-Length: len` and extra header lines, no body.
fn post_head(len: usize, extra: &str) -> Vec<u8> {
    format!("POST /p HTTP/1.1\r\nHost: test\r\nContent-Length: {len}\r\n{extra}\r\n").into_bytes()
}

/// Sends `head`, then each part after a pause; the response.
fn send_slowly(port: u16, head: &[u8], parts: &[&[u8]]) -> Response {
    let mut c = HttpConn::connect(port);
    c.send(head).expect("head");
    for p in parts {
        std::thread::sleep(ms(100));
        c.send(p).expect("part");
    }
    c.read_response(false).expect("response")
}

#[test]
fn option_http_buffer_request_lets_the_rules_read_the_body() {
    let be = HttpBackend::start();
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(be.port()))
        .frontend("option http-buffer-request")
        .frontend("http-request deny if { req.body -m sub secret }")
        .frontend("http-request set-header x-len %[req.body_len]");
    let _p = Proxy::start(&cfg.render());
    let r = send_slowly(port, &post_head(16, ""), &[b"not so ", b"secret 42"]);
    assert_eq!(r.status, 403, "the body's second half decided");
    let r = send_slowly(port, &post_head(11, ""), &[b"plain", b" words"]);
    assert_eq!(r.status, 404, "forwarded: the test server has no /p");
    let got = be.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, b"plain words", "the whole body reaches the server");
    assert_eq!(got[0].header("x-len"), Some("11"));
    // Chunked: the rules read the de-chunked body.
    let head = b"POST /p HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n";
    let r = send_slowly(port, head, &[b"3\r\nsec\r\n", b"3\r\nret\r\n0\r\n\r\n"]);
    assert_eq!(r.status, 403);
}

#[test]
fn without_a_wait_the_rules_see_no_body() {
    let be = HttpBackend::start();
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(be.port())).frontend("http-request deny if { req.body -m sub secret }");
    let _p = Proxy::start(&cfg.render());
    let r = send_slowly(port, &post_head(6, ""), &[b"secret"]);
    assert_eq!(r.status, 404, "decided on the head alone");
    assert_eq!(be.requests()[0].body, b"secret");
}

#[test]
fn the_backends_option_waits_before_the_backends_rules() {
    let be = HttpBackend::start();
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(be.port()))
        .frontend("http-request set-header x-fe %[req.body_len]")
        .backend("option http-buffer-request")
        .backend("http-request set-header x-be %[req.body_len]");
    let _p = Proxy::start(&cfg.render());
    let r = send_slowly(port, &post_head(4, ""), &[b"ab", b"cd"]);
    assert_eq!(r.status, 404);
    let got = be.requests();
    assert_eq!(got[0].header("x-fe"), Some("0"), "the frontend's rules ran before the wait");
    assert_eq!(got[0].header("x-be"), Some("4"));
}

#[test]
fn wait_for_body_times_out_with_408_unless_at_least_is_reached() {
    let be = HttpBackend::start();
    let (port, stats) = (free_port(), free_port());
    let wait = cfg_time(Duration::from_millis(300));
    let cfg = HttpCfg::new(port, Some(be.port()))
        .global(&format!("stats socket ipv4@127.0.0.1:{stats} level admin"))
        .httplog()
        .frontend(&format!("http-request wait-for-body time {wait} if {{ path /p }}"))
        .frontend(&format!("http-request wait-for-body time {wait} at-least 4 if {{ path /q }}"))
        .frontend("http-request return status 200 hdr x-len %[req.body_len] if { path /q }");
    let p = Proxy::start(&cfg.render());
    // Half the body, then nothing: 408 once the time is over.
    let mut c = HttpConn::connect(port);
    c.send(&post_head(10, "")).expect("head");
    c.send(b"12345").expect("half");
    let r = c.read_response_within(false, ms(10_000)).expect("408");
    assert_eq!(r.status, 408);
    // at-least 4: the first 4 of 10 bytes are enough.
    let mut c = HttpConn::connect(port);
    c.send(b"POST /q HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\n1234").expect("head");
    let r = c.read_response_within(false, ms(10_000)).expect("answer");
    assert_eq!((r.status, r.header("x-len")), (200, Some("4")));
    expect_stat(stats, "fe", "FRONTEND", &[("ereq", "1")], "the late body is a failed request");
    wait_until(ms(5000), || p.stdout_text().lines().count() >= 2);
    let log = p.stdout_text();
    let first = log.lines().next().unwrap_or_default();
    assert!(first.contains(" 408 ") && first.contains(" cR-- "), "{log}");
}

#[test]
fn expect_100_continue_is_answered_by_the_proxy() {
    let be = HttpBackend::start();
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(be.port())).frontend("option http-buffer-request");
    let _p = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    c.send(&post_head(5, "Expect: 100-continue\r\n")).expect("head");
    let interim = c.read_response_within(true, ms(10_000)).expect("100 Continue");
    assert_eq!(interim.status, 100);
    c.send(b"hello").expect("body");
    let r = c.read_response(false).expect("response");
    assert_eq!(r.status, 404);
    let got = be.requests();
    assert_eq!(got[0].body, b"hello");
    assert_eq!(got[0].header("expect"), None, "the proxy answered it: not forwarded");
}

#[test]
fn wait_for_body_refusals_name_the_problem() {
    let bad = |line: &str| {
        let (code, out, err) = Proxy::check(&HttpCfg::new(free_port(), None).frontend(line).render());
        assert_ne!(code, 0, "{line}: refused");
        format!("{out}{err}")
    };
    assert!(bad("http-request wait-for-body").contains("expects time <time> [ at-least <bytes> ]"));
    assert!(
        bad("http-request wait-for-body at-least 1k").contains("expects time <time> [ at-least <bytes> ]")
    );
    assert!(bad("http-request wait-for-body time 1s at-least").contains("missing argument for 'at-least'"));
}
