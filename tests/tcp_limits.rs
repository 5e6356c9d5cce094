//! `maxconn` on a frontend and in `global`: the connection beyond the limit
//! waits in the kernel's accept queue (it connects, but nothing answers)
//! until a slot frees, then it is served. Holds for HAProxy 2.6.

mod support;

use std::net::TcpStream;
use std::time::Duration;

use support::*;

/// Where the limit is written.
#[derive(Clone, Copy)]
enum Limit {
    Frontend, // `maxconn 2` in the frontend, global maxconn 100
    Global,   // `global maxconn 2`
}

fn config(limit: Limit, fe_port: u16, server_port: u16) -> String {
    let (global, frontend) = match limit {
        Limit::Frontend => (100, "    maxconn 2\n"),
        Limit::Global => (2, ""),
    };
    format!(
        "{}\
         frontend fe\n    bind 127.0.0.1:{fe_port}\n{frontend}    default_backend be\n\
         backend be\n    server s1 127.0.0.1:{server_port}\n",
        tcp_defaults(global, Duration::from_secs(1), Duration::from_secs(10), Duration::from_secs(10))
    )
}

/// What the third connection saw.
struct Outcome {
    first_two: [std::io::Result<Vec<u8>>; 2], // echo replies on the first two
    third_while_full: std::io::Result<Vec<u8>>, // what came within the wait while 2 were open
    third_after_close: std::io::Result<Vec<u8>>, // its echo once one of the two closed
    accepted_while_full: usize,               // backend connections while full
}

fn over_the_limit(limit: Limit) -> Outcome {
    let echo = Backend::echo();
    let port = free_port();
    let _proxy = Proxy::start(&config(limit, port, echo.port()));
    let mut a = connect(port);
    let mut b = connect(port);
    let first_two = [round_trip(&mut a, b"first", ms(10_000)), round_trip(&mut b, b"second", ms(10_000))];
    let mut third: TcpStream = connect(port); // the kernel completes the handshake
    use std::io::Write;
    third.write_all(b"third").expect("write on the queued connection");
    // A negative observation needs a wait; it only has to be long enough to
    // catch a proxy that ignores the limit, not to prove a speed.
    let third_while_full = read_for(&mut third, ms(500));
    let accepted_while_full = echo.accepted();
    drop(a);
    let third_after_close = read_exact_with_timeout(&mut third, 5, ms(10_000));
    Outcome { first_two, third_while_full, third_after_close, accepted_while_full }
}

fn assert_limit(o: Outcome) {
    let [a, b] = o.first_two;
    assert_eq!(a.expect("first connection echo"), b"first");
    assert_eq!(b.expect("second connection echo"), b"second");
    let while_full = o.third_while_full.expect("third connection stays open while queued");
    assert!(
        while_full.is_empty(),
        "third connection served beyond maxconn: {:?}",
        String::from_utf8_lossy(&while_full)
    );
    assert_eq!(o.accepted_while_full, 2, "backend connections while at the limit");
    assert_eq!(o.third_after_close.expect("third connection served once a slot freed"), b"third");
}

#[test]
fn frontend_maxconn_queues_the_connection_beyond_the_limit() {
    assert_limit(over_the_limit(Limit::Frontend));
}

#[test]
fn global_maxconn_queues_the_connection_beyond_the_limit() {
    assert_limit(over_the_limit(Limit::Global));
}
