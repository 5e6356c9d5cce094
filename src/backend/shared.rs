//! [`SharedBackends`]: every worker thread's one view of the backends,
//! behind a lock of their own.

use super::Backends;
use std::cell::Cell;
use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard};

/// The process-wide [`Backends`] (servers, balancing positions, queues,
/// counters) behind their own lock, so that a worker holds it only around
/// what reads or changes them: a balancing decision with the server's
/// count taken, a queue joined, served or left, a fetch such as `nbsrv`,
/// a stream's statistics. Never around a whole session call, never while
/// parsing, evaluating rules or doing I/O: threads serving different
/// sessions run side by side, as design §3 wants.
///
/// Who locks: streams (through `StreamCtx::backends`), the runtime's
/// accept, check, queue and statistics paths, and runtime API commands.
/// Lock order: a path that needs the process lock too
/// (`runtime::shared::Process`) takes that one first. Nothing calls back
/// into rules or samples while holding this lock; a thread locking it
/// twice would deadlock (std's mutex is not re-entrant), so [`lock`]
/// aborts with a message instead (`panic = "abort"`).
///
/// [`lock`]: SharedBackends::lock
pub struct SharedBackends(Mutex<Backends>, std::sync::Arc<super::mux_stats::H1Stats>);

thread_local! {
    static HELD: Cell<bool> = const { Cell::new(false) };
}

/// The locked backends; the lock is released when it drops.
pub struct BackendsGuard<'a>(MutexGuard<'a, Backends>);

impl SharedBackends {
    pub fn new(backends: Backends) -> SharedBackends {
        let h1 = backends.h1.clone();
        SharedBackends(Mutex::new(backends), h1)
    }

    /// The `h1_*` counters, counted without the lock (atomics).
    pub fn h1(&self) -> &super::mux_stats::H1Stats {
        &self.1
    }

    /// Takes the lock. A poisoned lock cannot happen (`panic = "abort"`);
    /// in a test build the state is taken as it is. Out of line so that
    /// `tests/benches/threads/callgrind.sh` counts each lock taken.
    #[inline(never)]
    pub fn lock(&self) -> BackendsGuard<'_> {
        if HELD.replace(true) {
            panic!("the backends lock taken twice by one thread");
        }
        BackendsGuard(self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

impl Drop for BackendsGuard<'_> {
    fn drop(&mut self) {
        HELD.set(false);
    }
}

impl Deref for BackendsGuard<'_> {
    type Target = Backends;
    fn deref(&self) -> &Backends {
        &self.0
    }
}

impl DerefMut for BackendsGuard<'_> {
    fn deref_mut(&mut self) -> &mut Backends {
        &mut self.0
    }
}
