//! One stream's side of a shared HTTP/2 server connection: what the
//! stream writes (its HTTP/1.1 request) becomes HEADERS and DATA frames
//! under the server's windows; what it reads is its response as HTTP/1.1
//! bytes, taken from its inbox on the connection.

use super::Shared;
use super::conn::SrvStream;
use super::request;
use crate::core::buffer::Buffer;
use crate::l4_conn::IoStep;
use crate::l7_http::h2::dechunk::{Dechunk, Piece};
use crate::l7_http::h2::frame;
use crate::l7_http::head::Framing;
use mio::Token;
use std::time::Instant;

/// Where the request conversion is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Req {
    Head,             // the head is still to send (no stream id yet)
    Length(u64),      // body bytes left
    Chunked(Dechunk), // chunk framing to remove
    Done,             // END_STREAM sent
}

/// A stream's use of a shared HTTP/2 connection. Owned by the stream (in
/// its [`SrvConn`](crate::l6_stream::srv_conn::SrvConn)); dropping it
/// detaches the stream (reset when unfinished).
pub struct H2Chan {
    shared: Shared,
    owner: Token, // the stream's token: its session is woken for it
    id: u32,      // 0 until the HEADERS went out
    req: Req,
    pub(crate) rx: Option<Buffer>, // response bytes for the stream
    pub(crate) read_closed: bool,  // the response ended (END_STREAM) and was all taken
    pub(crate) since: Instant,
    pub(crate) last_io: Instant,
}

impl H2Chan {
    pub(super) fn new(shared: Shared, owner: Token, now: Instant) -> H2Chan {
        {
            let mut c = shared.borrow_mut();
            c.attached += 1;
            c.idle_since = None;
            c.waiting.push(owner);
        }
        H2Chan {
            shared,
            owner,
            id: 0,
            req: Req::Head,
            rx: None,
            read_closed: false,
            since: now,
            last_io: now,
        }
    }

    pub(crate) fn connecting(&self) -> bool {
        !self.shared.borrow().connected
    }

    /// The shared connection's connect. After it, a connection whose ALPN
    /// did not choose h2 is for this stream alone, as HTTP/1.1: see
    /// [`H2Chan::take_http1`].
    pub(crate) fn finish_connect(&mut self, now: Instant) -> std::io::Result<bool> {
        let done = self.shared.borrow_mut().finish_connect(now)?;
        if done {
            self.last_io = now;
        }
        Ok(done)
    }

    /// ALPN chose HTTP/1.1 on this stream's new connection: the
    /// connection itself, for the stream to use as its own.
    pub(crate) fn take_http1(&mut self) -> Option<crate::l4_conn::Conn> {
        let mut c = self.shared.borrow_mut();
        if !c.connected || c.decided {
            return None;
        }
        c.failed = true;
        c.conn.take()
    }

    pub(crate) fn fd(&self) -> i32 {
        self.shared.borrow().conn.as_ref().map_or(-1, |c| c.fd())
    }

    /// The shared connection's (server, local) addresses.
    pub(crate) fn addrs(&self) -> std::io::Result<(std::net::SocketAddr, std::net::SocketAddr)> {
        let c = self.shared.borrow();
        let conn = c.conn.as_ref().ok_or_else(|| std::io::Error::other("closed"))?;
        Ok((conn.peer_addr()?, conn.local_addr()?))
    }

    pub(crate) fn is_tls(&self) -> bool {
        self.shared.borrow().tls
    }

    /// The request is wholly sent.
    pub(crate) fn write_done(&self) -> bool {
        self.req == Req::Done
    }

    /// Response bytes: reads the connection, then moves this stream's
    /// inbox into `rx` (as much as fits).
    pub(crate) fn fill(&mut self, now: Instant) -> IoStep {
        let mut c = self.shared.borrow_mut();
        c.pump(now);
        if self.id == 0 {
            return if c.failed && c.conn.is_none() { IoStep::Failed } else { IoStep::Blocked };
        }
        let Some(s) = c.streams.get_mut(&self.id) else { return IoStep::Failed };
        let rx = self.rx.get_or_insert_with(Buffer::take);
        let n = rx.push(&s.inbox);
        if rx.is_empty() {
            self.rx = None;
        }
        s.inbox.drain(..n);
        let (empty, ended, reset) = (s.inbox.is_empty(), s.ended, s.reset);
        if n > 0 {
            self.last_io = now;
            c.taken(self.id, now);
            return IoStep::Moved(n);
        }
        if reset {
            return IoStep::Failed;
        }
        if ended && empty {
            self.read_closed = true;
            return IoStep::Eof;
        }
        IoStep::Blocked
    }

    /// Sends up to `max` bytes of `src` (see `Conn::send_prefix`).
    pub(crate) fn send_prefix(&mut self, src: &mut Option<Buffer>, max: usize, now: Instant) -> IoStep {
        let Some(buf) = src.as_mut() else { return IoStep::Blocked };
        let data = buf.data();
        let step = self.send(&data[..data.len().min(max)], now);
        if let IoStep::Moved(n) = step {
            buf.consume(n);
            if buf.is_empty() {
                *src = None;
            }
        }
        step
    }

    /// Converts and sends what it can of `data` (HTTP/1.1 request bytes);
    /// `Moved(n)`: `n` bytes of `data` were taken.
    pub(crate) fn send(&mut self, data: &[u8], now: Instant) -> IoStep {
        let shared = self.shared.clone();
        let mut c = shared.borrow_mut();
        if c.failed && self.id == 0 {
            return IoStep::Failed;
        }
        let mut taken = 0;
        loop {
            let rest = &data[taken..];
            let before = taken;
            match self.req {
                Req::Done => break,
                Req::Head => {
                    // Streams open in id order, within the server's limit.
                    if c.streams.len() >= c.peer_max_streams {
                        break;
                    }
                    let (tls, mut block, mut lower) =
                        (c.tls, std::mem::take(&mut c.scratch), std::mem::take(&mut c.lower));
                    let enc = request::encode(rest, tls, &mut c.enc, &mut block, &mut lower);
                    let head = match enc {
                        Ok(Some(h)) => h,
                        Ok(None) => {
                            c.scratch = block;
                            c.lower = lower;
                            break;
                        }
                        Err(()) => {
                            c.scratch = block;
                            c.lower = lower;
                            return IoStep::Failed;
                        }
                    };
                    let id = c.next_id;
                    c.next_id += 2;
                    self.id = id;
                    self.req = match head.framing {
                        Framing::Length(0) | Framing::None | Framing::UntilClose => Req::Done,
                        Framing::Length(n) => Req::Length(n),
                        Framing::Chunked => Req::Chunked(Dechunk::default()),
                    };
                    let end = self.req == Req::Done;
                    let max_frame = c.peer_max_frame;
                    headers_frames(&mut c.out, id, &block, end, max_frame);
                    c.scratch = block;
                    c.lower = lower;
                    let window = c.peer_initial_window;
                    let inbox = c.spare_inboxes.pop().unwrap_or_default();
                    c.streams.insert(
                        id,
                        SrvStream {
                            owner: Some(self.owner),
                            send_window: window,
                            head_req: head.head_method,
                            local_done: end,
                            inbox,
                            ..SrvStream::default()
                        },
                    );
                    if let Some(pos) = c.waiting.iter().position(|&t| t == self.owner) {
                        c.waiting.swap_remove(pos);
                    }
                    taken += head.consumed;
                }
                Req::Length(left) => {
                    let n = self.room(&c, rest.len().min(left.min(usize::MAX as u64) as usize));
                    if n == 0 {
                        break;
                    }
                    let last = n as u64 == left;
                    self.data_frame(&mut c, &rest[..n], last);
                    taken += n;
                    self.req = if last { Req::Done } else { Req::Length(left - n as u64) };
                }
                Req::Chunked(mut d) => {
                    match d.next(rest) {
                        Piece::Payload(n) => {
                            let n = self.room(&c, n);
                            if n == 0 {
                                break;
                            }
                            self.data_frame(&mut c, &rest[..n], false);
                            d.paid(n);
                            taken += n;
                        }
                        Piece::Framing(n) => taken += n,
                        Piece::End(n) => {
                            taken += n;
                            self.data_frame(&mut c, &[], true);
                            self.req = Req::Done;
                            continue;
                        }
                        Piece::More => break,
                        Piece::Invalid => return IoStep::Failed,
                    }
                    self.req = Req::Chunked(d);
                }
            }
            if taken == before {
                break;
            }
        }
        c.flush(now);
        if self.req == Req::Done
            && let Some(s) = c.streams.get_mut(&self.id)
        {
            s.local_done = true;
        }
        if taken > 0 {
            self.last_io = now;
            IoStep::Moved(taken)
        } else if c.failed && c.conn.is_none() {
            IoStep::Failed
        } else {
            IoStep::Blocked
        }
    }

    /// DATA bytes that may go now (both windows, the frame size).
    fn room(&self, c: &super::conn::H2SrvConn, want: usize) -> usize {
        let stream = c.streams.get(&self.id).map_or(0, |s| s.send_window);
        let w = stream.min(c.conn_send).max(0) as usize;
        want.min(w).min(c.peer_max_frame)
    }

    fn data_frame(&self, c: &mut super::conn::H2SrvConn, payload: &[u8], end: bool) {
        frame::put_header(
            &mut c.out,
            payload.len(),
            frame::DATA,
            if end { frame::END_STREAM } else { 0 },
            self.id,
        );
        c.out.extend_from_slice(payload);
        c.conn_send -= payload.len() as i64;
        if let Some(s) = c.streams.get_mut(&self.id) {
            s.send_window -= payload.len() as i64;
        }
    }
}

/// HEADERS, then CONTINUATION frames when the block exceeds the peer's
/// frame size.
fn headers_frames(out: &mut Vec<u8>, id: u32, block: &[u8], end: bool, max: usize) {
    let mut parts = block.chunks(max.max(1)).peekable();
    let first = parts.next().unwrap_or(&[]);
    let mut flags = if end { frame::END_STREAM } else { 0 };
    if parts.peek().is_none() {
        flags |= frame::END_HEADERS;
    }
    frame::put_header(out, first.len(), frame::HEADERS, flags, id);
    out.extend_from_slice(first);
    while let Some(p) = parts.next() {
        let flags = if parts.peek().is_none() { frame::END_HEADERS } else { 0 };
        frame::put_header(out, p.len(), frame::CONTINUATION, flags, id);
        out.extend_from_slice(p);
    }
}

impl Drop for H2Chan {
    fn drop(&mut self) {
        self.shared.borrow_mut().detach(self.id, self.owner, self.last_io);
    }
}
