//! A ring's `server` line: a thread that connects to the server and sends
//! it the ring's events, from the oldest still held, one per line
//! (`log-proto legacy`) or octet-counted (`log-proto octet-count`, RFC
//! 6587 `LEN SP EVENT`), reconnecting when the connection fails or
//! closes and resuming after the last event sent.

use crate::cfg::syslog::RingServer;
use crate::core::ring::Ring;
use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

/// Wait between two connection attempts.
const RETRY: Duration = Duration::from_millis(500);

/// Starts the forwarder of `server`.
pub(super) fn spawn(ring: Arc<Ring>, server: RingServer, connect: Option<Duration>, write: Option<Duration>) {
    let name = format!("strata-ring-{}", server.name);
    let _ = std::thread::Builder::new().name(name).spawn(move || run(&ring, &server, connect, write));
}

fn run(ring: &Ring, server: &RingServer, connect: Option<Duration>, write: Option<Duration>) {
    let mut from = 0; // the oldest event held
    loop {
        let sock = match connect {
            Some(t) => TcpStream::connect_timeout(&server.addr, t),
            None => TcpStream::connect(server.addr),
        };
        let Ok(mut sock) = sock else {
            std::thread::sleep(RETRY);
            continue;
        };
        let _ = sock.set_nodelay(true);
        let _ = sock.set_write_timeout(write);
        let mut frames = Vec::new();
        loop {
            let (events, next) = ring.wait_from(from, Duration::from_secs(1));
            frames.clear();
            for e in &events {
                if server.octet_count {
                    frames.extend_from_slice(format!("{} ", e.len()).as_bytes());
                    frames.extend_from_slice(e);
                } else {
                    frames.extend_from_slice(e);
                    frames.push(b'\n');
                }
            }
            if !frames.is_empty() && sock.write_all(&frames).is_err() {
                break; // resend from `from` on the next connection
            }
            from = next;
        }
        std::thread::sleep(RETRY);
    }
}
