//! A `mode tcp` frontend whose connections go on as HTTP, as HAProxy 2.6
//! does it (reg-tests/connection/tcp_to_http_upgrade.vtc): `tcp-request
//! content switch-mode http [proto h1|h2]`, or a stream routed to a `mode
//! http` backend. The first request continues the TCP stream (its
//! variables, set by the TCP content rules, are seen by the HTTP rules);
//! later requests are new HTTP streams; HTTP/2 by prior knowledge works
//! after the switch; `proto h1` refuses an HTTP/2 preface with a 400; a
//! `bind ... proto none` is never upgraded (the connection closes).
//! Validated against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::time::Duration;

use support::*;

struct Setup {
    backend: HttpBackend,
    ports: [u16; 5], // fe1 (switch-mode), fe2 (HTTP backend), li1 (h2 to fe1), err2 (proto h1), err3 (proto none)
    _proxy: Proxy,
}

fn setup() -> Setup {
    let backend = HttpBackend::start();
    let ports = [free_port(), free_port(), free_port(), free_port(), free_port()];
    let t = cfg_time(Duration::from_secs(5));
    let delay = cfg_time(Duration::from_secs(1));
    let cfg = format!(
        "defaults\n    timeout connect {t}\n    timeout client {t}\n    timeout server {t}\n\
         frontend fe1\n    mode tcp\n    bind 127.0.0.1:{p0}\n    tcp-request inspect-delay {delay}\n\
         \x20   tcp-request content set-var(req.stream_mode) internal.strm.is_htx,iif(http,tcp)\n\
         \x20   tcp-request content switch-mode http if HTTP\n    tcp-request content reject\n\
         \x20   http-request set-header x-stream-mode %[var(req.stream_mode)]\n\
         \x20   http-request set-header x-name %[fe_name]\n    default_backend be\n\
         frontend fe2\n    mode tcp\n    bind 127.0.0.1:{p1}\n    default_backend be\n\
         backend be\n    mode http\n\
         \x20   http-request set-header x-name %[be_name] unless {{ req.fhdr(x-name) -m found }}\n\
         \x20   server s1 127.0.0.1:{srv}\n\
         listen li1\n    mode http\n    bind 127.0.0.1:{p2}\n    server s1 127.0.0.1:{p0} proto h2\n\
         listen err2\n    mode tcp\n    bind 127.0.0.1:{p3}\n    tcp-request inspect-delay {delay}\n\
         \x20   tcp-request content switch-mode http proto h1 if HTTP\n    tcp-request content reject\n\
         \x20   default_backend be\n\
         listen err3\n    mode tcp\n    bind 127.0.0.1:{p4} proto none\n    tcp-request inspect-delay {delay}\n\
         \x20   tcp-request content switch-mode http if HTTP\n    tcp-request content reject\n\
         \x20   default_backend be\n",
        p0 = ports[0],
        p1 = ports[1],
        p2 = ports[2],
        p3 = ports[3],
        p4 = ports[4],
        srv = backend.port(),
    );
    Setup { backend, ports, _proxy: Proxy::start(&cfg) }
}

impl Setup {
    /// Two requests on one connection to `port`; the two the server got.
    fn two_requests(&self, port: u16) -> Vec<Received> {
        let before = self.backend.requests().len();
        let mut c = HttpConn::connect(port);
        for path in ["/", "/?second"] {
            let r = c.request(&get(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert_eq!(r.status, 200, "{path}: {}", r.raw_text());
        }
        self.backend.requests().into_iter().skip(before).collect()
    }
}

#[test]
fn switch_mode_http_continues_the_tcp_stream_then_serves_new_http_streams() {
    let s = setup();
    let got = s.two_requests(s.ports[0]);
    let seen: Vec<_> = got.iter().map(|r| (r.header("x-stream-mode"), r.header("x-name"))).collect();
    assert_eq!(
        seen,
        [(Some("tcp"), Some("fe1")), (Some("http"), Some("fe1"))],
        "the first request carries what the TCP rules set; the second is an HTTP stream from the start"
    );
}

#[test]
fn a_tcp_frontend_on_an_http_backend_goes_on_as_http() {
    let s = setup();
    let got = s.two_requests(s.ports[1]);
    let names: Vec<_> = got.iter().map(|r| r.header("x-name")).collect();
    assert_eq!(names, [Some("be"), Some("be")], "the backend's HTTP rules ran on both requests");
}

#[test]
fn http2_after_the_switch_and_the_refusals() {
    let s = setup();
    // li1 speaks HTTP/2 to fe1: its streams are HTTP ones from the start.
    let got = s.two_requests(s.ports[2]);
    let modes: Vec<_> = got.iter().map(|r| r.header("x-stream-mode")).collect();
    assert_eq!(modes, [Some("http"), Some("http")]);
    // `switch-mode http proto h1`: an HTTP/2 preface is a bad HTTP/1 request.
    let mut c = HttpConn::connect(s.ports[3]);
    c.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").expect("send");
    let r = c.read_response(false).expect("an answer");
    assert_eq!(r.status, 400, "{}", r.raw_text());
    // `proto none`: never upgraded, closed without an answer.
    let before = s.backend.requests().len();
    let mut c = HttpConn::connect(s.ports[4]);
    c.send(&get("/")).expect("send");
    let (bytes, _) = c.read_until_closed(scaled(Duration::from_secs(5)));
    assert!(bytes.is_empty(), "nothing sent back: {:?}", String::from_utf8_lossy(&bytes));
    assert_eq!(s.backend.requests().len(), before, "nothing reached the server");
}
