//! HTTP sample fetches in a `mode tcp` frontend's `tcp-request content`
//! rules: HAProxy parses the buffered bytes as an HTTP request for them
//! (`track-sc0 url`, `hdr(host)`, `method`...), and a rule whose fetch
//! finds the request head still incomplete waits for more bytes, up to
//! `tcp-request inspect-delay`, instead of running with no sample. Also a
//! `peers` section whose local listener is inherited (`bind "fd@N"`, as
//! HAProxy's own peers regression tests start it).
//!
//! Validated against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use socket2::SockRef;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::Duration;
use support::peers::FakePeer;
use support::stick::{Exp, expect_entry, show_table};
use support::{Proxy, cfg_time, cli, free_port, ms};

fn head(stats: u16) -> String {
    format!(
        "global\n    stats socket 127.0.0.1:{stats} level admin\n\
         defaults\n    timeout connect {}\n    timeout client {}\n    timeout server {}\n",
        cfg_time(ms(1000)),
        cfg_time(ms(5000)),
        cfg_time(ms(5000))
    )
}

/// Sends `parts` with a pause between them, then reads until the close.
fn send_in_parts(port: u16, parts: &[&[u8]]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(ms(10_000))).expect("timeout");
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(Duration::from_millis(150));
        }
        s.write_all(p).expect("send");
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

#[test]
fn tcp_content_rules_track_http_fetches_of_the_buffered_request() {
    let (fe, stats) = (free_port(), free_port());
    let cfg = format!(
        "{}backend stkt\n    stick-table type string size 1m store gpc0,conn_cur,conn_cnt\n\
         backend byhost\n    stick-table type string size 1m store gpc0\n\
         frontend fe\n    bind 127.0.0.1:{fe}\n    tcp-request inspect-delay {}\n    \
         tcp-request content track-sc0 url table stkt\n    \
         tcp-request content track-sc1 hdr(host) table byhost if {{ method GET }}\n    \
         tcp-request content sc-inc-gpc0(0)\n    tcp-request content sc-inc-gpc0(1)\n",
        head(stats),
        cfg_time(ms(3000))
    );
    let _proxy = Proxy::start(&cfg);
    // The whole head at once; then a head cut in the middle of its
    // request line, whose rules must wait for the rest.
    send_in_parts(fe, &[b"GET /whole HTTP/1.1\r\nhost: a.example\r\n\r\n"]);
    send_in_parts(fe, &[b"GET /cu", b"t HTTP/1.1\r\nhost: b.exa", b"mple\r\n\r\n"]);
    // Not HTTP: no sample, nothing tracked (and no wait past the close).
    send_in_parts(fe, &[b"\x16\x03\x01 not http\r\n\r\n"]);
    expect_entry(stats, "stkt", "/whole", "gpc0=1 conn_cur=0 conn_cnt=1", Exp::Zero, "whole head");
    expect_entry(stats, "stkt", "/cut", "gpc0=1 conn_cur=0 conn_cnt=1", Exp::Zero, "head in three parts");
    expect_entry(stats, "byhost", "a.example", "gpc0=1", Exp::Zero, "host of the whole head");
    expect_entry(stats, "byhost", "b.example", "gpc0=1", Exp::Zero, "host of the cut head");
    assert_eq!(show_table(stats, "stkt").used, Some(2), "{}", cli(stats, "show table stkt"));
}

#[test]
fn a_peers_section_listens_on_an_inherited_socket() {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    SockRef::from(&l).set_cloexec(false).expect("clear FD_CLOEXEC");
    let (port, stats) = (l.local_addr().expect("addr").port(), free_port());
    let other = free_port();
    let cfg = format!(
        "{}backend stkt\n    stick-table type string size 1m store gpc0 peers mesh\n\
         peers mesh\n    bind \"fd@${{A}}\"\n    server A\n    server B 127.0.0.1:{other}\n",
        head(stats)
    );
    let proxy = Proxy::start_with_env(&cfg, &["-L", "A"], &[("A", l.as_raw_fd().to_string())]);
    // Peer B says hello on the inherited socket and is accepted (200).
    let mut b = FakePeer::connect(port, "HAProxyS 2.1\nA\nB 1 1\n");
    assert_eq!(b.status(ms(5000)), "200", "handshake on the inherited listener");
    assert!(proxy.is_listening(port), "adopted, not bound again");
}
