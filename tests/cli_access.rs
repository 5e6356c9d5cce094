//! Access levels of the stats port (haproxy-semantics.md §d, observed in
//! `haproxy-golden/CLI`): three sockets (`user`, `operator`, `admin`) on one
//! process, every command strata implements tried at each level, and every
//! refused write checked to have changed nothing.

mod support;

use support::{
    HttpBackend, HttpCfg, HttpConn, Proxy, cli, expect_stat, free_port, get, info, show_stat, stats_sockets,
    under_haproxy,
};

const DENIED: &str = "Permission denied\n\n";
const HEADER: &str = "# table: t_ip, type: ip, size:10, used:1\n";

struct Setup {
    admin: u16,
    operator: u16,
    user: u16,
    fe: u16,
    _server: HttpBackend,
    _proxy: Proxy,
}

impl Setup {
    /// fe → be (s1, a live server), table `t_ip` holding 10.0.0.1 (gpc0=1).
    fn start() -> Setup {
        let (admin, operator, user, fe) = (free_port(), free_port(), free_port(), free_port());
        let server = HttpBackend::start();
        let mut cfg = HttpCfg::new(fe, Some(server.port()))
            .section("backend t_ip", &["stick-table type ip size 10 expire 60s store gpc0"]);
        for l in stats_sockets(admin, operator, user).lines() {
            cfg = cfg.global(l.trim());
        }
        let proxy = Proxy::start(&cfg.render());
        assert_eq!(cli(admin, "set table t_ip key 10.0.0.1 data.gpc0 1"), "\n");
        Setup { admin, operator, user, fe, _server: server, _proxy: proxy }
    }

    fn levels(&self) -> [(&'static str, u16); 3] {
        [("user", self.user), ("operator", self.operator), ("admin", self.admin)]
    }

    /// `show table t_ip key K` as the admin sees it (empty reply: absent).
    fn entry(&self, key: &str) -> String {
        cli(self.admin, &format!("show table t_ip key {key}"))
    }
}

#[test]
fn read_only_commands_at_every_level() {
    let s = Setup::start();
    for (level, port) in s.levels() {
        assert_eq!(cli(port, "show table"), format!("{HEADER}\n"), "{level}");
        let info = cli(port, "show info");
        assert!(info.contains("\nPid: ") && info.ends_with("\n\n"), "{level}: {info:?}");
        let stat = cli(port, "show stat");
        assert!(stat.starts_with("# pxname,svname,") && stat.contains("\nfe,FRONTEND,"), "{level}: {stat:?}");
        let help = cli(port, "help");
        assert!(help.starts_with("The following commands are valid at this level:\n"), "{level}");
        assert_eq!(cli(port, "get weight be/s1"), "1 (initial 1)\n\n", "{level}");
        let state = cli(port, "show servers state");
        assert!(state.starts_with("1\n# be_id be_name srv_id "), "{level}: {state:?}");
        let version = cli(port, "show version");
        assert!(version.ends_with("\n\n") && version != DENIED, "{level}: {version:?}");
    }
    // `help` is the same list at every level (2.6 hides nothing).
    assert_eq!(cli(s.user, "help"), cli(s.admin, "help"));
}

#[test]
fn show_table_by_level() {
    let s = Setup::start();
    let hidden = format!("{HEADER}# contents not dumped due to insufficient privileges\n\n");
    assert_eq!(cli(s.user, "show table t_ip"), hidden);
    assert_eq!(cli(s.user, "show table t_ip data.gpc0 gt 0"), hidden);
    assert_eq!(cli(s.user, "show table t_ip key 10.0.0.1"), DENIED);
    for port in [s.operator, s.admin] {
        for cmd in ["show table t_ip", "show table t_ip data.gpc0 gt 0", "show table t_ip key 10.0.0.1"] {
            let r = cli(port, cmd);
            assert!(
                r.starts_with(HEADER) && r.contains(": key=10.0.0.1 use=0 exp=") && r.contains(" gpc0=1\n"),
                "{cmd}: {r:?}"
            );
        }
    }
}

#[test]
fn table_writes_by_level() {
    let s = Setup::start();
    // user: refused, nothing created or deleted.
    assert_eq!(cli(s.user, "set table t_ip key 10.0.0.9 data.gpc0 1"), DENIED);
    assert_eq!(s.entry("10.0.0.9"), "\n");
    assert_eq!(cli(s.user, "clear table t_ip key 10.0.0.1"), DENIED);
    assert!(s.entry("10.0.0.1").contains("key=10.0.0.1"));
    let r = cli(s.user, "clear table t_ip");
    assert!(s.entry("10.0.0.1").contains("key=10.0.0.1"), "user's `clear table t_ip` removed an entry");
    if !under_haproxy() {
        // HAProxy 2.6 answers an empty reply here (and clears nothing);
        // strata refuses it like every other table write at this level.
        assert_eq!(r, DENIED);
    }
    // operator and admin: allowed.
    for port in [s.operator, s.admin] {
        assert_eq!(cli(port, "set table t_ip key 10.0.0.9 data.gpc0 7"), "\n");
        assert!(s.entry("10.0.0.9").contains(" gpc0=7\n"));
        assert_eq!(cli(port, "clear table t_ip key 10.0.0.9"), "\n");
        assert_eq!(s.entry("10.0.0.9"), "\n");
    }
}

#[test]
fn clear_counters_by_level() {
    let s = Setup::start();
    let mut c = HttpConn::connect(s.fe);
    assert_eq!(c.request(&get("/")).expect("response").status, 200);
    drop(c);
    expect_stat(s.admin, "fe", "FRONTEND", &[("stot", "1"), ("smax", "1"), ("scur", "0")], "one request");
    let fe = |f: &str| show_stat(s.admin, "").get("fe", "FRONTEND", f).to_string();

    assert_eq!(cli(s.user, "clear counters"), DENIED);
    assert_eq!(fe("smax"), "1", "refused `clear counters` cleared the maxima");
    for port in [s.user, s.operator] {
        assert_eq!(cli(port, "clear counters all"), DENIED);
        assert_eq!(fe("stot"), "1", "refused `clear counters all` cleared the totals");
    }
    // operator: the maxima only.
    assert_eq!(cli(s.operator, "clear counters"), "\n");
    assert_eq!((fe("smax"), fe("stot")), ("0".into(), "1".into()));
    // admin: everything.
    assert_eq!(cli(s.admin, "clear counters all"), "\n");
    assert_eq!((fe("stot"), fe("req_tot")), ("0".into(), "0".into()));
}

#[test]
fn admin_only_commands() {
    let s = Setup::start();
    let maxconn = || info(s.admin).get("Maxconn").cloned();
    let before_maxconn = maxconn();
    let slim = || show_stat(s.admin, "").get("fe", "FRONTEND", "slim").to_string();
    let before_slim = slim();
    let status = || show_stat(s.admin, "").get("be", "s1", "status").to_string();
    for port in [s.user, s.operator] {
        for cmd in [
            "disable server be/s1",
            "set server be/s1 state maint",
            "set server be/s1 state drain",
            "set server be/s1 weight 5",
            "set weight be/s1 5",
            "set maxconn global 100",
            "set maxconn frontend fe 5",
        ] {
            assert_eq!(cli(port, cmd), DENIED, "{port} {cmd}");
        }
        // Nothing changed.
        assert_eq!(status(), "no check");
        assert_eq!(cli(s.admin, "get weight be/s1"), "1 (initial 1)\n\n");
        assert_eq!(maxconn(), before_maxconn);
        assert_eq!(slim(), before_slim);
    }
    assert_eq!(cli(s.admin, "disable server be/s1"), "\n");
    assert_eq!(status(), "MAINT");
    for port in [s.user, s.operator] {
        assert_eq!(cli(port, "enable server be/s1"), DENIED);
        assert_eq!(cli(port, "set server be/s1 state ready"), DENIED);
        assert_eq!(status(), "MAINT");
    }
    assert_eq!(cli(s.admin, "enable server be/s1"), "\n");
    assert_eq!(status(), "no check");
    assert_eq!(cli(s.admin, "set weight be/s1 5"), "\n");
    assert_eq!(cli(s.user, "get weight be/s1"), "5 (initial 1)\n\n");
    assert_eq!(cli(s.admin, "set maxconn global 100"), "\n");
    assert_eq!(maxconn().as_deref(), Some("100"));
    assert_eq!(cli(s.admin, "set maxconn frontend fe 5"), "\n");
    assert_eq!(slim(), "5");
}

#[test]
fn session_listing_needs_operator() {
    let s = Setup::start();
    assert_eq!(cli(s.user, "show sess"), DENIED);
    for port in [s.operator, s.admin] {
        // HAProxy lists its own CLI stream; strata lists client streams only.
        assert_ne!(cli(port, "show sess"), DENIED);
    }
    if !under_haproxy() {
        // strata's own inspection commands follow the same rule.
        for cmd in ["show sess tree", "debug counters check"] {
            assert_eq!(cli(s.user, cmd), DENIED, "{cmd}");
            assert_ne!(cli(s.operator, cmd), DENIED, "{cmd}");
        }
        assert_eq!(cli(s.operator, "debug counters check"), "counters consistent: 1 entries, 0 trackers\n\n");
    }
}
