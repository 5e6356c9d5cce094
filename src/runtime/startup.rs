//! What the command line changes at start-up around the configuration:
//! `-n`/`-N` limits, `-sf`/`-st` old processes, `-Ws` readiness.

use super::StartOptions;
use crate::cfg::Config;

/// `-n` replaces the global `maxconn`; `-N` gives frontends that set none
/// (not even through `defaults`) that limit, as HAProxy's per-proxy default;
/// `-dS` and `-dR` are the `nosplice` and `noreuseport` keywords.
pub(super) fn apply_overrides(cfg: &mut Config, opts: &StartOptions) {
    cfg.global.process.nosplice |= opts.no_splice;
    cfg.global.process.noreuseport |= opts.no_reuseport;
    if let Some(n) = opts.maxconn {
        cfg.global.maxconn = Some(n);
    }
    if let Some(n) = opts.maxpconn.filter(|n| *n > 0) {
        for p in cfg.proxies.iter_mut().filter(|p| p.cap.frontend && p.maxconn.is_none()) {
            p.maxconn = Some(n);
        }
    }
}

/// `-sf` asks the old processes to finish their connections then exit
/// (SIGUSR1, a soft stop), `-st` to stop now (SIGTERM). Sent once this
/// process listens, as HAProxy does, so no connection is refused between.
pub(super) fn signal_old_pids(opts: &StartOptions) {
    let sig = if opts.old_pids_terminate { libc::SIGTERM } else { libc::SIGUSR1 };
    for &pid in &opts.old_pids {
        // SAFETY: kill(2) takes plain integers and touches no memory.
        if unsafe { libc::kill(pid, sig) } != 0 {
            log::warn!(target: "runtime", "cannot signal old process {pid}: {}", std::io::Error::last_os_error());
        }
    }
}

/// systemd's readiness protocol (`-Ws`): one datagram to the unix socket
/// named by `$NOTIFY_SOCKET` (`@name` is in the abstract namespace).
pub(super) fn sd_notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else { return };
    let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() else { return };
    let path = path.to_string_lossy().into_owned();
    let sent = match path.strip_prefix('@') {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
                .and_then(|addr| sock.send_to_addr(state.as_bytes(), &addr))
        }
        None => sock.send_to(state.as_bytes(), &path),
    };
    if let Err(e) = sent {
        log::warn!(target: "runtime", "sd_notify to {path} failed: {e}");
    }
}
