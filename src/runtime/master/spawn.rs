//! Starting a worker: the master runs its own executable again with the
//! command line it was given, minus what only the master does (`-W`,
//! `-Ws`, `-S`, `-D`, `-p`, `-C`), plus, on a reload, `-sf` with the old
//! workers and `-x` with the current one's admin socket, so the new
//! worker takes the listening sockets over and the old ones finish.
//! The worker learns where to put its runtime API sockets for the master
//! from `STRATA_MWORKER_SOCKS` ([`join`]).

use crate::cfg::{AccessLevel, Config, ListenAddr, Loc, StatsSocket};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The environment variable naming the worker's master sockets (a path
/// prefix: `.admin`, `.operator` and `.user` are added).
const SOCKS_ENV: &str = "STRATA_MWORKER_SOCKS";

/// Flags followed by a value (HAProxy's `-C -n -m -N -L -f -p -x -S`).
fn takes_value(flag: &str) -> bool {
    matches!(flag.as_bytes().get(1), Some(b'C' | b'n' | b'm' | b'N' | b'L' | b'f' | b'p' | b'x' | b'S'))
        || flag == "-cc"
}

/// The worker's command line: `args` without the master's flags; on a
/// reload (`old` Some), the given `-sf`/`-st` and `-x` replaced by the
/// old workers' pids and the current worker's socket.
pub fn worker_args(args: &[String], old: Option<(&[i32], &Path)>) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            out.extend(args[i..].iter().cloned());
            break;
        }
        let first = a.as_bytes().get(1).copied();
        let master_only = matches!(first, Some(b'W' | b'D' | b'S' | b'p' | b'C'));
        let replaced = old.is_some() && (first == Some(b'x') || a == "-sf" || a == "-st");
        let mut end = i + 1;
        if takes_value(a) {
            end += 1;
        } else if a == "-sf" || a == "-st" {
            while args.get(end).is_some_and(|p| !p.starts_with('-')) {
                end += 1;
            }
        }
        if !master_only && !replaced {
            out.extend(args[i..end.min(args.len())].iter().cloned());
        }
        i = end;
    }
    if let Some((pids, sock)) = old {
        out.push("-x".into());
        out.push(sock.display().to_string());
        if !pids.is_empty() {
            out.push("-sf".into());
            out.extend(pids.iter().map(i32::to_string));
        }
    }
    out
}

/// Starts a worker whose master sockets are `socks.*`. Returns its pid.
pub fn spawn(exe: &Path, args: &[String], socks: &Path) -> io::Result<i32> {
    use std::os::unix::process::CommandExt;
    let master = std::process::id() as libc::pid_t;
    let mut cmd = Command::new(exe);
    cmd.args(args).env("HAPROXY_MWORKER", "1").env(SOCKS_ENV, socks).stdin(Stdio::null());
    // SAFETY: runs in the child between fork and exec, calling only
    // async-signal-safe functions (prctl, getppid). A worker must not
    // outlive its master (HAProxy's workers leave when the master's pipe
    // closes): the kernel sends it SIGTERM when the master dies, and one
    // whose master died before this point fails to start.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 || libc::getppid() != master {
                return Err(io::Error::other("the master is gone"));
            }
            Ok(())
        });
    }
    let child = cmd.spawn()?;
    // The master reaps its workers itself (waitpid on SIGCHLD): the Child
    // handle is not needed, and dropping it neither waits nor kills.
    Ok(child.id() as i32)
}

/// A process's exit status as HAProxy reports it: the exit code, or 128
/// plus the signal that killed it.
pub fn exit_code(status: libc::c_int) -> i32 {
    if libc::WIFSIGNALED(status) { 128 + libc::WTERMSIG(status) } else { libc::WEXITSTATUS(status) }
}

/// Reaps `pid` if it has exited: Some(exit code).
pub fn try_reap(pid: i32) -> Option<i32> {
    let mut status = 0;
    // SAFETY: waitpid writes only into `status`, a local.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    (r == pid).then(|| exit_code(status))
}

/// Waits until the worker answers on its admin socket (it is bound and
/// listening then: its listeners were opened before it); Err(exit code)
/// when it exits first.
pub fn wait_ready(pid: i32, admin: &Path) -> Result<(), i32> {
    loop {
        if std::os::unix::net::UnixStream::connect(admin).is_ok() {
            return Ok(());
        }
        if let Some(code) = try_reap(pid) {
            return Err(code);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The worker's side: when a master started this process, its three
/// runtime API sockets (admin with `expose-fd listeners` for the next
/// reload's `-x`, operator, user) join the configuration's `stats socket`
/// lines. Returns whether this process is a master's worker.
pub fn join(cfg: &mut Config) -> bool {
    let Some(prefix) = std::env::var_os(SOCKS_ENV).map(PathBuf::from) else { return false };
    for (ext, level) in
        [("admin", AccessLevel::Admin), ("operator", AccessLevel::Operator), ("user", AccessLevel::User)]
    {
        cfg.global.stats_sockets.push(StatsSocket {
            addr: ListenAddr::Unix(prefix.with_extension(ext)),
            level,
            severity: Default::default(),
            expose_fd: level == AccessLevel::Admin,
            opts: crate::cfg::listen::BindOpts { mode: Some(0o600), ..Default::default() },
            loc: Loc { file: "master-worker".into(), line: 0 },
        });
    }
    // SAFETY: start-up, one thread (see `main`'s `set_env`): nothing reads
    // the environment concurrently. Children (external checks) must not
    // think a master started them.
    unsafe { std::env::remove_var(SOCKS_ENV) };
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn the_worker_gets_the_command_line_without_the_masters_flags() {
        let args = v("-W -S fd@4 -d -f a.cfg -p /run/p -D -C /etc -L me -sf 12 13 -x /s -dM");
        assert_eq!(worker_args(&args, None), v("-d -f a.cfg -L me -sf 12 13 -x /s -dM"));
        let reload = worker_args(&args, Some((&[20, 21], Path::new("/d/3.admin"))));
        assert_eq!(reload, v("-d -f a.cfg -L me -dM -x /d/3.admin -sf 20 21"));
        assert_eq!(worker_args(&v("-Ws -f a -- b c"), None), v("-f a -- b c"));
    }
}
