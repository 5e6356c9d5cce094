//! The command line as HAProxy 2.6's: `-cc` conditions (exit 0/1/2 and
//! the messages), `-vv` in HAProxy's layout with a feature list `-cc
//! feature()` agrees with, the usage text for an unknown flag, and what
//! each flag does: `-m` caps buffer memory (a new connection over it gets
//! the 503 and a close), `-dM` poisons buffers without changing what is
//! forwarded, `-n`/`-N` limits, `-L`, `-C`, `-q`, `-dW`, `-dD`, `-dr`,
//! `-sf`/`-st`.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;
use support::{Backend, Proxy, cfg_time, free_port, info, ms, pattern, show_stat, under_haproxy, wait_until};

fn run(args: &[&str]) -> (i32, String, String) {
    Proxy::run_once(args, &[], &[])
}

fn defaults() -> String {
    format!(
        "defaults\n    timeout connect {}\n    timeout client {}\n    timeout server {}\n",
        cfg_time(ms(1000)),
        cfg_time(ms(5000)),
        cfg_time(ms(5000))
    )
}

#[test]
fn check_condition_truth_table() {
    // (condition, exit code) as `haproxy -cc` 2.6.12 answers.
    let table: &[(&str, i32)] = &[
        ("1", 0),
        ("0", 1),
        ("", 1),
        ("!0", 0),
        ("1 && 0", 1),
        ("0 || 1", 0),
        ("!(1 && (0 || 0))", 0),
        ("version_atleast(2.5-dev0)", 0),
        ("version_atleast(2.6.12)", 0),
        ("version_atleast(2.6.13)", 1),
        ("version_before(2.7)", 0),
        ("version_before(2.6.12)", 1),
        ("defined(HOME)", 0),
        ("defined(STRATA_SURELY_UNSET_VAR)", 1),
        ("streq(a,a) && strneq(a,b)", 0),
        ("streq('a b',\"a b\")", 0),
        ("feature(EPOLL)", 0),
        ("feature(EPOL)", 1),
        ("!feature(OBSOLETE_LINKER)", 0),
        ("foo(", 2),
        ("1 &&", 2),
        ("(1", 2),
        ("streq(a)", 2),
        ("1 x", 2),
    ];
    for (cond, want) in table {
        let (code, _, err) = run(&["-cc", cond]);
        assert_eq!(code, *want, "-cc {cond:?}: {err}");
    }
    let (_, _, err) = run(&["-cc", "foo("]);
    assert!(
        err.lines().any(|l| l.starts_with("[ALERT]")
            && l.ends_with(
                " : config : Failed to evaluate condition: unparsable conditional expression 'foo('"
            )),
        "{err}"
    );
    let (_, _, err) = run(&["-cc", "streq(a)"]);
    assert!(err.contains(
        "Failed to evaluate condition: missing arguments (got 1/2), type 'string' expected in argument 1 of \
         predicate 'streq' used in conditional expression"
    ));
    // strata has no TLS library yet: it must not claim one.
    if !under_haproxy() {
        assert_eq!(run(&["-cc", "feature(OPENSSL)"]).0, 1);
        assert_eq!(run(&["-cc", "ssllib_name_startswith(OpenSSL)"]).0, 1);
        assert_eq!(run(&["-cc", "openssl_version_atleast(1.0.0)"]).0, 2);
    }
}

#[test]
fn build_report_layout_and_honest_features() {
    let (code, out, _) = run(&["-vv"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    let first = lines[0];
    assert!(first.starts_with("HAProxy version 2.6.12"), "{first}");
    let version = first.split(' ').nth(2).expect("version word");
    assert!(first.contains(" - http"), "{first}");
    let pos = |prefix: &str| {
        lines.iter().position(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix:?} in:\n{out}"))
    };
    let order = [
        pos("Running on: "),
        pos("Build options :"),
        pos("  TARGET  = "),
        pos("Feature list : "),
        pos("Available polling systems :"),
        pos("Available multiplexer protocols :"),
        pos("Available services :"),
        pos("Available filters :"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "sections out of order:\n{out}");
    let features: Vec<&str> =
        lines[order[3]].trim_start_matches("Feature list : ").split(' ').filter(|w| !w.is_empty()).collect();
    assert!(features.contains(&"+EPOLL"), "{features:?}");
    if !under_haproxy() {
        assert!(version.starts_with("2.6.12-strata-"), "{version}");
        assert!(features.contains(&"-OPENSSL") && features.contains(&"-LUA"), "{features:?}");
    }
    // Every claim in the list is what `feature()` answers.
    for f in features {
        let (sign, name) = f.split_at(1);
        let (code, _, err) = run(&["-cc", &format!("feature({name})")]);
        assert_eq!(code, if sign == "+" { 0 } else { 1 }, "{f}: {err}");
    }
    // `-v` is the banner alone.
    let (code, out, _) = run(&["-v"]);
    assert_eq!(code, 0);
    assert!(out.starts_with(&format!("HAProxy version {version} ")) && !out.contains("Feature list"));
}

#[test]
fn unknown_flags_and_missing_arguments_print_the_usage_and_exit_1() {
    // HAProxy 2.6.12 exits 1 silently on a lone `-f` and says "failed to
    // copy argv" on a lone `-cc`; strata shows the usage for those too.
    let missing: &[&[&str]] = if under_haproxy() { &[] } else { &[&["-f"], &["-cc"]] };
    for args in [&["-Z"][..], &["notaflag.cfg"], &[]].iter().chain(missing) {
        let (code, out, err) = run(args);
        assert_eq!(code, 1, "{args:?}");
        assert!(out.starts_with("HAProxy version "), "{args:?}: {out}");
        assert!(
            err.contains("Usage : ")
                && err.contains("        -cc check condition : evaluate a condition and exit\n")
        );
        assert!(err.contains("        -S <bind>[,<bind options>...] new master CLI\n"), "{err}");
    }
}

/// A TCP echo path through the proxy with `args`; 1 MiB must come back
/// unchanged.
fn echo_through(args: &[&str]) {
    let echo = Backend::echo();
    let port = free_port();
    let cfg = format!(
        "{}listen li\n    mode tcp\n    bind 127.0.0.1:{port}\n    server s1 127.0.0.1:{}\n",
        defaults(),
        echo.port()
    );
    let _p = Proxy::start_with_args(&cfg, args);
    let data = pattern(1 << 20, 7);
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(ms(10_000))).expect("timeout");
    let mut w = s.try_clone().expect("clone");
    let sent = data.clone();
    let writer = std::thread::spawn(move || {
        w.write_all(&sent).expect("send");
        w.shutdown(std::net::Shutdown::Write).expect("shutdown");
    });
    let mut back = Vec::new();
    s.read_to_end(&mut back).expect("read");
    writer.join().expect("writer");
    assert!(
        back == data,
        "{args:?}: {} bytes back, differ at {:?}",
        back.len(),
        support::first_difference(&back, &data)
    );
}

#[test]
fn poisoned_buffers_forward_bytes_unchanged() {
    echo_through(&["-dM"]);
    echo_through(&["-dM0x41"]);
    echo_through(&["-dS"]);
}

#[test]
fn memory_cap_refuses_new_connections_with_503_then_recovers() {
    // HAProxy applies -m as RLIMIT_AS, far below what its start-up needs
    // at 1 MB; the buffer-pool cap is strata's.
    if under_haproxy() {
        return;
    }
    let (port, cli) = (free_port(), free_port());
    let cfg = format!(
        "global\n    maxconn 1000\n    stats socket 127.0.0.1:{cli} level admin\n{}\
         frontend fe\n    mode http\n    bind 127.0.0.1:{port}\n    http-request return status 200\n",
        defaults()
    );
    let _p = Proxy::start_with_args(&cfg, &["-m", "1"]);
    let probe = || {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(ms(10_000))).expect("timeout");
        s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").expect("send");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    };
    assert!(probe().starts_with("HTTP/1.1 200"));
    // Each connection with half a request head holds a 16 KiB buffer; the
    // cap (1 MiB: 64 buffers) is reached long before 200 of them.
    let mut held = Vec::new();
    let mut refused = None;
    for _ in 0..200 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n").expect("send");
        held.push(s);
        // Let the proxy read it (and take its buffer) before the probe.
        std::thread::sleep(Duration::from_millis(5));
        let answer = probe();
        if !answer.starts_with("HTTP/1.1 200") {
            refused = Some((held.len(), answer));
            break;
        }
    }
    let (after, answer) = refused.expect("the cap was never reached");
    println!("refused after {after} held connections");
    assert!(after > 30, "refused after only {after} held connections");
    assert_eq!(
        answer,
        String::from_utf8_lossy(support::http_answers::SERVICE_UNAVAILABLE_503),
        "the 503, then the close"
    );
    let i = info(cli);
    assert_eq!(i.get("Memmax_MB").map(String::as_str), Some("1"));
    assert!(i.get("PoolFailed").and_then(|v| v.parse::<u64>().ok()).is_some_and(|n| n >= 1), "{i:?}");
    drop(held);
    assert!(wait_until(ms(5000), || probe().starts_with("HTTP/1.1 200")), "room again once they closed");
}

#[test]
fn maxconn_flags() {
    let (port, cli) = (free_port(), free_port());
    let cfg = format!(
        "global\n    maxconn 500\n    stats socket 127.0.0.1:{cli} level admin\n{}\
         frontend fe\n    mode http\n    bind 127.0.0.1:{port}\n    http-request return status 200\n\
         frontend fe2\n    mode http\n    maxconn 7\n    bind 127.0.0.1:{}\n    http-request return status 200\n",
        defaults(),
        free_port()
    );
    let _p = Proxy::start_with_args(&cfg, &["-n", "123", "-N", "42"]);
    assert_eq!(info(cli).get("Maxconn").map(String::as_str), Some("123"), "-n wins over the keyword");
    let stat = show_stat(cli, "");
    assert_eq!(stat.get("fe", "FRONTEND", "slim"), "42", "-N: frontends without maxconn");
    assert_eq!(stat.get("fe2", "FRONTEND", "slim"), "7", "a frontend's own maxconn stays");
}

#[test]
fn local_peer_name_chdir_quiet_and_diagnostics() {
    let cfg = format!(
        "global\n.notice \"peer is ${{HAPROXY_LOCALPEER}}\"\n.diag \"a diag line\"\n{}\
         frontend fe\n    mode http\n    bind 127.0.0.1:{}\n    http-request return status 200\n",
        defaults(),
        free_port()
    );
    let dir = std::env::temp_dir().join(format!("strata-cmdline-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("conf")).expect("dir");
    std::fs::write(dir.join("conf/x.cfg"), &cfg).expect("write");
    let run_in = |args: &[&str]| {
        let out = Command::new(support::binary()).args(args).current_dir(&dir).output().expect("run");
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, err) = run_in(&["-c", "-L", "peer1", "-C", "conf", "-f", "x.cfg"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("[NOTICE]") && err.contains("parsing [x.cfg:2]: 'peer is peer1'."), "{err}");
    assert!(!err.contains("a diag line"), ".diag only in diagnostic mode: {err}");
    let (_, err) = run_in(&["-c", "-dD", "-f", "conf/x.cfg"]);
    assert!(err.contains("[DIAG]") && err.contains("parsing [conf/x.cfg:3]: 'a diag line'."), "{err}");
    std::fs::write(dir.join("bad.cfg"), "global\n    nosuchkeyword\n").expect("write");
    let (code, err) = run_in(&["-c", "-f", "bad.cfg"]);
    assert!(code == 1 && err.contains("nosuchkeyword"), "{err}");
    let (code, err) = run_in(&["-q", "-c", "-f", "bad.cfg"]);
    assert_eq!((code, err.as_str()), (1, ""), "-q: nothing printed");
    // -dW: a warning is fatal (here: the missing timeouts).
    std::fs::write(
        dir.join("warn.cfg"),
        format!("listen a\n    mode http\n    bind 127.0.0.1:{}\n", free_port()),
    )
    .expect("write");
    let (code, _) = run_in(&["-c", "-f", "warn.cfg"]);
    assert_eq!(code, 0);
    let (code, err) = run_in(&["-c", "-dW", "-f", "warn.cfg"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("[ALERT]")
            && err.contains("Some warnings were found and 'zero-warning' is set. Aborting.")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unresolvable_servers_are_disabled_with_dr() {
    let cfg = format!(
        "{}listen li\n    mode http\n    bind 127.0.0.1:{}\n    server s1 nonexistent.invalid:80\n",
        defaults(),
        free_port()
    );
    let (code, _, err) = Proxy::run_once(&["-c", "-f", "x.cfg"], &[], &[("x.cfg", &cfg)]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("could not resolve address 'nonexistent.invalid'"), "{err}");
    let (code, _, err) = Proxy::run_once(&["-dr", "-c", "-f", "x.cfg"], &[], &[("x.cfg", &cfg)]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.lines().any(|l| l.starts_with("[WARNING]")
            && l.contains(
                "'server li/s1' : could not resolve address 'nonexistent.invalid', disabling server."
            )),
        "{err}"
    );
}

#[test]
fn old_processes_are_told_to_finish_or_stop_once_listening() {
    for (flag, signal) in [("-sf", libc::SIGUSR1), ("-st", libc::SIGTERM)] {
        let mut old = Command::new("sleep").arg("60").spawn().expect("spawn sleep");
        let cfg = format!(
            "{}frontend fe\n    mode http\n    bind 127.0.0.1:{}\n    http-request return status 200\n",
            defaults(),
            free_port()
        );
        let pid = old.id().to_string();
        let _p = Proxy::start_with_args(&cfg, &[flag, &pid]);
        let status = old.wait().expect("wait old");
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(signal), "{flag}: {status}");
    }
}

/// The bug story: `strata -c` called a configuration with nothing to
/// listen on valid (exit 0) and strata then ran doing nothing, where
/// HAProxy 2.6 says it "will not start (no listener)" (exit 2) and refuses
/// to start (exit 1). A disabled frontend does not listen; a `stats
/// socket` alone does. Same codes and words on HAProxy 2.6.12.
#[test]
fn a_configuration_without_a_listener_is_checked_with_exit_2_and_not_started() {
    let backend_only = format!("{}backend b\n    server s1 127.0.0.1:9\n", defaults());
    let disabled = format!(
        "{}frontend f\n    disabled\n    bind 127.0.0.1:{}\n    default_backend b\n{}",
        defaults(),
        free_port(),
        "backend b\n"
    );
    for cfg in [&backend_only, &disabled] {
        let (code, out, _) = Proxy::check(cfg);
        assert_eq!(code, 2, "{cfg}");
        assert_eq!(out, "Configuration file has no error but will not start (no listener) => exit(2).\n");
        let (code, _, err) = Proxy::run_once(&["-db", "-f", "p.cfg"], &[], &[("p.cfg", cfg)]);
        assert_eq!(code, 1, "{cfg}");
        assert!(err.contains("No enabled listener found (check for 'bind' directives) ! Exiting."), "{err}");
    }
    let stats_only = format!("global\n    stats socket 127.0.0.1:{}\n{backend_only}", free_port());
    let (code, out, _) = Proxy::check(&stats_only);
    assert_eq!((code, out.as_str()), (0, "Configuration file is valid\n"));
}
