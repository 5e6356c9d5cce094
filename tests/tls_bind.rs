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

fn fetch_cfg(port: u16, backend: u16, bind_opts: &str) -> String {
    format!(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{port} {bind_opts}\n\
         \x20   http-request set-header X-Ssl %[ssl_fc]\n\
         \x20   http-request set-header X-Sni %[ssl_fc_sni]\n\
         \x20   http-request set-header X-Alpn %[ssl_fc_alpn]\n\
         \x20   http-request set-header X-Proto %[ssl_fc_protocol]\n\
         \x20   http-request set-header X-Cipher %[ssl_fc_cipher]\n\
         \x20   http-request set-header X-Has-Crt %[ssl_fc_has_crt]\n\
         \x20   http-request set-header X-Verify %[ssl_c_verify]\n\
         \x20   http-request set-header X-S-Dn %[ssl_c_s_dn]\n\
         \x20   http-request set-header X-I-Dn-Cn %[ssl_c_i_dn(CN)]\n\
         \x20   http-request set-header X-Resumed %[ssl_fc_is_resumed]\n\
         \x20   http-request set-header X-Serial %[ssl_c_serial,hex]\n\
         \x20   http-request set-header X-Sha1 %[ssl_c_sha1,hex]\n\
         \x20   default_backend be\nbackend be\n    server s1 127.0.0.1:{backend}\n"
    )
}

/// Three certificates in a directory and a wildcard: each name gets its
/// own, a name matching none (and no SNI) gets the first of the
/// directory; the fetches say what was negotiated.
#[test]
fn sni_chooses_among_certificates_and_fetches_tell() {
    let pki = Pki::new("Test CA");
    let a = pki.server("certs/a.pem", &["a.example.com"]);
    let b = pki.server("certs/b.pem", &["b.example.com", "alt.example.org"]);
    let w = pki.server("certs/c-wild.pem", &["*.wild.example.com"]);
    let backend = HttpBackend::start();
    let port = free_port();
    let dir = pki.dir.join("certs");
    let _p = Proxy::start(&fetch_cfg(
        port,
        backend.port(),
        &format!("ssl crt {} alpn acme-tls/1,http/1.1", dir.display()),
    ));
    let cases: [(Option<&str>, &support::tls::Issued); 6] = [
        (Some("a.example.com"), &a),
        (Some("b.example.com"), &b),
        (Some("alt.example.org"), &b),
        (Some("x.wild.example.com"), &w),
        (Some("unknown.example.net"), &a),
        (None, &a),
    ];
    for (sni, want) in cases {
        let client = TlsClient::new(ClientOpts {
            sni: sni.map(Into::into),
            alpn: vec!["http/1.1"],
            ..Default::default()
        });
        let mut c = client.connect(port).expect("handshake");
        assert_eq!(c.peer_cert().as_ref(), Some(&want.der), "SNI {sni:?}");
        assert_eq!(c.alpn().as_deref(), Some("http/1.1"));
        assert_eq!(c.get("/").expect("response").status, 200);
    }
    let seen = backend.requests();
    assert_eq!(seen.len(), 6);
    let r = &seen[0];
    assert_eq!(r.header("X-Ssl"), Some("1"));
    assert_eq!(r.header("X-Sni"), Some("a.example.com"));
    assert_eq!(r.header("X-Alpn"), Some("http/1.1"));
    assert_eq!(r.header("X-Proto"), Some("TLSv1.3"));
    assert_eq!(r.header("X-Cipher"), Some("TLS_AES_256_GCM_SHA384"));
    assert_eq!(r.header("X-Has-Crt"), Some("0"));
    assert_eq!(r.header("X-Resumed"), Some("0"));
    assert_eq!(seen[5].header("X-Sni"), Some(""), "no SNI: an empty value");
    // The server's order of preference wins among the protocols both offer.
    let acme = TlsClient::new(ClientOpts { alpn: vec!["http/1.1", "acme-tls/1"], ..Default::default() });
    assert_eq!(acme.connect(port).expect("handshake").alpn().as_deref(), Some("acme-tls/1"));
}

/// `alpn h2,http/1.1` on an HTTP frontend: a browser-like client offering
/// both gets h2 and its request is served over HTTP/2 (logged as
/// HTTP/2.0); one offering only http/1.1 still gets HTTP/1.1.
#[test]
fn alpn_h2_serves_http2_over_tls() {
    let pki = Pki::new("Test CA");
    let site = pki.server("site.pem", &["localhost"]);
    let backend = HttpBackend::start();
    let port = free_port();
    let cfg = tls_cfg(port, backend.port(), &site.path.display().to_string(), "alpn h2,http/1.1", &[]);
    let p = Proxy::start(&cfg);
    let client = TlsClient::new(ClientOpts { alpn: vec!["h2", "http/1.1"], ..Default::default() });
    let mut c = client.connect(port).expect("handshake");
    assert_eq!(c.alpn().as_deref(), Some("h2"));
    // Preface, empty SETTINGS, then GET / on stream 1 (static-table
    // fields and a literal :authority).
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    out.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    let block = [&[0x82u8, 0x87, 0x84, 0x01, 9][..], b"localhost"].concat();
    out.extend_from_slice(&[0, 0, block.len() as u8, 1, 0x05, 0, 0, 0, 1]);
    out.extend_from_slice(&block);
    c.s.write_all(&out).expect("send");
    c.s.sock.set_read_timeout(Some(ms(5000))).ok();
    let mut rx = Vec::new();
    let status = loop {
        let mut buf = [0u8; 16384];
        let n = c.s.read(&mut buf).expect("frames");
        assert!(n > 0, "closed before the response");
        rx.extend_from_slice(&buf[..n]);
        let mut pos = 0;
        let mut found = None;
        while rx.len() >= pos + 9 {
            let len = u32::from_be_bytes([0, rx[pos], rx[pos + 1], rx[pos + 2]]) as usize;
            if rx.len() < pos + 9 + len {
                break;
            }
            if rx[pos + 3] == 1 && rx[pos + 8] == 1 {
                let mut dec = strata::l7_http::h2::hpack::Decoder::new(4096);
                let mut st = String::new();
                dec.decode(&rx[pos + 9..pos + 9 + len], 65536, |n, v| {
                    if n == b":status" {
                        st = String::from_utf8_lossy(v).into_owned();
                    }
                })
                .expect("valid HPACK");
                found = Some(st);
            }
            pos += 9 + len;
        }
        if let Some(st) = found {
            break st;
        }
    };
    assert_eq!(status, "200");
    assert!(
        wait_until(ms(5000), || p.stdout_text().contains("\"GET https://localhost/ HTTP/2.0\"")),
        "{}",
        p.stdout_text()
    );
    let old = TlsClient::new(ClientOpts { alpn: vec!["http/1.1"], ..Default::default() });
    let mut c = old.connect(port).expect("handshake");
    assert_eq!(c.alpn().as_deref(), Some("http/1.1"));
    assert_eq!(c.get("/").expect("served").status, 200);
}

/// crt-list lines carry their own options and SNI filters.
#[test]
fn crt_list_lines_have_their_options_and_filters() {
    let pki = Pki::new("Test CA");
    let a = pki.server("a.pem", &["a.example.com"]);
    let b = pki.server("b.pem", &["b.example.com"]);
    let list = pki.dir.join("list.txt");
    std::fs::write(
        &list,
        format!(
            "# default first\n{}\n{} [alpn acme-tls/1 ssl-min-ver TLSv1.3] b.example.com *.b.example.org !no.b.example.org\n",
            a.path.display(),
            b.path.display()
        ),
    )
    .expect("write list");
    let backend = HttpBackend::start();
    let port = free_port();
    let _p = Proxy::start(&fetch_cfg(
        port,
        backend.port(),
        &format!("ssl crt-list {} alpn http/1.1", list.display()),
    ));
    let conn = |sni: &str, version: Option<u16>| {
        TlsClient::new(ClientOpts {
            sni: Some(sni.into()),
            alpn: vec!["acme-tls/1", "http/1.1"],
            version,
            ..Default::default()
        })
        .connect(port)
    };
    let c = conn("b.example.com", None).expect("b");
    assert_eq!(c.peer_cert().as_ref(), Some(&b.der));
    assert_eq!(c.alpn().as_deref(), Some("acme-tls/1"), "the line's alpn");
    let c = conn("x.b.example.org", None).expect("wildcard filter");
    assert_eq!(c.peer_cert().as_ref(), Some(&b.der));
    let c = conn("no.b.example.org", None).expect("excluded");
    assert_eq!(c.peer_cert().as_ref(), Some(&a.der), "a negative filter excludes");
    let c = conn("a.example.com", None).expect("a");
    assert_eq!(c.alpn().as_deref(), Some("http/1.1"), "the bind's alpn");
    assert!(conn("b.example.com", Some(12)).is_err(), "ssl-min-ver TLSv1.3 of the line refuses TLSv1.2");
    assert!(conn("a.example.com", Some(12)).is_ok());
}

/// `verify required` refuses a client without a certificate and one from
/// another CA (logged `SSL client certificate not trusted`); `optional`
/// lets a client without one in; the subject reaches the fetches.
#[test]
fn client_certificates_per_verify() {
    let pki = Pki::new("Client CA");
    let site = pki.server("site.pem", &["localhost"]);
    let good = pki.client("good-client.pem", "alice");
    let other_ca = Pki::new("Other CA");
    let bad = other_ca.client("bad-client.pem", "mallory");
    let backend = HttpBackend::start();
    for verify in ["required", "optional"] {
        let port = free_port();
        let opts =
            format!("ssl crt {} ca-file {} verify {verify}", site.path.display(), pki.ca_file().display());
        let cfg = fetch_cfg(port, backend.port(), &opts)
            .replace("frontend fe\n", "frontend fe\n    log stdout format raw local0\n    option httplog\n");
        let p = Proxy::start(&cfg);
        let with = |cert: Option<&std::path::Path>| {
            TlsClient::new(ClientOpts { cert: cert.map(|c| c.to_path_buf()), ..Default::default() })
                .connect(port)
                .and_then(|mut c| c.get("/"))
        };
        let r = with(Some(&good.path)).expect("a good client certificate");
        assert_eq!(r.status, 200);
        let last = backend.requests().pop().expect("request");
        assert_eq!(last.header("X-Has-Crt"), Some("1"));
        assert_eq!(last.header("X-Verify"), Some("0"));
        // OpenSSL's one-line form, attributes in the certificate's order.
        let dn = last.header("X-S-Dn").unwrap_or_default();
        let mut parts: Vec<&str> = dn.split('/').skip(1).collect();
        parts.sort_unstable();
        assert!(dn.starts_with('/') && parts == ["C=FR", "CN=alice", "O=Acme"], "{dn}");
        assert_eq!(last.header("X-I-Dn-Cn"), Some("Client CA"));
        assert_eq!(last.header("X-Serial"), Some("01020304"));
        let sha1: String = {
            use sha1::Digest;
            sha1::Sha1::digest(good.der.as_ref()).iter().map(|b| format!("{b:02X}")).collect()
        };
        assert_eq!(last.header("X-Sha1"), Some(sha1.as_str()));
        assert!(with(Some(&bad.path)).is_err(), "verify {verify}: a certificate from another CA");
        assert!(
            wait_until(ms(5000), || p.stdout_text().contains("fe/1: SSL client certificate not trusted")),
            "{}",
            p.stdout_text()
        );
        let without = with(None);
        match verify {
            "required" => assert!(without.is_err(), "required: no certificate is refused"),
            _ => assert_eq!(without.expect("optional: no certificate is fine").status, 200),
        }
    }
}

/// A second connection with the client's saved session resumes it, by
/// ticket and (with `no-tls-tickets`) from the session cache.
#[test]
fn sessions_resume() {
    let pki = Pki::new("Test CA");
    let site = pki.server("site.pem", &["localhost"]);
    let backend = HttpBackend::start();
    for (opts, version) in [("", 13), ("", 12), ("no-tls-tickets", 12), ("no-tls-tickets", 13)] {
        let port = free_port();
        let bind = format!("ssl crt {} {opts}", site.path.display());
        let _p = Proxy::start(&fetch_cfg(port, backend.port(), &bind));
        let client = TlsClient::new(ClientOpts {
            sni: Some("localhost".into()),
            version: Some(version),
            ..Default::default()
        });
        let mut first = client.connect(port).expect("first");
        assert!(!first.resumed());
        assert_eq!(first.get("/").expect("response").status, 200); // TLSv1.3 tickets arrive with data
        drop(first);
        let mut second = client.connect(port).expect("second");
        assert!(second.resumed(), "'{opts}' TLSv1.{}: not resumed", version - 10);
        assert_eq!(second.get("/").expect("response").status, 200);
        assert_eq!(
            backend.requests().pop().and_then(|r| r.header("X-Resumed").map(String::from)).as_deref(),
            Some("1")
        );
    }
}

/// `http-request redirect scheme https unless { ssl_fc }` on a frontend
/// with a plain and a TLS bind.
#[test]
fn redirect_to_https_unless_tls() {
    let pki = Pki::new("Test CA");
    let site = pki.server("site.pem", &["localhost"]);
    let backend = HttpBackend::start();
    let (plain, tls) = (free_port(), free_port());
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{plain}\n    bind 127.0.0.1:{tls} ssl crt {}\n\
         \x20   http-request redirect scheme https unless {{ ssl_fc }}\n    default_backend be\n\
         backend be\n    server s1 127.0.0.1:{}\n",
        site.path.display(),
        backend.port()
    );
    let _p = Proxy::start(&cfg);
    let r = HttpConn::connect(plain).request(&get("/page?x=1")).expect("plain");
    assert_eq!(r.status, 302);
    assert_eq!(r.header("Location"), Some("https://test/page?x=1"));
    let mut c = TlsClient::new(ClientOpts::default()).connect(tls).expect("handshake");
    assert_eq!(c.get("/").expect("tls").status, 200);
    assert_eq!(backend.requests().len(), 1);
}

/// `strict-sni`: a ClientHello naming no certificate (or none at all)
/// fails the handshake (logged), one naming a certificate is served.
#[test]
fn strict_sni_refuses_unknown_names() {
    let pki = Pki::new("Test CA");
    let site = pki.server("site.pem", &["www.example.com"]);
    let backend = HttpBackend::start();
    let port = free_port();
    let p = Proxy::start(&tls_cfg(port, backend.port(), &site.path.display().to_string(), "strict-sni", &[]));
    let with = |sni: Option<&str>| {
        TlsClient::new(ClientOpts { sni: sni.map(Into::into), ..Default::default() }).connect(port)
    };
    assert!(with(Some("other.example.com")).is_err(), "unknown SNI accepted");
    assert!(with(None).is_err(), "no SNI accepted");
    let mut c = with(Some("www.example.com")).expect("known SNI");
    assert_eq!(c.get("/").expect("served").status, 200);
    assert!(
        wait_until(ms(5000), || p.stdout_text().contains("fe/1: SSL handshake failure")),
        "{}",
        p.stdout_text()
    );
}

/// A record cut short, then the client's FIN: the connection is closed
/// (no request was complete) and logged as a client abort; the next
/// client is served.
#[test]
fn a_truncated_record_closes_the_connection() {
    let pki = Pki::new("Test CA");
    let site = pki.server("site.pem", &["localhost"]);
    let backend = HttpBackend::start();
    let port = free_port();
    let p = Proxy::start(&tls_cfg(port, backend.port(), &site.path.display().to_string(), "", &[]));
    let mut c = TlsClient::new(ClientOpts::default()).connect(port).expect("handshake");
    // An application-data record header announcing 64 bytes, and 10 of them.
    let mut bytes = vec![0x17, 0x03, 0x03, 0x00, 0x40];
    bytes.extend_from_slice(&[0x42; 10]);
    c.s.sock.write_all(&bytes).expect("partial record");
    c.s.sock.shutdown(std::net::Shutdown::Write).expect("fin");
    let mut sock = c.s.sock;
    // The session tickets sent after the handshake and the alert come
    // first (TLS 1.3 encrypts both as application data); then the close.
    let mut closed = expect_closed_within(&mut sock, ms(5000));
    for _ in 0..8 {
        if !matches!(closed, Closed::Data(_)) {
            break;
        }
        closed = expect_closed_within(&mut sock, ms(5000));
    }
    assert!(closed.after().is_some(), "not closed: {closed:?}");
    assert!(wait_until(ms(5000), || p.stdout_text().contains(" CR-- ")), "{}", p.stdout_text());
    let mut next = TlsClient::new(ClientOpts::default()).connect(port).expect("handshake");
    assert_eq!(next.get("/").expect("served").status, 200);
    assert_eq!(backend.requests().len(), 1);
}

/// A `ciphers` list naming suites rustls lacks (the DHE ones) keeps the
/// others, as OpenSSL keeps a list with at least one usable suite without
/// a word: `zero-warning` still starts, strata says which names it dropped
/// with a `[NOTICE]` (not a warning), and a TLSv1.2 client is served with
/// what is left. A list with nothing usable is refused (strata only:
/// OpenSSL has the DHE suites).
#[test]
fn a_cipher_list_keeps_what_rustls_has() {
    let pki = Pki::new("Test CA");
    let crt = pki.server("site.pem", &["www.example.com"]);
    let backend = HttpBackend::start();
    let port = free_port();
    let with_ciphers = |list: &str| {
        let cfg = tls_cfg(port, backend.port(), &crt.path.display().to_string(), "", &[]);
        cfg.replacen(
            "global\n",
            &format!("global\n    zero-warning\n    ssl-default-bind-ciphers {list}\n"),
            1,
        )
    };
    let cfg =
        with_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384");
    let (code, _, err) = Proxy::check(&cfg);
    assert_eq!(code, 0, "a list with a usable suite loads under zero-warning:\n{err}");
    assert!(!err.contains("[WARNING]"), "{err}");
    if !under_haproxy() {
        let notice =
            err.lines().find(|l| l.starts_with("[NOTICE]")).unwrap_or_else(|| panic!("no notice:\n{err}"));
        assert!(
            notice.contains("'ciphers' DHE-RSA-AES128-GCM-SHA256, DHE-RSA-AES256-GCM-SHA384 not available"),
            "{notice}"
        );
    }
    let _p = Proxy::start(&cfg);
    let client = TlsClient::new(ClientOpts {
        sni: Some("www.example.com".into()),
        version: Some(12),
        ca: Some(pki.ca_der()),
        ..Default::default()
    });
    let mut c = client.connect(port).expect("TLSv1.2 handshake with the suite left");
    assert_eq!(c.get("/size/10").expect("response").status, 200);
    if !under_haproxy() {
        let (code, _, err) = Proxy::check(&with_ciphers("DHE-RSA-AES128-GCM-SHA256"));
        assert_ne!(code, 0, "nothing usable: refused");
        assert!(err.contains("[ALERT]") && err.contains("no cipher of 'DHE-RSA-AES128-GCM-SHA256'"), "{err}");
    }
}

/// The lengths of the TLS records in `wire` whose type is application
/// data (23): under TLSv1.3 every record after the ServerHello is one.
fn app_data_records(wire: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 5 <= wire.len() {
        let len = usize::from(u16::from_be_bytes([wire[at + 3], wire[at + 4]]));
        if wire[at] == 23 {
            out.push(len);
        }
        at += 5 + len;
    }
    out
}

/// Fetches `path` over TLSv1.3 with a client that keeps every byte the
/// proxy sent: (the response body, those bytes).
fn fetch_keeping_the_wire(port: u16, path: &str) -> (Vec<u8>, Vec<u8>) {
    let client = TlsClient::new(ClientOpts { version: Some(13), ..Default::default() });
    let mut conn = client.raw_connection().expect("client connection");
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    tcp.set_read_timeout(Some(ms(10_000))).expect("timeout");
    let mut wire = Vec::new();
    let mut body = Vec::new();
    let mut sent = false;
    let mut buf = [0u8; 65536];
    loop {
        while conn.wants_write() {
            conn.write_tls(&mut tcp).expect("write");
        }
        if !conn.is_handshaking() && !sent {
            conn.writer()
                .write_all(
                    format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes(),
                )
                .expect("request");
            sent = true;
            continue;
        }
        let n = tcp.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        wire.extend_from_slice(&buf[..n]);
        let mut slice = &buf[..n];
        while !slice.is_empty() {
            conn.read_tls(&mut slice).expect("read_tls");
            conn.process_new_packets().expect("records");
            // Drained after each batch of records: rustls refuses more
            // ciphertext once its plaintext buffer is full.
            let _ = conn.reader().read_to_end(&mut body);
        }
    }
    let head_end = body.windows(4).position(|w| w == b"\r\n\r\n").map_or(0, |p| p + 4);
    (body[head_end..].to_vec(), wire)
}

/// `tune.ssl.maxrecord` (and `hard-maxrecord`): no TLS record carries more
/// than that many plaintext bytes, so a 20 kB response leaves in records of
/// 1,400 bytes instead of 16 kB ones; without it the records are large.
#[test]
fn tune_ssl_maxrecord_caps_the_records() {
    let pki = Pki::new("Test CA");
    let crt = pki.server("site.pem", &["localhost"]);
    let backend = HttpBackend::start();
    let run = |global: &str| {
        let port = free_port();
        let cfg = tls_cfg(port, backend.port(), &crt.path.display().to_string(), "", &[]).replacen(
            "global\n",
            &format!("global\n    {global}\n"),
            1,
        );
        let _p = Proxy::start(&cfg);
        let (body, wire) = fetch_keeping_the_wire(port, "/size/20000");
        assert_eq!(body.len(), 20_000, "the whole body");
        app_data_records(&wire)
    };
    // TLSv1.3 adds its content type byte and a 16-byte AEAD tag to each record.
    const TLS13_OVERHEAD: usize = 17;
    for line in ["tune.ssl.maxrecord 1400", "tune.ssl.hard-maxrecord 1400"] {
        let records = run(line);
        let largest = records.iter().copied().max().unwrap_or(0);
        assert!(largest <= 1400 + TLS13_OVERHEAD, "{line}: a record of {largest} bytes: {records:?}");
        let full = records.iter().filter(|&&l| l >= 1000).count();
        assert!(full >= 14, "{line}: 20 kB in records of 1,400 bytes: {records:?}");
    }
    let records = run("maxconn 1000");
    assert!(records.iter().any(|&l| l > 8000), "without the knob records are large: {records:?}");
}
