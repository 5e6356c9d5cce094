//! Health checks against servers speaking each protocol (Rust stand-ins,
//! `support::proto_servers`): `tcp-check` connect/send/send-binary/expect
//! (string, binary, rstring, rbinary, `!`), `http-check send` and `expect`
//! (status, rstatus, string, rstring, `!`, the implicit 200-399, the
//! defaults' rules replaced by a backend's own), `mysql-check`,
//! `pgsql-check`, `redis-check`, `ldap-check`, `smtpchk`,
//! `ssl-hello-chk`, `agent-check`, `disable-on-404`, `timeout check`.
//! Each case's status, `check_status`, `check_code` and `last_chk` are
//! HAProxy 2.6's (`STRATA_BIN=/usr/sbin/haproxy`).
//!
//! The bug story: strata checked every server with a TCP connect or one
//! HTTP status line, so a MySQL that refuses the check user, a Redis
//! still loading or a Patroni replica answering 503 stayed UP.

mod support;

use std::time::Duration;

use support::proto_servers as ps;
use support::*;

/// A backend to check and what `show stat` must show for its server.
struct Case {
    name: &'static str,
    lines: Vec<String>,                // backend lines before the server
    server: Backend,                   // the stand-in
    server_opts: String,               // after `check`
    want: [(&'static str, String); 4], // status, check_status, check_code, last_chk
}

fn want(status: &str, check: &str, code: &str, info: &str) -> [(&'static str, String); 4] {
    [
        ("status", status.into()),
        ("check_status", check.into()),
        ("check_code", code.into()),
        ("last_chk", info.into()),
    ]
}

fn case(name: &'static str, lines: &[&str], server: Backend, w: [(&'static str, String); 4]) -> Case {
    Case {
        name,
        lines: lines.iter().map(|l| l.to_string()).collect(),
        server,
        server_opts: String::new(),
        want: w,
    }
}

/// Runs every case in one proxy, one backend each.
fn run(cases: Vec<Case>, mode: &str) {
    let stats = free_port();
    let mut cfg = format!(
        "global\n    stats socket 127.0.0.1:{stats} level admin\n\
         defaults\n    mode {mode}\n    timeout connect {}\n    timeout client {}\n    timeout server {}\n    timeout check {}\n",
        cfg_time(Duration::from_secs(2)),
        cfg_time(Duration::from_secs(5)),
        cfg_time(Duration::from_secs(5)),
        cfg_time(Duration::from_secs(2)),
    );
    for c in &cases {
        cfg.push_str(&format!("backend {}\n", c.name));
        for l in &c.lines {
            cfg.push_str(&format!("    {l}\n"));
        }
        cfg.push_str(&format!(
            "    server s 127.0.0.1:{} check inter {} rise 1 fall 1 {}\n",
            c.server.port(),
            cfg_time(Duration::from_millis(100)),
            c.server_opts
        ));
    }
    let _proxy = Proxy::start(&cfg);
    for c in &cases {
        let spec: Vec<(&str, &str)> = c.want.iter().map(|(k, v)| (*k, v.as_str())).collect();
        expect_stat(stats, c.name, "s", &spec, c.name);
    }
}

#[test]
fn tcp_check_rules() {
    run(
        vec![
            case("plain", &["option tcp-check"], Backend::echo(), want("UP", "L4OK", "", "")),
            case(
                "sendexp",
                &["option tcp-check", "tcp-check send PING\\r\\n", "tcp-check expect string +PONG"],
                ps::redis(true),
                want("UP", "L7OK", "0", "(tcp-check)"),
            ),
            case(
                "nomatch",
                &["option tcp-check", "tcp-check send PING\\r\\n", "tcp-check expect string +PONG"],
                ps::redis(false),
                want("DOWN", "L7RSP", "", "TCPCHK did not match content '+PONG' at step 2"),
            ),
            case(
                "negated",
                &[
                    "option tcp-check",
                    "tcp-check send PING\\r\\n",
                    "tcp-check expect ! string LOADING comment busy",
                ],
                ps::redis(false),
                want(
                    "DOWN",
                    "L7RSP",
                    "",
                    "TCPCHK matched unwanted content 'LOADING' at step 2 comment: busy",
                ),
            ),
            case(
                "binary",
                &[
                    "option tcp-check",
                    "tcp-check send-binary 50494e470d0a",
                    "tcp-check expect binary 2b504f4e47",
                ],
                ps::redis(true),
                want("UP", "L7OK", "0", "(tcp-check)"),
            ),
            case(
                "regex",
                &[
                    "option tcp-check",
                    "tcp-check send x",
                    "tcp-check expect rstring ^-[A-Z]+",
                    "tcp-check expect rbinary ^2D4C",
                ],
                ps::redis(false),
                want("UP", "L7OK", "0", "(tcp-check)"),
            ),
            case(
                "connectport",
                &["option tcp-check", "tcp-check connect port 1", "tcp-check expect string x"],
                Backend::echo(),
                want("DOWN", "L4CON", "", "Connection refused at step 1 of tcp-check (connect port 1)"),
            ),
            case(
                "silent",
                &["option tcp-check", "timeout check 200ms", "tcp-check expect string hello"],
                Backend::spawn(|_| std::thread::sleep(Duration::from_secs(5))),
                want("DOWN", "L7TOUT", "", " at step 1 of tcp-check (expect string 'hello')"),
            ),
        ],
        "tcp",
    );
}

#[test]
fn http_check_rules() {
    let named = |status: u16| {
        let b = HttpBackend::start();
        b.set_health(status);
        b
    };
    let as_backend = |h: HttpBackend| h;
    run_http(vec![
        (
            "implicit",
            vec!["option httpchk GET /health"],
            as_backend(named(200)),
            want("UP", "L7OK", "200", ""),
        ),
        ("five", vec!["option httpchk GET /health"], named(503), want("DOWN", "L7STS", "503", "Status")),
        (
            "status",
            vec!["option httpchk GET /health", "http-check expect status 200-299,418"],
            named(418),
            want("UP", "L7OK", "418", ""),
        ),
        (
            "rstatus",
            vec!["option httpchk GET /health", "http-check expect ! rstatus ^5"],
            named(503),
            want("DOWN", "L7STS", "503", "Status"),
        ),
        (
            "body",
            vec!["option httpchk GET /size/40", "http-check expect string nothing-like-this"],
            named(200),
            want("DOWN", "L7RSP", "", "HTTP content check did not match"),
        ),
        (
            "rbody",
            vec!["option httpchk GET /", "http-check expect rstring ^hel+o$"],
            named(200),
            want("UP", "L7OK", "200", ""),
        ),
        (
            "send",
            vec!["option httpchk", "http-check send meth GET uri /health ver HTTP/1.1 hdr Host example"],
            named(204),
            want("UP", "L7OK", "204", ""),
        ),
        (
            "disable404",
            vec!["option httpchk GET /status/404", "http-check disable-on-404"],
            named(200),
            want("NOLB", "L7OKC", "404", ""),
        ),
    ]);
}

/// One HTTP check case: backend name, its check lines, the stand-in, and
/// the `show stat` fields expected.
type HttpCase = (&'static str, Vec<&'static str>, HttpBackend, [(&'static str, String); 4]);

/// Like [`run`] for HTTP stand-ins.
fn run_http(cases: Vec<HttpCase>) {
    let stats = free_port();
    let mut cfg = format!(
        "global\n    stats socket 127.0.0.1:{stats} level admin\n\
         defaults\n    mode http\n    timeout connect {}\n    timeout client {}\n    timeout server {}\n    timeout check {}\n",
        cfg_time(Duration::from_secs(2)),
        cfg_time(Duration::from_secs(5)),
        cfg_time(Duration::from_secs(5)),
        cfg_time(Duration::from_secs(2)),
    );
    for (name, lines, b, _) in &cases {
        cfg.push_str(&format!("backend {name}\n"));
        for l in lines {
            cfg.push_str(&format!("    {l}\n"));
        }
        cfg.push_str(&format!(
            "    server s 127.0.0.1:{} check inter {} rise 1 fall 1\n",
            b.port(),
            cfg_time(Duration::from_millis(100))
        ));
    }
    let _proxy = Proxy::start(&cfg);
    for (name, _, _, w) in &cases {
        let spec: Vec<(&str, &str)> = w.iter().map(|(k, v)| (*k, v.as_str())).collect();
        expect_stat(stats, name, "s", &spec, name);
    }
}

#[test]
fn defaults_rules_are_replaced_by_a_backends_own() {
    // `option httpchk GET /health` in defaults, `http-check expect status
    // 200` in the backend: the backend's rule set has no request, so the
    // check waits for a response that never comes (HAProxy's L7TOUT).
    let b = HttpBackend::start();
    let stats = free_port();
    let cfg = format!(
        "global\n    stats socket 127.0.0.1:{stats} level admin\n\
         defaults\n    mode http\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n    option httpchk GET /health\n\
         backend own\n    http-check expect status 200\n    server s 127.0.0.1:{p} check inter {} rise 1 fall 1\n\
         backend inherits\n    server s 127.0.0.1:{p} check inter {} rise 1 fall 1\n",
        cfg_time(Duration::from_millis(300)),
        cfg_time(Duration::from_millis(100)),
        p = b.port()
    );
    let _proxy = Proxy::start(&cfg);
    expect_stat(stats, "inherits", "s", &[("status", "UP"), ("check_status", "L7OK")], "inherited request");
    expect_stat(
        stats,
        "own",
        "s",
        &[("status", "DOWN"), ("check_status", "L7TOUT")],
        "own rules, no request",
    );
}

#[test]
fn protocol_checks() {
    let mut mysql_user = case(
        "mysqlauth",
        &["option mysql-check user haproxy"],
        ps::mysql(ps::MYSQL_OK),
        want("UP", "L7OK", "0", ""),
    );
    mysql_user.server_opts.clear();
    run(
        vec![
            case(
                "redis",
                &["option redis-check"],
                ps::redis(true),
                want("UP", "L7OK", "0", "Redis server is ok"),
            ),
            case(
                "redisdown",
                &["option redis-check"],
                ps::redis(false),
                want("DOWN", "L7STS", "0", "-LOADING Redis is loading the dataset"),
            ),
            case("mysql", &["option mysql-check"], ps::mysql(b""), want("UP", "L7OK", "0", "")),
            mysql_user,
            case(
                "mysqlerr",
                &["option mysql-check user pouet"],
                ps::mysql(ps::MYSQL_ERR_1251),
                want(
                    "DOWN",
                    "L7STS",
                    "1251",
                    "Client does not support authentication protocol requested by server; consider upgrading MySQL client",
                ),
            ),
            case(
                "pgsql",
                &["option pgsql-check user pg"],
                ps::pgsql(true),
                want("UP", "L7OK", "0", "PostgreSQL server is ok"),
            ),
            case(
                "pgsqlerr",
                &["option pgsql-check user pg"],
                ps::pgsql(false),
                want("DOWN", "L7RSP", "", "FATAL"),
            ),
            case("ldap", &["option ldap-check"], ps::ldap(0), want("UP", "L7OK", "0", "")),
            case(
                "ldaperr",
                &["option ldap-check"],
                ps::ldap(0x31),
                want("DOWN", "L7STS", "49", "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9"),
            ),
            case(
                "smtp",
                &["option smtpchk"],
                ps::smtp(b"220 mx ready\r\n", b"250 mx hello\r\n"),
                want("UP", "L7OK", "221", "2.0.0 Bye"),
            ),
            case(
                "ehlo",
                &["option smtpchk EHLO test"],
                ps::smtp(b"220 mx ready\r\n", b"250-mx hello\r\n250-PIPELINING\r\n250 SIZE 1000\r\n"),
                want("UP", "L7OK", "221", "2.0.0 Bye"),
            ),
            case(
                "smtperr",
                &["option smtpchk EHLO test"],
                ps::smtp(b"554 go away\r\n", b""),
                want("DOWN", "L7STS", "554", "go away"),
            ),
            case("ssl", &["option ssl-hello-chk"], ps::ssl_server_hello(), want("UP", "L6OK", "", "")),
            case(
                "sslerr",
                &["option ssl-hello-chk"],
                ps::answer_after(10, b"HTTP/1.0 400 Bad\r\n\r\n"),
                want("DOWN", "L6RSP", "", ""),
            ),
        ],
        "tcp",
    );
}

#[test]
fn agent_checks_change_weight_maxconn_and_state() {
    let agent = ps::agent(b"75%,maxconn:30,maint,down\n");
    let served = Backend::echo();
    let stats = free_port();
    let cfg = format!(
        "global\n    stats socket 127.0.0.1:{stats} level admin\n\
         defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
         backend be1\n    server srv 127.0.0.1:{} weight 100 agent-check agent-port {} agent-send pouet agent-inter {}\n",
        served.port(),
        agent.port(),
        cfg_time(Duration::from_millis(100)),
    );
    let _proxy = Proxy::start(&cfg);
    expect_stat(
        stats,
        "be1",
        "srv",
        &[("status", "MAINT"), ("uweight", "75"), ("slim", "30")],
        "the agent's words",
    );
    let state = cli(stats, "show servers state be1");
    let line: Vec<&str> = state.lines().nth(2).expect("a server line").split(' ').collect();
    // srv_op_state DOWN, srv_admin_state maintenance, uweight 75, iweight 100
    assert_eq!((line[5], line[6], line[7], line[8]), ("0", "1", "75", "100"), "{state}");
    // Polled: while an agent check runs, its text is empty (as in HAProxy).
    expect_stat(
        stats,
        "be1",
        "srv",
        &[("last_agt", "via agent : down"), ("agent_status", "L7STS")],
        "agent text",
    );
}

#[test]
fn log_health_checks_and_state_changes_go_to_the_backend_logs() {
    let logs = LogReceiver::udp();
    let mut server = Some(Backend::echo());
    let port = server.as_ref().map_or(0, Backend::port);
    let cfg = format!(
        "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{}\n    default_backend be\n\
         backend be\n    log {} local0\n    option log-health-checks\n\
         \x20   server s 127.0.0.1:{port} check inter {} rise 1 fall 1\n\
         backend quiet\n    log {} local0\n    server q 127.0.0.1:{port} check port {} inter {} rise 1 fall 1\n",
        free_port(),
        logs.target(),
        cfg_time(Duration::from_millis(100)),
        logs.target(),
        closed_port(),
        cfg_time(Duration::from_millis(100)),
    );
    let _proxy = Proxy::start(&cfg);
    // Without log-health-checks the state change carries the reason.
    let down = wait_for(&logs, "Server quiet/q is DOWN");
    assert!(
        down.contains("Server quiet/q is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: ")
            && down.contains("ms. 0 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue."),
        "{down}"
    );
    wait_for(&logs, "backend quiet has no server available!");
    server = None;
    drop(server);
    let failed = wait_for(&logs, "Health check for server be/s failed");
    assert!(
        failed.contains("Health check for server be/s failed, reason: Layer4 connection problem, info: \"Connection refused\", check duration: ")
            && failed.contains("ms, status: 0/1 DOWN."),
        "{failed}"
    );
    // With log-health-checks the state change says no reason (the line above did).
    let down = wait_for(&logs, "Server be/s is DOWN");
    assert!(down.contains("Server be/s is DOWN. 0 active and 0 backup servers left."), "{down}");
}

/// The first log line containing `what` (others are skipped), within a
/// generous deadline.
fn wait_for(logs: &LogReceiver, what: &str) -> String {
    let deadline = std::time::Instant::now() + ms(10_000);
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match logs.recv_within(left) {
            Some(line) if line.contains(what) => return line,
            Some(_) => {}
            None => break,
        }
    }
    panic!("no log line with {what:?}");
}
