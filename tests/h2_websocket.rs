//! WebSocket over HTTP/2 (RFC 8441) from clients to HTTP/1.1 servers, as
//! HAProxy 2.6 does it: SETTINGS_ENABLE_CONNECT_PROTOCOL=1 in the
//! server's first SETTINGS; an extended CONNECT (`:protocol websocket`)
//! reaches the server as `GET` with `Upgrade: websocket`, `Connection:
//! upgrade` and a `Sec-WebSocket-Key` the proxy wrote; the server's 101
//! is the client's 200, then DATA both ways is the tunnel's bytes (under
//! both flow-control windows) and END_STREAM is the FIN each way. A 101
//! whose accept key does not match the key is answered 502. Holds for
//! HAProxy 2.6 too (`STRATA_BIN=haproxy`) except where `under_haproxy()`
//! says why.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};
use support::h2_client::*;
use support::*;

const LIMIT: Duration = Duration::from_secs(10);
const SEED: u64 = 0x5EB5_0C4E;

/// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3).
const ENABLE_CONNECT_PROTOCOL: u16 = 0x8;

fn ws_fields() -> [(&'static str, &'static str); 2] {
    [(":protocol", "websocket"), ("sec-websocket-version", "13")]
}

/// A proxy with a `proto h2` bind in front of `server` (extra `global`
/// lines first); it and its port.
fn proxy_to(server: u16, global: &[&str]) -> (Proxy, u16) {
    let port = free_port();
    let mut cfg = HttpCfg::new(free_port(), Some(server)).httplog();
    for g in global {
        cfg = cfg.global(g);
    }
    let cfg = cfg.frontend(&format!("bind 127.0.0.1:{port} proto h2"));
    (Proxy::start(&cfg.render()), port)
}

/// Reads frames until stream `id` got its head and `want` body bytes in
/// all, ended or was reset (or `LIMIT` passed).
fn read_until(c: &mut H2Conn, out: &mut HashMap<u32, H2Response>, id: u32, want: usize) {
    let deadline = Instant::now() + LIMIT;
    loop {
        let r = out.entry(id).or_default();
        if (r.status.is_some() && r.body.len() >= want) || r.ended || r.reset.is_some() {
            return;
        }
        let Some(left) = deadline.checked_duration_since(Instant::now()) else { return };
        let Some(f) = c.read_frame(left) else { return };
        if c.handle(&f, out).is_some() {
            return;
        }
    }
}

#[test]
fn a_websocket_over_http2_is_an_http11_upgrade_to_the_server_and_a_tunnel_both_ways() {
    let backend = HttpBackend::start();
    let (proxy, port) = proxy_to(backend.port(), &[]);
    let mut c = H2Conn::connect(port);
    assert!(
        c.server_settings.contains(&(ENABLE_CONNECT_PROTOCOL, 1)),
        "extended CONNECT announced: {:?}",
        c.server_settings
    );
    let id = c.request("CONNECT", "/chat?room=1", &ws_fields(), false);
    let mut out = HashMap::new();
    read_until(&mut c, &mut out, id, 0);
    let r = &out[&id];
    assert_eq!((r.status, r.reset, r.ended), (Some(200), None, false), "{r:?}");
    assert!(r.fields.iter().all(|(n, _)| n != "connection" && n != "upgrade"), "{:?}", r.fields);

    let got = backend.wait_requests(1, ms(5000)).expect("the upgrade reached the server");
    let req = &got[0];
    assert_eq!(
        (req.method.as_str(), req.target.as_str(), req.version.as_str()),
        ("GET", "/chat?room=1", "HTTP/1.1")
    );
    assert_eq!(req.header("upgrade"), Some("websocket"));
    assert!(req.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("upgrade")), "{:?}", req.headers);
    assert_eq!(req.header("sec-websocket-version"), Some("13"));
    let key = req.header("sec-websocket-key").expect("a key written by the proxy");
    assert_eq!(key.len(), 24, "16 bytes in base64: {key}");

    // The tunnel: pieces echoed one after the other, 320 KiB in all, past
    // both initial windows (65535) each way.
    let mut sent = Vec::new();
    for i in 0..20u64 {
        let piece = pattern(SEED + i, if i == 0 { 1 } else { 16_384 });
        c.data(id, &piece, false);
        sent.extend_from_slice(&piece);
        read_until(&mut c, &mut out, id, sent.len());
        let r = &out[&id];
        assert!(r.reset.is_none() && !r.ended, "piece {i}: reset {:?}, ended {}", r.reset, r.ended);
        assert_eq!(r.body.len(), sent.len(), "piece {i} echoed");
    }
    assert_eq!(first_difference(&out[&id].body, &sent), None, "the echo is byte-exact");

    // The client's END_STREAM is the server's EOF; the server's close
    // (its echo loop ends) comes back as END_STREAM.
    c.data(id, b"", true);
    read_until(&mut c, &mut out, id, usize::MAX);
    let r = &out[&id];
    assert!(wait_until(ms(5000), || proxy.stdout_text().contains("HTTP/2.0")), "an httplog line");
    let log = proxy.stdout_text();
    assert!(
        r.ended && r.reset.is_none(),
        "reset {:?}, ended {}; {log} {}",
        r.reset,
        r.ended,
        proxy.stderr_text()
    );
    let line = log.lines().find(|l| l.contains("HTTP/2.0")).unwrap_or_default().to_string();
    assert!(line.contains("\"GET "), "logged as the GET it became: {line}");

    // The connection serves more streams afterwards.
    let id = c.get("/size/10");
    let (res, end) = c.run(&[id], LIMIT);
    assert!(end.is_none(), "{end:?}");
    assert_eq!(res[&id].status, Some(200));
}

#[test]
fn a_server_that_does_not_switch_answers_as_usual_and_a_bad_accept_key_is_a_502() {
    // No switch: the server's answer is the client's, the stream ends.
    let backend = Backend::spawn(|mut s| {
        use std::io::Write;
        let _ = read_head(&mut s);
        let _ = s.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno");
        std::thread::sleep(ms(500));
    });
    let (_proxy, port) = proxy_to(backend.port(), &[]);
    let mut c = H2Conn::connect(port);
    let id = c.request("CONNECT", "/chat", &ws_fields(), false);
    let (res, end) = c.run(&[id], LIMIT);
    assert!(end.is_none(), "{end:?}");
    assert_eq!((res[&id].status, res[&id].body.as_slice()), (Some(403), &b"no"[..]), "{:?}", res[&id]);

    // A 101 whose accept is not the key's: the proxy wrote the key, so it
    // checks the answer (HAProxy's reg-test websocket, its c5 client).
    let bad = Backend::spawn(|mut s| {
        use std::io::Write;
        let _ = read_head(&mut s);
        let _ = s.write_all(
            b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: invalid_key\r\n\r\n",
        );
        std::thread::sleep(ms(500));
    });
    let (_proxy, port) = proxy_to(bad.port(), &[]);
    let mut c = H2Conn::connect(port);
    let id = c.request("CONNECT", "/chat", &ws_fields(), false);
    let mut out = HashMap::new();
    read_until(&mut c, &mut out, id, 0);
    assert_eq!(out[&id].status, Some(502), "{:?}", out[&id]);
}

#[test]
fn malformed_extended_connects_are_reset_and_the_workaround_turns_it_off() {
    let backend = HttpBackend::start();
    let (_proxy, port) = proxy_to(backend.port(), &[]);
    let mut c = H2Conn::connect(port);
    // :protocol on a GET (RFC 8441 §4: only with CONNECT).
    let get = c.request("GET", "/chat", &ws_fields(), true);
    // An extended CONNECT needs :path (RFC 8441 §4): written by hand.
    let fields = [
        (":method", "CONNECT"),
        (":protocol", "websocket"),
        (":scheme", "http"),
        (":authority", "localhost"),
    ];
    let block = c.block(&fields);
    let nopath = c.next_id;
    c.next_id += 2;
    c.send(HEADERS, END_HEADERS, nopath, &block);
    let (res, end) = c.run(&[get, nopath], LIMIT);
    assert!(end.is_none(), "{end:?}");
    assert_eq!(res[&nopath].reset, Some(PROTOCOL_ERROR), "{:?}", res[&nopath]);
    // HAProxy 2.6 drops a GET's :protocol and serves the GET; strata
    // refuses it (RFC 9113 §8.3 lets either be done: reject).
    if !under_haproxy() {
        assert_eq!(res[&get].reset, Some(PROTOCOL_ERROR), "{:?}", res[&get]);
        assert!(backend.requests().is_empty(), "nothing reached the server");
    }

    // `h2-workaround-bogus-websocket-clients`: not announced, and then (in
    // strata) `:protocol` is a pseudo-header the connection never defined:
    // malformed (RFC 9113 §8.3). HAProxy 2.6 still accepts the request.
    let (_proxy, port) = proxy_to(backend.port(), &["h2-workaround-bogus-websocket-clients"]);
    let mut c = H2Conn::connect(port);
    assert!(
        !c.server_settings.iter().any(|(id, _)| *id == ENABLE_CONNECT_PROTOCOL),
        "not announced: {:?}",
        c.server_settings
    );
    if !under_haproxy() {
        let id = c.request("CONNECT", "/chat", &ws_fields(), false);
        let (res, end) = c.run(&[id], LIMIT);
        assert!(end.is_none(), "{end:?}");
        assert_eq!(res[&id].reset, Some(PROTOCOL_ERROR), "{:?}", res[&id]);
    }
}

/// Reads a request head (up to the blank line) from `s`.
fn read_head(s: &mut std::net::TcpStream) -> Vec<u8> {
    use std::io::Read;
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut b) {
            Ok(1) => head.push(b[0]),
            _ => break,
        }
    }
    head
}
