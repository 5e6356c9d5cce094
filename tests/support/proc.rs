//! What `/proc` says about a process (the proxy under test).

use std::fs;

/// Resident set size of process `pid` in KiB (`VmRSS` in
/// `/proc/PID/status`); `None` once the process is gone.
pub fn vm_rss_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
