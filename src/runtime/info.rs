//! What the runtime API reads from the running worker.

use crate::cli::{CliData, ProcessInfo};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A snapshot of the worker's numbers, built on the stack for one command.
pub struct WorkerView {
    pub info: ProcessInfo,
}

impl CliData for WorkerView {
    fn process_info(&self) -> ProcessInfo {
        self.info.clone()
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
