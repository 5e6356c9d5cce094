//! What `/proc` says about a process (the proxy under test).

use std::fs;

/// Resident set size of process `pid` in KiB (`VmRSS` in
/// `/proc/PID/status`); `None` once the process is gone.
pub fn vm_rss_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Number of open file descriptors of process `pid` (entries of
/// `/proc/PID/fd`); `None` once the process is gone.
pub fn fd_count(pid: u32) -> Option<usize> {
    Some(fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// Of the sockets process `pid` holds, how many are TCP connections (any
/// state) whose remote end is 127.0.0.1:`port`, e.g. the proxy's
/// connections to a test server. Reads `/proc/PID/fd` and `/proc/net/tcp`.
pub fn tcp_conns_to(pid: u32, port: u16) -> usize {
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return 0;
    };
    let owned: Vec<u64> = fds
        .filter_map(|e| fs::read_link(e.ok()?.path()).ok())
        .filter_map(|l| l.to_string_lossy().strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok())
        .collect();
    let remote = format!("0100007F:{port:04X}");
    let Ok(table) = fs::read_to_string("/proc/net/tcp") else {
        return 0;
    };
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            let f: Vec<&str> = line.split_whitespace().collect();
            (f.len() >= 10 && f[2] == remote).then(|| f[9].parse::<u64>().ok())?
        })
        .filter(|inode| owned.contains(inode))
        .count()
}

/// Open pipe descriptors of process `pid` (e.g. a pool of splice pipes).
pub fn pipe_fd_count(pid: u32) -> usize {
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return 0;
    };
    fds.filter_map(|e| fs::read_link(e.ok()?.path()).ok())
        .filter(|l| l.to_string_lossy().starts_with("pipe:"))
        .count()
}
