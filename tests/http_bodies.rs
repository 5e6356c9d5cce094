//! HTTP mode, message bodies: chunked both ways with trailers, a 100 MiB
//! upload in bounded memory, bodiless responses (HEAD, 304), `Expect:
//! 100-continue`, and a response delimited by the server's close.
//! Every assertion holds for HAProxy 2.6 too (`STRATA_BIN=haproxy`; its
//! RSS peaks around 15 MiB during the 100 MiB upload).

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use support::*;

const MIB: usize = 1024 * 1024;
const CLIENT_SEED: u64 = 0xC11E_0002;

/// A proxy in front of a fresh [`HttpBackend`].
fn setup() -> (HttpBackend, Proxy, u16) {
    let backend = HttpBackend::start();
    let port = free_port();
    let proxy = Proxy::start(&HttpCfg::new(port, Some(backend.port())).render());
    (backend, proxy, port)
}

/// A chunked upload to `/echo` and what each side saw.
struct ChunkedUpload {
    sent: Vec<u8>,         // the body the client chunked
    server: Vec<Received>, // requests the backend received
    echoed: Response,      // the backend's chunked echo as the client got it
}

fn chunked_upload(len: usize) -> ChunkedUpload {
    let (backend, _proxy, port) = setup();
    let sent = pattern(CLIENT_SEED, len);
    let mut c = HttpConn::connect(port);
    let body = chunk_body(&sent, 3000, &["X-Upload-Trailer: yes"]);
    let raw = request("POST", "/echo", &["Transfer-Encoding: chunked"], &body);
    let echoed = c.request(&raw).expect("echo response");
    let server = backend.wait_requests(1, ms(5_000)).expect("the backend got the request");
    ChunkedUpload { sent, server, echoed }
}

#[test]
fn chunked_upload_reaches_the_server_exactly_with_its_trailer() {
    let u = chunked_upload(200_000);
    assert_eq!(u.server.len(), 1);
    let req = &u.server[0];
    assert!(req.chunked, "the body stays chunked on the way to the server");
    assert_eq!(req.body_len, u.sent.len() as u64, "decoded length at the server");
    assert_eq!(req.body_hash, fingerprint(&u.sent), "decoded body at the server");
    assert_eq!(req.trailer("X-Upload-Trailer"), Some("yes"), "request trailers: {:?}", req.trailers);
    assert_eq!(u.echoed.status, 200, "{}", u.echoed.raw_text());
    assert_eq!(first_difference(&u.echoed.body, &u.sent), None, "chunked echo back to the client");
}

/// A chunked download with a trailer, read on a keep-alive connection,
/// followed by a second request on the same connection.
fn chunked_download(len: usize) -> (Response, Response) {
    let (_backend, _proxy, port) = setup();
    let mut c = HttpConn::connect(port);
    let first = c.request(&get(&format!("/chunked/{len}"))).expect("chunked response");
    let next = c.request(&get("/")).expect("next response on the same connection");
    (first, next)
}

#[test]
fn chunked_download_arrives_exactly_with_its_trailer() {
    let (r, next) = chunked_download(150_000);
    assert_eq!(r.status, 200);
    assert!(r.chunked, "still chunked at the client: {:?}", r.headers);
    assert_eq!(r.body.len(), 150_000);
    assert_eq!(first_difference(&r.body, &pattern(BODY_SEED, 150_000)), None);
    assert_eq!(r.trailer("X-Trailer"), Some("done"), "trailers: {:?}", r.trailers);
    assert_eq!((next.status, next.body.as_slice()), (200, &b"hello"[..]));
}

/// Outcome of a big Content-Length upload.
struct BigUpload {
    response: Response,
    server: Vec<Received>,
    expected_hash: u64,
    max_rss_kib: u64, // highest proxy VmRSS seen during the transfer
    samples: usize,   // how many RSS samples were taken
}

/// Uploads `len` bytes (Content-Length) to `/`, sampling the proxy's RSS
/// every 20 ms while the body flows.
fn big_upload(len: usize) -> BigUpload {
    let (backend, proxy, port) = setup();
    let block = pattern(CLIENT_SEED, MIB);
    let mut hash = Fnv::default();
    for _ in 0..len / MIB {
        hash.update(&block);
    }
    hash.update(&block[..len % MIB]);

    let done = Arc::new(AtomicBool::new(false));
    let max_rss = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (done, max_rss, pid) = (done.clone(), max_rss.clone(), proxy.pid());
        std::thread::spawn(move || {
            let mut samples = 0;
            while !done.load(Ordering::SeqCst) {
                if let Some(kib) = vm_rss_kib(pid) {
                    max_rss.fetch_max(kib, Ordering::SeqCst);
                    samples += 1;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            samples
        })
    };

    let mut c = HttpConn::connect(port);
    c.stream().set_write_timeout(Some(ms(60_000))).expect("write timeout");
    c.send(format!("POST / HTTP/1.1\r\nHost: test\r\nContent-Length: {len}\r\n\r\n").as_bytes())
        .expect("head");
    let mut left = len;
    while left > 0 {
        let n = left.min(MIB);
        c.send(&block[..n]).expect("body");
        left -= n;
    }
    let response = c.read_response_within(false, ms(60_000)).expect("response to the upload");
    done.store(true, Ordering::SeqCst);
    let samples = sampler.join().expect("sampler");
    let server = backend.wait_requests(1, ms(5_000)).unwrap_or_default();
    BigUpload {
        response,
        server,
        expected_hash: hash.value(),
        max_rss_kib: max_rss.load(Ordering::SeqCst),
        samples,
    }
}

#[test]
fn a_100_mib_upload_arrives_exactly_and_the_proxy_stays_small() {
    let len = 100 * MIB;
    let u = big_upload(len);
    assert_eq!(u.response.status, 200, "{}", u.response.raw_text());
    assert_eq!(u.server.len(), 1, "the backend received the request");
    assert_eq!(u.server[0].body_len, len as u64, "bytes at the backend");
    assert_eq!(u.server[0].body_hash, u.expected_hash, "body fingerprint at the backend");
    assert!(u.samples > 0, "RSS was sampled");
    assert!(u.max_rss_kib < 64 * 1024, "proxy RSS peaked at {} KiB during a 100 MiB upload", u.max_rss_kib);
}

/// A HEAD, a 304, then a GET, all on one connection.
fn bodiless_responses() -> [Response; 3] {
    let (_backend, _proxy, port) = setup();
    let mut c = HttpConn::connect(port);
    let head = c.request(&request("HEAD", "/size/5000", &[], b"")).expect("HEAD response");
    let not_modified = c.request(&get("/304")).expect("304 response");
    let after = c.request(&get("/size/10")).expect("GET after them");
    [head, not_modified, after]
}

#[test]
fn head_and_304_have_no_body_and_the_connection_goes_on() {
    let [head, not_modified, after] = bodiless_responses();
    assert_eq!(head.status, 200, "{}", head.raw_text());
    assert_eq!(head.header("content-length"), Some("5000"), "HEAD keeps the GET's length");
    assert!(head.body.is_empty());
    assert_eq!(not_modified.status, 304, "{}", not_modified.raw_text());
    assert!(not_modified.body.is_empty());
    assert_eq!(after.status, 200, "the next response is framed right: {}", after.raw_text());
    assert_eq!(after.body, pattern(BODY_SEED, 10));
}

/// The client sends the head with `Expect: 100-continue`, waits for the
/// interim answer, then sends the body.
struct Continue {
    interim: Response,
    last: Response,
    server: Vec<Received>,
}

fn expect_100_continue(len: usize) -> Continue {
    let (backend, _proxy, port) = setup();
    let body = pattern(CLIENT_SEED, len);
    let mut c = HttpConn::connect(port);
    let cl = format!("Content-Length: {len}");
    c.send(&request("POST", "/echo", &[&cl, "Expect: 100-continue"], b"")).expect("head");
    let interim = c.read_response(false).expect("interim response");
    c.send(&body).expect("body");
    let last = c.read_response(false).expect("final response");
    let server = backend.wait_requests(1, ms(5_000)).unwrap_or_default();
    Continue { interim, last, server }
}

#[test]
fn expect_100_continue_gets_100_then_the_final_answer() {
    let len = 50_000;
    let r = expect_100_continue(len);
    assert_eq!(r.interim.status, 100, "{}", r.interim.raw_text());
    assert_eq!(r.last.status, 200, "{}", r.last.raw_text());
    assert_eq!(first_difference(&r.last.body, &pattern(CLIENT_SEED, len)), None, "echoed body");
    assert_eq!(r.server.len(), 1);
    assert_eq!(r.server[0].body_len, len as u64);
}

/// `/close` answers without a length: the body ends when the server closes.
fn close_delimited() -> (Response, Closed) {
    let (_backend, _proxy, port) = setup();
    let mut c = HttpConn::connect(port);
    let r = c.request(&get("/close")).expect("response");
    let end = c.expect_closed(ms(3_000));
    (r, end)
}

/// Nothing but the close can delimit the body for the client either, so
/// the proxy must forward it whole and then close (HAProxy 2.6 passes it on
/// with `connection: close`, unframed, then closes).
#[test]
fn response_without_length_reaches_the_client_whole_then_eof() {
    let (r, end) = close_delimited();
    assert_eq!(r.status, 200, "{}", r.raw_text());
    assert_eq!(r.body.len(), CLOSE_BODY_LEN);
    assert_eq!(first_difference(&r.body, &pattern(BODY_SEED, CLOSE_BODY_LEN)), None);
    assert!(matches!(end, Closed::Eof(_)), "then EOF: {end:?}");
}

/// A 5 MB Content-Length body (forwarded with splice(2) when possible),
/// then a small request on the same connection.
fn large_download_then_next() -> (Response, Response) {
    let (_backend, _proxy, port) = setup();
    let mut c = HttpConn::connect(port);
    let big = c.request(&get("/size/5000000")).expect("large response");
    let next = c.request(&get("/size/10")).expect("response after it");
    (big, next)
}

#[test]
fn a_large_download_arrives_exactly_and_keep_alive_goes_on() {
    let (big, next) = large_download_then_next();
    assert_eq!(big.status, 200);
    assert_eq!(first_difference(&big.body, &pattern(BODY_SEED, 5_000_000)), None, "5 MB body");
    assert_eq!(next.status, 200);
    assert_eq!(next.body, pattern(BODY_SEED, 10), "the next response on the same connection");
}
