//! The client side of a stream: where it reads its request from and
//! writes its response to.
//!
//! With TCP and HTTP/1 that is the session's client [`Conn`] itself; with
//! HTTP/2 it is a [`MuxChan`](super::chan::MuxChan), one per HTTP/2
//! stream, which the session's mux fills with the request and drains into
//! frames. Either way the stream sees HTTP/1 bytes, so every rule, fetch,
//! log field and forwarding path is the same code for both. Stream
//! functions are generic over this trait: each kind gets its own compiled
//! copy, with no dispatch on the HTTP/1 path.

use crate::core::buffer::Buffer;
use crate::l4_conn::{Conn, IoStep, Pipe};
use crate::l7_http::head::ResponseHead;
use std::time::Instant;

/// What a stream does with its client side. Implemented by [`Conn`] and
/// [`MuxChan`](super::chan::MuxChan); the owner lends it for one call.
pub trait ClientSide {
    /// Reads what is available into the receive buffer (see [`Conn::fill`]).
    fn fill(&mut self, now: Instant) -> IoStep;
    /// Bytes received and not yet forwarded.
    fn rx(&self) -> Option<&Buffer>;
    fn rx_mut(&mut self) -> &mut Option<Buffer>;
    fn pending(&self) -> usize {
        self.rx().map_or(0, Buffer::len)
    }
    /// The receive buffer is full: reading must pause (back-pressure).
    fn rx_full(&self) -> bool {
        self.rx().is_some_and(Buffer::is_full)
    }
    /// The client closed its sending side (HTTP/1: EOF). An HTTP/2
    /// stream's END_STREAM is not this: the request's framing ends it.
    fn read_closed(&self) -> bool;
    /// Our sending side is closed.
    fn write_shut(&self) -> bool;
    fn fully_closed(&self) -> bool {
        self.read_closed() && self.write_shut()
    }
    /// Last byte moved in either direction (inactivity timeouts).
    fn last_io(&self) -> Instant;
    /// See [`Conn::send_from`].
    fn send_from(&mut self, src: &mut Option<Buffer>, now: Instant) -> IoStep {
        self.send_prefix(src, usize::MAX, now)
    }
    /// See [`Conn::send_prefix`].
    fn send_prefix(&mut self, src: &mut Option<Buffer>, max: usize, now: Instant) -> IoStep {
        self.send_pair(&mut None, src, max, now).0
    }
    /// See [`Conn::send_pair`].
    fn send_pair(
        &mut self,
        first: &mut Option<Buffer>,
        second: &mut Option<Buffer>,
        second_max: usize,
        now: Instant,
    ) -> (IoStep, usize, usize);
    /// The next bytes sent (by `send_pair`'s `first`) are the final
    /// response head `head`, unchanged from `src`, its text: a multiplexed
    /// client side encodes it now, from the parsed spans, instead of
    /// parsing the text again. Nothing to do for a socket.
    fn response_head(&mut self, head: &ResponseHead, src: &[u8]) {
        let _ = (head, src);
    }
    /// Whether response bodies may be spliced to it (a plain socket).
    fn can_splice(&self) -> bool;
    /// See [`Conn::splice_out`]; only called when [`ClientSide::can_splice`].
    fn splice_out(&mut self, pipe: &mut Pipe, now: Instant) -> IoStep;
    /// The socket itself, for a tunnel (TCP mode, after a protocol switch);
    /// None where bytes cannot be relayed as they are.
    fn conn(&mut self) -> Option<&mut Conn>;
}

impl ClientSide for Conn {
    #[inline]
    fn fill(&mut self, now: Instant) -> IoStep {
        Conn::fill(self, now)
    }
    #[inline]
    fn rx(&self) -> Option<&Buffer> {
        self.rx.as_ref()
    }
    #[inline]
    fn rx_mut(&mut self) -> &mut Option<Buffer> {
        &mut self.rx
    }
    #[inline]
    fn read_closed(&self) -> bool {
        self.read_closed
    }
    #[inline]
    fn write_shut(&self) -> bool {
        self.write_shut
    }
    #[inline]
    fn last_io(&self) -> Instant {
        self.last_io
    }
    #[inline]
    fn send_from(&mut self, src: &mut Option<Buffer>, now: Instant) -> IoStep {
        Conn::send_from(self, src, now)
    }
    #[inline]
    fn send_prefix(&mut self, src: &mut Option<Buffer>, max: usize, now: Instant) -> IoStep {
        Conn::send_prefix(self, src, max, now)
    }
    #[inline]
    fn send_pair(
        &mut self,
        first: &mut Option<Buffer>,
        second: &mut Option<Buffer>,
        second_max: usize,
        now: Instant,
    ) -> (IoStep, usize, usize) {
        Conn::send_pair(self, first, second, second_max, now)
    }
    #[inline]
    fn can_splice(&self) -> bool {
        self.splices() // not through TLS
    }
    #[inline]
    fn splice_out(&mut self, pipe: &mut Pipe, now: Instant) -> IoStep {
        Conn::splice_out(self, pipe, now)
    }
    #[inline]
    fn conn(&mut self) -> Option<&mut Conn> {
        Some(self)
    }
}
