//! HAProxy 2.6's `h1` statistics module in `show stat`: the `h1_*`
//! fields of FRONTEND and BACKEND lines, as
//! `reg-tests/http-messaging/http_splicing.vtc` reads them — each side's
//! HTTP/1 connections and streams (open and in all), the bytes they moved,
//! and those of them moved by `splice(2)`. The byte counts are compared
//! with what the test's own client and server sent and received, so they
//! hold for HAProxy as for strata (validated with
//! `STRATA_BIN=/usr/sbin/haproxy`; the configs ask for splicing with
//! `option splice-request` / `splice-response`, which HAProxy needs and
//! strata does anyway).
//!
//! The bug story: strata printed the module's fields, all 0, and spliced
//! request bodies not at all (only responses), so the regtest's spliced
//! byte counters could not pass.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};

use support::*;

const BODY: usize = 1 << 20; // the regtest's 1 MiB, far more than a buffer: most of it is spliced

/// A proxy `li` in front of an [`HttpBackend`], and its stats port.
fn start() -> (Proxy, HttpBackend, u16, u16) {
    let srv = HttpBackend::start();
    let (fe, stats) = (free_port(), free_port());
    let cfg = format!(
        "global\n    stats socket 127.0.0.1:{stats} level admin\n\
         defaults\n    mode http\n    timeout connect {t}\n    timeout client {t}\n    timeout server {t}\n\
         \x20   option splice-request\n    option splice-response\n\
         listen li\n    bind 127.0.0.1:{fe}\n    id 10\n    server srv1 127.0.0.1:{}\n",
        srv.port(),
        t = cfg_time(std::time::Duration::from_secs(10)),
    );
    (Proxy::start(&cfg), srv, fe, stats)
}

/// Sends `req` on `c`, then reads one response whose end is the close
/// (the requests ask for it) or, with `len`, exactly `len` bytes.
fn exchange(c: &mut TcpStream, req: &[u8], len: Option<usize>) -> Vec<u8> {
    c.set_read_timeout(Some(ms(10_000))).expect("timeout");
    c.write_all(req).expect("send");
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while len.is_none_or(|l| got.len() < l) {
        match c.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("reading the response after {} bytes: {e}", got.len()),
        }
    }
    got
}

fn num(s: &Stat, sv: &str, field: &str) -> u64 {
    s.get("li", sv, field).parse().unwrap_or_else(|_| panic!("{field} of {sv}: {:?}", s.get("li", sv, field)))
}

/// Polls until the FRONTEND line says the client's connection closed and
/// the BACKEND line counts `bytes` received by the server.
fn settled(stats: u16, server_bytes: u64) -> Stat {
    let fe_closed = [("h1_open_connections", "0"), ("h1_open_streams", "0")];
    expect_stat(stats, "li", "FRONTEND", &fe_closed, "client connection closed");
    let want = server_bytes.to_string();
    expect_stat(
        stats,
        "li",
        "BACKEND",
        &[("h1_bytes_out", want.as_str()), ("h1_open_streams", "0")],
        "backend",
    )
}

#[test]
fn a_large_post_and_its_echo_are_spliced_both_ways_and_counted() {
    let (_p, srv, fe, stats) = start();
    let mut req =
        format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {BODY}\r\nConnection: close\r\n\r\n")
            .into_bytes();
    req.extend(std::iter::repeat_n(b'a', BODY));
    let mut c = TcpStream::connect(("127.0.0.1", fe)).expect("connect");
    let res = exchange(&mut c, &req, None);
    assert!(res.starts_with(b"HTTP/1.1 200"), "{:?}", String::from_utf8_lossy(&res[..res.len().min(200)]));
    let head = res.windows(4).position(|w| w == b"\r\n\r\n").expect("a head") + 4;
    assert_eq!(res.len() - head, BODY, "the whole echo");
    drop(c);

    let s = settled(stats, srv.bytes_received());
    let (f, b) = (|n| num(&s, "FRONTEND", n), |n| num(&s, "BACKEND", n));
    // The client side: exactly what the client sent and received.
    assert_eq!(f("h1_bytes_in"), req.len() as u64, "frontend bytes in");
    assert_eq!(f("h1_bytes_out"), res.len() as u64, "frontend bytes out");
    assert_eq!((f("h1_total_connections"), f("h1_total_streams")), (1, 1));
    // Most of each body went through a pipe, never more than the body.
    for (side, field) in [("FRONTEND", "h1_spliced_bytes_in"), ("FRONTEND", "h1_spliced_bytes_out")]
        .into_iter()
        .chain([("BACKEND", "h1_spliced_bytes_in"), ("BACKEND", "h1_spliced_bytes_out")])
    {
        let n = num(&s, side, field);
        assert!(n > (BODY / 2) as u64 && n <= BODY as u64, "{side} {field} = {n}");
    }
    // The server side: what the server received (settled), and the
    // response it sent, which carried the echo.
    assert!(b("h1_bytes_in") > BODY as u64, "backend bytes in: {}", b("h1_bytes_in"));
    assert_eq!((b("h1_total_connections"), b("h1_total_streams")), (1, 1));
    // A server line has no h1 fields, as in HAProxy.
    let server = s.row("li", "srv1").expect("the server line");
    assert!(server.fields.get("h1_bytes_in").is_none_or(|v| v.is_empty()), "{}", server.raw);
}

#[test]
fn a_body_ended_by_the_close_is_spliced_from_the_server_only() {
    // As the regtest's c2: a GET (no request body), a response without a
    // length: nothing spliced in from the client nor out to the server.
    let (_p, srv, fe, stats) = start();
    let req = b"GET /close/1048576 HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut c = TcpStream::connect(("127.0.0.1", fe)).expect("connect");
    let res = exchange(&mut c, req, None);
    assert!(res.starts_with(b"HTTP/1.1 200"), "{:?}", String::from_utf8_lossy(&res[..res.len().min(200)]));
    drop(c);

    let s = settled(stats, srv.bytes_received());
    let (f, b) = (|n| num(&s, "FRONTEND", n), |n| num(&s, "BACKEND", n));
    assert_eq!((f("h1_bytes_in"), f("h1_bytes_out")), (req.len() as u64, res.len() as u64));
    assert_eq!(f("h1_spliced_bytes_in"), 0, "no request body");
    assert!(f("h1_spliced_bytes_out") > (BODY / 2) as u64, "{}", f("h1_spliced_bytes_out"));
    assert!(b("h1_spliced_bytes_in") > (BODY / 2) as u64, "{}", b("h1_spliced_bytes_in"));
    assert_eq!(b("h1_spliced_bytes_out"), 0, "no request body");
    assert_eq!(b("h1_open_connections"), 0, "the server closed its connection");
}

#[test]
fn keep_alive_counts_one_connection_and_a_stream_per_request() {
    let (_p, srv, fe, stats) = start();
    let mut c = TcpStream::connect(("127.0.0.1", fe)).expect("connect");
    c.set_read_timeout(Some(ms(10_000))).expect("timeout");
    let req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut sent = 0;
    let mut received = 0;
    for _ in 0..3 {
        // `/` answers `hello` with a Content-Length: read up to it.
        c.write_all(req).expect("send");
        let mut res = Vec::new();
        while !res.ends_with(b"hello") {
            let mut buf = [0u8; 1024];
            let n = c.read(&mut buf).expect("read");
            assert!(n > 0, "closed mid-response");
            res.extend_from_slice(&buf[..n]);
        }
        sent += req.len();
        received += res.len();
    }
    // While the client stays: one open connection, no stream between requests.
    let want = [
        ("h1_open_connections", "1"),
        ("h1_open_streams", "0"),
        ("h1_total_connections", "1"),
        ("h1_total_streams", "3"),
    ];
    let s = expect_stat(stats, "li", "FRONTEND", &want, "keep-alive client");
    assert_eq!(num(&s, "FRONTEND", "h1_bytes_in"), sent as u64);
    assert_eq!(num(&s, "FRONTEND", "h1_bytes_out"), received as u64);
    // One server connection, kept (idle or in use) for all three.
    let server_bytes = srv.bytes_received().to_string();
    let be = [
        ("h1_open_connections", "1"),
        ("h1_total_connections", "1"),
        ("h1_total_streams", "3"),
        ("h1_open_streams", "0"),
        ("h1_bytes_out", server_bytes.as_str()),
    ];
    expect_stat(stats, "li", "BACKEND", &be, "one server connection");
    assert_eq!(srv.accepted(), 1);
    c.shutdown(Shutdown::Both).expect("close");
    expect_stat(stats, "li", "FRONTEND", &[("h1_open_connections", "0")], "client gone");
}
