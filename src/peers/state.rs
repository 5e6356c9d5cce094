//! What a peers section remembers across connections: its resync state,
//! and for each peer its status, timers, counters and, per shared table,
//! how far updates were pushed, received and acknowledged (HAProxy's
//! `struct peers`, `struct peer`, `struct shared_table`).
//!
//! Flag values are HAProxy's, so `show peers` prints the same numbers.

use crate::stick::Table;
use crate::stick::table::ScanCursor;
use std::net::SocketAddr;
use std::sync::Arc;

use super::schema::Definition;

// section flags (PEERS_F_*)
pub const RESYNC_LOCAL: u32 = 0x0000_0001; // learning from a local (old) process is over
pub const RESYNC_REMOTE: u32 = 0x0000_0002; // learning from a remote peer is over
pub const RESYNC_ASSIGN: u32 = 0x0000_0004; // a peer was assigned to teach us
pub const RESYNC_PROCESS: u32 = 0x0000_0008; // the assigned peer was asked
pub const RESYNC_LOCALTIMEOUT: u32 = 0x0000_0010;
pub const RESYNC_REMOTETIMEOUT: u32 = 0x0000_0020;
pub const RESYNC_LOCALABORT: u32 = 0x0000_0040;
pub const RESYNC_REMOTEABORT: u32 = 0x0000_0080;
pub const RESYNC_LOCALFINISHED: u32 = 0x0000_0100;
pub const RESYNC_REMOTEFINISHED: u32 = 0x0000_0200;
pub const RESYNC_LOCALPARTIAL: u32 = 0x0000_0400;
pub const RESYNC_REMOTEPARTIAL: u32 = 0x0000_0800;
pub const RESYNC_LOCALASSIGN: u32 = 0x0000_1000;
pub const RESYNC_REMOTEASSIGN: u32 = 0x0000_2000;
pub const RESYNC_REQUESTED: u32 = 0x0000_4000; // a peer asked us for a resync
pub const DONOTSTOP: u32 = 0x0001_0000; // soft stop: wait until the new process learned our tables
pub const RESYNC_STATEMASK: u32 = RESYNC_LOCAL | RESYNC_REMOTE;
pub const RESYNC_FROMLOCAL: u32 = 0;
pub const RESYNC_FROMREMOTE: u32 = RESYNC_LOCAL;
pub const RESYNC_FINISHED: u32 = RESYNC_LOCAL | RESYNC_REMOTE;

// peer flags (PEER_F_*)
pub const TEACH_PROCESS: u32 = 0x0000_0001; // teaching the peer our whole tables
pub const TEACH_FINISHED: u32 = 0x0000_0008; // lesson sent, waiting for its confirm
pub const TEACH_COMPLETE: u32 = 0x0000_0010; // the local peer learned everything (reload)
pub const LEARN_ASSIGN: u32 = 0x0000_0100; // this peer teaches us
pub const LEARN_NOTUP2DATE: u32 = 0x0000_0200; // its lesson was partial
pub const ALIVE: u32 = 0x2000_0000; // a message came in this reconnect period
pub const HEARTBEAT: u32 = 0x4000_0000; // a heartbeat is due
pub const DWNGRD: u32 = 0x8000_0000; // speak version 2.0 to this peer

/// Timers (ms), HAProxy's.
pub const RESYNC_TIMEOUT: u64 = 5000;
pub const RECONNECT_TIMEOUT: u64 = 5000;
pub const HEARTBEAT_TIMEOUT: u64 = 3000;

/// One table of the section as every peer sees it.
pub struct Shared {
    pub table: Arc<Table>,
    pub name: String, // the name on the wire
}

/// One shared table as seen from one peer.
#[derive(Clone, Debug, Default)]
pub struct Cursor {
    pub last_get: u32,              // id of the last update received
    pub last_acked: u32,            // last id we acknowledged
    pub last_pushed: u64,           // our last update sent (local update number)
    pub teaching_origin: u64,       // where a full teaching started
    pub update: u64,                // our last update the peer acknowledged
    pub remote_id: u64,             // the peer's id for this table (0: not defined)
    pub remote: Option<Definition>, // the peer's definition
    pub taught: bool,               // the full teaching of this table is done
    pub scan: ScanCursor,           // where the full teaching is
    pub lesson_from: u64, // our local update number when the lesson's scan began: it covered every update up to it
}

/// One peer of a section.
pub struct Peer {
    pub name: String,
    pub addr: Option<SocketAddr>,
    pub local: bool,
    pub statuscode: u16,         // last handshake status (hello::ST_*), 0: never tried
    pub last_hdshk: Option<u64>, // when (ms)
    pub reconnect: Option<u64>,  // HAProxy's reconnect timer (ms)
    pub heartbeat: Option<u64>,  // when the next heartbeat is due (ms)
    pub flags: u32,
    pub confirm: u32, // resync confirms to send
    pub tx_hbt: u32,
    pub rx_hbt: u32,
    pub no_hbt: u32,
    pub new_conn: u32,
    pub proto_err: u32,
    pub coll: u32,
    pub failures: u32,        // handshakes failed in a row (strata's backoff)
    pub link: Option<u64>,    // the active connection (`Key::as_u64`)
    pub cursors: Vec<Cursor>, // per section table
}

impl Peer {
    pub fn new(name: String, addr: Option<SocketAddr>, local: bool, tables: usize) -> Peer {
        Peer {
            name,
            addr,
            local,
            statuscode: 0,
            last_hdshk: None,
            reconnect: None,
            heartbeat: None,
            flags: 0,
            confirm: 0,
            tx_hbt: 0,
            rx_hbt: 0,
            no_hbt: 0,
            new_conn: 0,
            proto_err: 0,
            coll: 0,
            failures: 0,
            link: None,
            cursors: vec![Cursor::default(); tables],
        }
    }
}

/// One `peers` section at run time.
pub struct Section {
    pub name: String,
    pub flags: u32,
    pub resync_timeout: Option<u64>, // ms
    pub last_change: std::time::SystemTime,
    pub task_calls: u32,
    pub peers: Vec<Peer>, // declaration order
    pub local: usize,     // index of the local peer
    pub tables: Vec<Shared>,
    pub listen: Option<SocketAddr>,
    pub listen_fd: Option<i32>, // `bind fd@N`: the inherited listener for `listen`
}

impl Section {
    /// Our resync state as the teacher's last message says it: finished
    /// when we learned everything ourselves, partial otherwise.
    pub fn up_to_date(&self) -> bool {
        self.flags & RESYNC_STATEMASK == RESYNC_FINISHED
    }

    /// HAProxy's `__peer_session_deinit`: the peer's connection ended.
    pub fn session_ended(&mut self, p: usize, now: u64) {
        let peer = &mut self.peers[p];
        peer.link = None;
        if peer.flags & LEARN_ASSIGN != 0 {
            peer.flags &= !LEARN_ASSIGN;
            self.flags &= !(RESYNC_ASSIGN | RESYNC_PROCESS);
            self.flags |= if peer.local { RESYNC_LOCALABORT } else { RESYNC_REMOTEABORT };
            self.resync_timeout = Some(now + RESYNC_TIMEOUT);
        }
        let peer = &mut self.peers[p];
        peer.flags &= !(TEACH_PROCESS | TEACH_FINISHED | LEARN_ASSIGN | LEARN_NOTUP2DATE);
        for c in &mut peer.cursors {
            c.remote_id = 0;
            c.remote = None;
        }
    }

    /// Cursors at the start of a session: pushing resumes after the last
    /// update the peer acknowledged (HAProxy's `init_*_peer`).
    fn reset_cursors(&mut self, p: usize) {
        let peer = &mut self.peers[p];
        for (c, sh) in peer.cursors.iter_mut().zip(&self.tables) {
            c.last_get = 0;
            c.last_acked = 0;
            if c.update > sh.table.local_update() {
                c.update = 0; // acknowledged ahead of us: an older process's numbers
            }
            c.teaching_origin = c.update;
            c.last_pushed = c.update;
            c.taught = false;
            c.scan = ScanCursor::default();
        }
        peer.confirm = 0;
        peer.flags &= !(TEACH_PROCESS | TEACH_FINISHED | LEARN_ASSIGN | LEARN_NOTUP2DATE);
    }

    /// A peer connected to us and the handshake succeeded.
    pub fn accepted(&mut self, p: usize, now: u64) {
        self.peers[p].heartbeat = Some(now + HEARTBEAT_TIMEOUT);
        self.peers[p].statuscode = super::hello::ST_SUCCESS;
        self.peers[p].last_hdshk = Some(now);
        self.peers[p].failures = 0;
        self.reset_cursors(p);
        let state = self.flags & RESYNC_STATEMASK;
        let peer = &mut self.peers[p];
        if peer.local {
            // an old process comes to teach us: its lesson needs no request
            if state == RESYNC_FROMLOCAL && self.flags & RESYNC_ASSIGN == 0 {
                peer.flags |= LEARN_ASSIGN;
                self.flags |= RESYNC_ASSIGN | RESYNC_PROCESS | RESYNC_LOCALASSIGN;
            }
        } else if state == RESYNC_FROMREMOTE && self.flags & RESYNC_ASSIGN == 0 {
            peer.flags |= LEARN_ASSIGN;
            self.flags |= RESYNC_ASSIGN | RESYNC_REMOTEASSIGN;
        }
    }

    /// Our connection to a peer got the 200 status.
    pub fn connected(&mut self, p: usize, now: u64) {
        self.peers[p].heartbeat = Some(now + HEARTBEAT_TIMEOUT);
        self.peers[p].failures = 0;
        self.reset_cursors(p);
        let state = self.flags & RESYNC_STATEMASK;
        let peer = &mut self.peers[p];
        if peer.local {
            // we are the old process: teach the new one everything
            peer.flags |= TEACH_PROCESS;
        } else if state == RESYNC_FROMREMOTE && self.flags & RESYNC_ASSIGN == 0 {
            peer.flags |= LEARN_ASSIGN;
            self.flags |= RESYNC_ASSIGN | RESYNC_REMOTEASSIGN;
        }
    }

    /// The peer asked for a full resync: teach it every table.
    pub fn resync_requested(&mut self, p: usize) {
        let peer = &mut self.peers[p];
        for c in &mut peer.cursors {
            c.teaching_origin = c.update;
            c.last_pushed = c.update;
            c.taught = false;
            c.scan = ScanCursor::default();
        }
        peer.flags &= !(TEACH_PROCESS | TEACH_FINISHED);
        peer.flags |= TEACH_PROCESS;
        self.flags |= RESYNC_REQUESTED;
    }

    /// The peer finished teaching us (`partial`: it was not up to date).
    pub fn lesson_ended(&mut self, p: usize, partial: bool, now: u64) {
        let peer = &mut self.peers[p];
        if peer.flags & LEARN_ASSIGN != 0 {
            peer.flags &= !LEARN_ASSIGN;
            self.flags &= !(RESYNC_ASSIGN | RESYNC_PROCESS);
            if partial {
                self.flags |= if peer.local { RESYNC_LOCALPARTIAL } else { RESYNC_REMOTEPARTIAL };
                peer.flags |= LEARN_NOTUP2DATE;
                self.resync_timeout = Some(now + RESYNC_TIMEOUT);
            } else {
                self.flags |= RESYNC_LOCAL | RESYNC_REMOTE;
                self.flags |= if peer.local { RESYNC_LOCALFINISHED } else { RESYNC_REMOTEFINISHED };
            }
        }
        self.peers[p].confirm += 1;
    }

    /// The peer confirmed our lesson: back to pushing updates, from where
    /// the lesson's scan started (so nothing changed meanwhile is missed,
    /// and what the scan sent is not sent again: the lesson walks the
    /// whole table, where HAProxy's walks its update tree).
    pub fn lesson_confirmed(&mut self, p: usize) {
        let peer = &mut self.peers[p];
        for c in &mut peer.cursors {
            let from = c.teaching_origin.max(c.lesson_from);
            c.update = from;
            c.last_pushed = from;
            c.taught = false;
            c.scan = ScanCursor::default();
        }
        peer.flags &= !(TEACH_PROCESS | TEACH_FINISHED);
    }
}
