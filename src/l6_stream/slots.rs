//! A stream's stick-counter slots, and the view it gets of its session's.
//!
//! ```text
//! slot N of a stream:  Empty | Inherited | Own(Tracker)
//!                                  |            |
//!        the session's tracker N --+            +-- released when the stream ends
//! ```
//!
//! `Inherited` carries nothing: it only says "slot N belongs to the
//! session". The stream reads and updates the session's tracker through
//! [`InheritedSlots`], a shared borrow: it can bump counters but can never
//! move, take or drop it, so it cannot release it. That is the whole fix of
//! HAProxy's negative `conn_cur` bug, made a matter of types:
//!
//! ```compile_fail
//! use strata::l6_stream::slots::InheritedSlots;
//! use strata::stick::Tracker;
//! fn steal(view: InheritedSlots<'_>) -> Tracker {
//!     // A stream cannot take the session's tracker out of the view...
//!     view.get(0).cloned().unwrap()
//! }
//! ```
//!
//! ```compile_fail
//! use strata::l6_stream::slots::InheritedSlots;
//! fn release(view: InheritedSlots<'_>) {
//!     // ...nor drop it: the view holds only a shared borrow.
//!     let t = view.get(0).unwrap();
//!     drop(*t);
//! }
//! ```

use crate::l4_conn::track::{SLOTS, TrackSlots};
use crate::stick::Tracker;

/// Nothing tracked (for streams of a session without trackers, and tests).
static NO_TRACKERS: [Option<Tracker>; SLOTS] = [None, None, None];

/// A read-and-update view of a session's trackers, lent to its streams for
/// the duration of one call. Built only by the session that owns them.
#[derive(Clone, Copy)]
pub struct InheritedSlots<'a> {
    trackers: &'a [Option<Tracker>; SLOTS],
}

impl<'a> InheritedSlots<'a> {
    /// A view of `trackers` (called by the session owning them).
    pub fn new(trackers: &'a [Option<Tracker>; SLOTS]) -> InheritedSlots<'a> {
        InheritedSlots { trackers }
    }

    /// No session trackers.
    pub fn none() -> InheritedSlots<'static> {
        InheritedSlots { trackers: &NO_TRACKERS }
    }

    /// Calls `f` with each of the session's trackers (one per slot).
    pub fn each(&self, mut f: impl FnMut(&'a Tracker)) {
        self.trackers.iter().flatten().for_each(&mut f);
    }

    /// The session's tracker in slot `n`, if any.
    pub fn get(&self, n: usize) -> Option<&'a Tracker> {
        self.trackers.get(n).and_then(Option::as_ref)
    }
}

/// One slot of a stream.
#[derive(Default)]
pub enum ScSlot {
    #[default]
    Empty,
    Inherited,    // the session tracks this slot; nothing is held here
    Own(Tracker), // tracked by this stream's rules; released when the stream ends
}

/// A stream's three slots. Owned by the stream; `Own` trackers drop with it.
#[derive(Default)]
pub struct StreamSlots {
    slots: [ScSlot; SLOTS],
}

impl StreamSlots {
    /// Slots as a new stream of a session with `session` trackers sees them.
    pub fn inherit(session: InheritedSlots<'_>) -> StreamSlots {
        let mut s = StreamSlots::default();
        for (n, slot) in s.slots.iter_mut().enumerate() {
            if session.get(n).is_some() {
                *slot = ScSlot::Inherited;
            }
        }
        s
    }

    /// The tracker serving slot `n`: the stream's own, else the session's.
    pub fn resolve<'s>(&'s self, n: usize, session: InheritedSlots<'s>) -> Option<&'s Tracker> {
        match self.slots.get(n)? {
            ScSlot::Own(t) => Some(t),
            ScSlot::Inherited => session.get(n),
            ScSlot::Empty => None,
        }
    }

    /// Every slot's tracker, own or inherited (one entry per slot: two
    /// slots on one table entry count twice, one slot never does).
    pub fn each<'s>(&'s self, session: InheritedSlots<'s>, mut f: impl FnMut(&'s Tracker)) {
        for n in 0..SLOTS {
            if let Some(t) = self.resolve(n, session) {
                f(t);
            }
        }
    }

    /// Slot `n` as it is (for display: a shared borrow cannot move or drop
    /// an `Own` tracker).
    pub fn get(&self, n: usize) -> Option<&ScSlot> {
        self.slots.get(n)
    }

    /// Slot `n` holds a tracker, the stream's own or inherited.
    pub fn is_used(&self, n: usize) -> bool {
        !matches!(self.slots.get(n), Some(ScSlot::Empty) | None)
    }

    /// Slots and session view together, for running rules.
    pub fn with<'s>(&'s mut self, session: InheritedSlots<'s>) -> SlotsMut<'s> {
        SlotsMut { own: self, session }
    }
}

/// A stream's slots plus its session's view: what stream-level rules track
/// into and read from.
pub struct SlotsMut<'s> {
    own: &'s mut StreamSlots,
    session: InheritedSlots<'s>,
}

impl TrackSlots for SlotsMut<'_> {
    fn used(&self, slot: usize) -> bool {
        !matches!(self.own.slots.get(slot), Some(ScSlot::Empty) | None)
    }

    fn tracker(&self, slot: usize) -> Option<&Tracker> {
        self.own.resolve(slot, self.session)
    }

    fn install(&mut self, slot: usize, tracker: Tracker) {
        if let Some(s) = self.own.slots.get_mut(slot) {
            *s = ScSlot::Own(tracker);
        }
    }
}
