//! The request target's authority against Host, as HAProxy 2.6 checks and
//! normalizes them (its reg-tests `h1_host_normalization` and
//! `scheme_based_normalize`): what the server receives for an absolute
//! URI with a default or empty port, over HTTP/1.1 and HTTP/2, and the 400
//! for a Host that names another host or port. Passes on HAProxy 2.6.12
//! (`STRATA_BIN=/usr/sbin/haproxy`), but for the empty host `http://:`,
//! which strata refuses as RFC 9110 §4.2.1 requires and HAProxy accepts.

mod support;

use support::h2_client::{END_HEADERS, END_STREAM, HEADERS};
use support::*;

fn start(h2: bool) -> (HttpBackend, Proxy, u16) {
    let server = HttpBackend::start();
    let port = free_port();
    let proto = if h2 { " proto h2" } else { "" };
    let cfg = HttpCfg::new(port, Some(server.port())).render().replacen(
        &format!("bind 127.0.0.1:{port}\n"),
        &format!("bind 127.0.0.1:{port}{proto}\n"),
        1,
    );
    (server, Proxy::start(&cfg), port)
}

/// One request (`line` then `host: host`); the status and, when it
/// reached the server, the target and Host it got.
fn send(server: &HttpBackend, port: u16, line: &str, host: &str) -> (u16, Option<(String, String)>) {
    let before = server.requests().len();
    let mut c = HttpConn::connect(port);
    let r = c.request(format!("{line} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n").as_bytes());
    let status = r.map_or(0, |r| r.status);
    let got = server.requests().get(before).map(|q| {
        let host = q.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("host")).map(|(_, v)| v.clone());
        (q.target.clone(), host.unwrap_or_default())
    });
    (status, got)
}

#[test]
fn absolute_uris_lose_a_default_port_and_host_follows() {
    let (server, _p, port) = start(false);
    let reached = |line: &str, host: &str, target: &str, want_host: &str| {
        // (the test server answers 404 to an absolute target: what matters
        // is what it received)
        let (_, got) = send(&server, port, line, host);
        assert_eq!(got, Some((target.to_owned(), want_host.to_owned())), "{line} / {host}");
    };
    reached("GET http://toto:poue@hostname:80/c1", "hostname:80", "http://toto:poue@hostname/c1", "hostname");
    reached("GET http://hostname:8080/c2", "hostname:8080", "http://hostname:8080/c2", "hostname:8080");
    reached("GET https://hostname:443/c3", "hostname:443", "https://hostname/c3", "hostname");
    reached("GET https://hostname:80/c4", "hostname:80", "https://hostname:80/c4", "hostname:80");
    reached("GET http://hostname:80/c20", "hostname", "http://hostname/c20", "hostname");
    reached("GET http://hostname/c22", "hostname:80", "http://hostname/c22", "hostname:80");
    reached("GET http://hostname:/c29", "hostname:80", "http://hostname/c29", "hostname");
    reached("GET https://hostname:443/c30", "hostname:", "https://hostname/c30", "hostname");
}

#[test]
fn a_host_naming_another_authority_is_refused() {
    let (server, _p, port) = start(false);
    for (line, host) in [
        ("GET http://hostname1/", "hostname2"),
        ("GET http://hostname:80/", "hostname:81"),
        ("GET http://hostname:8080/", "hostname"),
        ("GET http://hostname/", "hostname:81"),
        ("CONNECT hostname", "hostname"),
        ("CONNECT hostname:80", "hostname:443"),
        ("CONNECT hostname:8080", "hostname"),
        ("CONNECT hostname:", "hostname"),
    ] {
        assert_eq!(send(&server, port, line, host), (400, None), "{line} / {host}");
    }
    let empty_host = send(&server, port, "GET http://:", ":80");
    if under_haproxy() {
        assert_eq!(empty_host.0, 200, "HAProxy accepts an empty host");
    } else {
        assert_eq!(empty_host, (400, None), "RFC 9110 §4.2.1: an empty host is refused");
    }
}

#[test]
fn http2_authorities_are_normalized_too() {
    let (server, _p, port) = start(true);
    // an HTTP/2 request reaches an HTTP/1.1 server in origin form, its
    // authority in Host
    for (scheme, authority, host) in [
        ("http", "hostname:80", "hostname"),
        ("http", "hostname:8080", "hostname:8080"),
        ("https", "hostname:443", "hostname"),
        ("https", "hostname:80", "hostname:80"),
    ] {
        let before = server.requests().len();
        let mut c = H2Conn::connect(port);
        let block =
            c.block(&[(":method", "GET"), (":scheme", scheme), (":authority", authority), (":path", "/")]);
        let id = 1;
        c.send(HEADERS, END_HEADERS | END_STREAM, id, &block);
        let (got, end) = c.run(&[id], ms(10_000));
        assert_eq!(got[&id].status, Some(200), "{scheme} {authority}: {got:?} {end:?}");
        let q = &server.requests()[before];
        let h = q.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("host")).map(|(_, v)| v.as_str());
        assert_eq!((q.target.as_str(), h), ("/", Some(host)), "{scheme} {authority}");
    }
}
