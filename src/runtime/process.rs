//! Start-up steps about the process itself, in HAProxy's order: the
//! environment edits of the configuration, then (after binding) `daemon`
//! (fork, the parent writes the pid file and exits), `chroot`, and the
//! identity change (`group`/`gid`, supplementary groups, `user`/`uid`),
//! then `set-dumpable`.
//!
//! Everything here runs on the main thread before the worker starts: the
//! process has one thread, which `fork` and `set_var` need.

use super::StartError;
use crate::cfg::process::{EnvEdit, Process};
use crate::core::os::{self, Forked};

/// Applies `setenv`/`presetenv`/`unsetenv`/`resetenv` to the process
/// environment, in order, so that what the configuration saw while it was
/// read is what `env()` and children see.
pub fn apply_env(edits: &[EnvEdit]) {
    for e in edits {
        match e {
            // SAFETY (each set_var/remove_var below): start-up, one thread, no C code reading
            // the environment concurrently (see the module comment).
            EnvEdit::Set(n, v) => unsafe { std::env::set_var(n, v) },
            EnvEdit::Preset(n, v) if std::env::var_os(n).is_none() => unsafe { std::env::set_var(n, v) },
            EnvEdit::Preset(..) => {}
            EnvEdit::Unset(names) => names.iter().for_each(|n| unsafe { std::env::remove_var(n) }),
            EnvEdit::ResetExcept(keep) => {
                for (n, _) in std::env::vars_os() {
                    if !keep.iter().any(|k| std::ffi::OsStr::new(k) == n) {
                        unsafe { std::env::remove_var(&n) };
                    }
                }
            }
        }
    }
}

/// `daemon`: forks; the parent writes the child's pid to `pidfile` and
/// exits 0, the child detaches (new session, stdio on `/dev/null`) and
/// returns. Without `daemon`, writes the process's own pid.
pub fn daemonize(daemon: bool, pidfile: Option<&str>) -> Result<(), StartError> {
    let write_pid = |pid: u32| -> Result<(), StartError> {
        match pidfile {
            Some(path) => std::fs::write(path, format!("{pid}\n"))
                .map_err(|err| StartError::Pidfile { path: path.to_owned(), err }),
            None => Ok(()),
        }
    };
    if !daemon {
        return write_pid(std::process::id());
    }
    match os::fork().map_err(|e| StartError::Limits(format!("[strata.main()] Cannot fork ({e}).")))? {
        Forked::Parent { child } => {
            let code = match write_pid(child) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("[ALERT]    ({}) : {e}", std::process::id());
                    1
                }
            };
            std::process::exit(code);
        }
        Forked::Child => {
            let _ = os::set_sid();
            os::stdio_to_null()
                .map_err(|e| StartError::Limits(format!("[strata.main()] Cannot detach ({e}).")))
        }
    }
}

/// `chroot`, then the identity change, then `set-dumpable`, with
/// HAProxy's messages when a step fails.
pub fn confine(p: &Process) -> Result<(), StartError> {
    let fail = |m: String| StartError::Limits(format!("[strata.main()] {m}"));
    if let Some(dir) = &p.chroot {
        std::os::unix::fs::chroot(dir)
            .and_then(|()| std::env::set_current_dir("/"))
            .map_err(|e| fail(format!("Cannot chroot({}) ({e}).", dir.display())))?;
    }
    // HAProxy treats 0 as "not set".
    let gid = p.gid.filter(|g| *g != 0);
    let uid = p.uid.filter(|u| *u != 0);
    if let Some(gid) = gid {
        if os::has_groups() && os::clear_groups().is_err() {
            log::warn!(target: "runtime", "Failed to drop supplementary groups. Using 'gid'/'group' without 'uid'/'user' is generally useless.");
        }
        os::set_gid(gid).map_err(|e| fail(format!("Cannot set gid {gid} ({e}).")))?;
    }
    if let Some(uid) = uid {
        if let (Some(gid), Some(name)) = (gid, p.user_name.clone().or_else(|| os::user_name(uid))) {
            os::init_groups(&name, gid)
                .map_err(|e| fail(format!("Cannot change groups for '{name}' ({e}).")))?;
        }
        os::set_uid(uid).map_err(|e| fail(format!("Cannot set uid {uid} ({e}).")))?;
    }
    if p.set_dumpable {
        os::set_dumpable().map_err(|e| fail(format!("Cannot set the dumpable flag ({e}).")))?;
    }
    Ok(())
}
