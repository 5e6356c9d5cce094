//! `bind ... ssl`: TLS termination with rustls. Handshakes with TLSv1.2
//! and TLSv1.3 carry HTTP to a plain backend; what cannot be loaded is a
//! configuration error naming the line and the file; a client that
//! speaks plain HTTP, goes away or stalls mid-handshake is closed with a
//! log line in HAProxy's words and never disturbs another connection.
//! Certificates are made at test time (tests/support/tls.rs). Every
//! assertion holds for HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::io::{Read, Write};
use std::time::Duration;

use support::tls::{ClientOpts, Pki, TlsClient};
use support::*;

fn tls_cfg(port: u16, backend: u16, crt: &str, extra_bind: &str, extra_fe: &[&str]) -> String {
    let mut fe = format!("    bind 127.0.0.1:{port} ssl crt {crt} {extra_bind}\n");
    for l in extra_fe {
        fe.push_str(&format!("    {l}\n"));
    }
    format!(
        "global\n    maxconn 1000\ndefaults\n    mode http\n    timeout connect 1s\n    timeout client {}\n    timeout server 5s\n\
         frontend fe\n{fe}    log stdout format raw local0\n    option httplog\n    default_backend be\nbackend be\n    server s1 127.0.0.1:{backend}\n",
        cfg_time(Duration::from_secs(5)),
    )
}

#[test]
fn tls12_and_tls13_handshakes_carry_http() {
    let pki = Pki::new("Test CA");
    let crt = pki.server("site.pem", &["www.example.com"]);
    let backend = HttpBackend::start();
    let port = free_port();
    let _p = Proxy::start(&tls_cfg(port, backend.port(), &crt.path.display().to_string(), "", &[]));
    for (version, expect) in [(12, rustls::ProtocolVersion::TLSv1_2), (13, rustls::ProtocolVersion::TLSv1_3)]
    {
        let client = TlsClient::new(ClientOpts {
            sni: Some("www.example.com".into()),
            version: Some(version),
            ca: Some(pki.ca_der()),
            ..Default::default()
        });
        let mut c = client.connect(port).expect("handshake");
        assert_eq!(c.version(), Some(expect));
        assert_eq!(c.peer_cert().as_ref(), Some(&crt.der));
        for _ in 0..3 {
            let r = c.get("/size/100").expect("response");
            assert_eq!(r.status, 200);
            assert_eq!(r.body.len(), 100);
        }
    }
    assert_eq!(backend.requests_to("/size/100"), 6);
}

#[test]
fn a_large_response_arrives_whole_through_tls() {
    let pki = Pki::new("Test CA");
    let crt = pki.server("site.pem", &["localhost"]);
    let backend = HttpBackend::start();
    let port = free_port();
    let _p = Proxy::start(&tls_cfg(port, backend.port(), &crt.path.display().to_string(), "", &[]));
    let mut c = TlsClient::new(ClientOpts::default()).connect(port).expect("handshake");
    let r = c.get("/size/3000000").expect("response");
    assert_eq!(r.body.len(), 3_000_000);
    assert_eq!(fingerprint(&r.body), fingerprint(&pattern(BODY_SEED, 3_000_000)));
    let body = vec![b'x'; 500_000];
    let req = request("POST", "/echo", &[&format!("Content-Length: {}", body.len())], &body);
    let r = c.request(&req).expect("echo");
    assert_eq!(r.body.len(), body.len());
}

#[test]
fn certificate_problems_are_config_errors_naming_the_file() {
    let pki = Pki::new("Test CA");
    let good = pki.server("good.pem", &["localhost"]);
    let other = pki.server("other.pem", &["localhost"]);
    let dir = &pki.dir;
    let cert_only = dir.join("certonly.pem");
    let text = std::fs::read_to_string(&good.path).expect("read");
    let cert_part = &text[..text.find("-----BEGIN PRIVATE KEY").expect("key")];
    std::fs::write(&cert_only, cert_part).expect("write");
    let mismatch = dir.join("mismatch.pem");
    let other_key = std::fs::read_to_string(&other.path).expect("read");
    let key_part = &other_key[other_key.find("-----BEGIN PRIVATE KEY").expect("key")..];
    std::fs::write(&mismatch, format!("{cert_part}{key_part}")).expect("write");
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").expect("write");
    let missing = dir.join("missing.pem");
    let cases = [
        (
            missing.clone(),
            format!(
                "unable to stat SSL certificate from file '{}' : No such file or directory.",
                missing.display()
            ),
        ),
        (cert_only.clone(), format!("No Private Key found in '{}.key'.", cert_only.display())),
        (
            mismatch.clone(),
            format!("inconsistencies between private key and certificate loaded '{}'.", mismatch.display()),
        ),
        (garbage.clone(), format!("unable to load certificate from file '{}'.", garbage.display())),
    ];
    for (file, want) in cases {
        let cfg = tls_cfg(free_port(), 1, &file.display().to_string(), "", &[]);
        let (code, _, err) = Proxy::check(&cfg);
        assert_ne!(code, 0, "{file:?} accepted:\n{err}");
        let line =
            err.lines().find(|l| l.contains(&want)).unwrap_or_else(|| panic!("no '{want}' in:\n{err}"));
        assert!(line.contains("parsing [") && line.contains(":9] : 'bind 127.0.0.1:"), "{line}");
        assert!(line.contains("in section 'frontend' : "), "{line}");
    }
}

/// A plain-HTTP client on the TLS port gets no HTTP answer and is closed,
/// with HAProxy's connection error log; a good client at the same time is
/// served.
#[test]
fn plain_http_on_a_tls_port_is_refused_and_logged() {
    let pki = Pki::new("Test CA");
    let crt = pki.server("site.pem", &["localhost"]);
    let backend = HttpBackend::start();
    let port = free_port();
    let p = Proxy::start(&tls_cfg(port, backend.port(), &crt.path.display().to_string(), "", &[]));
    let client = TlsClient::new(ClientOpts::default());
    let mut good = client.connect(port).expect("handshake");
    let mut plain = connect(port);
    plain.write_all(&get("/")).expect("send");
    let (bytes, closed) = {
        let mut s = plain;
        let mut out = Vec::new();
        let _ = s.set_read_timeout(Some(ms(5000)));
        let r = s.read_to_end(&mut out);
        (out, r.is_ok())
    };
    assert!(closed, "the plain client was not closed");
    assert!(!String::from_utf8_lossy(&bytes).contains("HTTP/1."), "an HTTP answer on a TLS port: {bytes:?}");
    assert_eq!(good.get("/").expect("still served").status, 200);
    assert!(
        wait_until(ms(5000), || p.stdout_text().contains("fe/1: SSL handshake failure")),
        "no handshake failure log in:\n{}",
        p.stdout_text()
    );
    let line =
        p.stdout_text().lines().find(|l| l.contains("SSL handshake failure")).unwrap_or_default().to_string();
    assert!(line.starts_with("127.0.0.1:") && line.contains(" ["), "{line}");
}

/// Mid-handshake: a client that stops answering is closed at `timeout
/// client` with `Timeout during SSL handshake`; one that closes is logged
/// `Connection closed during SSL handshake`.
#[test]
fn stalled_and_abandoned_handshakes_are_closed_and_logged() {
    let pki = Pki::new("Test CA");
    let crt = pki.server("site.pem", &["localhost"]);
    let backend = HttpBackend::start();
    let port = free_port();
    let cfg = tls_cfg(port, backend.port(), &crt.path.display().to_string(), "", &[]).replace(
        &format!("timeout client {}", cfg_time(Duration::from_secs(5))),
        &format!("timeout client {}", cfg_time(Duration::from_millis(500))),
    );
    let p = Proxy::start(&cfg);
    let mut stalled = connect(port);
    let closed = expect_closed_within(&mut stalled, ms(5000));
    assert!(closed.after().is_some_and(|d| d >= ms(400)), "closed too early: {closed:?}");
    let abandoned = connect(port);
    drop(abandoned);
    assert!(
        wait_until(ms(5000), || p.stdout_text().contains("fe/1: Timeout during SSL handshake")),
        "{}",
        p.stdout_text()
    );
    assert!(
        wait_until(ms(5000), || p.stdout_text().contains("fe/1: Connection closed during SSL handshake")),
        "{}",
        p.stdout_text()
    );
    let mut c = TlsClient::new(ClientOpts::default()).connect(port).expect("handshake");
    assert_eq!(c.get("/").expect("served").status, 200);
}
