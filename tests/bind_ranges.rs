//! `bind ADDR:PORT1-PORT2`: one listener per port of the range, as HAProxy
//! (each port answers), and HAProxy's refusal of a reversed range.
//! Validated against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use support::*;

/// Three consecutive ports free right now.
fn free_run() -> u16 {
    loop {
        let p = free_port();
        if p < 65000 && (1..3).all(|i| std::net::TcpListener::bind(("127.0.0.1", p + i)).is_ok()) {
            return p;
        }
    }
}

#[test]
fn a_port_range_listens_on_every_port() {
    let be = HttpBackend::start();
    let first = free_run();
    let cfg = HttpCfg::new(first, Some(be.port()))
        .render()
        .replace(&format!("bind 127.0.0.1:{first}\n"), &format!("bind 127.0.0.1:{first}-{}\n", first + 2));
    assert!(cfg.contains(&format!("{first}-{}", first + 2)), "{cfg}");
    let _p = Proxy::start(&cfg); // (it cannot wait for a range's ports: waited for here)
    let up = |port: u16| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
    assert!(wait_until(support::time::ms(5000), || (first..=first + 2).all(up)), "every port listens");
    for port in first..=first + 2 {
        let r = HttpConn::connect(port).request(&get("/")).expect("response");
        assert_eq!(r.status, 200, "port {port}");
    }
    let (code, out, err) = Proxy::check(&cfg.replace(&format!("{first}-{}", first + 2), "81-80"));
    assert_ne!(code, 0);
    assert!(format!("{out}{err}").contains("'bind' : invalid port range '81-80'"), "{out}{err}");
}
