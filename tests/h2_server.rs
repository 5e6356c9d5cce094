//! HTTP/2 to servers (`server ... proto h2`): requests from HTTP/1.1 and
//! HTTP/2 clients reach an h2c server as HTTP/2 streams, and concurrent
//! requests share one server connection, several streams at once (the
//! point of HTTP/2 to servers: one connection instead of one per request).
//! Responses with and without content-length, request bodies, a server's
//! RST_STREAM (a 502), flow control on a 1 MiB response, the httplog
//! line. Holds for HAProxy 2.6 too (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::time::Duration;
use support::h2_client::*;
use support::*;

const LIMIT: Duration = Duration::from_secs(10);

/// `fe` on `port` (HTTP/1 and the HTTP/2 preface) to `be` whose `s1` is
/// the h2c backend.
fn setup(extra_be: &[&str]) -> (H2Backend, Proxy, u16) {
    let backend = H2Backend::start();
    let port = free_port();
    let mut cfg = HttpCfg::new(port, None).httplog();
    cfg = cfg.backend(&format!("server s1 127.0.0.1:{} proto h2", backend.port()));
    for l in extra_be {
        cfg = cfg.backend(l);
    }
    let proxy = Proxy::start(&cfg.render());
    (backend, proxy, port)
}

#[test]
fn http1_requests_reach_an_h2c_server() {
    let (backend, proxy, port) = setup(&[]);
    let mut c = HttpConn::connect(port);
    let r = c.request(&get("/size/1000")).expect("a response");
    assert_eq!(r.status, 200);
    assert!(r.body == pattern(BODY_SEED, 1000), "body of {} bytes", r.body.len());
    assert_eq!(r.header("x-h2-backend"), Some("1"));
    let r = c.request(&get("/nolen/70000")).expect("a response without content-length");
    assert_eq!(r.status, 200);
    assert!(r.body == pattern(BODY_SEED, 70_000), "body of {} bytes", r.body.len());
    let body = pattern(7, 40_000);
    let mut post =
        format!("POST /echo HTTP/1.1\r\nHost: site.example\r\nContent-Length: {}\r\n\r\n", body.len())
            .into_bytes();
    post.extend_from_slice(&body);
    let r = c.request(&post).expect("echo");
    assert!(r.body == body, "echoed {} bytes", r.body.len());
    let mut chunked =
        b"POST /echo HTTP/1.1\r\nHost: site.example\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    chunked.extend_from_slice(&chunk_body(&body, 5000, &[]));
    let r = c.request(&chunked).expect("chunked echo");
    assert!(r.body == body, "echoed {} bytes", r.body.len());
    let seen = backend.requests();
    assert_eq!(seen.len(), 4);
    let first = &seen[0];
    assert_eq!(first.field(":method"), Some("GET"));
    assert_eq!(first.field(":path"), Some("/size/1000"));
    // HAProxy 2.6 says `https` for an origin-form request whatever the
    // connection; strata says what it is (h2c: `http`).
    assert_eq!(first.field(":scheme"), Some(if under_haproxy() { "https" } else { "http" }));
    // The authority as `:authority` (strata) or `host` (HAProxy): RFC 9113
    // §8.3.1 allows either.
    let authority = |r: &H2Req| r.field(":authority").or(r.field("host")).map(str::to_owned);
    assert_eq!(authority(&seen[2]).as_deref(), Some("site.example"));
    assert!(
        seen.iter().all(|r| r.fields.iter().filter(|(n, _)| n == ":authority" || n == "host").count() == 1)
    );
    assert!(seen.iter().all(|r| r.field("connection").is_none() && r.field("transfer-encoding").is_none()));
    assert!(
        wait_until(ms(5000), || proxy.stdout_text().contains("GET /size/1000 HTTP/1.1")),
        "{}",
        proxy.stdout_text()
    );
}

#[test]
fn a_megabyte_response_obeys_the_windows() {
    let (_backend, _proxy, port) = setup(&[]);
    let mut c = HttpConn::connect(port);
    let r = c.request(&get("/size/1048576")).expect("a response");
    assert_eq!(r.status, 200);
    assert!(
        r.body == pattern(BODY_SEED, 1 << 20),
        "differs at {:?}",
        first_difference(&r.body, &pattern(BODY_SEED, 1 << 20))
    );
}

#[test]
fn concurrent_streams_share_one_server_connection() {
    let (backend, _proxy, port) = setup(&["http-reuse always"]);
    let mut c = H2Conn::connect(port);
    let ids: Vec<u32> = (0..20).map(|_| c.get("/hold")).collect();
    assert!(backend.wait_holding(20, ms(5000)), "20 requests held at the server: {}", backend.holding());
    assert_eq!(backend.connections(), 1, "one server connection");
    assert_eq!(backend.max_open(), 20, "20 streams open at once on it");
    backend.open_gate();
    let (res, end) = c.run(&ids, LIMIT);
    assert!(end.is_none(), "{end:?}");
    for id in &ids {
        assert_eq!((res[id].status, res[id].body.as_slice()), (Some(200), &b"hello"[..]));
    }
    // HTTP/1.1 clients too: three at once share it.
    let conns: Vec<std::thread::JoinHandle<u16>> = (0..3)
        .map(|_| {
            std::thread::spawn(move || HttpConn::connect(port).request(&get("/")).map_or(0, |r| r.status))
        })
        .collect();
    for h in conns {
        assert_eq!(h.join().expect("client"), 200);
    }
    // HAProxy may open a second one for simultaneous first requests of
    // HTTP/1.1 sessions; strata shares the connection that has room.
    if !under_haproxy() {
        assert_eq!(backend.connections(), 1, "still one server connection");
    }
}

#[test]
fn a_server_reset_is_a_502_and_the_connection_goes_on() {
    let (backend, _proxy, port) = setup(&["http-reuse always"]);
    let mut c = HttpConn::connect(port);
    assert_eq!(c.request(&get("/rst")).expect("an answer").status, 502);
    let mut c = HttpConn::connect(port);
    assert_eq!(c.request(&get("/")).expect("served").status, 200);
    assert_eq!(backend.connections(), 1, "the reset ended one stream, not the connection");
}

/// `ssl alpn h2,http/1.1` to a TLS server: when its ALPN chooses h2 the
/// streams are HTTP/2 (here the server is a second proxy terminating TLS
/// and logging `HTTP/2.0`); when it chooses http/1.1 the same server line
/// carries HTTP/1.1 over that connection.
#[test]
fn alpn_chooses_http2_or_http11_to_tls_servers() {
    use support::tls::{Pki, TlsBackend};
    let pki = Pki::new("Backend CA");
    let crt = pki.server("srv.pem", &["backend.example.com"]);
    // An HTTP/2-capable TLS server: another proxy with `alpn h2`.
    let origin = HttpBackend::start();
    let tls_port = free_port();
    let mut inner = HttpCfg::new(tls_port, Some(origin.port())).httplog();
    let inner_tls = free_port();
    inner = inner.frontend(&format!("bind 127.0.0.1:{inner_tls} ssl crt {} alpn h2", crt.path.display()));
    let inner = Proxy::start(&inner.render());
    // An HTTP/1.1-only one.
    let h1 = TlsBackend::start(&crt.path, None, &["http/1.1"]);
    let port = free_port();
    let ca = pki.ca_file();
    let cfg = HttpCfg::new(port, None)
        .backend(&format!("server s1 127.0.0.1:{inner_tls} ssl verify required ca-file {} sni str(backend.example.com) alpn h2,http/1.1", ca.display()))
        .frontend("use_backend b1 if { path_beg /one }")
        .section("backend b1", &[&format!("server s2 127.0.0.1:{} ssl verify required ca-file {} alpn h2,http/1.1", h1.port(), ca.display())]);
    let _p = Proxy::start(&cfg.render());
    let r = HttpConn::connect(port).request(&get("/")).expect("through h2 over TLS");
    assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
    assert!(
        wait_until(ms(5000), || inner.stdout_text().contains("HTTP/2.0")),
        "the TLS server saw HTTP/2: {}",
        inner.stdout_text()
    );
    let r = HttpConn::connect(port).request(&get("/one")).expect("through HTTP/1.1 over TLS");
    assert_eq!((r.status, r.body.as_slice()), (200, &b"tls-ok"[..]), "{}", r.raw_text());
}

/// `pool-purge-delay` on an HTTP/2 server connection: once no stream uses
/// it for that long it is closed, and the next request connects again.
#[test]
fn an_idle_h2_server_connection_is_closed_after_pool_purge_delay() {
    let backend = H2Backend::start();
    let port = free_port();
    let server =
        format!("server s1 127.0.0.1:{} proto h2 pool-purge-delay {}", backend.port(), cfg_time(ms(300)));
    let cfg = HttpCfg::new(port, None).backend("http-reuse always").backend(&server);
    let _proxy = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    assert_eq!(c.request(&get("/size/10")).expect("a response").status, 200);
    assert_eq!(backend.closed(), 0, "kept for the next streams at first");
    assert!(wait_until(ms(15_000), || backend.closed() == 1), "the idle connection is closed");
    assert_eq!(c.request(&get("/size/10")).expect("a response").status, 200);
    assert_eq!(backend.connections(), 2, "the next request connects again");
}
