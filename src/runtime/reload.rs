//! What `-x SOCKET` does (the command line reads it, `runtime::cmdline`):
//! before binding, the new process takes the old one's listening sockets
//! from its unix stats socket (`expose-fd listeners`). `-sf`/`-st` are
//! `startup::signal_old_pids`; what the old process then does is the
//! worker's soft stop and `peers` (docs/management.md, Reload).

/// `-x PATH`: takes the listening sockets of the old process. Returns how
/// many came; the error is HAProxy's alert.
pub fn take_sockets(path: &str) -> Result<usize, String> {
    crate::l4_conn::fdpass::fetch(std::path::Path::new(path))
        .map_err(|e| format!("Failed to get the sockets from the old process! ({path}: {e})"))
}
