//! HTTP mode, the proxy's own answers when the server side fails or the
//! client is too slow: HAProxy's built-in 502, 503, 504 and 408, byte for
//! byte, and a close when a response breaks after its head was forwarded.
//! Every assertion holds for HAProxy 2.6 too (`STRATA_BIN=haproxy`).

mod support;

use std::time::Duration;

use support::http_answers::*;
use support::*;

/// Start a proxy on `cfg` (built for a fresh port) and send `raw` on one
/// connection; everything received until the proxy closed (or 5 s).
fn exchange(cfg: impl FnOnce(u16) -> HttpCfg, raw: &[u8]) -> (Vec<u8>, Closed) {
    let port = free_port();
    let _proxy = Proxy::start(&cfg(port).render());
    let mut c = HttpConn::connect(port);
    c.send(raw).expect("send request");
    c.read_until_closed(ms(5_000))
}

/// One request to `path` through a proxy in front of an [`HttpBackend`];
/// the first response (raw), then the connection is left as is.
fn first_response(path: &str, cfg: impl FnOnce(HttpCfg) -> HttpCfg) -> Response {
    let backend = HttpBackend::start();
    let port = free_port();
    let _proxy = Proxy::start(&cfg(HttpCfg::new(port, Some(backend.port()))).render());
    let mut c = HttpConn::connect(port);
    c.request(&get(path)).unwrap_or_else(|e| panic!("response to {path}: {e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn no_server_gives_haproxys_503() {
    let port = free_port();
    let _proxy = Proxy::start(&HttpCfg::new(port, None).render());
    let r = HttpConn::connect(port).request(&get("/")).expect("503");
    assert_eq!(text(&r.raw), text(SERVICE_UNAVAILABLE_503));
}

#[test]
fn server_timeout_gives_haproxys_504() {
    let delay = scaled(Duration::from_millis(3_000)).as_millis();
    let r = first_response(&format!("/delay/{delay}"), |c| {
        c.backend(&format!("timeout server {}", cfg_time(Duration::from_millis(300))))
    });
    assert_eq!(text(&r.raw), text(GATEWAY_TIMEOUT_504));
}

#[test]
fn server_reset_before_the_head_gives_haproxys_502() {
    let r = first_response("/reset", |c| c);
    assert_eq!(text(&r.raw), text(BAD_GATEWAY_502));
}

#[test]
fn server_reset_inside_the_head_gives_haproxys_502() {
    let r = first_response("/reset-head", |c| c);
    assert_eq!(text(&r.raw), text(BAD_GATEWAY_502));
}

#[test]
fn garbage_response_head_gives_haproxys_502() {
    let r = first_response("/garbage", |c| c);
    assert_eq!(text(&r.raw), text(BAD_GATEWAY_502));
}

/// The head (with its Content-Length) was forwarded already, so no error
/// answer is possible: the client must see the connection end before the
/// announced body is complete.
#[test]
fn server_reset_mid_body_closes_the_client_connection_early() {
    let backend = HttpBackend::start();
    let (got, end) = exchange(|p| HttpCfg::new(p, Some(backend.port())), &get("/reset-body"));
    let head_end = got.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let head = text(&got[..head_end.unwrap_or(got.len())]);
    assert!(head.starts_with("HTTP/1.1 200"), "the head was forwarded: {head:?}");
    let body = head_end.map_or(0, |h| got.len() - h);
    assert!(body < RESET_BODY_LEN, "only part of the body arrives ({body} of {RESET_BODY_LEN} bytes)");
    assert!(matches!(end, Closed::Eof(_) | Closed::Reset(_)), "then the connection ends: {end:?}");
}

#[test]
fn half_a_request_head_times_out_with_haproxys_408_and_a_close() {
    let backend = HttpBackend::start();
    let (got, end) = exchange(
        |p| {
            HttpCfg::new(p, Some(backend.port()))
                .frontend(&format!("timeout http-request {}", cfg_time(Duration::from_millis(300))))
        },
        b"GET / HTTP/1.1\r\nHost: te",
    );
    assert_eq!(text(&got), text(REQUEST_TIMEOUT_408));
    assert!(matches!(end, Closed::Eof(_) | Closed::Reset(_)), "closed after the 408: {end:?}");
    assert_eq!(backend.bytes_received(), 0, "nothing reached the server");
}
