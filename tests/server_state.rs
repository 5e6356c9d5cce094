//! `server-state-file` / `load-server-state-from-file global|local`
//! (issue 23 item 4): what the stats port changed (weights, maintenance,
//! drain, a `disabled` server made ready) survives a restart through the
//! `show servers state` output saved to a file, unless the configuration
//! changed the same thing; a missing or corrupt file is a warning and the
//! servers start as configured. Validated against HAProxy 2.6.12
//! (`STRATA_BIN=/usr/sbin/haproxy cargo test --test server_state`).

mod support;

use std::path::{Path, PathBuf};
use support::cli_client::cli;
use support::launcher::Proxy;
use support::ports::free_port;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("strata-server-state-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// `global` or `local` loading from `dir`; s1's configured weight `w1`.
fn cfg(stats: u16, fe: u16, dir: &Path, mode: &str, w1: u32) -> String {
    let file = if mode == "global" {
        format!("    server-state-file {}/state\n", dir.display())
    } else {
        format!("    server-state-base {}\n", dir.display())
    };
    format!(
        "global\n    stats socket ipv4@127.0.0.1:{stats} level admin\n{file}\
         defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
         \x20   load-server-state-from-file {mode}\n\
         frontend fe\n    bind 127.0.0.1:{fe}\n    default_backend bk\n\
         backend bk\n\
         \x20   server s1 127.0.0.1:9 weight {w1}\n\
         \x20   server s2 127.0.0.1:9 weight 12 disabled\n\
         \x20   server s3 127.0.0.1:9 weight 13\n\
         \x20   server s4 127.0.0.1:9 weight 14\n"
    )
}

/// (op_state, admin_state, uweight, iweight) of each server, by name.
fn states(stats: u16) -> Vec<(String, [u32; 4])> {
    cli(stats, "show servers state bk")
        .lines()
        .filter(|l| !l.starts_with('#') && l.split(' ').count() > 8)
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let n = |i: usize| f[i].parse::<u32>().expect("number");
            (f[3].to_string(), [n(5), n(6), n(7), n(8)])
        })
        .collect()
}

fn changed_then_saved(stats: u16, file: &Path) {
    for c in ["set server bk/s1 weight 5", "set server bk/s2 state ready", "set server bk/s3 state maint"] {
        cli(stats, c);
    }
    cli(stats, "set server bk/s4 state drain");
    let dump = cli(stats, "show servers state bk");
    std::fs::write(file, dump.trim_end_matches('\n').to_string() + "\n").expect("save state");
}

#[test]
fn server_state_survives_a_restart_unless_the_configuration_changed() {
    let d = dir("global");
    let (stats, fe) = (free_port(), free_port());
    let p = Proxy::start(&cfg(stats, fe, &d, "global", 11));
    let fresh = states(stats);
    assert_eq!(fresh[1].1[..2], [0, 5], "s2 disabled in the configuration: CMAINT|FMAINT");
    changed_then_saved(stats, &d.join("state"));
    drop(p);
    // restarted with two threads: the file is applied once, to the
    // servers every thread shares
    let p =
        Proxy::start(&cfg(stats, fe, &d, "global", 11).replacen("global\n", "global\n    nbthread 2\n", 1));
    let got = states(stats);
    let want: Vec<(String, [u32; 4])> = vec![
        ("s1".into(), [2, 0, 5, 11]),  // the weight set at run time
        ("s2".into(), [2, 4, 12, 12]), // made ready though `disabled`
        ("s3".into(), [0, 1, 13, 13]), // forced maintenance
        ("s4".into(), [2, 8, 14, 14]), // forced drain
    ];
    assert_eq!(got, want, "{}", p.stderr_text());
    drop(p);
    // a configured weight that changed wins over the saved one
    let p = Proxy::start(&cfg(stats, fe, &d, "global", 20));
    assert_eq!(states(stats)[0].1, [2, 0, 20, 20]);
    drop(p);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn server_state_local_files_and_bad_files() {
    let d = dir("local");
    let (stats, fe) = (free_port(), free_port());
    // no file yet: a warning naming it, the servers as configured
    let p = Proxy::start(&cfg(stats, fe, &d, "local", 11));
    let fresh = states(stats);
    let bk = d.join("bk");
    assert!(
        p.stderr_text().contains(&format!("Proxy 'bk': Can't open server state file '{}'", bk.display())),
        "{}",
        p.stderr_text()
    );
    changed_then_saved(stats, &bk);
    drop(p);
    let p = Proxy::start(&cfg(stats, fe, &d, "local", 11));
    assert_eq!(states(stats)[0].1, [2, 0, 5, 11], "the backend's own file, named after it");
    drop(p);
    // a cut line: the whole file is refused with HAProxy's line number
    let text = std::fs::read_to_string(&bk).expect("saved");
    std::fs::write(&bk, format!("{text}3 bk 1 s1 127.0.0.1 2 0 7 11\n")).expect("cut");
    let p = Proxy::start(&cfg(stats, fe, &d, "local", 11));
    assert_eq!(states(stats), fresh, "started as configured");
    assert!(
        p.stderr_text()
            .contains(&format!("Proxy 'bk': corrupted server state file '{}' at line 6.", bk.display())),
        "{}",
        p.stderr_text()
    );
    drop(p);
    // a server the configuration no longer has
    std::fs::write(&bk, format!("{text}3 bk 9 s9 127.0.0.1 2 0 7 11 0 1 0 2 0 0 0 0 - 9 -\n"))
        .expect("write");
    let p = Proxy::start(&cfg(stats, fe, &d, "local", 11));
    assert!(
        p.stderr_text().contains("Proxy 'bk': can't find server 's9' in backend 'bk'"),
        "{}",
        p.stderr_text()
    );
    assert_eq!(states(stats)[0].1, [2, 0, 5, 11]);
    drop(p);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn server_state_keywords_are_checked_as_haproxy_checks_them() {
    let base =
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n";
    let bad = format!(
        "global\n    server-state-file\n{base}    load-server-state-from-file bogus\n\
         frontend fe\n    bind 127.0.0.1:{}\n    load-server-state-from-file local\n    default_backend bk\n\
         backend bk\n    server s1 127.0.0.1:9\n",
        free_port()
    );
    let (code, _, err) = Proxy::check(&bad);
    assert_ne!(code, 0, "{err}");
    for want in [
        ":2] : 'server-state-file' expect one argument: a file path.",
        ":8] : 'load-server-state-from-file' expects 'global', 'local' or 'none'. Got 'bogus'",
        ":11] : 'load-server-state-from-file' ignored because frontend 'fe' has no backend capability.",
    ] {
        assert!(err.contains(want), "missing {want:?} in {err}");
    }
    // `global` without the global file: a warning, the configuration is valid
    let (code, _, err) = Proxy::check(&format!(
        "{base}    load-server-state-from-file global\nbackend bk\n    server s1 127.0.0.1:9\nlisten l\n    bind 127.0.0.1:{}\n    server s 127.0.0.1:9\n",
        free_port()
    ));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("backend 'bk' configured to load server state file from global section 'server-state-file' directive. Unfortunately, 'server-state-file' is not set!"), "{err}");
}
