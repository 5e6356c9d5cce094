//! Custom error pages: `errorfile`, `errorfiles` with `http-errors`
//! sections, `http-error status`, `default-path`. Each page is sent
//! instead of HAProxy's built-in one, re-encoded as HAProxy 2.6 sends it
//! (lower-case header names, `Connection` dropped, an HTTP/1.0 page closes
//! the connection); the last directive naming a status wins, `defaults`
//! first; a backend's page is preferred to its frontend's. The same
//! precedence table as HAProxy's own `http-errorfiles/http_errors.vtc`.
//! Validated against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::path::{Path, PathBuf};
use support::time::ms;
use support::{HttpConn, Proxy, free_port, get};

/// Writes the error files of the test in a fresh directory: each is a
/// 1.1 response with an `x-err-type` header naming its origin.
fn error_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-errfiles-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).expect("dir");
    for (code, reason) in
        [(400, "Bad request"), (403, "Forbidden"), (404, "Not Found"), (500, "Internal Server Error")]
    {
        for tag in ["default", "errors-1", "errors-2", "errors-3"] {
            let body = format!("<html><body><h1>{code} {tag}</h1></body></html>\n");
            let text = format!(
                "HTTP/1.1 {code} {reason}\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\
                 X-Err-Type: {tag}\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            std::fs::write(dir.join(format!("{code}-{tag}.http")), text).expect("write");
        }
    }
    std::fs::write(
        dir.join("403-old.http"),
        "HTTP/1.0 403 Forbidden\r\nCache-Control: no-cache\r\nConnection: close\r\nX-Err-Type: old\r\n\r\nold style\n",
    )
    .expect("write");
    dir
}

fn f(dir: &Path, code: u16, tag: &str) -> String {
    dir.join(format!("{code}-{tag}.http")).display().to_string()
}

fn deny_rules() -> String {
    [400, 403, 404, 500]
        .iter()
        .map(|c| format!("    http-request deny deny_status {c} if {{ path /{c} }}\n"))
        .collect()
}

/// The `x-err-type` of the answer to `GET /CODE` (None: the built-in page).
fn err_type(port: u16, code: u16) -> Option<String> {
    let mut c = HttpConn::connect(port);
    let r = c.request(&get(&format!("/{code}"))).expect("response");
    assert_eq!(r.status, code);
    r.header("x-err-type").map(str::to_string)
}

#[test]
fn errorfile_errorfiles_precedence_as_haproxy() {
    let d = error_dir();
    let (p1, p2, p3) = (free_port(), free_port(), free_port());
    let cfg = format!(
        "http-errors errors-1\n    errorfile 400 {e1_400}\n    errorfile 403 {e1_403}\n    errorfile 404 {e1_404}\n    errorfile 500 {e1_500}\n\
         http-errors errors-2\n    errorfile 400 {e2_400}\n    errorfile 403 {e2_403}\n    errorfile 404 {e2_404}\n\
         http-errors errors-3\n    errorfile 400 {e3_400}\n    errorfile 404 {e3_404}\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n    errorfiles errors-2\n    \
         errorfile 400 {d400}\n    errorfile 404 {d404}\n\
         frontend fe1\n    bind 127.0.0.1:{p1}\n{rules}\
         frontend fe2\n    bind 127.0.0.1:{p2}\n    errorfiles errors-1\n    errorfile 500 {d500}\n{rules}\
         frontend fe3\n    bind 127.0.0.1:{p3}\n    errorfile 500 {d500}\n    errorfiles errors-1 500\n    errorfiles errors-3 400\n{rules}",
        e1_400 = f(&d, 400, "errors-1"),
        e1_403 = f(&d, 403, "errors-1"),
        e1_404 = f(&d, 404, "errors-1"),
        e1_500 = f(&d, 500, "errors-1"),
        e2_400 = f(&d, 400, "errors-2"),
        e2_403 = f(&d, 403, "errors-2"),
        e2_404 = f(&d, 404, "errors-2"),
        e3_400 = f(&d, 400, "errors-3"),
        e3_404 = f(&d, 404, "errors-3"),
        d400 = f(&d, 400, "default"),
        d404 = f(&d, 404, "default"),
        d500 = f(&d, 500, "default"),
        rules = deny_rules(),
    );
    let _p = Proxy::start(&cfg);
    let s = |v: &str| Some(v.to_string());
    assert_eq!(err_type(p1, 400), s("default"));
    assert_eq!(err_type(p1, 403), s("errors-2"));
    assert_eq!(err_type(p1, 404), s("default"));
    assert_eq!(err_type(p1, 500), None);
    assert_eq!(err_type(p2, 400), s("errors-1"));
    assert_eq!(err_type(p2, 403), s("errors-1"));
    assert_eq!(err_type(p2, 404), s("errors-1"));
    assert_eq!(err_type(p2, 500), s("default"));
    assert_eq!(err_type(p3, 400), s("errors-3"));
    assert_eq!(err_type(p3, 403), s("errors-2"));
    assert_eq!(err_type(p3, 404), s("default"));
    assert_eq!(err_type(p3, 500), s("errors-1"));
}

/// The bytes sent: lower-case names, no `Connection`; a 1.1 page with a
/// length keeps the connection, a 1.0 one closes it. A backend's page for
/// 503 wins over the frontend's. `http-error` pages: an empty one, a
/// string one, `default-errorfiles`.
#[test]
fn pages_are_sent_as_haproxy_encodes_them() {
    let d = error_dir();
    let port = free_port();
    let closed = support::closed_port();
    std::fs::write(d.join("503-fe.http"), "HTTP/1.1 503 Frontend\r\nContent-Length: 2\r\n\r\nfe").expect("w");
    std::fs::write(d.join("503-be.http"), "HTTP/1.1 503 Backend\r\nContent-Length: 2\r\n\r\nbe").expect("w");
    std::fs::write(d.join("body.txt"), "from a file").expect("w");
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 200ms\n    timeout client 5s\n    timeout server 5s\n    retries 0\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    errorfile 403 {old}\n    errorfile 503 {fe503}\n    \
         errorfile 404 {d404}\n    http-error status 404 default-errorfiles\n    \
         http-error status 400\n    http-error status 500 content-type text/plain string \"no luck\"\n    \
         http-error status 429 content-type text/plain file {body}\n{rules}    \
         http-request deny deny_status 429 if {{ path /429 }}\n    use_backend b2 if {{ path /b2 }}\n    default_backend b1\n\
         backend b1\n    server s 127.0.0.1:{closed}\n\
         backend b2\n    errorfile 503 {be503}\n    server s 127.0.0.1:{closed}\n",
        old = d.join("403-old.http").display(),
        fe503 = d.join("503-fe.http").display(),
        be503 = d.join("503-be.http").display(),
        d404 = f(&d, 404, "default"),
        body = d.join("body.txt").display(),
        rules = deny_rules(),
    );
    let _p = Proxy::start(&cfg);
    let mut c = HttpConn::connect(port);
    let r = c.request(&get("/403")).expect("403");
    assert_eq!(
        r.raw_text(),
        "HTTP/1.0 403 Forbidden\r\ncache-control: no-cache\r\nx-err-type: old\r\n\r\nold style\n"
    );
    c.expect_closed(ms(3000));

    let mut c = HttpConn::connect(port);
    let r = c.request(&get("/x")).expect("503");
    assert_eq!(r.raw_text(), "HTTP/1.1 503 Frontend\r\ncontent-length: 2\r\n\r\nfe");
    let r = c.request(&get("/b2")).expect("503 again, same connection");
    assert_eq!(
        r.raw_text(),
        "HTTP/1.1 503 Backend\r\ncontent-length: 2\r\n\r\nbe",
        "the backend's page wins"
    );

    let r = c.request(&get("/404")).expect("404");
    assert_eq!(
        (r.header("x-err-type"), r.header("content-length")),
        (None, Some("83")),
        "default-errorfiles: built-in"
    );
    let r = c.request(&get("/400")).expect("400");
    assert_eq!((r.status, r.header("content-length"), r.body.len()), (400, Some("0"), 0));
    let r = c.request(&get("/500")).expect("500");
    assert_eq!((r.header("content-type"), r.body.as_slice()), (Some("text/plain"), &b"no luck"[..]));
    let r = c.request(&get("/429")).expect("429");
    assert_eq!((r.status, r.body.as_slice()), (429, &b"from a file"[..]));
}

/// `default-path config`: relative errorfile names are read next to the
/// configuration file; a missing file or an unhandled status is refused
/// with file and line.
#[test]
fn relative_paths_and_refusals() {
    let d = error_dir();
    let port = free_port();
    let cfg_dir = std::env::temp_dir().join(format!("strata-errfiles-cfg-{}-{port}", std::process::id()));
    std::fs::create_dir_all(cfg_dir.join("pages")).expect("dir");
    std::fs::copy(d.join("403-old.http"), cfg_dir.join("pages/403.http")).expect("copy");
    let cfg = format!(
        "global\n    default-path config\ndefaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    \
         timeout server 5s\nfrontend fe\n    bind 127.0.0.1:{port}\n    errorfile 403 pages/403.http\n    http-request deny\n"
    );
    let path = cfg_dir.join("h.cfg");
    std::fs::write(&path, &cfg).expect("cfg");
    let out =
        std::process::Command::new(support::binary()).arg("-c").arg("-f").arg(&path).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let bad = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
               frontend fe\n    bind 127.0.0.1:1\n    errorfile 418 /dev/null\n    errorfile 403 /nonexistent/x.http\n    \
               errorfiles nosuchsection\n";
    let (code, _, err) = Proxy::check(bad);
    assert_eq!(code, 1, "{err}");
    assert!(err.lines().any(|l| l.contains(":8] :") && l.contains("'418'")), "{err}");
    assert!(err.lines().any(|l| l.contains(":9] :") && l.contains("/nonexistent/x.http")), "{err}");
    // as HAProxy: after a parse error no cross-section check runs (the unknown section is not reported)
    assert!(!err.contains("nosuchsection"), "{err}");
}

/// `errorloc`, `errorloc302`, `errorloc303`: the status is answered with
/// a redirect to the URL (HAProxy 2.6's message: `cache-control:
/// no-cache`, an empty body) and the connection stays open; the keywords
/// were refused as not supported yet.
#[test]
fn errorloc_redirects_instead_of_the_page() {
    let port = free_port();
    let closed = support::closed_port();
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 200ms\n    timeout client 5s\n    timeout server 5s\n    retries 0\n    \
         errorloc 500 http://errors.example/500\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    errorloc302 503 http://errors.example/down\n    \
         errorloc303 403 /denied\n    http-request deny if {{ path /403 }}\n    \
         http-request deny deny_status 500 if {{ path /500 }}\n    default_backend b1\n\
         backend b1\n    server s 127.0.0.1:{closed}\n"
    );
    let _p = Proxy::start(&cfg);
    let mut c = HttpConn::connect(port);
    let r = c.request(&get("/x")).expect("503 as 302");
    assert_eq!(
        r.raw_text(),
        "HTTP/1.1 302 Found\r\ncache-control: no-cache\r\ncontent-length: 0\r\nlocation: http://errors.example/down\r\n\r\n"
    );
    let r = c.request(&get("/403")).expect("403 as 303, same connection");
    assert_eq!(
        r.raw_text(),
        "HTTP/1.1 303 See Other\r\ncache-control: no-cache\r\ncontent-length: 0\r\nlocation: /denied\r\n\r\n"
    );
    let r = c.request(&get("/500")).expect("500 as 302, from defaults");
    assert_eq!((r.status, r.header("location")), (302, Some("http://errors.example/500")));

    let bad = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
               frontend fe\n    bind 127.0.0.1:1\n    errorloc 418 http://x/\n    errorloc303 503\n";
    let (code, _, err) = Proxy::check(bad);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.lines().any(|l| l.contains(":8] :") && l.contains("errorloc : status code '418' not handled.")),
        "{err}"
    );
    assert!(
        err.lines().any(|l| l.contains(":9] :")
            && l.contains("errorloc303 : expects <status_code> and <url> as arguments.")),
        "{err}"
    );
}
