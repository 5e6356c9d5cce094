//! `option abortonclose` after the request has left, as HAProxy's
//! `reg-tests/http-messaging/http_abortonclose.vtc` (client c3) checks
//! it: with the option on the frontend and the backend (`defaults`), a
//! client that closes while its response is awaited ends the stream at
//! once: the server connection is reset, the client gets HAProxy's 400,
//! the log says `CH--`, `cli_abrt` counts it. With the option on the
//! backend only, HAProxy 2.6 does not read the client before the
//! response, so the server's late answer still reaches it; likewise
//! without the option. (The queue and connect phases are
//! `tests/http_options.rs`'.) Validated with `STRATA_BIN=/usr/sbin/haproxy`.
//!
//! The bug story: strata ignored the client's close until the response,
//! so a server kept working for a client that had gone (the regtest's
//! server waited for a close that never came).
//!
//! HTTP/2 (`bind ... proto h2`): HAProxy 2.6's mux always reads the
//! client, so the connection's FIN reaches a stream awaiting its response
//! with the option on the backend only: the server connection is reset
//! and the stream answered 400 (`CH--`); without the option the server's
//! late answer still goes out. strata's HTTP/2 streams ignored the
//! connection's end until their response came, whatever the option.

mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use support::*;

/// A server that reads one request head, then reports whether its
/// connection closed (end of stream or reset) within `wait`; it then
/// answers 200 if it did not.
fn watcher(wait: Duration) -> (Backend, mpsc::Receiver<bool>) {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let b = Backend::spawn_closing(move |mut s| {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        let _ = s.set_read_timeout(Some(wait));
        let eof = match s.read(&mut buf) {
            Ok(0) => true,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
            Ok(_) => false,
        };
        let _ = tx.lock().unwrap().send(eof);
        if !eof {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    });
    (b, rx)
}

/// Where `option abortonclose` is written.
#[derive(Clone, Copy, PartialEq)]
enum At {
    Defaults,
    BackendOnly,
    Nowhere,
}

fn run(at: At) -> (bool, Vec<u8>, String, String) {
    let logs = LogReceiver::udp();
    let (srv, saw_eof) = watcher(ms(1500));
    let (fe, stats) = (free_port(), free_port());
    let cfg = format!(
        "global\n    stats socket 127.0.0.1:{stats} level admin\n\
         defaults\n    mode http\n    {}\n    timeout connect {t}\n    timeout client {t}\n    timeout server {t}\n\
         frontend fe2\n    bind 127.0.0.1:{fe}\n    option httplog\n    log {} local0\n    default_backend be2\n\
         backend be2\n    {}\n    server srv1 127.0.0.1:{}\n",
        if at == At::Defaults { "option abortonclose" } else { "" },
        logs.target(),
        if at == At::BackendOnly { "option abortonclose" } else { "" },
        srv.port(),
        t = cfg_time(Duration::from_secs(10)),
    );
    let _p = Proxy::start(&cfg);
    let mut c = TcpStream::connect(("127.0.0.1", fe)).expect("connect");
    c.write_all(b"GET /c3 HTTP/1.1\r\nHost: x\r\n\r\n").expect("send");
    std::thread::sleep(ms(200));
    c.shutdown(Shutdown::Write).expect("half-close");
    let eof = saw_eof.recv_timeout(ms(10_000)).expect("the server read the request");
    let _ = c.set_read_timeout(Some(ms(10_000)));
    let mut answer = Vec::new();
    let _ = c.read_to_end(&mut answer);
    let line = logs.expect(ms(5000), "the access log");
    let stat = show_stat(stats, "");
    (eof, answer, line, stat.get("be2", "BACKEND", "cli_abrt").to_string())
}

#[test]
fn with_abortonclose_the_clients_close_reaches_the_server_and_ends_the_stream() {
    let (eof, answer, line, cli_abrt) = run(At::Defaults);
    assert!(eof, "the server connection was closed");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 400 Bad request\r\n"), "HAProxy's 400: {text:?}");
    assert!(line.contains(" fe2 be2/srv1 ") && line.contains(" 400 ") && line.contains(" CH-- "), "{line}");
    assert!(line.contains("\"GET /c3 HTTP/1.1\""), "{line}");
    assert_eq!(cli_abrt, "1", "counted as a client abort");
}

#[test]
fn without_it_on_the_frontend_the_server_answers_a_client_that_half_closed() {
    for at in [At::BackendOnly, At::Nowhere] {
        let (eof, answer, line, cli_abrt) = run(at);
        assert!(!eof, "the client's close is not passed on");
        assert!(String::from_utf8_lossy(&answer).ends_with("\r\n\r\nok"), "{answer:?}");
        assert!(line.contains(" 200 ") && line.contains(" ---- "), "{line}");
        assert_eq!(cli_abrt, "0");
    }
}

/// HTTP/2: one request on `bind ... proto h2`, then the client's FIN while
/// the response is awaited. Returns whether the server saw its connection
/// close, the stream's status, the log line and `cli_abrt`.
fn run_h2(at: At) -> (bool, Option<u16>, String, String) {
    let logs = LogReceiver::udp();
    let (srv, saw_eof) = watcher(ms(1500));
    let (fe, stats) = (free_port(), free_port());
    let cfg = format!(
        "global\n    stats socket 127.0.0.1:{stats} level admin\n\
         defaults\n    mode http\n    {}\n    timeout connect {t}\n    timeout client {t}\n    timeout server {t}\n\
         frontend fe2\n    bind 127.0.0.1:{fe} proto h2\n    option httplog\n    log {} local0\n    default_backend be2\n\
         backend be2\n    {}\n    server srv1 127.0.0.1:{}\n",
        if at == At::Defaults { "option abortonclose" } else { "" },
        logs.target(),
        if at == At::BackendOnly { "option abortonclose" } else { "" },
        srv.port(),
        t = cfg_time(Duration::from_secs(10)),
    );
    let _p = Proxy::start(&cfg);
    let mut c = H2Conn::connect(fe);
    let id = c.get("/c3");
    // The settings exchange first (nothing is written after the FIN).
    let mut seen = std::collections::HashMap::new();
    while let Some(f) = c.read_frame(ms(200)) {
        c.handle(&f, &mut seen);
    }
    c.sock.shutdown(Shutdown::Write).expect("half-close");
    let eof = saw_eof.recv_timeout(ms(10_000)).expect("the server read the request");
    let (res, _) = c.run(&[id], ms(10_000));
    let line = logs.expect(ms(5000), "the access log");
    let stat = show_stat(stats, "");
    (eof, res[&id].status, line, stat.get("be2", "BACKEND", "cli_abrt").to_string())
}

#[test]
fn h2_with_abortonclose_on_the_backend_the_connections_end_aborts_the_waiting_stream() {
    for at in [At::BackendOnly, At::Defaults] {
        let (eof, status, line, cli_abrt) = run_h2(at);
        assert!(eof, "the server connection was closed");
        assert_eq!(status, Some(400), "HAProxy's 400");
        assert!(
            line.contains(" fe2 be2/srv1 ") && line.contains(" 400 ") && line.contains(" CH-- "),
            "{line}"
        );
        assert!(line.contains("\"GET http://localhost/c3 HTTP/2.0\""), "{line}");
        assert_eq!(cli_abrt, "1", "counted as a client abort");
    }
}

#[test]
fn h2_without_abortonclose_the_server_answers_a_client_that_half_closed() {
    let (eof, status, line, cli_abrt) = run_h2(At::Nowhere);
    assert!(!eof, "the client's close is not passed on");
    assert_eq!(status, Some(200));
    assert!(line.contains(" 200 ") && line.contains(" ---- "), "{line}");
    assert_eq!(cli_abrt, "0");
}
