//! What the worker threads share ([`SharedState`]): [`Process`], the
//! connection counts, limits and frontend statistics, behind one mutex;
//! the backends behind their own ([`SharedBackends`]); the stream ids as
//! an atomic; and [`Threads`], the lock-free per-thread facts (accepts,
//! heartbeats for the watchdog, wakers).
//!
//! Who locks: a worker takes the `Process` lock around an accept's and a
//! session end's counting, the ended streams' statistics, a runtime API
//! command and an internal service's reply; never around a session call
//! (parsing, rules and I/O run unlocked, side by side on every thread),
//! never while polling, and never twice (std's mutex is not re-entrant:
//! every path releases before calling another that locks). A path that
//! needs both locks takes `Process` first, then the backends. Stick tables
//! are behind neither: they have their own sharded locks and atomics
//! (`crate::stick`).

use crate::backend::{Backends, Counters, SharedBackends};
use crate::cfg::Config;
use crate::l7_http::h2::counters::H2Counters;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Connection counts the workers enforce limits with, process-wide.
#[derive(Default)]
pub(super) struct Counts {
    pub(super) cur_conns: u32,          // live sessions (global maxconn)
    pub(super) fe_cur: Vec<u32>,        // live sessions per frontend (proxy index)
    pub(super) fe_max: Vec<u32>,        // effective maxconn per frontend
    pub(super) fe_stats: Vec<Counters>, // `show stat` FRONTEND lines, per proxy index
    pub(super) li: Vec<Vec<super::listener_stats::ListenerCounts>>, // per proxy, per bind: socket-stats lines
    pub(super) cum_conns: u64,          // sessions ever accepted
    pub(super) next_id: u64,            // last session id given out
    pub(super) cli_cum: u64, // runtime API connections ever accepted (each counts as a connection and a request)
    pub(super) bytes_out: u64, // bytes sent to clients by ended streams
    pub(super) process: Counters, // process-wide connection and session rates (show info ConnRate, SessRate)
    pub(super) ssl_accepts: crate::stick::rate::FreqCtr, // connections accepted on `ssl` binds (`maxsslrate`)
}

/// The process-wide counts and limits of every worker thread. Reached
/// only through [`lock`].
pub(super) struct Process {
    pub(super) counts: Counts,
    pub(super) maxconn: u32,         // global maxconn now (`set maxconn global`)
    pub(super) initial_maxconn: u32, // `set maxconn global 0` goes back to it
    pub(super) rate_limits: crate::cfg::process::RateLimits, // `maxconnrate`... now (`set rate-limit`)
    pub(super) h2: H2Counters,       // HTTP/2 mitigations fired (show info)
    pub(super) audit: Option<crate::service::Audit>, // the last counters audit (strata_counters_consistent)
}

impl Process {
    pub(super) fn new(cfg: &Config, maxconn: u32) -> Process {
        let counts = Counts {
            fe_cur: vec![0; cfg.proxies.len()],
            fe_max: cfg.proxies.iter().map(|p| p.maxconn.unwrap_or(maxconn)).collect(),
            fe_stats: vec![Counters::default(); cfg.proxies.len()],
            li: super::listener_stats::for_config(cfg),
            ..Counts::default()
        };
        Process {
            counts,
            maxconn,
            initial_maxconn: maxconn,
            rate_limits: cfg.global.rate_limits,
            h2: H2Counters::default(),
            audit: None,
        }
    }
}

/// Everything the worker threads share but [`Threads`].
pub(super) struct SharedState {
    process: Mutex<Process>,
    pub(super) backends: SharedBackends, // servers, balancing, queues, counters
    pub(super) stream_ids: AtomicU64,    // last stream id given out
}

impl SharedState {
    pub(super) fn new(cfg: &Config, maxconn: u32) -> SharedState {
        let process = Process::new(cfg, maxconn);
        let mut backends = Backends::new(cfg);
        backends.apply_fullconn(cfg, &process.counts.fe_max);
        SharedState {
            process: Mutex::new(process),
            backends: SharedBackends::new(backends),
            stream_ids: AtomicU64::new(0),
        }
    }

    /// Streams started so far, by every thread.
    pub(super) fn streams(&self) -> u64 {
        self.stream_ids.load(Ordering::Relaxed)
    }
}

/// The shared process state.
pub(super) type Shared = Arc<SharedState>;

/// Takes the process lock. A poisoned lock cannot happen (`panic =
/// "abort"`); in a test build the state is taken as it is. Out of line so
/// that `tests/benches/threads/callgrind.sh` counts each lock taken.
#[inline(never)]
pub(super) fn lock(shared: &SharedState) -> MutexGuard<'_, Process> {
    shared.process.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What one thread asks every other to do with its own connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mail {
    ServerChanged(super::checks::ServerChange), // a check moved a server: `on-marked-down/up` on their streams
    CloseIdle(usize, usize),                    // drop the idle connections to (backend, server)
}

/// Per-thread facts, written by their own thread without a lock and read
/// by others (`show activity`, the watchdog, queue hand-over).
pub struct Threads {
    pub accepted: Vec<AtomicU64>, // connections each thread accepted (accept balance)
    pub busy_since: Vec<AtomicU64>, // ms (process clock) a thread left its poll, 0 while polling
    pub loops: Vec<AtomicU64>,    // loop turns per thread
    limited: AtomicU64,           // bit n: thread n has a listener stopped by a connection limit
    wakers: Mutex<Vec<Option<Arc<mio::Waker>>>>, // set by each worker once its poll exists
    listener_fds: Mutex<Vec<Vec<i32>>>, // each thread's listening sockets (`_getsocks`)
    pub(super) iso: super::isolate::Isolation, // stop-the-world for commands reading every thread
    mail: Vec<Mutex<Vec<Mail>>>,  // per thread: what other threads asked it to do
}

impl Threads {
    pub fn new(n: usize) -> Threads {
        let zeros = || (0..n).map(|_| AtomicU64::new(0)).collect::<Vec<_>>();
        Threads {
            accepted: zeros(),
            busy_since: zeros(),
            loops: zeros(),
            limited: AtomicU64::new(0),
            wakers: Mutex::new(vec![None; n]),
            listener_fds: Mutex::new(vec![Vec::new(); n]),
            iso: super::isolate::Isolation::new(n),
            mail: (0..n).map(|_| Mutex::new(Vec::new())).collect(),
        }
    }

    pub fn count(&self) -> usize {
        self.accepted.len()
    }

    pub(super) fn set_waker(&self, thread: usize, waker: Arc<mio::Waker>) {
        if let Some(slot) = self.wakers.lock().unwrap_or_else(|p| p.into_inner()).get_mut(thread) {
            *slot = Some(waker);
        }
    }

    /// Wakes thread `thread` from its poll (a queue slot freed for one of
    /// its streams, a runtime command for it).
    pub(super) fn wake(&self, thread: usize) {
        let waker = self.wakers.lock().unwrap_or_else(|p| p.into_inner()).get(thread).cloned().flatten();
        if let Some(w) = waker {
            let _ = w.wake();
        }
    }

    /// Thread `thread` listens on `fds` (until it stops).
    pub(super) fn set_listener_fds(&self, thread: usize, fds: Vec<i32>) {
        if let Some(slot) = self.listener_fds.lock().unwrap_or_else(|p| p.into_inner()).get_mut(thread) {
            *slot = fds;
        }
    }

    /// Every thread's listening sockets, thread by thread.
    pub(super) fn listener_fds(&self) -> Vec<i32> {
        self.listener_fds.lock().unwrap_or_else(|p| p.into_inner()).iter().flatten().copied().collect()
    }

    /// Posts `mail` to every thread but `me` and wakes them.
    pub(super) fn broadcast(&self, me: usize, mail: Mail) {
        for t in (0..self.count()).filter(|t| *t != me) {
            self.mail[t].lock().unwrap_or_else(|p| p.into_inner()).push(mail);
            self.wake(t);
        }
    }

    /// What other threads posted to `thread` since it last looked.
    pub(super) fn take_mail(&self, thread: usize) -> Vec<Mail> {
        let mut posted = self.mail[thread].lock().unwrap_or_else(|p| p.into_inner());
        if posted.is_empty() { Vec::new() } else { std::mem::take(&mut *posted) }
    }

    /// Thread `thread` accepted a connection.
    pub(super) fn count_accept(&self, thread: usize) {
        if let Some(a) = self.accepted.get(thread) {
            a.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Thread `thread` has (or no longer has) a listener stopped by a limit.
    pub(super) fn set_limited(&self, thread: usize, limited: bool) {
        let bit = 1u64 << (thread % 64);
        if limited {
            self.limited.fetch_or(bit, Ordering::AcqRel);
        } else if self.limited.load(Ordering::Acquire) & bit != 0 {
            self.limited.fetch_and(!bit, Ordering::AcqRel);
        }
    }

    /// A connection slot freed on thread `me`: the other threads stopped by
    /// a limit try to accept again.
    pub(super) fn wake_limited(&self, me: usize) {
        let mask = self.limited.load(Ordering::Acquire) & !(1u64 << (me % 64));
        if mask == 0 {
            return;
        }
        (0..self.count()).filter(|t| mask & (1 << (t % 64)) != 0).for_each(|t| self.wake(t));
    }

    /// With several threads, parks every other one (`runtime::isolate`)
    /// until the result drops; `None` with one thread.
    pub(super) fn isolate_others(&self, me: usize) -> Option<super::isolate::Isolated<'_>> {
        (self.count() > 1).then(|| self.iso.isolate(me, &|t| self.wake(t), std::time::Duration::from_secs(2)))
    }

    /// Connections accepted by each thread, in thread order.
    pub fn accepted(&self) -> Vec<u64> {
        self.accepted.iter().map(|a| a.load(Ordering::Relaxed)).collect()
    }
}
