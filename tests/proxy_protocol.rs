//! The PROXY protocol on both sides: `server ... send-proxy` /
//! `send-proxy-v2` put the client's addresses before the first byte to
//! the server, `bind ... accept-proxy` and `tcp-request connection
//! expect-proxy layer4` read them, and `src` then reflects the header
//! (seen here through `option forwardfor`). A connection that does not
//! start with a header is closed without reaching the server. Health
//! checks with `check-send-proxy` send the header HAProxy sends.
//! Validated against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use support::*;

/// Accepts one connection on `l` and returns what it received until
/// `enough` says it has all it needs (or the peer closed).
fn receive(l: &TcpListener, enough: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let (mut s, _) = l.accept().expect("accept");
    s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !enough(&got) {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    got
}

fn head() -> String {
    format!(
        "defaults\n    timeout connect {}\n    timeout client {}\n    timeout server {}\n",
        cfg_time(Duration::from_secs(5)),
        cfg_time(Duration::from_secs(5)),
        cfg_time(Duration::from_secs(5)),
    )
}

fn has(data: &[u8], what: &[u8]) -> bool {
    data.windows(what.len()).any(|w| w == what)
}

#[test]
fn send_proxy_v1_and_v2_carry_the_client() {
    let (v1, v2) = (free_port(), free_port());
    let srv1 = TcpListener::bind("127.0.0.1:0").expect("bind");
    let srv2 = TcpListener::bind("127.0.0.1:0").expect("bind");
    let cfg = format!(
        "{}listen one\n    mode tcp\n    bind 127.0.0.1:{v1}\n    server s 127.0.0.1:{} send-proxy\n\
         listen two\n    mode tcp\n    bind 127.0.0.1:{v2}\n    server s 127.0.0.1:{} send-proxy-v2\n",
        head(),
        srv1.local_addr().expect("addr").port(),
        srv2.local_addr().expect("addr").port(),
    );
    let _proxy = Proxy::start(&cfg);
    let mut c = TcpStream::connect(("127.0.0.1", v1)).expect("connect");
    c.write_all(b"hello").expect("write");
    let got = receive(&srv1, |d| has(d, b"hello"));
    let port = c.local_addr().expect("addr").port();
    let want = format!("PROXY TCP4 127.0.0.1 127.0.0.1 {port} {v1}\r\nhello");
    assert_eq!(String::from_utf8_lossy(&got), want);

    let mut c = TcpStream::connect(("127.0.0.1", v2)).expect("connect");
    c.write_all(b"hello").expect("write");
    let got = receive(&srv2, |d| has(d, b"hello"));
    let port = c.local_addr().expect("addr").port();
    let mut want = b"\r\n\r\n\0\r\nQUIT\n\x21\x11".to_vec();
    assert!(got.starts_with(&want), "v2 signature, PROXY command, TCP4: {got:?}");
    let len = u16::from_be_bytes([got[14], got[15]]) as usize;
    want.extend_from_slice(&(len as u16).to_be_bytes());
    let addrs = &got[16..28];
    assert_eq!(&addrs[..8], &[127, 0, 0, 1, 127, 0, 0, 1]);
    assert_eq!(u16::from_be_bytes([addrs[8], addrs[9]]), port);
    assert_eq!(u16::from_be_bytes([addrs[10], addrs[11]]), v2);
    assert_eq!(&got[16 + len..], b"hello", "the data follows the header and its TLVs");
}

#[test]
fn accept_proxy_and_expect_proxy_set_the_source() {
    let (fe_bind, fe_rule) = (free_port(), free_port());
    let srv = TcpListener::bind("127.0.0.1:0").expect("bind");
    let sp = srv.local_addr().expect("addr").port();
    let cfg = format!(
        "{}frontend fb\n    mode http\n    option forwardfor\n    bind 127.0.0.1:{fe_bind} accept-proxy\n    default_backend be\n\
         frontend fr\n    mode http\n    option forwardfor\n    bind 127.0.0.1:{fe_rule}\n\
         \x20   tcp-request connection expect-proxy layer4 if {{ src 127.0.0.0/8 }}\n    default_backend be\n\
         backend be\n    mode http\n    server s 127.0.0.1:{sp}\n",
        head()
    );
    let _proxy = Proxy::start(&cfg);
    let req = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    // v1 on the bind option, v2 on the rule.
    let mut c = TcpStream::connect(("127.0.0.1", fe_bind)).expect("connect");
    let mut data = b"PROXY TCP4 192.0.2.7 198.51.100.1 4000 80\r\n".to_vec();
    data.extend_from_slice(req);
    c.write_all(&data).expect("write");
    let got = receive(&srv, |d| has(d, b"\r\n\r\n"));
    assert!(has(&got, b"x-forwarded-for: 192.0.2.7\r\n"), "{}", String::from_utf8_lossy(&got));

    let mut c = TcpStream::connect(("127.0.0.1", fe_rule)).expect("connect");
    let mut data = b"\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c".to_vec();
    data.extend_from_slice(&[203, 0, 113, 9, 10, 0, 0, 1, 0x1f, 0x90, 0, 80]);
    data.extend_from_slice(req);
    c.write_all(&data).expect("write");
    let got = receive(&srv, |d| has(d, b"\r\n\r\n"));
    assert!(has(&got, b"x-forwarded-for: 203.0.113.9\r\n"), "{}", String::from_utf8_lossy(&got));

    // No header: the connection closes, nothing reaches the server.
    let mut c = TcpStream::connect(("127.0.0.1", fe_bind)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    c.write_all(req).expect("write");
    let mut buf = [0u8; 256];
    let n = c.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "closed without an answer: {:?}", String::from_utf8_lossy(&buf[..n]));
    srv.set_nonblocking(true).expect("nonblocking");
    assert!(srv.accept().is_err(), "no connection reached the server");
}

#[test]
fn proxy_v2_unique_id_and_authority_tlvs_are_fetched() {
    // reg-tests/stream/unique-id-from-proxy.vtc: the PP2_TYPE_UNIQUE_ID TLV
    // read back with `fc_pp_unique_id`, here beside PP2_TYPE_AUTHORITY
    // (`fc_pp_authority`) and a NOOP TLV that is skipped. A header whose TLV
    // runs past its length is refused like any invalid header.
    let port = free_port();
    let cfg = format!(
        "{}frontend echo\n    mode http\n    bind 127.0.0.1:{port} accept-proxy\n\
         \x20   http-after-response set-header echo %[fc_pp_unique_id,hex]\n\
         \x20   http-after-response set-header authority %[fc_pp_authority]\n\
         \x20   http-request return status 200\n",
        head()
    );
    let _proxy = Proxy::start(&cfg);
    let v2 = |tlvs: &[u8]| {
        let mut h = b"\r\n\r\n\0\r\nQUIT\n\x21\x11".to_vec();
        h.extend_from_slice(&(12 + tlvs.len() as u16).to_be_bytes());
        h.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 1, 0, 42, 5, 57]);
        h.extend_from_slice(tlvs);
        h
    };
    let ask = |header: Vec<u8>| {
        let mut c = HttpConn::connect(port);
        c.send(&header).expect("send the header");
        c.request(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    };
    let r = ask(v2(b"\x04\x00\x02ab\x05\x00\x0512345\x02\x00\x09a.example")).expect("answered");
    assert_eq!(r.status, 200, "{}", r.raw_text());
    assert_eq!(r.header("echo"), Some("3132333435"));
    assert_eq!(r.header("authority"), Some("a.example"));
    let r = ask(v2(b"")).expect("answered");
    assert_eq!(r.header("echo"), Some(""), "no TLV: the fetch gives nothing");
    assert!(ask(v2(b"\x05\x00\x09123")).is_err(), "a TLV longer than the header: closed unanswered");
}

/// `check-send-proxy`: a health check starts with a PROXY header as
/// HAProxy 2.6 writes it. The bug story: strata's v1 check header said
/// `PROXY UNKNOWN` where HAProxy names the check connection's own
/// addresses (`PROXY TCP4 <its address> <the server's> <its port> <the
/// server's port>`), so a server logging or filtering on them saw none;
/// v2 is the LOCAL command on both. Same bytes from HAProxy 2.6.12.
#[test]
fn check_send_proxy_names_the_check_connections_addresses() {
    for (opts, v2) in [("check-send-proxy", false), ("send-proxy-v2 check-send-proxy", true)] {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let cfg = format!(
            "{}frontend f\n    mode tcp\n    bind 127.0.0.1:{}\n    default_backend b\n\
             backend b\n    mode tcp\n    server s1 127.0.0.1:{port} check inter 200ms {opts}\n",
            head(),
            free_port()
        );
        let _p = Proxy::start(&cfg);
        let (mut s, peer) = l.accept().expect("a check connects");
        s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        let mut got = Vec::new();
        let mut buf = [0u8; 256];
        let want_len = if v2 { 16 } else { usize::MAX };
        while got.len() < want_len && !got.ends_with(b"\r\n") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        if v2 {
            let mut local = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
            local.extend_from_slice(&[0x20, 0x00, 0, 0]);
            assert_eq!(got, local, "{opts}");
        } else {
            let want = format!("PROXY TCP4 127.0.0.1 127.0.0.1 {} {port}\r\n", peer.port());
            assert_eq!(String::from_utf8_lossy(&got), want, "{opts}");
        }
    }
}
