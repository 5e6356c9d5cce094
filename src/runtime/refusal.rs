//! Connections refused at accept because the `-m` memory cap leaves no
//! room for their buffers: an HTTP frontend's client gets HAProxy's 503,
//! then the connection closes; a TCP frontend's is closed at once.
//!
//! A refused connection holds no pool buffer: the 503 is a static page
//! written straight to the socket, then the write side is shut and what
//! the client still sends is read into a small stack scratch and dropped
//! until it closes (a close with unread bytes would send a reset, which
//! can destroy the 503 before the client reads it), or at most
//! `LINGER` later. Refused connections live in their own slab (token
//! socket number [`REFUSED_SUB`]).

use crate::core::slab::{Key, TokenSlab};
use crate::core::timer::TimerSlot;
use crate::l7_http::errors::BuiltinStatus;
use mio::net::TcpStream;
use mio::{Interest, Registry};
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

/// Socket number marking a token as a refused connection's.
pub const REFUSED_SUB: u8 = 252;

/// How long a refused connection may linger before it is closed anyway.
const LINGER: Duration = Duration::from_secs(1);

/// Most bytes read and dropped from one refused connection.
const MAX_DISCARD: usize = 64 * 1024;

/// One refused connection being closed.
pub struct Refused {
    sock: TcpStream,
    discarded: usize,
    pub deadline: Instant,
    pub timer: TimerSlot,
}

/// The refused connections of a worker.
#[derive(Default)]
pub struct Refusals {
    slab: TokenSlab<Refused>,
}

impl Refusals {
    /// Refuses `sock`: writes the 503 when `http`, shuts the write side,
    /// and keeps the socket to drain it. Returns its key when it lingers
    /// (the worker arms its timer); None when it was closed at once.
    pub fn refuse(
        &mut self,
        mut sock: TcpStream,
        http: bool,
        registry: &Registry,
        now: Instant,
    ) -> Option<Key> {
        if !http {
            return None; // dropped: closed
        }
        // A fresh socket's send buffer is empty: the page goes out whole.
        let _ = sock.write(BuiltinStatus::ServiceUnavailable.bytes());
        let _ = sock.shutdown(std::net::Shutdown::Write);
        let key = self.slab.vacant_key();
        registry.register(&mut sock, key.token(REFUSED_SUB), Interest::READABLE).ok()?;
        self.slab.insert(Refused { sock, discarded: 0, deadline: now + LINGER, timer: TimerSlot::default() });
        Some(key)
    }

    pub fn get_mut(&mut self, key: Key) -> Option<&mut Refused> {
        self.slab.get_mut(key)
    }

    /// Reads and drops what arrived; closes on end of stream, error, or
    /// too much. Returns false once closed.
    pub fn on_event(&mut self, key: Key, registry: &Registry) -> bool {
        let Some(r) = self.slab.get_mut(key) else { return false };
        let mut scratch = [0u8; 2048];
        let open = loop {
            match r.sock.read(&mut scratch) {
                Ok(0) => break false,
                Ok(n) => {
                    r.discarded += n;
                    if r.discarded > MAX_DISCARD {
                        break false;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break false,
            }
        };
        if !open {
            self.close(key, registry);
        }
        open
    }

    /// Closes a refused connection whose lingering time is over.
    pub fn expire(&mut self, key: Key, registry: &Registry, now: Instant) {
        if self.slab.get_mut(key).is_some_and(|r| r.deadline <= now) {
            self.close(key, registry);
        }
    }

    fn close(&mut self, key: Key, registry: &Registry) {
        if let Some(mut r) = self.slab.remove(key) {
            let _ = registry.deregister(&mut r.sock);
        }
    }
}
