//! `cache` sections with `http-request cache-use` / `http-response
//! cache-store`: a stored response is answered without the server
//! (through the response rules, `res.cache_hit` 1, with its `Age`),
//! expires, turns into a 304 for a matching conditional request, is
//! never stored when HAProxy would not store it, is invalidated by a
//! successful POST, keeps memory under `total-max-size` by evicting the
//! least recently used entry, skips objects above `max-object-size`, and
//! keeps one variant per Vary'd `Accept-Encoding` with `process-vary on`.

mod support;

use std::time::Duration;

use support::*;

struct Setup {
    backend: HttpBackend,
    port: u16,
    _proxy: Proxy,
}

fn setup(cache_lines: &[&str]) -> Setup {
    let backend = HttpBackend::named("s1");
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(backend.port()))
        .frontend("http-response set-header X-Cache-Hit %[res.cache_hit]")
        .backend("http-request cache-use c1")
        .backend("http-response cache-store c1")
        .section("cache c1", cache_lines);
    let _proxy = Proxy::start(&cfg.render());
    Setup { backend, port, _proxy }
}

impl Setup {
    fn ask(&self, path: &str, headers: &[&str]) -> Response {
        HttpConn::connect(self.port)
            .request(&request("GET", path, headers, b""))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn at_server(&self, path: &str) -> usize {
        self.backend.requests().iter().filter(|r| r.target == path).count()
    }
}

const CC10: &str = "X-Reply: Cache-Control: max-age=10";

#[test]
fn hits_misses_and_age() {
    let s = setup(&["total-max-size 4", "max-age 60"]);
    let first = s.ask("/text/300", &[CC10]);
    assert_eq!(first.header("x-cache-hit"), Some("0"));
    let second = s.ask("/text/300", &[CC10]);
    assert_eq!(second.header("x-cache-hit"), Some("1"), "{}", second.raw_text());
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("x-server"), Some("s1"), "the stored headers are replayed");
    assert_eq!(s.at_server("/text/300"), 1, "the second answer came from the cache");
    let aged = s.ask("/text/100", &["X-Reply: Cache-Control: max-age=500", "X-Reply: Age: 100"]);
    assert_eq!(aged.header("x-cache-hit"), Some("0"));
    let hit = s.ask("/text/100", &[]);
    let age: u64 = hit.header("age").and_then(|a| a.parse().ok()).expect("an Age header");
    assert!((100..110).contains(&age), "{age}");
    // Chunked bodies are replayed as they were sent.
    s.ask("/chunked-text/5000", &[CC10]);
    let ch = s.ask("/chunked-text/5000", &[]);
    assert_eq!(ch.header("x-cache-hit"), Some("1"));
    assert_eq!(ch.body, support::http_backend::text_body(5000));
    // HEAD from a stored GET.
    let mut c = HttpConn::connect(s.port);
    let head = c.request(b"HEAD /text/300 HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    assert_eq!((head.status, head.body.len()), (200, 0));
    assert_eq!(head.header("x-cache-hit"), Some("1"));
    let after = c.request(&get("/text/300")).unwrap();
    assert_eq!(after.body, first.body, "keep-alive after a cached answer");
}

/// An entry larger than a buffer: the part after the head's write
/// follows, whole and in order, on a keep-alive connection.
#[test]
fn a_large_entry_is_served_whole() {
    let s = setup(&["total-max-size 4", "max-object-size 300000", "max-age 60"]);
    let want = support::http_backend::text_body(200_000);
    assert_eq!(s.ask("/text/200000", &[CC10]).body, want);
    let mut c = HttpConn::connect(s.port);
    for _ in 0..3 {
        let hit = c.request(&get("/text/200000")).unwrap();
        assert_eq!(hit.header("x-cache-hit"), Some("1"));
        assert_eq!(hit.body.len(), want.len());
        assert!(hit.body == want, "the body as stored");
    }
    assert_eq!(s.at_server("/text/200000"), 1);
}

#[test]
fn what_is_never_stored_or_served() {
    let s = setup(&["total-max-size 4"]);
    for (path, reply) in [
        ("/text/1", "X-Reply: Cache-Control: no-store"),
        ("/text/2", "X-Reply: Cache-Control: private, max-age=10"),
        ("/text/3", "X-Reply: X-Nothing: fresh"),
        ("/text/4", "X-Reply: Cache-Control: max-age=5"),
        ("/text/5", "X-Reply: Set-Cookie: id=1"),
    ] {
        let mut extra = vec![reply];
        if path == "/text/4" {
            extra.push("X-Reply: Age: 10"); // older than its max-age
        }
        if path == "/text/5" {
            extra.push(CC10);
        }
        s.ask(path, &extra);
        if path == "/text/5" && under_haproxy() {
            continue; // HAProxy 2.6 stores a response setting a cookie and replays it to others: strata does not
        }
        assert_eq!(s.ask(path, &extra).header("x-cache-hit"), Some("0"), "{path} {reply}");
    }
    // A request with Authorization neither uses nor fills the cache.
    s.ask("/text/6", &[CC10, "Authorization: Basic YTpi"]);
    assert_eq!(s.ask("/text/6", &[CC10]).header("x-cache-hit"), Some("0"));
    // no-cache from the client: not served from the cache, but stored.
    s.ask("/text/7", &[CC10, "Cache-Control: no-cache"]);
    assert_eq!(s.ask("/text/7", &[CC10, "Cache-Control: no-cache"]).header("x-cache-hit"), Some("0"));
    assert_eq!(s.ask("/text/7", &[CC10]).header("x-cache-hit"), Some("1"));
    // A validator alone is enough.
    s.ask("/text/8", &["X-Reply: ETag: \"v1\""]);
    assert_eq!(s.ask("/text/8", &[]).header("x-cache-hit"), Some("1"));
}

#[test]
fn expiry_and_conditional_requests() {
    let s = setup(&["total-max-size 4"]);
    s.ask(
        "/text/50",
        &[
            "X-Reply: Cache-Control: max-age=1",
            "X-Reply: ETag: \"e1\"",
            "X-Reply: Last-Modified: Thu, 15 Oct 2020 22:23:24 GMT",
        ],
    );
    let nm = s.ask("/text/50", &["If-None-Match: \"e1\""]);
    assert_eq!((nm.status, nm.body.len()), (304, 0), "{}", nm.raw_text());
    assert_eq!(nm.header("etag"), Some("\"e1\""));
    assert_eq!(s.ask("/text/50", &["If-None-Match: \"other\""]).status, 200);
    assert_eq!(s.ask("/text/50", &["If-Modified-Since: Thu, 15 Oct 2020 22:23:24 GMT"]).status, 304);
    assert_eq!(s.ask("/text/50", &["If-Modified-Since: Thu, 15 Oct 2020 00:00:01 GMT"]).status, 200);
    assert_eq!(s.at_server("/text/50"), 1);
    std::thread::sleep(Duration::from_millis(2100));
    let later = s.ask("/text/50", &[]);
    assert_eq!(later.header("x-cache-hit"), Some("0"), "expired after max-age");
    assert_eq!(s.at_server("/text/50"), 2);
}

#[test]
fn a_successful_post_invalidates() {
    let s = setup(&["total-max-size 4"]);
    s.ask("/text/20", &[CC10]);
    assert_eq!(s.ask("/text/20", &[]).header("x-cache-hit"), Some("1"));
    let post =
        HttpConn::connect(s.port).request(&request("POST", "/text/20", &["Content-Length: 0"], b"")).unwrap();
    assert_eq!(post.status, 200);
    assert_eq!(s.ask("/text/20", &[CC10]).header("x-cache-hit"), Some("0"));
}

#[test]
fn memory_bounded_by_total_max_size_with_lru_eviction() {
    let s = setup(&["total-max-size 1", "max-object-size 500000"]);
    let big = |q: &str| format!("/text/400000?{q}");
    s.ask(&big("a"), &[CC10]);
    s.ask(&big("b"), &[CC10]);
    assert_eq!(s.ask(&big("a"), &[]).header("x-cache-hit"), Some("1"), "a and b both fit");
    s.ask(&big("c"), &[CC10]); // evicts b, the least recently used
    assert_eq!(s.ask(&big("a"), &[]).header("x-cache-hit"), Some("1"));
    assert_eq!(s.ask(&big("c"), &[]).header("x-cache-hit"), Some("1"));
    assert_eq!(s.ask(&big("b"), &[]).header("x-cache-hit"), Some("0"), "b was evicted");
    // Above max-object-size: never stored, with or without a length.
    s.ask("/text/520000", &[CC10]);
    assert_eq!(s.ask("/text/520000", &[CC10]).header("x-cache-hit"), Some("0"));
    s.ask("/chunked-text/520000", &[CC10]);
    assert_eq!(s.ask("/chunked-text/520000", &[CC10]).header("x-cache-hit"), Some("0"));
}

#[test]
fn vary_accept_encoding_keeps_variants() {
    let s = setup(&["total-max-size 4", "process-vary on"]);
    let vary = "X-Reply: Vary: accept-encoding";
    // Variants by the response's coding, served to requests accepting it.
    s.ask("/text/30", &[CC10, vary, "Accept-Encoding: gzip", "X-Reply: Content-Encoding: gzip"]);
    s.ask("/text/30", &[CC10, vary, "Accept-Encoding: br", "X-Reply: Content-Encoding: br"]);
    let gz = s.ask("/text/30", &["Accept-Encoding: gzip"]);
    assert_eq!((gz.header("x-cache-hit"), gz.header("content-encoding")), (Some("1"), Some("gzip")));
    let br = s.ask("/text/30", &["Accept-Encoding: br, gzip;q=0"]);
    assert_eq!((br.header("x-cache-hit"), br.header("content-encoding")), (Some("1"), Some("br")));
    assert_eq!(s.ask("/text/30", &["Accept-Encoding: deflate", CC10, vary]).header("x-cache-hit"), Some("0"));
    // An identity response suits any request accepting identity.
    s.ask("/text/32", &[CC10, vary, "Accept-Encoding: gzip"]);
    assert_eq!(s.ask("/text/32", &["Accept-Encoding: deflate"]).header("x-cache-hit"), Some("1"));
    s.ask("/text/31", &[CC10, "X-Reply: Vary: user-agent"]);
    assert_eq!(
        s.ask("/text/31", &[CC10]).header("x-cache-hit"),
        Some("0"),
        "an unsupported Vary is not stored"
    );
    let off = setup(&["total-max-size 4"]);
    off.ask("/text/30", &[CC10, vary]);
    assert_eq!(
        off.ask("/text/30", &[]).header("x-cache-hit"),
        Some("0"),
        "process-vary off: Vary is not stored"
    );
}

#[test]
fn show_cache_lists_the_fresh_entries() {
    let backend = HttpBackend::named("s1");
    let port = free_port();
    let cli_port = free_port();
    let cfg = HttpCfg::new(port, Some(backend.port()))
        .global(&format!("stats socket 127.0.0.1:{cli_port} level admin"))
        .backend("http-request cache-use c1")
        .backend("http-response cache-store c1")
        .section("cache c1", &["total-max-size 2", "max-age 100"]);
    let _proxy = Proxy::start(&cfg.render());
    HttpConn::connect(port).request(&request("GET", "/text/1000", &[CC10], b"")).unwrap();
    let out = cli(cli_port, "show cache");
    let lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].contains(": c1 (shctx:") && lines[0].contains("available blocks:"), "{out}");
    assert!(lines[1].contains(" hash:") && lines[1].contains(" vary:0x0000000000000000"), "{out}");
    let expire: i64 = lines[1].rsplit("expire:").next().and_then(|e| e.trim().parse().ok()).expect("expire");
    assert!((8..=10).contains(&expire), "max-age 10 from the response: {out}");
}

#[test]
fn rules_before_cache_store_count() {
    // A response without freshness becomes cacheable through a rule that
    // runs before `cache-store` (reg-tests/cache/caching_rules.vtc sets
    // `Expires` so), and not through one that runs after it.
    let backend = HttpBackend::named("s1");
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(backend.port()))
        .frontend("http-response set-header X-Cache-Hit %[res.cache_hit]")
        .backend("http-request cache-use c1")
        .backend("http-response set-header Cache-Control max-age=10 if { path /text/40 }")
        .backend("http-response cache-store c1")
        .backend("http-response set-header Cache-Control max-age=10 if { path /text/41 }")
        .section("cache c1", &["total-max-size 4"]);
    let _proxy = Proxy::start(&cfg.render());
    let ask = |path: &str| HttpConn::connect(port).request(&get(path)).unwrap_or_else(|e| panic!("{e}"));
    for path in ["/text/40", "/text/41"] {
        assert_eq!(ask(path).header("x-cache-hit"), Some("0"));
    }
    assert_eq!(ask("/text/40").header("x-cache-hit"), Some("1"), "set before cache-store");
    assert_eq!(ask("/text/41").header("x-cache-hit"), Some("0"), "set after cache-store");
}
