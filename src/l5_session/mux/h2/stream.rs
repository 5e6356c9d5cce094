//! One HTTP/2 stream as the mux sees it (RFC 9113 §5.1), and the table of
//! a connection's live streams.
//!
//! An `H2Stream` is born with the client's HEADERS and lives until both
//! directions are closed: END_STREAM (or a reset) each way. Its L6
//! [`Stream`] is born once the request head is complete and ends as soon
//! as it has handed over its response (or was reset): a response still
//! draining to the client under flow control no longer holds a server
//! slot, trackers or a log record. The table gives each live stream a
//! slot whose number is the token sub-index of its server connection.

use super::request::ReqBody;
use super::response::ResState;
use crate::l6_stream::{MuxChan, PooledStream, Stream};
use hashbrown::HashMap;
use std::time::Instant;

/// Request side of a stream (what the client sends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recv {
    Open,   // DATA may come
    Closed, // END_STREAM received (or the stream was reset)
}

/// One client-initiated stream. Owned by the connection's [`Streams`].
pub struct H2Stream {
    pub id: u32,                  // HTTP/2 stream identifier (odd)
    pub l6: Option<PooledStream>, // the L6 stream while it runs
    pub chan: MuxChan,            // its client side: request in, response out
    pub recv: Recv,
    pub body: ReqBody,             // how DATA reaches the stream
    pub end_pending: bool,         // END_STREAM seen: the chunked terminator still has to reach `chan`
    pub res: ResState,             // response conversion; `Done` once END_STREAM or RST_STREAM went out
    pub send_window: i64,          // what the client lets us send on it
    pub recv_window: i64,          // what we still let the client send on it
    pub rx_pushed: u64,            // request payload bytes given to `chan` (flow control credit)
    pub rx_credited: u64,          // of which the client was given back window for
    pub head_method: bool,         // HEAD: the response has no body
    pub ext_connect: bool, // RFC 8441 extended CONNECT: the server's 101 goes out as 200, then a tunnel
    pub reset: bool,       // RST_STREAM sent or received: nothing more either way
    pub reset_by_peer: bool, // the client's RST_STREAM came first (ours did not)
    pub complete: bool,    // its L6 stream ended with its response complete
    pub l6_ended: bool,    // its L6 stream has ended (complete or not)
    pub deadline: Option<Instant>, // its L6 stream's next deadline, as of its last run
}

impl H2Stream {
    pub fn new(id: u32, send_window: i64, recv_window: i64, now: Instant) -> H2Stream {
        H2Stream {
            id,
            l6: None,
            chan: MuxChan::new(now),
            recv: Recv::Open,
            body: ReqBody::None,
            end_pending: false,
            res: ResState::Head,
            send_window,
            recv_window,
            rx_pushed: 0,
            rx_credited: 0,
            head_method: false,
            ext_connect: false,
            reset: false,
            reset_by_peer: false,
            complete: false,
            l6_ended: false,
            deadline: None,
        }
    }

    /// Both directions are over: the stream leaves the table.
    pub fn finished(&self) -> bool {
        self.l6.is_none() && (self.reset || (self.recv == Recv::Closed && self.res == ResState::Done))
    }

    /// The L6 stream, if it still runs.
    pub fn l6(&self) -> Option<&Stream> {
        self.l6.as_deref()
    }

    pub fn l6_mut(&mut self) -> Option<&mut Stream> {
        self.l6.as_deref_mut()
    }
}

/// How a stream that has left the table ended, for the frames a client
/// still sends on it (RFC 9113 §5.1, closed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    PeerEnd,   // both ways ended with END_STREAM: more frames are a connection error
    PeerReset, // the client reset it: more frames get RST_STREAM STREAM_CLOSED
    ByUs,      // we reset it: frames still in flight are ignored
}

/// How many of the last streams to leave the table are remembered.
const RECENT: usize = 8;

/// A connection's live streams by slot, and the index from stream id to
/// slot. Slot `n` gives server token sub-index `n + 1`. It also remembers
/// how the last few streams to leave it ended ([`Ended`]), so that a
/// frame on one of them gets the answer RFC 9113 gives it; an older id is
/// as unknown as one the client skipped.
#[derive(Default)]
pub struct Streams {
    slots: Vec<Option<H2Stream>>, // grown to the peak concurrency, reused
    by_id: HashMap<u32, usize>,   // live stream id -> slot
    free: Vec<usize>,             // empty slots
    live: usize,
    recent: [Option<(u32, Ended)>; RECENT], // the last streams removed, a ring
    recent_next: usize,                     // where the next one goes
}

impl Streams {
    pub fn len(&self) -> usize {
        self.live
    }

    /// Slots ever used (their server token sub-indexes are 1..=this).
    pub fn slots_used(&self) -> usize {
        self.slots.len()
    }

    /// Stores `s`; returns its slot.
    pub fn insert(&mut self, s: H2Stream) -> usize {
        let id = s.id;
        let slot = match self.free.pop() {
            Some(free) => {
                self.slots[free] = Some(s);
                free
            }
            None => {
                self.slots.push(Some(s));
                self.slots.len() - 1
            }
        };
        self.by_id.insert(id, slot);
        self.live += 1;
        slot
    }

    pub fn slot_of(&self, id: u32) -> Option<usize> {
        self.by_id.get(&id).copied()
    }

    pub fn get_mut(&mut self, slot: usize) -> Option<&mut H2Stream> {
        self.slots.get_mut(slot).and_then(Option::as_mut)
    }

    pub fn by_id_mut(&mut self, id: u32) -> Option<&mut H2Stream> {
        let slot = self.slot_of(id)?;
        self.get_mut(slot)
    }

    /// Takes stream `slot` out of the table.
    pub fn remove(&mut self, slot: usize) -> Option<H2Stream> {
        let s = self.slots.get_mut(slot)?.take()?;
        self.by_id.remove(&s.id);
        let how = match (s.reset, s.reset_by_peer) {
            (_, true) => Ended::PeerReset,
            (true, false) => Ended::ByUs,
            (false, false) => Ended::PeerEnd,
        };
        self.recent[self.recent_next] = Some((s.id, how));
        self.recent_next = (self.recent_next + 1) % RECENT;
        self.free.push(slot);
        self.live -= 1;
        Some(s)
    }

    /// How stream `id` ended, if it is one of the last to leave the table.
    pub fn ended(&self, id: u32) -> Option<Ended> {
        self.recent.iter().flatten().find(|(i, _)| *i == id).map(|&(_, how)| how)
    }

    pub fn iter(&self) -> impl Iterator<Item = &H2Stream> {
        self.slots.iter().flatten()
    }

    /// Each live stream with its slot, for driving.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (usize, &mut H2Stream)> {
        self.slots.iter_mut().enumerate().filter_map(|(i, s)| s.as_mut().map(|s| (i, s)))
    }
}
