//! A TLS `Conn`: the same reads and writes as a plain one, through the
//! engine. Its contract is the plain one: `fill` leaves plaintext in the
//! receive buffer; a send reports as taken only bytes whose records are
//! wholly in the kernel (a record the socket took in part is held back
//! and reported by the next send, which the owner makes on the next
//! writable event, as for a short plain write), so an owner that closes
//! after its buffers emptied loses nothing.

use super::engine::Engine;
use super::{BindTls, HsFailure, ServerTls, TlsState, stats};
use crate::acl::tls_facts::TlsFacts;
use crate::core::buffer::Buffer;
use crate::l4_conn::conn::{Conn, IoStep};
use socket2::SockRef;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Instant;

/// Plaintext handed to rustls at once: one full record.
const CHUNK: usize = 16 * 1024;

/// Where the handshake stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handshake {
    Done,
    Pending,
    Failed(HsFailure),
}

/// Writes to the socket as the plain path does (send/sendmsg with
/// MSG_NOSIGNAL, never the file-write path).
struct SockWriter<'a>(&'a mio::net::TcpStream);

impl Write for SockWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        SockRef::from(self.0).send_with_flags(buf, libc::MSG_NOSIGNAL)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        SockRef::from(self.0).send_vectored_with_flags(bufs, libc::MSG_NOSIGNAL)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Conn {
    /// Makes an accepted connection speak TLS as the server of `bind`.
    pub fn start_tls_server(&mut self, bind: &Arc<BindTls>) {
        self.tls = Some(Box::new(TlsState::new(Engine::accepting(bind.clone()), true)));
    }

    /// Makes a connecting connection speak TLS as the client of `server`,
    /// sending `sni` (None: no SNI; the name check then needs `verifyhost`).
    pub fn start_tls_client(&mut self, server: &ServerTls, sni: Option<&str>) -> io::Result<()> {
        let name = match sni.and_then(|s| rustls::pki_types::ServerName::try_from(s.to_owned()).ok()) {
            Some(n) => n,
            None => rustls::pki_types::ServerName::IpAddress(self.peer_ip().into()),
        };
        let engine = Engine::client(server.config.clone(), name)
            .ok_or_else(|| io::Error::other("TLS client configuration refused"))?;
        let mut state = TlsState::new(engine, false);
        state.sent_sni = sni.map(Into::into);
        self.tls = Some(Box::new(state));
        Ok(())
    }

    fn peer_ip(&self) -> std::net::IpAddr {
        self.peer_addr().map_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |a| a.ip())
    }

    /// Whether the connection speaks TLS.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Whether `splice(2)` may move this connection's bytes (not with TLS:
    /// the kernel would see ciphertext).
    pub fn splices(&self) -> bool {
        self.tls.is_none()
    }

    /// The handshake is still under way.
    pub fn handshaking(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| !t.done)
    }

    /// Why the handshake failed, if it did.
    pub fn tls_failure(&self) -> Option<HsFailure> {
        self.tls.as_ref().and_then(|t| t.failure)
    }

    /// What the handshake negotiated, once; None for a plain connection,
    /// before the handshake ended, or when already taken.
    pub fn take_tls_facts(&mut self) -> Option<TlsFacts> {
        let t = self.tls.as_mut().filter(|t| t.done && !t.facts_taken)?;
        t.facts_taken = true;
        Some(t.facts())
    }

    /// The ALPN protocol the handshake chose (`h2`, `http/1.1`...), once
    /// it is done: what the session picks its mux by.
    pub fn tls_alpn(&self) -> Option<&[u8]> {
        self.tls.as_ref().filter(|t| t.done).and_then(|t| t.engine.alpn())
    }

    /// The SNI this client-side connection sent (a reused connection
    /// must have sent the one the new request would).
    pub fn tls_sent_sni(&self) -> Option<&str> {
        self.tls.as_ref().and_then(|t| t.sent_sni.as_deref())
    }

    /// The handshake timed out: it fails with HAProxy's timeout reason.
    pub fn tls_timed_out(&mut self) {
        if let Some(t) = self.tls.as_mut().filter(|t| !t.done) {
            t.failure.get_or_insert(HsFailure::Timeout);
        }
    }

    /// Drives the handshake as far as the socket allows.
    pub fn handshake(&mut self, now: Instant) -> Handshake {
        loop {
            let Some(t) = self.tls.as_ref() else { return Handshake::Done };
            if let Some(f) = t.failure {
                return Handshake::Failed(f);
            }
            if t.done {
                return Handshake::Done;
            }
            if !self.tls_flush(now) {
                return self.hs_fail(HsFailure::Abort);
            }
            let Some(t) = self.tls.as_mut() else { return Handshake::Done };
            if !t.engine.is_handshaking() {
                t.done = true;
                stats::handshake_done(t.server_side, t.engine.resumed());
                return Handshake::Done;
            }
            if !self.readable {
                return Handshake::Pending;
            }
            match self.tls_read_once(now) {
                Ok(true) => {}
                Ok(false) => return Handshake::Pending,
                Err(f) => return self.hs_fail(f),
            }
        }
    }

    fn hs_fail(&mut self, f: HsFailure) -> Handshake {
        let _ = self.tls_flush(Instant::now()); // the alert, if any
        if let Some(t) = self.tls.as_mut() {
            t.failure.get_or_insert(f);
        }
        self.error.get_or_insert(io::ErrorKind::ConnectionAborted);
        Handshake::Failed(self.tls_failure().unwrap_or(f))
    }

    /// One read of ciphertext and its processing. Ok(true): progress,
    /// Ok(false): the socket has nothing now.
    fn tls_read_once(&mut self, now: Instant) -> Result<bool, HsFailure> {
        let Some(t) = self.tls.as_mut() else { return Ok(false) };
        match t.engine.read_tls(&mut self.sock) {
            Ok(0) => {
                self.read_closed = true;
                let _ = t.engine.process();
                if t.engine.is_handshaking() { Err(HsFailure::Empty) } else { Ok(true) }
            }
            Ok(_) => {
                self.last_io = now;
                t.engine.process()?;
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.readable = false;
                Ok(false)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::Other => Ok(false), // plaintext buffer full
            Err(e) => {
                self.error = Some(e.kind());
                Err(HsFailure::Abort)
            }
        }
    }

    /// Sends pending ciphertext; false on a socket error. Leaves
    /// `writable` false when the socket is full.
    pub(in crate::l4_conn) fn tls_flush(&mut self, now: Instant) -> bool {
        let Some(t) = self.tls.as_mut() else { return true };
        while t.engine.wants_write() {
            match t.engine.write_tls(&mut SockWriter(&self.sock)) {
                Ok(0) => {
                    if t.engine.wants_write() {
                        self.writable = false;
                    }
                    break;
                }
                Ok(_) => self.last_io = now,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.writable = false;
                    return true;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.error.get_or_insert(e.kind());
                    return false;
                }
            }
        }
        if t.shut_pending && !t.engine.wants_write() {
            t.shut_pending = false;
            let _ = self.sock.shutdown(std::net::Shutdown::Write);
        }
        true
    }

    /// Nothing left in rustls to send.
    fn tls_flushed(&self) -> bool {
        self.tls.as_ref().is_none_or(|t| !t.engine.wants_write())
    }

    /// `fill` for a TLS connection: plaintext into the receive buffer.
    pub(in crate::l4_conn) fn tls_fill(&mut self, now: Instant) -> IoStep {
        if self.error.is_some() {
            return IoStep::Failed;
        }
        if self.read_closed && !self.tls.as_ref().is_some_and(|t| t.plain_left) {
            return IoStep::Blocked;
        }
        match self.handshake(now) {
            Handshake::Done => {}
            Handshake::Pending => return IoStep::Blocked,
            Handshake::Failed(_) => return IoStep::Failed,
        }
        if !self.tls_flush(now) {
            return IoStep::Failed;
        }
        let mut buf = self.rx.take().unwrap_or_else(Buffer::take);
        let mut total = 0;
        let step = 'outer: loop {
            let Some(t) = self.tls.as_mut() else { break IoStep::Failed };
            loop {
                let space = buf.space();
                if space.is_empty() {
                    t.plain_left = true;
                    break 'outer IoStep::Blocked;
                }
                match t.engine.read_plain(space) {
                    Ok(0) => {
                        t.plain_left = false;
                        self.read_closed = true;
                        break 'outer IoStep::Eof;
                    }
                    Ok(n) => {
                        buf.produced(n);
                        total += n;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                        // A TCP close without close_notify: an end of input as
                        // HAProxy takes it (OpenSSL 3's unexpected EOF is a read0).
                        t.plain_left = false;
                        self.read_closed = true;
                        break 'outer IoStep::Eof;
                    }
                    Err(e) => {
                        self.error = Some(e.kind());
                        break 'outer IoStep::Failed;
                    }
                }
            }
            t.plain_left = false;
            if !self.readable {
                break IoStep::Blocked;
            }
            match self.tls_read_once(now) {
                Ok(true) => {
                    if !self.tls_flush(now) {
                        break IoStep::Failed;
                    }
                }
                Ok(false) => break IoStep::Blocked,
                Err(_) => {
                    let _ = self.tls_flush(now);
                    self.error.get_or_insert(io::ErrorKind::InvalidData);
                    break IoStep::Failed;
                }
            }
        };
        if !buf.is_empty() {
            self.rx = Some(buf);
        }
        if total > 0 {
            self.last_io = now;
            self.wire_received(total);
        }
        match step {
            IoStep::Blocked if total > 0 => IoStep::Moved(total),
            IoStep::Eof if total > 0 => {
                // The bytes first; the end is seen by the next fill.
                IoStep::Moved(total)
            }
            other => other,
        }
    }

    /// The write of `a` then `b` for a TLS connection (see the module doc
    /// for what "written" means here).
    pub(in crate::l4_conn) fn tls_write(&mut self, a: &[u8], b: &[u8], now: Instant) -> (IoStep, usize) {
        match self.handshake(now) {
            Handshake::Done => {}
            Handshake::Pending => return (IoStep::Blocked, 0),
            Handshake::Failed(_) => return (IoStep::Failed, 0),
        }
        if !self.tls_flush(now) {
            return (IoStep::Failed, 0);
        }
        if !self.tls_flushed() {
            return (IoStep::Blocked, 0);
        }
        let total = a.len() + b.len();
        let Some(t) = self.tls.as_mut() else { return (IoStep::Failed, 0) };
        let mut done = std::mem::take(&mut t.held).min(total);
        let step = loop {
            if done == total {
                break IoStep::Blocked;
            }
            let chunk = if done < a.len() { &a[done..] } else { &b[done - a.len()..] };
            let chunk = &chunk[..chunk.len().min(CHUNK)];
            let Some(t) = self.tls.as_mut() else { break IoStep::Failed };
            let n = t.engine.write_plain(chunk);
            if n == 0 {
                break IoStep::Blocked;
            }
            if !self.tls_flush(now) {
                break IoStep::Failed;
            }
            if self.tls_flushed() {
                done += n;
            } else {
                if let Some(t) = self.tls.as_mut() {
                    t.held = n;
                }
                break IoStep::Blocked;
            }
        };
        if done > 0 {
            self.last_io = now;
        }
        match step {
            IoStep::Blocked if done > 0 => (IoStep::Moved(done), done),
            other => (other, done),
        }
    }

    /// Bytes held back by the last send count as sent (their records are
    /// queued and leave with the next writable event): for a best-effort
    /// answer whose buffer the caller drops.
    pub(in crate::l4_conn) fn tls_forget_held(&mut self) {
        if let Some(t) = self.tls.as_mut() {
            t.held = 0;
        }
    }

    /// `shutdown_write` for TLS: close_notify, then our FIN once it left.
    pub(in crate::l4_conn) fn tls_shutdown(&mut self, now: Instant) {
        if let Some(t) = self.tls.as_mut() {
            if t.done {
                t.engine.close_notify();
            }
            t.shut_pending = true;
        }
        let _ = self.tls_flush(now);
    }

    /// A writable edge: what rustls still holds (a best-effort answer,
    /// a close_notify) leaves now.
    pub(in crate::l4_conn) fn tls_on_writable(&mut self) {
        if self.tls.as_ref().is_some_and(|t| t.engine.wants_write()) {
            let _ = self.tls_flush(Instant::now());
        }
    }

    /// rustls holds received plaintext the receive buffer had no room for.
    pub(in crate::l4_conn) fn tls_plain_left(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.plain_left)
    }

    /// Closing: a close_notify when the session is established and clean.
    pub(in crate::l4_conn) fn tls_on_close(&mut self) {
        if let Some(t) = self.tls.as_mut()
            && t.done
            && !t.shut_pending
            && self.error.is_none()
            && !self.write_shut
        {
            t.engine.close_notify();
            let _ = self.tls_flush(Instant::now());
        }
    }
}
