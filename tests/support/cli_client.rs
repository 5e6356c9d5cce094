//! A runtime API (stats socket) client: one command per connection, as
//! `echo CMD | socat stdio tcp4-connect:...` does.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Sends `cmd` to the stats socket on `port` and returns the whole reply
/// (the server closes after it). Retries the connect briefly: the socket
/// may still be starting.
pub fn cli(port: u16, cmd: &str) -> String {
    let mut last = None;
    for _ in 0..50 {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(mut s) => {
                s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
                s.write_all(format!("{cmd}\n").as_bytes()).expect("send command");
                let mut out = Vec::new();
                s.read_to_end(&mut out).expect("read reply");
                return String::from_utf8_lossy(&out).into_owned();
            }
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("stats socket on port {port} unreachable: {last:?}");
}

/// `show info` as a map of field → value.
pub fn info(port: u16) -> HashMap<String, String> {
    cli(port, "show info")
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}

/// One numeric `show info` field.
pub fn info_u64(port: u16, field: &str) -> u64 {
    info(port).get(field).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no numeric {field}"))
}

/// How long a CLI exchange may take before a test gives up (scaled).
const CLI_WAIT_MS: u64 = 10_000;

/// `global` lines declaring three stats sockets on 127.0.0.1, one per
/// level, in the order `admin`, `operator`, `user`, and a scaled
/// `stats timeout` of 30 s.
pub fn stats_sockets(admin: u16, operator: u16, user: u16) -> String {
    format!(
        "    stats socket ipv4@127.0.0.1:{admin} level admin\n\
         \x20   stats socket ipv4@127.0.0.1:{operator} level operator\n\
         \x20   stats socket ipv4@127.0.0.1:{user} level user\n\
         \x20   stats timeout {}\n",
        super::time::cfg_time(Duration::from_secs(30))
    )
}

/// Sends raw `bytes` on a fresh connection and returns everything received
/// until the server closes (a reset ends the reply too). Panics if the
/// connection is still open after a generous bound: every input must end
/// with a reply and a close, or a close.
pub fn cli_raw(port: u16, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the stats socket");
    // Write from another thread: the server may stop reading (and close)
    // before a large input is all sent.
    let mut w = s.try_clone().expect("clone");
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = w.write_all(&input);
    });
    let deadline = std::time::Instant::now() + super::time::ms(CLI_WAIT_MS);
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        assert!(!left.is_zero(), "stats socket still open after {CLI_WAIT_MS} ms; got {out:?}");
        s.set_read_timeout(Some(left)).expect("timeout");
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => break, // reset
        }
    }
    let _ = writer.join();
    out
}

/// An interactive (`prompt`) conversation on one connection.
pub struct CliSession {
    s: TcpStream,
}

impl CliSession {
    pub fn connect(port: u16) -> CliSession {
        CliSession { s: TcpStream::connect(("127.0.0.1", port)).expect("connect to the stats socket") }
    }

    /// Sends `bytes`, then reads until the received bytes end with
    /// `suffix` or the server closes. Returns (bytes, closed).
    pub fn exchange(&mut self, bytes: &[u8], suffix: &[u8]) -> (Vec<u8>, bool) {
        self.s.write_all(bytes).expect("send to the stats socket");
        let deadline = std::time::Instant::now() + super::time::ms(CLI_WAIT_MS);
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            if !suffix.is_empty() && out.ends_with(suffix) {
                return (out, false);
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            assert!(!left.is_zero(), "no reply ending in {suffix:?} after {bytes:?}; got {out:?}");
            self.s.set_read_timeout(Some(left)).expect("timeout");
            match self.s.read(&mut buf) {
                Ok(0) => return (out, true),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                Err(_) => return (out, true),
            }
        }
    }
}

/// Asserts that the stats port on `port` still answers `show info` on a
/// fresh connection, after whatever `after` describes was done to it.
pub fn assert_still_answers(port: u16, after: &str) {
    let reply = cli(port, "show info");
    assert!(reply.contains("\nPid: ") && reply.ends_with("\n\n"), "after {after}: show info gave {reply:?}");
}
