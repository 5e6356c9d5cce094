//! A section's timer work (HAProxy's `process_peer_sync`): when to
//! connect to each peer, heartbeats, dead peers, which peer teaches us,
//! giving up on a lesson, and the soft-stop hand-over to the new process.
//!
//! It decides; the connections in `net` act: [`plan`] returns what to do.

use super::hello;
use super::state::*;

/// What the section asks of the connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    Connect(usize), // open a connection to peer N
    Kill(usize),    // close peer N's connection (dead, or soft stop)
    Wake(usize),    // peer N's connection has messages to write
}

/// Longest wait between attempts at a peer that refused our handshake
/// (HAProxy never retries such a peer; strata backs off up to this).
const MAX_BACKOFF: u64 = 60_000;

/// Inputs of one run.
pub struct Env {
    pub now: u64,
    pub stopping: bool,     // soft stop in progress
    pub stop_started: bool, // the soft stop began since the last run
    pub wait_old: bool,     // started to replace an old process (-sf/-st)
    pub rand: u32,
}

fn expired(t: Option<u64>, now: u64) -> bool {
    t.is_some_and(|t| t <= now)
}

/// Runs the section's task; `established(p)` tells whether peer p's
/// connection finished its handshake. Returns the actions and the next
/// time the task wants to run.
pub fn plan(s: &mut Section, env: &Env, established: &dyn Fn(usize) -> bool) -> (Vec<Act>, Option<u64>) {
    s.task_calls = s.task_calls.wrapping_add(1);
    let now = env.now;
    let mut acts = Vec::new();
    let mut next: Option<u64> = None;
    let mut at = |t: Option<u64>| {
        if let Some(t) = t {
            next = Some(next.map_or(t, |n| n.min(t)));
        }
    };
    if !env.stopping {
        if s.resync_timeout.is_none() {
            s.resync_timeout = Some(now + RESYNC_TIMEOUT);
        }
        if s.flags & RESYNC_STATEMASK == RESYNC_FROMLOCAL
            && (!env.wait_old || expired(s.resync_timeout, now))
            && s.flags & RESYNC_ASSIGN == 0
        {
            // no old process to learn from (or it did not come): ask remote peers
            s.flags |= RESYNC_LOCAL | RESYNC_LOCALTIMEOUT;
            s.resync_timeout = Some(now + RESYNC_TIMEOUT);
        }
        for p in 0..s.peers.len() {
            if s.peers[p].local {
                continue;
            }
            let peer = &s.peers[p];
            if peer.link.is_none() {
                let st = peer.statuscode;
                let retry_ok = matches!(st, hello::ST_CONNECTING | hello::ST_SUCCESS | hello::ST_CONNECTED);
                let due = if st == 0 || retry_ok {
                    peer.reconnect
                } else {
                    // refused handshake: back off (5 s, 10 s ... 60 s)
                    let shift = peer.failures.saturating_sub(1).min(4);
                    let wait = (RECONNECT_TIMEOUT << shift).min(MAX_BACKOFF);
                    peer.last_hdshk.map(|t| t + wait)
                };
                if st == 0 || due.is_none_or(|d| d <= now) {
                    acts.push(Act::Connect(p));
                    at(Some(now + RECONNECT_TIMEOUT));
                } else {
                    at(due);
                }
                continue;
            }
            if !established(p) {
                at(s.peers[p].reconnect);
                continue;
            }
            let state = s.flags & RESYNC_STATEMASK;
            if state == RESYNC_FROMREMOTE
                && s.flags & RESYNC_ASSIGN == 0
                && s.peers[p].flags & LEARN_NOTUP2DATE == 0
            {
                s.peers[p].flags |= LEARN_ASSIGN;
                s.flags |= RESYNC_ASSIGN | RESYNC_REMOTEASSIGN;
                acts.push(Act::Wake(p));
                continue;
            }
            let to_push = s.peers[p]
                .cursors
                .iter()
                .zip(&s.tables)
                .any(|(c, sh)| c.last_pushed != sh.table.local_update());
            let peer = &mut s.peers[p];
            if to_push {
                // updates make heartbeats needless: the peer sees us alive
                peer.flags &= !HEARTBEAT;
                peer.heartbeat = Some(now + HEARTBEAT_TIMEOUT);
                acts.push(Act::Wake(p));
            }
            // HAProxy skips this check while it has updates to push, so a
            // silent peer it waits a lesson from is never dropped; a live
            // peer acks updates or sends heartbeats, so strata always checks
            if expired(peer.reconnect, now) {
                if peer.flags & ALIVE != 0 {
                    peer.flags &= !ALIVE;
                    peer.reconnect = Some(now + RECONNECT_TIMEOUT);
                } else {
                    log::warn!(target: "peers", "peers {}: no message from peer '{}' for {} ms, connection closed",
                        s.name, peer.name, RECONNECT_TIMEOUT);
                    peer.reconnect = Some(now + 50 + u64::from(env.rand % 2000));
                    peer.heartbeat = None;
                    peer.no_hbt += 1;
                    acts.push(Act::Kill(p));
                }
            } else if !to_push && expired(peer.heartbeat, now) {
                peer.heartbeat = Some(now + HEARTBEAT_TIMEOUT);
                peer.flags |= HEARTBEAT;
                acts.push(Act::Wake(p));
            }
            at(peer.reconnect);
            at(peer.heartbeat);
        }
        if s.flags & RESYNC_STATEMASK == RESYNC_FROMREMOTE
            && s.flags & RESYNC_ASSIGN == 0
            && expired(s.resync_timeout, now)
        {
            // nobody taught us in time: consider ourselves up to date
            s.flags |= RESYNC_REMOTE | RESYNC_REMOTETIMEOUT;
        }
        if s.flags & RESYNC_STATEMASK != RESYNC_FINISHED && !expired(s.resync_timeout, now) {
            at(s.resync_timeout);
        }
        return (acts, next);
    }
    // soft stop: hand the tables over to the new process via the local peer
    if env.stop_started && s.flags & DONOTSTOP == 0 {
        s.flags |= DONOTSTOP;
        for p in 0..s.peers.len() {
            let peer = &mut s.peers[p];
            peer.reconnect = Some(now + 50 + u64::from(env.rand % 2000));
            if peer.link.is_some() {
                acts.push(Act::Kill(p));
            }
        }
    }
    let l = s.local;
    let local = &s.peers[l];
    if local.flags & TEACH_COMPLETE != 0 {
        s.flags &= !DONOTSTOP;
    } else if local.link.is_none() || acts.contains(&Act::Kill(l)) {
        let retry =
            matches!(local.statuscode, 0 | hello::ST_SUCCESS | hello::ST_CONNECTED | hello::ST_TRY_AGAIN);
        if s.flags & DONOTSTOP != 0 {
            if retry && local.statuscode == hello::ST_TRY_AGAIN && !expired(local.reconnect, now) {
                at(local.reconnect);
            } else if retry && local.addr_known() {
                acts.push(Act::Connect(l));
                at(Some(now + RECONNECT_TIMEOUT));
            } else {
                // nobody to teach (no new process listening): stop anyway
                log::info!(target: "peers", "peers {}: no new process took the tables over", s.name);
                s.flags &= !DONOTSTOP;
            }
        }
    } else if established(l) {
        acts.push(Act::Wake(l));
    } else {
        at(s.peers[l].reconnect);
    }
    (acts, next)
}

impl Peer {
    /// Whether an address to connect to is known.
    pub fn addr_known(&self) -> bool {
        self.addr.is_some()
    }
}
