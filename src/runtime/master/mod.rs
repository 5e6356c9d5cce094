//! Master-worker mode (`-W`, `-Ws`), as HAProxy 2.6 runs it: the process
//! started becomes a master that carries no traffic. It starts a worker
//! (its own executable, `spawn`), writes the pid file with its own pid,
//! serves the master CLI (`-S`, `mcli`) and supervises:
//!
//! - SIGUSR2 or SIGHUP (or `reload` on the master CLI): a new worker is
//!   started with `-sf` (the old workers) and `-x` (the current worker's
//!   admin socket), so it takes the listening sockets over, the tables
//!   come over the local peer, and the old workers finish their
//!   connections then exit. A new worker that fails to start (a bad
//!   configuration) leaves the current one serving; the reload counts as
//!   failed (`show proc`, the `master[ReloadFailed]>` prompt).
//! - SIGINT, SIGTERM, SIGUSR1: passed on to the workers; the master exits
//!   once they all have, with HAProxy's code (the first worker status that
//!   is neither 0 nor 143; a worker stopped by the master's SIGINT counts
//!   as HAProxy's worker killed by it, 130).
//! - a current worker that exits on its own with an error code makes the
//!   master stop every other (HAProxy's exit-on-failure).
//!
//! Runs on the main thread; only the CLI listeners have threads.

mod listen;
mod mcli;
mod procs;
pub mod spawn;

use crate::cfg::AccessLevel;
use procs::{Procs, WorkerProc};
use signal_hook::consts::{SIGCHLD, SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What the master needs from the command line and the configuration.
pub struct MasterOptions {
    pub args: Vec<String>,       // the command line as given (without the program name)
    pub cli: Vec<String>,        // -S arguments
    pub pidfile: Option<String>, // -p or `pidfile`: the master's pid
    pub daemon: bool,            // -D or `daemon`: the master goes to the background
    pub sd_notify: bool,         // -Ws
    pub quiet: bool,             // -q
}

fn log(kind: &str, msg: &str, quiet: bool) {
    if !quiet || kind == "ALERT" {
        let pad = " ".repeat(11usize.saturating_sub(kind.len() + 2));
        eprintln!("[{kind}]{pad} ({}) : {msg}", std::process::id());
    }
}

/// `strsignal`'s text for the common signals.
fn signal_name(sig: i32) -> String {
    // SAFETY: strsignal returns a pointer to a static or thread-local
    // string, copied at once; only the master's main thread calls it.
    let p = unsafe { libc::strsignal(sig) };
    if p.is_null() {
        return format!("signal {sig}");
    }
    // SAFETY: non-null, NUL-terminated (strsignal's contract).
    unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

struct Master {
    opts: MasterOptions,
    exe: PathBuf,
    dir: PathBuf, // the workers' sockets
    procs: Arc<Mutex<Procs>>,
    spawned: u32,          // workers started (names their sockets)
    stopping: Option<i32>, // the signal the master is stopping on
    exit_code: Option<i32>,
}

/// Runs the master until its workers are gone; returns its exit code.
pub fn run(opts: MasterOptions) -> i32 {
    let quiet = opts.quiet;
    let mut bound = Vec::new();
    for spec in &opts.cli {
        match listen::bind(spec) {
            Ok(b) => bound.push(b),
            Err(e) => {
                log("ALERT", &e, quiet);
                return 1;
            }
        }
    }
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            log("ALERT", &format!("Cannot find the master's own executable ({e})."), quiet);
            return 1;
        }
    };
    if let Err(e) = super::process::daemonize(opts.daemon, None) {
        log("ALERT", &e.to_string(), quiet);
        return 1;
    }
    let dir = std::env::temp_dir().join(format!("strata-master-{}", std::process::id()));
    if let Err(e) = make_private_dir(&dir) {
        log("ALERT", &format!("Cannot create the workers' socket directory {} ({e}).", dir.display()), quiet);
        return 1;
    }
    let sockets: Vec<(String, AccessLevel)> = bound.iter().map(|b| (b.name.clone(), b.level)).collect();
    let mut m = Master {
        opts,
        exe,
        dir,
        procs: Arc::new(Mutex::new(Procs::new(sockets))),
        spawned: 0,
        stopping: None,
        exit_code: None,
    };
    let signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGHUP, SIGCHLD]);
    let mut signals = match signals {
        Ok(s) => s,
        Err(e) => {
            log("ALERT", &format!("Cannot catch the master's signals ({e})."), quiet);
            return 1;
        }
    };
    let first = spawn::worker_args(&m.opts.args, None);
    if let Err(code) = m.start_worker(&first) {
        let _ = std::fs::remove_dir_all(&m.dir);
        return code;
    }
    if let Some(path) = &m.opts.pidfile
        && let Err(e) = std::fs::write(path, format!("{}\n", std::process::id()))
    {
        log("ALERT", &format!("[strata.main()] Cannot create pidfile {path} ({e})"), quiet);
    }
    if m.opts.sd_notify {
        super::startup::sd_notify("READY=1");
    }
    for b in bound {
        listen::serve(b, m.procs.clone());
    }
    let code = loop {
        let pending: Vec<i32> = signals.wait().collect();
        if let Some(code) = pending.into_iter().find_map(|sig| m.on_signal(sig)) {
            break code;
        }
    };
    let _ = std::fs::remove_dir_all(&m.dir);
    code
}

fn make_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    let _ = std::fs::remove_dir_all(dir); // a previous master with this pid
    std::fs::DirBuilder::new().mode(0o700).create(dir)
}

impl Master {
    fn quiet(&self) -> bool {
        self.opts.quiet
    }

    /// Starts a worker with `args` and waits until it serves. Err(exit
    /// code) when it exits first.
    fn start_worker(&mut self, args: &[String]) -> Result<(), i32> {
        self.spawned += 1;
        let socks = self.dir.join(self.spawned.to_string());
        let pid = match spawn::spawn(&self.exe, args, &socks) {
            Ok(pid) => pid,
            Err(e) => {
                log("ALERT", &format!("[strata.main()] Cannot fork ({e})."), self.quiet());
                return Err(1);
            }
        };
        let w = WorkerProc { pid, reloads: 0, started: Instant::now(), leaving: false, socks };
        spawn::wait_ready(pid, &w.sock(AccessLevel::Admin))?;
        log("NOTICE", &format!("New worker ({pid}) forked"), self.quiet());
        log("NOTICE", "Loading success.", self.quiet());
        if let Ok(mut p) = self.procs.lock() {
            p.workers.push(w);
        }
        Ok(())
    }

    /// Handles one signal; Some(code) when the master must exit.
    fn on_signal(&mut self, sig: i32) -> Option<i32> {
        match sig {
            SIGUSR2 | SIGHUP if self.stopping.is_none() => self.reload(),
            SIGINT | SIGTERM | SIGUSR1 if self.stopping.is_none() => {
                if sig != SIGUSR1 {
                    log("WARNING", "Exiting Master process...", self.quiet());
                }
                self.stopping = Some(sig);
                self.signal_workers(sig);
            }
            SIGCHLD => return self.reap(),
            _ => {}
        }
        None
    }

    fn signal_workers(&self, sig: i32) {
        let pids: Vec<i32> =
            self.procs.lock().map(|p| p.workers.iter().map(|w| w.pid).collect()).unwrap_or_default();
        for pid in pids {
            // SAFETY: kill(2) with plain integers.
            unsafe { libc::kill(pid, sig) };
        }
    }

    fn reload(&mut self) {
        log("NOTICE", "Reloading HAProxy", self.quiet());
        if self.opts.sd_notify {
            super::startup::sd_notify("RELOADING=1");
        }
        let (old, current) = match self.procs.lock() {
            Ok(p) => (
                p.workers.iter().map(|w| w.pid).collect::<Vec<_>>(),
                p.current().map(|w| w.sock(AccessLevel::Admin)),
            ),
            Err(_) => return,
        };
        let Some(current) = current else {
            return;
        };
        let args = spawn::worker_args(&self.opts.args, Some((&old, &current)));
        // the new worker is the current one as soon as it serves
        match self.start_worker(&args) {
            Ok(()) => {
                if let Ok(mut p) = self.procs.lock() {
                    p.reloads += 1;
                    for w in p.workers.iter_mut().filter(|w| old.contains(&w.pid)) {
                        w.reloads += 1;
                        w.leaving = true;
                    }
                }
            }
            Err(code) => {
                if let Ok(mut p) = self.procs.lock() {
                    p.reloads += 1;
                    p.failed_reloads += 1;
                }
                log(
                    "ALERT",
                    &format!(
                        "Reloading failed: the new worker exited with code {code}; the current worker keeps serving."
                    ),
                    self.quiet(),
                );
            }
        }
        if self.opts.sd_notify {
            super::startup::sd_notify("READY=1");
        }
    }

    /// Reaps every exited worker; Some(code) when none is left.
    fn reap(&mut self) -> Option<i32> {
        loop {
            let mut status = 0;
            // SAFETY: waitpid writes only into `status`, a local.
            let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if pid <= 0 {
                break;
            }
            let mut code = spawn::exit_code(status);
            let Ok(mut p) = self.procs.lock() else { break };
            let Some(i) = p.workers.iter().position(|w| w.pid == pid) else { continue };
            let w = p.workers.remove(i);
            drop(p);
            for ext in ["admin", "operator", "user"] {
                let _ = std::fs::remove_file(w.socks.with_extension(ext));
            }
            if w.leaving {
                let why = if code >= 128 { signal_name(code - 128) } else { "Exit".into() };
                log(
                    "WARNING",
                    &format!("Former worker ({pid}) exited with code {code} ({why})"),
                    self.quiet(),
                );
                continue;
            }
            // a strata worker stops cleanly on SIGINT/SIGTERM where
            // HAProxy's dies of it: report the same code
            if code == 0
                && let Some(sig @ (SIGINT | SIGTERM)) = self.stopping
            {
                code = 128 + sig;
            }
            if code < 128 {
                log(
                    "WARNING",
                    &format!("Current worker ({pid}) exited with code {code} (Exit)"),
                    self.quiet(),
                );
            } else {
                log(
                    "ALERT",
                    &format!("Current worker ({pid}) exited with code {code} ({})", signal_name(code - 128)),
                    self.quiet(),
                );
            }
            if code != 0 && code != 130 && code != 143 && self.stopping.is_none() {
                log("ALERT", "exit-on-failure: killing every processes with SIGTERM", self.quiet());
                self.stopping = Some(SIGTERM);
                self.signal_workers(SIGTERM);
            }
            if self.exit_code.is_none() && code != 0 && code != 143 {
                self.exit_code = Some(code);
            }
        }
        let left = self.procs.lock().map(|p| p.workers.len()).unwrap_or(0);
        (left == 0).then(|| {
            let code = self.exit_code.unwrap_or(0);
            log("WARNING", &format!("All workers exited. Exiting... ({code})"), self.quiet());
            code
        })
    }
}
