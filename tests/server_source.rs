//! `source ADDR[:PORT] [interface NAME]` in a backend: its server
//! connections are bound to that local address (and port) before they
//! connect, so the server sees them come from it; `usesrc` (transparent
//! proxying) is warned. Passes on HAProxy 2.6.12 too
//! (`STRATA_BIN=/usr/sbin/haproxy`) but the warning's text.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};

use support::time::ms;
use support::*;

/// The address the server sees a proxied connection come from, with
/// `lines` in the TCP backend.
fn seen_from(lines: &[&str]) -> SocketAddr {
    let server = TcpListener::bind("127.0.0.1:0").expect("server");
    let port = free_port();
    let mut cfg = format!(
        "defaults\n    mode tcp\n    timeout client 5s\n    timeout server 5s\n    timeout connect 1s\n\
         frontend f\n    bind 127.0.0.1:{port}\n    default_backend b\nbackend b\n"
    );
    for l in lines {
        cfg.push_str(&format!("    {l}\n"));
    }
    cfg.push_str(&format!("    server s1 127.0.0.1:{}\n", server.local_addr().expect("addr").port()));
    let _p = Proxy::start(&cfg);
    let mut c = client::connect(port);
    c.write_all(b"ping").expect("send");
    server.set_nonblocking(false).expect("blocking");
    let (mut s, from) = server.accept().expect("the proxy connects");
    s.set_read_timeout(Some(ms(2000))).expect("timeout");
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).expect("the client's bytes");
    assert_eq!(&buf, b"ping");
    from
}

#[test]
fn source_binds_server_connections_to_its_address() {
    assert_eq!(seen_from(&[]).ip().to_string(), "127.0.0.1", "control");
    assert_eq!(seen_from(&["source 127.0.0.2"]).ip().to_string(), "127.0.0.2");
    let p = free_port();
    let from = seen_from(&[&format!("source 127.0.0.3:{p}")]);
    assert_eq!(from, format!("127.0.0.3:{p}").parse::<SocketAddr>().unwrap());
    assert_eq!(seen_from(&["source 127.0.0.4 interface lo"]).ip().to_string(), "127.0.0.4");
}

#[test]
fn usesrc_is_warned() {
    if under_haproxy() {
        return; // HAProxy obeys it (transparent proxying)
    }
    let port = free_port();
    let text = format!(
        "defaults\n    mode tcp\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n\
         frontend f\n    bind 127.0.0.1:{port}\n    default_backend b\n\
         backend b\n    source 0.0.0.0 usesrc clientip\n    server s1 127.0.0.1:1\n"
    );
    let (rc, _, err) = Proxy::check(&text);
    assert_eq!(rc, 0, "{err}");
    assert!(err.contains("proxy.cfg:10] : 'source ... usesrc clientip' has no effect in strata"), "{err}");
}
