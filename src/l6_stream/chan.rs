//! A multiplexed stream's client side: the bytes of one HTTP/2 stream as
//! its L6 stream sees them, HTTP/1 framed.
//!
//! ```text
//!  client socket --frames--> [H2 mux] --rx: request head, body--> [Stream]
//!  client socket <--frames-- [H2 mux] <--tx: response bytes------ [Stream]
//! ```
//!
//! The session's mux owns one per HTTP/2 stream: it appends the request
//! body (DATA payload, chunk-framed when no Content-Length was given) to
//! `rx` and turns what the stream wrote to `tx` into HEADERS and DATA
//! frames. Each side holds at most one pooled buffer, so a stream whose
//! peer is slow stops the other side (back-pressure, then HTTP/2 flow
//! control), and an idle channel holds none.

use super::client::ClientSide;
use crate::core::buffer::Buffer;
use crate::l4_conn::{Conn, IoStep, Pipe};
use crate::l7_http::h2::res_fields::EncodedHead;
use crate::l7_http::head::ResponseHead;
use std::time::Instant;

/// One HTTP/2 stream's client side. Owned by the session's H2 mux; lent
/// to the stream (as a [`ClientSide`]) for each call.
#[derive(Debug)]
pub struct MuxChan {
    rx: Option<Buffer>,        // request bytes for the stream, appended by the mux
    fresh: bool,               // bytes were appended since the stream's last fill
    tx: Option<Buffer>,        // response bytes the stream wrote, taken by the mux
    head: Option<EncodedHead>, // the final head in `tx`, encoded by the stream
    failed: bool,              // reset by either side, or the connection failed
    rx_closed: bool,           // a tunnel's END_STREAM: no request bytes after those in `rx`
    conn_eof: bool,            // the client closed the connection's sending side (its FIN)
    last_io: Instant,          // last byte moved for this stream either way
    woken: bool,               // something changed for the stream since the mux last ran it
}

impl MuxChan {
    pub fn new(now: Instant) -> MuxChan {
        MuxChan {
            rx: None,
            fresh: false,
            tx: None,
            head: None,
            failed: false,
            rx_closed: false,
            conn_eof: false,
            last_io: now,
            woken: true, // a new stream runs at once
        }
    }

    /// Mux side: the stream must run on the next drive (its server
    /// connection had an event, or it was acted on from outside).
    pub fn wake(&mut self) {
        self.woken = true;
    }

    /// Mux side: whether the stream was woken since the last call (request
    /// bytes pushed, response bytes drained, a reset, [`MuxChan::wake`]);
    /// clears it. A forwarding stream that was not woken has nothing to do.
    pub fn take_wake(&mut self) -> bool {
        std::mem::take(&mut self.woken)
    }

    /// Room left for request bytes.
    pub fn rx_room(&self) -> usize {
        match self.rx.as_ref() {
            Some(b) => b.capacity() - b.len(),
            None => crate::core::buffer::size(),
        }
    }

    /// Mux side: appends request bytes (as many as fit); returns how many.
    pub fn push_rx(&mut self, bytes: &[u8], now: Instant) -> usize {
        if bytes.is_empty() {
            return 0;
        }
        let n = self.rx.get_or_insert_with(Buffer::take).push(bytes);
        if n > 0 {
            self.fresh = true;
            self.woken = true;
            self.last_io = now;
        }
        n
    }

    /// Request bytes still waiting for the stream.
    pub fn rx_pending(&self) -> usize {
        self.rx.as_ref().map_or(0, Buffer::len)
    }

    /// Mux side: the response bytes the stream wrote, if any.
    pub fn tx(&mut self) -> &mut Option<Buffer> {
        &mut self.tx
    }

    pub fn tx_pending(&self) -> usize {
        self.tx.as_ref().map_or(0, Buffer::len)
    }

    /// Mux side: the final response head the stream encoded, once its
    /// text is in the response bytes (at their front: it went into an
    /// empty channel); the mux frames the block and consumes the text
    /// without parsing it.
    pub fn take_head(&mut self) -> Option<EncodedHead> {
        let ready = self.head.as_ref().is_some_and(|h| self.tx_pending() >= h.len);
        if ready { self.head.take() } else { None }
    }

    /// Mux side: `n` response bytes were framed and sent.
    pub fn tx_sent(&mut self, n: usize, now: Instant) {
        if let Some(b) = self.tx.as_mut() {
            b.consume(n);
            if b.is_empty() {
                self.tx = None;
            }
        }
        if n > 0 {
            self.woken = true; // room for more of its response
            self.last_io = now;
        }
    }

    /// The stream was reset or the connection failed: the stream's reads
    /// and writes fail from now on, and buffered bytes are dropped.
    pub fn fail(&mut self) {
        self.failed = true;
        self.woken = true;
        self.rx = None;
        self.tx = None;
        self.head = None;
    }

    pub fn failed(&self) -> bool {
        self.failed
    }

    /// Mux side: the client's connection reached its end (a FIN) after
    /// this stream's request was complete: the stream sees its client's
    /// side closed, as an HTTP/1 client's half-close (`option
    /// abortonclose` acts on it). Returns whether it was news.
    pub fn conn_closed(&mut self) -> bool {
        let news = !self.conn_eof;
        self.conn_eof = true;
        self.woken |= news;
        news
    }

    /// Mux side: the client ended a tunnel's way in (END_STREAM after an
    /// extended CONNECT); the stream sees it as the client's EOF.
    pub fn close_rx(&mut self) {
        self.rx_closed = true;
        self.fresh = true;
        self.woken = true;
    }
}

/// Moves up to `max` bytes of `src` to the end of `dst` (the whole buffer
/// when `dst` is empty and all of it is wanted); returns how many.
fn move_bytes(dst: &mut Option<Buffer>, src: &mut Option<Buffer>, max: usize) -> usize {
    let Some(s) = src.as_mut() else { return 0 };
    let want = s.len().min(max);
    if want == 0 {
        return 0;
    }
    if dst.is_none() && want == s.len() {
        *dst = src.take();
        return want;
    }
    let n = dst.get_or_insert_with(Buffer::take).push(&s.data()[..want]);
    s.consume(n);
    if s.is_empty() {
        *src = None;
    }
    n
}

impl ClientSide for MuxChan {
    fn fill(&mut self, now: Instant) -> IoStep {
        let _ = now;
        if self.failed {
            return IoStep::Failed;
        }
        if std::mem::take(&mut self.fresh) {
            return IoStep::Moved(self.rx_pending().max(1));
        }
        IoStep::Blocked
    }

    fn rx(&self) -> Option<&Buffer> {
        self.rx.as_ref()
    }

    fn rx_mut(&mut self) -> &mut Option<Buffer> {
        &mut self.rx
    }

    fn read_closed(&self) -> bool {
        // A tunnel's END_STREAM, or the connection's FIN: a request body's
        // end is in its framing.
        self.rx_closed || self.conn_eof
    }

    fn write_shut(&self) -> bool {
        false
    }

    fn last_io(&self) -> Instant {
        self.last_io
    }

    fn send_pair(
        &mut self,
        first: &mut Option<Buffer>,
        second: &mut Option<Buffer>,
        second_max: usize,
        now: Instant,
    ) -> (IoStep, usize, usize) {
        if self.failed {
            return (IoStep::Failed, 0, 0);
        }
        let from_a = move_bytes(&mut self.tx, first, usize::MAX);
        let from_b = if first.is_none() { move_bytes(&mut self.tx, second, second_max) } else { 0 };
        let n = from_a + from_b;
        if n == 0 {
            return (IoStep::Blocked, 0, 0);
        }
        self.last_io = now;
        (IoStep::Moved(n), from_a, from_b)
    }

    fn response_head(&mut self, head: &ResponseHead, src: &[u8]) {
        // Only into an empty channel, which `send_pair` then takes whole
        // (else the mux parses the text).
        if !self.failed && self.tx.is_none() {
            self.head = Some(EncodedHead::new(head, src));
        }
    }

    fn can_splice(&self) -> bool {
        false
    }

    fn splice_out(&mut self, _pipe: &mut Pipe, _now: Instant) -> IoStep {
        IoStep::Blocked
    }

    fn conn(&mut self) -> Option<&mut Conn> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mux skips a forwarding stream whose channel was not woken, so
    /// every change the stream must see has to wake it, once.
    #[test]
    fn what_wakes_a_stream() {
        let now = Instant::now();
        let mut c = MuxChan::new(now);
        assert!(c.take_wake(), "a new stream runs at once");
        assert!(!c.take_wake(), "the flag is taken");
        assert_eq!(c.push_rx(b"", now), 0);
        assert!(!c.take_wake(), "nothing pushed: no wake");
        assert_eq!(c.push_rx(b"body", now), 4);
        assert!(c.take_wake(), "request bytes wake it");
        let mut resp = Some(Buffer::take());
        resp.as_mut().map(|b| b.push(b"HTTP/1.1 200 OK\r\n\r\n"));
        let (step, _, _) = c.send_pair(&mut resp, &mut None, 0, now);
        assert!(matches!(step, IoStep::Moved(19)));
        assert!(!c.take_wake(), "its own writes do not wake it");
        c.tx_sent(0, now);
        assert!(!c.take_wake(), "nothing drained: no wake");
        c.tx_sent(19, now);
        assert!(c.take_wake(), "response bytes drained wake it (room for more)");
        c.close_rx();
        assert!(c.take_wake(), "a tunnel's END_STREAM wakes it");
        c.wake();
        assert!(c.take_wake());
        assert!(c.conn_closed());
        assert!(c.take_wake(), "the connection's end wakes it");
        assert!(!c.conn_closed(), "once");
        assert!(!c.take_wake());
        c.fail();
        assert!(c.take_wake(), "a reset wakes it");
    }
}
