//! A backend's queue: streams waiting for a server slot when every usable
//! server is at its `maxconn` (HAProxy's backend "pendconn" queue).
//!
//! The queue is first in, first out. A stream that leaves while waiting
//! (its client went away, `timeout queue` expired) is not searched for: its
//! entry stays and is skipped when it reaches the front, because the
//! stream it names is no longer waiting. `waiting` counts the streams
//! really waiting (`qcur`), so it is exact at every moment.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Entries (live or not) in every queue of the process, changed only
/// under the backends' lock (where the queues are). A worker's turn
/// looks at the queues only when it is not 0 (`Worker::serve_queues`):
/// a slot given back under the lock after a stream joined a queue sees
/// that stream's entry counted, so no waiter is missed.
static ENTRIES: AtomicUsize = AtomicUsize::new(0);

/// Some queue of the process holds an entry (see [`ENTRIES`]).
pub fn any_entries() -> bool {
    ENTRIES.load(Ordering::Acquire) > 0
}

/// Who is waiting: the worker thread running the stream, the stream's
/// server token (which names its session in that worker) and the stream's
/// id (which tells a later stream of the same session from this one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Waiter {
    pub token: usize,
    pub stream: u64,
    pub thread: usize,
}

/// The queue of one backend (or of one server: streams a hash pins to it).
/// Owned by its `BackendState` (or `ServerState`); streams join and leave
/// it, the worker hands the front waiter a freed slot.
#[derive(Debug, Default)]
pub struct Queue {
    entries: VecDeque<(Waiter, (i64, i64))>, // by rank (priority class, due time), then arrival; may hold streams that left
    pub waiting: u32,                        // streams waiting now (`qcur`)
    pub max_waiting: u32,                    // most streams ever waiting at once (`qmax`)
    served: u64,                             // waiters handed a slot so far (for `%bq`)
    granted: Option<Waiter>,                 // the waiter being handed a slot right now
}

/// What a stream keeps while it waits: where it stood, for `%bq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ticket {
    served_before: u64,
}

impl Clone for Queue {
    fn clone(&self) -> Queue {
        ENTRIES.fetch_add(self.entries.len(), Ordering::AcqRel);
        Queue {
            entries: self.entries.clone(),
            waiting: self.waiting,
            max_waiting: self.max_waiting,
            served: self.served,
            granted: self.granted,
        }
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        ENTRIES.fetch_sub(self.entries.len(), Ordering::AcqRel);
    }
}

impl Queue {
    /// Adds a waiter at the back.
    pub fn join(&mut self, w: Waiter) -> Ticket {
        let last = self.entries.back().map_or((0, i64::MIN), |e| e.1);
        self.join_ranked(w, (0, last.1))
    }

    /// Adds a waiter by rank: `(set-priority-class, arrival ms +
    /// set-priority-offset)`, lower first, as HAProxy orders its queue;
    /// equal ranks keep their arrival order (a plain FIFO when no
    /// priority is set, and then O(1)).
    pub fn join_ranked(&mut self, w: Waiter, rank: (i64, i64)) -> Ticket {
        let mut at = self.entries.len();
        while at > 0 && self.entries[at - 1].1 > rank {
            at -= 1;
        }
        self.entries.insert(at, (w, rank));
        ENTRIES.fetch_add(1, Ordering::AcqRel);
        self.waiting += 1;
        self.max_waiting = self.max_waiting.max(self.waiting);
        Ticket { served_before: self.served }
    }

    /// A waiter stops waiting (`served`: handed a slot; else it gave up
    /// or its stream ended). Returns HAProxy's `%bq`: the waiters served since it joined,
    /// plus one (being first in line reports 1).
    pub fn leave(&mut self, t: Ticket, served: bool) -> u32 {
        self.waiting = self.waiting.saturating_sub(1);
        let pos = (self.served - t.served_before + 1).min(u32::MAX as u64) as u32;
        self.served += u64::from(served);
        pos
    }

    /// Some stream is waiting.
    pub fn is_busy(&self) -> bool {
        self.waiting > 0
    }

    /// Entries left to look at (live or not): bounds one serving round.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The thread of the front entry (live or not), if any.
    pub fn front_thread(&self) -> Option<usize> {
        self.entries.front().map(|(w, _)| w.thread)
    }

    /// A grant is out, not yet claimed or dropped: no other may be given
    /// (the one slot it stands for is spoken for).
    pub fn grant_pending(&self) -> bool {
        self.granted.is_some()
    }

    /// Takes the front entry and marks it as the one being handed a slot.
    /// The worker then runs that stream's session; the stream claims the
    /// grant with [`Queue::claim`]. A grant left unclaimed was for a stream
    /// that no longer waits: [`Queue::drop_grant`] discards it.
    pub fn grant_next(&mut self) -> Option<Waiter> {
        let (w, _) = self.entries.pop_front()?;
        ENTRIES.fetch_sub(1, Ordering::AcqRel);
        self.granted = Some(w);
        Some(w)
    }

    /// The stream `w` takes the slot granted to it, if it was granted one.
    pub fn claim(&mut self, w: Waiter) -> bool {
        if self.granted == Some(w) {
            self.granted = None;
            true
        } else {
            false
        }
    }

    /// Forgets an unclaimed grant.
    pub fn drop_grant(&mut self) {
        self.granted = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Waiter = Waiter { token: 1, stream: 10, thread: 0 };
    const B: Waiter = Waiter { token: 2, stream: 20, thread: 0 };

    #[test]
    fn first_in_first_out_with_positions() {
        let mut q = Queue::default();
        let ta = q.join(A);
        let tb = q.join(B);
        assert_eq!((q.waiting, q.max_waiting), (2, 2));
        assert_eq!(q.grant_next(), Some(A));
        assert!(!q.claim(B), "only the granted waiter claims");
        assert!(q.claim(A));
        assert_eq!(q.leave(ta, true), 1, "first in line reports 1");
        assert_eq!(q.grant_next(), Some(B));
        assert!(q.claim(B));
        assert_eq!(q.leave(tb, true), 2, "one was served before it");
        assert_eq!((q.waiting, q.max_waiting, q.is_empty()), (0, 2, true));
    }

    #[test]
    fn a_waiter_that_left_is_skipped() {
        let mut q = Queue::default();
        let ta = q.join(A);
        q.join(B);
        assert_eq!(q.leave(ta, false), 1, "A gave up before anyone was served");
        assert_eq!(q.waiting, 1);
        assert_eq!(q.grant_next(), Some(A));
        q.drop_grant(); // nobody claimed it
        assert!(!q.claim(A));
        assert_eq!(q.grant_next(), Some(B));
        assert!(q.claim(B));
    }
}
