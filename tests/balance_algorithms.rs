//! Load-balancing algorithms with real servers, each request's server
//! read from its `X-Server` header: `uri` (the server HAProxy's
//! `balance-uri.vtc` expects for each URI), `static-rr` in HAProxy's map
//! order, `source` per client address, `url_param`, `hdr(host)
//! use_domain_only`, `first` by id, `random` spreading, consistent
//! hashing moving only the keys of a server that left, the first backup
//! server only unless `option allbackups`, `maxqueue` refusing a request
//! pinned to a full server, and `slowstart` shown as `throttle`.
//!
//! The bug story: strata refused `balance random` and `static-rr` (2 real
//! configs), and its `source` hash differed from HAProxy's, so two load
//! balancers side by side (one HAProxy, one strata) split the same
//! clients differently. Validated against HAProxy 2.6
//! (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::net::Ipv4Addr;
use std::time::Duration;

use support::*;

/// Four named servers `s1`..`s4` and a frontend on a fresh port routing
/// to backend `be` with `lines` (the balance line first) and `server`
/// lines from `servers(ports)`.
struct Farm {
    servers: Vec<HttpBackend>,
    fe: u16,
    stats: u16,
    _proxy: Proxy,
}

impl Farm {
    fn start(lines: &[&str], server_opts: &[&str]) -> Farm {
        let servers: Vec<HttpBackend> =
            (1..=server_opts.len()).map(|i| HttpBackend::named(&format!("s{i}"))).collect();
        let (fe, stats) = (free_port(), free_port());
        let mut cfg = HttpCfg::new(fe, None).global(&format!("stats socket 127.0.0.1:{stats} level admin"));
        for l in lines {
            cfg = cfg.backend(l);
        }
        for (i, (s, opts)) in servers.iter().zip(server_opts).enumerate() {
            cfg = cfg.backend(&format!("server s{} 127.0.0.1:{} {opts}", i + 1, s.port()));
        }
        let proxy = Proxy::start(&cfg.render());
        Farm { servers, fe, stats, _proxy: proxy }
    }

    /// The server that answered `raw` (sent on a new connection from `src`).
    fn served_from(&self, src: Ipv4Addr, raw: &[u8]) -> String {
        let mut c = HttpConn::connect_from(self.fe, src);
        let r = c.request(raw).expect("response");
        r.header("x-server").unwrap_or("-").to_string()
    }

    fn served(&self, raw: &[u8]) -> String {
        self.served_from(Ipv4Addr::LOCALHOST, raw)
    }

    fn path(&self, p: &str) -> String {
        self.served(&get(p))
    }
}

#[test]
fn uri_hashing_sends_each_uri_where_haproxy_does() {
    let f = Farm::start(&["balance uri"], &["", "", "", ""]);
    // HAProxy's balance-uri.vtc expectations.
    assert_eq!(f.path("/url1"), "s2");
    assert_eq!(f.path("/url1?ignore=this-arg"), "s2");
    assert_eq!(f.path("/url2"), "s3");
    assert_eq!(f.path("/url3"), "s4");
    assert_eq!(f.path("/url4"), "s1");
    let f = Farm::start(&["balance uri whole"], &["", "", "", ""]);
    assert_eq!(f.path("/url1"), "s2");
    assert_ne!(f.path("/url1?x"), f.path("/url1"), "the query string counts");
    assert_eq!(f.path("/url1?x"), f.path("/url1?x"));
}

#[test]
fn static_rr_follows_haproxys_map_order() {
    let f = Farm::start(&["balance static-rr"], &["weight 3", "weight 1"]);
    let order: Vec<String> = (0..8).map(|_| f.path("/")).collect();
    assert_eq!(order, ["s1", "s1", "s1", "s2", "s1", "s1", "s1", "s2"]);
    let f = Farm::start(&["balance static-rr"], &["weight 2", "weight 3"]);
    let order: Vec<String> = (0..5).map(|_| f.path("/")).collect();
    assert_eq!(order, ["s1", "s2", "s1", "s2", "s2"]);
}

#[test]
fn source_url_param_and_host_domain_hashing() {
    let f = Farm::start(&["balance source"], &["", "", ""]);
    // 127.0.0.1 is 0x7f000001: 2130706433 % 3 = 2; 127.0.0.2: 0.
    assert_eq!(f.served_from(Ipv4Addr::new(127, 0, 0, 1), &get("/")), "s3");
    assert_eq!(f.served_from(Ipv4Addr::new(127, 0, 0, 2), &get("/")), "s1");
    assert_eq!(f.served_from(Ipv4Addr::new(127, 0, 0, 3), &get("/")), "s2");

    let f = Farm::start(&["balance url_param user"], &["", "", ""]);
    let by_user: Vec<String> =
        ["alice", "bob", "carol"].iter().map(|u| f.path(&format!("/?a=1&user={u}"))).collect();
    // sdbm("alice") % 3 = 2, sdbm("bob") % 3 = 2, sdbm("carol") % 3 = 1.
    assert_eq!(by_user, ["s3", "s3", "s2"]);
    assert_eq!(f.path("/?user=alice&z=9"), "s3", "the same user, anywhere in the query");
    let rr: Vec<String> = (0..3).map(|_| f.path("/?nouser=1")).collect();
    assert_eq!(rr, ["s1", "s2", "s3"], "no parameter: round robin on the map");

    let f = Farm::start(&["balance hdr(host) use_domain_only"], &["", "", ""]);
    let host = |h: &str| f.served(&request("GET", "/", &[], b"").replace_host(h));
    assert_eq!(host("www.example.com"), host("api.example.com"), "only `example` is hashed");
    assert_eq!(host("www.example.com"), host("example.org"));
}

/// `request(...)` with its `Host` header replaced.
trait ReplaceHost {
    fn replace_host(self, host: &str) -> Vec<u8>;
}

impl ReplaceHost for Vec<u8> {
    fn replace_host(self, host: &str) -> Vec<u8> {
        String::from_utf8_lossy(&self).replace("Host: test", &format!("Host: {host}")).into_bytes()
    }
}

#[test]
fn first_goes_by_id_and_random_uses_every_server() {
    let f = Farm::start(&["balance first"], &["id 3", "id 1", "id 2"]);
    assert_eq!(f.path("/"), "s2", "the lowest id");
    let f = Farm::start(&["balance random"], &["", "", ""]);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..60 {
        seen.insert(f.path("/"));
    }
    assert_eq!(seen.len(), 3, "{seen:?}");
}

#[test]
fn consistent_hashing_moves_only_the_keys_of_a_server_that_left() {
    let f = Farm::start(&["balance uri", "hash-type consistent"], &["", "", "", ""]);
    let uris: Vec<String> = (0..40).map(|i| format!("/k{i}")).collect();
    let before: Vec<String> = uris.iter().map(|u| f.path(u)).collect();
    assert!(before.iter().any(|s| s == "s2"), "some keys on s2: {before:?}");
    cli(f.stats, "disable server be/s2");
    for (u, b) in uris.iter().zip(&before) {
        let now = f.path(u);
        assert_ne!(now, "s2");
        if b != "s2" {
            assert_eq!(&now, b, "{u} moved although its server stayed");
        }
    }
}

#[test]
fn only_the_first_backup_server_unless_allbackups() {
    let f = Farm::start(&[], &["disabled", "backup", "backup"]);
    let used: Vec<String> = (0..4).map(|_| f.path("/")).collect();
    assert_eq!(used, ["s2", "s2", "s2", "s2"]);
    let f = Farm::start(&["option allbackups"], &["disabled", "backup", "backup"]);
    let used: Vec<String> = (0..4).map(|_| f.path("/")).collect();
    assert_eq!(used, ["s2", "s3", "s2", "s3"]);
}

#[test]
fn maxqueue_refuses_a_request_pinned_to_a_full_server() {
    let f = Farm::start(&["balance url_param u", "timeout queue 10s"], &["maxconn 1 maxqueue 1", ""]);
    // A parameter value the map sends to s1.
    let key =
        ["a", "b", "c", "d"].into_iter().find(|k| f.path(&format!("/?u={k}")) == "s1").expect("a key for s1");
    let hold = format!("/hold?u={key}");
    let mut first = HttpConn::connect(f.fe);
    first.send(&get(&hold)).expect("send");
    assert!(f.servers[0].wait_holding(1, ms(5_000)), "s1 holds one request");
    let mut second = HttpConn::connect(f.fe);
    second.send(&get(&format!("/?u={key}"))).expect("send");
    expect_stat(f.stats, "be", "s1", &[("qcur", "1")], "the second waits in s1's queue");
    // The third finds s1's queue at `maxqueue`: 503 at once, not sent to s2.
    let mut c = HttpConn::connect(f.fe);
    let r = c.request(&get(&format!("/?u={key}"))).expect("response");
    assert_eq!((r.status, r.header("x-server")), (503, None));
    f.servers[0].open_gate();
    assert_eq!(first.read_response(false).expect("first").status, 200);
    assert_eq!(second.read_response(false).expect("second").header("x-server"), Some("s1"));
}

#[test]
fn slowstart_throttles_a_server_coming_back_up() {
    // A long `timeout check`: a loaded machine must not make a check fail.
    let timeout_check = format!("timeout check {}", cfg_time(Duration::from_secs(10)));
    let f = Farm::start(
        &["option httpchk GET /health", &timeout_check],
        &[&format!("check inter {} rise 1 fall 1 slowstart 60s", cfg_time(Duration::from_millis(50))), ""],
    );
    expect_stat(f.stats, "be", "s1", &[("status", "UP"), ("throttle", "")], "no ramp at start-up");
    f.servers[0].set_health(500);
    expect_stat(f.stats, "be", "s1", &[("status", "DOWN")], "check fails");
    f.servers[0].set_health(200);
    let st = expect_stat(f.stats, "be", "s1", &[("status", "UP")], "back up");
    let throttle: u32 = st.get("be", "s1", "throttle").parse().expect("throttle while ramping");
    assert!((1..100).contains(&throttle), "{throttle}");
}

#[test]
fn rdp_cookie_waits_for_the_cookie_within_the_inspect_delay() {
    let servers: Vec<Backend> = (0..3).map(|_| Backend::echo()).collect();
    let fe = free_port();
    let mut cfg = tcp_defaults(100, Duration::from_secs(1), Duration::from_secs(5), Duration::from_secs(5));
    // HAProxy waits for the cookie only through a content rule that needs
    // it; strata has no payload fetches yet and waits, within the inspect
    // delay, because the balancing needs it.
    let rule = if under_haproxy() { "    tcp-request content accept if RDP_COOKIE\n" } else { "" };
    cfg.push_str(&format!(
        "frontend fe\n    bind 127.0.0.1:{fe}\n    tcp-request inspect-delay {}\n{rule}    default_backend be\n\
         backend be\n    balance rdp-cookie\n",
        cfg_time(Duration::from_secs(5))
    ));
    for (i, s) in servers.iter().enumerate() {
        cfg.push_str(&format!("    server s{i} 127.0.0.1:{}\n", s.port()));
    }
    let _proxy = Proxy::start(&cfg);
    // An X.224 connection request: 11 bytes of header, then the cookie line.
    let mut packet = vec![3, 0, 0, 0x2c, 0x27, 0xe0, 0, 0, 0, 0, 0];
    packet.extend_from_slice(b"Cookie: mstshash=alice\r\n\x01\x00\x08\x00\x03\x00\x00\x00");
    for _ in 0..4 {
        let mut c = connect(fe);
        // The cookie arrives in two parts: the choice waits for the whole line.
        std::io::Write::write_all(&mut c, &packet[..20]).expect("send");
        std::thread::sleep(ms(50));
        assert_eq!(round_trip(&mut c, &packet[20..], ms(5_000)).expect("echo").len(), packet.len() - 20);
    }
    let counts: Vec<usize> = servers.iter().map(Backend::accepted).collect();
    assert!(counts.contains(&4), "every connection of alice on one server: {counts:?}");
}

/// `hash-balance-factor` (consistent hashing with bounded loads): a server
/// may take a request only while it carries less than its share of the
/// requests in flight times the factor (HAProxy's
/// `chash_server_is_eligible`), so four held requests for one URI cannot
/// all land on the URI's server: with factor 101 it keeps 2 or 3 of them
/// (which one depends on its place on the ring), the other server the
/// rest; without the factor all four go to the URI's server.
#[test]
fn hash_balance_factor_bounds_a_servers_share_of_one_hot_key() {
    for factor in [None, Some("hash-balance-factor 101")] {
        let mut lines = vec!["balance uri", "hash-type consistent"];
        lines.extend(factor);
        let f = Farm::start(&lines, &["", ""]);
        let on = |i: usize| f.servers[i].holding();
        let held: Vec<HttpConn> = (0..4)
            .map(|i| {
                let mut c = HttpConn::connect(f.fe);
                c.send(&get("/hold")).expect("send");
                // one at a time, so each choice sees the ones before it
                assert!(wait_until(ms(5_000), || on(0) + on(1) == i + 1), "request {i} held");
                c
            })
            .collect();
        let (most, least) = (on(0).max(on(1)), on(0).min(on(1)));
        match factor {
            None => assert_eq!((most, least), (4, 0), "one URI, one server"),
            Some(_) => assert!((2..=3).contains(&most) && least == 4 - most, "split {most}/{least}"),
        }
        f.servers.iter().for_each(HttpBackend::open_gate);
        for mut c in held {
            assert_eq!(c.read_response(false).expect("answer").status, 200);
        }
    }
}
