//! A stream's server side: its own connection (TCP, HTTP/1), or one
//! stream of a shared HTTP/2 connection ([`H2Chan`]).
//!
//! Either way the stream writes an HTTP/1.1 request and reads an HTTP/1.1
//! response, so every rule, fetch and forwarding path stays the same code;
//! the HTTP/2 side converts (see `h2srv`). Only the variants' methods the
//! stream uses are here; splicing and tunnels exist only for `Plain`.

use super::h2srv::H2Chan;
use crate::core::buffer::Buffer;
use crate::l4_conn::{Conn, IoStep, Pipe};
use std::io;
use std::time::Instant;

/// The server side of one stream. Owned by the stream.
pub enum SrvConn {
    Plain(Conn), // a connection of its own
    H2(H2Chan),  // a stream of a shared HTTP/2 connection
}

impl SrvConn {
    /// The connection itself, when the stream has one of its own.
    pub fn plain(&self) -> Option<&Conn> {
        match self {
            SrvConn::Plain(c) => Some(c),
            SrvConn::H2(_) => None,
        }
    }

    pub fn plain_mut(&mut self) -> Option<&mut Conn> {
        match self {
            SrvConn::Plain(c) => Some(c),
            SrvConn::H2(_) => None,
        }
    }

    pub fn fill(&mut self, now: Instant) -> IoStep {
        match self {
            SrvConn::Plain(c) => c.fill(now),
            SrvConn::H2(h) => h.fill(now),
        }
    }

    /// Response bytes received and not yet forwarded.
    pub fn rx(&self) -> Option<&Buffer> {
        match self {
            SrvConn::Plain(c) => c.rx.as_ref(),
            SrvConn::H2(h) => h.rx.as_ref(),
        }
    }

    pub fn rx_slot(&mut self) -> &mut Option<Buffer> {
        match self {
            SrvConn::Plain(c) => &mut c.rx,
            SrvConn::H2(h) => &mut h.rx,
        }
    }

    pub fn pending(&self) -> usize {
        self.rx().map_or(0, Buffer::len)
    }

    pub fn rx_full(&self) -> bool {
        self.rx().is_some_and(Buffer::is_full)
    }

    pub fn send_from(&mut self, src: &mut Option<Buffer>, now: Instant) -> IoStep {
        match self {
            SrvConn::Plain(c) => c.send_from(src, now),
            SrvConn::H2(h) => h.send_prefix(src, usize::MAX, now),
        }
    }

    pub fn send_prefix(&mut self, src: &mut Option<Buffer>, max: usize, now: Instant) -> IoStep {
        match self {
            SrvConn::Plain(c) => c.send_prefix(src, max, now),
            SrvConn::H2(h) => h.send_prefix(src, max, now),
        }
    }

    pub fn send_bytes(&mut self, bytes: &[u8], now: Instant) -> IoStep {
        match self {
            SrvConn::Plain(c) => c.send_bytes(bytes, now),
            SrvConn::H2(h) => h.send(bytes, now),
        }
    }

    /// Whether the response body may be spliced from it (a plain socket).
    pub fn splices(&self) -> bool {
        self.plain().is_some_and(Conn::splices)
    }

    pub fn is_readable(&self) -> bool {
        self.plain().is_some_and(Conn::is_readable)
    }

    /// Only called when [`SrvConn::splices`].
    pub fn splice_in_max(&mut self, pipe: &mut Pipe, max: usize, now: Instant) -> IoStep {
        match self {
            SrvConn::Plain(c) => c.splice_in_max(pipe, max, now),
            SrvConn::H2(_) => IoStep::Blocked,
        }
    }

    pub fn read_closed(&self) -> bool {
        match self {
            SrvConn::Plain(c) => c.read_closed,
            SrvConn::H2(h) => h.read_closed,
        }
    }

    pub fn write_shut(&self) -> bool {
        match self {
            SrvConn::Plain(c) => c.write_shut,
            SrvConn::H2(h) => h.write_done(),
        }
    }

    pub fn fully_closed(&self) -> bool {
        self.read_closed() && self.write_shut()
    }

    /// Connect started (the connect timeout runs from it).
    pub fn since(&self) -> Instant {
        match self {
            SrvConn::Plain(c) => c.since,
            SrvConn::H2(h) => h.since,
        }
    }

    /// Last byte moved for this stream (the server timeout runs from it).
    pub fn last_io(&self) -> Instant {
        match self {
            SrvConn::Plain(c) => c.last_io,
            SrvConn::H2(h) => h.last_io,
        }
    }

    pub fn connecting(&self) -> bool {
        match self {
            SrvConn::Plain(c) => c.connecting,
            SrvConn::H2(h) => h.connecting(),
        }
    }

    pub fn finish_connect(&mut self, now: Instant) -> io::Result<bool> {
        match self {
            SrvConn::Plain(c) => c.finish_connect(now),
            SrvConn::H2(h) => h.finish_connect(now),
        }
    }

    /// Readiness for the stream's own socket; an HTTP/2 stream's events
    /// go to its shared connection instead.
    pub fn on_event(&mut self, ev: &mio::event::Event) {
        if let SrvConn::Plain(c) = self {
            c.on_event(ev);
        }
    }

    pub fn fd(&self) -> i32 {
        match self {
            SrvConn::Plain(c) => c.fd(),
            SrvConn::H2(h) => h.fd(),
        }
    }

    /// The server's address (`%si`/`%sp`).
    pub fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        match self {
            SrvConn::Plain(c) => c.peer_addr(),
            SrvConn::H2(h) => h.addrs().map(|a| a.0),
        }
    }

    /// Our address on the server connection (`%bi`/`%bp`).
    pub fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        match self {
            SrvConn::Plain(c) => c.local_addr(),
            SrvConn::H2(h) => h.addrs().map(|a| a.1),
        }
    }

    pub fn is_tls(&self) -> bool {
        match self {
            SrvConn::Plain(c) => c.is_tls(),
            SrvConn::H2(h) => h.is_tls(),
        }
    }

    /// Ends the stream's use of it: a plain connection closes, an HTTP/2
    /// stream is reset if unfinished (its connection lives on).
    pub fn close(self) {
        match self {
            SrvConn::Plain(c) => c.close(),
            SrvConn::H2(h) => drop(h),
        }
    }
}
