//! The replies of `http-request deny` / `tarpit` / `return` and
//! `http-response deny` / `return` (HAProxy 2.6's "http reply"
//! arguments: `status`, `deny_status`, `content-type`, `string`, `file`,
//! `lf-string`, `lf-file`, `errorfile`, `errorfiles`, `default-errorfiles`,
//! `hdr NAME FMT`), byte for byte as the client receives them: every form
//! works on every one of these actions. Validated against HAProxy 2.6
//! (`STRATA_BIN=/usr/sbin/haproxy`): the expected bytes are HAProxy's.

mod support;

use std::time::{Duration, Instant};
use support::*;

fn setup(cfg: impl FnOnce(HttpCfg) -> HttpCfg) -> (HttpBackend, u16, Proxy) {
    let backend = HttpBackend::named("s1");
    let port = free_port();
    let proxy = Proxy::start(&cfg(HttpCfg::new(port, Some(backend.port()))).render());
    (backend, port, proxy)
}

fn ask(port: u16, path: &str) -> Response {
    HttpConn::connect(port).request(&get(path)).unwrap_or_else(|e| panic!("response to {path}: {e}"))
}

fn text(r: &Response) -> String {
    r.raw_text()
}

fn temp_file(tag: &str, contents: &str) -> String {
    let path =
        std::env::temp_dir().join(format!("strata-replies-{}-{}-{tag}", std::process::id(), free_port()));
    std::fs::write(&path, contents).expect("write");
    path.display().to_string()
}

const PAGE_503: &str = "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\n\
    content-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\n\
    No server is available to handle this request.\n</body></html>\n";

#[test]
fn deny_takes_every_reply_form() {
    let lf = temp_file("lf", "file %[path]");
    let raw = temp_file("raw", "raw file\n");
    let (backend, port, _p) = setup(|c| {
        c.frontend("http-request deny status 404 if { path /status }")
            .frontend("http-request deny deny_status 429 hdr x-a b%[path] if { path /hdr }")
            .frontend("http-request deny content-type text/plain string hi hdr X-C c if { path /string }")
            .frontend("http-request deny deny_status 418 content-type text/plain lf-string p=%[path] if { path /lf }")
            .frontend(&format!("http-request deny content-type text/plain lf-file {lf} if {{ path /lf-file }}"))
            .frontend(&format!("http-request deny status 401 content-type text/plain file {raw} if {{ path /file }}"))
            .frontend("http-request deny deny_status 503 if { path /page }")
            .frontend("http-request deny status 503 default-errorfiles if { path /default }")
            .frontend("http-request deny status 200 if { path /ok }")
    });
    let cases = [
        ("/status", "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n".to_string()),
        ("/hdr", "HTTP/1.1 429 Too Many Requests\r\nx-a: b/hdr\r\ncontent-length: 0\r\n\r\n".into()),
        (
            "/string",
            "HTTP/1.1 403 Forbidden\r\nx-c: c\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nhi"
                .into(),
        ),
        (
            "/lf",
            "HTTP/1.1 418 I'm a teapot\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\np=/lf".into(),
        ),
        (
            "/lf-file",
            "HTTP/1.1 403 Forbidden\r\ncontent-length: 13\r\ncontent-type: text/plain\r\n\r\nfile /lf-file"
                .into(),
        ),
        (
            "/file",
            "HTTP/1.1 401 Unauthorized\r\ncontent-length: 9\r\ncontent-type: text/plain\r\n\r\nraw file\n"
                .into(),
        ),
        ("/page", PAGE_503.into()),
        ("/default", PAGE_503.into()),
        ("/ok", "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".into()),
    ];
    for (path, want) in cases {
        assert_eq!(text(&ask(port, path)), want, "{path}");
    }
    assert!(backend.requests().is_empty(), "nothing reached the server");
}

/// The reply is made when the hold ends. (HAProxy has let go of the
/// request by then, so a fetch of it renders empty there; a variable
/// works on both.)
#[test]
fn tarpit_holds_then_sends_its_reply() {
    let hold = ms(300);
    let (backend, port, _p) = setup(|c| {
        c.defaults(&format!("timeout tarpit {}", cfg_time(Duration::from_millis(300))))
            .frontend(
                "http-request tarpit deny_status 503 content-type text/plain string tarp if { path /str }",
            )
            .frontend("http-request set-var(txn.t) path")
            .frontend("http-request tarpit hdr x-t %[var(txn.t)] if { path /hdr }")
            .frontend("http-request tarpit if { path /plain }")
    });
    let start = Instant::now();
    let r = ask(port, "/str");
    assert!(start.elapsed() >= hold, "held for the tarpit timeout");
    assert_eq!(
        text(&r),
        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\ncontent-type: text/plain\r\n\r\ntarp"
    );
    assert_eq!(
        text(&ask(port, "/hdr")),
        "HTTP/1.1 500 Internal Server Error\r\nx-t: /hdr\r\ncontent-length: 0\r\n\r\n"
    );
    let r = ask(port, "/plain");
    assert_eq!(r.status, 500);
    assert!(r.body.starts_with(b"<html><body><h1>500 Internal Server Error</h1>"), "{}", text(&r));
    assert!(backend.requests().is_empty(), "nothing reached the server");
}

/// `return` on both sides, error files. (A response fetch in a response
/// reply's `hdr` makes HAProxy 2.6 close without an answer; strata
/// renders it. Variables work on both.)
#[test]
fn return_and_response_side_replies() {
    let errfile = temp_file(
        "err",
        "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nX-From: errfile\r\nContent-Length: 4\r\n\r\ngone",
    );
    let (_backend, port, _p) = setup(|c| {
        c.frontend("http-request set-var(txn.p) path")
            .frontend(
                "http-request return status 404 content-type text/plain string x hdr x-d d if { path /ret }",
            )
            .frontend("http-request return content-type text/plain lf-string q=%[query] if { path /lf }")
            .frontend(&format!("http-request deny errorfile {errfile} if {{ path /errfile }}"))
            .frontend("http-request deny status 404 errorfiles errs if { path /errfiles }")
            .backend("http-response deny content-type text/plain string resp if { var(txn.p) -m str /rdeny }")
            .backend("http-response deny if { var(txn.p) -m str /rplain }")
            .backend(
                "http-response return status 201 content-type text/plain string rret hdr x-s %[var(txn.p)] \
                 if { var(txn.p) -m str /rret }",
            )
            .section("http-errors errs", &[&format!("errorfile 404 {errfile}")])
    });
    assert_eq!(
        text(&ask(port, "/ret")),
        "HTTP/1.1 404 Not Found\r\nx-d: d\r\ncontent-length: 1\r\ncontent-type: text/plain\r\n\r\nx"
    );
    assert_eq!(
        text(&ask(port, "/lf?z=1")),
        "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\nq=z=1"
    );
    let from_file = "HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\nx-from: errfile\r\ncontent-length: 4\r\n\r\ngone";
    assert_eq!(text(&ask(port, "/errfile")), from_file);
    assert_eq!(text(&ask(port, "/errfiles")), from_file);
    assert_eq!(
        text(&ask(port, "/rdeny")),
        "HTTP/1.1 502 Bad Gateway or Proxy Error\r\ncontent-length: 4\r\ncontent-type: text/plain\r\n\r\nresp"
    );
    let r = ask(port, "/rplain");
    assert_eq!(r.status, 502);
    assert!(r.body.starts_with(b"<html><body><h1>502 Bad Gateway</h1>"), "{}", text(&r));
    assert_eq!(
        text(&ask(port, "/rret")),
        "HTTP/1.1 201 Created\r\nx-s: /rret\r\ncontent-length: 4\r\ncontent-type: text/plain\r\n\r\nrret"
    );
}

#[test]
fn bad_reply_arguments_are_refused_with_haproxys_words() {
    let cases = [
        ("http-request deny status 600", "Unexpected status code '600'"),
        ("http-request deny string x", "a content type must be defined"),
        ("http-request deny content-type a/b string x file /nonexistent", "'string' already defined"),
        ("http-request tarpit deny_status 418", "status code '418' not handled by default"),
        ("http-request return status 204 content-type a/b string x", "No body expected for 204 responses"),
        ("http-response deny hdr x-a", "'hdr' expects <name> and <value> as arguments"),
        ("http-request deny lf-string %[path]", "a content type must be defined"),
    ];
    for (line, want) in cases {
        let cfg = HttpCfg::new(free_port(), None).frontend(line).render();
        let (code, _, err) = Proxy::check(&cfg);
        assert_ne!(code, 0, "{line}: refused");
        assert!(err.contains(want), "{line}: {err}");
        assert!(err.contains("proxy.cfg:"), "{line}: names the file and line: {err}");
    }
}

/// A content type with no payload, or an empty one, is dropped with
/// HAProxy's warning naming the line; the answer has no `content-type`.
#[test]
fn a_content_type_without_payload_is_dropped_with_a_warning() {
    let port = free_port();
    let cfg = HttpCfg::new(port, None)
        .frontend("http-request return content-type text/plain if { path /none }")
        .frontend("http-request deny content-type text/plain file /dev/null if { path /empty }")
        .render();
    let (code, _, err) = Proxy::check(&cfg);
    assert_eq!(code, 0, "{err}");
    for what in ["neither errorfile nor payload defined", "when used with an empty payload"] {
        let line = err.lines().find(|l| l.contains(what)).unwrap_or_else(|| panic!("warned: {err}"));
        assert!(line.contains("[WARNING]") && line.contains("proxy.cfg:"), "{line}");
        assert!(line.contains("content-type 'text/plain' ignored by the http reply"), "{line}");
    }
    let _p = Proxy::start(&cfg);
    assert_eq!(text(&ask(port, "/none")), "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
    assert_eq!(text(&ask(port, "/empty")), "HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n");
}

/// HAProxy 2.6 warns, and does not refuse, a `content-type` or `hdr` given
/// beside `errorfile`/`errorfiles`/`default-errorfiles` (the file is sent
/// as it is), and a `hdr` naming a header the reply writes itself; strata
/// refused these lines. Each warning names the file and line; the answer
/// is the error file, byte for byte, without the ignored parts.
#[test]
fn what_an_error_file_ignores_is_warned_not_refused() {
    let page = temp_file("page", "HTTP/1.0 403 Forbidden\r\nContent-Type: text/html\r\n\r\n<h1>no</h1>\n");
    let port = free_port();
    let cfg = HttpCfg::new(port, None)
        .frontend(&format!("http-request deny status 403 errorfile {page} hdr x-a b if {{ path /a }}"))
        .frontend(&format!(
            "http-request deny status 403 content-type text/plain errorfile {page} hdr x-a b if {{ path /b }}"
        ))
        .frontend("http-request return status 503 default-errorfiles content-type text/plain if { path /c }")
        .frontend("http-request deny status 403 hdr transfer-encoding chunked hdr x-ok 1 if { path /d }")
        .render();
    let (code, _, err) = Proxy::check(&cfg);
    assert_eq!(code, 0, "{err}");
    let warned = |what: &str| err.lines().filter(|l| l.contains("[WARNING]") && l.contains(what)).count();
    // HAProxy's text says "erorrfile", strata's "errorfile".
    assert_eq!(warned("hdr parameters ignored by the http reply when used with an"), 2, "{err}");
    assert_eq!(warned("content-type 'text/plain' ignored by the http reply when used with an"), 2, "{err}");
    assert_eq!(warned("header 'transfer-encoding' always ignored by the http reply."), 1, "{err}");
    assert!(err.lines().filter(|l| l.contains("[WARNING]")).all(|l| l.contains("proxy.cfg:")), "{err}");
    let _p = Proxy::start(&cfg);
    // The file's header names are sent in lower case, as HAProxy sends them.
    let sent = "HTTP/1.0 403 Forbidden\r\ncontent-type: text/html\r\n\r\n<h1>no</h1>\n";
    assert_eq!(text(&ask(port, "/a")), sent);
    assert_eq!(text(&ask(port, "/b")), sent);
    assert_eq!(text(&ask(port, "/c")), PAGE_503);
    assert_eq!(text(&ask(port, "/d")), "HTTP/1.1 403 Forbidden\r\nx-ok: 1\r\ncontent-length: 0\r\n\r\n");
}
