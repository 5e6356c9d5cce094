//! HTTP mode, protocol switch: a WebSocket-style `Upgrade` gets the
//! server's `101 Switching Protocols` through, after which the proxy
//! forwards raw bytes both ways. Holds for HAProxy 2.6 too
//! (`STRATA_BIN=haproxy`).

mod support;

use support::*;

const CLIENT_SEED: u64 = 0xC11E_0003;

/// The 101 and the raw round trips after it.
struct Switched {
    answer: Response,
    trips: Vec<(Vec<u8>, Vec<u8>)>, // (sent, echoed back)
    server: Vec<Received>,
}

/// A proxy in front of the server on `server`: it and its port.
fn proxy_to(server: u16) -> (Proxy, u16) {
    let port = free_port();
    (Proxy::start(&HttpCfg::new(port, Some(server)).render()), port)
}

/// A WebSocket upgrade request, with RFC 6455's key unless `keyless`.
fn upgrade_request(keyless: bool) -> Vec<u8> {
    let mut headers = vec!["Connection: Upgrade", "Upgrade: websocket"];
    if !keyless {
        headers.extend(["Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]);
    }
    request("GET", "/ws", &headers, b"")
}

fn websocket_upgrade() -> Switched {
    let backend = HttpBackend::start();
    let (_proxy, port) = proxy_to(backend.port());
    let mut c = HttpConn::connect(port);
    let upgrade = upgrade_request(false);
    let answer = c.request(&upgrade).expect("101 response");
    let mut trips = Vec::new();
    for (i, len) in [1usize, 10, 1000, 70_000, 3].into_iter().enumerate() {
        let msg = pattern(CLIENT_SEED + i as u64, len);
        c.send(&msg).expect("raw bytes after the switch");
        let got = c.read_raw(len, ms(10_000)).unwrap_or_else(|e| panic!("echo {i}: {e}"));
        trips.push((msg, got));
    }
    Switched { answer, trips, server: backend.requests() }
}

#[test]
fn websocket_upgrade_switches_then_bytes_flow_both_ways() {
    let s = websocket_upgrade();
    assert_eq!(s.answer.status, 101, "{}", s.answer.raw_text());
    assert_eq!(s.answer.header("upgrade").map(str::to_ascii_lowercase).as_deref(), Some("websocket"));
    assert!(s.answer.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("upgrade")));
    // RFC 6455's own example key and accept value.
    assert_eq!(s.answer.header("sec-websocket-accept"), Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    assert_eq!(s.server.len(), 1, "one upgrade request at the server");
    assert_eq!(s.server[0].header("upgrade"), Some("websocket"));
    for (i, (sent, got)) in s.trips.iter().enumerate() {
        assert_eq!(first_difference(sent, got), None, "round trip {i} ({} bytes)", sent.len());
    }
}

/// RFC 6455's keys as HAProxy 2.6 checks their presence between HTTP/1
/// peers (its reg-test `websocket`): an upgrade request without
/// `Sec-WebSocket-Key` gets a 400 and never reaches the server; a server's
/// 101 without `Sec-WebSocket-Accept` is answered 502.
#[test]
fn websocket_handshakes_without_their_keys_are_refused() {
    let backend = HttpBackend::start();
    let (_proxy, port) = proxy_to(backend.port());
    let mut c = HttpConn::connect(port);
    assert_eq!(c.request(&upgrade_request(true)).expect("an answer").status, 400);
    assert!(backend.requests().is_empty(), "the keyless upgrade reached the server");

    // a server that switches without the accept key
    let bad = Backend::spawn(|mut s| {
        use std::io::{Read, Write};
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf);
        let _ = s.write_all(
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
        );
        std::thread::sleep(ms(2_000));
    });
    let (_proxy2, port2) = proxy_to(bad.port());
    let mut c = HttpConn::connect(port2);
    assert_eq!(c.request(&upgrade_request(false)).expect("an answer").status, 502);
}
