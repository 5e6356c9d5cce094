//! Idle server connections kept for reuse, per server.
//!
//! A stream that finished cleanly on a keep-alive server connection hands
//! it here; a later stream to the same server takes it instead of
//! connecting. The server closing an idle connection, or sending anything
//! unexpected, removes it at once.
//!
//! Re-registration is lazy: a connection put here stays registered under
//! the server token of the session that used it, so the common keep-alive
//! case (the same session's next request takes it back) costs no
//! `epoll_ctl`. Its events reach the pool through that session
//! ([`IdlePool::on_token_event`]). It moves to a token of the pool's own
//! slab (socket number [`IDLE_SUB`]) only when that session needs its token
//! for another connection or ends ([`IdlePool::rehome`]), and to another
//! session's token when that session takes it.

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

/// Reusable as it is: nothing pending, both directions open, no error.
fn clean(conn: &Conn) -> bool {
    conn.pending() == 0 && !conn.read_closed && !conn.write_shut && conn.error.is_none()
}

/// One idle connection and the server it belongs to.
struct IdleConn {
    conn: Conn,
    server: ServerId,
    owner: Option<Token>, // the session it is private to (its server token)
    registered: Token,    // the token its events come with now
    purge_at: Instant,    // shared ones: closed if still unused then (`pool-purge-delay`)
}

/// One server's shared idle connections, most recently idle last.
/// Removing one from the middle (its session took it back, or the server
/// closed it) leaves its key behind to be skipped later, so that removal
/// is O(1); the list is compacted when stale keys outnumber live ones.
#[derive(Default)]
struct Shared {
    keys: Vec<Key>, // live and stale (removed) keys
    live: usize,    // how many of `keys` are still in the slab
}

/// The worker's idle server connections. Owned by the worker; streams use
/// it through their context to take and give back connections.
pub struct IdlePool {
    slab: TokenSlab<IdleConn>,
    per_server: HashMap<ServerId, Shared>, // shared ones per server
    private: HashMap<Token, Key>,          // one private connection per owning session
    by_token: HashMap<Token, Key>,         // connections still registered under a session's token
    max_idle: usize,                       // idle connections kept in all, shared and private
    next_purge: Option<Instant>,           // when shared ones are checked against their purge date next
    closed: Vec<usize>,                    // backends of the connections closed here, until `take_closed`
}

/// How many idle server connections one worker keeps in all: HAProxy's
/// rule with its defaults (no connection enters the idle pools once a
/// fifth of the process's sockets are in use, `tune.pool-low-fd-ratio
/// 20`, with about two sockets per connection of `maxconn`), shared among
/// the `threads` workers, and never fewer than 64 per worker. A fixed
/// small count closed and reopened server connections whenever more
/// streams than that ended at once: with HTTP/2 clients running 100
/// streams to one server, a third of the requests paid a new connection.
pub fn idle_limit(maxconn: u32, threads: u32) -> usize {
    let share = (maxconn as usize * 2 / 5) / threads.max(1) as usize;
    share.max(64)
}

/// How often shared idle connections are checked against their server's
/// `pool-purge-delay` (so one closes at most this late).
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

impl IdlePool {
    /// A pool keeping at most `max_idle` idle connections in all (see
    /// [`idle_limit`]).
    pub fn new(max_idle: usize) -> IdlePool {
        IdlePool {
            slab: TokenSlab::default(),
            per_server: HashMap::new(),
            private: HashMap::new(),
            by_token: HashMap::new(),
            max_idle,
            next_purge: None,
            closed: Vec::new(),
        }
    }

    /// Keeps `conn` (registered under `token`) for reuse with `server`;
    /// drops it when the server's share or the pool is full or the
    /// connection is not clean (pending input, a shutdown, an error).
    ///
    /// A clean connection dropped because the share is full is closed with
    /// an RST, as HAProxy closes a server connection it will not reuse: an
    /// orderly close would leave the proxy's side in TIME_WAIT, holding an
    /// ephemeral port for a minute, and under connection-per-request load
    /// thousands of them make every `connect()` search longer for a port.
    ///
    /// `cap` is the server's own `pool-max-conn` (None: only the pool's
    /// limit, [`idle_limit`]; 0: the server keeps no idle connection); `keep` its
    /// `pool-purge-delay`, how long it stays unused before [`IdlePool::purge`]
    /// closes it (0: not kept).
    pub fn put(
        &mut self,
        registry: &Registry,
        server: ServerId,
        token: Token,
        mut conn: Conn,
        cap: Option<u32>,
        (now, keep): (Instant, std::time::Duration),
    ) {
        let server_full =
            cap.is_some_and(|c| self.per_server.get(&server).map_or(0, |l| l.live) >= c as usize);
        let full = cap == Some(0) || keep.is_zero() || server_full || self.slab.len() >= self.max_idle;
        if !clean(&conn) || full {
            if full {
                conn.reset_on_close();
            }
            self.close(server, conn);
            return;
        }
        self.rehome(registry, token);
        let key =
            self.slab.insert(IdleConn { conn, server, owner: None, registered: token, purge_at: now + keep });
        self.by_token.insert(token, key);
        let shared = self.per_server.entry(server).or_default();
        shared.keys.push(key);
        shared.live += 1;
        if shared.keys.len() > 2 * shared.live + 16 {
            let slab = &self.slab;
            shared.keys.retain(|k| slab.get(*k).is_some());
        }
    }

    /// Keeps `conn` for the next request of the session whose server token
    /// is `owner` only (replacing the one it kept before, if any); drops it
    /// when it is not clean. `conn` is registered under `owner`.
    pub fn put_private(&mut self, server: ServerId, owner: Token, conn: Conn) {
        self.drop_owned(owner);
        if !clean(&conn) {
            self.close(server, conn);
            return;
        }
        // A session's own connection ends with the session, not by purge.
        let purge_at = Instant::now();
        let key =
            self.slab.insert(IdleConn { conn, server, owner: Some(owner), registered: owner, purge_at });
        self.by_token.insert(owner, key);
        self.private.insert(owner, key);
    }

    /// The connection to `server` kept private for `owner`, registered
    /// under `owner` (the stream's server token), if any.
    pub fn take_private(&mut self, registry: &Registry, server: ServerId, owner: Token) -> Option<Conn> {
        let key = *self.private.get(&owner)?;
        if self.slab.get_mut(key)?.server != server {
            return None; // kept for another server; stays until replaced or the session ends
        }
        self.private.remove(&owner);
        let idle = self.remove(key)?;
        self.claim(registry, idle, owner)
    }

    /// The server of the connection kept private for `owner`, if any.
    pub fn private_server(&self, owner: Token) -> Option<ServerId> {
        let key = *self.private.get(&owner)?;
        self.slab.get(key).map(|i| i.server)
    }

    /// Closes the connection kept private for `owner` (its session ends).
    pub fn drop_owned(&mut self, owner: Token) {
        if let Some(key) = self.private.remove(&owner)
            && let Some(idle) = self.remove(key)
        {
            self.close(idle.server, idle.conn);
        }
    }

    /// Closes every shared idle connection to `server` (it went into
    /// maintenance: HAProxy drops them then, so a later `del server` finds
    /// none). Connections private to a session stay with it.
    pub fn close_server(&mut self, server: ServerId) {
        let Some(shared) = self.per_server.remove(&server) else { return };
        for key in shared.keys {
            if let Some(idle) = self.remove_popped(key) {
                self.close(idle.server, idle.conn);
            }
        }
    }

    /// Moves the idle connection still registered under `token` (if any) to
    /// a token of the pool's own: the session owning `token` needs it for
    /// a new connection, or ends.
    pub fn rehome(&mut self, registry: &Registry, token: Token) {
        let Some(key) = self.by_token.remove(&token) else { return };
        let Some(idle) = self.slab.get_mut(key) else { return };
        let own = key.token(IDLE_SUB);
        if idle.conn.reregister(registry, own).is_ok() {
            idle.registered = own;
        } else if let Some(idle) = self.remove(key) {
            self.close(idle.server, idle.conn);
        }
    }

    /// Gives `idle` to the stream whose server token is `token`.
    fn claim(&mut self, registry: &Registry, mut idle: IdleConn, token: Token) -> Option<Conn> {
        if idle.registered == token {
            return Some(idle.conn); // the same session's next request: nothing to change
        }
        self.rehome(registry, token); // `token` must name one socket only
        if idle.conn.reregister(registry, token).is_ok() {
            return Some(idle.conn);
        }
        self.close(idle.server, idle.conn);
        None
    }

    /// Closes a connection that was (or was about to be) idle here.
    fn close(&mut self, server: ServerId, conn: Conn) {
        self.closed.push(server.0);
        conn.close();
    }

    /// The backends (proxy indexes) of the connections closed here since
    /// the last call, one entry each: they were HTTP/1 connections of
    /// theirs (`h1_open_connections`).
    pub fn take_closed(&mut self) -> std::vec::Drain<'_, usize> {
        self.closed.drain(..)
    }

    /// Removes entry `key` from every index.
    fn remove(&mut self, key: Key) -> Option<IdleConn> {
        let idle = self.remove_popped(key)?;
        if idle.owner.is_none()
            && let Some(shared) = self.per_server.get_mut(&idle.server)
        {
            shared.live -= 1; // its key stays in `keys`, skipped when popped
        }
        Some(idle)
    }

    /// Removes entry `key` from every index but its server's list (the
    /// caller just popped it from there).
    fn remove_popped(&mut self, key: Key) -> Option<IdleConn> {
        let idle = self.slab.remove(key)?;
        if self.by_token.get(&idle.registered) == Some(&key) {
            self.by_token.remove(&idle.registered);
        }
        if let Some(owner) = idle.owner
            && self.private.get(&owner) == Some(&key)
        {
            self.private.remove(&owner);
        }
        Some(idle)
    }

    /// A connection to `server` registered under `token`, if any: the one
    /// this session left (already registered), else the most recently
    /// idled one.
    pub fn take(&mut self, registry: &Registry, server: ServerId, token: Token) -> Option<Conn> {
        // The session's own previous connection first: it needs no re-registration.
        if let Some(&key) = self.by_token.get(&token)
            && self.slab.get_mut(key).is_some_and(|i| i.server == server && i.owner.is_none())
            && let Some(idle) = self.remove(key)
        {
            return Some(idle.conn);
        }
        loop {
            let key = self.per_server.get_mut(&server)?.keys.pop()?;
            let Some(idle) = self.remove_popped(key) else { continue }; // a stale key
            if let Some(shared) = self.per_server.get_mut(&server) {
                shared.live -= 1;
            }
            if let Some(conn) = self.claim(registry, idle, token) {
                return Some(conn);
            }
        }
    }

    /// An event on an idle connection registered under the pool's own
    /// token `key`.
    pub fn on_event(&mut self, key: Key, ev: &mio::event::Event, now: Instant) {
        self.event(key, ev, now);
    }

    /// An event that came with a session's server token while the session
    /// has no stream using it: it is for the idle connection still
    /// registered under that token, if any.
    pub fn on_token_event(&mut self, token: Token, ev: &mio::event::Event, now: Instant) {
        if let Some(&key) = self.by_token.get(&token) {
            self.event(key, ev, now);
        }
    }

    /// The server closed an idle connection or sent something unsolicited:
    /// either way it is no longer reusable.
    fn event(&mut self, key: Key, ev: &mio::event::Event, now: Instant) {
        let Some(idle) = self.slab.get_mut(key) else { return };
        idle.conn.on_event(ev);
        if !idle.conn.is_readable() {
            return; // writable edge only: still idle and clean
        }
        let _ = idle.conn.fill(now);
        if idle.conn.pending() == 0 && !idle.conn.read_closed && idle.conn.error.is_none() {
            return; // spurious readiness: nothing arrived
        }
        if let Some(idle) = self.remove(key) {
            debug!(target: "l4", "idle connection to server {:?} closed by peer", idle.server);
            self.close(idle.server, idle.conn);
        }
    }

    /// Closes the shared idle connections whose server's `pool-purge-delay`
    /// has passed unused (HAProxy's idle connection purge), at most every
    /// [`PURGE_EVERY`]. Each server's list is in idle order and all of a
    /// server's have the same delay, so only the expired front of each list
    /// is looked at. Run by the worker every turn.
    pub fn purge(&mut self, now: Instant) {
        if self.per_server.is_empty() {
            self.next_purge = None;
            return;
        }
        if self.next_purge.is_some_and(|t| now < t) {
            return;
        }
        self.next_purge = Some(now + PURGE_EVERY);
        let slab = &mut self.slab;
        let mut expired: smallvec::SmallVec<[Key; 8]> = smallvec::SmallVec::new();
        for shared in self.per_server.values_mut() {
            let front =
                shared.keys.iter().take_while(|k| slab.get(**k).is_none_or(|i| i.purge_at <= now)).count();
            for k in shared.keys.drain(..front) {
                if slab.get(k).is_some() {
                    shared.live -= 1;
                    expired.push(k);
                }
            }
        }
        self.per_server.retain(|_, s| !s.keys.is_empty());
        for key in expired {
            if let Some(idle) = self.remove_popped(key) {
                debug!(target: "l4", "idle connection to server {:?} unused for its pool-purge-delay: closed", idle.server);
                self.close(idle.server, idle.conn);
            }
        }
    }

    /// When [`IdlePool::purge`] has work next (None: no shared idle connection).
    pub fn next_purge(&self) -> Option<Instant> {
        if self.per_server.is_empty() { None } else { self.next_purge }
    }

    /// Idle connections currently kept for `server`.
    pub fn idle_count(&self, server: ServerId) -> usize {
        self.per_server.get(&server).map_or(0, |s| s.live)
    }

    /// Idle connections kept in all.
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slab.is_empty()
    }
}
