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
    owner: Option<Token>, // the session it is private to (its server token)
}

/// The worker's idle server connections. Owned by the worker; streams use
/// it through their context to take and give back connections.
pub struct IdlePool {
    slab: TokenSlab<IdleConn>,
    per_server: HashMap<ServerId, Vec<Key>>, // shared ones, most recently idle last
    private: HashMap<Token, Key>,            // one private connection per owning session
    max_per_server: usize,
}

impl IdlePool {
    pub fn new(max_per_server: usize) -> IdlePool {
        IdlePool {
            slab: TokenSlab::default(),
            per_server: HashMap::new(),
            private: HashMap::new(),
            max_per_server,
        }
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
        self.slab.insert(IdleConn { conn, server, owner: None });
        list.push(key);
    }

    /// Keeps `conn` for the next request of the session whose server token
    /// is `owner` only (replacing the one it kept before, if any); drops it
    /// when it is not clean.
    pub fn put_private(&mut self, registry: &Registry, server: ServerId, owner: Token, mut conn: Conn) {
        self.drop_owned(registry, owner);
        let clean = conn.pending() == 0 && !conn.read_closed && !conn.write_shut && conn.error.is_none();
        let key = self.slab.vacant_key();
        if !clean || conn.reregister(registry, key.token(IDLE_SUB)).is_err() {
            conn.deregister(registry);
            return;
        }
        self.slab.insert(IdleConn { conn, server, owner: Some(owner) });
        self.private.insert(owner, key);
    }

    /// The connection to `server` kept private for `owner`, re-registered
    /// under `owner` (the stream's server token), if any.
    pub fn take_private(&mut self, registry: &Registry, server: ServerId, owner: Token) -> Option<Conn> {
        let key = *self.private.get(&owner)?;
        if self.slab.get_mut(key)?.server != server {
            return None; // kept for another server; stays until replaced or the session ends
        }
        self.private.remove(&owner);
        let mut idle = self.slab.remove(key)?;
        idle.conn.reregister(registry, owner).is_ok().then_some(idle.conn)
    }

    /// Closes the connection kept private for `owner` (its session ends).
    pub fn drop_owned(&mut self, registry: &Registry, owner: Token) {
        if let Some(key) = self.private.remove(&owner)
            && let Some(mut idle) = self.slab.remove(key)
        {
            idle.conn.deregister(registry);
        }
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
            match idle.owner {
                Some(owner) => {
                    self.private.remove(&owner);
                }
                None => {
                    if let Some(list) = self.per_server.get_mut(&idle.server) {
                        list.retain(|k| *k != key);
                    }
                }
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
