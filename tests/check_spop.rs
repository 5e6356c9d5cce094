//! `option spop-check`, HAProxy 2.6's health check of an SPOE agent: the
//! check sends a HAPROXY-HELLO frame (82 bytes: SPOP 2.0, max-frame-size
//! 16380, `healthcheck` true) and judges the agent's AGENT-HELLO: a
//! supported version and frame size make the server UP ("SPOA server is
//! ok"), a bad frame, fragmentation, version 1.0 or an AGENT-DISCONNECT
//! put it DOWN with HAProxy's reason. strata refused the option ("not
//! supported yet"), so HAProxy's regtest checks/spop-check did not start
//! and a backend of SPOE agents could not be health-checked.
//!
//! Validated against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex")).collect()
}

/// A fake SPOE agent: reads the 82-byte HELLO (kept in `seen`), answers
/// `reply`.
fn agent(reply: Vec<u8>, seen: Arc<Mutex<Vec<u8>>>) -> Backend {
    Backend::spawn(move |mut s| {
        let mut buf = vec![0u8; 82];
        if s.read_exact(&mut buf).is_err() {
            return;
        }
        *seen.lock().expect("lock") = buf;
        let _ = s.write_all(&reply);
    })
}

const OK: &str = "00000036 65 00000001 0000 0776657273696F6E 0803322E30 \
                  0E6D61782D6672616D652D73697A65 03FCF006 0C6361706162696C6974696573 0800";

#[test]
fn agents_answers_make_the_server_up_or_down_with_haproxys_reasons() {
    let cases: [(&str, &str, &str, &str, &str); 5] = [
        ("ok", OK, "UP", "L7OK", ""),
        ("empty", "00000000", "DOWN", "L7RSP", "invalid frame received"),
        ("frag", "00000007 65 00000000 0000", "DOWN", "L7RSP", "fragmentation not supported"),
        (
            "v1",
            "00000014 65 00000001 0000 0776657273696F6E 0803312E30",
            "DOWN",
            "L7RSP",
            "unsupported version",
        ),
        (
            "disc",
            "0000001f 66 00000001 0000 0b7374617475732d636f6465 0303 076d657373616765 0800",
            "DOWN",
            "L7RSP",
            "frame is too big",
        ),
    ];
    let seen: Vec<Arc<Mutex<Vec<u8>>>> = cases.iter().map(|_| Arc::default()).collect();
    let agents: Vec<Backend> = cases.iter().zip(&seen).map(|(c, s)| agent(hex(c.1), s.clone())).collect();
    let stats = free_port();
    let mut cfg = format!(
        "global\n    stats socket 127.0.0.1:{stats} level admin\n\
         defaults\n    mode tcp\n    timeout connect {}\n    timeout client {}\n    timeout server {}\n    \
         timeout check {}\n",
        cfg_time(Duration::from_secs(2)),
        cfg_time(Duration::from_secs(5)),
        cfg_time(Duration::from_secs(5)),
        cfg_time(Duration::from_secs(2)),
    );
    for (c, a) in cases.iter().zip(&agents) {
        cfg.push_str(&format!(
            "backend {}\n    option spop-check\n    server s 127.0.0.1:{} check inter {} rise 1 fall 1\n",
            c.0,
            a.port(),
            cfg_time(Duration::from_millis(200)),
        ));
    }
    let _proxy = Proxy::start(&cfg);
    for c in &cases {
        expect_stat(stats, c.0, "s", &[("status", c.2), ("check_status", c.3), ("last_chk", c.4)], c.0);
    }
    let hello = seen[0].lock().expect("lock").clone();
    let want = hex("0000004e 01 00000001 0000 12737570706f727465642d76657273696f6e73 0803322e30 \
         0e6d61782d6672616d652d73697a65 03fcf006 0c6361706162696c6974696573 0800 \
         0b6865616c7468636865636b 11");
    assert_eq!(hello, want, "the HAPROXY-HELLO frame, byte for byte");
}

#[test]
fn log_health_checks_names_the_spoa_result() {
    let logs = LogReceiver::udp();
    let seen = Arc::default();
    let a = agent(hex(OK), seen);
    let cfg = format!(
        "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
         backend be\n    log {} daemon\n    option log-health-checks\n    option spop-check\n    \
         server srv 127.0.0.1:{} check inter {} rise 1 fall 1\n\
         frontend fe\n    bind 127.0.0.1:{}\n    default_backend be\n",
        logs.target(),
        a.port(),
        cfg_time(Duration::from_millis(200)),
        free_port(),
    );
    let _proxy = Proxy::start(&cfg);
    let deadline = std::time::Instant::now() + ms(10_000);
    let line = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match logs.recv_within(left) {
            Some(l) if l.contains("Health check for server be/srv") => break l,
            Some(_) => {}
            None => panic!("no health check log line"),
        }
    };
    assert!(
        line.contains("Health check for server be/srv succeeded, reason: Layer7 check passed, code: 0, info: \"SPOA server is ok\", check duration: ")
            && line.contains("status: 1/1 UP."),
        "{line}"
    );
}

#[test]
fn the_option_takes_no_argument_and_needs_a_backend() {
    let head =
        "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n";
    let (code, _, err) = Proxy::check(&format!(
        "{head}frontend fe\n    bind 127.0.0.1:{}\n    default_backend be\nbackend be\n    \
         option spop-check extra\n    server s 127.0.0.1:1 check\n",
        free_port()
    ));
    assert_ne!(code, 0, "an argument is refused: {err}");
    assert!(err.contains("spop-check"), "{err}");
}
