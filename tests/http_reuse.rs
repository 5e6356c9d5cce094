//! Server connection reuse (`http-reuse`), counted at the test server:
//! `safe` (the default) keeps a session's server connection for its next
//! requests but never sends a session's first request over a reused one;
//! `always` lets sequential sessions share one; `never` keeps one private
//! connection per client session; and a reused connection the server
//! closed is retried on a fresh one for an idempotent request.

mod support;

use support::http_answers::BAD_GATEWAY_502;
use support::*;

/// A proxy in front of one server, `http-reuse` set to `mode` unless empty.
fn setup(mode: &str) -> (HttpBackend, u16, Proxy) {
    let server = HttpBackend::start();
    let port = free_port();
    let mut cfg = HttpCfg::new(port, Some(server.port()));
    if !mode.is_empty() {
        cfg = cfg.backend(&format!("http-reuse {mode}"));
    }
    let proxy = Proxy::start(&cfg.render());
    (server, port, proxy)
}

/// One client session: `n` sequential GETs, the last with
/// `Connection: close`; returns once the proxy closed the client side (so
/// the session is over before the caller starts the next one).
fn session(port: u16, n: usize) {
    let mut c = HttpConn::connect(port);
    for i in 0..n {
        let raw = if i + 1 == n { request("GET", "/", &["Connection: close"], b"") } else { get("/") };
        let r = c.request(&raw).unwrap_or_else(|e| panic!("request {i}: {e}"));
        assert_eq!(r.status, 200, "request {i}: {}", r.raw_text());
    }
    let end = c.expect_closed(ms(5_000));
    assert!(matches!(end, Closed::Eof(_)), "the proxy closes after `Connection: close`: {end:?}");
}

/// Server connection number of each request received, in order.
fn conns(server: &HttpBackend) -> Vec<usize> {
    server.requests().iter().map(|r| r.conn).collect()
}

#[test]
fn safe_keeps_a_sessions_server_connection_but_not_for_a_first_request() {
    let (server, port, _proxy) = setup("");
    session(port, 5);
    assert_eq!(conns(&server), [0, 0, 0, 0, 0], "one server connection for the whole session");
    session(port, 1);
    assert_eq!(server.accepted(), 2, "a session's first request never goes over a reused connection");
}

#[test]
fn always_lets_sequential_sessions_share_one_server_connection() {
    let (server, port, _proxy) = setup("always");
    session(port, 1);
    session(port, 1);
    session(port, 2);
    assert_eq!(conns(&server), [0, 0, 0, 0]);
    assert_eq!(server.accepted(), 1);
}

/// Bug story: with `http-reuse never`, strata closed the server connection
/// after every response, so a keep-alive client cost one server connection
/// per request. HAProxy keeps the connection private to the client session
/// and reuses it for that session's next requests.
#[test]
fn never_keeps_one_private_server_connection_per_client_session() {
    let (server, port, _proxy) = setup("never");
    session(port, 3);
    session(port, 3);
    assert_eq!(conns(&server), [0, 0, 0, 1, 1, 1], "one server connection per client session");
    assert_eq!(server.accepted(), 2);
}

/// The request a reused connection carries when the server has just
/// closed it: the result, how many connections the server accepted, and
/// how many requests it dropped.
fn on_a_closed_reused_connection(method: &str) -> (std::io::Result<Response>, usize, usize) {
    let (server, port, _proxy) = setup("");
    let mut c = HttpConn::connect(port);
    assert_eq!(c.request(&get("/")).expect("first response").status, 200);
    server.drop_reused(true);
    let r = c.request(&request(method, "/", &["Content-Length: 0"], b""));
    (r, server.accepted(), server.dropped())
}

// HAProxy 2.6 (without `retry-on empty-response`) answers neither of the
// two tests below: it closes the client connection silently, leaving the
// retry to the client. strata retries idempotent requests itself and
// answers 502 to the others: deliberate, so both are skipped under HAProxy.

#[test]
fn a_get_on_a_reused_connection_the_server_closed_is_retried_on_a_fresh_one() {
    if under_haproxy() {
        return;
    }
    let (r, accepted, dropped) = on_a_closed_reused_connection("GET");
    let r = r.expect("a response, not a close");
    assert_eq!(r.status, 200, "retried transparently: {}", r.raw_text());
    assert_eq!((dropped, accepted), (1, 2), "dropped once on the reused connection, answered on a new one");
}

#[test]
fn a_post_on_a_reused_connection_the_server_closed_is_not_replayed() {
    if under_haproxy() {
        return;
    }
    let (r, accepted, dropped) = on_a_closed_reused_connection("POST");
    let r = r.expect("a response, not a close");
    assert_eq!(r.raw_text(), String::from_utf8_lossy(BAD_GATEWAY_502));
    assert_eq!((dropped, accepted), (1, 1), "never sent a second time");
}

/// Reads one request head from `s`; false if the connection ended first.
fn read_head(s: &mut std::net::TcpStream) -> bool {
    use std::io::Read;
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") && s.read(&mut byte).is_ok_and(|n| n == 1) {
        got.push(byte[0]);
    }
    got.ends_with(b"\r\n\r\n")
}

/// Bug story: when sending a request over a reused connection failed (the
/// server had reset it and the reset's event came after the request's in
/// the same poll batch), strata switched to a retry on a new connection,
/// then read the failed socket in the same pass and answered 502 instead.
/// The proxy is stopped (SIGSTOP) while the request and then the reset
/// arrive, so that both wait in one batch in that order.
#[test]
fn a_get_whose_send_fails_on_a_reused_connection_is_retried_on_a_fresh_one() {
    if under_haproxy() {
        return;
    }
    // Each connection answers one request; the first then waits to be
    // told and resets (SO_LINGER 0, closed when the handler returns).
    let (reset_tx, reset_rx) = std::sync::mpsc::channel::<()>();
    let reset_now = std::sync::Mutex::new(reset_rx);
    let first = std::sync::atomic::AtomicBool::new(true);
    let server = Backend::spawn_closing(move |mut s| {
        use std::io::Write;
        let is_first = first.swap(false, std::sync::atomic::Ordering::SeqCst);
        if read_head(&mut s) {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
        if is_first {
            let _ = reset_now.lock().map(|rx| rx.recv());
            let _ = socket2::SockRef::from(&s).set_linger(Some(ms(0)));
        }
    });
    let port = free_port();
    let proxy = Proxy::start(&HttpCfg::new(port, Some(server.port())).render());
    let mut c = HttpConn::connect(port);
    assert_eq!(c.request(&get("/")).expect("first response").status, 200);
    std::thread::sleep(ms(200)); // the server connection is idle in the pool
    proxy.signal("STOP");
    c.send(&get("/again")).expect("send the second request");
    std::thread::sleep(ms(100));
    reset_tx.send(()).expect("tell the server");
    // The reset connection leaves the kernel's tables even while the proxy is stopped.
    assert!(
        wait_until(ms(5_000), || tcp_conns_to(proxy.pid(), server.port()) == 0),
        "the server reset its connection"
    );
    proxy.signal("CONT");
    let r = c.read_response_within(false, ms(5_000)).expect("a response, not a close");
    assert_eq!(r.status, 200, "retried on a new connection: {}", r.raw_text());
    assert_eq!(server.accepted(), 2, "the retry went over a second connection");
}

/// `pool-purge-delay`: a shared idle connection left unused that long is
/// closed by the proxy (HAProxy's idle connection purge), so the next
/// session connects again; without it the connection would wait for ever.
#[test]
fn an_idle_connection_unused_for_pool_purge_delay_is_closed() {
    let server = HttpBackend::start();
    let port = free_port();
    let cfg = HttpCfg::new(port, None).backend("http-reuse always").backend(&format!(
        "server s1 127.0.0.1:{} pool-purge-delay {}",
        server.port(),
        cfg_time(ms(300))
    ));
    let _proxy = Proxy::start(&cfg.render());
    session(port, 1);
    assert_eq!(server.closed(), 0, "kept for reuse at first");
    assert!(wait_until(ms(15_000), || server.closed() == 1), "the idle connection is closed");
    session(port, 1);
    assert_eq!(conns(&server), [0, 1], "the next session connects again");
}
