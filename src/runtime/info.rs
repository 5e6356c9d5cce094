//! What the runtime API reads from the running worker.

use crate::cli::{CliData, ProcessInfo};
use crate::stick::Registry;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What one runtime API command sees of the worker: a snapshot of its
/// numbers and the live stick tables. Built on the stack per event.
pub struct WorkerView<'a> {
    pub info: ProcessInfo,
    pub tables: &'a Registry,
    pub now_ms: u64,
}

impl CliData for WorkerView<'_> {
    fn process_info(&self) -> ProcessInfo {
        self.info.clone()
    }
    fn tables(&self) -> &Registry {
        self.tables
    }
    fn now_ms(&self) -> u64 {
        self.now_ms
    }
}

/// The host name (HAProxy's default `node`).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_default()
}

/// Seconds since the Unix epoch of `t`.
pub fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs()
}
