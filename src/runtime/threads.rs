//! The worker threads of `nbthread N`: seeds made on the main thread
//! (listeners bound before the fork, so a bind error stops the start),
//! threads spawned after it, each pinned by `cpu-map` where the CPUs exist,
//! and the watchdog that logs a thread stuck away from its poll.

use super::StartError;
use super::shared::{Shared, Threads};
use super::worker::{Worker, WorkerSeed, open_listeners};
use crate::cfg::Config;
use crate::core::clock::Clock;
use crate::l4_conn::{Listener, TlsSet};
use crate::l6_stream::rules::ProxyRules;
use crate::stick::Registry;
use log::{debug, warn};
use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
use nix::unistd::Pid;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::Duration;

/// What every worker is built from, and the first worker's listeners.
pub(super) struct Plan {
    pub(super) cfg: Arc<Config>,
    pub(super) rules: Arc<Vec<ProxyRules>>,
    pub(super) tables: Registry,
    pub(super) caches: Arc<crate::l7_http::cache::Caches>,
    pub(super) shared: Shared,
    pub(super) threads: Arc<Threads>,
    pub(super) clock: Clock,
}

impl Plan {
    /// The seed of worker `thread` with `listeners`.
    pub(super) fn seed(&self, thread: usize, listeners: Vec<Listener>) -> WorkerSeed {
        WorkerSeed {
            thread,
            cfg: self.cfg.clone(),
            rules: self.rules.clone(),
            tables: self.tables.clone(),
            caches: self.caches.clone(),
            shared: self.shared.clone(),
            threads: self.threads.clone(),
            listeners,
            clock: self.clock,
        }
    }

    /// The seeds of threads 1..N, their listeners bound now (beside the
    /// first worker's `first`).
    pub(super) fn other_seeds(&self, first: &[Listener]) -> Result<Vec<WorkerSeed>, StartError> {
        (1..self.threads.count())
            .map(|t| Ok(self.seed(t, open_listeners(&self.cfg, t, Some(first))?)))
            .collect()
    }
}

/// Starts a thread per seed: it pins itself, builds its worker and runs it
/// until the process stops. `replacing`: an old process is being replaced
/// (the peers wait for it).
pub(super) fn spawn(
    seeds: Vec<WorkerSeed>,
    tls: Arc<TlsSet>,
    replacing: bool,
    allowed: Option<CpuSet>,
) -> Vec<JoinHandle<()>> {
    let mut handles = Vec::new();
    for seed in seeds {
        let tls = tls.clone();
        let n = seed.thread;
        let cfg = seed.cfg.clone();
        let threads = seed.threads.clone();
        let spawned = std::thread::Builder::new().name(format!("strata-{}", n + 1)).spawn(move || {
            pin(&cfg, n, allowed.as_ref());
            let mut worker = match Worker::new(seed) {
                Ok(w) => w,
                Err(e) => {
                    warn!(target: "runtime", "thread {} could not start: {e}", n + 1);
                    return threads.iso.gone(n);
                }
            };
            worker.use_tls(&tls);
            if replacing {
                worker.replacing_old_process();
            }
            if let Err(e) = worker.run() {
                warn!(target: "runtime", "thread {} stopped: {e}", n + 1);
            }
        });
        match spawned {
            Ok(h) => handles.push(h),
            Err(e) => warn!(target: "runtime", "cannot start thread {}: {e}", n + 1),
        }
    }
    handles
}

/// Pins the calling thread (`thread`, 0-based) to the CPUs `cpu-map`
/// gives it, keeping only those the process may run on (`allowed`, read
/// before any pinning); none left, or no line naming it: not pinned.
pub(super) fn pin(cfg: &Config, thread: usize, allowed: Option<&CpuSet>) {
    let Some(cpus) = crate::cfg::threads::cpus_for(&cfg.global.cpu_map, thread) else { return };
    let mut set = CpuSet::new();
    let mut any = false;
    for cpu in cpus {
        let exists = allowed.is_none_or(|a| a.is_set(cpu).unwrap_or(false));
        if exists && set.set(cpu).is_ok() {
            any = true;
        }
    }
    if !any {
        debug!(target: "runtime", "thread {}: cpu-map names no CPU this process may use, not pinned", thread + 1);
        return;
    }
    if let Err(e) = sched_setaffinity(Pid::from_raw(0), &set) {
        warn!(target: "runtime", "thread {}: cannot apply cpu-map ({e})", thread + 1);
    }
}

/// The CPUs the process may run on, read before any pinning.
pub(super) fn allowed_cpus() -> Option<CpuSet> {
    sched_getaffinity(Pid::from_raw(0)).ok()
}

/// How many CPUs the process may run on.
pub(super) fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// How long a thread may stay away from its poll before the watchdog
/// reports it (HAProxy's watchdog fires after a second of busy time).
const STUCK_MS: u64 = 2000;

/// Starts the watchdog: once a second it looks at every thread's
/// `busy_since`; a thread busy for more than [`STUCK_MS`] (a handler that
/// does not return, a lock never released) is logged once per episode,
/// with how long it has been stuck and the loop turns it made.
pub(super) fn watchdog(threads: Arc<Threads>, clock: Clock) {
    let spawned = std::thread::Builder::new().name("strata-watchdog".into()).spawn(move || {
        let mut clock = clock;
        let mut reported = vec![0u64; threads.count()];
        loop {
            std::thread::sleep(Duration::from_millis(500));
            clock.update();
            for msg in stuck(&threads, clock.ticks_ms(), &mut reported) {
                warn!(target: "runtime", "{msg}");
                eprintln!("[WARNING]  ({}) : {msg}", std::process::id());
            }
        }
    });
    if let Err(e) = spawned {
        warn!(target: "runtime", "cannot start the watchdog: {e}");
    }
}

/// The threads stuck at `now` (ms, the workers' clock) not yet reported
/// for this episode (`reported`: per thread, the `busy_since` last reported).
fn stuck(threads: &Threads, now: u64, reported: &mut [u64]) -> Vec<String> {
    let mut out = Vec::new();
    for (t, since) in threads.busy_since.iter().enumerate() {
        let since = since.load(Ordering::Relaxed);
        if since == 0 || now.saturating_sub(since) < STUCK_MS || reported[t] == since {
            continue;
        }
        reported[t] = since;
        let loops = threads.loops[t].load(Ordering::Relaxed);
        out.push(format!(
            "A thread is stuck: thread {} has not returned to its poll for {} ms (loop turn {loops}).",
            t + 1,
            now - since
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_away_from_its_poll_is_reported_once() {
        let threads = Threads::new(3);
        let mut reported = vec![0; 3];
        threads.busy_since[1].store(10_000, Ordering::Relaxed); // busy since 10 s
        threads.busy_since[2].store(11_500, Ordering::Relaxed); // busy, not for long
        threads.loops[1].store(7, Ordering::Relaxed);
        let msgs = stuck(&threads, 12_100, &mut reported);
        assert_eq!(
            msgs,
            ["A thread is stuck: thread 2 has not returned to its poll for 2100 ms (loop turn 7)."]
        );
        assert!(stuck(&threads, 13_000, &mut reported).is_empty(), "once per episode");
        threads.busy_since[1].store(0, Ordering::Relaxed); // back in its poll
        assert!(stuck(&threads, 14_000, &mut reported).len() == 1, "thread 3 now");
        threads.busy_since[1].store(20_000, Ordering::Relaxed); // a new episode
        assert_eq!(stuck(&threads, 22_500, &mut reported).len(), 1);
    }
}
