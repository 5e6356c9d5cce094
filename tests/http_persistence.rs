//! Persistence of a client to its server, validated against HAProxy 2.6:
//! `cookie NAME insert` (indirect, httponly, secure, domain, postonly,
//! nocache, maxidle with HAProxy's dated values), `rewrite`, `prefix`;
//! the sticky server down → load balancing again; `force-persist` to a
//! server in maintenance, `ignore-persist`; `stick on` a cookie, `stick
//! match` + `stick store-response`, `stick store-request` on a header,
//! with the server's id in `show table`.

mod support;

use support::*;

/// Two named servers `s1` (`cookie c1`) and `s2` (`cookie c2`) behind `be`.
struct Setup {
    s1: HttpBackend,
    s2: HttpBackend,
    port: u16,
    cli: u16,
    _proxy: Proxy,
}

fn setup(be_lines: &[&str]) -> Setup {
    setup_with(be_lines, "", "")
}

fn setup_with(be_lines: &[&str], s1_opts: &str, s2_opts: &str) -> Setup {
    let (s1, s2) = (HttpBackend::named("s1"), HttpBackend::named("s2"));
    let (port, cli) = (free_port(), free_port());
    let mut cfg = HttpCfg::new(port, None).global(&format!("stats socket 127.0.0.1:{cli} level admin"));
    for l in be_lines {
        cfg = cfg.backend(l);
    }
    cfg = cfg
        .backend(&format!("server s1 127.0.0.1:{} cookie c1 {s1_opts}", s1.port()))
        .backend(&format!("server s2 127.0.0.1:{} cookie c2 {s2_opts}", s2.port()));
    let _proxy = Proxy::start(&cfg.render());
    Setup { s1, s2, port, cli, _proxy }
}

impl Setup {
    fn ask(&self, method: &str, path: &str, headers: &[&str]) -> Response {
        HttpConn::connect(self.port)
            .request(&request(method, path, headers, b""))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn get(&self, headers: &[&str]) -> Response {
        self.ask("GET", "/", headers)
    }
}

fn server(r: &Response) -> &str {
    r.header("x-server").unwrap_or_else(|| panic!("answered by a server: {}", r.raw_text()))
}

fn set_cookies(r: &Response) -> Vec<&str> {
    r.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie")).map(|(_, v)| v.as_str()).collect()
}

#[test]
fn insert_indirect_sticks_and_hides_the_cookie() {
    let s = setup(&["balance roundrobin", "cookie SRV insert indirect httponly secure domain .example.com"]);
    let first = s.get(&[]);
    let who = server(&first).to_owned();
    let value = if who == "s1" { "c1" } else { "c2" };
    assert_eq!(
        set_cookies(&first),
        [format!("SRV={value}; path=/; domain=.example.com; HttpOnly; Secure").as_str()]
    );
    for _ in 0..4 {
        let r = s.get(&[&format!("Cookie: a=1; SRV={value}; b=2")]);
        assert_eq!(server(&r), who, "every request with the cookie goes to the same server");
        assert!(set_cookies(&r).is_empty(), "indirect: no cookie for a client that has a valid one");
    }
    let seen = if who == "s1" { s.s1.requests() } else { s.s2.requests() };
    let cookie = seen.last().and_then(|r| r.header("cookie").map(str::to_owned));
    assert_eq!(cookie.as_deref(), Some("a=1; b=2"), "indirect: the server never sees SRV");
    // A cookie naming another server moves the client there.
    let other = if who == "s1" { "c2" } else { "c1" };
    let moved = s.get(&[&format!("Cookie: SRV={other}")]);
    assert_ne!(server(&moved), who);
    // An unknown value: load balanced, and a new cookie.
    let unknown = s.get(&["Cookie: SRV=nope"]);
    assert_eq!(set_cookies(&unknown).len(), 1);
}

#[test]
fn postonly_nocache_and_the_server_cookie() {
    let s = setup(&["cookie SRV insert postonly"]);
    assert!(set_cookies(&s.get(&[])).is_empty(), "postonly: not on a GET");
    let post = s.ask("POST", "/echo", &["Content-Length: 0"]);
    assert_eq!(set_cookies(&post).len(), 1, "{}", post.raw_text());
    let n = setup(&["cookie SRV insert nocache"]);
    let r = n.get(&["X-Reply: Cache-Control: max-age=10"]);
    let cc: Vec<&str> = r
        .headers
        .iter()
        .filter(|(h, _)| h.eq_ignore_ascii_case("cache-control"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(cc, ["max-age=10", "private"], "nocache makes a cacheable answer private");
    let plain = n.get(&[]);
    assert!(plain.header("cache-control").is_none(), "not for an answer nobody would cache");
    // insert without preserve: the server's own SRV cookie is replaced.
    let own = n.get(&["X-Reply: Set-Cookie: SRV=fromserver"]);
    assert_eq!(set_cookies(&own).len(), 1);
    assert!(set_cookies(&own)[0].starts_with("SRV=c"), "{:?}", set_cookies(&own));
}

#[test]
fn maxidle_dates_the_cookie() {
    let s = setup(&["cookie SRV insert indirect maxidle 30s maxlife 1h"]);
    let r = s.get(&[]);
    let v = set_cookies(&r)[0].to_owned();
    let value = v.split(';').next().unwrap().strip_prefix("SRV=").unwrap().to_owned();
    let parts: Vec<&str> = value.split('|').collect();
    assert_eq!(parts.len(), 3, "{value}: server, last seen, first seen");
    assert!(parts[1].len() == 5 && parts[2].len() == 5, "{value}");
    let who = server(&r).to_owned();
    let again = s.get(&[&format!("Cookie: SRV={value}")]);
    assert_eq!(server(&again), who);
    // A dateless cookie is accepted, and refreshed with dates.
    let dateless = s.get(&["Cookie: SRV=c2"]);
    assert_eq!(server(&dateless), "s2");
    assert_eq!(set_cookies(&dateless).len(), 1, "refreshed");
    // A cookie last seen long ago is ignored.
    let old = s.get(&["Cookie: SRV=c2|AAAAB|AAAAB"]);
    assert_eq!(set_cookies(&old).len(), 1, "a new cookie replaces the expired one");
}

#[test]
fn rewrite_and_prefix_modes() {
    let s = setup(&["cookie SRV rewrite"]);
    let r = s.get(&["X-Reply: Set-Cookie: SRV=anything; path=/app"]);
    let want = if server(&r) == "s1" { "SRV=c1; path=/app" } else { "SRV=c2; path=/app" };
    assert_eq!(set_cookies(&r), [want]);
    assert!(set_cookies(&s.get(&[])).is_empty(), "rewrite: nothing when the server sets nothing");
    assert_eq!(server(&s.get(&["Cookie: SRV=c2"])), "s2");
    let p = setup(&["cookie JSESSIONID prefix"]);
    let r = p.get(&["X-Reply: Set-Cookie: JSESSIONID=abc; path=/"]);
    let prefix = if server(&r) == "s1" { "c1" } else { "c2" };
    assert_eq!(set_cookies(&r), [format!("JSESSIONID={prefix}~abc; path=/").as_str()]);
    let back = p.get(&["Cookie: JSESSIONID=c2~abc"]);
    assert_eq!(server(&back), "s2");
    assert_eq!(
        p.s2.requests().last().and_then(|q| q.header("cookie").map(str::to_owned)).as_deref(),
        Some("JSESSIONID=abc")
    );
}

#[test]
fn down_or_maintenance_and_the_persist_rules() {
    // s2 in maintenance: its cookie is ignored, unless force-persist.
    let s = setup_with(
        &[
            "cookie SRV insert indirect",
            "force-persist if { hdr(x-force) 1 }",
            "ignore-persist if { path /lb }",
        ],
        "",
        "disabled",
    );
    let r = s.get(&["Cookie: SRV=c2"]);
    assert_eq!(server(&r), "s1", "a server in maintenance keeps no client");
    assert_eq!(set_cookies(&r), ["SRV=c1; path=/"], "the client gets its new server's cookie");
    assert_eq!(server(&s.get(&["Cookie: SRV=c2", "X-Force: 1"])), "s2", "force-persist");
    let lb = s.ask("GET", "/lb", &["Cookie: SRV=c2"]);
    assert_eq!(server(&lb), "s1", "ignore-persist");
    let both = s.ask("GET", "/lb", &["Cookie: SRV=c2", "X-Force: 1"]);
    assert_eq!(
        server(&both),
        "s2",
        "the first matching persist rule decides (force-persist, declared first)"
    );
    // A server down by its checks: redispatched without `option persist`.
    let dead = closed_port();
    let d = {
        let s1 = HttpBackend::named("s1");
        let port = free_port();
        let cfg = HttpCfg::new(port, None)
            .backend("cookie SRV insert indirect")
            .backend("option redispatch")
            .backend(&format!("server s1 127.0.0.1:{} cookie c1", s1.port()))
            .backend(&format!("server s2 127.0.0.1:{dead} cookie c2 check inter 100ms fall 1"));
        (s1, port, Proxy::start(&cfg.render()))
    };
    assert!(
        wait_until(scaled(std::time::Duration::from_secs(5)), || {
            HttpConn::connect(d.1)
                .request(&request("GET", "/", &["Cookie: SRV=c2"], b""))
                .is_ok_and(|r| server(&r) == "s1")
        }),
        "once s2 is down, its clients go to s1"
    );
}

#[test]
fn stick_tables_remember_the_server() {
    let s = setup(&[
        "balance roundrobin",
        "stick-table type string len 32 size 100 expire 1m",
        "stick on req.cook(sid)",
        "stick match req.hdr(x-user)",
        "stick store-response res.cook(sid)",
    ]);
    let first = s.get(&["Cookie: sid=alice"]);
    let who = server(&first).to_owned();
    for _ in 0..3 {
        assert_eq!(server(&s.get(&["Cookie: sid=alice"])), who, "stick on the cookie");
    }
    let table = cli(s.cli, "show table be");
    assert!(table.contains("key=alice") && table.contains("server_id="), "{table}");
    // store-response: the server's Set-Cookie value is remembered.
    let r = s.get(&["X-Reply: Set-Cookie: sid=bob"]);
    let bob = server(&r).to_owned();
    for _ in 0..3 {
        assert_eq!(server(&s.get(&["X-User: bob"])), bob, "stick match on what the response stored");
    }
}
