//! The stick-table snapshots of the configuration (`snapshot FILE [every
//! T]`, `crate::peers::snapshot`): read once before the worker starts,
//! then written by a thread of their own every T and once more when the
//! worker stops.
//!
//! Why a thread: writing a file can block (disk, `fsync`) for longer than
//! a request may wait; the thread walks a table a few hundred entries per
//! shard lock, so a request waits at most for one such batch. Peer I/O, by
//! contrast, stays in the worker's poll loop.

use crate::cfg::Config;
use crate::core::clock::Clock;
use crate::peers::snapshot;
use crate::stick::table::SnapshotSpec;
use crate::stick::{Registry, Table};
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

fn with_snapshots(cfg: &Config, tables: &Registry) -> Vec<(Arc<Table>, SnapshotSpec)> {
    cfg.proxies
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((tables.get(i)?.clone(), p.stick_table.as_ref()?.snapshot.clone()?)))
        .collect()
}

/// Loads every table's snapshot. A refused file leaves its table empty
/// and is reported with its name and the offset of the bad byte; the
/// process starts either way.
pub fn load_all(cfg: &Config, tables: &Registry) {
    let now = Clock::new().ticks_ms(); // the worker's clock starts the same way
    let pid = std::process::id();
    for (t, spec) in with_snapshots(cfg, tables) {
        let started = Instant::now();
        match snapshot::load(&t, &spec.path, now, SystemTime::now()) {
            Ok(Some(l)) => log::info!(target: "runtime",
                "stick-table '{}': {} of {} entries loaded from snapshot {} in {} ms",
                t.name(), l.loaded, l.entries, spec.path.display(), started.elapsed().as_millis()),
            Ok(None) => {
                log::info!(target: "runtime", "stick-table '{}': no snapshot {} yet", t.name(), spec.path.display())
            }
            Err(e) => eprintln!(
                "[WARNING]  ({pid}) : stick-table '{}': snapshot file '{}' refused: {e}; the table starts empty.",
                t.name(),
                spec.path.display()
            ),
        }
    }
}

/// The writer thread; [`Writer::stop`] writes every table once more.
pub struct Writer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

fn write_one(t: &Table, spec: &SnapshotSpec) {
    let started = Instant::now();
    match snapshot::write(t, &spec.path, t.now(), SystemTime::now()) {
        Ok(w) => {
            log::debug!(target: "runtime", "stick-table '{}': {} entries ({} bytes) written to {} in {} ms",
            t.name(), w.entries, w.bytes, spec.path.display(), started.elapsed().as_millis())
        }
        Err(e) => {
            log::warn!(target: "runtime", "stick-table '{}': cannot write snapshot {}: {e}", t.name(), spec.path.display())
        }
    }
}

/// Starts the writer when some table has a snapshot.
pub fn spawn(cfg: &Config, tables: &Registry) -> Writer {
    let list = with_snapshots(cfg, tables);
    if list.is_empty() {
        return Writer { stop: None, thread: None };
    }
    let (tx, rx) = mpsc::channel::<()>();
    let thread = std::thread::Builder::new().name("snapshots".into()).spawn(move || {
        let start = Instant::now();
        let mut due: Vec<Instant> =
            list.iter().map(|(_, s)| start + Duration::from_millis(u64::from(s.every_ms))).collect();
        loop {
            let next = due.iter().min().copied().unwrap_or(start);
            match rx.recv_timeout(next.saturating_duration_since(Instant::now())) {
                Err(RecvTimeoutError::Timeout) => {}
                Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
            }
            let now = Instant::now();
            for ((t, spec), d) in list.iter().zip(due.iter_mut()) {
                if *d <= now {
                    write_one(t, spec);
                    *d = Instant::now() + Duration::from_millis(u64::from(spec.every_ms));
                }
            }
        }
        for (t, spec) in &list {
            write_one(t, spec);
        }
    });
    match thread {
        Ok(h) => Writer { stop: Some(tx), thread: Some(h) },
        Err(e) => {
            log::warn!(target: "runtime", "cannot start the snapshot writer: {e}");
            Writer { stop: None, thread: None }
        }
    }
}

impl Writer {
    /// Writes every snapshot once more and waits for it.
    pub fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.thread.take() {
            let _ = h.join();
        }
    }
}
