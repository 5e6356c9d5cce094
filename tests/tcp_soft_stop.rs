//! Signals: SIGUSR1 is a soft stop (close the listeners, finish what is in
//! flight, exit 0 by itself); SIGTERM stops at once, in-flight or not.
//! Both hold for HAProxy 2.6.

mod support;

use std::io::Write;
use std::process::ExitStatus;
use std::time::Duration;

use support::*;

fn config(fe_port: u16, server_port: u16) -> String {
    format!(
        "{}\
         frontend fe\n    bind 127.0.0.1:{fe_port}\n    default_backend be\n\
         backend be\n    server s1 127.0.0.1:{server_port}\n",
        tcp_defaults(100, Duration::from_secs(1), Duration::from_secs(10), Duration::from_secs(10))
    )
}

/// What a new connection attempt to a stopping listener got.
#[derive(Debug)]
enum Probe {
    Refused,      // connect failed
    ClosedAtOnce, // accepted (or queued) then closed without data
    Served,       // data came: the listener still works
    Hung,         // neither within the wait
}

fn probe(port: u16) -> Probe {
    let Ok(mut c) = try_connect(port) else {
        return Probe::Refused;
    };
    match expect_closed_within(&mut c, ms(1_000)) {
        Closed::Eof(_) | Closed::Reset(_) => Probe::ClosedAtOnce,
        Closed::Data(_) => Probe::Served,
        Closed::StillOpen => Probe::Hung,
    }
}

const MIB: usize = 1024 * 1024;
const HALF: usize = MIB / 2;
const CLIENT_SEED: u64 = 0xC11E_0002;
const UPLOAD: usize = 64 * 1024;

/// Everything observed around a soft stop in the middle of a transfer.
struct SoftStop {
    probes: Vec<Probe>,                   // new connections tried after SIGUSR1, last one final
    alive_after_probes: bool,             // process still running while the transfer is unfinished
    client_got: std::io::Result<Vec<u8>>, // the whole server stream, read to EOF
    server_got: Option<Vec<u8>>,          // what the server received on that connection
    exit: Option<ExitStatus>,             // how the process ended by itself
}

/// The server sends half of 1 MiB then pauses (a gate the test holds). The
/// client reads that half, the test sends SIGUSR1, probes the listener until
/// it no longer serves, sends an upload and half-closes, opens the gate, and
/// reads the rest to EOF. Then the process should exit by itself.
fn soft_stop_mid_transfer() -> SoftStop {
    let server = SinkSource::start_paused(MIB, Some(HALF));
    let port = free_port();
    let mut proxy = Proxy::start(&config(port, server.port()));
    let mut c = connect(port);
    let mut client_got =
        read_exact_with_timeout(&mut c, HALF, ms(10_000)).expect("first half before the signal");

    proxy.signal("USR1");
    let mut probes = Vec::new();
    wait_until(ms(10_000), || {
        probes.push(probe(port));
        matches!(probes.last(), Some(Probe::Refused | Probe::ClosedAtOnce))
    });
    let alive_after_probes = proxy.try_exit().is_none();

    c.write_all(&pattern(CLIENT_SEED, UPLOAD)).expect("upload after the signal");
    shutdown_write(&c).expect("client shutdown(Write)");
    server.release();
    let rest = read_to_end_with_timeout(&mut c, ms(10_000));
    let client_got = rest.map(|r| {
        client_got.extend_from_slice(&r);
        client_got
    });
    // The probes that were served (before the signal took effect) also
    // finish on the server; ours is the one that received the upload.
    let ours = |all: Vec<Vec<u8>>| all.into_iter().find(|got| got.len() == UPLOAD);
    wait_until(ms(10_000), || ours(server.received()).is_some());
    let server_got = ours(server.received());
    drop(c);
    let exit = proxy.wait_exit(ms(10_000));
    SoftStop { probes, alive_after_probes, client_got, server_got, exit }
}

#[test]
fn sigusr1_closes_the_listener_finishes_the_transfer_then_exits_0() {
    let r = soft_stop_mid_transfer();
    assert!(
        matches!(r.probes.last(), Some(Probe::Refused | Probe::ClosedAtOnce)),
        "new connections still served after SIGUSR1: {:?}",
        r.probes
    );
    assert!(r.alive_after_probes, "the process must wait for the transfer in flight");
    let got = r.client_got.expect("the rest of the transfer, then EOF");
    assert_eq!(got.len(), MIB);
    assert_eq!(first_difference(&got, &pattern(SOURCE_SEED, MIB)), None, "server → client stream");
    let up = r.server_got.expect("server received the upload sent after the signal");
    assert_eq!(first_difference(&up, &pattern(CLIENT_SEED, UPLOAD)), None, "client → server stream");
    let exit = r.exit.expect("the process exits by itself once the transfer ended");
    assert!(exit.success(), "soft stop exits 0, got {exit}");
}

/// Observed around a SIGTERM with a connection open and mid-conversation.
struct HardStop {
    exit: Option<ExitStatus>, // the process ended (how) within the bound
    client: Closed,           // what the open client connection saw
    refused_after: bool,      // a new connection to the frontend port is refused
}

fn sigterm_with_an_open_connection() -> HardStop {
    let server = Backend::hello(b"hello\n");
    let port = free_port();
    let mut proxy = Proxy::start(&config(port, server.port()));
    let mut c = connect(port);
    read_exact_with_timeout(&mut c, 6, ms(10_000)).expect("greeting: connection established end to end");
    proxy.signal("TERM");
    let exit = proxy.wait_exit(ms(10_000));
    let client = expect_closed_within(&mut c, ms(10_000));
    HardStop { exit, client, refused_after: try_connect(port).is_err() }
}

#[test]
fn sigterm_stops_at_once_despite_an_open_connection() {
    let r = sigterm_with_an_open_connection();
    assert!(r.exit.is_some(), "process still running after SIGTERM");
    assert!(
        matches!(r.client, Closed::Eof(_) | Closed::Reset(_)),
        "client connection not closed: {:?}",
        r.client
    );
    assert!(r.refused_after, "frontend port still accepts connections");
}
