//! Replies with log-format parts, as HAProxy 2.6 builds them
//! (reg-tests/http-errorfiles/http-error.vtc): `http-error status N ...
//! hdr NAME FMT lf-string FMT` pages rendered for each answer, the
//! `return` action's `default-errorfiles`, `errorfiles NAME`,
//! `errorfile F`, `lf-string`; a header whose value renders empty is left
//! out; `content-type` only with a body. Refusals name file and line.
//! Validated against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use support::{HttpConn, Proxy, free_port, get};

fn page_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-errfmt-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).expect("dir");
    let page = "HTTP/1.1 404 Not Found\r\nX-Err-Type: errors-1\r\nContent-Length: 4\r\n\r\nnope";
    std::fs::write(dir.join("404.http"), page).expect("write");
    std::fs::write(dir.join("body.lf"), "file says %[path]").expect("write");
    dir
}

#[test]
fn pages_with_formats_are_rendered_for_each_answer() {
    let d = page_dir();
    let port = free_port();
    let cfg = format!(
        "http-errors errors-1\n    errorfile 404 {e404}\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n\
         \x20   http-error status 200 content-type \"text/plain\" hdr x-path \"path=%[path]\" lf-string \"The path is \\\"%[path]\\\"\"\n\
         \x20   http-error status 403 content-type text/plain hdr x-empty \"%[req.hdr(x-none)]\" hdr x-lit yes lf-file {lf}\n\
         \x20   http-error status 503 hdr x-q \"%[query]\"\n\
         \x20   http-after-response set-header x-after %[status]\n\
         \x20   http-request return status 200 default-errorfiles if {{ path /200 }}\n\
         \x20   http-request return status 404 errorfiles errors-1 if {{ path /404 }}\n\
         \x20   http-request return status 500 errorfiles errors-1 if {{ path /500 }}\n\
         \x20   http-request return status 201 content-type text/plain lf-string \"made %[method]\" if {{ path /201 }}\n\
         \x20   http-request deny deny_status 503 if {{ path /503 }}\n\
         \x20   http-request deny\n",
        e404 = d.join("404.http").display(),
        lf = d.join("body.lf").display(),
    );
    let _p = Proxy::start(&cfg);
    let mut c = HttpConn::connect(port);
    let r = c.request(&get("/200")).expect("200");
    assert_eq!(r.status, 200, "{}", r.raw_text());
    assert_eq!(r.header("x-path"), Some("path=/200"));
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(r.body, b"The path is \"/200\"");
    assert_eq!(r.header("x-after"), Some("200"), "http-after-response sees the rendered page");
    let r = c.request(&get("/200")).expect("200 again, same connection");
    assert_eq!(r.body, b"The path is \"/200\"");

    // deny: the 403 page with an lf-file body; an empty header is left out.
    let r = c.request(&get("/other")).expect("403");
    assert_eq!(r.status, 403);
    assert_eq!((r.header("x-empty"), r.header("x-lit")), (None, Some("yes")));
    assert_eq!(r.body, b"file says /other");
    assert_eq!(r.header("content-length"), Some("16"));

    // A page without a body: no content-type, the header rendered.
    let r = c.request(&get("/503?k=v")).expect("503");
    assert_eq!((r.status, r.header("x-q"), r.header("content-type")), (503, Some("k=v"), None));
    assert_eq!(r.header("content-length"), Some("0"));

    // errorfiles NAME: the section's page; a status it lacks is an empty
    // answer (with a warning at start-up).
    let r = c.request(&get("/404")).expect("404");
    assert_eq!((r.status, r.header("x-err-type")), (404, Some("errors-1")));
    let r = c.request(&get("/500")).expect("500");
    assert_eq!((r.status, r.header("content-length"), r.body.len()), (500, Some("0"), 0), "{}", r.raw_text());

    let mut c = HttpConn::connect(port);
    let r = c.request(&get("/201")).expect("201");
    assert_eq!((r.status, r.body.as_slice()), (201, &b"made GET"[..]));
}

#[test]
fn bad_replies_are_refused_with_file_and_line() {
    let head = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n\
                frontend fe\n    bind 127.0.0.1:1\n";
    for (line, want) in [
        ("http-error status 500 lf-string \"x%[path]\"", "content type"),
        ("http-error status 400 hdr x-a \"%[path\"", "]"),
        ("http-error status 400 content-type text/plain lf-string \"%[nosuchfetch]\"", "nosuchfetch"),
        ("http-request return status 201 default-errorfiles", "201"),
        ("http-request return status 200 content-type text/plain lf-string \"%[path\"", "]"),
    ] {
        let (code, _, err) = Proxy::check(&format!("{head}    {line}\n"));
        assert_eq!(code, 1, "{line}: {err}");
        assert!(err.lines().any(|l| l.contains(":8]") && l.contains(want)), "{line}: {err}");
    }
    // HAProxy 2.6 warns and ignores a `hdr` or `content-type` next to an
    // errorfile, and a `hdr` the page writes itself (HAProxy's text spells
    // it "erorrfile").
    for (line, want) in [
        (
            "http-error status 403 default-errorfiles hdr x-a b",
            "hdr parameters ignored by the http reply when used with an",
        ),
        (
            "http-error status 403 content-type a/b default-errorfiles",
            "content-type 'a/b' ignored by the http reply when used with an",
        ),
        (
            "http-error status 403 content-type a/b string x hdr content-length 5",
            "header 'content-length' always ignored by the http reply.",
        ),
    ] {
        let (code, _, err) = Proxy::check(&format!("{head}    {line}\n"));
        assert_eq!(code, 0, "{line}: {err}");
        assert!(
            err.lines().any(|l| l.contains("[WARNING]") && l.contains(":8]") && l.contains(want)),
            "{line}: {err}"
        );
    }
    let (code, _, err) = Proxy::check(&format!("{head}    http-request return errorfiles nosuch\n"));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("'nosuch'"), "{err}");
}

/// An `fcgi-app` section is read and checked as HAProxy reads it
/// (HAProxy's `restrict_req_hdr_names.vtc` declares one it never uses);
/// using one is refused (FastCGI is not supported yet).
#[test]
fn fcgi_app_sections_are_checked() {
    let head = "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n\
                frontend fe\n    bind 127.0.0.1:1\n";
    let ok = format!("{head}fcgi-app app\n    docroot /tmp\n    option keep-conn\n    set-param A %[path]\n");
    let (code, _, err) = Proxy::check(&ok);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) =
        Proxy::check(&format!("{head}fcgi-app app\n    docroot\n    bogus x\nfcgi-app app\n"));
    assert_eq!(code, 1, "{err}");
    for (line, want) in [(9, "'docroot' expects <path>"), (10, "unknown keyword 'bogus'"), (11, "same name")]
    {
        assert!(err.lines().any(|l| l.contains(&format!(":{line}]")) && l.contains(want)), "{line}: {err}");
    }
    if !support::under_haproxy() {
        let (code, _, err) = Proxy::check(&format!("{ok}backend b\n    use-fcgi-app app\n"));
        assert_eq!(code, 1, "FastCGI is not supported: {err}");
    }
}
