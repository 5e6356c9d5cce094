//! Process limits: `ulimit-n` and the global `maxconn` derived from it.

use crate::cfg::Global;
use rlimit::Resource;

/// File descriptors kept for listeners, logs, the stats port and checks,
/// besides the splice pipes (two descriptors each).
const RESERVED_FDS: u64 = 32;

/// Raises the open-files limit (to `ulimit-n`, or to what `maxconn` needs,
/// or to the hard limit) and returns the effective global maxconn: the
/// configured one, else what the fd limit allows (two fds per proxied
/// connection), as HAProxy computes it.
///
/// `nosplice` / `maxpipes` bound the splice pipes first; `fd-hard-limit`
/// caps the automatic limit; with `strict-limits`, a limit that cannot be
/// raised is fatal.
pub fn apply(global: &Global) -> Result<u32, String> {
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
    let derived = (fds.saturating_sub(reserved) / 2).clamp(1, u32::MAX as u64) as u32;
    Ok(global.maxconn.unwrap_or(derived))
}
