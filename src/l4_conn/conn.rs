//! One stream connection, client or server side: TCP, or a unix socket
//! held in the same type (`l4_conn::unix_listen`).

use super::tls::TlsState;
use super::wire::{ReadAhead, WireBytes};
use crate::core::buffer::Buffer;
use mio::event::Event;
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use socket2::SockRef;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::Instant;

/// Result of one I/O attempt on a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoStep {
    Moved(usize), // bytes transferred (> 0)
    Blocked,      // nothing possible now (not ready, or no room / no data)
    Eof,          // the peer closed its write side (reads only)
    Failed,       // socket error; see `Conn::error`
}

/// A socket plus the state the layers above read: receive buffer (held only
/// while it holds bytes), edge-triggered readiness, shutdown flags and the
/// time of the last byte moved. Owned by a session (client side) or a
/// stream (server side); nobody else touches it.
pub struct Conn {
    pub(in crate::l4_conn) sock: TcpStream,
    pub rx: Option<Buffer>, // bytes received and not yet forwarded (plaintext with TLS)
    pub(in crate::l4_conn) readable: bool, // readiness seen and not yet drained
    hup_seen: bool,         // the poller reported the peer's FIN or an error
    pub(in crate::l4_conn) writable: bool,
    pub connecting: bool,             // server side: connect() in progress
    probed: bool,                     // connecting: asked once whether already connected
    pub read_closed: bool,            // EOF received
    pub write_shut: bool,             // our FIN sent
    fin_then_reset: bool, // client side with `option nolinger`: a clean close sends FIN, then the RST of SO_LINGER 0
    pub error: Option<io::ErrorKind>, // first socket error seen
    pub last_io: Instant, // last byte moved (inactivity timeouts)
    pub since: Instant,   // accepted / connect() started
    read_ahead: ReadAhead, // what `read_ahead` read, told by the next `fill`
    wire: WireBytes,      // bytes moved since the owner last drained them (`take_wire`)
    pub(in crate::l4_conn) tls: Option<Box<TlsState>>, // the TLS transport; None: plain TCP
}

/// The socket, for socket options (`l4_conn::sockopt`).
impl std::os::fd::AsFd for Conn {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl Conn {
    /// The socket's file descriptor (shown by `show sess`).
    pub fn fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.sock.as_raw_fd()
    }

    /// Wraps an accepted client socket.
    pub fn accepted(sock: TcpStream, now: Instant) -> Conn {
        let _ = sock.set_nodelay(true);
        Conn::new(sock, now, false)
    }

    /// Starts a non-blocking connect to `addr`; completion is reported by a
    /// writable (or error) event, then [`Conn::finish_connect`].
    pub fn connect(addr: SocketAddr, now: Instant) -> io::Result<Conn> {
        let sock = TcpStream::connect(addr)?;
        let _ = sock.set_nodelay(true);
        Ok(Conn::new(sock, now, true))
    }

    /// [`Conn::connect`] from a chosen local address (`source ADDR[:PORT]`,
    /// port 0: any) and device (`interface NAME`): the socket is bound
    /// before it connects.
    pub fn connect_from(
        addr: SocketAddr,
        src: SocketAddr,
        device: Option<&str>,
        now: Instant,
    ) -> io::Result<Conn> {
        use socket2::{Domain, Protocol, Socket, Type};
        let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        sock.set_nonblocking(true)?;
        if src.port() != 0 {
            sock.set_reuse_address(true)?; // a fixed port comes back soon after its last close
        }
        if let Some(dev) = device {
            sock.bind_device(Some(dev.as_bytes()))?;
        }
        sock.bind(&src.into())?;
        match sock.connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        let sock = TcpStream::from_std(std::net::TcpStream::from(sock));
        let _ = sock.set_nodelay(true);
        Ok(Conn::new(sock, now, true))
    }

    /// Starts a non-blocking connect to a unix server socket (`server s
    /// unix@PATH` or `abns@NAME`); completion as for [`Conn::connect`].
    pub fn connect_unix(addr: &crate::cfg::listen::UnixAddr, now: Instant) -> io::Result<Conn> {
        Ok(Conn::new(super::unix_listen::connect(addr)?, now, true))
    }

    fn new(sock: TcpStream, now: Instant, connecting: bool) -> Conn {
        Conn {
            sock,
            rx: None,
            readable: false,
            hup_seen: false,
            writable: false,
            connecting,
            probed: false,
            read_closed: false,
            read_ahead: ReadAhead::default(),
            wire: WireBytes::default(),
            write_shut: false,
            fin_then_reset: false,
            error: None,
            last_io: now,
            since: now,
            tls: None,
        }
    }

    /// Registers for read and write readiness (edge-triggered, once).
    pub fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        registry.register(&mut self.sock, token, Interest::READABLE | Interest::WRITABLE)
    }

    /// Re-targets the socket's events to another token.
    pub fn reregister(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        registry.reregister(&mut self.sock, token, Interest::READABLE | Interest::WRITABLE)
    }

    /// Removes the socket from the poller (the socket lives on elsewhere).
    pub fn deregister(&mut self, registry: &Registry) {
        let _ = registry.deregister(&mut self.sock);
    }

    /// Closes the socket. No `epoll_ctl(DEL)` is spent: closing the only
    /// descriptor of a socket removes it from the epoll set (strata never
    /// duplicates one), and an event already fetched for it reaches, at
    /// worst, the next connection under the same token as spurious
    /// readiness, which costs one `EAGAIN`.
    pub fn close(self) {
        drop(self);
    }

    /// Records the readiness `ev` reports and reads what it announces now,
    /// ahead of processing; the next [`Conn::fill`] returns what this read
    /// did instead of reading. Only for a connection whose owner's next
    /// step is that `fill` (the worker reads a whole poll batch first, see
    /// `Worker::read_ahead`). A read that found nothing is not kept: the next
    /// `fill` finds the same.
    pub fn read_ahead(&mut self, ev: &Event, now: Instant) {
        self.on_event(ev);
        if self.read_ahead.is_none() {
            let step = self.fill(now);
            self.read_ahead = ReadAhead::keep(step);
        }
    }

    /// The poller reported the peer's FIN or an error.
    pub(in crate::l4_conn) fn peer_closed(&self) -> bool {
        self.hup_seen
    }

    /// Records the readiness an event reports.
    pub fn on_event(&mut self, ev: &Event) {
        if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
            self.readable = true;
        }
        if ev.is_read_closed() || ev.is_error() {
            self.hup_seen = true;
        }
        if ev.is_writable() || ev.is_write_closed() || ev.is_error() {
            self.writable = true;
            if self.tls.is_some() {
                self.tls_on_writable();
            }
        }
    }

    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.sock.peer_addr()
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    /// For a connecting socket that became ready: `Ok(true)` connected,
    /// `Ok(false)` still in progress, `Err` the connect failed. With TLS,
    /// connected means the handshake is done too (HAProxy's L6 is part of
    /// the connection: `timeout connect`, retries and redispatch cover it).
    pub fn finish_connect(&mut self, now: Instant) -> io::Result<bool> {
        if !self.tcp_connected(now)? {
            return Ok(false);
        }
        match self.handshake(now) {
            super::tls::Handshake::Done => Ok(true),
            super::tls::Handshake::Pending => Ok(false),
            super::tls::Handshake::Failed(f) => Err(io::Error::other(f.message())),
        }
    }

    /// The TCP part of [`Conn::finish_connect`] alone (the PROXY header
    /// of `send-proxy` goes between it and the TLS handshake).
    pub fn tcp_connected(&mut self, now: Instant) -> io::Result<bool> {
        if !self.connecting {
            return Ok(true);
        }
        if !self.writable && !self.readable {
            if self.probed {
                return Ok(false); // no event yet: nothing to ask the kernel
            }
            // Once, right after connect(): a local server (loopback) has
            // usually completed the handshake already, and the request can
            // leave now instead of after another turn of the poll loop.
            self.probed = true;
            return match SockRef::from(&self.sock).peer_addr() {
                Ok(_) => {
                    self.connecting = false;
                    self.writable = true; // a new connection's send buffer is empty
                    self.last_io = now;
                    Ok(true)
                }
                Err(_) => Ok(false), // not yet, or failed: the event will tell
            };
        }
        if self.writable && !self.hup_seen {
            // Linux reports a connecting socket writable once established;
            // a failure comes with an error and a hang-up, so no
            // `getsockopt(SO_ERROR)` is needed on success.
            self.connecting = false;
            self.last_io = now;
            return Ok(true);
        }
        if let Some(e) = self.sock.take_error()? {
            self.error = Some(e.kind());
            return Err(e);
        }
        match SockRef::from(&self.sock).peer_addr() {
            Ok(_) => {
                self.connecting = false;
                self.last_io = now;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                self.writable = false;
                self.readable = false;
                Ok(false)
            }
            Err(e) => {
                self.error = Some(e.kind());
                Err(e)
            }
        }
    }

    /// Reads into the receive buffer until the socket would block, the
    /// buffer is full or EOF. Takes a buffer from the pool only when bytes
    /// actually arrive.
    ///
    /// An error seen before (by a read, a write or a splice) is reported
    /// again as `Failed`, never as `Blocked`: a reset that arrived with the
    /// last bytes of a request is read once, while the mux parses the
    /// request, and the stream must still learn of it. Blocked would leave
    /// it waiting for readiness that never comes, until a timeout.
    pub fn fill(&mut self, now: Instant) -> IoStep {
        if let Some(step) = self.read_ahead.take() {
            return step;
        }
        if self.tls.is_some() {
            return self.tls_fill(now);
        }
        if let Some(step) = self.read_gate() {
            return step;
        }
        let mut buf = self.rx.take().unwrap_or_else(Buffer::take);
        let mut total = 0;
        let step = loop {
            let space = buf.space();
            if space.is_empty() {
                break IoStep::Blocked;
            }
            match self.sock.read(space) {
                Ok(0) => {
                    self.read_closed = true;
                    break IoStep::Eof;
                }
                Ok(n) => {
                    let short = n < space.len();
                    buf.produced(n);
                    total += n;
                    // A short read emptied the receive queue: later data
                    // brings a new edge, so no read is spent on EAGAIN. Not
                    // when a FIN was reported: the 0-byte read must follow.
                    if short && !self.hup_seen {
                        self.readable = false;
                        break IoStep::Blocked;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.readable = false;
                    break IoStep::Blocked;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.error = Some(e.kind());
                    break IoStep::Failed;
                }
            }
        };
        if !buf.is_empty() {
            self.rx = Some(buf);
        }
        if total > 0 {
            self.last_io = now;
            self.wire.received(total);
        }
        match step {
            IoStep::Blocked if total > 0 => IoStep::Moved(total),
            other => other,
        }
    }

    /// The bytes moved since the last call (see [`WireBytes`]), drained.
    pub fn take_wire(&mut self) -> WireBytes {
        std::mem::take(&mut self.wire)
    }

    /// Counts `n` bytes received another way (TLS records, a splice).
    pub(in crate::l4_conn) fn wire_received(&mut self, n: usize) {
        self.wire.received(n);
    }

    /// Counts `n` bytes sent by a splice.
    pub(in crate::l4_conn) fn wire_sent(&mut self, n: usize) {
        self.wire.sent(n);
    }

    /// Writes bytes from `src` (the peer's receive buffer) until it is empty
    /// or the socket would block. An emptied buffer goes back to the pool.
    pub fn send_from(&mut self, src: &mut Option<Buffer>, now: Instant) -> IoStep {
        self.send_prefix(src, usize::MAX, now)
    }

    /// Like [`Conn::send_from`] but writes at most `max` bytes: the part of
    /// the peer's buffer that belongs to the current message (what follows
    /// is the next pipelined message and must wait).
    pub fn send_prefix(&mut self, src: &mut Option<Buffer>, max: usize, now: Instant) -> IoStep {
        self.send_pair(&mut None, src, max, now).0
    }

    /// Writes `first` whole, then up to `second_max` bytes of `second`, in
    /// one write where possible (a response head and the body bytes already
    /// received leave in one segment): a short `second` is appended to
    /// `first` and both leave in one plain send, a long one in one vectored
    /// send. Returns the step (bytes written to the socket) and the bytes
    /// taken from `first` and from `second` (appended to `first` counts as
    /// taken: `first` always leaves before anything else). Emptied buffers
    /// go back to the pool.
    pub fn send_pair(
        &mut self,
        first: &mut Option<Buffer>,
        second: &mut Option<Buffer>,
        second_max: usize,
        now: Instant,
    ) -> (IoStep, usize, usize) {
        if let Some(step) = self.write_gate() {
            return (step, 0, 0);
        }
        let appended = append_short(first, second, second_max);
        let a = first.as_ref().map_or(&[][..], |b| b.data());
        let b = second.as_ref().map_or(&[][..], |b| &b.data()[..b.len().min(second_max - appended)]);
        let (step, n) = self.write_slices(a, b, now);
        let from_a = n.min(a.len());
        let from_b = n - from_a;
        if let Some(buf) = first.as_mut() {
            buf.consume(from_a);
        }
        if let Some(buf) = second.as_mut() {
            buf.consume(from_b);
        }
        if first.as_ref().is_some_and(Buffer::is_empty) {
            *first = None;
        }
        if second.as_ref().is_some_and(Buffer::is_empty) {
            *second = None;
        }
        (step, from_a, from_b + appended)
    }

    /// Writes `bytes` (owned by the caller, who keeps track of how much
    /// left) until they are all written or the socket would block.
    pub fn send_bytes(&mut self, bytes: &[u8], now: Instant) -> IoStep {
        if let Some(step) = self.write_gate() {
            return step;
        }
        self.write_slices(bytes, &[], now).0
    }

    /// Writes `a` then `b` until both are written or the socket would
    /// block: one plain send for one slice, one vectored send for two.
    /// Returns the step and the bytes written (`Moved` when any were).
    fn write_slices(&mut self, a: &[u8], b: &[u8], now: Instant) -> (IoStep, usize) {
        if self.tls.is_some() {
            let (step, n) = self.tls_write(a, b, now);
            self.wire.sent(n);
            return (step, n);
        }
        let mut done = 0;
        let step = loop {
            let (a, b) = if done < a.len() { (&a[done..], b) } else { (&[][..], &b[done - a.len()..]) };
            let want = a.len() + b.len();
            if want == 0 {
                break IoStep::Blocked;
            }
            let written = match (a.is_empty(), b.is_empty()) {
                (true, _) => self.sock.write(b), // the common case: one buffer, a plain send
                (false, true) => self.sock.write(a),
                // sendmsg, not writev: a socket write without the file-write path.
                (false, false) => SockRef::from(&self.sock)
                    .send_vectored_with_flags(&[io::IoSlice::new(a), io::IoSlice::new(b)], NO_SIGNAL),
            };
            match written {
                Ok(0) => {
                    self.writable = false;
                    break IoStep::Blocked;
                }
                Ok(n) => {
                    done += n;
                    if n < want {
                        self.writable = false;
                        break IoStep::Blocked;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.writable = false;
                    break IoStep::Blocked;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.error = Some(e.kind());
                    break IoStep::Failed;
                }
            }
        };
        if done > 0 {
            self.last_io = now;
            self.wire.sent(done);
        }
        match step {
            IoStep::Blocked if done > 0 => (IoStep::Moved(done), done),
            other => (other, done),
        }
    }

    /// Sends our FIN (propagating the peer's half-close). Idempotent.
    pub fn shutdown_write(&mut self) {
        if !self.write_shut && self.tls.is_some() {
            self.write_shut = true;
            self.tls_shutdown(Instant::now());
        }
        if !self.write_shut {
            self.write_shut = true;
            if let Err(e) = self.sock.shutdown(Shutdown::Write)
                && e.kind() != io::ErrorKind::NotConnected
            {
                self.error.get_or_insert(e.kind());
            }
        }
    }

    /// A client socket of a frontend with `option nolinger` (its SO_LINGER
    /// 0 set by `sockopt::apply`): as HAProxy 2.6 closes such a client, a
    /// clean close first sends our FIN, then the close resets what is left
    /// (the client sees the end of the data, then an RST), and a client
    /// that closed first (its FIN read) gets a plain close.
    pub fn set_fin_then_reset(&mut self) {
        self.fin_then_reset = true;
    }

    /// Makes the close abortive (RST instead of FIN), as HAProxy does for
    /// `tcp-request connection reject`.
    pub fn reset_on_close(&mut self) {
        self.fin_then_reset = false;
        let _ = SockRef::from(&self.sock).set_linger(Some(std::time::Duration::ZERO));
    }

    /// `silent-drop`, as HAProxy does: the socket goes into TCP repair mode
    /// (needs CAP_NET_ADMIN), in which closing it sends nothing at all, so
    /// the client keeps a dead connection and learns of it only when it
    /// sends again. Without the capability, the close is abortive and its
    /// RST leaves with a hop limit of 1, so nothing beyond the first hop (a
    /// client behind a router, a stateful firewall) hears of it. Either way
    /// no FIN (nor TLS close_notify) is sent before the close.
    pub fn silent_drop(&mut self) {
        use std::os::fd::AsRawFd;
        let fd = self.sock.as_raw_fd();
        let set = |name| super::listener::set_int(fd, libc::IPPROTO_TCP, name, 1);
        // What the client sent is acknowledged at once, so it does not
        // retransmit into the closed socket and draw a reset.
        let _ = set(libc::TCP_QUICKACK);
        self.write_shut = true; // no FIN, no close_notify: only the close remains
        self.fin_then_reset = false;
        if set(libc::TCP_REPAIR).is_ok() {
            return;
        }
        let s = SockRef::from(&self.sock);
        let _ = match self.sock.local_addr() {
            Ok(std::net::SocketAddr::V6(_)) => s.set_unicast_hops_v6(1),
            _ => s.set_ttl_v4(1),
        };
        self.reset_on_close();
    }

    /// Bytes received and not yet forwarded.
    pub fn pending(&self) -> usize {
        self.rx.as_ref().map_or(0, Buffer::len)
    }

    /// The receive buffer is full: reading must pause (back-pressure).
    pub fn rx_full(&self) -> bool {
        self.rx.as_ref().is_some_and(Buffer::is_full)
    }

    /// Both directions are finished: EOF received and our FIN sent.
    pub fn fully_closed(&self) -> bool {
        self.read_closed && self.write_shut
    }

    /// Writes a whole static answer, best effort (built-in error pages are
    /// far smaller than a socket buffer); returns whether all of it went.
    pub fn send_all(&mut self, bytes: &[u8], now: Instant) -> bool {
        let mut tmp = Some(Buffer::take());
        if let Some(b) = tmp.as_mut() {
            b.push(bytes);
        }
        self.writable = true; // try even without a fresh edge: a failed write is harmless
        let _ = self.send_from(&mut tmp, now);
        self.tls_forget_held(); // records the socket did not take leave with the next writable edge
        tmp.is_none()
    }

    /// Why no read can start now, if so: `Failed` for an error seen before
    /// (sticky, see [`Conn::fill`]), `Blocked` without readiness, after EOF
    /// or while connecting. None: a read may make progress.
    pub(super) fn read_gate(&self) -> Option<IoStep> {
        if self.error.is_some() {
            Some(IoStep::Failed)
        } else if !self.readable || self.read_closed || self.connecting {
            Some(IoStep::Blocked)
        } else {
            None
        }
    }

    /// The same for writes: `Blocked` without readiness, after our FIN or
    /// while connecting.
    pub(super) fn write_gate(&self) -> Option<IoStep> {
        if self.error.is_some() {
            Some(IoStep::Failed)
        } else if !self.writable || self.write_shut || self.connecting {
            Some(IoStep::Blocked)
        } else {
            None
        }
    }

    pub(super) fn mark_read_closed(&mut self) {
        self.read_closed = true;
    }

    /// The socket has nothing more to read until the next edge.
    pub(super) fn mark_drained(&mut self) {
        self.readable = false;
    }

    /// The send buffer is full until the next edge.
    pub(super) fn mark_unwritable(&mut self) {
        self.writable = false;
    }

    /// Has read readiness that was not drained (reads would not block).
    pub fn is_readable(&self) -> bool {
        self.readable || self.tls_plain_left()
    }
}

impl Drop for Conn {
    /// A TLS connection closed cleanly says so (close_notify), best effort.
    fn drop(&mut self) {
        if self.tls.is_some() {
            self.tls_on_close();
        }
        if self.fin_then_reset {
            if self.read_closed {
                // HAProxy clears its linger risk once the peer's FIN is read
                let _ = SockRef::from(&self.sock).set_linger(None);
            } else if !self.write_shut {
                let _ = self.sock.shutdown(Shutdown::Write);
            }
        }
    }
}

/// Bodies at most this long are copied behind the head they follow, so
/// that both leave in one plain send (a copy of a few hundred bytes costs
/// less than the kernel's vectored-write path and a second segment part).
const APPEND_MAX: usize = 2048;

/// As std's socket writes: a reset peer gives EPIPE, never SIGPIPE.
const NO_SIGNAL: libc::c_int = libc::MSG_NOSIGNAL;

/// Appends the first `max` bytes of `second` to `first` when `first` has
/// data, they are short and they fit; returns how many were appended.
fn append_short(first: &mut Option<Buffer>, second: &mut Option<Buffer>, max: usize) -> usize {
    let (Some(head), Some(body)) = (first.as_mut(), second.as_mut()) else { return 0 };
    let n = body.len().min(max);
    if head.is_empty() || n == 0 || n > APPEND_MAX || head.capacity() - head.len() < n {
        return 0;
    }
    let appended = head.push(&body.data()[..n]);
    body.consume(appended);
    if body.is_empty() {
        *second = None;
    }
    appended
}

#[cfg(test)]
mod tests {
    use super::*;
    use mio::{Events, Poll};
    use std::io::Write;
    use std::time::Duration;

    /// Polls until an event for the one registered socket arrives.
    fn next_event(poll: &mut Poll, events: &mut Events) {
        events.clear();
        while events.is_empty() {
            poll.poll(events, Some(Duration::from_secs(5))).expect("poll");
        }
    }

    #[test]
    fn a_read_ahead_is_told_by_the_next_fill_only() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut client = std::net::TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (accepted, _) = listener.accept().expect("accept");
        accepted.set_nonblocking(true).expect("nonblocking");
        let now = Instant::now();
        let mut conn = Conn::accepted(TcpStream::from_std(accepted), now);
        let mut poll = Poll::new().expect("poll");
        let mut events = Events::with_capacity(8);
        conn.register(poll.registry(), Token(1)).expect("register");

        client.write_all(b"abc").expect("write");
        next_event(&mut poll, &mut events);
        let ev = events.iter().next().expect("event");
        conn.read_ahead(ev, now);
        assert_eq!(conn.rx.as_ref().map(|b| b.data().to_vec()), Some(b"abc".to_vec()), "read at once");
        assert_eq!(conn.fill(now), IoStep::Moved(3), "the next fill tells what was read");
        assert_eq!(conn.fill(now), IoStep::Blocked, "and only that one");

        drop(client);
        next_event(&mut poll, &mut events);
        let ev = events.iter().next().expect("event");
        conn.read_ahead(ev, now);
        assert!(conn.read_closed);
        assert_eq!(conn.fill(now), IoStep::Eof, "the close is told once more");
        assert_eq!(conn.pending(), 3, "bytes read before stay");
    }
}
