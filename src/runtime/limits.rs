//! Process limits: `ulimit-n`, the `-m` memory cap, and the global
//! `maxconn` derived from them.

use crate::cfg::Global;
use rlimit::Resource;

/// File descriptors kept for listeners, logs, the stats port and checks,
/// besides the splice pipes (two descriptors each).
const RESERVED_FDS: u64 = 32;

/// What one connection is counted for under `-m`: HAProxy's two buffers
/// per stream, plus strata's session, stream and transaction state.
const CONN_OVERHEAD: u64 = 4096;

/// Share of `-m` HAProxy lets connections use (`MEM_USABLE_RATIO`).
const MEM_USABLE_PERCENT: u64 = 97;

/// Raises the open-files limit (to `ulimit-n`, or to what `maxconn` needs,
/// or to the hard limit), applies the `-m` cap (`memmax`, bytes) to the
/// buffer pool, and returns the effective global maxconn: the configured
/// one, else what the fd limit allows (two fds per proxied connection)
/// and, under `-m`, what the memory allows, as HAProxy computes it.
///
/// `nosplice` / `maxpipes` bound the splice pipes first; `fd-hard-limit`
/// caps the automatic limit; with `strict-limits`, a limit that cannot be
/// raised is fatal.
pub fn apply(global: &Global, memmax: Option<usize>) -> Result<u32, String> {
    if let Some(bytes) = memmax {
        crate::core::buffer::set_limit(bytes);
    }
    let p = &global.process;
    let pipes =
        if p.nosplice { 0 } else { p.maxpipes.map_or(crate::l4_conn::splice::MAX_PIPES, |n| n as usize) };
    crate::l4_conn::splice::set_limit(pipes);
    let reserved = RESERVED_FDS + 2 * pipes as u64;
    let (soft, hard) = Resource::NOFILE.get().map_err(|e| format!("cannot read RLIMIT_NOFILE ({e})"))?;
    let auto_cap = p.fd_hard_limit.map_or(hard, |cap| cap.min(hard));
    let wanted = match (global.ulimit_n, global.maxconn) {
        (Some(n), _) => n as u64,
        (None, Some(m)) => (m as u64 * 2 + reserved).min(auto_cap),
        (None, None) => auto_cap,
    };
    let fds = if wanted != soft {
        match Resource::NOFILE.set(wanted, hard.max(wanted)) {
            Ok(()) => wanted,
            Err(e) if global.ulimit_n.is_some() || p.strict_limits => {
                return Err(format!(
                    "[strata.main()] Cannot raise FD limit to {wanted}, limit is {hard} ({e})."
                ));
            }
            Err(_) => soft,
        }
    } else {
        soft
    };
    let mut derived = (fds.saturating_sub(reserved) / 2).clamp(1, u32::MAX as u64) as u32;
    if let Some(bytes) = memmax.filter(|b| *b > 0) {
        let per_conn = 2 * global.tune_bufsize as u64 + CONN_OVERHEAD;
        let by_memory = (bytes as u64 * MEM_USABLE_PERCENT / 100 / per_conn).min(u32::MAX as u64) as u32;
        if by_memory == 0 {
            return Err(format!(
                "Cannot compute the automatic maxconn: -m {} MB leaves no room for a single connection.",
                bytes >> 20
            ));
        }
        derived = derived.min(round_2dig(by_memory));
    }
    Ok(global.maxconn.unwrap_or(derived))
}

/// HAProxy's `round_2dig`: keeps the two leading digits (29437 → 29000).
fn round_2dig(mut n: u32) -> u32 {
    let mut mul = 1;
    while n >= 100 {
        n /= 10;
        mul *= 10;
    }
    n * mul
}

#[cfg(test)]
mod tests {
    #[test]
    fn two_leading_digits() {
        assert_eq!(
            [super::round_2dig(29437), super::round_2dig(99), super::round_2dig(100)],
            [29000, 99, 100]
        );
    }
}
