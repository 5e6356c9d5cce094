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
