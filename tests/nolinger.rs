//! `option nolinger` on a frontend closes a client as HAProxy 2.6.12 does:
//! a clean end (the client timed out, a 408, a response after which the
//! connection closes) sends the data and our FIN, then the close resets
//! the connection (SO_LINGER 0): the client reads the end of the data,
//! and its next write fails on the RST. strata used to reset at once,
//! without the FIN. The control, without the option, closes with a FIN
//! only: the client's next write is accepted. Passes on HAProxy 2.6.12
//! too (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;

use support::time::{cfg_time, ms};
use support::*;

/// How the proxy ended the connection: what the client read before the
/// end, whether the end was a FIN (else a reset), and whether a write
/// after it failed (an RST came after the FIN).
#[derive(Debug)]
struct End {
    data: Vec<u8>,
    fin: bool,
    reset_after: bool,
}

fn end_of(mut s: TcpStream, send: &[u8]) -> End {
    if !send.is_empty() {
        s.write_all(send).expect("send");
    }
    s.set_read_timeout(Some(ms(5000))).expect("timeout");
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let fin = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break false,
            Err(e) => panic!("no end within the bound: {e}"),
        }
    };
    let mut reset_after = false;
    if fin {
        std::thread::sleep(ms(200));
        reset_after = s.write(b"x").is_err();
    }
    End { data, fin, reset_after }
}

fn config(nolinger: bool, tcp_port: u16, http_port: u16, server: u16) -> String {
    let opt = if nolinger { "option nolinger" } else { "" };
    format!(
        "defaults\n    timeout client {}\n    timeout server 5s\n    timeout connect 1s\n\
         frontend t\n    mode tcp\n    bind 127.0.0.1:{tcp_port}\n    {opt}\n    default_backend bt\n\
         frontend h\n    mode http\n    bind 127.0.0.1:{http_port}\n    {opt}\n    default_backend bh\n\
         backend bt\n    mode tcp\n    server s1 127.0.0.1:{server}\n\
         backend bh\n    mode http\n    server s1 127.0.0.1:{server}\n",
        cfg_time(ms(500))
    )
}

#[test]
fn nolinger_sends_fin_then_reset_to_a_client() {
    let server = HttpBackend::start();
    for nolinger in [false, true] {
        let (t, h) = (free_port(), free_port());
        let _p = Proxy::start(&config(nolinger, t, h, server.port()));
        let cases = [
            ("TCP client timeout", t, &b""[..], &b""[..]),
            ("HTTP 408", h, &b"GET / HTTP/1.1\r\n"[..], &b"HTTP/1.1 408"[..]),
            (
                "HTTP response, then close",
                h,
                &b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"[..],
                &b"HTTP/1.1 200"[..],
            ),
        ];
        for (what, port, send, starts) in cases {
            let end = end_of(client::connect(port), send);
            assert!(end.data.starts_with(starts), "{what}: {end:?}");
            assert!(end.fin, "{what} (nolinger {nolinger}): the data and a FIN first: {end:?}");
            assert_eq!(end.reset_after, nolinger, "{what}: an RST after the FIN only with nolinger: {end:?}");
        }
    }
}
