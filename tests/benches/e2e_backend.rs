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
    hup: bool,          // the peer's FIN was reported: read until it is seen
}

/// The value of header `name` (lower case, with its colon) in `head`, if
/// present: found without allocating, as the backend must cost little.
fn header<'a>(head: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    head.split(|&b| b == b'\n').find_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let value = line.get(name.len()..)?;
        line[..name.len()].eq_ignore_ascii_case(name).then(|| value.trim_ascii())
    })
}

fn content_length(head: &[u8]) -> usize {
    let value = header(head, b"content-length:").unwrap_or_default();
    std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn asks_close(head: &[u8]) -> bool {
    header(head, b"connection:").is_some_and(|v| v.windows(5).any(|w| w.eq_ignore_ascii_case(b"close")))
}

impl Conn {
    /// Reads what arrived and writes what can be written; false once the
    /// connection is finished. `hup`: the event reported the peer's FIN.
    fn drive(&mut self, big: &'static [u8], buf: &mut [u8], hup: bool) -> bool {
        self.hup |= hup;
        // A short read emptied the socket: bytes arriving later bring a new
        // event, so no `recv` that would only say EAGAIN (unless the FIN
        // was reported: it is read next, and no event follows it).
        let mut drained = false;
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
            if drained {
                return true;
            }
            match self.sock.read(buf) {
                Ok(0) => return false,
                Ok(n) => {
                    self.input.extend_from_slice(&buf[..n]);
                    drained = n < buf.len() && !self.hup;
                }
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
        let head = &self.input[..end + 4];
        self.body_left = content_length(head);
        self.close_after = asks_close(head);
        let is_big = head.starts_with(b"GET /1m");
        self.input.drain(..end + 4);
        self.out = match (is_big, self.close_after) {
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
                    let c = Conn {
                        sock,
                        input: Vec::new(),
                        body_left: 0,
                        out: &[],
                        close_after: false,
                        hup: false,
                    };
                    conns[slot] = Some(c);
                }
                continue;
            }
            let slot = ev.token().0;
            let alive = conns
                .get_mut(slot)
                .and_then(Option::as_mut)
                .is_some_and(|c| c.drive(big, &mut buf, ev.is_read_closed()));
            if !alive && let Some(c) = conns.get_mut(slot).and_then(Option::take) {
                drop(c); // closing removes it from the poll set
                free.push(slot);
            }
        }
    }
}
