//! Rings of log events (HAProxy's `ring` sections and its built-in
//! `buf0`): a bounded store of formatted events, oldest dropped first when
//! a new one needs the room, each numbered so readers (the TCP forwarders
//! of a ring's `server` lines, `show events`) resume where they stopped.
//!
//! The process has one [`Rings`] registry, set once at start-up
//! ([`install`]) and read by every thread ([`rings`]): workers write the
//! events of `log ring@NAME`, forwarder threads wait for new ones.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

/// One ring. Shared (`Arc`) by its writers and readers.
#[derive(Debug)]
pub struct Ring {
    pub name: String,
    pub description: String, // `show events` text
    size: usize,             // bytes held at most (an event's bytes plus one)
    events: Mutex<Events>,
    more: Condvar, // signalled on each write
}

/// The events held, oldest first.
#[derive(Debug, Default)]
struct Events {
    list: VecDeque<(u64, Box<[u8]>)>, // (number, event)
    bytes: usize,
    next: u64,    // number of the next event written
    dropped: u64, // events that could not be stored (too large)
}

impl Ring {
    pub fn new(name: &str, description: &str, size: usize) -> Ring {
        Ring {
            name: name.to_string(),
            description: description.to_string(),
            size,
            events: Mutex::new(Events::default()),
            more: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Events> {
        self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stores `event`, dropping the oldest ones to make room; an event
    /// larger than the ring is counted as dropped.
    pub fn write(&self, event: &[u8]) {
        let cost = event.len() + 1;
        let mut ev = self.lock();
        if cost > self.size {
            ev.dropped += 1;
            return;
        }
        while ev.bytes + cost > self.size {
            match ev.list.pop_front() {
                Some((_, old)) => ev.bytes -= old.len() + 1,
                None => break,
            }
        }
        let n = ev.next;
        ev.next += 1;
        ev.bytes += cost;
        ev.list.push_back((n, event.into()));
        drop(ev);
        self.more.notify_all();
    }

    /// Events numbered `from` or later (the oldest held when `from` was
    /// dropped), and the number to ask for next.
    pub fn read_from(&self, from: u64) -> (Vec<Box<[u8]>>, u64) {
        let ev = self.lock();
        let got = ev.list.iter().filter(|(n, _)| *n >= from).map(|(_, e)| e.clone()).collect();
        (got, ev.next)
    }

    /// [`Ring::read_from`], waiting up to `wait` when nothing is new.
    pub fn wait_from(&self, from: u64, wait: Duration) -> (Vec<Box<[u8]>>, u64) {
        let ev = self.lock();
        let ev = if ev.next <= from {
            self.more.wait_timeout(ev, wait).map(|(g, _)| g).unwrap_or_else(|e| e.into_inner().0)
        } else {
            ev
        };
        let got = ev.list.iter().filter(|(n, _)| *n >= from).map(|(_, e)| e.clone()).collect();
        (got, ev.next)
    }

    /// Events that were too large to store.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// Number of the next event: a reader starting there sees only new ones.
    pub fn next(&self) -> u64 {
        self.lock().next
    }
}

/// Every ring of the process, in declaration order (`buf0` first).
#[derive(Debug, Default)]
pub struct Rings {
    list: Vec<Arc<Ring>>,
}

impl Rings {
    pub fn new(list: Vec<Arc<Ring>>) -> Rings {
        Rings { list }
    }

    pub fn find(&self, name: &str) -> Option<&Arc<Ring>> {
        self.list.iter().find(|r| r.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Ring>> {
        self.list.iter()
    }
}

static RINGS: OnceLock<Rings> = OnceLock::new();

/// Messages the `log-forward` listeners received (`CumRecvLogs`).
static RECEIVED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Counts one message received by a `log-forward` listener.
pub fn note_received() {
    RECEIVED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Messages the `log-forward` listeners received since start-up.
pub fn received() -> u64 {
    RECEIVED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Sets the process's rings (at start-up, once; later calls are ignored).
pub fn install(rings: Rings) {
    let _ = RINGS.set(rings);
}

/// The process's rings (none before [`install`]).
pub fn rings() -> &'static Rings {
    static EMPTY: OnceLock<Rings> = OnceLock::new();
    RINGS.get().unwrap_or_else(|| EMPTY.get_or_init(Rings::default))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_ring_drops_its_oldest_events() {
        let r = Ring::new("r", "test", 12);
        r.write(b"aaaa"); // 5 bytes
        r.write(b"bbbb"); // 10
        r.write(b"cc"); // 13 > 12: "aaaa" goes
        let (got, next) = r.read_from(0);
        assert_eq!(got, vec![Box::from(&b"bbbb"[..]), Box::from(&b"cc"[..])]);
        assert_eq!(next, 3);
        assert_eq!(r.read_from(2).0, vec![Box::from(&b"cc"[..])]);
        r.write(&[0u8; 20]);
        assert_eq!((r.dropped(), r.next()), (1, 3));
    }
}
