//! HTTP/2 from clients to HTTP/1.1 servers: prior knowledge (`bind ...
//! proto h2`) and the switch on the connection preface on a plain HTTP
//! bind (as HAProxy 2.6 does), requests and responses with and without
//! bodies (content-length, chunked both ways, HEAD), many streams on one
//! connection, built-in answers as HTTP/2 responses, malformed requests
//! reset without harming the connection, the httplog line in `HTTP/2.0`.
//! Every assertion holds for HAProxy 2.6 too (`STRATA_BIN=haproxy`) except
//! where `under_haproxy()` says why.

mod support;

use std::time::Duration;
use support::h2_client::*;
use support::*;

const LIMIT: Duration = Duration::from_secs(10);

/// A proxy with a plain bind on `port` and a `proto h2` bind on `h2port`.
fn setup_with(extra: &[&str]) -> (HttpBackend, Proxy, u16, u16) {
    let backend = HttpBackend::start();
    let (port, h2port) = (free_port(), free_port());
    let mut cfg = HttpCfg::new(port, Some(backend.port())).httplog();
    let bind = format!("bind 127.0.0.1:{h2port} proto h2");
    cfg = cfg.frontend(&bind);
    for l in extra {
        cfg = cfg.frontend(l);
    }
    let proxy = Proxy::start(&cfg.render());
    (backend, proxy, port, h2port)
}

fn setup() -> (HttpBackend, Proxy, u16, u16) {
    setup_with(&[])
}

#[test]
fn prior_knowledge_get_reaches_the_server_as_http11_and_logs_http2() {
    let (backend, proxy, _, h2port) = setup();
    let mut c = H2Conn::connect(h2port);
    let id = c.get("/size/1000?x=1");
    let (res, end) = c.run(&[id], LIMIT);
    assert!(end.is_none(), "{end:?}");
    let r = &res[&id];
    assert_eq!(r.status, Some(200));
    assert!(r.body == pattern(BODY_SEED, 1000), "body of {} bytes differs", r.body.len());
    assert_eq!(r.field("content-length"), Some("1000"));
    assert!(r.fields.iter().all(|(n, _)| n != "connection" && n != "keep-alive"), "{:?}", r.fields);
    let got = backend.wait_requests(1, ms(5000)).expect("the request reached the server");
    assert_eq!(
        (got[0].method.as_str(), got[0].target.as_str(), got[0].version.as_str()),
        ("GET", "/size/1000?x=1", "HTTP/1.1")
    );
    assert!(
        got[0].headers.iter().any(|(n, v)| n.eq_ignore_ascii_case("host") && v == "localhost"),
        "{:?}",
        got[0].headers
    );
    assert!(wait_until(ms(5000), || proxy.stdout_text().contains("HTTP/2.0")), "an httplog line");
    let out = proxy.stdout_text();
    let line = out.lines().find(|l| l.contains("HTTP/2.0")).unwrap_or_default();
    assert!(line.contains("\"GET http://localhost/size/1000?x=1 HTTP/2.0\""), "{line}");
    assert!(line.contains(" 200 "), "{line}");
}

#[test]
fn the_preface_on_a_plain_bind_switches_to_http2() {
    let (_backend, _proxy, port, _) = setup();
    let mut c = H2Conn::connect(port);
    let ids: Vec<u32> = (0..3).map(|_| c.get("/")).collect();
    let (res, end) = c.run(&ids, LIMIT);
    assert!(end.is_none(), "{end:?}");
    for id in ids {
        assert_eq!((res[&id].status, res[&id].body.as_slice()), (Some(200), &b"hello"[..]));
    }
    // The same bind still serves HTTP/1.1.
    let mut h1 = HttpConn::connect(port);
    assert_eq!(h1.request(&get("/")).expect("HTTP/1.1 still served").status, 200);
}

#[test]
fn request_bodies_with_and_without_content_length() {
    let (backend, _proxy, _, h2port) = setup();
    let mut c = H2Conn::connect(h2port);
    let body = pattern(7, 100_000);
    let a = c.request("POST", "/echo", &[("content-length", "100000")], false);
    c.data(a, &body, true);
    let b = c.request("POST", "/echo", &[], false);
    c.data(b, &body[..50_000], false);
    c.data(b, &body[50_000..], true);
    let (res, end) = c.run(&[a, b], LIMIT);
    assert!(end.is_none(), "{end:?}");
    eprintln!(
        "A {:?} {:?} {} B {:?} {:?} {}",
        res[&a].reset,
        res[&a].ended,
        res[&a].body.len(),
        res[&b].reset,
        res[&b].ended,
        res[&b].body.len()
    );
    assert_eq!((res[&a].body.len(), res[&b].body.len()), (body.len(), body.len()));
    assert!(res[&a].body == body && res[&b].body == body, "both bodies echoed byte for byte");
    let got = backend.wait_requests(2, ms(5000)).expect("both reached the server");
    let by_chunked: Vec<bool> = got.iter().map(|r| r.chunked).collect();
    assert!(by_chunked.contains(&true) && by_chunked.contains(&false), "one with a length, one chunked");
}

/// A body ended by an empty DATA frame with END_STREAM, the last bytes
/// the client sends: the request ends with that frame (its header was the
/// last thing read, with no payload to wait for).
#[test]
fn an_empty_data_frame_with_end_stream_ends_the_request_at_once() {
    let (backend, _proxy, _, h2port) = setup();
    let mut c = H2Conn::connect(h2port);
    let id = c.request("POST", "/echo", &[], false);
    c.data(id, b"hello", false);
    c.data(id, b"", true);
    let (res, end) = c.run(&[id], LIMIT);
    assert!(end.is_none(), "{end:?}");
    assert_eq!((res[&id].status, res[&id].body.as_slice()), (Some(200), &b"hello"[..]));
    let got = backend.wait_requests(1, ms(5000)).expect("the request reached the server");
    assert_eq!(got[0].body, b"hello");
}

/// A client that sends its requests and closes its side at once (FIN
/// right behind the HEADERS, as VTest's clients do): the complete
/// requests are still served, and a half-closed client reads the answer;
/// a request whose body never came ends without reaching the server.
#[test]
fn requests_sent_before_the_clients_close_are_served() {
    let (backend, _proxy, _, h2port) = setup();
    let mut c = H2Conn::connect(h2port);
    let a = c.get("/size/100");
    let b = c.request("POST", "/echo", &[("content-length", "10")], false);
    c.data(b, b"12345", false);
    c.sock.shutdown(std::net::Shutdown::Write).expect("half-close");
    let (res, _) = c.run(&[a], LIMIT);
    assert_eq!((res[&a].status, res[&a].body.len()), (Some(200), 100), "{:?}", res[&a].reset);
    let got = backend.wait_requests(1, ms(5000)).expect("the GET reached the server");
    assert_eq!(got[0].target, "/size/100");
    std::thread::sleep(ms(300));
    assert_eq!(backend.requests().iter().filter(|r| r.target == "/echo" && r.body_len == 10).count(), 0);
}

#[test]
fn chunked_and_head_responses() {
    let (_backend, _proxy, _, h2port) = setup();
    let mut c = H2Conn::connect(h2port);
    let a = c.get("/chunked/70000");
    let b = c.request("HEAD", "/size/500", &[], true);
    let d = c.get("/status/204");
    let (res, end) = c.run(&[a, b, d], LIMIT);
    assert!(end.is_none(), "{end:?}");
    assert!(
        res[&a].body == pattern(BODY_SEED, 70_000),
        "chunk framing removed ({} bytes)",
        res[&a].body.len()
    );
    assert!(res[&a].fields.iter().all(|(n, _)| n != "transfer-encoding"));
    assert_eq!(
        (res[&b].status, res[&b].body.len(), res[&b].field("content-length")),
        (Some(200), 0, Some("500"))
    );
    assert_eq!((res[&d].status, res[&d].body.len()), (Some(204), 0));
}

#[test]
fn many_streams_on_one_connection_each_get_their_own_response() {
    let (_backend, _proxy, _, h2port) = setup();
    let mut c = H2Conn::connect(h2port);
    let sizes: Vec<usize> = (0..50).map(|i| [0, 1, 100, 5000, 20_000][i % 5] + i).collect();
    let ids: Vec<u32> = sizes.iter().map(|n| c.get(&format!("/size/{n}"))).collect();
    let (res, end) = c.run(&ids, LIMIT);
    assert!(end.is_none(), "{end:?}");
    for (id, n) in ids.iter().zip(&sizes) {
        assert!(res[id].body == pattern(BODY_SEED, *n), "stream {id}: {} bytes for {n}", res[id].body.len());
    }
}

#[test]
fn builtin_answers_are_http2_responses() {
    let backend = HttpBackend::start();
    let (port, h2port) = (free_port(), free_port());
    let cfg = HttpCfg::new(port, Some(backend.port()))
        .frontend(&format!("bind 127.0.0.1:{h2port} proto h2"))
        .frontend("http-request deny if { path /denied }")
        .frontend("use_backend empty if { path /empty }")
        .section("backend empty", &[]);
    let _proxy = Proxy::start(&cfg.render());
    let mut c = H2Conn::connect(h2port);
    let id = c.get("/denied");
    let (res, _) = c.run(&[id], LIMIT);
    assert_eq!(res[&id].status, Some(403));
    assert!(String::from_utf8_lossy(&res[&id].body).contains("403 Forbidden"));
    // `empty` has no server: 503, and the connection goes on after both.
    let id = c.get("/empty");
    let (res, _) = c.run(&[id], LIMIT);
    assert_eq!(res[&id].status, Some(503));
    let id = c.get("/");
    assert_eq!(c.run(&[id], LIMIT).0[&id].status, Some(200));
}

#[test]
fn malformed_requests_are_reset_and_the_connection_goes_on() {
    let (backend, _proxy, _, h2port) = setup();
    let mut c = H2Conn::connect(h2port);
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "/")], // fine: control
        vec![(":method", "GET"), (":scheme", "http"), (":path", "/"), ("connection", "close")],
        vec![(":method", "GET"), (":scheme", "http"), (":path", "/"), ("Upper", "x")],
        vec![(":method", "GET"), (":scheme", "http")],
        vec![(":method", "GET"), (":scheme", "http"), ("x", "y"), (":path", "/")],
        vec![(":method", "GET"), (":scheme", "http"), (":path", "/"), ("x", "a\r\nx-injected: 1")],
        vec![(":method", "GET"), (":scheme", "http"), (":path", "/ HTTP/1.1\r\nx: y")],
    ];
    let mut ids = Vec::new();
    for fields in &cases {
        let id = c.next_id;
        c.next_id += 2;
        let block = c.block(fields);
        c.send(HEADERS, END_HEADERS | END_STREAM, id, &block);
        ids.push(id);
    }
    let (res, end) = c.run(&ids, LIMIT);
    assert!(end.is_none(), "{end:?}");
    assert_eq!(res[&ids[0]].status, Some(200));
    for id in &ids[1..] {
        assert_eq!(res[id].reset, Some(PROTOCOL_ERROR), "stream {id}: {:?}", res[id]);
    }
    let id = c.get("/");
    assert_eq!(c.run(&[id], LIMIT).0[&id].status, Some(200), "the connection still serves");
    let got = backend.wait_requests(2, ms(5000)).expect("the two valid requests");
    assert!(got.iter().all(|r| r.headers.iter().all(|(n, _)| !n.eq_ignore_ascii_case("x-injected"))));
    std::thread::sleep(ms(200));
    assert_eq!(backend.requests().len(), 2, "no malformed request reached the server");
}

/// A request without `:authority` (RFC 9113 §8.3.1 allows it) is served,
/// and the first frames a client reads are our SETTINGS then its ACK, as
/// HAProxy sends them (the order VTest's clients check).
#[test]
fn a_request_without_authority_is_served() {
    let (backend, _proxy, _, h2port) = setup();
    let mut c = H2Conn::connect(h2port);
    let next = c.read_frame(LIMIT).map(|f| (f.kind, f.flags));
    assert_eq!((c.frames[0].kind, next), (SETTINGS, Some((SETTINGS, ACK))), "{:?}", c.frames);
    let block = c.block(&[(":method", "GET"), (":scheme", "http"), (":path", "/")]);
    c.send(HEADERS, END_HEADERS | END_STREAM, 1, &block);
    let (res, end) = c.run(&[1], LIMIT);
    assert!(end.is_none(), "{end:?}");
    assert_eq!(res[&1].status, Some(200));
    let got = backend.wait_requests(1, ms(5000)).expect("at the server");
    assert_eq!(got[0].target, "/");
    // No host to give: none, or (strata, RFC 9112 §3.2 for HTTP/1.1) an empty one.
    assert!(got[0].headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("host")).all(|(_, v)| v.is_empty()));
}

/// HTTP/2 desync defences as HAProxy 2.6 has them (its
/// reg-tests/http-messaging/h2_desync_attacks.vtc): a `host` field beside
/// `:authority` is ignored, so the server sees the authority once; an
/// invalid method or scheme is answered with a 400, the connection going on.
#[test]
fn host_yields_to_authority_and_bad_methods_or_schemes_get_a_400() {
    let (backend, _proxy, _, h2port) = setup();
    let mut c = H2Conn::connect(h2port);
    let id = c.request("GET", "/", &[("host", "other.example")], true);
    let (res, end) = c.run(&[id], LIMIT);
    assert!(end.is_none(), "{end:?}");
    assert_eq!(res[&id].status, Some(200));
    let got = backend.wait_requests(1, ms(5000)).expect("at the server");
    let hosts: Vec<&str> = got[0]
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("host"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(hosts, ["localhost"], "the :authority, once");

    for (method, scheme) in [("GET?", "http"), ("GET", "http://localhost/?")] {
        let block = c.block(&[(":method", method), (":scheme", scheme), (":path", "/")]);
        let id = c.next_id;
        c.next_id += 2;
        c.send(HEADERS, END_HEADERS | END_STREAM, id, &block);
        let (res, end) = c.run(&[id], LIMIT);
        assert!(end.is_none(), "{end:?}");
        assert_eq!((res[&id].status, res[&id].reset), (Some(400), None), "{method} {scheme}");
    }
    let id = c.get("/");
    assert_eq!(c.run(&[id], LIMIT).0[&id].status, Some(200), "the connection still serves");
    assert_eq!(backend.requests().len(), 2, "no invalid request reached the server");
}
