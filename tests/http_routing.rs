//! Backend selection by conditions: `use_backend NAME if|unless COND` and
//! `default_backend`, with named `acl`s and anonymous `{ ... }` conditions,
//! the request fetches, the matchers and their suffix forms.
//!
//! Each case starts a proxy whose frontend has the case's `acl` lines and
//! `use_backend hit if COND` (default `be`, served by `miss`), sends one
//! request and reads which server answered (`X-Server`). A case states
//! whether the condition must hold, so every fetch and matcher is checked
//! both ways. All mismatches are reported together.

mod support;

use support::*;

/// One routing case: the frontend's lines, the request, and whether `hit`
/// (rather than the default backend) must answer.
struct Case {
    lines: Vec<String>, // frontend lines; `$FE` stands for the frontend port
    req: Vec<u8>,       // the raw request
    hit: bool,          // `hit` answers (else `miss`)
}

/// `use_backend hit if COND` (COND may use the `acls`).
fn when(acls: &[&str], cond: &str, req: Vec<u8>, hit: bool) -> Case {
    let mut lines: Vec<String> = acls.iter().map(|a| format!("acl {a}")).collect();
    lines.push(format!("use_backend hit {cond}"));
    Case { lines, req, hit }
}

/// An anonymous condition: `use_backend hit if { COND }`.
fn anon(cond: &str, req: Vec<u8>, hit: bool) -> Case {
    when(&[], &format!("if {{ {cond} }}"), req, hit)
}

/// `GET path` with extra header lines.
fn get_with(path: &str, headers: &[&str]) -> Vec<u8> {
    request("GET", path, headers, b"")
}

/// A GET whose `Host` is `host` (instead of `test`).
fn get_host(path: &str, host: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()
}

/// Runs every case on a proxy of its own; one line per case that routed
/// wrongly (or failed), empty if all went as expected.
fn run(cases: &[Case]) -> Vec<String> {
    let (hit, miss) = (HttpBackend::named("hit"), HttpBackend::named("miss"));
    let hit_server = format!("server s1 127.0.0.1:{}", hit.port());
    let mut failures = Vec::new();
    for c in cases {
        let port = free_port();
        let mut cfg = HttpCfg::new(port, Some(miss.port()))
            .section("backend hit", &[&hit_server])
            .section("backend empty", &[]);
        for l in &c.lines {
            cfg = cfg.frontend(&l.replace("$FE", &port.to_string()));
        }
        let _proxy = Proxy::start(&cfg.render());
        let what = format!("{:?} on {:?}", c.lines, String::from_utf8_lossy(&c.req));
        match HttpConn::connect(port).request(&c.req) {
            Ok(r) => {
                let want = if c.hit { "hit" } else { "miss" };
                if r.header("x-server") != Some(want) {
                    failures.push(format!("{what}: want {want}, got {:?}", r.raw_text()));
                }
            }
            Err(e) => failures.push(format!("{what}: {e}")),
        }
    }
    failures
}

fn assert_all(cases: &[Case]) {
    let failures = run(cases);
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn connection_and_proxy_fetches() {
    assert_all(&[
        anon("src 127.0.0.1", get("/"), true),
        anon("src 127.0.0.0/8", get("/"), true),
        anon("src 10.0.0.0/8", get("/"), false),
        anon("src 127.0.0.2", get("/"), false),
        anon("dst_port $FE", get("/"), true),
        anon("dst_port 1:1023", get("/"), false),
        anon("dst_port gt 1023", get("/"), true),
        anon("fe_name fe", get("/"), true),
        anon("fe_name other", get("/"), false),
        anon("nbsrv(hit) eq 1", get("/"), true),
        anon("nbsrv(empty) gt 0", get("/"), false),
        anon("nbsrv(empty) eq 0", get("/"), true),
    ]);
}

#[test]
fn request_line_fetches() {
    assert_all(&[
        anon("method POST", request("POST", "/", &["Content-Length: 0"], b""), true),
        anon("method POST", get("/"), false),
        anon("path /a/b", get("/a/b?x=1"), true),
        anon("path /a/b", get("/a/bc"), false),
        anon("path /x /a/b", get("/a/b"), true),
        anon("url /p?x=1", get("/p?x=1"), true),
        anon("url /p", get("/p?x=1"), false),
        anon("query x=1&y=2", get("/p?x=1&y=2"), true),
        anon("query x=1", get("/p?x=1&y=2"), false),
        anon("base test/p", get("/p?x=1"), true),
        anon("base_beg www.", get("/p"), false),
        anon("base_beg www.", get_host("/p", "www.example.com"), true),
        anon("url_param(id) 42", get("/p?x=1&id=42"), true),
        anon("url_param(id) 42", get("/p?x=1&id=420"), false),
        anon("urlp(id) -m int gt 40", get("/p?id=42"), true),
        anon("url_param(id) -m found", get("/p?x=1"), false),
    ]);
}

#[test]
fn header_fetches() {
    assert_all(&[
        anon("hdr(x-tag) blue", get_with("/", &["X-Tag: blue"]), true),
        anon("hdr(x-tag) blue", get_with("/", &["X-Tag: red"]), false),
        anon("hdr(x-tag) b", get_with("/", &["X-Tag: a, b"]), true),
        anon("hdr(host) -i TEST", get("/"), true),
        anon("hdr(host) TEST", get("/"), false),
        anon("hdr(x-tag) -m found", get_with("/", &["X-Tag: x"]), true),
        anon("hdr(x-tag) -m found", get("/"), false),
        anon("req.hdr_cnt(x-tag) eq 2", get_with("/", &["X-Tag: a", "X-Tag: b"]), true),
        anon("req.hdr_cnt(x-tag) eq 2", get_with("/", &["X-Tag: a, b"]), true),
        anon("req.hdr_cnt(x-tag) gt 2", get_with("/", &["X-Tag: a", "X-Tag: b"]), false),
        anon("req.hdr_cnt(x-tag) eq 0", get("/"), true),
        anon("hdr_dom(host) example.com", get_host("/", "www.example.com"), true),
        anon("hdr_dom(host) ample.com", get_host("/", "www.example.com"), false),
        anon("hdr_beg(x-tag) bl", get_with("/", &["X-Tag: blue"]), true),
        anon("hdr_end(x-tag) ue", get_with("/", &["X-Tag: blue"]), true),
        anon("hdr_sub(x-tag) lu", get_with("/", &["X-Tag: blue"]), true),
        anon("hdr_sub(x-tag) xx", get_with("/", &["X-Tag: blue"]), false),
        anon("hdr_reg(x-tag) ^b.*e$", get_with("/", &["X-Tag: blue"]), true),
        anon("hdr_ip(x-ip) 10.0.0.0/8", get_with("/", &["X-Ip: 10.1.2.3"]), true),
        anon("hdr_ip(x-ip) 10.0.0.0/8", get_with("/", &["X-Ip: 11.1.2.3"]), false),
    ]);
}

#[test]
fn matchers_and_suffix_forms() {
    assert_all(&[
        anon("path -m str /a", get("/a"), true),
        anon("path -m beg /api", get("/api/v1"), true),
        anon("path -m beg /api", get("/ap"), false),
        anon("path -m end .jpg", get("/i/x.jpg"), true),
        anon("path -m sub adm", get("/x/admin/y"), true),
        anon("path -m reg ^/v[0-9]+/", get("/v2/x"), true),
        anon("path -m reg ^/v[0-9]+/", get("/vx/x"), false),
        anon("path -m len 4", get("/abc"), true),
        anon("path -m len 4", get("/abcd"), false),
        anon("hdr(x-n) -m int 5:10", get_with("/", &["X-N: 7"]), true),
        anon("hdr(x-n) -m int 5:10", get_with("/", &["X-N: 11"]), false),
        anon("hdr(x-ip) -m ip 192.168.0.0/16", get_with("/", &["X-Ip: 192.168.4.5"]), true),
        anon("path_beg /api", get("/api/v1"), true),
        anon("path_end .jpg", get("/x.png"), false),
        anon("path_sub adm", get("/admin"), true),
        anon("path_reg ^/[a-z]+$", get("/abc"), true),
        anon("path_dir b", get("/a/b/c"), true),
        anon("path_dir b", get("/a/bc"), false),
        anon("path_len 3", get("/ab"), true),
        anon("url_beg /p?", get("/p?x=1"), true),
        anon("url_sub x=1", get("/p?x=1"), true),
        anon("path -i /ABC", get("/abc"), true),
        anon("path /ABC", get("/abc"), false),
        anon("path_beg -i /API", get("/api/v1"), true),
    ]);
}

#[test]
fn integer_operators_and_ranges() {
    let n = |v: &str| get_with("/", &[&format!("X-N: {v}")]);
    assert_all(&[
        anon("hdr_val(x-n) eq 5", n("5"), true),
        anon("hdr_val(x-n) eq 5", n("6"), false),
        anon("hdr_val(x-n) ge 5", n("5"), true),
        anon("hdr_val(x-n) gt 5", n("5"), false),
        anon("hdr_val(x-n) le 5", n("5"), true),
        anon("hdr_val(x-n) lt 5", n("5"), false),
        anon("hdr_val(x-n) lt 5", n("-3"), true),
        anon("hdr_val(x-n) :10", n("10"), true),
        anon("hdr_val(x-n) 10:", n("9"), false),
        anon("hdr_val(x-n) 1 3 5", n("3"), true),
    ]);
}

#[test]
fn named_acls_and_boolean_logic() {
    let acls = ["api path_beg /api", "post method POST", "blue hdr(x-tag) blue"];
    let post = |path: &str| request("POST", path, &["Content-Length: 0"], b"");
    assert_all(&[
        when(&acls, "if api", get("/api/x"), true),
        when(&acls, "if !api", get("/api/x"), false),
        when(&acls, "if !api", get("/other"), true),
        when(&acls, "unless api", get("/api/x"), false),
        when(&acls, "unless api", get("/other"), true),
        // Implicit AND.
        when(&acls, "if api post", post("/api/x"), true),
        when(&acls, "if api post", get("/api/x"), false),
        // OR.
        when(&acls, "if api || post", post("/other"), true),
        when(&acls, "if api || post", get("/other"), false),
        // AND binds tighter than OR: (api post) || blue.
        when(&acls, "if api post || blue", get_with("/other", &["X-Tag: blue"]), true),
        when(&acls, "if api post || blue", get("/api/x"), false),
        // Negation within an AND, and an anonymous ACL mixed with named ones.
        when(&acls, "if api !post", get("/api/x"), true),
        when(&acls, "if api { hdr(x-tag) red }", get_with("/api/x", &["X-Tag: red"]), true),
        when(&acls, "if !api || { hdr(x-tag) red }", get("/api/x"), false),
        // Two lines for one name: either pattern set matches.
        when(&["two path /a", "two path /b"], "if two", get("/b"), true),
        when(&["two path /a", "two path /b"], "if two", get("/c"), false),
    ]);
}

/// Rules run in order and the first that holds wins; `default_backend`
/// takes what no rule claims.
#[test]
fn first_matching_rule_wins_and_default_takes_the_rest() {
    let (a, b, dflt) = (HttpBackend::named("a"), HttpBackend::named("b"), HttpBackend::named("dflt"));
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(dflt.port()))
        .frontend("use_backend ba if { path_beg /x }")
        .frontend("use_backend bb if { path_beg /x/y }")
        .frontend("use_backend bb if { path_beg /y }")
        .section("backend ba", &[&format!("server s1 127.0.0.1:{}", a.port())])
        .section("backend bb", &[&format!("server s1 127.0.0.1:{}", b.port())]);
    let _proxy = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    let mut served_by = |path: &str| {
        let r = c.request(&get(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        r.header("x-server").unwrap_or("none").to_string()
    };
    assert_eq!(served_by("/x/y"), "a", "the first rule that holds wins");
    assert_eq!(served_by("/y"), "b");
    assert_eq!(served_by("/z"), "dflt", "no rule holds: default_backend");
    assert_eq!(served_by("/x"), "a", "each request of a keep-alive connection is routed anew");
}
