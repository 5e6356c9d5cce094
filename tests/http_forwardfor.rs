//! `option forwardfor [except NET] [header NAME] [if-none]`: what the
//! server receives. The client is 127.0.0.1. Validated against HAProxy
//! 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use support::time::ms;
use support::{HttpBackend, HttpCfg, HttpConn, Proxy, free_port, request};

/// The `(name, value)` headers the server received for one request sent
/// with `extra` headers, under `option forwardfor ARGS` in the frontend
/// (`fe`) and the backend (`be`).
fn received(fe: &str, be: &str, extra: &[&str]) -> Vec<(String, String)> {
    let backend = HttpBackend::start();
    let port = free_port();
    let mut cfg = HttpCfg::new(port, Some(backend.port()));
    if !fe.is_empty() {
        cfg = cfg.frontend(fe);
    }
    if !be.is_empty() {
        cfg = cfg.backend(be);
    }
    let _p = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    assert_eq!(c.request(&request("GET", "/", extra, b"")).expect("response").status, 200);
    let got = backend.wait_requests(1, ms(3000)).expect("request");
    got[0].headers.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.clone())).collect()
}

fn values(h: &[(String, String)], name: &str) -> Vec<String> {
    h.iter().filter(|(n, _)| n == name).map(|(_, v)| v.clone()).collect()
}

#[test]
fn except_network_skips_the_header() {
    let h = received("option forwardfor except 127.0.0.0/8", "", &[]);
    assert!(values(&h, "x-forwarded-for").is_empty(), "{h:?}");
    let h = received("option forwardfor except 10.0.0.0/8", "", &[]);
    assert_eq!(values(&h, "x-forwarded-for"), ["127.0.0.1"], "control: another network");
    let h = received("option forwardfor", "option forwardfor except 127.0.0.1", &[]);
    assert!(values(&h, "x-forwarded-for").is_empty(), "the backend's except counts too: {h:?}");
}

#[test]
fn header_name_and_if_none() {
    let h = received("option forwardfor header X-Client-IP", "", &[]);
    assert_eq!(
        (values(&h, "x-client-ip"), values(&h, "x-forwarded-for").len()),
        (vec!["127.0.0.1".to_string()], 0)
    );
    let h = received("option forwardfor header X-Fe", "option forwardfor header X-Be", &[]);
    assert_eq!(
        (values(&h, "x-be").len(), values(&h, "x-fe").len()),
        (1, 0),
        "the backend's name wins: {h:?}"
    );
    let sent = ["X-Forwarded-For: 192.0.2.7"];
    let h = received("option forwardfor if-none", "", &sent);
    assert_eq!(values(&h, "x-forwarded-for"), ["192.0.2.7"], "if-none keeps the client's own");
    let h = received("option forwardfor", "", &sent);
    assert_eq!(
        values(&h, "x-forwarded-for"),
        ["192.0.2.7", "127.0.0.1"],
        "without if-none one more is added"
    );
}
