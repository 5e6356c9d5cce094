//! Deadlines for a worker's objects: a binary heap with lazy re-queue.
//!
//! Each object keeps a [`TimerSlot`] recording the deadline it has queued.
//! Moving a deadline *later* (the common case: activity pushes an
//! inactivity timeout back) touches nothing; the old entry fires, the owner
//! sees its real deadline is later and re-queues. Moving it *earlier* pushes
//! a new entry; the old one becomes stale and is skipped when popped. This
//! is HAProxy's approach: no per-connection OS timer and no O(n) sweep.

use super::slab::Key;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// Per-object record of the deadline currently in the heap. Owned by the
/// object; only [`Timers`] changes it.
#[derive(Debug, Default)]
pub struct TimerSlot {
    queued: Option<Instant>, // the live heap entry for this object, if any
}

/// Which object a timer belongs to: the kind of object (which slab its
/// key refers to: sessions, health checks...) and its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerId {
    pub kind: u8,
    pub key: Key,
}

impl TimerId {
    fn pack(self) -> u64 {
        ((self.kind as u64) << 56) | self.key.as_u64()
    }

    fn unpack(v: u64) -> TimerId {
        TimerId { kind: (v >> 56) as u8, key: Key::from_u64(v & ((1 << 56) - 1)) }
    }
}

/// The worker's heap of `(deadline, timer owner)`.
#[derive(Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(Instant, u64)>>,
}

impl Timers {
    /// Makes sure the object `id` is woken at or before `deadline`.
    /// A later deadline than the queued one costs nothing (lazy re-queue).
    pub fn arm(&mut self, slot: &mut TimerSlot, id: TimerId, deadline: Option<Instant>) {
        let Some(at) = deadline else { return };
        match slot.queued {
            Some(q) if q <= at => {}
            _ => {
                slot.queued = Some(at);
                self.heap.push(Reverse((at, id.pack())));
            }
        }
    }

    /// The earliest queued deadline (possibly stale), for the poll timeout.
    pub fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Pops one entry due at `now`, returning its deadline and owner. The
    /// caller must pass the popped deadline to [`Timers::fired`] with the
    /// object's slot to learn whether the entry is still live.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, TimerId)> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => {
                let Reverse((at, key)) = self.heap.pop()?;
                Some((at, TimerId::unpack(key)))
            }
            _ => None,
        }
    }

    /// True when `at` is the slot's live entry (it is then cleared: the
    /// owner must re-arm with its next deadline); false for a stale entry.
    pub fn fired(slot: &mut TimerSlot, at: Instant) -> bool {
        if slot.queued == Some(at) {
            slot.queued = None;
            true
        } else {
            false
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::slab::TokenSlab;
    use std::time::Duration;

    #[test]
    fn later_deadline_is_lazy_earlier_is_pushed() {
        let mut slab = TokenSlab::default();
        let key = TimerId { kind: 3, key: slab.insert(()) };
        let mut timers = Timers::default();
        let mut slot = TimerSlot::default();
        let t0 = Instant::now();
        timers.arm(&mut slot, key, Some(t0 + Duration::from_secs(5)));
        timers.arm(&mut slot, key, Some(t0 + Duration::from_secs(9)));
        assert_eq!(timers.len(), 1, "moving later does not push");
        timers.arm(&mut slot, key, Some(t0 + Duration::from_secs(1)));
        assert_eq!(timers.len(), 2, "moving earlier pushes");

        let (at, k) = timers.pop_due(t0 + Duration::from_secs(6)).expect("due");
        assert_eq!((at, k), (t0 + Duration::from_secs(1), key));
        assert!(Timers::fired(&mut slot, at));
        let (at, _) = timers.pop_due(t0 + Duration::from_secs(6)).expect("stale entry");
        assert!(!Timers::fired(&mut slot, at), "the 5s entry is stale");
        assert!(timers.pop_due(t0 + Duration::from_secs(6)).is_none());
    }
}
