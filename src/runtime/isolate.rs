//! Stopping the world for a runtime API command that reads every thread's
//! sessions (`show sess`, `show sess tree`, `debug counters check`): as
//! HAProxy's `thread_isolate()`, the thread running the command asks every
//! other worker to park at the top of its loop, where it holds no lock and
//! is between two session calls; each parked worker lends its session slab
//! and waits until the command is done.

use crate::core::slab::TokenSlab;
use crate::l5_session::Session;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// The sessions of a parked worker.
#[derive(Clone, Copy)]
pub struct Lent {
    sessions: *const TokenSlab<Box<Session>>,
}

// SAFETY: a `Lent` is only dereferenced (by `Lent::sessions`) while its
// owner thread is parked in `Isolation::park`, which it leaves only after
// the isolating thread released the isolation (`Isolated::drop`): the
// owner's slab is not touched by its owner meanwhile, and the hand-over and
// the hand-back go through the isolation mutex, which orders every access.
// No session is moved, dropped or mutated through it (shared reads only).
unsafe impl Send for Lent {}

impl Lent {
    /// The parked worker's sessions.
    ///
    /// # Safety
    /// Only while the isolation that lent it is held (see `Send` above).
    pub unsafe fn sessions(&self) -> &TokenSlab<Box<Session>> {
        // SAFETY: the caller holds the isolation: the slab lives (its owner
        // is parked inside the call that lent it) and nobody mutates it.
        unsafe { &*self.sessions }
    }
}

#[derive(Default)]
struct State {
    active: bool,            // an isolation is requested or held
    lent: Vec<Option<Lent>>, // by thread: the sessions of each parked worker
}

/// The isolation point shared by the workers.
pub struct Isolation {
    state: Mutex<State>,
    moved: Condvar,
    requested: AtomicBool, // read by every worker once per loop turn
    gone: AtomicU64,       // bit n: thread n left its loop (never parks again)
}

impl Isolation {
    pub fn new(threads: usize) -> Isolation {
        let state = State { active: false, lent: vec![None; threads] };
        Isolation {
            state: Mutex::new(state),
            moved: Condvar::new(),
            requested: AtomicBool::new(false),
            gone: AtomicU64::new(0),
        }
    }

    #[inline(never)] // counted by tests/benches/threads/callgrind.sh
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An isolation is requested: the calling worker must park.
    pub fn requested(&self) -> bool {
        self.requested.load(Ordering::Acquire)
    }

    /// Thread `thread` left its loop for good.
    pub fn gone(&self, thread: usize) {
        self.gone.fetch_or(1 << (thread % 64), Ordering::AcqRel);
        self.moved.notify_all();
    }

    /// Parks worker `thread` until the isolation ends, lending `sessions`.
    /// Called at the top of the worker's loop, holding no lock.
    pub fn park(&self, thread: usize, sessions: &TokenSlab<Box<Session>>) {
        let mut st = self.lock();
        if !st.active {
            return;
        }
        st.lent[thread] = Some(Lent { sessions });
        self.moved.notify_all();
        let mut st = self.moved.wait_while(st, |s| s.active).unwrap_or_else(|p| p.into_inner());
        st.lent[thread] = None;
    }

    /// Stops every other live worker (woken with `wake`), waiting at most
    /// `limit` for each to park (a stuck thread is left out, its sessions
    /// unseen). Returns the parked workers' sessions until the result drops.
    pub fn isolate(&self, me: usize, wake: &dyn Fn(usize), limit: Duration) -> Isolated<'_> {
        let mut st = self.lock();
        st.active = true;
        self.requested.store(true, Ordering::Release);
        let n = st.lent.len();
        (0..n).filter(|t| *t != me).for_each(wake);
        let all_in = |s: &mut State| {
            let gone = self.gone.load(Ordering::Acquire);
            (0..n).all(|t| t == me || s.lent[t].is_some() || gone & (1 << (t % 64)) != 0)
        };
        let (st, _) =
            self.moved.wait_timeout_while(st, limit, |s| !all_in(s)).unwrap_or_else(|p| p.into_inner());
        let lent = st.lent.iter().flatten().copied().collect();
        Isolated { iso: self, lent }
    }
}

/// An isolation held: the other workers are parked (or gone) until it drops.
pub struct Isolated<'a> {
    iso: &'a Isolation,
    pub lent: Vec<Lent>,
}

impl Drop for Isolated<'_> {
    fn drop(&mut self) {
        let mut st = self.iso.lock();
        st.active = false;
        self.iso.requested.store(false, Ordering::Release);
        drop(st);
        self.iso.moved.notify_all();
    }
}
