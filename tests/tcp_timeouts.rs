//! `timeout client` closes an idle client connection: not before the
//! timeout (loosely), and at some point (generously). Holds for HAProxy 2.6.

mod support;

use std::time::{Duration, Instant};

use support::*;

const CLIENT_TIMEOUT: Duration = Duration::from_millis(300);

fn config(fe_port: u16, server_port: u16) -> String {
    format!(
        "{}\
         frontend fe\n    bind 127.0.0.1:{fe_port}\n    default_backend be\n\
         backend be\n    server s1 127.0.0.1:{server_port}\n",
        tcp_defaults(100, Duration::from_secs(1), CLIENT_TIMEOUT, Duration::from_secs(10))
    )
}

/// One echo round trip (so the connection is established end to end and
/// the proxy's last activity is behind us), then idle: how and when (counted
/// from receiving the echo) the connection ended.
fn idle_client_connection() -> Closed {
    let echo = Backend::echo();
    let port = free_port();
    let _proxy = Proxy::start(&config(port, echo.port()));
    let mut c = connect(port);
    round_trip(&mut c, b"ping", ms(10_000)).expect("echo before going idle");
    let idle_since = Instant::now();
    match expect_closed_within(&mut c, ms(10_000)) {
        Closed::Eof(_) => Closed::Eof(idle_since.elapsed()),
        Closed::Reset(_) => Closed::Reset(idle_since.elapsed()),
        other => other,
    }
}

#[test]
fn timeout_client_closes_an_idle_connection() {
    let closed = idle_client_connection();
    let after = closed.after().unwrap_or_else(|| panic!("connection not closed: {closed:?}"));
    assert!(
        after >= ms(250),
        "closed after {after:?}, before the {:?} client timeout",
        scaled(CLIENT_TIMEOUT)
    );
}
