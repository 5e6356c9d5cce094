//! Servers changed at run time on the stats port, as HAProxy 2.6's
//! runtime API: `add server` (in maintenance until `enable server`, only
//! with a dynamic algorithm, HAProxy's option checks and texts), `del
//! server` (only in maintenance and without connections; the server is
//! then gone from the farm, `show stat` and `show servers state`), `set
//! server addr` (traffic moves to the new address), `enable|disable
//! health`. Validated against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use support::*;

struct Setup {
    stats: u16,
    fe: u16,
    s1: HttpBackend,
    s2: HttpBackend,
    _proxy: Proxy,
}

/// fe → `test` (roundrobin, s1, `http-reuse` as `reuse`) and `st`
/// (static-rr, s1); an admin stats socket.
fn setup_with(reuse: &str) -> Setup {
    let (stats, fe) = (free_port(), free_port());
    let (s1, s2) = (HttpBackend::named("s1"), HttpBackend::named("s2"));
    let cfg = HttpCfg::new(fe, None)
        .global(&format!("stats socket ipv4@127.0.0.1:{stats} level admin"))
        .frontend("use_backend st if { path_beg /st }")
        .backend(&format!("http-reuse {reuse}"))
        .backend(&format!("server s1 127.0.0.1:{}", s1.port()))
        .section("backend st", &["balance static-rr", &format!("server s1 127.0.0.1:{}", s1.port())]);
    let cfg = cfg
        .render()
        .replace("default_backend be", "default_backend test")
        .replace("backend be\n", "backend test\n");
    let proxy = Proxy::start(&cfg);
    Setup { stats, fe, s1, s2, _proxy: proxy }
}

fn setup() -> Setup {
    setup_with("safe")
}

impl Setup {
    fn cli(&self, cmd: &str) -> String {
        cli(self.stats, cmd)
    }

    /// Who served each of `n` requests, each on its own connection.
    fn served(&self, n: usize) -> Vec<String> {
        (0..n)
            .map(|_| {
                let r = HttpConn::connect(self.fe).request(&get("/")).expect("response");
                r.header("x-server").unwrap_or("-").to_owned()
            })
            .collect()
    }
}

#[test]
fn an_added_server_joins_the_farm_once_enabled_and_leaves_it_when_deleted() {
    // `never`: no server connection outlives its client session, none idle.
    let s = setup_with("never");
    let add = format!("add server test/s2 127.0.0.1:{}", s.s2.port());
    assert_eq!(s.cli(&add), "New server registered.\n\n");
    assert_eq!(s.served(2), ["s1", "s1"], "a new server starts in maintenance");
    assert!(s.cli("show stat").contains("test,s2,"), "listed in show stat");
    assert_eq!(s.cli("enable server test/s2"), "\n");
    let mut got = s.served(4);
    got.sort();
    assert_eq!(got, ["s1", "s1", "s2", "s2"], "round-robin over both");
    assert_eq!(s.cli("del server test/s2"), "Only servers in maintenance mode can be deleted.\n");
    assert_eq!(s.cli("disable server test/s2"), "\n");
    assert_eq!(s.cli("del server test/s2"), "Server deleted.\n");
    assert_eq!(s.served(3), ["s1", "s1", "s1"]);
    assert!(!s.cli("show stat").contains("test,s2,"), "gone from show stat");
    assert!(!s.cli("show servers state test").contains(" s2 "), "gone from show servers state");
    assert_eq!(s.cli("del server test/s2"), "No such server.\n");
    assert_eq!(s.s2.requests().len(), 2);
    // The name is free again.
    assert_eq!(s.cli(&add), "New server registered.\n\n");
}

/// `safe` keeps each server connection idle for reuse; putting the
/// server in maintenance closes them (HAProxy does), so it can go.
#[test]
fn a_server_put_in_maintenance_drops_its_idle_connections_and_can_be_deleted() {
    let s = setup();
    assert_eq!(s.cli(&format!("add server test/s2 127.0.0.1:{}", s.s2.port())), "New server registered.\n\n");
    assert_eq!(s.cli("enable server test/s2"), "\n");
    s.served(2);
    assert_eq!(s.cli("disable server test/s2"), "\n");
    assert_eq!(s.cli("del server test/s2"), "Server deleted.\n");
}

#[test]
fn add_server_refuses_as_haproxy_does() {
    let s = setup();
    let p = s.s2.port();
    let cases = [
        (
            format!("add server st/s2 127.0.0.1:{p}"),
            "Backend must use a dynamic load balancing to support dynamic servers.\n",
        ),
        (
            format!("add server test/s1 127.0.0.1:{p}"),
            "Already exists a server with the same name in backend.\n\n",
        ),
        (
            format!("add server test/s3 127.0.0.1:{p} cookie x"),
            "'cookie' option is not accepted for dynamic server\n\n",
        ),
        ("add server test/s4".to_owned(), "'server' expects <name> and <addr>[:<port>] as arguments.\n\n"),
        ("add server test".to_owned(), "Require 'backend/server'.\n"),
        ("add server nob/s1 127.0.0.1:1".to_owned(), "No such backend.\n"),
    ];
    for (cmd, want) in cases {
        assert_eq!(s.cli(&cmd), want, "{cmd}");
    }
    let clash = s.cli(&format!("add server test/s6 127.0.0.1:{p} id 1"));
    assert!(
        clash.starts_with("'id' : custom id 1 already used at ") && clash.ends_with(" ('server s1').\n\n"),
        "{clash}"
    );
    assert!(s.cli(&format!("add server test/s5 127.0.0.1:{p} frobnicate")).contains("'frobnicate'"));
}

#[test]
fn set_server_addr_moves_the_traffic() {
    let s = setup();
    let other = HttpBackend::named("moved");
    let cmd = format!("set server test/s1 addr 127.0.0.1 port {}", other.port());
    assert_eq!(
        s.cli(&cmd),
        format!(
            "no need to change the addr, port changed from '{}' to '{}' by 'stats socket command'\n\n",
            s.s1.port(),
            other.port()
        )
    );
    assert_eq!(s.served(2), ["moved", "moved"]);
    assert_eq!(
        s.cli(&cmd),
        "no need to change the addr, no need to change the port by 'stats socket command'\n\n"
    );
    assert_eq!(
        s.cli("set server test/s1 addr 127.0.0.1"),
        "no need to change the addr by 'stats socket command'\n\n"
    );
    assert_eq!(s.cli("set server test/s1 addr foo"), "Invalid addr 'foo' by 'stats socket command'\n\n");
    assert_eq!(
        s.cli("set server test/s1 addr"),
        "set server <b>/<s> addr requires an address and optionally a port.\n\n"
    );
    assert!(s.cli("show servers state test").contains(&format!(" {} ", other.port())));
}

#[test]
fn health_commands_need_a_configured_check() {
    let s = setup();
    assert_eq!(
        s.cli("enable health test/s1"),
        "Health check was not configured on this server, cannot enable.\n\n"
    );
    assert_eq!(s.cli("disable health test/s1"), "\n");
    assert_eq!(s.cli("disable health test/nope"), "No such server.\n\n");
}
