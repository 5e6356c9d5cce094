//! The e2e benchmark's backend (`tests/benches/e2e/run.sh` starts it): a
//! small, fast HTTP/1.1 keep-alive server on 127.0.0.1, one thread and one
//! poll loop for every connection, so that a new connection costs an
//! `accept` and not a thread (the connection-per-request load would
//! otherwise measure thread creation). `/` answers 5 bytes, `/1m` 1 MiB; a
//! request body is read and discarded; `Connection: close` closes after
//! the answer. Usage: `e2e_backend PORT`.

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use std::io::{ErrorKind, Read, Write};

const SMALL: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello";
/// The small answer to a request that asked to close: it says so (RFC 9112
/// §9.6), so a client that reads it through a relay which does not add the
/// header itself (`relay_floor`) closes as it does through a proxy.
const SMALL_CLOSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nhello";
const LISTENER: Token = Token(usize::MAX);

fn big() -> &'static [u8] {
    let mut v =
        b"HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\nContent-Type: application/octet-stream\r\n\r\n"
            .to_vec();
    v.extend((0..1_048_576u32).map(|i| (i % 251) as u8));
    Box::leak(v.into_boxed_slice())
}

/// One client connection: what it sent and not yet handled, the body
/// bytes still to skip, the answer being written.
struct Conn {
    sock: TcpStream,
    input: Vec<u8>,
    body_left: usize,
    out: &'static [u8], // answer bytes not yet written
    close_after: bool,  // `Connection: close`: close once `out` is written
}

fn content_length(head: &[u8]) -> usize {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    text.lines()
        .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0)
}

impl Conn {
    /// Reads what arrived and writes what can be written; false once the
    /// connection is finished.
    fn drive(&mut self, big: &'static [u8], buf: &mut [u8]) -> bool {
        loop {
            if !self.flush() {
                return false;
            }
            if !self.out.is_empty() {
                return true; // wait for writability
            }
            if self.close_after {
                return false;
            }
            if self.answer_next(big) {
                continue;
            }
            match self.sock.read(buf) {
                Ok(0) => return false,
                Ok(n) => self.input.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }

    /// Writes as much of `out` as the socket takes; false on error.
    fn flush(&mut self) -> bool {
        while !self.out.is_empty() {
            match self.sock.write(self.out) {
                Ok(n) => self.out = &self.out[n..],
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }

    /// Consumes one complete request from `input`, if there is one, and
    /// queues its answer.
    fn answer_next(&mut self, big: &'static [u8]) -> bool {
        if self.body_left > 0 {
            let k = self.body_left.min(self.input.len());
            self.input.drain(..k);
            self.body_left -= k;
            if self.body_left > 0 {
                return false;
            }
        }
        let Some(end) = self.input.windows(4).position(|w| w == b"\r\n\r\n") else { return false };
        let head: Vec<u8> = self.input.drain(..end + 4).collect();
        self.body_left = content_length(&head);
        self.close_after = String::from_utf8_lossy(&head).to_ascii_lowercase().contains("connection: close");
        self.out = match (head.starts_with(b"GET /1m"), self.close_after) {
            (true, _) => big,
            (false, true) => SMALL_CLOSE,
            (false, false) => SMALL,
        };
        true
    }
}

fn main() {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).expect("usage: e2e_backend PORT");
    let mut listener = TcpListener::bind(([127, 0, 0, 1], port).into()).expect("bind");
    let big = big();
    let mut poll = Poll::new().expect("poll");
    poll.registry().register(&mut listener, LISTENER, Interest::READABLE).expect("register");
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if poll.poll(&mut events, None).is_err() {
            continue;
        }
        for ev in events.iter() {
            if ev.token() == LISTENER {
                while let Ok((mut sock, _)) = listener.accept() {
                    let _ = sock.set_nodelay(true);
                    let slot = free.pop().unwrap_or_else(|| {
                        conns.push(None);
                        conns.len() - 1
                    });
                    let interest = Interest::READABLE | Interest::WRITABLE;
                    if poll.registry().register(&mut sock, Token(slot), interest).is_err() {
                        free.push(slot);
                        continue;
                    }
                    let c = Conn { sock, input: Vec::new(), body_left: 0, out: &[], close_after: false };
                    conns[slot] = Some(c);
                }
                continue;
            }
            let slot = ev.token().0;
            let alive = conns.get_mut(slot).and_then(Option::as_mut).is_some_and(|c| c.drive(big, &mut buf));
            if !alive && let Some(c) = conns.get_mut(slot).and_then(Option::take) {
                drop(c); // closing removes it from the poll set
                free.push(slot);
            }
        }
    }
}
