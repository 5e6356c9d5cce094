//! `compression algo|type|offload`: what the client receives decompresses
//! to what the server sent; `Content-Encoding`, `Vary: Accept-Encoding`,
//! chunked framing and weak ETags as HAProxy 2.6 writes them; the
//! `Accept-Encoding` q-value matrix; the responses HAProxy leaves alone
//! (HEAD, HTTP/1.0, non-2xx, already encoded, `no-transform`, other
//! types); `offload` hides `Accept-Encoding` from the server; a huge
//! `Accept-Encoding` does no harm.

mod support;

use std::io::Read;

use support::http_backend::text_body;
use support::*;

struct Setup {
    backend: HttpBackend,
    port: u16,
    _proxy: Proxy,
}

fn setup(be_lines: &[&str]) -> Setup {
    let backend = HttpBackend::named("s1");
    let port = free_port();
    let mut cfg = HttpCfg::new(port, Some(backend.port()));
    for l in be_lines {
        cfg = cfg.backend(l);
    }
    let _proxy = Proxy::start(&cfg.render());
    Setup { backend, port, _proxy }
}

impl Setup {
    fn ask(&self, raw: &[u8]) -> Response {
        HttpConn::connect(self.port).request(raw).unwrap_or_else(|e| panic!("response: {e}"))
    }
}

fn gunzip(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(b).read_to_end(&mut out).expect("valid gzip");
    out
}

fn inflate(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(b).read_to_end(&mut out).expect("valid zlib");
    out
}

#[test]
fn gzip_and_deflate_decompress_to_the_original() {
    let s = setup(&["compression algo gzip deflate", "compression type text/plain text/html"]);
    let want = text_body(100_000);
    let r = s.ask(&request("GET", "/text/100000", &["Accept-Encoding: gzip"], b""));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(r.header("vary"), Some("Accept-Encoding"));
    assert_eq!(r.header("content-length"), None);
    assert!(r.chunked, "streamed as chunks");
    assert!(r.body.len() < want.len() / 4, "compressed: {} bytes", r.body.len());
    assert_eq!(gunzip(&r.body), want);
    let d = s.ask(&request("GET", "/text/100000", &["Accept-Encoding: deflate"], b""));
    assert_eq!(d.header("content-encoding"), Some("deflate"));
    assert_eq!(inflate(&d.body), want);
    // A chunked server body, and keep-alive after a compressed answer.
    let mut c = HttpConn::connect(s.port);
    let ch = c.request(&request("GET", "/chunked-text/70000", &["Accept-Encoding: gzip"], b"")).unwrap();
    assert_eq!(gunzip(&ch.body), text_body(70_000));
    let again = c.request(&request("GET", "/text/10", &["Accept-Encoding: gzip"], b"")).unwrap();
    assert_eq!(gunzip(&again.body), text_body(10));
}

#[test]
fn accept_encoding_matrix() {
    let s = setup(&["compression algo gzip deflate", "compression type text/plain"]);
    for (ae, expected) in [
        (Some("gzip"), Some("gzip")),
        (Some("deflate"), Some("deflate")),
        (Some("gzip;q=0.5, deflate;q=0.8"), Some("deflate")),
        (Some("deflate;q=0.1, gzip"), Some("gzip")),
        (Some("gzip;q=0"), None),
        (Some("br"), None),
        (Some("invalid"), None),
        (Some("*"), Some("deflate")), // the last algo configured is tried first, as in HAProxy
        (Some("identity"), None),
        (None, None),
    ] {
        let headers: Vec<String> = ae.iter().map(|v| format!("Accept-Encoding: {v}")).collect();
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        let r = s.ask(&request("GET", "/text/1000", &refs, b""));
        assert_eq!(r.header("content-encoding"), expected, "Accept-Encoding: {ae:?}");
        let vary = if expected.is_some() { Some("Accept-Encoding") } else { None };
        assert_eq!(r.header("vary"), vary, "Vary only when compressed ({ae:?})");
        match expected {
            Some("gzip") => assert_eq!(gunzip(&r.body), text_body(1000)),
            Some(_) => assert_eq!(inflate(&r.body), text_body(1000)),
            None => assert_eq!(r.body, text_body(1000)),
        }
    }
}

#[test]
fn what_is_left_alone() {
    let s = setup(&["compression algo gzip", "compression type text/plain"]);
    let ask = |method: &str, path: &str, extra: &[&str]| {
        let mut h = vec!["Accept-Encoding: gzip"];
        h.extend_from_slice(extra);
        s.ask(&request(method, path, &h, b""))
    };
    assert_eq!(ask("HEAD", "/text/1000", &[]).header("content-encoding"), None, "HEAD");
    assert_eq!(ask("GET", "/nothing", &[]).header("content-encoding"), None, "404");
    let encoded = ask("GET", "/text/1000", &["X-Reply: Content-Encoding: br"]);
    assert_eq!(encoded.header("content-encoding"), Some("br"), "already encoded");
    assert_eq!(encoded.body, text_body(1000));
    let nt = ask("GET", "/text/1000", &["X-Reply: Cache-Control: public, no-transform"]);
    assert_eq!(nt.header("content-encoding"), None, "no-transform");
    let other = ask("GET", "/size/1000", &[]);
    assert_eq!(other.header("content-encoding"), None, "no Content-Type: not a listed type");
    let html = ask("GET", "/size/1000", &["X-Reply: Content-Type: text/html"]);
    assert_eq!(html.header("content-encoding"), None, "not a listed type");
    let two_etags = ask("GET", "/text/1000", &["X-Reply: ETag: \"a\"", "X-Reply: ETag: \"a\""]);
    assert_eq!(two_etags.header("content-encoding"), None, "two ETags");
    let mut c = HttpConn::connect(s.port);
    c.send(b"GET /text/1000 HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n").unwrap();
    let old = c.read_response(false).unwrap();
    assert_eq!(old.header("content-encoding"), None, "HTTP/1.0");
    let weak = ask("GET", "/text/1000", &["X-Reply: ETag: \"abc\""]);
    assert_eq!(weak.header("content-encoding"), Some("gzip"));
    assert_eq!(weak.header("etag"), Some("W/\"abc\""), "a strong ETag becomes weak");
}

#[test]
fn offload_hides_accept_encoding_from_the_server() {
    let s = setup(&["compression algo gzip", "compression offload"]);
    let r = s.ask(&request("GET", "/text/5000", &["Accept-Encoding: gzip, br"], b""));
    assert_eq!(gunzip(&r.body), text_body(5000));
    let seen = s.backend.requests();
    assert_eq!(seen.last().and_then(|q| q.header("accept-encoding")), None);
    let plain = s.ask(&request("GET", "/text/50", &["Accept-Encoding: br"], b""));
    assert_eq!(plain.body, text_body(50));
    let seen = s.backend.requests();
    assert_eq!(
        seen.last().and_then(|q| q.header("accept-encoding")),
        Some("br"),
        "kept when nothing was chosen"
    );
}

#[test]
fn a_huge_accept_encoding_does_no_harm() {
    let s = setup(&["compression algo gzip"]);
    let long = format!("Accept-Encoding: {}gzip", "x-unknown-coding;q=0.5, ".repeat(500));
    let r = s.ask(&request("GET", "/text/2000", &[&long], b""));
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(gunzip(&r.body), text_body(2000));
    assert_eq!(s.ask(&get("/")).status, 200, "still serving");
}

/// `tune.comp.maxlevel` is the deflate level strata compresses with: the
/// same body at level 9 is smaller than at HAProxy's default level 1, and
/// both decompress to the original. (HAProxy built with libslz, as
/// Debian's, has a single level: a strata-only assertion.)
#[test]
fn tune_comp_maxlevel_sets_the_level() {
    let size = |level: Option<u32>| {
        let backend = HttpBackend::named("s1");
        let port = free_port();
        let mut cfg = HttpCfg::new(port, Some(backend.port()))
            .backend("compression algo gzip")
            .backend("compression type text/plain");
        if let Some(l) = level {
            cfg = cfg.global(&format!("tune.comp.maxlevel {l}"));
        }
        let _proxy = Proxy::start(&cfg.render());
        let r = HttpConn::connect(port)
            .request(&request("GET", "/text/200000", &["Accept-Encoding: gzip"], b""))
            .expect("response");
        assert_eq!(r.header("content-encoding"), Some("gzip"));
        assert_eq!(gunzip(&r.body), text_body(200_000));
        r.body.len()
    };
    let (default, one, nine) = (size(None), size(Some(1)), size(Some(9)));
    // The sizes move by a few bytes with where the reads cut the body (each
    // batch is flushed); the levels are thousands of bytes apart.
    assert!(nine < one, "level 9 ({nine} bytes) compresses better than level 1 ({one} bytes)");
    let midway = nine + (one - nine) / 2;
    assert!(default > midway, "level 1 by default: {default} bytes (level 1: {one}, level 9: {nine})");
}
