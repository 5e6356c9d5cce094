//! `bind ... thread N`: only the named worker threads accept on a bind.
//!
//! The keyword was first accepted with a warning and every thread accepted
//! on every listener (the kernel spread the connections), so a config
//! pinning one frontend to thread 1 and another to thread 2, as operators
//! do to keep a noisy frontend off the others' thread, silently had both
//! on both threads. Each session's thread shows in `show sess all` as
//! `tmask=0x..` (HAProxy's task mask: bit n is thread n+1); the tests pass
//! on HAProxy 2.6 with the same config (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::time::Duration;
use support::*;

/// Connections per frontend: with both threads accepting, all of them on
/// one thread would be a 1 in 2^(N-1) chance.
const CONNS: usize = 12;

/// The `tmask=` of every stream of frontend `fe` in `show sess all`.
fn tmasks(stats: u16, fe: &str) -> Vec<String> {
    let text = cli(stats, "show sess all");
    let mut out = Vec::new();
    let mut in_fe = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("frontend=") {
            in_fe = line.starts_with(&format!("frontend={fe} "));
        }
        // The task's mask (HAProxy also prints each fd's, as `fd.tmask=`).
        if let Some(rest) = line.split_once(" tmask=").map(|(_, r)| r).filter(|_| in_fe) {
            out.push(rest.split([' ', ')']).next().unwrap_or_default().to_owned());
        }
    }
    out
}

/// A connection through which one echo round trip went (its stream lives
/// until it is dropped).
fn echoed<S: Read + Write>(mut s: S) -> S {
    s.write_all(b"ping").expect("write");
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).expect("echo");
    assert_eq!(&buf, b"ping");
    s
}

#[test]
fn each_frontend_is_served_by_the_threads_its_bind_names_only() {
    let echo = Backend::echo();
    let dir = unix::SockDir::new("bthreads");
    let sock = dir.path("fe3.sock");
    let (stats, p1, p2, p4) = (free_port(), free_port(), free_port(), free_port());
    let t = cfg_time(Duration::from_secs(30));
    let cfg = format!(
        "global\n    nbthread 2\n    stats socket ipv4@127.0.0.1:{stats} level admin\n\
         defaults\n    mode tcp\n    timeout connect {t}\n    timeout client {t}\n    timeout server {t}\n\
         frontend fe1\n    bind 127.0.0.1:{p1} thread 1\n    default_backend be\n\
         frontend fe2\n    bind 127.0.0.1:{p2} thread 2\n    default_backend be\n\
         frontend fe3\n    bind unix@{} thread 2\n    default_backend be\n\
         frontend fe4\n    bind 127.0.0.1:{p4} thread 1-2\n    default_backend be\n\
         backend be\n    server s1 127.0.0.1:{}\n",
        sock.display(),
        echo.port()
    );
    let _p = Proxy::start(&cfg);
    let tcp = |port| {
        (0..CONNS)
            .map(|_| echoed(TcpStream::connect(("127.0.0.1", port)).expect("connect")))
            .collect::<Vec<_>>()
    };
    let (_c1, _c2, _c4) = (tcp(p1), tcp(p2), tcp(p4));
    let _c3: Vec<_> = (0..CONNS).map(|_| echoed(UnixStream::connect(&sock).expect("connect unix"))).collect();
    assert_eq!(tmasks(stats, "fe1"), vec!["0x1"; CONNS], "fe1: bind ... thread 1");
    assert_eq!(tmasks(stats, "fe2"), vec!["0x2"; CONNS], "fe2: bind ... thread 2");
    assert_eq!(tmasks(stats, "fe3"), vec!["0x2"; CONNS], "fe3: unix socket, thread 2");
    let both = tmasks(stats, "fe4");
    assert_eq!(both.len(), CONNS);
    assert!(both.iter().all(|m| m == "0x1" || m == "0x2"), "fe4: {both:?}");
}

#[test]
fn a_set_naming_no_running_thread_is_refused_as_haproxy_does() {
    let t = cfg_time(Duration::from_secs(5));
    let cfg = |bind: &str| {
        format!(
            "global\n    nbthread 2\ndefaults\n    mode tcp\n    timeout connect {t}\n    timeout client {t}\n    timeout server {t}\n\
             frontend fe\n    bind 127.0.0.1:12000 {bind}\n    default_backend be\nbackend be\n    server s1 127.0.0.1:1\n"
        )
    };
    let (code, _, err) = Proxy::check(&cfg("thread 3"));
    assert_ne!(code, 0, "{err}");
    assert!(
        err.contains("Proxy 'fe': 'thread' directive contains threads that belong to no group in 'bind 127.0.0.1:12000' at [")
            && err.contains("proxy.cfg:9]."),
        "{err}"
    );
    let (code, _, err) = Proxy::check(&cfg("thread 1/3"));
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("'thread' directive only references threads not belonging to the group"), "{err}");
    // More threads than run are cut to those that run.
    let (code, _, err) = Proxy::check(&cfg("thread 1-3"));
    assert_eq!(code, 0, "{err}");
    // `process` is deprecated in 2.6, its thread part works as `thread`.
    let (code, _, err) = Proxy::check(&cfg("process 1/2"));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("'process 1/2' on 'bind' lines is deprecated and will be removed in 2.7. Please use 'thread 2' instead."),
        "{err}"
    );
}
