//! HTTP/2 to servers (`server ... proto h2`, h2c or over `ssl`; or `ssl
//! alpn h2,...` when the server's ALPN chooses h2): one connection per
//! server carries many streams at once, from any session of the worker.
//!
//! ```text
//!  Stream --HTTP/1.1 request--> H2Chan --HEADERS/DATA--> H2SrvConn --socket--> server
//!  Stream <--HTTP/1.1 response-- H2Chan <--inbox------- H2SrvConn <--frames--- server
//! ```
//!
//! - `mod.rs`: [`H2Servers`], the worker's connections by server, their
//!   tokens (sub-index [`H2SRV_SUB`]) and the wake list;
//! - `conn.rs`: the shared connection: frames in, windows, resets;
//! - `chan.rs`: one stream's use of it ([`H2Chan`]);
//! - `request.rs` / `response.rs`: the head conversions.
//!
//! A connection is shared (`Rc<RefCell<_>>`) by the pool and the streams
//! on it: all of one worker thread, each borrow lasting one call. A
//! stream reads its bytes when its session runs; the connection names the
//! streams it has news for in the wake list, which the worker drains
//! after each poll batch by running their sessions.

mod chan;
mod conn;
mod request;
mod response;

pub use chan::H2Chan;
use conn::H2SrvConn;

use crate::core::slab::{Key, TokenSlab};
use crate::l4_conn::{Conn, ServerId};
use hashbrown::HashMap;
use mio::Token;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Socket number marking a token as a shared HTTP/2 server connection's.
pub const H2SRV_SUB: u8 = 250;

type Shared = Rc<RefCell<H2SrvConn>>;
/// Tokens of the streams whose sessions must run (shared by the
/// connections and the worker).
type Wake = Rc<RefCell<Vec<Token>>>;

/// The worker's HTTP/2 server connections. Owned by the worker; streams
/// reach it through their context to attach to a connection.
#[derive(Default)]
pub struct H2Servers {
    slab: TokenSlab<Shared>,
    by_server: HashMap<ServerId, smallvec::SmallVec<[Key; 2]>>, // every live one, private included
    wake: Wake,
    next_purge: Option<Instant>, // when idle connections are looked at next
}

/// How often idle connections are checked against their `pool-purge-delay`
/// (so one closes at most this late).
const PURGE_EVERY: Duration = Duration::from_millis(500);

impl H2Servers {
    /// A connection to `server` with room for another stream, if any.
    pub fn find(&mut self, server: ServerId) -> Option<Shared> {
        self.sweep(server);
        let keys = self.by_server.get(&server)?;
        keys.iter()
            .filter_map(|&k| self.slab.get(k))
            .find(|c| {
                let c = c.borrow();
                c.decided && !c.private && c.has_room()
            })
            .cloned()
    }

    /// Forgets `server`'s closed connections.
    fn sweep(&mut self, server: ServerId) {
        let Some(keys) = self.by_server.get_mut(&server) else { return };
        let slab = &mut self.slab;
        keys.retain(|k| {
            let closed = slab.get(*k).is_none_or(|c| c.borrow().conn.is_none());
            if closed {
                slab.remove(*k);
            }
            !closed
        });
    }

    /// The token the next connection will be registered under.
    pub fn vacant_token(&self) -> Token {
        self.slab.vacant_key().token(H2SRV_SUB)
    }

    /// Keeps a new connection (registered under [`H2Servers::vacant_token`]).
    /// `decided`: HTTP/2 whatever ALPN says; `private`: for one stream only.
    /// `purge_delay`: the server's `pool-purge-delay`, after which the
    /// connection, unused, is closed.
    pub fn insert(
        &mut self,
        conn: Conn,
        server: ServerId,
        decided: bool,
        private: bool,
        purge_delay: Duration,
    ) -> Shared {
        let wake = self.wake.clone();
        let shared = Rc::new(RefCell::new(H2SrvConn::new(conn, decided, private, wake, purge_delay)));
        let key = self.slab.insert(shared.clone());
        self.by_server.entry(server).or_default().push(key);
        shared
    }

    /// A stream's handle on `shared`, its session woken under `owner`.
    pub fn attach(shared: Shared, owner: Token, now: Instant) -> H2Chan {
        H2Chan::new(shared, owner, now)
    }

    /// Readiness for connection `key`: its frames are read now, and the
    /// streams with news named in the wake list.
    pub fn on_event(&mut self, key: Key, ev: &mio::event::Event, now: Instant) {
        let Some(shared) = self.slab.get(key).cloned() else { return };
        let mut c = shared.borrow_mut();
        if let Some(conn) = c.conn.as_mut() {
            conn.on_event(ev);
        }
        if !c.connected {
            c.wake_all(); // the streams waiting for the connect check it
            return;
        }
        c.pump(now);
        // A closed one leaves the slab with its server's list (`sweep`), so
        // a list never names a reused key.
    }

    /// Closes the connections kept unused for their server's
    /// `pool-purge-delay` (HAProxy's idle connection purge; a connection
    /// per server, so the look at all of them is short), at most every
    /// [`PURGE_EVERY`]. Run by the worker every turn.
    pub fn purge_idle(&mut self, now: Instant) {
        if self.slab.is_empty() {
            self.next_purge = None;
            return;
        }
        if self.next_purge.is_some_and(|t| now < t) {
            return;
        }
        self.next_purge = Some(now + PURGE_EVERY);
        for shared in self.slab.iter() {
            let mut c = shared.borrow_mut();
            if c.conn.is_some() && c.purge_due(now) {
                c.close_idle(now);
            }
        }
        let servers: smallvec::SmallVec<[ServerId; 8]> = self.by_server.keys().copied().collect();
        for server in servers {
            self.sweep(server);
        }
        self.by_server.retain(|_, keys| !keys.is_empty());
    }

    /// When [`H2Servers::purge_idle`] has work next (None: no connection).
    pub fn next_purge(&self) -> Option<Instant> {
        if self.slab.is_empty() { None } else { self.next_purge }
    }

    /// The next stream whose session must run, if any.
    pub fn pop_wake(&mut self) -> Option<Token> {
        self.wake.borrow_mut().pop()
    }

    pub fn has_wakes(&self) -> bool {
        !self.wake.borrow().is_empty()
    }
}
