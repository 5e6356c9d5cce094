//! The e2e benchmark's backend (`tests/benches/e2e/run.sh` starts it):
//! a small, fast HTTP/1.1 keep-alive server on 127.0.0.1, one thread per
//! connection. `/` answers 5 bytes, `/1m` 1 MiB; a request body is read
//! and discarded. Usage: `e2e_backend PORT`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

const SMALL: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello";

fn big() -> Vec<u8> {
    let mut v =
        b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\nContent-Type: application/octet-stream\r\n\r\n"
            .to_vec();
    v.extend((0..1_048_576u32).map(|i| (i % 251) as u8));
    v
}

fn content_length(head: &[u8]) -> usize {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    text.lines()
        .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0)
}

fn serve(mut s: TcpStream, big: &[u8]) {
    let _ = s.set_nodelay(true);
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut body_left = 0usize;
    loop {
        let n = match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        loop {
            if body_left > 0 {
                let k = body_left.min(pending.len());
                pending.drain(..k);
                body_left -= k;
                if body_left > 0 {
                    break;
                }
            }
            let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") else { break };
            let head: Vec<u8> = pending.drain(..end + 4).collect();
            body_left = content_length(&head);
            let close = String::from_utf8_lossy(&head).to_ascii_lowercase().contains("connection: close");
            let reply = if head.starts_with(b"GET /1m") { big } else { SMALL };
            if s.write_all(reply).is_err() {
                return;
            }
            if close {
                return;
            }
        }
    }
}

fn main() {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).expect("usage: e2e_backend PORT");
    let l = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    let big: &'static [u8] = Box::leak(big().into_boxed_slice());
    for s in l.incoming().flatten() {
        std::thread::spawn(move || serve(s, big));
    }
}
