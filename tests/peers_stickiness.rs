//! Stickiness synced by peers (issue 23 items 1 and 5): `stick on` stores
//! the server's id and name (`server_id`, `server_key`) and the peers
//! protocol carries both, so a client sticks to the same server whichever
//! proxy of the mesh it reaches, even when the proxies number their
//! servers differently: as HAProxy, a match looks the server up by name
//! first, then by id. Validated against HAProxy 2.6.12
//! (`STRATA_BIN=/usr/sbin/haproxy cargo test --test peers_stickiness`).

mod support;

use support::cli_client::cli;
use support::client::wait_until;
use support::http_backend::HttpBackend;
use support::http_client::{HttpConn, request};
use support::launcher::Proxy;
use support::ports::free_port;
use support::stick::scenario_head;
use support::time::ms;

struct Node {
    name: &'static str,
    peer: u16,
    stats: u16,
    fe: u16,
}

/// `me`'s configuration; `servers` in the order this node declares them
/// (so their ids differ between the nodes).
fn cfg(me: &Node, all: &[&Node], servers: &[(&str, u16)]) -> String {
    let mut c = scenario_head(me.stats, Some("http"));
    c += "peers mesh\n";
    for n in all {
        c += &format!("    peer {} 127.0.0.1:{}\n", n.name, n.peer);
    }
    c += &format!(
        "frontend fe\n    bind 127.0.0.1:{}\n    default_backend be\n\
         backend be\n    balance roundrobin\n\
         \x20   stick-table type string len 32 size 100 expire 1m peers mesh\n    stick on req.cook(sid)\n",
        me.fe
    );
    for (name, port) in servers {
        c += &format!("    server {name} 127.0.0.1:{port}\n");
    }
    c
}

fn server_for(fe: u16, sid: &str) -> String {
    let cookie = format!("Cookie: sid={sid}");
    let r = HttpConn::connect(fe).request(&request("GET", "/", &[&cookie], b"")).expect("response");
    r.header("x-server").unwrap_or_else(|| panic!("answered by a server: {}", r.raw_text())).to_string()
}

#[test]
fn a_client_sticks_to_its_server_on_every_node_of_the_mesh() {
    let (s1, s2) = (HttpBackend::named("s1"), HttpBackend::named("s2"));
    let node = |name| Node { name, peer: free_port(), stats: free_port(), fe: free_port() };
    let (a, b) = (node("a"), node("b"));
    let all = [&a, &b];
    let _pa = Proxy::start_with_args(&cfg(&a, &all, &[("s1", s1.port()), ("s2", s2.port())]), &["-L", "a"]);
    let _pb = Proxy::start_with_args(&cfg(&b, &all, &[("s2", s2.port()), ("s1", s1.port())]), &["-L", "b"]);
    // on A, round robin: bob to s1 (id 1 there), alice to s2 (id 2 there)
    assert_eq!(server_for(a.fe, "bob"), "s1");
    assert_eq!(server_for(a.fe, "alice"), "s2");
    let synced = || {
        let t = cli(b.stats, "show table be");
        t.contains("key=alice use=0") && t.contains("server_key=s2") && t.contains("server_key=s1")
    };
    assert!(wait_until(ms(5_000), synced), "B learns both entries: {}", cli(b.stats, "show table be"));
    let table = cli(a.stats, "show table be");
    assert!(table.contains("server_id=2 server_key=s2"), "A stores the id and the name: {table}");
    // On B the ids are the other way round (s2 is 1): the name wins.
    for _ in 0..3 {
        assert_eq!(server_for(b.fe, "alice"), "s2", "alice sticks to s2 on B");
        assert_eq!(server_for(b.fe, "bob"), "s1", "bob sticks to s1 on B");
    }
    // and back: a client first seen on B sticks on A
    let carol = server_for(b.fe, "carol");
    let back = || cli(a.stats, "show table be").contains("key=carol");
    assert!(wait_until(ms(5_000), back), "A learns carol: {}", cli(a.stats, "show table be"));
    for _ in 0..3 {
        assert_eq!(server_for(a.fe, "carol"), carol, "carol sticks on A");
    }
}

/// A `table` line in a peers section (HAProxy 2.6): the rules and the
/// runtime API name it `SECTION/NAME`; the peers protocol `/NAME`, so it
/// is shared with node B's `table sessions` and not with B's backend
/// called `sessions`; two backends of A using it stick a client to the
/// server of the same name; it is no proxy (no `show stat` line, no
/// proxy id taken).
#[test]
fn a_peers_section_table_is_shared_by_name_and_used_by_several_backends() {
    let (s1, s2) = (HttpBackend::named("s1"), HttpBackend::named("s2"));
    let node = |name| Node { name, peer: free_port(), stats: free_port(), fe: free_port() };
    let (a, b) = (node("a"), node("b"));
    let peers = format!("peers mesh\n    peer a 127.0.0.1:{}\n    peer b 127.0.0.1:{}\n", a.peer, b.peer);
    let servers = |order: [(&str, u16); 2]| {
        order.iter().map(|(n, p)| format!("    server {n} 127.0.0.1:{p}\n")).collect::<String>()
    };
    let ca = format!(
        "{}{peers}    table sessions type string len 32 size 100 expire 1m\n\
         frontend fe\n    bind 127.0.0.1:{}\n    use_backend be2 if {{ path_beg /2 }}\n    default_backend be1\n\
         backend be1\n    balance roundrobin\n    stick on req.cook(sid) table mesh/sessions\n{}\
         backend be2\n    balance roundrobin\n    stick on req.cook(sid) table mesh/sessions\n{}",
        scenario_head(a.stats, Some("http")),
        a.fe,
        servers([("s1", s1.port()), ("s2", s2.port())]),
        servers([("s2", s2.port()), ("s1", s1.port())]),
    );
    let cb = format!(
        "{}{peers}    table sessions type string len 32 size 100 expire 1m\n\
         frontend fe\n    bind 127.0.0.1:{}\n    default_backend be\n\
         backend be\n    balance roundrobin\n    stick on req.cook(sid) table mesh/sessions\n{}\
         backend sessions\n    stick-table type string len 32 size 100 expire 1m peers mesh\n",
        scenario_head(b.stats, Some("http")),
        b.fe,
        servers([("s2", s2.port()), ("s1", s1.port())]),
    );
    let _pa = Proxy::start_with_args(&ca, &["-L", "a"]);
    let _pb = Proxy::start_with_args(&cb, &["-L", "b"]);
    assert_eq!(server_for(a.fe, "bob"), "s1");
    assert_eq!(server_for(a.fe, "alice"), "s2");
    let get2 = |sid: &str| {
        let cookie = format!("Cookie: sid={sid}");
        let r = HttpConn::connect(a.fe).request(&request("GET", "/2", &[&cookie], b"")).expect("response");
        r.header("x-server").unwrap_or_default().to_string()
    };
    for _ in 0..2 {
        assert_eq!(get2("bob"), "s1", "be2 (where s1 has id 2) finds bob's server by name");
        assert_eq!(get2("alice"), "s2");
    }
    let shown = cli(a.stats, "show table mesh/sessions");
    assert!(shown.starts_with("# table: mesh/sessions, type: string"), "{shown}");
    assert!(shown.contains("key=bob") && shown.contains("server_key=s1"), "{shown}");
    let stat = cli(a.stats, "show stat");
    assert!(!stat.contains("mesh/sessions") && !stat.contains("sessions,"), "not a proxy: {stat}");
    let synced = || {
        let t = cli(b.stats, "show table mesh/sessions");
        t.contains("key=alice") && t.contains("key=bob")
    };
    assert!(wait_until(ms(5_000), synced), "B learns them: {}", cli(b.stats, "show table mesh/sessions"));
    assert!(
        cli(b.stats, "show table sessions").contains("used:0"),
        "B's backend 'sessions' is another table"
    );
    for _ in 0..2 {
        assert_eq!(server_for(b.fe, "bob"), "s1", "bob sticks to s1 on B");
    }
    let carol = server_for(b.fe, "carol");
    let back = || cli(a.stats, "show table mesh/sessions").contains("key=carol");
    assert!(wait_until(ms(5_000), back), "A learns carol: {}", cli(a.stats, "show table mesh/sessions"));
    assert_eq!(server_for(a.fe, "carol"), carol);
    assert_eq!(
        cli(a.stats, "show servers state be1").lines().nth(2).map(|l| &l[..5]),
        Some("3 be1"),
        "be1 is proxy 3"
    );
}
