//! `dispatch IP:PORT` (HAProxy's dispatch mode): a backend without a
//! `balance` line sends every stream to that address, in TCP and HTTP
//! mode, whatever servers it also lists; no `show stat` line, `<NOSRV>`
//! in the log. With `balance`, the address is ignored with HAProxy's
//! warning. Validated against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::time::Duration;

use support::*;

#[test]
fn tcp_and_http_streams_go_to_the_dispatch_address() {
    let (echo, web, other) = (Backend::echo(), HttpBackend::named("web"), HttpBackend::named("other"));
    let (tcp, http, stats) = (free_port(), free_port(), free_port());
    let cfg = format!(
        "global\n    stats socket ipv4@127.0.0.1:{stats} level admin\n{}\
         listen lt\n    bind 127.0.0.1:{tcp}\n    dispatch 127.0.0.1:{}\n\
         listen lh\n    mode http\n    bind 127.0.0.1:{http}\n    dispatch 127.0.0.1:{}\n    server s1 127.0.0.1:{}\n",
        tcp_defaults(100, Duration::from_secs(1), Duration::from_secs(10), Duration::from_secs(10)),
        echo.port(),
        web.port(),
        other.port(),
    );
    let _proxy = Proxy::start(&cfg);
    let mut c = connect(tcp);
    assert_eq!(round_trip(&mut c, b"ping", ms(5_000)).expect("echo"), b"ping");
    for _ in 0..3 {
        let r = HttpConn::connect(http).request(&get("/")).expect("response");
        assert_eq!(r.header("x-server"), Some("web"), "without balance, servers are not load balanced");
    }
    assert!(other.requests().is_empty());
    let stat = cli(stats, "show stat");
    assert!(stat.contains("lh,s1,") && stat.lines().filter(|l| l.starts_with("lh,")).count() == 3, "{stat}");
}

#[test]
fn balance_wins_over_dispatch_with_a_warning() {
    let (web, other) = (HttpBackend::named("web"), HttpBackend::named("other"));
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(other.port()))
        .backend("balance roundrobin")
        .backend(&format!("dispatch 127.0.0.1:{}", web.port()));
    let (code, _, err) = Proxy::check(&cfg.render());
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("dispatch address of backend 'be' will be ignored in balance mode."), "{err}");
    let _proxy = Proxy::start(&cfg.render());
    let r = HttpConn::connect(port).request(&get("/")).expect("response");
    assert_eq!(r.header("x-server"), Some("other"));
}

#[test]
fn dispatch_errors_as_haproxy() {
    let check = |extra: &str| Proxy::check(&HttpCfg::new(free_port(), None).backend(extra).render());
    let (code, _, err) = check("dispatch 127.0.0.1");
    assert_ne!(code, 0);
    assert!(err.contains("'dispatch' : missing port specification in '127.0.0.1'"), "{err}");
    let (code, _, err) =
        Proxy::check(&HttpCfg::new(free_port(), None).defaults("dispatch 127.0.0.1:80").render());
    assert_ne!(code, 0);
    assert!(err.contains("'dispatch' not allowed in 'defaults' section."), "{err}");
    let (_, _, err) =
        Proxy::check(&HttpCfg::new(free_port(), None).frontend("dispatch 127.0.0.1:80").render());
    assert!(err.contains("'dispatch' ignored because frontend 'fe' has no backend capability."), "{err}");
}
