//! `http-request use-service strata.static root DIR` (strata's extension;
//! HAProxy refuses the line) and HAProxy's `http-request return ... file`:
//! Content-Type, Content-Length, Last-Modified / If-Modified-Since → 304,
//! Range → 206 / 416, HEAD, 405, directory index, keep-alive; and what
//! must never be served: `..`, `%2e%2e`, a NUL, a symlink out of the root
//! (403), missing files (404). A 32 MiB file goes out whole and intact
//! while the proxy's memory stays far below its size (sent with
//! sendfile, never read in).

mod support;

use std::path::PathBuf;
use support::{
    HttpConn, Proxy, Response, fingerprint, free_port, get, pattern, request, under_haproxy, vm_rss_kib,
};

struct Lab {
    fe: u16,
    root: PathBuf,
    proxy: Proxy,
}

fn start() -> Lab {
    let root = std::env::temp_dir().join(format!("strata-static-{}-{}", std::process::id(), free_port()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("site/docs")).expect("mkdir");
    std::fs::write(root.join("site/hello.txt"), b"hello, static world\n").expect("write");
    std::fs::write(root.join("site/docs/index.html"), b"<html>index</html>\n").expect("write");
    std::fs::write(root.join("site/style.css"), b"body{}\n").expect("write");
    std::fs::write(root.join("secret.txt"), b"outside the root\n").expect("write");
    std::os::unix::fs::symlink(root.join("secret.txt"), root.join("site/escape.txt")).expect("symlink");
    std::os::unix::fs::symlink(root.join("site/hello.txt"), root.join("site/inside.txt")).expect("symlink");
    std::fs::write(root.join("answer.txt"), b"fixed answer\n").expect("write");
    let fe = free_port();
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
         frontend fe\n    bind 127.0.0.1:{fe}\n\
         \x20   http-request return status 200 content-type text/plain file {answer} if {{ path /answer }}\n\
         {static_line}",
        answer = root.join("answer.txt").display(),
        // HAProxy refuses the strata extension: its run checks `return ... file` only.
        static_line = if under_haproxy() {
            String::new()
        } else {
            format!("    http-request use-service strata.static root {}\n", root.join("site").display())
        }
    );
    let proxy = Proxy::start(&cfg);
    Lab { fe, root, proxy }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn send(lab: &Lab, raw: &[u8]) -> Response {
    HttpConn::connect(lab.fe).request(raw).expect("response")
}

fn req(method: &str, path: &str, headers: &[&str]) -> Vec<u8> {
    request(method, path, headers, b"")
}

#[test]
fn files_types_dates_and_ranges() {
    if under_haproxy() {
        return; // strata.static is strata's
    }
    let lab = start();
    let r = send(&lab, &get("/hello.txt"));
    assert_eq!((r.status, r.body.as_slice()), (200, &b"hello, static world\n"[..]));
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(r.header("content-length"), Some("20"));
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    let date = r.header("last-modified").expect("last-modified").to_owned();
    assert!(date.ends_with(" GMT"), "{date}");
    assert_eq!(send(&lab, &get("/style.css")).header("content-type"), Some("text/css"));
    let index = send(&lab, &get("/docs/"));
    assert_eq!((index.status, index.body.as_slice()), (200, &b"<html>index</html>\n"[..]));
    assert_eq!(index.header("content-type"), Some("text/html"));
    // Conditional requests.
    let ims = format!("If-Modified-Since: {date}");
    let r = send(&lab, &req("GET", "/hello.txt", &[&ims]));
    assert_eq!((r.status, r.body.len()), (304, 0));
    let r = send(&lab, &req("GET", "/hello.txt", &["If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT"]));
    assert_eq!(r.status, 200);
    // Ranges.
    let r = send(&lab, &req("GET", "/hello.txt", &["Range: bytes=7-12"]));
    assert_eq!((r.status, r.body.as_slice()), (206, &b"static"[..]));
    assert_eq!(r.header("content-range"), Some("bytes 7-12/20"));
    let r = send(&lab, &req("GET", "/hello.txt", &["Range: bytes=-6"]));
    assert_eq!((r.status, r.body.as_slice()), (206, &b"world\n"[..]));
    let r = send(&lab, &req("GET", "/hello.txt", &["Range: bytes=100-"]));
    assert_eq!((r.status, r.header("content-range")), (416, Some("bytes */20")));
    // HEAD: the headers only; other methods: 405.
    let mut c = HttpConn::connect(lab.fe);
    c.send(&req("HEAD", "/hello.txt", &[])).expect("send");
    let r = c.read_response(true).expect("head response");
    assert_eq!((r.status, r.header("content-length")), (200, Some("20")));
    let r = send(&lab, &req("POST", "/hello.txt", &["Content-Length: 0"]));
    assert_eq!((r.status, r.header("allow")), (405, Some("GET, HEAD")));
    // Keep-alive: several files on one connection.
    let mut c = HttpConn::connect(lab.fe);
    for _ in 0..3 {
        assert_eq!(c.request(&get("/hello.txt")).expect("kept alive").status, 200);
    }
}

#[test]
fn nothing_outside_the_root_is_served() {
    if under_haproxy() {
        return;
    }
    let lab = start();
    for (path, status) in [
        ("/../secret.txt", 403),
        ("/docs/../../secret.txt", 403),
        ("/%2e%2e/secret.txt", 403),
        ("/%2E%2E%2fsecret.txt", 403),
        ("/docs/%2e%2e/%2e%2e/secret.txt", 403),
        ("/hello.txt%00.css", 403),
        ("/escape.txt", 403),
        ("/missing.txt", 404),
        ("/docs/missing/", 404),
    ] {
        let r = send(&lab, &get(path));
        assert_eq!(r.status, status, "{path}");
        assert!(!String::from_utf8_lossy(&r.body).contains("outside the root"), "{path} leaked");
    }
    // A symlink that stays inside the root is fine.
    assert_eq!(send(&lab, &get("/inside.txt")).body, b"hello, static world\n");
}

#[test]
fn a_large_file_is_streamed_not_loaded() {
    if under_haproxy() {
        return;
    }
    let lab = start();
    let size = 32 << 20;
    let data = pattern(7, size);
    std::fs::write(lab.root.join("site/big.bin"), &data).expect("write big file");
    let before = vm_rss_kib(lab.proxy.pid()).expect("rss");
    let r = send(&lab, &get("/big.bin"));
    let after = vm_rss_kib(lab.proxy.pid()).expect("rss");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(r.body.len(), size);
    assert_eq!(fingerprint(&r.body), fingerprint(&data), "body differs");
    // Reading the file in would cost 32 MiB; sendfile costs nothing.
    assert!(after < before + 8 * 1024, "RSS grew from {before} KiB to {after} KiB");
    // A range in the middle of it.
    let r = send(&lab, &req("GET", "/big.bin", &["Range: bytes=1000000-1000099"]));
    assert_eq!((r.status, r.body.as_slice()), (206, &data[1_000_000..1_000_100]));
}

#[test]
fn return_file_as_haproxy() {
    let lab = start();
    let r = send(&lab, &get("/answer"));
    assert_eq!(
        r.raw_text(),
        "HTTP/1.1 200 OK\r\ncontent-length: 13\r\ncontent-type: text/plain\r\n\r\nfixed answer\n"
    );
}
