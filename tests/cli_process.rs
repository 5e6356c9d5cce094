//! `show activity`, `show env` and `show pools` in HAProxy 2.6's layout
//! (one thread: no per-thread list), so tools that read them accept
//! strata. Passes on HAProxy (`nbthread 1`) as well.

mod support;

use support::{Proxy, cli, free_port};

/// `show activity`'s counters, in HAProxy 2.6.12's order.
const ACTIVITY: [&str; 24] = [
    "ctxsw",
    "tasksw",
    "empty_rq",
    "long_rq",
    "loops",
    "wake_tasks",
    "wake_signal",
    "poll_io",
    "poll_exp",
    "poll_drop_fd",
    "poll_skip_fd",
    "conn_dead",
    "stream_calls",
    "pool_fail",
    "buf_wait",
    "cpust_ms_tot",
    "cpust_ms_1s",
    "cpust_ms_15s",
    "avg_loop_us",
    "accepted",
    "accq_pushed",
    "accq_full",
    "accq_ring",
    "fd_takeover",
];

#[test]
fn activity_env_and_pools_as_haproxy() {
    let stats = free_port();
    let _proxy = Proxy::start(&format!(
        "global\n    nbthread 1\n    stats socket ipv4@127.0.0.1:{stats} level admin\n"
    ));
    let activity = cli(stats, "show activity");
    let lines: Vec<&str> = activity.lines().collect();
    assert_eq!(lines[0], "thread_id: 1 (1..1)", "{activity}");
    let date = lines[1].strip_prefix("date_now: ").expect("date_now");
    let (secs, micros) = date.split_once('.').expect("secs.micros");
    assert!(secs.parse::<u64>().is_ok() && micros.len() == 6, "{date}");
    let names: Vec<&str> =
        lines[2..].iter().take_while(|l| !l.is_empty()).map(|l| l.split(": ").next().unwrap()).collect();
    assert_eq!(names, ACTIVITY, "{activity}");
    for l in &lines[2..2 + ACTIVITY.len()] {
        let value = l.split(": ").nth(1).unwrap_or_default();
        assert!(value.parse::<u64>().is_ok(), "one thread: a bare number: {l}");
    }
    assert!(activity.ends_with("\n\n"), "{activity:?}");

    let home = std::env::var("HOME").unwrap_or_default();
    assert_eq!(cli(stats, "show env HOME"), format!("HOME={home}\n\n"));
    assert_eq!(cli(stats, "show env STRATA_NO_SUCH_VARIABLE"), "Variable not found\n\n");
    assert!(cli(stats, "show env").lines().any(|l| l == format!("HOME={home}")));

    let pools = cli(stats, "show pools");
    let mut lines = pools.lines();
    assert_eq!(lines.next(), Some("Dumping pools usage. Use SIGQUIT to flush them."), "{pools}");
    let buffer = pools.lines().find(|l| l.starts_with("  - Pool buffer (")).expect("the buffer pool");
    assert!(buffer.contains(" allocated (") && buffer.contains(" failures, "), "{buffer}");
    let total = pools.lines().find(|l| l.starts_with("Total: ")).expect("Total line");
    assert!(total.contains(" pools, ") && total.ends_with(" by thread caches)."), "{total}");
    assert!(pools.ends_with("\n\n"), "{pools:?}");
}
