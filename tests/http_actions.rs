//! `http-request` and `http-response` actions as the wire shows them:
//! deny (HAProxy's exact pages), return, redirect (exact status and
//! Location), header and path rewrites as the server receives them,
//! response rewrites as the client receives them, `option forwardfor` and
//! `option httpclose`.

mod support;

use support::http_answers::*;
use support::*;

/// A proxy in front of a named server with extra `fe` lines.
struct Setup {
    backend: HttpBackend,
    port: u16,
    _proxy: Proxy,
}

fn setup(cfg: impl FnOnce(HttpCfg) -> HttpCfg) -> Setup {
    let backend = HttpBackend::named("s1");
    let port = free_port();
    let _proxy = Proxy::start(&cfg(HttpCfg::new(port, Some(backend.port()))).render());
    Setup { backend, port, _proxy }
}

impl Setup {
    /// One raw request on a fresh connection; its response.
    fn ask(&self, raw: &[u8]) -> Response {
        HttpConn::connect(self.port).request(raw).unwrap_or_else(|e| panic!("response: {e}"))
    }

    /// The request as the server received it (it must have answered).
    fn forwarded(&self, raw: &[u8]) -> Received {
        let before = self.backend.requests().len();
        let r = self.ask(raw);
        assert_eq!(r.header("x-server"), Some("s1"), "answered by the server: {}", r.raw_text());
        self.backend.requests().into_iter().nth(before).expect("the server recorded the request")
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn deny_answers_haproxys_403_and_429_and_nothing_reaches_the_server() {
    let s = setup(|c| {
        c.frontend("http-request deny if { path /deny }")
            .frontend("http-request deny deny_status 429 if { path /slow }")
    });
    assert_eq!(text(&s.ask(&get("/deny")).raw), text(FORBIDDEN_403));
    assert_eq!(text(&s.ask(&get("/slow")).raw), text(TOO_MANY_REQUESTS_429));
    assert_eq!(s.backend.requests().len(), 0, "denied requests never reach the server");
    assert_eq!(s.ask(&get("/")).status, 200, "the condition spares other requests");
}

#[test]
fn return_sends_the_configured_answer() {
    let file = std::env::temp_dir().join(format!("strata-return-{}.html", std::process::id()));
    std::fs::write(&file, "<p>from a file</p>\n").expect("write the return file");
    let s = setup(|c| {
        c.frontend("http-request return status 200 content-type text/plain string hello if { path /s }")
            .frontend(&format!(
                "http-request return status 503 content-type text/html file {} if {{ path /f }}",
                file.display()
            ))
            .frontend("http-request return status 404 if { path /none }")
    });
    let r = s.ask(&get("/s"));
    let f = s.ask(&get("/f"));
    let none = s.ask(&get("/none"));
    let _ = std::fs::remove_file(&file);
    assert_eq!(r.raw_text(), "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\nhello");
    assert_eq!(
        f.raw_text(),
        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 19\r\ncontent-type: text/html\r\n\r\n<p>from a file</p>\n"
    );
    assert_eq!(none.raw_text(), "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
    assert_eq!(s.backend.requests().len(), 0, "answered by the proxy alone");
}

#[test]
fn redirects_carry_the_exact_status_and_location() {
    let s = setup(|c| {
        c.frontend("http-request redirect location /new code 301 if { path /old }")
            .frontend("http-request redirect prefix https://x.example if { path_beg /pre }")
            .frontend("http-request redirect scheme https code 308 if { path_beg /sch }")
    });
    let moved = s.ask(&get("/old"));
    assert_eq!(
        moved.raw_text(),
        "HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /new\r\n\r\n"
    );
    let pre = s.ask(&get("/pre/x?a=1"));
    assert_eq!(
        pre.raw_text(),
        "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: https://x.example/pre/x?a=1\r\n\
         cache-control: no-cache\r\n\r\n"
    );
    let sch = s.ask(&get("/sch?q"));
    assert_eq!((sch.status, sch.header("location")), (308, Some("https://test/sch?q")));
    assert_eq!(s.backend.requests().len(), 0, "redirected requests never reach the server");
}

/// A head strata has nothing to change in goes to the server byte for
/// byte, a large one too (it is sent from the buffer it arrived in); one
/// with a hop-by-hop header arrives without that line and nothing else
/// changed.
#[test]
fn an_unchanged_request_head_reaches_the_server_byte_for_byte() {
    let s = setup(|c| c);
    // 90 headers (HAProxy's limit is 101), about 10 KB.
    let names: Vec<String> = (0..90).map(|i| format!("X-Field-{i:03}: {}", "v".repeat(100))).collect();
    let lines: Vec<&str> = names.iter().map(String::as_str).collect();
    for (label, raw) in [("small", get("/small")), ("10 KB", request("GET", "/large", &lines, b""))] {
        let before = s.backend.bytes_received();
        let got = s.forwarded(&raw);
        assert_eq!(s.backend.bytes_received() - before, raw.len() as u64, "{label}: bytes the server read");
        assert_eq!(got.headers.len(), 1 + if label == "small" { 0 } else { 90 }, "{label}");
    }
    let got = s.forwarded(&request("GET", "/hop", &["Connection: keep-alive", "X-After: 1"], b""));
    let names: Vec<&str> = got.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Host", "X-After"], "the hop-by-hop line alone is gone");
}

#[test]
fn request_header_rewrites_reach_the_server() {
    let s = setup(|c| {
        c.frontend("http-request set-header X-Set new")
            .frontend("http-request add-header X-Add second")
            .frontend("http-request del-header X-Del")
            .frontend("http-request replace-header X-Rep ^(.*)-old$ \\1-new")
            .frontend("http-request set-path /rewritten if { path /orig }")
    });
    let got = s.forwarded(&request(
        "GET",
        "/orig?q=1",
        &["X-Set: old", "X-Set: older", "X-Add: first", "X-Del: gone", "X-Rep: value-old"],
        b"",
    ));
    assert_eq!(got.target, "/rewritten?q=1", "set-path keeps the query");
    let all = |name: &str| -> Vec<&str> {
        got.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    };
    assert_eq!(all("x-set"), ["new"], "set-header replaces every occurrence");
    assert_eq!(all("x-add"), ["first", "second"], "add-header appends");
    assert!(all("x-del").is_empty(), "del-header removes");
    assert_eq!(all("x-rep"), ["value-new"], "replace-header rewrites with back-references");
}

/// `del-header NAME -m str|beg|end|sub|reg` (HAProxy 2.6's del_header
/// regtest): names compare without regard to case, a regex sees the name
/// in lower case; on requests and on responses.
#[test]
fn del_header_match_methods_remove_the_names_they_match() {
    let rules = ["x-str1", "x-str2 -m str", "x-beg -m beg", "end1 -m end", "sub -m sub", "^x.reg.$ -m reg"];
    let s = setup(|mut c| {
        for r in rules {
            c = c.frontend(&format!("http-request del-header {r}"));
            c = c.frontend(&format!("http-response del-header {r}"));
        }
        c
    });
    let names = [
        "X-Always", "X-Str1", "X-Str2", "X-Beg1", "x-beg2", "X-End1", "X-End2", "X-Sub1", "X-Reg1", "X-Reg22",
    ];
    let lines: Vec<String> = names.iter().map(|n| format!("{n}: v")).collect();
    let replies: Vec<String> = lines.iter().map(|l| format!("X-Reply: {l}")).collect();
    let mut all: Vec<&str> = lines.iter().map(String::as_str).collect();
    all.extend(replies.iter().map(String::as_str));
    let got = s.forwarded(&request("GET", "/", &all, b""));
    let kept = |list: Vec<&str>| -> Vec<String> {
        let mut v: Vec<String> = list
            .into_iter()
            .filter(|n| names.iter().any(|m| m.eq_ignore_ascii_case(n)))
            .map(str::to_ascii_lowercase)
            .collect();
        v.sort();
        v
    };
    let expected = ["x-always", "x-end2", "x-reg22"];
    assert_eq!(kept(got.headers.iter().map(|(n, _)| n.as_str()).collect()), expected, "request");
    let r = s.ask(&request("GET", "/", &all, b""));
    assert_eq!(kept(r.headers.iter().map(|(n, _)| n.as_str()).collect()), expected, "response");
}

#[test]
fn response_rewrites_and_deny_reach_the_client() {
    let s = setup(|c| {
        c.backend("http-response set-header X-Resp set")
            .backend("http-response add-header X-Extra added")
            .backend("http-response del-header X-Server")
            .backend("http-response deny if { status 404 }")
    });
    let r = s.ask(&get("/"));
    assert_eq!((r.status, r.body.as_slice()), (200, &b"hello"[..]));
    assert_eq!(r.header("x-resp"), Some("set"));
    assert_eq!(r.header("x-extra"), Some("added"));
    assert_eq!(r.header("x-server"), None, "the server's header was deleted");
    let denied = s.ask(&get("/missing"));
    assert_eq!(text(&denied.raw), text(BAD_GATEWAY_502), "a denied response becomes HAProxy's 502");
    assert_eq!(s.backend.requests_to("/missing"), 1, "the request did reach the server");
}

#[test]
fn forwardfor_tells_the_server_the_client_address() {
    let s = setup(|c| c.defaults("option forwardfor"));
    let got = s.forwarded(&get("/"));
    assert_eq!(got.header("x-forwarded-for"), Some("127.0.0.1"));
    let plain = setup(|c| c);
    assert_eq!(plain.forwarded(&get("/")).header("x-forwarded-for"), None, "only with the option");
}

#[test]
fn httpclose_closes_both_sides_after_one_exchange() {
    let s = setup(|c| c.defaults("option httpclose"));
    let mut c = HttpConn::connect(s.port);
    let r = c.request(&get("/")).expect("response");
    assert_eq!(r.status, 200);
    let end = c.expect_closed(ms(5_000));
    assert!(matches!(end, Closed::Eof(_)), "the client connection is closed after the response: {end:?}");
    let got = s.backend.wait_requests(1, ms(5_000)).expect("the request");
    assert_eq!(got[0].header("connection"), Some("close"), "the server is told to close too");
}
