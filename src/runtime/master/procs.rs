//! The master's table of its processes (HAProxy's `proc_list`): the
//! master itself, the current worker and the old ones still finishing
//! their connections. Owned by the master's main thread behind a mutex;
//! the master CLI threads read it (`show proc`, `@N` targets).

use crate::cfg::AccessLevel;
use std::path::PathBuf;
use std::time::Instant;

/// One worker process the master started.
#[derive(Clone, Debug)]
pub struct WorkerProc {
    pub pid: i32,
    pub reloads: u32, // reloads it has lived through (0: the current worker)
    pub started: Instant,
    pub leaving: bool,  // an older worker, told to finish (`# old workers`)
    pub socks: PathBuf, // its runtime API sockets, `<socks>.admin|.operator|.user`
}

impl WorkerProc {
    /// The worker's runtime API socket for a session at `level`.
    pub fn sock(&self, level: AccessLevel) -> PathBuf {
        let ext = match level {
            AccessLevel::Admin => "admin",
            AccessLevel::Operator => "operator",
            AccessLevel::User => "user",
        };
        self.socks.with_extension(ext)
    }
}

/// The master and its workers.
#[derive(Debug)]
pub struct Procs {
    pub started: Instant,
    pub reloads: u32,        // times the master reloaded
    pub failed_reloads: u32, // of which the new worker did not start
    pub workers: Vec<WorkerProc>,
    pub cli_sockets: Vec<(String, AccessLevel)>, // the -S sockets, for `show cli sockets`
}

/// HAProxy's uptime layout: `0d00h00m05s`.
fn uptime(since: Instant) -> String {
    let up = since.elapsed().as_secs();
    format!("{}d{:02}h{:02}m{:02}s", up / 86400, (up % 86400) / 3600, (up % 3600) / 60, up % 60)
}

impl Procs {
    pub fn new(cli_sockets: Vec<(String, AccessLevel)>) -> Procs {
        Procs { started: Instant::now(), reloads: 0, failed_reloads: 0, workers: Vec::new(), cli_sockets }
    }

    /// The current worker: the one with the fewest reloads, the newest on a tie.
    pub fn current(&self) -> Option<&WorkerProc> {
        self.workers.iter().filter(|w| !w.leaving).min_by_key(|w| (w.reloads, std::cmp::Reverse(w.started)))
    }

    /// What a CLI prefix names, as HAProxy 2.6 reads it: `@`, `@0` and
    /// `@master` are the master (Some(0)), `@1` the current worker,
    /// `@!PID` a worker by pid; None for anything else.
    pub fn target(&self, prefix: &str) -> Option<i32> {
        let p = prefix.strip_prefix('@')?;
        if p.is_empty() || p == "master" {
            return Some(0);
        }
        if let Some(pid) = p.strip_prefix('!') {
            let pid: i32 = pid.parse().ok()?;
            return self.workers.iter().find(|w| w.pid == pid).map(|w| w.pid);
        }
        match p.parse::<u32>().ok()? {
            0 => Some(0),
            1 => self.current().map(|w| w.pid),
            _ => None, // one process per worker generation: there is no second
        }
    }

    /// `show proc`, HAProxy 2.6's layout.
    pub fn show_proc(&self, version: &str) -> String {
        let mut out = format!(
            "#{:<14} {:<15} {:<15} {:<15} {:<15}\n",
            "<PID>", "<type>", "<reloads>", "<uptime>", "<version>"
        );
        let reloads = format!("{} [failed: {}]", self.reloads, self.failed_reloads);
        let master = std::process::id();
        out += &format!(
            "{master:<15} {:<15} {reloads:<15} {:<15} {version:<15}\n",
            "master",
            uptime(self.started)
        );
        let line = |w: &WorkerProc| {
            format!(
                "{:<15} {:<15} {:<15} {:<15} {version:<15}\n",
                w.pid,
                "worker",
                w.reloads,
                uptime(w.started)
            )
        };
        out += "# workers\n";
        self.workers.iter().filter(|w| !w.leaving).for_each(|w| out += &line(w));
        if self.workers.iter().any(|w| w.leaving) {
            out += "# old workers\n";
            self.workers.iter().filter(|w| w.leaving).for_each(|w| out += &line(w));
        }
        out += "# programs\n\n";
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker(pid: i32, reloads: u32, leaving: bool) -> WorkerProc {
        WorkerProc {
            pid,
            reloads,
            started: Instant::now(),
            leaving,
            socks: PathBuf::from(format!("/d/{pid}")),
        }
    }

    #[test]
    fn prefixes_name_processes_as_haproxy_does() {
        let mut p = Procs::new(Vec::new());
        p.workers = vec![worker(10, 1, true), worker(11, 0, false)];
        assert_eq!(p.target("@"), Some(0));
        assert_eq!(p.target("@master"), Some(0));
        assert_eq!(p.target("@0"), Some(0));
        assert_eq!(p.target("@1"), Some(11));
        assert_eq!(p.target("@2"), None);
        assert_eq!(p.target("@!10"), Some(10));
        assert_eq!(p.target("@!12"), None);
        assert_eq!(p.target("@x"), None);
        assert_eq!(p.workers[1].sock(AccessLevel::Operator), PathBuf::from("/d/11.operator"));
    }

    #[test]
    fn show_proc_layout() {
        let mut p = Procs::new(Vec::new());
        p.workers = vec![worker(10, 1, true), worker(11, 0, false)];
        let out = p.show_proc("2.6.12-strata");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "#<PID>          <type>          <reloads>       <uptime>        <version>      "
        );
        assert!(
            lines[1].ends_with("master          0 [failed: 0]   0d00h00m00s     2.6.12-strata  "),
            "{}",
            lines[1]
        );
        assert_eq!(lines[2], "# workers");
        assert_eq!(
            lines[3],
            "11              worker          0               0d00h00m00s     2.6.12-strata  "
        );
        assert_eq!(lines[4], "# old workers");
        assert!(lines[5].starts_with("10              worker          1  "));
        assert_eq!(&lines[6..], ["# programs", ""]);
    }
}
