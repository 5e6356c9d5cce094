//! `option socket-stats`: `show stat` has one line per listener of the
//! frontend (HAProxy 2.6's type 3 lines) right after its FRONTEND line,
//! named by the bind's `name` or `sock-ID` (`id`, else the listener's
//! rank), with its own connection, byte and denial counts; `show stat -1
//! 8 -1` selects them; a frontend without the option has none.
//!
//! Validated against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy cargo
//! test --test socket_stats`).

mod support;

use std::io::Write;
use std::net::Ipv4Addr;
use support::*;

#[test]
fn each_listener_has_its_line_and_its_counts() {
    let backend = HttpBackend::start();
    let (a, b, c, other, stats) = (free_port(), free_port(), free_port(), free_port(), free_port());
    let cfg = format!(
        "{head}\
frontend fe
    bind 127.0.0.1:{a} name clear
    bind 127.0.0.1:{b}
    bind 127.0.0.1:{c} id 7
    option socket-stats
    tcp-request connection reject if {{ src 127.0.0.2 }}
    http-request deny if {{ path /deny }}
    default_backend be
frontend plain
    bind 127.0.0.1:{other}
    default_backend be
backend be
    server s1 127.0.0.1:{port}
",
        head = scenario_head(stats, Some("http")),
        port = backend.port(),
    );
    let _proxy = Proxy::start(&cfg);

    let deny = get("/deny");
    let mut conn = HttpConn::connect(a);
    let r = conn.request(&deny).expect("answered");
    assert_eq!(r.status, 403);
    drop(conn);
    let ok = get("/");
    let mut conn = HttpConn::connect(b);
    let r = conn.request(&ok).expect("answered");
    assert_eq!(r.status, 200);
    drop(conn);
    let how = expect_refused_from(Ipv4Addr::new(127, 0, 0, 2), b, ms(5_000));
    assert!(matches!(how, Closed::Eof(_) | Closed::Reset(_)), "rejected: {how:?}");

    let want = |port: u16, sid: &str, stot: &str, dreq: &str, dcon: &str| {
        let addr = format!("127.0.0.1:{port}");
        [
            ("scur", "0".to_string()),
            ("slim", "0".to_string()),
            ("stot", stot.to_string()),
            ("dreq", dreq.to_string()),
            ("dresp", "0".to_string()),
            ("ereq", "0".to_string()),
            ("dcon", dcon.to_string()),
            ("dses", "0".to_string()),
            ("status", "OPEN".to_string()),
            ("type", "3".to_string()),
            ("sid", sid.to_string()),
            ("addr", addr),
            ("mode", "http".to_string()),
            ("lbtot", String::new()),
            ("rate", String::new()),
            ("req_tot", String::new()),
        ]
    };
    let check = |sv: &str, spec: [(&str, String); 16]| {
        let spec: Vec<(&str, &str)> = spec.iter().map(|(k, v)| (*k, v.as_str())).collect();
        expect_stat(stats, "fe", sv, &spec, sv)
    };
    check("clear", want(a, "1", "1", "1", "0"));
    check("sock-2", want(b, "2", "2", "0", "1"));
    let s = check("sock-7", want(c, "7", "0", "0", "0"));

    // Their bytes are the frontend's, split by where they came in.
    let num = |sv: &str, f: &str| s.get("fe", sv, f).parse::<u64>().unwrap_or_else(|_| panic!("{sv} {f}"));
    for f in ["bin", "bout"] {
        assert_eq!(num("clear", f) + num("sock-2", f), num("FRONTEND", f), "{f}");
    }
    assert!(num("clear", "bout") > 0, "clear: the 403 counted");
    assert!(
        num("sock-2", "bin") > 0 && num("sock-2", "bout") > 0,
        "sock-2: the request and its answer counted"
    );
    assert_eq!((num("sock-7", "bin"), num("sock-7", "bout")), (0, 0), "sock-7 saw nothing");
    // smax: at least the one connection each saw (a close and the next accept may overlap).
    assert!(num("clear", "smax") >= 1 && num("sock-2", "smax") >= 1 && num("sock-7", "smax") == 0);

    // HAProxy's order: FRONTEND, its listeners, then the next proxies;
    // the frontend without the option has none.
    let order: Vec<String> = s.order().iter().map(|(p, v)| format!("{p}/{v}")).collect();
    assert_eq!(
        order,
        ["fe/FRONTEND", "fe/clear", "fe/sock-2", "fe/sock-7", "plain/FRONTEND", "be/s1", "be/BACKEND"],
        "show stat order"
    );
    // The type filter: 8 selects listeners only.
    let only = show_stat(stats, "-1 8 -1");
    let order: Vec<String> = only.order().iter().map(|(p, v)| format!("{p}/{v}")).collect();
    assert_eq!(order, ["fe/clear", "fe/sock-2", "fe/sock-7"], "show stat -1 8 -1");
}

/// Typed output names a listener line `L.<iid>.<sid>...` with HAProxy's tags.
#[test]
fn typed_listener_lines() {
    let backend = HttpBackend::start();
    let (a, stats) = (free_port(), free_port());
    let cfg = format!(
        "{head}\
frontend fe
    id 5
    bind 127.0.0.1:{a} name clear
    option socket-stats
    default_backend be
backend be
    server s1 127.0.0.1:{port}
",
        head = scenario_head(stats, Some("tcp")),
        port = backend.port(),
    );
    let _proxy = Proxy::start(&cfg);
    let mut s = connect(a);
    s.write_all(b"x").expect("send");
    expect_stat(
        stats,
        "fe",
        "clear",
        &[("stot", "1"), ("scur", "1"), ("mode", "tcp")],
        "one open connection",
    );
    let typed = cli(stats, "show stat typed");
    for want in [
        "L.5.1.0.pxname.1:KNS:str:fe",
        "L.5.1.1.svname.1:KNS:str:clear",
        "L.5.1.4.scur.1:MGP:u32:1",
        "L.5.1.6.slim.1:CLP:u32:0",
        "L.5.1.7.stot.1:MCP:u64:1",
        "L.5.1.17.status.1:SGP:str:OPEN",
        "L.5.1.32.type.1:CGS:u32:3",
        &format!("L.5.1.73.addr.1:CGS:str:127.0.0.1:{a}"),
        "L.5.1.75.mode.1:CGS:str:tcp",
        "L.5.1.81.dcon.1:MCP:u64:0",
    ] {
        assert!(typed.lines().any(|l| l == want), "no '{want}' in:\n{typed}");
    }
}
