//! Idle server connections kept for reuse, per server.
//!
//! A stream that finished cleanly on a keep-alive server connection hands
//! it here; a later stream to the same server takes it instead of
//! connecting. While idle, a connection stays registered under a token of
//! the pool's own slab (socket number [`IDLE_SUB`]), so the server closing
//! it, or sending anything unexpected, removes it at once.

use super::conn::Conn;
use crate::core::slab::{Key, TokenSlab};
use hashbrown::HashMap;
use log::debug;
use mio::{Registry, Token};
use std::time::Instant;

/// Socket number marking a token as the idle pool's (sessions use low numbers).
pub const IDLE_SUB: u8 = 255;

/// Server identity: (backend proxy index, server index).
pub type ServerId = (usize, usize);

/// One idle connection and the server it belongs to.
struct IdleConn {
    conn: Conn,
    server: ServerId,
}

/// The worker's idle server connections. Owned by the worker; streams use
/// it through their context to take and give back connections.
pub struct IdlePool {
    slab: TokenSlab<IdleConn>,
    per_server: HashMap<ServerId, Vec<Key>>, // most recently idle last
    max_per_server: usize,
}

impl IdlePool {
    pub fn new(max_per_server: usize) -> IdlePool {
        IdlePool { slab: TokenSlab::default(), per_server: HashMap::new(), max_per_server }
    }

    /// Keeps `conn` for reuse with `server`; drops it when the server's
    /// share is full or the connection is not clean (pending input, a
    /// shutdown, an error).
    pub fn put(&mut self, registry: &Registry, server: ServerId, mut conn: Conn) {
        let list = self.per_server.entry(server).or_default();
        let clean = conn.pending() == 0 && !conn.read_closed && !conn.write_shut && conn.error.is_none();
        if !clean || list.len() >= self.max_per_server {
            conn.deregister(registry);
            return;
        }
        let key = self.slab.vacant_key();
        if conn.reregister(registry, key.token(IDLE_SUB)).is_err() {
            return;
        }
        self.slab.insert(IdleConn { conn, server });
        list.push(key);
    }

    /// The most recently idled connection to `server`, re-registered under
    /// `token`, if any.
    pub fn take(&mut self, registry: &Registry, server: ServerId, token: Token) -> Option<Conn> {
        let list = self.per_server.get_mut(&server)?;
        while let Some(key) = list.pop() {
            let Some(mut idle) = self.slab.remove(key) else { continue };
            if idle.conn.reregister(registry, token).is_ok() {
                return Some(idle.conn);
            }
        }
        None
    }

    /// An event on an idle connection: the server closed it or sent
    /// something unsolicited; either way it is no longer reusable.
    pub fn on_event(&mut self, registry: &Registry, key: Key, ev: &mio::event::Event, now: Instant) {
        let Some(idle) = self.slab.get_mut(key) else { return };
        idle.conn.on_event(ev);
        if !idle.conn.is_readable() {
            return; // writable edge only: still idle and clean
        }
        let _ = idle.conn.fill(now);
        if idle.conn.pending() == 0 && !idle.conn.read_closed && idle.conn.error.is_none() {
            return; // spurious readiness: nothing arrived
        }
        if let Some(mut idle) = self.slab.remove(key) {
            debug!(target: "l4", "idle connection to server {:?} closed by peer", idle.server);
            idle.conn.deregister(registry);
            if let Some(list) = self.per_server.get_mut(&idle.server) {
                list.retain(|k| *k != key);
            }
        }
    }

    /// Idle connections currently kept for `server`.
    pub fn idle_count(&self, server: ServerId) -> usize {
        self.per_server.get(&server).map_or(0, Vec::len)
    }

    /// Idle connections kept in all.
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slab.is_empty()
    }
}
