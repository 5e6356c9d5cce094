//! `server ... ssl`: TLS to the servers. The server certificate is checked
//! against `ca-file` (`verify required`, the default) or not at all
//! (`verify none`); `sni` and `alpn` go in the ClientHello; `crt` is the
//! client certificate; kept-alive TLS server connections are reused as
//! `http-reuse` allows; a handshake that fails is a failed connect
//! (retried, then 503 `SC--`), and a `check` says `L6RSP` /
//! `SSL handshake failure` as HAProxy's does. Validated against HAProxy
//! 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::time::Duration;

use support::stat::expect_stat;
use support::tls::{Pki, TlsBackend};
use support::*;

fn cfg(fe: u16, server_line: &str, extra_global: &str) -> String {
    format!(
        "global\n    maxconn 100\n{extra_global}defaults\n    mode http\n    timeout connect {}\n    timeout client 5s\n    timeout server 5s\n    retries 1\n\
         frontend fe\n    bind 127.0.0.1:{fe}\n    default_backend be\nbackend be\n    {server_line}\n",
        cfg_time(Duration::from_millis(500)),
    )
}

fn get_one(port: u16, path: &str) -> Response {
    HttpConn::connect(port).request(&get(path)).expect("response")
}

#[test]
fn verified_tls_to_the_server_with_sni_and_alpn() {
    let pki = Pki::new("Backend CA");
    let crt = pki.server("srv.pem", &["backend.example.com"]);
    let b = TlsBackend::start(&crt.path, None, &["http/1.1"]);
    let fe = free_port();
    let line = format!(
        "server s1 127.0.0.1:{} ssl verify required ca-file {} sni str(backend.example.com) alpn http/1.1",
        b.port(),
        pki.ca_file().display()
    );
    let _p = Proxy::start(
        &cfg(fe, &line, "")
            .replace("backend be\n", "backend be\n    http-response set-header X-Bc %[ssl_bc]\n"),
    );
    let r = get_one(fe, "/");
    assert_eq!(r.status, 200, "{}", r.raw_text());
    assert_eq!(r.header("X-Bc"), Some("1"), "ssl_bc: the server connection is TLS");
    assert_eq!(r.header("X-Sni"), Some("backend.example.com"));
    assert_eq!(r.header("X-Alpn"), Some("http/1.1"));
    assert_eq!(r.body, b"tls-ok");
}

#[test]
fn a_server_certificate_from_another_ca_is_refused() {
    let pki = Pki::new("Backend CA");
    let other = Pki::new("Other CA");
    let crt = other.server("srv.pem", &["backend.example.com"]);
    let b = TlsBackend::start(&crt.path, None, &[]);
    let fe = free_port();
    let admin = free_port();
    let line = format!(
        "server s1 127.0.0.1:{} ssl verify required ca-file {} check inter 200",
        b.port(),
        pki.ca_file().display()
    );
    let global = format!("    stats socket ipv4@127.0.0.1:{admin} level admin\n");
    let _p = Proxy::start(
        &cfg(fe, &line, &global).replace("backend be\n", "backend be\n    log stdout format raw local0\n"),
    );
    expect_stat(
        admin,
        "be",
        "s1",
        &[("status", "DOWN"), ("check_status", "L6RSP"), ("last_chk", "SSL handshake failure")],
        "wrong CA",
    );
    let r = get_one(fe, "/");
    assert_eq!(r.status, 503, "{}", r.raw_text());
    assert_eq!(b.handshakes(), 0, "no handshake may succeed");
}

#[test]
fn verify_none_accepts_any_certificate_and_a_failed_handshake_is_a_failed_connect() {
    let pki = Pki::new("Backend CA");
    let crt = pki.self_signed("self.pem", &["whatever"]);
    let b = TlsBackend::start(&crt.path, None, &[]);
    let fe = free_port();
    let _p = Proxy::start(&cfg(fe, &format!("server s1 127.0.0.1:{} ssl verify none", b.port()), ""));
    assert_eq!(get_one(fe, "/").status, 200);

    // A server speaking something else at once behind `ssl`: the handshake
    // fails, the connect is retried, then HAProxy's 503 `SC--`.
    let plain = Backend::hello(b"HTTP/1.1 400 Bad Request\r\n\r\n");
    let fe2 = free_port();
    let p2 = Proxy::start(
        &cfg(fe2, &format!("server s1 127.0.0.1:{} ssl verify none", plain.port()), "")
            .replace("frontend fe\n", "frontend fe\n    log stdout format raw local0\n    option httplog\n"),
    );
    let r = get_one(fe2, "/");
    assert_eq!(r.status, 503, "{}", r.raw_text());
    assert!(wait_until(ms(5000), || p2.stdout_text().contains(" 503 ")), "{}", p2.stdout_text());
    let line = p2.stdout_text().lines().find(|l| l.contains(" 503 ")).unwrap_or_default().to_string();
    assert!(line.contains(" SC-- "), "{line}");
}

#[test]
fn a_client_certificate_is_presented_to_the_server() {
    let pki = Pki::new("Backend CA");
    let crt = pki.server("srv.pem", &["localhost"]);
    let client = pki.client("proxy-client.pem", "strata");
    let b = TlsBackend::start(&crt.path, Some(&pki.ca_file()), &[]);
    let fe = free_port();
    let line = format!("server s1 127.0.0.1:{} ssl verify none crt {}", b.port(), client.path.display());
    let _p = Proxy::start(&cfg(fe, &line, ""));
    let r = get_one(fe, "/");
    assert_eq!(r.status, 200, "{}", r.raw_text());
    assert_eq!(r.header("X-Client-Certs"), Some("1"));
}

/// One client connection, five requests: the TLS server connection made
/// for the first is reused for the others (`http-reuse safe`), so the
/// server sees one handshake.
#[test]
fn tls_server_connections_are_reused() {
    let pki = Pki::new("Backend CA");
    let crt = pki.server("srv.pem", &["localhost"]);
    let b = TlsBackend::start(&crt.path, None, &[]);
    let fe = free_port();
    let _p = Proxy::start(&cfg(fe, &format!("server s1 127.0.0.1:{} ssl verify none", b.port()), ""));
    let mut c = HttpConn::connect(fe);
    for _ in 0..5 {
        let r = c.request(&get("/")).expect("response");
        assert_eq!(r.status, 200);
    }
    assert_eq!(b.handshakes(), 1, "the server connection was not reused");
    // A second client (http-reuse safe: its first request connects anew,
    // the following reuse).
    let mut c2 = HttpConn::connect(fe);
    for _ in 0..3 {
        assert_eq!(c2.request(&get("/")).expect("response").status, 200);
    }
    assert!(b.handshakes() <= 2, "{} handshakes", b.handshakes());
}

#[test]
fn server_ssl_without_ca_file_is_a_config_error() {
    let (code, _, err) = Proxy::check(&cfg(free_port(), "server s1 127.0.0.1:1 ssl", ""));
    assert_ne!(code, 0);
    assert!(err.contains("'server be/s1' : verify is enabled by default but no CA file specified."), "{err}");
    let (code, _, err) =
        Proxy::check(&cfg(free_port(), "server s1 127.0.0.1:1 ssl", "    ssl-server-verify none\n"));
    assert_eq!(code, 0, "{err}");
}

/// `-dV` makes `verify none` the default of `server ... ssl`: the line
/// without a CA file is accepted and reaches a self-signed server, while
/// an explicit `verify required` still checks (and fails).
#[test]
fn dash_dv_turns_server_verification_off_by_default() {
    let pki = Pki::new("Backend CA");
    let crt = pki.self_signed("self.pem", &["whatever"]);
    let b = TlsBackend::start(&crt.path, None, &[]);
    let fe = free_port();
    let _p = Proxy::start_with_args(&cfg(fe, &format!("server s1 127.0.0.1:{} ssl", b.port()), ""), &["-dV"]);
    assert_eq!(get_one(fe, "/").status, 200);
    let fe2 = free_port();
    let line =
        format!("server s1 127.0.0.1:{} ssl verify required ca-file {}", b.port(), pki.ca_file().display());
    let _p2 = Proxy::start_with_args(&cfg(fe2, &line, ""), &["-dV"]);
    assert_eq!(get_one(fe2, "/").status, 503);
}
