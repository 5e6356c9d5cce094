//! TCP-mode SNI routing without terminating TLS: `tcp-request
//! inspect-delay` holds the stream until the ClientHello is in,
//! `tcp-request content accept if { req.ssl_hello_type 1 }` lets it pass,
//! `use_backend ... if { req.ssl_sni -i NAME }` picks the backend, and the
//! client's TLS session goes through to that server untouched (the client
//! sees that server's certificate). A hello sent in pieces is waited for;
//! plain bytes fall back after the delay. Validated against HAProxy 2.6.

mod support;

use std::io::Write;
use std::time::Duration;

use support::tls::{ClientOpts, Pki, TlsBackend, TlsClient};
use support::*;

fn cfg(port: u16, a: u16, b: u16, delay: Duration) -> String {
    format!(
        "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    tcp-request inspect-delay {}\n\
         \x20   tcp-request content accept if {{ req.ssl_hello_type 1 }}\n\
         \x20   use_backend be_a if {{ req.ssl_sni -i a.example.com }}\n\
         \x20   use_backend be_alpn if {{ req.ssl_alpn acme-tls/1 }}\n    default_backend be_b\n\
         backend be_a\n    server a 127.0.0.1:{a}\nbackend be_b\n    server b 127.0.0.1:{b}\n\
         backend be_alpn\n    server a 127.0.0.1:{a}\n",
        cfg_time(delay)
    )
}

#[test]
fn tls_is_routed_by_sni_without_termination() {
    let pki = Pki::new("Test CA");
    let ca = pki.server("a.pem", &["a.example.com"]);
    let cb = pki.server("b.pem", &["b.example.com"]);
    let a = TlsBackend::start(&ca.path, None, &["acme-tls/1"]);
    let b = TlsBackend::start(&cb.path, None, &[]);
    let port = free_port();
    let _p = Proxy::start(&cfg(port, a.port(), b.port(), Duration::from_secs(5)));
    for (sni, want, backend_sni) in [
        ("a.example.com", &ca, "a.example.com"),
        ("A.Example.Com", &ca, "a.example.com"),
        ("b.example.com", &cb, "b.example.com"),
        ("other.example.com", &cb, "other.example.com"),
    ] {
        let client = TlsClient::new(ClientOpts { sni: Some(sni.into()), ..Default::default() });
        let mut c = client.connect(port).expect("handshake through the proxy");
        assert_eq!(c.peer_cert().as_ref(), Some(&want.der), "{sni}");
        let r = c.get("/").expect("response");
        assert_eq!(r.header("X-Sni").map(str::to_ascii_lowercase).as_deref(), Some(backend_sni));
    }
    assert_eq!((a.handshakes(), b.handshakes()), (2, 2));
    // ALPN from the ClientHello routes too.
    let client = TlsClient::new(ClientOpts {
        sni: Some("x.example.com".into()),
        alpn: vec!["acme-tls/1"],
        ..Default::default()
    });
    let c = client.connect(port).expect("handshake");
    assert_eq!(c.peer_cert().as_ref(), Some(&ca.der));
}

/// The ClientHello arrives in two parts 300 ms apart: the rules wait for
/// the whole of it, then route by its SNI.
#[test]
fn a_hello_in_pieces_is_waited_for() {
    let pki = Pki::new("Test CA");
    let ca = pki.server("a.pem", &["a.example.com"]);
    let cb = pki.server("b.pem", &["b.example.com"]);
    let a = TlsBackend::start(&ca.path, None, &[]);
    let b = TlsBackend::start(&cb.path, None, &[]);
    let port = free_port();
    let _p = Proxy::start(&cfg(port, a.port(), b.port(), Duration::from_secs(5)));
    // A rustls client writing through a socket we control: capture its
    // hello, then send it in two parts.
    let config = TlsClient::new(ClientOpts { sni: Some("a.example.com".into()), ..Default::default() });
    let mut conn = config.raw_connection().expect("client");
    let mut hello = Vec::new();
    conn.write_tls(&mut hello).expect("hello");
    let mut s = connect(port);
    s.write_all(&hello[..10]).expect("first part");
    std::thread::sleep(ms(300));
    s.write_all(&hello[10..]).expect("rest");
    let mut tls = rustls::StreamOwned::new(conn, s);
    tls.write_all(&get("/")).expect("request");
    let r = support::tls::read_response(&mut tls).expect("response");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("X-Sni"), Some("a.example.com"));
    assert_eq!((a.handshakes(), b.handshakes()), (1, 0));
}

/// Bytes that are not TLS: that is final at once (no hello can follow),
/// so the accept rule does not match and the stream goes to the default
/// backend without waiting for the delay; a client that sends nothing
/// is held until the delay ends, then goes there too.
#[test]
fn plain_bytes_wait_the_delay_then_take_the_default() {
    let echo = Backend::echo();
    let port = free_port();
    let _p = Proxy::start(&cfg(port, 1, echo.port(), Duration::from_millis(400)));
    let mut s = connect(port);
    let started = std::time::Instant::now();
    let got = round_trip(&mut s, b"hello plain\n", ms(5000)).expect("echo");
    assert_eq!(got, b"hello plain\n");
    assert!(started.elapsed() < ms(300), "waited {:?} for bytes that cannot become TLS", started.elapsed());
    let mut quiet = connect(port);
    let started = std::time::Instant::now();
    assert!(wait_until(ms(3000), || echo.accepted() >= 2), "never forwarded after the delay");
    assert!(started.elapsed() >= ms(350), "forwarded before the delay: {:?}", started.elapsed());
    assert_eq!(round_trip(&mut quiet, b"late\n", ms(5000)).expect("echo"), b"late\n");
}
