//! Runs the proxy under test as a child process.
//!
//! The binary is `$STRATA_BIN` if set (e.g. `/usr/sbin/haproxy`, to check
//! that a test describes HAProxy's behaviour), else the `strata` binary
//! cargo built for this test run. Each proxy gets a fresh directory under
//! the system temp dir holding its config, stdout and stderr; the directory
//! is removed on drop unless the test is failing (then its path is printed).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::time::ms;

/// The binary under test: `$STRATA_BIN`, else cargo's `strata`.
pub fn binary() -> PathBuf {
    match std::env::var_os("STRATA_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_strata")),
    }
}

/// True when `$STRATA_BIN` names an haproxy binary: assertions on strata's
/// own debug log are skipped then.
pub fn under_haproxy() -> bool {
    binary().file_name().is_some_and(|n| n.to_string_lossy().contains("haproxy"))
}

/// A fresh, empty directory `strata-test-<pid>-<counter>` in the temp dir.
fn fresh_dir() -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("strata-test-{}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

/// A running proxy. Killed (SIGKILL) and reaped on drop if still running.
pub struct Proxy {
    child: Child,               // the proxy process (runs in the foreground: -db)
    dir: PathBuf,               // temp dir: proxy.cfg, stdout.txt, stderr.txt
    exited: Option<ExitStatus>, // set once reaped by wait_exit
}

impl Proxy {
    /// Start the proxy on `cfg_text` and wait until every `bind` port of the
    /// config is listening. Panics (showing stderr) if it exits or does not
    /// listen within a generous bound.
    pub fn start(cfg_text: &str) -> Proxy {
        Proxy::start_with_args(cfg_text, &[])
    }

    /// Same as [`Proxy::start`] with extra command-line arguments (e.g. `-d`).
    pub fn start_with_args(cfg_text: &str, extra: &[&str]) -> Proxy {
        Proxy::start_with_env(cfg_text, extra, &[])
    }

    /// Same as [`Proxy::start_with_args`] with environment variables set for
    /// the proxy (e.g. the numbers of `fd@${FE}` sockets it inherits).
    pub fn start_with_env(cfg_text: &str, extra: &[&str], env: &[(&str, String)]) -> Proxy {
        let dir = fresh_dir();
        let cfg = dir.join("proxy.cfg");
        fs::write(&cfg, cfg_text).expect("write proxy.cfg");
        let out = fs::File::create(dir.join("stdout.txt")).expect("create stdout.txt");
        let err = fs::File::create(dir.join("stderr.txt")).expect("create stderr.txt");
        let child = Command::new(binary())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .args(extra)
            .arg("-db")
            .arg("-f")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", binary().display()));
        let mut proxy = Proxy { child, dir, exited: None };
        proxy.wait_listening(&bind_ports(cfg_text));
        proxy
    }

    /// Run `<bin> -c -f <cfg>`: (exit code, stdout, stderr). The exit code is
    /// -1 if the process died from a signal.
    pub fn check(cfg_text: &str) -> (i32, String, String) {
        let dir = fresh_dir();
        let cfg = dir.join("proxy.cfg");
        fs::write(&cfg, cfg_text).expect("write proxy.cfg");
        let out = Command::new(binary())
            .arg("-c")
            .arg("-f")
            .arg(&cfg)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", binary().display()));
        let _ = fs::remove_dir_all(&dir);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Runs the binary under test with `args` and `env` to its end, in a
    /// fresh directory holding `files` (name, contents), which is also its
    /// working directory: (exit code or -1, stdout, stderr).
    pub fn run_once(args: &[&str], env: &[(&str, &str)], files: &[(&str, &str)]) -> (i32, String, String) {
        let dir = fresh_dir();
        for (name, text) in files {
            fs::write(dir.join(name), text).expect("write file");
        }
        let out = Command::new(binary())
            .args(args)
            .envs(env.iter().copied())
            .current_dir(&dir)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", binary().display()));
        let _ = fs::remove_dir_all(&dir);
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The directory holding the config and the captured output.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Everything the proxy wrote to stderr so far.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&fs::read(self.dir.join("stderr.txt")).unwrap_or_default()).into_owned()
    }

    /// Everything the proxy wrote to stdout so far.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&fs::read(self.dir.join("stdout.txt")).unwrap_or_default()).into_owned()
    }

    /// Send a signal by name (`"USR1"`, `"TERM"`) with the `kill` command.
    pub fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(st.success(), "kill -{sig} {} failed: {st}", self.pid());
    }

    /// Wait up to `within` for the process to exit; its status if it did.
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(st) = self.try_exit() {
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Poll for an exit without waiting.
    pub fn try_exit(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        self.exited
    }

    /// True while the process holds a listening socket on 127.0.0.1:`port`
    /// (or any address on that port). Reads /proc, so it never connects.
    pub fn is_listening(&self, port: u16) -> bool {
        listening_inodes(port).iter().any(|i| self.owned_sockets().contains(i))
    }

    /// Wait until every port in `ports` is listening; panic otherwise.
    fn wait_listening(&mut self, ports: &[u16]) {
        let deadline = Instant::now() + ms(10_000);
        loop {
            if let Some(st) = self.try_exit() {
                panic!(
                    "{} exited during start-up ({st}); stderr:\n{}",
                    binary().display(),
                    self.stderr_text()
                );
            }
            if ports.iter().all(|&p| self.is_listening(p)) {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "{} does not listen on all of {ports:?}; stderr:\n{}",
                    binary().display(),
                    self.stderr_text()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Socket inodes among the process's open file descriptors.
    fn owned_sockets(&self) -> Vec<u64> {
        let Ok(fds) = fs::read_dir(format!("/proc/{}/fd", self.pid())) else {
            return Vec::new();
        };
        fds.filter_map(|e| fs::read_link(e.ok()?.path()).ok())
            .filter_map(|l| {
                let l = l.to_string_lossy().into_owned();
                l.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
            })
            .collect()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if self.try_exit().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if std::thread::panicking() {
            eprintln!("proxy files kept in {}; stderr:\n{}", self.dir.display(), self.stderr_text());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Ports of the `bind <addr>:<port>` lines of a config.
pub fn bind_ports(cfg_text: &str) -> Vec<u16> {
    cfg_text
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            (words.next()? == "bind").then_some(())?;
            words.next()?.rsplit_once(':')?.1.parse().ok()
        })
        .collect()
}

/// Inodes of the LISTEN sockets on `port` (IPv4 and IPv6 tables).
fn listening_inodes(port: u16) -> Vec<u64> {
    const LISTEN: &str = "0A";
    let mut out = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || f[3] != LISTEN {
                continue;
            }
            let local_port = f[1].rsplit_once(':').and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
            if local_port == Some(port)
                && let Ok(inode) = f[9].parse()
            {
                out.push(inode);
            }
        }
    }
    out
}

/// The text after ` : config : ` of each `[WARNING]` line of `stderr`
/// (what `-c` said, without the tag and pid), in order.
pub fn config_warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("[WARNING]"))
        .filter_map(|l| l.split(" : config : ").nth(1))
        .collect()
}
