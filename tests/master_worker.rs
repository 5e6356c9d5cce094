//! Master-worker mode (`-W`) and the master CLI (`-S`), as HAProxy 2.6
//! runs them (issue 23 item 3, issue 24's `mcli` area): the master starts
//! a worker and writes its own pid; SIGUSR2 (or `reload` on the master
//! CLI) starts a new worker that takes the sockets and the tables over
//! while the old one finishes, with not one failed request under load; a
//! new worker that cannot start leaves the current one serving; `show
//! proc`, `@1`, `@!PID`, `help`, `prompt` on the master CLI; SIGINT stops
//! everything with HAProxy's exit code 130; a worker does not outlive its
//! master; `-Ws` tells systemd's `$NOTIFY_SOCKET` READY and RELOADING;
//! the workers run `nbthread 2` where it matters. Validated against HAProxy 2.6.12
//! (`STRATA_BIN=/usr/sbin/haproxy cargo test --test master_worker`) except
//! the tables, which HAProxy 2.6.12 did not hand over (golden P2).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::client::wait_until;
use support::http_backend::HttpBackend;
use support::launcher::{binary, under_haproxy};
use support::load::Load;
use support::ports::free_port;
use support::time::ms;

/// A master process under test; stopped (SIGKILL) on drop.
struct Master {
    child: Child,
    dir: PathBuf,
    mcli: u16,
}

impl Master {
    fn start(cfg: &str, extra: &[&str]) -> Master {
        Master::start_with_env(cfg, extra, &[])
    }

    /// As [`Master::start`], with `env` added to the master's environment.
    fn start_with_env(cfg: &str, extra: &[&str], env: &[(&str, &std::path::Path)]) -> Master {
        let dir = std::env::temp_dir().join(format!("strata-mworker-{}-{}", std::process::id(), free_port()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("proxy.cfg"), cfg).expect("cfg");
        let mcli = free_port();
        let err = std::fs::File::create(dir.join("stderr.txt")).expect("stderr");
        let child = Command::new(binary())
            .args(["-W", "-S", &format!("127.0.0.1:{mcli}"), "-db"])
            .args(extra)
            .arg("-f")
            .arg(dir.join("proxy.cfg"))
            .arg("-p")
            .arg(dir.join("pid"))
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("spawn");
        let m = Master { child, dir, mcli };
        let pidfile = m.dir.join("pid");
        assert!(
            wait_until(ms(10_000), || std::fs::read_to_string(&pidfile).is_ok_and(|p| p.ends_with('\n'))),
            "pid file"
        );
        assert!(wait_until(ms(10_000), || m.current_worker().is_some()), "a worker: {}", m.stderr());
        m
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.txt")).unwrap_or_default()
    }

    /// One master CLI exchange as VTest and socat make it: the command,
    /// the write side shut, the answer until the master closes. Retried
    /// when the connection fails: HAProxy's master re-executes itself on
    /// a reload, resetting the connections it holds.
    fn cli(&self, cmd: &str) -> String {
        let once = || -> std::io::Result<String> {
            let mut s = TcpStream::connect(("127.0.0.1", self.mcli))?;
            s.set_read_timeout(Some(Duration::from_secs(10)))?;
            s.write_all(format!("{cmd}\n").as_bytes())?;
            s.shutdown(std::net::Shutdown::Write)?;
            let mut out = Vec::new();
            s.read_to_end(&mut out)?;
            Ok(String::from_utf8_lossy(&out).into_owned())
        };
        let mut last = None;
        for _ in 0..100 {
            match once() {
                Ok(answer) => return answer,
                Err(e) => last = Some(e),
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("master CLI on {}: {last:?}", self.mcli);
    }

    /// `show proc`: (current workers' pids, old workers' pids, master's reloads column).
    fn procs(&self) -> (Vec<i32>, Vec<i32>, String) {
        let out = self.cli("show proc");
        let (mut cur, mut old, mut reloads, mut section) = (Vec::new(), Vec::new(), String::new(), "");
        for l in out.lines() {
            if let Some(s) = l.strip_prefix("# ") {
                section = if s == "workers" {
                    "cur"
                } else if s == "old workers" {
                    "old"
                } else {
                    ""
                };
                continue;
            }
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.get(1) == Some(&"master") {
                reloads = l[32..48].trim().to_string();
            } else if f.get(1) == Some(&"worker") {
                let pid = f[0].parse().expect("pid");
                if section == "cur" {
                    cur.push(pid)
                } else if section == "old" {
                    old.push(pid)
                }
            }
        }
        (cur, old, reloads)
    }

    fn current_worker(&self) -> Option<i32> {
        TcpStream::connect(("127.0.0.1", self.mcli)).ok()?;
        self.procs().0.first().copied()
    }

    /// Reloads by `how` and waits for the new worker and the old one's exit.
    fn reload(&self, how: &str) -> i32 {
        let before = self.current_worker().expect("worker");
        if how == "signal" {
            signal(self.pid(), libc::SIGUSR2);
        } else {
            self.cli("reload");
        }
        let changed = || self.current_worker().is_some_and(|w| w != before);
        assert!(wait_until(ms(20_000), changed), "a new worker: {}", self.stderr());
        assert!(wait_until(ms(20_000), || !alive(before)), "the old worker exits: {}", self.stderr());
        self.current_worker().expect("worker")
    }

    /// Waits for the master's exit: its exit code.
    fn wait_exit(&mut self) -> Option<i32> {
        let mut code = None;
        wait_until(ms(20_000), || {
            code = self.child.try_wait().ok().flatten().map(|s| s.code().unwrap_or(-1));
            code.is_some()
        });
        code
    }
}

impl Drop for Master {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!("master files kept in {}; stderr:\n{}", self.dir.display(), self.stderr());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn signal(pid: i32, sig: i32) {
    // SAFETY: kill(2) with plain integers.
    unsafe { libc::kill(pid, sig) };
}

fn alive(pid: i32) -> bool {
    // a zombie still answers kill(0): look at its state
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit(") ").next().is_some_and(|rest| !rest.starts_with('Z')))
}

/// `threads`: the workers' `nbthread`.
fn cfg(fe: u16, backend: u16, peer: u16, threads: u32) -> String {
    format!(
        "global\n    hard-stop-after 30s\n    nbthread {threads}\n\
         defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
         \x20   timeout http-keep-alive 30s\n\
         peers p\n    peer me 127.0.0.1:{peer}\n\
         frontend fe\n    bind 127.0.0.1:{fe}\n    http-request track-sc1 req.hdr(x-key) table t2\n    default_backend be\n\
         backend be\n    server s1 127.0.0.1:{backend}\n\
         backend t2\n    stick-table type string len 16 size 10000 expire 5m peers p store http_req_cnt,gpc0\n"
    )
}

fn keys(m: &Master) -> Vec<String> {
    let dump = m.cli("@1 show table t2");
    support::stick::Dump::parse(&dump).keys().into_iter().map(str::to_owned).collect()
}

#[test]
fn master_worker_reloads_under_load_without_a_failed_request() {
    let backend = HttpBackend::start();
    let fe = free_port();
    // two threads per worker: -x hands every thread's sockets over
    let mut m = Master::start(&cfg(fe, backend.port(), free_port(), 2), &["-L", "me"]);
    assert!(m.cli("@1 show info").contains("\nNbthread: 2\n"), "the master CLI reaches a threaded worker");
    let load = Load::start(fe, 6, 3, 300);
    assert!(wait_until(ms(10_000), || load.ok() > 300), "load running");
    let mut worker = m.current_worker().expect("worker");
    for n in 1..=5 {
        let before = keys(&m);
        let next = m.reload(if n % 2 == 0 { "cli" } else { "signal" });
        assert_ne!(next, worker, "reload {n}");
        worker = next;
        if !under_haproxy() {
            // the tables come over the local peer (HAProxy 2.6.12 did not, golden P2)
            let after = keys(&m);
            let lost: Vec<&String> = before.iter().filter(|k| !after.contains(k)).collect();
            assert!(before.len() > 50 && lost.is_empty(), "reload {n}: {} keys, lost {lost:?}", before.len());
        }
    }
    let report = load.finish();
    assert!(report.ok > 500, "{report:?}");
    assert_eq!(report.failed, 0, "failed requests: {report:?}");
    assert_eq!(m.procs().2, "5 [failed: 0]");
    assert!(m.cli("@1 show info").contains("\nNbthread: 2\n"));
    signal(m.pid(), libc::SIGINT);
    assert_eq!(m.wait_exit(), Some(130), "HAProxy's 128 + SIGINT: {}", m.stderr());
    assert!(wait_until(ms(5_000), || !alive(worker)), "the worker is gone");
}

#[test]
fn master_cli_speaks_as_haproxys() {
    let backend = HttpBackend::start();
    let fe = free_port();
    let cfg_text = cfg(fe, backend.port(), free_port(), 1);
    let m = Master::start(&cfg_text, &["-L", "me"]);
    let worker = m.current_worker().expect("worker");
    let proc = m.cli("show proc");
    let lines: Vec<&str> = proc.lines().collect();
    assert_eq!(lines[0], "#<PID>          <type>          <reloads>       <uptime>        <version>      ");
    assert!(
        lines[1].starts_with(&format!("{:<15} master          0 [failed: 0]   0d00h00m", m.pid())),
        "{proc}"
    );
    assert_eq!(lines[2], "# workers");
    assert!(
        lines[3].starts_with(&format!("{worker:<15} worker          0               0d00h00m")),
        "{proc}"
    );
    assert_eq!(&lines[4..], ["# programs", ""], "{proc}");
    let info = m.cli("@1 show info");
    assert!(info.contains("\nProcess_num: 1\n") && info.contains(&format!("\nPid: {worker}\n")), "{info}");
    assert!(m.cli(&format!("@!{worker} show info")).contains(&format!("\nPid: {worker}\n")));
    assert_eq!(m.cli("@2 show info"), "Can't find the target PID matching the prefix '@2'\n");
    assert_eq!(
        m.cli(&format!("@!{} show info", m.pid())),
        format!("Can't find the target PID matching the prefix '@!{}'\n", m.pid())
    );
    let help = m.cli("help");
    assert!(help.starts_with("The following commands are valid at this level:\n  @!<pid>  "), "{help}");
    assert!(help.contains("\n  show proc                               : show processes status\n"), "{help}");
    assert_eq!(m.cli("show cli level"), "admin\n\n");
    // a prefix alone sets the session's target; `prompt` shows it
    let session = m.cli(&format!("prompt\n@!{worker}\nshow cli level\n@master\n"));
    assert!(session.starts_with(&format!("master> {worker}> ")), "{session}");
    assert!(session.ends_with("master> "), "{session}");
    // a reload whose worker cannot start: the current one keeps serving
    std::fs::write(m.dir.join("proxy.cfg"), "frontend broken\n    bind 127.0.0.1:1 nonsense-keyword\n")
        .expect("cfg");
    signal(m.pid(), libc::SIGUSR2);
    assert!(
        wait_until(ms(20_000), || m.procs().2 == "1 [failed: 1]"),
        "a failed reload: {}",
        m.cli("show proc")
    );
    assert_eq!(m.current_worker(), Some(worker));
    assert!(m.cli("@1 show info").contains(&format!("\nPid: {worker}\n")));
    let mut c = support::http_client::HttpConn::connect(fe);
    let r = c.request(&support::http_client::get("/")).expect("served after the failed reload");
    assert_eq!(r.status, 200);
    // the worker does not outlive its master
    signal(m.pid(), libc::SIGKILL);
    assert!(wait_until(ms(10_000), || !alive(worker)), "the worker leaves with its master");
}

/// The notifications (`KEY=VALUE` lines) up to and including the next
/// one saying `READY=1`. HAProxy 2.6's master also says `RELOADING=1`
/// when it re-executes itself at start, before its first `READY=1`.
fn notified_until_ready(rx: &std::os::unix::net::UnixDatagram) -> Vec<String> {
    let mut lines = Vec::new();
    let mut buf = [0u8; 4096];
    while !lines.iter().any(|l| l == "READY=1") {
        let n = rx.recv(&mut buf).unwrap_or_else(|e| panic!("READY=1 within 20 s ({e}), got {lines:?}"));
        lines.extend(String::from_utf8_lossy(&buf[..n]).lines().map(str::to_owned));
    }
    lines
}

#[test]
fn systemd_mode_notifies_ready_and_each_reload_with_threaded_workers() {
    let backend = HttpBackend::start();
    let fe = free_port();
    let dir = std::env::temp_dir().join(format!("strata-notify-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("notify");
    let rx = std::os::unix::net::UnixDatagram::bind(&path).expect("notify socket");
    rx.set_read_timeout(Some(ms(20_000))).expect("timeout");
    let cfg_text = cfg(fe, backend.port(), free_port(), 2);
    let m = Master::start_with_env(&cfg_text, &["-Ws", "-L", "me"], &[("NOTIFY_SOCKET", &path)]);
    notified_until_ready(&rx); // once the worker serves
    assert!(m.cli("@1 show info").contains("\nNbthread: 2\n"));
    let mut c = support::http_client::HttpConn::connect(fe);
    assert_eq!(c.request(&support::http_client::get("/")).expect("served").status, 200);
    signal(m.pid(), libc::SIGUSR2);
    let reload = notified_until_ready(&rx);
    assert_eq!(reload.first().map(String::as_str), Some("RELOADING=1"), "RELOADING, then READY: {reload:?}");
    assert!(m.cli("@1 show info").contains("\nNbthread: 2\n"));
    let mut c = support::http_client::HttpConn::connect(fe);
    assert_eq!(c.request(&support::http_client::get("/")).expect("served after the reload").status, 200);
    drop(m);
    let _ = std::fs::remove_dir_all(&dir);
}
