//! Waiting for the request body before the rules: `option
//! http-buffer-request` (frontend or backend) and `http-request
//! wait-for-body time T [at-least N]`. Rules after the wait read the body
//! (`req.body`, de-chunked; `req.body_len`); without a wait they see none
//! (HAProxy's see what came with the head).
//! A body that does not come within the time gets HAProxy's 408 (`cR`,
//! counted in `ereq`); `at-least N` goes on with the first N bytes; an
//! HTTP/1.1 `Expect: 100-continue` request gets `100 Continue` from the
//! proxy and its `Expect` header goes no further. Every assertion holds
//! for HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`). `http-response
//! wait-for-body` holds the response head until its body is in (504 `sR`
//! when late), and the response rules after it read `res.body`.

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

/// A server that answers each request (read up to its head's end) with
/// `parts`, a pause before each but the first, then holds the connection.
fn slow_server(parts: &'static [&'static [u8]]) -> Backend {
    Backend::spawn(move |mut s| {
        use std::io::{Read, Write};
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                std::thread::sleep(ms(150));
            }
            if s.write_all(p).is_err() {
                return;
            }
        }
    })
}

const LATE_HALF: &[&[u8]] = &[b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", b"world"];

#[test]
fn http_response_wait_for_body_holds_the_response_for_its_body() {
    let be = slow_server(LATE_HALF);
    let port = free_port();
    let wait = cfg_time(Duration::from_millis(5000));
    let cfg = HttpCfg::new(port, Some(be.port()))
        .backend(&format!("http-response wait-for-body time {wait} if {{ status 200 }}"))
        .backend("http-response set-header x-body %[res.body]")
        .backend("http-response set-header x-len %[res.body_len]");
    let _p = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    c.send(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n").expect("request");
    let r = c.read_response(false).expect("response");
    assert_eq!(r.status, 200);
    assert_eq!((r.header("x-body"), r.header("x-len")), (Some("helloworld"), Some("10")));
    assert_eq!(r.body, b"helloworld", "the body follows the held head");
    // Chunked: de-chunked for the rules, forwarded as received.
    let be = slow_server(&[
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
        b"2\r\nde\r\n0\r\n\r\n",
    ]);
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(be.port()))
        .backend(&format!("http-response wait-for-body time {wait}"))
        .backend("http-response set-header x-body %[res.body]");
    let _p = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    c.send(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n").expect("request");
    let r = c.read_response(false).expect("response");
    assert_eq!((r.header("x-body"), &r.body[..]), (Some("abcde"), &b"abcde"[..]));
}

#[test]
fn without_a_wait_the_response_rules_see_no_body() {
    let be = slow_server(LATE_HALF);
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(be.port())).backend("http-response set-header x-len %[res.body_len]");
    let _p = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    c.send(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n").expect("request");
    let r = c.read_response(false).expect("response");
    // HAProxy's rules read the body bytes that happened to come with the
    // head (here, in one write: "hello"); strata's see none before a
    // wait, so that a rule's outcome does not depend on how the network
    // cut the bytes.
    let len = if under_haproxy() { "5" } else { "0" };
    assert_eq!((r.header("x-len"), &r.body[..]), (Some(len), &b"helloworld"[..]));
}

#[test]
fn a_late_response_body_is_a_504_unless_at_least_is_reached() {
    let be = slow_server(&[b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"]);
    let port = free_port();
    let wait = cfg_time(Duration::from_millis(300));
    let cfg = HttpCfg::new(port, Some(be.port()))
        .httplog()
        // HAProxy has no request path in response rules: a variable keeps it.
        .frontend("http-request set-var(txn.path) path")
        .backend(&format!("http-response wait-for-body time {wait} if {{ var(txn.path) -m str /a }}"))
        .backend(&format!(
            "http-response wait-for-body time {wait} at-least 5 if {{ var(txn.path) -m str /b }}"
        ))
        .backend("http-response set-header x-len %[res.body_len]");
    let p = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    c.send(b"GET /a HTTP/1.1\r\nHost: test\r\n\r\n").expect("request");
    let r = c.read_response_within(false, ms(10_000)).expect("504");
    assert_eq!(r.status, 504);
    let mut c = HttpConn::connect(port);
    c.send(b"GET /b HTTP/1.1\r\nHost: test\r\n\r\n").expect("request");
    let r = c.read_response_within(true, ms(10_000)).expect("the head");
    assert_eq!((r.status, r.header("x-len")), (200, Some("5")));
    wait_until(ms(5000), || p.stdout_text().lines().count() >= 1);
    let log = p.stdout_text();
    let first = log.lines().next().unwrap_or_default();
    assert!(first.contains(" 504 ") && first.contains(" sR-- "), "{log}");
    assert!(first.contains("/-1/"), "no Tr: the response never left: {log}");
}
