//! HTTP mode, connection management: keep-alive with server connection
//! reuse, pipelining, and the cases where the proxy must close after the
//! response (`Connection: close`, HTTP/1.0 without keep-alive).
//! Every assertion here holds for HAProxy 2.6 too (`STRATA_BIN=haproxy`).

mod support;

use support::*;

/// A proxy in front of a fresh [`HttpBackend`].
fn setup() -> (HttpBackend, Proxy, u16) {
    let backend = HttpBackend::start();
    let port = free_port();
    let proxy = Proxy::start(&HttpCfg::new(port, Some(backend.port())).render());
    (backend, proxy, port)
}

/// Size of the body asked for by request `i` of a sequence.
fn size_of(i: usize) -> usize {
    [0, 1, 5, 100, 1000, 20_000][i % 6] + i
}

/// What 100 sequential requests on one client connection gave.
struct Sequence {
    responses: Vec<Response>,
    server_requests: usize, // complete requests the backend received
    server_conns: usize,    // TCP connections it accepted
}

fn hundred_requests_on_one_connection() -> Sequence {
    let (backend, _proxy, port) = setup();
    let mut c = HttpConn::connect(port);
    let responses = (0..100)
        .map(|i| {
            c.request(&get(&format!("/size/{}", size_of(i)))).unwrap_or_else(|e| panic!("request {i}: {e}"))
        })
        .collect();
    let server_requests = backend.wait_requests(100, ms(5_000)).map_or(backend.requests().len(), |r| r.len());
    Sequence { responses, server_requests, server_conns: backend.accepted() }
}

#[test]
fn keep_alive_serves_100_requests_on_one_connection_and_reuses_the_server_connection() {
    let s = hundred_requests_on_one_connection();
    for (i, r) in s.responses.iter().enumerate() {
        assert_eq!(r.status, 200, "response {i}: {}", r.raw_text());
        assert_eq!(first_difference(&r.body, &pattern(BODY_SEED, size_of(i))), None, "body {i}");
    }
    assert_eq!(s.server_requests, 100, "requests the backend received");
    assert!(
        s.server_conns <= 2,
        "the server connection is reused: {} connections for 100 requests",
        s.server_conns
    );
}

/// Ten requests written in one go; the ten responses read in order.
fn pipelined_ten() -> Vec<Response> {
    let (_backend, _proxy, port) = setup();
    let mut c = HttpConn::connect(port);
    let requests: Vec<Vec<u8>> = (0..10).map(|i| get(&format!("/size/{}", size_of(i) * 3))).collect();
    c.pipeline(&requests).expect("ten pipelined responses")
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let responses = pipelined_ten();
    assert_eq!(responses.len(), 10);
    for (i, r) in responses.iter().enumerate() {
        assert_eq!(r.status, 200, "response {i}: {}", r.raw_text());
        assert_eq!(r.body.len(), size_of(i) * 3, "length of body {i}");
        assert_eq!(first_difference(&r.body, &pattern(BODY_SEED, size_of(i) * 3)), None, "body {i}");
    }
}

/// One request, then how the connection ended after its response.
fn one_request_then_close(raw: &[u8]) -> (Response, Closed) {
    let (_backend, _proxy, port) = setup();
    let mut c = HttpConn::connect(port);
    let r = c.request(raw).expect("response");
    (r, c.expect_closed(ms(3_000)))
}

#[test]
fn connection_close_from_the_client_closes_after_the_response() {
    let (r, end) = one_request_then_close(&request("GET", "/size/1000", &["Connection: close"], b""));
    assert_eq!(r.status, 200, "{}", r.raw_text());
    assert_eq!(first_difference(&r.body, &pattern(BODY_SEED, 1000)), None);
    assert!(matches!(end, Closed::Eof(_)), "the proxy closes after the response: {end:?}");
}

#[test]
fn http_1_0_without_keep_alive_closes_after_the_response() {
    let (r, end) = one_request_then_close(b"GET /size/1000 HTTP/1.0\r\nHost: test\r\n\r\n");
    assert_eq!(r.status, 200, "{}", r.raw_text());
    assert_eq!(first_difference(&r.body, &pattern(BODY_SEED, 1000)), None);
    assert!(matches!(end, Closed::Eof(_)), "the proxy closes after the response: {end:?}");
}
