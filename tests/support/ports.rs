//! Ephemeral ports on 127.0.0.1 for the proxy's own `bind` lines and for
//! addresses that must refuse connections.

use std::net::{Ipv4Addr, TcpListener};

/// A port that was free a moment ago: bind 127.0.0.1:0, read the port,
/// drop the socket. Racy by nature but the kernel hands out ephemeral
/// ports round-robin, so a reuse within one test run is unlikely.
pub fn free_port() -> u16 {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    l.local_addr().expect("local_addr").port()
}

/// A port on which nothing listens (for "connection refused" servers).
/// Same as [`free_port`]; the name says what the test means.
pub fn closed_port() -> u16 {
    free_port()
}
