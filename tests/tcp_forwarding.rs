//! TCP mode: bytes pass through unchanged, in both directions at once, and
//! a client's half-close reaches the server without cutting the way back.
//! All three scenarios hold for HAProxy 2.6 too (`STRATA_BIN=haproxy`).

mod support;

use std::io::Write;
use std::time::Duration;

use support::*;

/// frontend `fe` on `fe_port` → backend `be` with one server.
fn config(fe_port: u16, server_port: u16) -> String {
    format!(
        "{}\
         frontend fe\n    bind 127.0.0.1:{fe_port}\n    default_backend be\n\
         backend be\n    server s1 127.0.0.1:{server_port}\n",
        tcp_defaults(100, Duration::from_secs(1), Duration::from_secs(10), Duration::from_secs(10))
    )
}

/// What an echo session through the proxy gave back.
struct EchoSession {
    trips: Vec<(Vec<u8>, Vec<u8>)>, // per round trip: (sent, echoed back)
    accepted: usize,                // connections the backend saw
}

/// Several round trips of growing size on one connection.
fn echo_round_trips() -> EchoSession {
    let echo = Backend::echo();
    let port = free_port();
    let _proxy = Proxy::start(&config(port, echo.port()));
    let mut c = connect(port);
    let mut trips = Vec::new();
    for (i, len) in [1usize, 5, 100, 1000, 16 * 1024, 3, 60 * 1024].into_iter().enumerate() {
        let msg = pattern(i as u64, len);
        let got = round_trip(&mut c, &msg, ms(10_000)).unwrap_or_else(|e| panic!("round trip {i}: {e}"));
        trips.push((msg, got));
    }
    drop(c);
    EchoSession { trips, accepted: echo.accepted() }
}

#[test]
fn echo_several_round_trips_on_one_connection() {
    let s = echo_round_trips();
    for (i, (sent, got)) in s.trips.iter().enumerate() {
        assert_eq!(first_difference(sent, got), None, "round trip {i} ({} bytes)", sent.len());
    }
    assert_eq!(s.accepted, 1, "one client connection, one server connection");
}

const MIB: usize = 1024 * 1024;
const CLIENT_SEED: u64 = 0xC11E_0001;

/// What each side received in a simultaneous 1 MiB-each-way transfer.
struct BothWays {
    client_got: Vec<u8>,
    server_got: Vec<u8>,
}

/// The client writes 1 MiB (its own pattern) from a thread then half-closes,
/// while reading the server's 1 MiB to EOF; the server does the mirror image.
fn one_mib_each_way() -> BothWays {
    let server = SinkSource::start(MIB);
    let port = free_port();
    let _proxy = Proxy::start(&config(port, server.port()));
    let mut c = connect(port);
    let mut w = c.try_clone().expect("clone");
    let writer = std::thread::spawn(move || {
        let data = pattern(CLIENT_SEED, MIB);
        for chunk in data.chunks(8 * 1024) {
            w.write_all(chunk).expect("client write");
        }
        shutdown_write(&w).expect("client shutdown(Write)");
    });
    let client_got = read_to_end_with_timeout(&mut c, ms(30_000)).expect("client read to EOF");
    writer.join().expect("writer thread");
    let mut server_got = server.wait_received(1, ms(10_000)).expect("server saw EOF");
    BothWays { client_got, server_got: server_got.remove(0) }
}

#[test]
fn one_mib_each_way_at_the_same_time_arrives_exactly() {
    let r = one_mib_each_way();
    assert_eq!(r.client_got.len(), MIB, "client received");
    assert_eq!(first_difference(&r.client_got, &pattern(SOURCE_SEED, MIB)), None, "server → client stream");
    assert_eq!(r.server_got.len(), MIB, "server received");
    assert_eq!(first_difference(&r.server_got, &pattern(CLIENT_SEED, MIB)), None, "client → server stream");
}

const TRAILER: &[u8] = b"-- end of reply --";

/// The client sends a request then `shutdown(Write)`; the server answers
/// only once it sees that EOF. Returns everything the client then read up
/// to its own EOF.
fn half_close_reply(request: &[u8]) -> std::io::Result<Vec<u8>> {
    let server = Backend::collect_then_reply(TRAILER);
    let port = free_port();
    let _proxy = Proxy::start(&config(port, server.port()));
    let mut c = connect(port);
    c.write_all(request)?;
    shutdown_write(&c)?;
    read_to_end_with_timeout(&mut c, ms(10_000))
}

#[test]
fn half_close_forwards_eof_and_still_delivers_the_reply() {
    let request = pattern(7, 100_000);
    let got = half_close_reply(&request).expect("reply then EOF");
    let mut expected = request;
    expected.extend_from_slice(TRAILER);
    assert_eq!(got.len(), expected.len());
    assert_eq!(first_difference(&got, &expected), None);
}
