//! How a backend picks and names its server beyond load balancing, by
//! which server answers (`X-Server`) and what it received: `use-server
//! NAME if|unless COND` (before load balancing, after the persistence
//! cookie; a server that is down is skipped for the next rule),
//! `http-send-name-header NAME` (the chosen server's name, replacing the
//! client's header of that name), `option prefer-last-server` (a session
//! keeps its server where it holds a private connection: `http-reuse
//! never`), with `max-keep-alive-queue`; and their `-c` messages. Each with
//! its control; every assertion holds for HAProxy 2.6.12
//! (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use support::time::ms;
use support::*;

/// A backend `be` over servers `s1`, `s2` (named so) with `lines`, and the
/// proxy in front.
struct Two {
    _servers: [HttpBackend; 2],
    _proxy: Proxy,
    port: u16,
}

fn two_servers(be_lines: &[&str]) -> Two {
    let servers = [HttpBackend::named("s1"), HttpBackend::named("s2")];
    let port = free_port();
    let mut cfg = HttpCfg::new(port, None);
    for l in be_lines {
        cfg = cfg.backend(l);
    }
    cfg = cfg
        .backend(&format!("server s1 127.0.0.1:{}", servers[0].port()))
        .backend(&format!("server s2 127.0.0.1:{}", servers[1].port()));
    let proxy = Proxy::start(&cfg.render());
    Two { _servers: servers, _proxy: proxy, port }
}

/// The servers that answered `paths`, each request on a new connection.
fn answered_by(t: &Two, paths: &[&str]) -> Vec<String> {
    paths
        .iter()
        .map(|p| {
            let r = HttpConn::connect(t.port).request(&get(p)).expect("response");
            r.header("x-server").unwrap_or("-").to_string()
        })
        .collect()
}

#[test]
fn use_server_sends_matching_requests_to_their_server() {
    let t = two_servers(&[]);
    assert_eq!(answered_by(&t, &["/", "/", "/", "/"]), ["s1", "s2", "s1", "s2"], "control: round robin");
    let t = two_servers(&["use-server s2 if { path_beg /two }", "use-server s1 unless { path_beg /two }"]);
    assert_eq!(answered_by(&t, &["/two", "/two", "/two", "/", "/"]), ["s2", "s2", "s2", "s1", "s1"]);
}

#[test]
fn use_server_skips_a_server_that_is_down() {
    // s2 does not listen: its check marks it down, so the rule naming it
    // is passed over for the next one; a request matching none is balanced.
    let s1 = HttpBackend::named("s1");
    let port = free_port();
    let cfg = HttpCfg::new(port, None)
        .backend("use-server s2 if { path / }")
        .backend("use-server s1 if { path / }")
        .backend(&format!("server s1 127.0.0.1:{} check inter 100ms", s1.port()))
        .backend(&format!("server s2 127.0.0.1:{} check inter 100ms", free_port()));
    let _p = Proxy::start(&cfg.render());
    std::thread::sleep(ms(600));
    for _ in 0..3 {
        let r = HttpConn::connect(port).request(&get("/")).expect("response");
        assert_eq!((r.status, r.header("x-server")), (200, Some("s1")));
    }
}

#[test]
fn http_send_name_header_names_the_chosen_server() {
    let servers = [HttpBackend::named("s1"), HttpBackend::named("s2")];
    let port = free_port();
    let cfg = HttpCfg::new(port, None)
        .backend("http-send-name-header X-Srv-Name")
        .backend(&format!("server s1 127.0.0.1:{}", servers[0].port()))
        .backend(&format!("server s2 127.0.0.1:{}", servers[1].port()));
    let _p = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    for _ in 0..2 {
        let r = c
            .request(&request("GET", "/", &["X-Srv-Name: forged", "X-Srv-Name: again"], b""))
            .expect("response");
        assert_eq!(r.status, 200);
    }
    for (i, s) in servers.iter().enumerate() {
        let got = s.wait_requests(1, ms(2000)).expect("a request each");
        let values: Vec<&str> = got[0]
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("x-srv-name"))
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(values, [format!("s{}", i + 1)], "the client's headers replaced");
    }
}

#[test]
fn http_send_name_header_is_renamed_on_a_redispatch() {
    // s1 refuses connections: the retry goes to s2 (option redispatch),
    // whose request must name s2.
    let s2 = HttpBackend::named("s2");
    let port = free_port();
    let cfg = HttpCfg::new(port, None)
        .backend("http-send-name-header X-Srv-Name")
        .backend("option redispatch")
        .backend("retries 1")
        .backend("balance first")
        .backend(&format!("server s1 127.0.0.1:{} id 1", free_port()))
        .backend(&format!("server s2 127.0.0.1:{} id 2", s2.port()));
    let _p = Proxy::start(&cfg.render());
    let r = HttpConn::connect(port).request(&get("/")).expect("response");
    assert_eq!((r.status, r.header("x-server")), (200, Some("s2")));
    let got = s2.wait_requests(1, ms(2000)).expect("the request");
    assert_eq!(got[0].header("x-srv-name"), Some("s2"));
}

/// The servers answering `n` requests on one client connection.
fn on_one_connection(t: &Two, n: usize) -> Vec<String> {
    let mut c = HttpConn::connect(t.port);
    (0..n)
        .map(|_| c.request(&get("/")).expect("response").header("x-server").unwrap_or("-").to_string())
        .collect()
}

#[test]
fn prefer_last_server_keeps_a_session_on_its_server() {
    let t = two_servers(&["http-reuse never"]);
    assert_eq!(on_one_connection(&t, 4), ["s1", "s2", "s1", "s2"], "control: balanced");
    let t = two_servers(&["http-reuse never", "option prefer-last-server"]);
    assert_eq!(on_one_connection(&t, 4), ["s1", "s1", "s1", "s1"]);
    // HAProxy 2.6 prefers only connections the session holds: with
    // `http-reuse safe` an HTTP/1 server connection goes to the server's
    // pool after each response, so there is nothing to prefer.
    let t = two_servers(&["option prefer-last-server"]);
    assert_eq!(on_one_connection(&t, 4), ["s1", "s2", "s1", "s2"]);
    // hash-based algorithms are not overridden
    let t = two_servers(&["http-reuse never", "option prefer-last-server", "balance uri"]);
    let same = on_one_connection(&t, 3);
    assert!(same.iter().all(|s| *s == same[0]), "{same:?}");
}

#[test]
fn max_keep_alive_queue_zero_needs_room_on_the_server() {
    // s1 takes one stream at a time; a second client holds it while the
    // first one's next request comes: with max-keep-alive-queue 0 that
    // request is balanced to s2 instead of waiting for s1.
    let servers = [HttpBackend::named("s1"), HttpBackend::named("s2")];
    let port = free_port();
    let mut cfg = HttpCfg::new(port, None)
        .backend("http-reuse never")
        .backend("option prefer-last-server")
        .backend("balance first")
        .backend(&format!("server s1 127.0.0.1:{} id 1 maxconn 1", servers[0].port()))
        .backend(&format!("server s2 127.0.0.1:{} id 2", servers[1].port()));
    let run = |cfg: &HttpCfg| -> String {
        let _p = Proxy::start(&cfg.render());
        let mut a = HttpConn::connect(port);
        assert_eq!(a.request(&get("/")).expect("first").header("x-server"), Some("s1"));
        let mut b = HttpConn::connect(port);
        b.send(&get("/hold")).expect("send");
        assert!(servers[0].wait_holding(1, ms(2000)), "b holds s1");
        a.send(&get("/")).expect("send");
        let who =
            a.read_response_within(false, ms(400)).ok().and_then(|r| r.header("x-server").map(String::from));
        servers[0].open_gate();
        who.unwrap_or_else(|| "queued".into())
    };
    assert_eq!(run(&cfg), "queued", "control: without the limit, waits in s1's queue");
    servers[0].close_gate();
    cfg = cfg.backend("max-keep-alive-queue 0");
    assert_eq!(run(&cfg), "s2");
}

/// `-c` on a config with `be_lines` in a backend `b` (servers s1, s2):
/// exit code and the text after ` : config : ` of each line.
fn check(be_lines: &[&str]) -> (i32, Vec<String>) {
    let port = free_port();
    let mut text = format!(
        "defaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n\
         frontend f\n    bind 127.0.0.1:{port}\n    default_backend b\nbackend b\n"
    );
    for l in be_lines {
        text.push_str(&format!("    {l}\n"));
    }
    text.push_str("    server s1 127.0.0.1:1\n    server s2 127.0.0.1:2\n");
    let (rc, _, err) = Proxy::check(&text);
    let lines = err.lines().filter_map(|l| l.split(" : config : ").nth(1)).map(String::from).collect();
    (rc, lines)
}

#[test]
fn check_messages() {
    let (rc, got) = check(&["use-server s9 if TRUE"]);
    assert_ne!(rc, 0);
    assert!(
        got.iter()
            .any(|l| l == "backend 'b' : unable to find server 's9' referenced in a 'use-server' rule."),
        "{got:#?}"
    );
    let (rc, got) = check(&["use-server s1"]);
    assert_ne!(rc, 0);
    assert!(
        got.iter().any(|l| l.ends_with(
            "proxy.cfg:10] : 'use-server' requires either 'if' or 'unless' followed by a condition."
        )),
        "{got:#?}"
    );
    let (rc, got) = check(&["http-send-name-header"]);
    assert_ne!(rc, 0);
    assert!(
        got.iter().any(|l| l.ends_with("proxy.cfg:10] : 'http-send-name-header' requires a header string.")),
        "{got:#?}"
    );
    let (rc, got) = check(&["max-keep-alive-queue x"]);
    assert_ne!(rc, 0);
    assert!(
        got.iter()
            .any(|l| l.contains("'max-keep-alive-queue' : unexpected character 'x' in integer value 'x'")),
        "{got:#?}"
    );
    let (rc, got) = check(&[
        "use-server s1 if TRUE",
        "http-send-name-header X-S",
        "option prefer-last-server",
        "max-keep-alive-queue 5",
    ]);
    assert_eq!((rc, got), (0, vec![]));
}
