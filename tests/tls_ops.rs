//! What operators see of TLS: `show ssl cert` lists the loaded
//! certificates and details one as HAProxy 2.6 does; `show info` counts
//! TLS connections and handshakes with real values; `option httplog`
//! writes `%ft` with the `~` of a TLS frontend. Validated against HAProxy
//! 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::time::Duration;

use support::tls::{ClientOpts, Pki, TlsClient};
use support::*;

fn cfg(port: u16, stats: u16, backend: u16, crts: &str) -> String {
    format!(
        "global\n    stats socket ipv4@127.0.0.1:{stats} level admin\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client {}\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{port} ssl {crts}\n    log stdout format raw local0\n    option httplog\n\
         \x20   default_backend be\nbackend be\n    server s1 127.0.0.1:{backend}\n",
        cfg_time(Duration::from_secs(5))
    )
}

#[test]
fn show_ssl_cert_lists_and_details() {
    let pki = Pki::new("Ops CA");
    let a = pki.server("z-site.pem", &["www.example.com", "example.com"]);
    let b = pki.server("a-site.pem", &["api.example.com"]);
    let (port, stats) = (free_port(), free_port());
    let crts = format!("crt {} crt {}", a.path.display(), b.path.display());
    let _p = Proxy::start(&cfg(port, stats, 1, &crts));
    let list = cli(stats, "show ssl cert");
    assert_eq!(list, format!("# filename\n{}\n{}\n\n", b.path.display(), a.path.display()));
    let one = cli(stats, &format!("show ssl cert {}", a.path.display()));
    let lines: Vec<&str> = one.lines().collect();
    assert_eq!(lines[0], format!("Filename: {}", a.path.display()));
    assert_eq!(lines[1], "Status: Used");
    assert!(lines[2].starts_with("Serial: ") && lines[2].len() > 10, "{one}");
    assert!(lines[3].starts_with("notBefore: ") && lines[3].ends_with(" GMT"), "{one}");
    assert!(lines[4].starts_with("notAfter: ") && lines[4].ends_with(" GMT"), "{one}");
    assert_eq!(lines[5], "Subject Alternative Name: DNS:www.example.com, DNS:example.com");
    assert_eq!(lines[6], "Algorithm: EC256");
    assert!(lines[7].starts_with("SHA1 FingerPrint: ") && lines[7].len() == 18 + 40, "{one}");
    assert_eq!(lines[8], "Subject: /CN=www.example.com");
    assert!(lines[9].starts_with("Issuer: /") && lines[9].contains("CN=Ops CA"), "{one}");
    assert_eq!(
        cli(stats, "show ssl cert /no/such.pem"),
        "Can't display the certificate: Not found or the certificate is a bundle!\n\n"
    );
}

#[test]
fn show_info_counts_tls_and_httplog_marks_the_frontend() {
    let pki = Pki::new("Ops CA");
    let site = pki.server("site.pem", &["localhost"]);
    let backend = HttpBackend::start();
    let (port, stats) = (free_port(), free_port());
    let p = Proxy::start(&cfg(port, stats, backend.port(), &format!("crt {}", site.path.display())));
    let client = TlsClient::new(ClientOpts { sni: Some("localhost".into()), ..Default::default() });
    let mut held = client.connect(port).expect("handshake");
    assert_eq!(held.get("/").expect("response").status, 200);
    let second = client.connect(port).expect("resumed");
    assert!(second.resumed());
    let info = info(stats);
    let n = |k: &str| info.get(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(u64::MAX);
    assert_eq!(n("CurrSslConns"), 2, "{info:?}");
    assert_eq!(n("CumSslConns"), 2, "{info:?}");
    assert_eq!(n("SslFrontendMaxKeyRate"), 1, "one full handshake, one resumed: {info:?}");
    assert!(n("SslFrontendKeyRate") <= 1 && n("SslRate") <= 2, "{info:?}");
    drop(second);
    drop(held);
    assert!(wait_until(ms(5000), || info_u64(stats, "CurrSslConns") == 0));
    assert!(wait_until(ms(5000), || p.stdout_text().contains(" fe~ be/s1 ")), "{}", p.stdout_text());
}

/// `docs/examples/tls.cfg` is valid once its documented certificate exists
/// (made here with rcgen instead of openssl), and serves HTTPS.
#[test]
fn the_tls_example_configuration_runs() {
    let pki = Pki::new("Example CA");
    let site = pki.server("site.pem", &["localhost"]);
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/examples/tls.cfg"))
        .expect("example");
    assert!(text.contains("crt docs/examples/tls/site.pem"), "the documented path");
    let (https, http, app, stats) = (free_port(), free_port(), free_port(), free_port());
    let cfg = text
        .replace("docs/examples/tls/site.pem", &site.path.display().to_string())
        .replace("127.0.0.1:8443", &format!("127.0.0.1:{https}"))
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{http}"))
        .replace("127.0.0.1:8081", &format!("127.0.0.1:{app}"))
        .replace("127.0.0.1:9998", &format!("127.0.0.1:{stats}"));
    let (code, _, err) = Proxy::check(&cfg);
    assert_eq!(code, 0, "{err}");
    let _p = Proxy::start(&cfg);
    let mut c = TlsClient::new(ClientOpts::default()).connect(https).expect("handshake");
    let r = c.get("/").expect("response");
    assert_eq!((r.status, r.body.as_slice()), (200, &b"hello over TLS from strata"[..]));
    let r = HttpConn::connect(http).request(&get("/")).expect("plain");
    assert_eq!(r.status, 302);
}
