//! Ports on 127.0.0.1 for the proxy's own `bind` lines and for addresses
//! that must refuse connections.
//!
//! A port picked by binding port 0 is an ephemeral one: between the moment
//! a test reads it and the moment the proxy binds it, a test backend's own
//! `bind(0)` or any outgoing connection (as its source port) may take it,
//! and the proxy then fails to start ("Address already in use"), which was
//! seen in parallel tests; and a connect to a closed port inside that range
//! may pick the same port as its source and connect to itself (TCP
//! simultaneous open), which the soak's 200,000 connects would eventually
//! do. So the ports come from just below the kernel's
//! ephemeral range, where neither happens, and each test binary hands out
//! each port once (test binaries run one after another).

use std::net::{Ipv4Addr, TcpListener};
use std::sync::atomic::{AtomicU32, Ordering};

/// How many ports below the ephemeral range the tests pick from.
const SPAN: u32 = 10_000;

/// Ports handed out so far by this test binary.
static HANDED_OUT: AtomicU32 = AtomicU32::new(0);

/// The first port of the kernel's ephemeral range (32768 unless the machine
/// changed it).
fn ephemeral_low() -> Option<u32> {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    range.split_whitespace().next()?.parse().ok()
}

/// A port no other test of this binary was given and that was free when
/// picked. Where the ephemeral range leaves no room below it, falls back
/// to an ephemeral port (`bind` to port 0).
pub fn free_port() -> u16 {
    let Some(low) = ephemeral_low().filter(|low| (1024 + SPAN..=65_536).contains(low)) else {
        let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        return l.local_addr().expect("local_addr").port();
    };
    // Start somewhere that depends on the process, so that two test
    // binaries run at once (by hand) rarely walk the same ports.
    let start = std::process::id().wrapping_mul(7919) % SPAN;
    loop {
        let n = HANDED_OUT.fetch_add(1, Ordering::Relaxed);
        assert!(n < SPAN, "every test port below the ephemeral range is used");
        let port = (low - SPAN + (start + n) % SPAN) as u16;
        // Free now (nothing listens, no socket holds it): ours from here on.
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
}

/// A port on which nothing listens (for "connection refused" servers).
/// Same as [`free_port`]; the name says what the test means.
pub fn closed_port() -> u16 {
    free_port()
}
