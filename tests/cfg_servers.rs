//! Server lines as operators write them: `default-server` inherited from
//! `defaults` and overridden per backend, `server-template`, `id`, a host
//! name that does not resolve at start with `init-addr none` (the server
//! waits in `MAINT (resolution)`), checks sent to `port`/`addr` instead of
//! the service address, `fastinter`/`downinter` pacing, and
//! `on-marked-down shutdown-sessions` / `on-marked-up
//! shutdown-backup-sessions` acting on live streams.
//!
//! The bug story: strata refused `default-server` (15 of 60 real configs)
//! and checked servers on their service port even when `port 8008` said
//! where Patroni answers, which marks every database replica DOWN.
//! Validated against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::time::Duration;

use support::*;

/// A deadline for something that must happen: a safety net.
const SETTLE_MS: u64 = 20_000;

fn head(stats: u16) -> String {
    format!(
        "global\n    stats socket 127.0.0.1:{stats} level admin\n\
         defaults\n    mode tcp\n    timeout connect {}\n    timeout client {}\n    timeout server {}\n",
        cfg_time(Duration::from_secs(5)),
        cfg_time(Duration::from_secs(30)),
        cfg_time(Duration::from_secs(30)),
    )
}

/// `show servers state` lines of backend `be`, split into words.
fn servers_state(stats: u16, be: &str) -> Vec<Vec<String>> {
    cli(stats, &format!("show servers state {be}"))
        .lines()
        .skip(2)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(' ').map(str::to_string).collect())
        .collect()
}

#[test]
fn default_server_templates_ids_and_unresolved_names_show_in_the_stats() {
    let live = Backend::echo();
    let stats = free_port();
    let fe = free_port();
    let dead = closed_port();
    let cfg = format!(
        "{}    default-server check inter {} rise 1 fall 1\n\
         frontend fe\n    bind 127.0.0.1:{fe}\n    default_backend b\n\
         backend b\n    default-server inter {}\n\
         \x20   server-template web 2 127.0.0.1:{p}\n\
         \x20   server s3 127.0.0.1:{p} id 10\n\
         \x20   server s4 127.0.0.1:{p} port {dead}\n\
         \x20   server ghost ghost.invalid:80 init-addr none\n\
         \x20   server plain 127.0.0.1:{p} no-check cookie c5\n\
         backend c\n    server s 127.0.0.1:{dead} port {p}\n",
        head(stats),
        cfg_time(Duration::from_millis(200)),
        cfg_time(Duration::from_millis(100)),
        p = live.port(),
    );
    let _proxy = Proxy::start(&cfg);
    expect_stat(stats, "b", "web1", &[("status", "UP"), ("sid", "1")], "template server 1");
    expect_stat(stats, "b", "web2", &[("status", "UP"), ("sid", "2")], "template server 2");
    expect_stat(stats, "b", "s3", &[("status", "UP"), ("sid", "10")], "forced id");
    // The service port is closed, the check `port` answers.
    expect_stat(stats, "c", "s", &[("status", "UP"), ("check_status", "L4OK")], "checked on `port`");
    expect_stat(
        stats,
        "b",
        "s4",
        &[("status", "DOWN"), ("sid", "4"), ("check_status", "L4CON")],
        "`port` is closed",
    );
    let st =
        expect_stat(stats, "b", "ghost", &[("status", "MAINT (resolution)"), ("addr", "")], "unresolved");
    assert_eq!(st.get("b", "ghost", "sid"), "5", "automatic ids count every server before");
    assert_eq!(st.get("b", "plain", "status"), "no check");
    assert_eq!(st.get("b", "plain", "cookie"), "c5");

    let state = servers_state(stats, "b");
    let ghost = state.iter().find(|l| l[3] == "ghost").expect("ghost line");
    // srv_addr, srv_op_state, srv_admin_state (RMAINT), srv_fqdn, srv_port
    assert_eq!(
        (&*ghost[4], &*ghost[5], &*ghost[6], &*ghost[17], &*ghost[18]),
        ("-", "0", "32", "ghost.invalid", "80")
    );
    let s3 = state.iter().find(|l| l[3] == "s3").expect("s3 line");
    // srv_id, srv_f_forced_id
    assert_eq!((&*s3[2], &*s3[16]), ("10", "1"));
    let c = servers_state(stats, "c");
    // srv_check_port
    assert_eq!(c[0][21], live.port().to_string());

    // Traffic never goes to the unresolved server nor to the DOWN one.
    for _ in 0..8 {
        let mut c = connect(fe);
        assert_eq!(round_trip(&mut c, b"ping", ms(5_000)).expect("echo"), b"ping");
    }
    let st = show_stat(stats, "");
    assert_eq!(st.get("b", "ghost", "lbtot"), "0");
    assert_eq!(st.get("b", "s4", "lbtot"), "0");
}

#[test]
fn downinter_and_fastinter_pace_the_checks() {
    let stats = free_port();
    let slow_down = HttpBackend::start();
    slow_down.set_health(500);
    let coming_up = HttpBackend::start();
    coming_up.set_health(500);
    // One proxy each: a check's first run is spread over the others' intervals.
    let quiet = format!(
        "{}backend quiet\n    option httpchk GET /health\n    timeout check 10s\n\
         \x20   server s 127.0.0.1:{} check inter {} downinter {} rise 1 fall 1\n",
        head(stats),
        slow_down.port(),
        cfg_time(Duration::from_millis(50)),
        cfg_time(Duration::from_secs(3600)),
    );
    let stats2 = free_port();
    let back = format!(
        "{}backend back\n    option httpchk GET /health\n    timeout check 10s\n\
         \x20   server s 127.0.0.1:{} check inter {} fastinter {} downinter {} rise 3 fall 1\n",
        head(stats2),
        coming_up.port(),
        cfg_time(Duration::from_secs(3600)),
        cfg_time(Duration::from_millis(50)),
        cfg_time(Duration::from_millis(50)),
    );
    let _quiet = Proxy::start(&quiet);
    let _back = Proxy::start(&back);
    expect_stat(stats, "quiet", "s", &[("status", "DOWN")], "first check fails");
    expect_stat(stats2, "back", "s", &[("status", "DOWN")], "first check fails");
    // Fully DOWN: `downinter` (1h) replaces `inter` (50ms).
    std::thread::sleep(ms(600));
    assert_eq!(slow_down.requests_to("/health"), 1, "no check while fully DOWN before downinter");
    // Coming back up takes 3 passed checks: `downinter` then `fastinter`
    // (50ms each), not `inter` (1h).
    coming_up.set_health(200);
    expect_stat(stats2, "back", "s", &[("status", "UP"), ("check_status", "L7OK")], "rise 3 at fastinter");
    assert!(coming_up.requests_to("/health") >= 4, "one failure and three passes");
}

#[test]
fn shutdown_sessions_when_marked_down_and_backup_sessions_when_marked_up() {
    let stats = free_port();
    let (fe_kill, fe_keep, fe_bk) = (free_port(), free_port(), free_port());
    let echo = Backend::echo();
    let backup = Backend::echo();
    // What the checks talk to: dropping it makes them fail.
    let checked = Backend::echo();
    let check_port = checked.port();
    let active_check = closed_port();
    let inter = cfg_time(Duration::from_millis(50));
    let cfg = format!(
        "{}frontend fk\n    bind 127.0.0.1:{fe_kill}\n    default_backend kill\n\
         frontend fp\n    bind 127.0.0.1:{fe_keep}\n    default_backend keep\n\
         frontend fb\n    bind 127.0.0.1:{fe_bk}\n    default_backend bk\n\
         backend kill\n    server s 127.0.0.1:{e} check port {check_port} inter {inter} rise 1 fall 1 on-marked-down shutdown-sessions\n\
         backend keep\n    server s 127.0.0.1:{e} check port {check_port} inter {inter} rise 1 fall 1\n\
         backend bk\n    server a 127.0.0.1:{e} check port {active_check} inter {inter} rise 1 fall 1 on-marked-up shutdown-backup-sessions\n\
         \x20   server b 127.0.0.1:{b} backup\n",
        head(stats),
        e = echo.port(),
        b = backup.port(),
    );
    let _proxy = Proxy::start(&cfg);
    expect_stat(stats, "kill", "s", &[("status", "UP")], "checks pass");
    expect_stat(stats, "keep", "s", &[("status", "UP")], "checks pass");
    expect_stat(stats, "bk", "a", &[("status", "DOWN")], "active server's check port is closed");
    let mut killed = connect(fe_kill);
    let mut kept = connect(fe_keep);
    let mut on_backup = connect(fe_bk);
    for c in [&mut killed, &mut kept, &mut on_backup] {
        assert_eq!(round_trip(c, b"hello", ms(5_000)).expect("echo"), b"hello");
    }
    assert_eq!(show_stat(stats, "").get("bk", "b", "scur"), "1", "the stream is on the backup server");

    drop(checked); // the check port closes: both servers go DOWN
    expect_stat(stats, "kill", "s", &[("status", "DOWN")], "check port closed");
    expect_stat(stats, "keep", "s", &[("status", "DOWN")], "check port closed");
    assert!(
        expect_closed_within(&mut killed, ms(SETTLE_MS)).after().is_some(),
        "shutdown-sessions closed it"
    );
    assert_eq!(
        round_trip(&mut kept, b"still", ms(5_000)).expect("echo"),
        b"still",
        "without the option it lives"
    );

    // The active server comes UP: streams on backup servers are closed.
    let _active = Backend::spawn_closing_on(active_check, |_| {});
    expect_stat(stats, "bk", "a", &[("status", "UP")], "active check port opened");
    assert!(expect_closed_within(&mut on_backup, ms(SETTLE_MS)).after().is_some(), "backup session closed");
}

#[test]
fn check_warns_and_refuses_with_the_line() {
    // HAProxy opens the namespace (and fails without one); strata warns.
    if !under_haproxy() {
        let (code, _, err) = Proxy::check(&format!(
            "{}backend b\n    server s1 127.0.0.1:80 namespace red\n",
            head(free_port())
        ));
        assert_eq!(code, 0, "{err}");
        assert!(
            err.contains("[WARNING]") && err.contains(":9] : 'server b/s1' : 'namespace red' is ignored"),
            "{err}"
        );
    }
    let (code, _, err) =
        Proxy::check(&format!("{}backend b\n    server s1 127.0.0.1:80 bogus 1\n", head(free_port())));
    assert_ne!(code, 0);
    assert!(err.contains("'server b/s1' : unknown keyword 'bogus'"), "{err}");
    let (code, _, err) =
        Proxy::check(&format!("{}backend b\n    server s2 nope.invalid:80\n", head(free_port())));
    assert_ne!(code, 0);
    assert!(err.contains("'server b/s2' : could not resolve address 'nope.invalid'."), "{err}");
}
