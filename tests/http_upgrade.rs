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

fn websocket_upgrade() -> Switched {
    let backend = HttpBackend::start();
    let port = free_port();
    let _proxy = Proxy::start(&HttpCfg::new(port, Some(backend.port())).render());
    let mut c = HttpConn::connect(port);
    let upgrade = request(
        "GET",
        "/ws",
        &[
            "Connection: Upgrade",
            "Upgrade: websocket",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version: 13",
        ],
        b"",
    );
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
    let port = free_port();
    let _proxy = Proxy::start(&HttpCfg::new(port, Some(backend.port())).render());
    let mut c = HttpConn::connect(port);
    let keyless = request("GET", "/ws", &["Connection: Upgrade", "Upgrade: websocket"], b"");
    assert_eq!(c.request(&keyless).expect("an answer").status, 400);
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
    let port2 = free_port();
    let _proxy2 = Proxy::start(&HttpCfg::new(port2, Some(bad.port())).render());
    let mut c = HttpConn::connect(port2);
    let upgrade = request(
        "GET",
        "/ws",
        &["Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="],
        b"",
    );
    assert_eq!(c.request(&upgrade).expect("an answer").status, 502);
}
