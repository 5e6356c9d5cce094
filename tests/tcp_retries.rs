//! Connection failures to a server: `retries` and `option redispatch`.
//!
//! Backend `be` uses `balance first` with `dead` (nothing listens) listed
//! before `live` (an echo server), so the first choice is always `dead`.
//! `timeout connect 100ms` keeps HAProxy's retry turn-around
//! (min(1s, timeout connect)) short.
//!
//! Observed on HAProxy 2.6 (tcplog retries field): with `option redispatch`
//! the stream is served by `live` after a single failed attempt on `dead`
//! (`+1`): with more than one active server and a non-hash algorithm,
//! HAProxy redispatches at once instead of waiting for the last retry.
//! Without it, `dead` is tried 1 + `retries` = 3 times (`SC`, retries `2`,
//! ~200ms of turn-arounds), then the client is closed without data.
//!
//! The debug-log assertions (`-d`: `connect to be/dead failed`,
//! `redispatch`) are strata-only and skipped under `STRATA_BIN=haproxy`.

mod support;

use std::time::Duration;

use support::*;

const RETRIES: usize = 2;

fn config(fe_port: u16, dead_port: u16, live_port: u16, redispatch: bool) -> String {
    format!(
        "{}\
         frontend fe\n    bind 127.0.0.1:{fe_port}\n    default_backend be\n\
         backend be\n    balance first\n    retries {RETRIES}\n{}\
         \x20   server dead 127.0.0.1:{dead_port}\n\
         \x20   server live 127.0.0.1:{live_port}\n",
        tcp_defaults(100, Duration::from_millis(100), Duration::from_secs(10), Duration::from_secs(10)),
        if redispatch { "    option redispatch\n" } else { "" }
    )
}

/// What one client connection through `be` experienced.
struct Outcome {
    echo: std::io::Result<Vec<u8>>, // the round trip of MSG (with redispatch)
    closed: Closed,                 // how the connection ended (without redispatch)
    live_accepted: usize,           // connections that reached `live`
    failed_connects: usize,         // strata -d: lines "connect to be/dead failed"
    redispatches: usize,            // strata -d: lines containing "redispatch"
}

const MSG: &[u8] = b"hello through a retried connection";

/// Start the proxy with `-d`, open one client connection, send MSG; with
/// redispatch expect the echo, without it wait for the close. Then wait for
/// the expected number of failure lines in the debug log (strata only).
fn scenario(redispatch: bool) -> Outcome {
    let live = Backend::echo();
    let port = free_port();
    let proxy = Proxy::start_with_args(&config(port, closed_port(), live.port(), redispatch), &["-d"]);
    let mut c = connect(port);
    let (echo, closed) = if redispatch {
        (round_trip(&mut c, MSG, ms(10_000)), Closed::StillOpen)
    } else {
        use std::io::Write;
        let _ = c.write_all(MSG); // may fail once the proxy has given up
        (Ok(Vec::new()), expect_closed_within(&mut c, ms(10_000)))
    };
    let count = |needle: &str| proxy.stderr_text().lines().filter(|l| l.contains(needle)).count();
    let expected_failures = if redispatch { 1 } else { 1 + RETRIES };
    if !under_haproxy() {
        wait_until(ms(5_000), || count("connect to be/dead failed") >= expected_failures);
    }
    Outcome {
        echo,
        closed,
        live_accepted: live.accepted(),
        failed_connects: count("connect to be/dead failed"),
        redispatches: count("redispatch"),
    }
}

#[test]
fn redispatch_serves_the_client_from_the_live_server() {
    let o = scenario(true);
    assert_eq!(o.echo.expect("echo through be/live"), MSG);
    assert_eq!(o.live_accepted, 1);
    if !under_haproxy() {
        // strata-only: its -d log.
        assert_eq!(o.failed_connects, 1, "one failed attempt on dead, then an immediate redispatch");
        assert!(o.redispatches >= 1, "the redispatch is logged");
    }
}

#[test]
fn without_redispatch_the_client_is_closed_after_all_retries() {
    let o = scenario(false);
    assert!(
        matches!(o.closed, Closed::Eof(_) | Closed::Reset(_)),
        "expected a close without data, got {:?}",
        o.closed
    );
    assert_eq!(o.live_accepted, 0, "balance first without redispatch never leaves `dead`");
    if !under_haproxy() {
        // strata-only: its -d log.
        assert_eq!(o.failed_connects, 1 + RETRIES, "1 attempt + {RETRIES} retries");
        assert_eq!(o.redispatches, 0);
    }
}
