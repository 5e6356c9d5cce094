//! The `global` section's process keywords, each shown by its effect on
//! the running process: `daemon` and `-D`/`-db`, `pidfile`,
//! `hard-stop-after`, `grace`, `user`/`group`/`chroot` (as root),
//! `setenv`/`presetenv`/`unsetenv` seen by later lines, `log-tag` and
//! `log-send-hostname` in syslog headers, `stats socket` owner and mode;
//! and what `-c` says about keywords strata warns about or refuses
//! (`tune.*` without a knob, Lua, SPOE, `zero-warning`).
//!
//! Validated against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`); the
//! wording of strata-only refusals is skipped there.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;
use support::syslog::LogReceiver;
use support::time::{cfg_time, ms};
use support::{Backend, Proxy, binary, connect, free_port, round_trip, under_haproxy, wait_until};

const TIMEOUTS: &str = "    timeout client 10s\n    timeout server 10s\n    timeout connect 2s\n";

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .is_ok_and(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
}

/// An echo backend behind a TCP frontend on `port`, with `global` lines.
fn tcp_cfg(global: &str, port: u16, be: &Backend) -> String {
    format!(
        "global\n{global}\ndefaults\n    mode tcp\n{TIMEOUTS}\nlisten l\n    bind 127.0.0.1:{port}\n    server s1 {}\n",
        be.addr()
    )
}

fn echoes(port: u16) -> bool {
    let mut c = connect(port);
    round_trip(&mut c, b"ping", ms(3000)).is_ok_and(|r| r == b"ping")
}

/// A field of /proc/PID/status, e.g. `Uid`.
fn status_field(pid: u32, name: &str) -> Option<String> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find_map(|l| l.strip_prefix(&format!("{name}:")).map(|v| v.trim().to_string()))
}

fn kill(pid: u32) {
    let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && status_field(pid, "State").is_some_and(|s| !s.starts_with('Z'))
}

/// Runs the binary with `args` in the foreground of the test and waits
/// for it to return (a daemon returns once it forked).
fn run_detached(cfg: &str, args: &[&str]) -> (std::process::ExitStatus, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("strata-daemon-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("proxy.cfg");
    std::fs::write(&path, cfg).expect("write cfg");
    let status = Command::new(binary())
        .args(args)
        .arg("-f")
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run proxy");
    (status, dir)
}

fn read_pid(path: &std::path::Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// `daemon`: the command returns 0 at once, the pid file names the
/// background process, which serves.
#[test]
fn daemon_forks_into_the_background_and_writes_its_pid() {
    let be = Backend::echo();
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("strata-daemon-pid-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let pidfile = dir.join("p.pid");
    let cfg = tcp_cfg(&format!("    daemon\n    pidfile {}", pidfile.display()), port, &be);
    let (status, _) = run_detached(&cfg, &[]);
    assert!(status.success(), "the parent exits 0 once forked: {status}");
    let pid = read_pid(&pidfile).expect("pid file written");
    assert!(alive(pid), "the daemon {pid} runs");
    assert!(wait_until(ms(3000), || echoes(port)), "the daemon serves");
    kill(pid);
}

/// `-db` keeps `daemon` in the foreground; `-D` forks without `daemon`.
#[test]
fn db_keeps_the_foreground_and_d_forks() {
    let be = Backend::echo();
    let port = free_port();
    let mut p = Proxy::start(&tcp_cfg("    daemon", port, &be)); // the launcher passes -db
    assert!(echoes(port));
    assert!(p.try_exit().is_none(), "with -db the started process itself serves");
    drop(p);

    let port = free_port();
    let dir = std::env::temp_dir().join(format!("strata-dash-d-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let pidfile = dir.join("p.pid");
    let pidfile_s = pidfile.display().to_string();
    let (status, _) = run_detached(&tcp_cfg("", port, &be), &["-D", "-p", &pidfile_s]);
    assert!(status.success(), "{status}");
    let pid = read_pid(&pidfile).expect("pid file");
    assert!(wait_until(ms(3000), || echoes(port)), "the -D daemon serves");
    kill(pid);
}

/// `hard-stop-after`: a soft stop with a connection still open ends the
/// process after the delay; without it the process waits for the client.
#[test]
fn hard_stop_after_ends_a_soft_stop_that_waits_for_clients() {
    let be = Backend::echo();
    let port = free_port();
    let hard = Duration::from_millis(400);
    let mut p = Proxy::start(&tcp_cfg(&format!("    hard-stop-after {}", cfg_time(hard)), port, &be));
    let mut c = connect(port);
    assert!(round_trip(&mut c, b"x", ms(3000)).is_ok());
    p.signal("USR1");
    assert!(p.wait_exit(ms(150)).is_none(), "not before the delay while a client is connected");
    assert!(p.wait_exit(ms(5000)).is_some(), "the process ends after hard-stop-after");

    let port = free_port();
    let mut p = Proxy::start(&tcp_cfg("", port, &be));
    let mut c = connect(port);
    assert!(round_trip(&mut c, b"x", ms(3000)).is_ok());
    p.signal("USR1");
    assert!(p.wait_exit(ms(800)).is_none(), "control: without hard-stop-after the process waits");
    drop(c);
    assert!(p.wait_exit(ms(5000)).is_some(), "and ends once the client left");
}

/// `grace`: after SIGUSR1 the listener still accepts during the grace
/// delay, then the soft stop goes on.
#[test]
fn grace_keeps_accepting_after_a_soft_stop() {
    let be = Backend::echo();
    let port = free_port();
    let grace = Duration::from_millis(1500);
    let mut p = Proxy::start(&tcp_cfg(&format!("    grace {}", cfg_time(grace)), port, &be));
    p.signal("USR1");
    std::thread::sleep(ms(200));
    assert!(echoes(port), "still served during grace");
    assert!(p.wait_exit(ms(10_000)).is_some(), "then the process stops");
}

/// `user`/`group`/`chroot`: after binding, the process runs as the given
/// identity inside the given root (needs root to test).
#[test]
fn user_group_and_chroot_are_entered_after_binding() {
    if !is_root() {
        eprintln!("skipped: changing identity and chroot need root");
        return;
    }
    let be = Backend::echo();
    let port = free_port();
    let root = std::env::temp_dir().join(format!("strata-chroot-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&root).expect("chroot dir");
    let global = format!("    user nobody\n    group nogroup\n    chroot {}", root.display());
    let p = Proxy::start(&tcp_cfg(&global, port, &be));
    assert!(echoes(port), "still serves after dropping privileges");
    let uid = status_field(p.pid(), "Uid").unwrap_or_default();
    let gid = status_field(p.pid(), "Gid").unwrap_or_default();
    assert_eq!(uid.split_whitespace().collect::<Vec<_>>(), ["65534"; 4], "real, effective, saved, fs uid");
    assert_eq!(gid.split_whitespace().next(), Some("65534"), "{gid}");
    let groups = status_field(p.pid(), "Groups").unwrap_or_default();
    assert!(!groups.split_whitespace().any(|g| g == "0"), "root's groups dropped: {groups}");
    let seen = std::fs::read_link(format!("/proc/{}/root", p.pid())).expect("root link");
    assert_eq!(seen, root.canonicalize().expect("canonical"), "chroot entered");
}

/// `setenv`, `presetenv`, `unsetenv` apply from their line on, to the
/// words read after them.
#[test]
fn environment_edits_apply_to_later_lines() {
    let be = Backend::echo();
    let port = free_port();
    let cfg = format!(
        "global\n    setenv STRATA_T_BE {be}\n    presetenv STRATA_T_PORT 1\n    unsetenv STRATA_T_GONE\n\
         defaults\n    mode tcp\n{TIMEOUTS}\nlisten l\n    bind \"127.0.0.1:${{STRATA_T_PORT}}\"\n    \
         server s1 \"${{STRATA_T_BE}}\"\n    server s2 \"${{STRATA_T_GONE-127.0.0.1:1}}\" disabled\n",
        be = be.addr()
    );
    // presetenv keeps the value the environment already has.
    let env = [("STRATA_T_PORT", port.to_string()), ("STRATA_T_GONE", "256.0.0.1:1".to_string())];
    let p = Proxy::start_with_env(&cfg, &[], &env);
    assert!(serves_soon(port), "setenv and presetenv reached the bind and server lines: {}", p.stderr_text());
}

/// Whether `port` accepts and echoes within a few seconds (its bind line
/// names the port through a variable, so start-up does not wait for it).
fn serves_soon(port: u16) -> bool {
    wait_until(ms(5000), || support::try_connect(port).is_ok()) && echoes(port)
}

/// Numeric `uid` / `gid`: the same identity change as `user` / `group`.
#[test]
fn numeric_uid_and_gid_are_taken_after_binding() {
    if !is_root() {
        eprintln!("skipped: changing identity needs root");
        return;
    }
    let be = Backend::echo();
    let port = free_port();
    let p = Proxy::start(&tcp_cfg("    uid 65534\n    gid 65533", port, &be));
    assert!(echoes(port), "still serves after dropping privileges");
    let uid = status_field(p.pid(), "Uid").unwrap_or_default();
    let gid = status_field(p.pid(), "Gid").unwrap_or_default();
    assert_eq!(uid.split_whitespace().collect::<Vec<_>>(), ["65534"; 4], "real, effective, saved, fs uid");
    assert_eq!(gid.split_whitespace().collect::<Vec<_>>(), ["65533"; 4], "real, effective, saved, fs gid");
}

/// `resetenv [NAME...]`: from its line on, the environment holds only the
/// names it keeps: later `${NAME}` words see the others unset.
#[test]
fn resetenv_keeps_only_the_names_it_lists() {
    let be = Backend::echo();
    let port = free_port();
    let cfg = format!(
        "global\n    resetenv STRATA_T_PORT STRATA_T_BE\n\
         defaults\n    mode tcp\n{TIMEOUTS}\nlisten l\n    bind \"127.0.0.1:${{STRATA_T_PORT}}\"\n    \
         server s1 \"${{STRATA_T_BE}}\"\n    server s2 \"${{STRATA_T_GONE-127.0.0.1:1}}\" disabled\n"
    );
    let env = [
        ("STRATA_T_PORT", port.to_string()),
        ("STRATA_T_BE", be.addr().to_string()),
        ("STRATA_T_GONE", "256.0.0.1:1".to_string()), // not an address: refused if still set
    ];
    let p = Proxy::start_with_env(&cfg, &[], &env);
    assert!(serves_soon(port), "the kept names reached the bind and server lines: {}", p.stderr_text());
}

/// `log-tag` and `log-send-hostname`: the syslog header carries them.
#[test]
fn log_tag_and_hostname_in_syslog_headers() {
    let be = Backend::echo();
    let port = free_port();
    let rx = LogReceiver::udp();
    let cfg = format!(
        "global\n    log-tag edge7\n    log-send-hostname box-a1\n\ndefaults\n    mode tcp\n{TIMEOUTS}\n\
         listen l\n    bind 127.0.0.1:{port}\n    log {} local0\n    server s1 {}\n",
        rx.target(),
        be.addr()
    );
    let p = Proxy::start(&cfg);
    assert!(echoes(port));
    let line = rx.expect(ms(3000), "Connect from");
    // `<134>Mon dd hh:mm:ss box-a1 edge7[pid]: Connect from ...`
    let after_date = line.splitn(4, ' ').nth(3).unwrap_or_default();
    let expected = format!("box-a1 edge7[{}]: Connect from", p.pid());
    assert!(after_date.starts_with(&expected) || line.contains(&expected), "{line}");
}

/// `stats socket ... user/group/mode` (`unix-bind` does not apply to
/// them, as in HAProxy: the mode comes from the line only).
#[test]
fn stats_socket_owner_and_mode() {
    if !is_root() {
        eprintln!("skipped: giving a socket file away needs root");
        return;
    }
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let be = Backend::echo();
    let port = free_port();
    let dir = std::env::temp_dir().join(format!("strata-sock-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let global = format!(
        "    unix-bind mode 666\n    stats socket {d}/a.sock user nobody mode 640\n    stats socket {d}/b.sock group nogroup mode 600 level admin",
        d = dir.display()
    );
    let _p = Proxy::start(&tcp_cfg(&global, port, &be));
    let a = std::fs::metadata(dir.join("a.sock")).expect("a.sock");
    assert_eq!((a.uid(), a.permissions().mode() & 0o777), (65534, 0o640));
    let b = std::fs::metadata(dir.join("b.sock")).expect("b.sock");
    assert_eq!((b.gid(), b.permissions().mode() & 0o777), (65534, 0o600));
}

/// What `-c` says: warnings for knobs without effect (file:line named),
/// refusals for Lua and SPOE, `zero-warning` turning warnings fatal.
#[test]
fn check_mode_warns_and_refuses_with_file_and_line() {
    let ok = format!(
        "global\n    tune.maxrewrite 1024\n    noepoll\n    tune.maxpollevents 64\n\
         defaults\n    mode http\n{TIMEOUTS}\nfrontend f\n    bind 127.0.0.1:{}\n    option splice-auto\n    default_backend b\n\
         backend b\n    server s 127.0.0.1:1\n",
        free_port()
    );
    let (code, _, err) = Proxy::check(&ok);
    assert_eq!(code, 0, "{err}");
    if !under_haproxy() {
        for (line, word) in [(2, "tune.maxrewrite"), (3, "noepoll"), (13, "option splice-auto")] {
            let loc = format!("proxy.cfg:{line}] : ");
            assert!(
                err.lines().any(|l| l.starts_with("[WARNING]") && l.contains(&loc) && l.contains(word)),
                "warning for {word} at line {line}: {err}"
            );
        }
    }
    let fatal = ok.replace("global\n", "global\n    zero-warning\n");
    let (code, _, err) = Proxy::check(&fatal);
    if !under_haproxy() {
        assert_eq!(code, 1, "zero-warning with warnings refuses: {err}");
    }
    let lua = format!(
        "global\n    lua-load /nonexistent.lua\ndefaults\n    mode http\n{TIMEOUTS}\nfrontend f\n    bind 127.0.0.1:{}\n    \
         filter spoe engine e config /nonexistent.conf\n    http-request lua.check\n    default_backend b\nbackend b\n    server s 127.0.0.1:1\n",
        free_port()
    );
    let (code, _, err) = Proxy::check(&lua);
    assert_eq!(code, 1, "{err}");
    if !under_haproxy() {
        for (line, text) in
            [(2, "strata has no Lua engine"), (11, "strata has no SPOE"), (12, "strata has no Lua engine")]
        {
            let loc = format!("proxy.cfg:{line}] : ");
            assert!(
                err.lines().any(|l| l.starts_with("[ALERT]") && l.contains(&loc) && l.contains(text)),
                "line {line}: {text}: {err}"
            );
        }
        assert!(!err.contains("unknown keyword"), "{err}");
    }
}

/// `ulimit-n N`: the process's open-files limit is N (`/proc/PID/limits`,
/// as HAProxy's manual says; HAProxy 2.6.12 itself keeps a higher limit it
/// started with) and `show info` says so.
#[test]
fn ulimit_n_sets_the_open_files_limit() {
    let be = Backend::echo();
    let (port, stats) = (free_port(), free_port());
    let global = format!("    ulimit-n 4321\n    stats socket 127.0.0.1:{stats} level admin");
    let p = Proxy::start(&tcp_cfg(&global, port, &be));
    assert!(echoes(port));
    if !support::under_haproxy() {
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", p.pid())).expect("limits");
        let line = limits.lines().find(|l| l.starts_with("Max open files")).expect("open files line");
        assert_eq!(line.split_whitespace().nth(3), Some("4321"), "soft limit: {line}");
    }
    assert_eq!(support::info(stats).get("Ulimit-n").map(String::as_str), Some("4321"));
}
