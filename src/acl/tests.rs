//! Unit tests of the ACL engine, through its public API: declare ACLs,
//! compile conditions, evaluate them against a hand-built source.

use std::net::SocketAddr;

use super::*;
use crate::cfg::{Cond, Loc};

/// A request (and optional response) as the stream layer would expose it.
struct Src {
    src: Option<SocketAddr>,
    dst: Option<SocketAddr>,
    method: Option<&'static str>,
    uri: Option<&'static str>,
    ver: Option<&'static str>,
    req: Vec<(&'static str, &'static str)>,
    status: Option<u16>,
    res: Vec<(&'static str, &'static str)>,
    backend: Option<&'static str>,
}

fn req(method: &'static str, uri: &'static str, headers: &[(&'static str, &'static str)]) -> Src {
    Src {
        src: "192.168.1.10:40000".parse().ok(),
        dst: "10.0.0.1:8080".parse().ok(),
        method: Some(method),
        uri: Some(uri),
        ver: Some("1.1"),
        req: headers.to_vec(),
        status: None,
        res: Vec::new(),
        backend: Some("app"),
    }
}

fn get(uri: &'static str) -> Src {
    req("GET", uri, &[("Host", "www.example.com")])
}

fn walk(list: &[(&str, &str)], f: HeaderVisitor<'_>) {
    for (n, v) in list {
        if f(n.as_bytes(), v.as_bytes()).is_break() {
            return;
        }
    }
}

impl SampleSource for Src {
    fn src(&self) -> Option<SocketAddr> {
        self.src
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.dst
    }
    fn method(&self) -> Option<&[u8]> {
        self.method.map(str::as_bytes)
    }
    fn uri(&self) -> Option<&[u8]> {
        self.uri.map(str::as_bytes)
    }
    fn req_version(&self) -> Option<&[u8]> {
        self.ver.map(str::as_bytes)
    }
    fn for_each_req_header(&self, f: HeaderVisitor<'_>) {
        walk(&self.req, f)
    }
    fn res_status(&self) -> Option<u16> {
        self.status
    }
    fn for_each_res_header(&self, f: HeaderVisitor<'_>) {
        walk(&self.res, f)
    }
    fn frontend_name(&self) -> &str {
        "fe_main"
    }
    fn backend_name(&self) -> Option<&str> {
        self.backend
    }
    fn nbsrv(&self, backend: &str) -> Option<u32> {
        match backend {
            "app" => Some(2),
            "empty" => Some(0),
            _ => None,
        }
    }
    fn custom(&self, name: &str, args: &[ArgValue]) -> Option<Sample<'_>> {
        (name == "test_custom").then_some(Sample::Int(args.len() as i64))
    }
}

fn loc() -> Loc {
    Loc { file: "t.cfg".to_owned(), line: 8 }
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn cond(s: &str) -> Cond {
    Cond { negate: false, words: words(s), loc: loc() }
}

/// Compiles `if <c>` with the given `acl` lines ("name words...").
fn build(acls: &[&str], c: &str) -> Result<Condition, AclError> {
    let mut set = AclSet::new();
    for line in acls {
        let w = words(line);
        set.add(&w[0], &w[1..], &loc())?;
    }
    compile(&cond(c), &set)
}

/// Evaluates an anonymous ACL `{ expr }` against `src`.
fn anon(expr: &str, src: &Src) -> bool {
    match build(&[], &format!("{{ {expr} }}")) {
        Ok(c) => c.eval(src),
        Err(e) => panic!("{expr}: {e}"),
    }
}

/// The error text for `acl x <expr>`.
fn acl_err(expr: &str) -> String {
    let mut set = AclSet::new();
    match set.add("x", &words(expr), &loc()) {
        Ok(()) => panic!("{expr}: accepted"),
        Err(e) => e.to_string(),
    }
}

// ---- fetches ----

#[test]
fn address_fetches() {
    let s = get("/");
    assert!(anon("src 192.168.1.10", &s));
    assert!(anon("src 192.168.0.0/16", &s));
    assert!(!anon("src 10.0.0.0/8", &s));
    assert!(anon("src_port 40000", &s));
    assert!(anon("dst 10.0.0.1", &s));
    assert!(anon("dst_port 8080", &s));
    assert!(!anon("dst_port 80", &s));
    let none = Src { src: None, dst: None, ..get("/") };
    assert!(!anon("src 0.0.0.0/0", &none));
    assert!(!anon("src_port ge 0", &none));
}

#[test]
fn request_line_fetches() {
    let s = get("/a/b.php?x=1&y=2");
    assert!(anon("method GET", &s));
    assert!(!anon("method get", &s));
    assert!(anon("method -i get", &s));
    assert!(anon("path /a/b.php", &s));
    assert!(anon("url /a/b.php?x=1&y=2", &s));
    assert!(anon("query x=1&y=2", &s));
    assert!(anon("base www.example.com/a/b.php", &s));
    assert!(anon("req.ver 1.1", &s));
    assert!(!anon("query -m found", &get("/a")));
    assert!(anon("query -m found", &get("/a?")));
    assert!(anon("query -m len 0", &get("/a?")));
}

#[test]
fn absolute_uri_path() {
    let s = get("http://h.example:81/p/q?z");
    assert!(anon("path /p/q", &s));
    assert!(anon("url_beg http://", &s));
    assert!(anon("base www.example.com/p/q", &s));
    assert!(!anon("path -m found", &get("http://h.example")));
    assert!(anon("path *", &req("OPTIONS", "*", &[])));
}

#[test]
fn base_without_host_is_the_path() {
    let s = req("GET", "/x?y", &[]);
    assert!(anon("base /x", &s));
    let s = req("GET", "/x?y", &[("host", "")]);
    assert!(anon("base /x", &s));
    let s = req("GET", "/x", &[("HOST", "a.b, c.d")]);
    assert!(anon("base a.b/x", &s));
}

#[test]
fn header_values_are_split_on_commas() {
    let s = req("GET", "/", &[("X-F", "a, b ,c"), ("Other", "z"), ("x-f", "\"d,e\", f")]);
    for v in ["a", "b", "c", "\"d,e\"", "f"] {
        assert!(anon(&format!("hdr(x-f) {v}"), &s), "{v}");
        assert!(anon(&format!("req.hdr(X-F) {v}"), &s), "{v}");
    }
    assert!(!anon("hdr(x-f) z", &s));
    assert!(anon("hdr z", &s)); // no name: every header
    assert!(anon("req.fhdr(x-f) -m beg a,", &s));
    assert!(anon("req.fhdr(x-f) -m end ,c", &s));
    assert!(!anon("req.fhdr(x-f) a", &s));
    assert!(anon("hdr_cnt(x-f) 5", &s));
    assert!(anon("req.hdr_cnt(x-f) 5", &s));
    assert!(anon("req.fhdr_cnt(x-f) 2", &s));
    assert!(anon("hdr_cnt(absent) 0", &s));
    assert!(anon("hdr_cnt 6", &s));
}

#[test]
fn header_occurrences() {
    let s = req("GET", "/", &[("X", "a, b"), ("X", "c")]);
    assert!(anon("hdr(x,1) a", &s));
    assert!(!anon("hdr(x,1) b", &s));
    assert!(anon("hdr(x,2) b", &s));
    assert!(anon("hdr(x,-1) c", &s));
    assert!(anon("hdr(x,-3) a", &s));
    assert!(!anon("hdr(x,-4) -m found", &s));
    assert!(!anon("hdr(x,4) -m found", &s));
    assert!(anon("req.fhdr(x,1) -m end b", &s));
    assert!(anon("req.fhdr(x,-1) c", &s));
}

#[test]
fn url_params() {
    let s = get("/p?a=1&b=two;c&a=3");
    assert!(anon("url_param(a) 1", &s));
    assert!(anon("url_param(a) 3", &s));
    assert!(anon("urlp(b) two", &s));
    assert!(anon("url_param(c) -m found", &s));
    assert!(anon("url_param(c) -m len 0", &s));
    assert!(!anon("url_param(d) -m found", &s));
    assert!(anon("url_param two", &s)); // no name: every parameter
    assert!(anon("urlp_val(a) gt 2", &s));
    assert!(anon("url_param(k,;) v", &get("/p;k=v")));
    assert!(!anon("url_param(a) -m found", &get("/p")));
}

#[test]
fn proxy_and_response_fetches() {
    let mut s = get("/");
    assert!(anon("fe_name fe_main", &s));
    assert!(anon("be_name app", &s));
    assert!(anon("nbsrv(app) 2", &s));
    assert!(anon("nbsrv(empty) lt 1", &s));
    assert!(!anon("nbsrv(unknown) ge 0", &s));
    assert!(anon("nbsrv 2", &s)); // current backend
    assert!(!anon("status 200", &s)); // no response yet: no sample
    assert!(!anon("res.hdr(server) -m found", &s));
    s.status = Some(503);
    s.res = vec![("Server", "x, y"), ("Cache-Control", "no-cache")];
    assert!(anon("status 500:599", &s));
    assert!(anon("res.hdr(server) y", &s));
    assert!(anon("shdr(server) x", &s));
    assert!(anon("res.hdr_cnt(server) 2", &s));
    assert!(anon("res.fhdr(server) -m sub ,", &s));
    s.backend = None;
    assert!(!anon("be_name -m found", &s));
    assert!(!anon("nbsrv ge 0", &s));
}

#[test]
fn constant_fetches() {
    let s = get("/");
    assert!(anon("always_true", &s));
    assert!(!anon("always_false", &s));
    assert!(anon("int(42) 42", &s));
    assert!(anon("int(-3) lt 0", &s));
    assert!(anon("str(abc) abc", &s));
    assert!(anon("str(abc) -m beg ab", &s));
    assert!(anon("str -m len 0", &s));
}

// ---- matchers ----

#[test]
fn string_matchers() {
    let s = get("/static/img/Logo.PNG");
    assert!(anon("path -m str /static/img/Logo.PNG", &s));
    assert!(anon("path -m beg /static/", &s));
    assert!(anon("path_beg /static/", &s));
    assert!(!anon("path_beg /img", &s));
    assert!(anon("path_end .PNG", &s));
    assert!(!anon("path_end .png", &s));
    assert!(anon("path_end -i .png", &s));
    assert!(anon("path_sub img/Lo", &s));
    assert!(anon("path -m sub -i IMG/lo", &s));
    assert!(anon("path_len 20", &s));
    assert!(anon("path_len gt 10", &s));
    assert!(anon("path_reg ^/static/.*\\.PNG$", &s));
    assert!(!anon("path_reg \\.png$", &s));
    assert!(anon("path_reg -i \\.png$", &s));
    assert!(anon("path -m found", &s));
    assert!(anon("path_beg /nope /static", &s)); // any pattern
}

#[test]
fn dir_and_dom() {
    let s = get("/api/v1/users?x=/admin");
    assert!(anon("path_dir v1", &s));
    assert!(anon("path_dir /api/v1", &s));
    assert!(anon("path_dir /users/", &s));
    assert!(!anon("path_dir v", &s));
    assert!(!anon("path_dir pi", &s));
    assert!(anon("url_dir admin", &s)); // `?` delimits too
    let h = req("GET", "/", &[("Host", "www.Example.com:8080")]);
    assert!(!anon("hdr_dom(host) example.com", &h));
    assert!(anon("hdr_dom(host) -i example.com", &h));
    assert!(anon("hdr_dom(host) www", &h));
    assert!(anon("hdr_dom(host) 8080", &h));
    assert!(!anon("hdr_dom(host) ample.com", &h));
    assert!(anon("hdr_dom(host) .www.Example.", &h)); // own dots ignored
    assert!(!anon("hdr_dir(host) www", &h));
}

#[test]
fn header_suffix_forms() {
    let s = req("GET", "/", &[("Host", "api.example.com"), ("X-Len", "12"), ("X-Ip", "10.1.2.3")]);
    assert!(anon("hdr_beg(host) api.", &s));
    assert!(anon("hdr_end(host) .com", &s));
    assert!(anon("hdr_sub(host) example", &s));
    assert!(anon("hdr_reg(host) ^api\\.", &s));
    assert!(anon("hdr_len(host) 15", &s));
    assert!(anon("hdr_val(x-len) ge 10", &s));
    assert!(anon("hdr_ip(x-ip) 10.0.0.0/8", &s));
    assert!(anon("base_beg api.example.com/", &s));
    assert!(anon("url_beg / ", &s));
    assert!(anon("hdr(host) -m end .com", &s));
}

#[test]
fn explicit_match_overrides_suffix_and_last_wins() {
    let s = get("/abc");
    assert!(anon("path_beg -m str /abc", &s));
    assert!(!anon("path_beg -m str /ab", &s));
    assert!(anon("path -m beg -m end bc", &s));
}

#[test]
fn integer_operators_and_ranges() {
    let s = get("/"); // dst_port 8080
    for (expr, want) in [
        ("dst_port 8080", true),
        ("dst_port eq 8080", true),
        ("dst_port ne 8080", false),
        ("dst_port ne 80", true),
        ("dst_port gt 8080", false),
        ("dst_port gt 8079", true),
        ("dst_port ge 8080", true),
        ("dst_port lt 8080", false),
        ("dst_port lt 8081", true),
        ("dst_port le 8080", true),
        ("dst_port 8000:9000", true),
        ("dst_port 8000-9000", true),
        ("dst_port 8081:", false),
        ("dst_port 8080:", true),
        ("dst_port :8080", true),
        ("dst_port :8079", false),
        ("dst_port -- -8080", true), // `-M` is `:M`
        ("dst_port lt 10 20 8080", false),
        ("dst_port lt 10 20 9000", true),
        ("dst_port gt 10 20", true),
        ("dst_port lt 10 eq 8080", true),
        ("dst_port 80 443 8080", true),
    ] {
        assert_eq!(anon(expr, &s), want, "{expr}");
    }
}

#[test]
fn casts_between_types() {
    let s = get("/123abc");
    assert!(anon("src -m beg 192.168.", &s));
    assert!(anon("src -m str 192.168.1.10", &s));
    assert!(anon("dst_port -m str 8080", &s));
    assert!(anon("dst_port -m reg ^80", &s));
    assert!(anon("str(10.1.1.1) -m ip 10.0.0.0/8", &s));
    assert!(!anon("str(nope) -m ip 0.0.0.0/0", &s));
    assert!(anon("str(17abc) -m int 17", &s));
    assert!(!anon("str() -m int 0", &s));
    assert!(anon("int(1) -m bool", &s));
    assert!(!anon("int(0) -m bool", &s));
    assert!(anon("always_true -m int 1", &s));
}

#[test]
fn ipv4_and_ipv6_networks() {
    let mut s = get("/");
    assert!(anon("src 192.168.1.0/24 ::1", &s));
    assert!(anon("src 192.168.1.10/32", &s));
    assert!(anon("src 192.168.0.0/255.255.0.0", &s));
    assert!(anon("src 0.0.0.0/0", &s));
    assert!(!anon("src 192.168.2.0/24", &s));
    assert!(anon("src ::ffff:192.168.1.0/120", &s)); // v4 sample, v4-mapped pattern
    let localhost = |s: &Src| build(&[], "LOCALHOST").map(|c| c.eval(s)).ok();
    assert_eq!(localhost(&Src { src: "127.0.0.2:1".parse().ok(), ..get("/") }), Some(true));
    s.src = "[2001:db8::5]:1234".parse().ok();
    assert!(anon("src 2001:db8::/32", &s));
    assert!(!anon("src 2001:db9::/32", &s));
    assert!(anon("src 2001:db8::5", &s));
    assert!(!anon("src 10.0.0.0/8", &s));
    assert!(anon("src ::/0", &s));
    s.src = "[::ffff:10.1.2.3]:1".parse().ok();
    assert!(anon("src 10.0.0.0/8", &s)); // v4-mapped sample, v4 pattern
    s.src = "[::1]:1".parse().ok();
    assert_eq!(localhost(&s), Some(true));
}

#[test]
fn pattern_files() {
    let dir = std::env::temp_dir().join(format!("strata-acl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok();
    let file = dir.join("paths.lst");
    std::fs::write(&file, "# admin paths\n  /admin\n\n/login\r\n").ok();
    let f = file.display().to_string();
    assert!(anon(&format!("path_beg -f {f}"), &get("/admin/x")));
    assert!(anon(&format!("path -f {f}"), &get("/login")));
    assert!(anon(&format!("path -f {f} /other"), &get("/other")));
    assert!(!anon(&format!("path -f {f}"), &get("/# admin paths")));
    assert!(anon(&format!("path -i -f {f}"), &get("/LOGIN")));
    let bad = dir.join("ports.lst");
    std::fs::write(&bad, "# c\n  10 \n").ok();
    let b = bad.display().to_string();
    assert_eq!(
        acl_err(&format!("dst_port -f {b}")),
        format!("error detected while parsing ACL 'x' : '10 ' is not a number at line 2 of file '{b}'.")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn flags_and_end_of_flags() {
    let s = get("/-x");
    assert!(anon("path -- /-x", &s));
    assert!(anon("path -n /-x", &s));
    assert!(!anon("path /a -i /-X", &get("/-i")));
    assert!(anon("str(-i) /a -i", &get("/"))); // flags only before patterns
}

#[test]
fn acl_without_patterns_never_matches() {
    assert!(!anon("path_beg", &get("/")));
    assert!(!anon("path_beg -i", &get("/")));
}

// ---- conditions ----

#[test]
fn named_acls_or_their_declarations() {
    let acls = ["api path_beg /api", "api hdr(host) api.example.com", "static path_end .css"];
    let c = build(&acls, "api").ok();
    let c = c.as_ref();
    assert_eq!(c.map(|c| c.eval(&get("/api/x"))), Some(true));
    assert_eq!(c.map(|c| c.eval(&req("GET", "/", &[("host", "api.example.com")]))), Some(true));
    assert_eq!(c.map(|c| c.eval(&get("/"))), Some(false));
}

#[test]
fn negation_and_unless() {
    let acls = ["api path_beg /api"];
    let eval = |c: &str, s: &Src| build(&acls, c).map(|c| c.eval(s)).ok();
    assert_eq!(eval("!api", &get("/api")), Some(false));
    assert_eq!(eval("!api", &get("/")), Some(true));
    assert_eq!(eval("! api", &get("/")), Some(true));
    assert_eq!(eval("!!api", &get("/api")), Some(true));
    assert_eq!(eval("! !api", &get("/api")), Some(true));
    let set = {
        let mut set = AclSet::new();
        set.add("api", &words("path_beg /api"), &loc()).ok();
        set
    };
    let unless = Cond { negate: true, words: words("api"), loc: loc() };
    assert_eq!(compile(&unless, &set).map(|c| c.eval(&get("/api"))).ok(), Some(false));
    assert_eq!(compile(&unless, &set).map(|c| c.eval(&get("/"))).ok(), Some(true));
}

#[test]
fn and_binds_tighter_than_or() {
    let acls = ["a path_sub a", "b path_sub b", "c path_sub c"];
    let eval = |c: &str, p: &'static str| build(&acls, c).map(|c| c.eval(&get(p))).ok();
    // a b || c  ==  (a && b) || c
    assert_eq!(eval("a b || c", "/ab"), Some(true));
    assert_eq!(eval("a b || c", "/c"), Some(true));
    assert_eq!(eval("a b || c", "/a"), Some(false));
    assert_eq!(eval("a b or c", "/b"), Some(false));
    assert_eq!(eval("a b OR c", "/bc"), Some(true));
    // a || b c  ==  a || (b && c)
    assert_eq!(eval("a || b c", "/a"), Some(true));
    assert_eq!(eval("a || b c", "/b"), Some(false));
    assert_eq!(eval("a || b c", "/bc"), Some(true));
    // negation applies to one term only
    assert_eq!(eval("!a b", "/b"), Some(true));
    assert_eq!(eval("!a b", "/ab"), Some(false));
    // stray operators are tolerated as HAProxy does
    assert_eq!(eval("|| a ||", "/a"), Some(true));
    assert_eq!(eval("a || || b", "/b"), Some(true));
}

#[test]
fn anonymous_acls() {
    let acls = ["a path_sub a"];
    let eval = |c: &str, p: &'static str| build(&acls, c).map(|c| c.eval(&get(p))).ok();
    assert_eq!(eval("{ path_beg /x }", "/xy"), Some(true));
    assert_eq!(eval("a { path_end z }", "/az"), Some(true));
    assert_eq!(eval("a { path_end z }", "/a"), Some(false));
    assert_eq!(eval("!{ path_end z } a", "/a"), Some(true));
    assert_eq!(eval("{ path_end z } || { path_beg /q }", "/q"), Some(true));
    assert_eq!(eval("{ hdr(host) -i WWW.EXAMPLE.COM }", "/"), Some(true));
}

#[test]
fn empty_condition_is_false_unless_negated() {
    assert_eq!(build(&[], "").map(|c| c.eval(&get("/"))).ok(), Some(false));
    assert_eq!(build(&[], "!").map(|c| c.eval(&get("/"))).ok(), Some(false));
    let unless = Cond { negate: true, words: Vec::new(), loc: loc() };
    assert_eq!(compile(&unless, &AclSet::new()).map(|c| c.eval(&get("/"))).ok(), Some(true));
}

#[test]
fn predefined_acls() {
    let eval = |c: &str, s: &Src| build(&[], c).map(|c| c.eval(s)).ok();
    let g = get("/");
    assert_eq!(eval("TRUE", &g), Some(true));
    assert_eq!(eval("FALSE", &g), Some(false));
    assert_eq!(eval("HTTP", &g), Some(true));
    assert_eq!(eval("HTTP_1.1", &g), Some(true));
    assert_eq!(eval("HTTP_1.0", &g), Some(false));
    assert_eq!(eval("METH_GET", &g), Some(true));
    assert_eq!(eval("METH_GET", &req("HEAD", "/", &[])), Some(true));
    assert_eq!(eval("METH_POST", &g), Some(false));
    assert_eq!(eval("METH_POST", &req("POST", "/", &[])), Some(true));
    for m in ["PUT", "DELETE", "OPTIONS", "CONNECT", "TRACE", "HEAD"] {
        let s = req(m, "/", &[]);
        assert_eq!(eval(&format!("METH_{m}"), &s), Some(true), "{m}");
    }
    assert_eq!(eval("HTTP_URL_SLASH", &g), Some(true));
    assert_eq!(eval("HTTP_URL_ABS", &get("http://a/b")), Some(true));
    assert_eq!(eval("HTTP_URL_STAR", &req("OPTIONS", "*", &[])), Some(true));
    assert_eq!(eval("LOCALHOST", &g), Some(false));
    // a declared ACL of the same name wins
    assert_eq!(build(&["TRUE always_false"], "TRUE").map(|c| c.eval(&g)).ok(), Some(false));
}

#[test]
fn custom_fetch_extension_point_stays_inert_without_keywords() {
    // No custom keyword is registered yet: the name is unknown.
    assert_eq!(
        acl_err("test_custom 1"),
        "error detected while parsing ACL 'x' : unknown fetch method 'test_custom' in ACL expression 'test_custom'."
    );
    assert_eq!(get("/").custom("test_custom", &[ArgValue::Int(1)]), Some(Sample::Int(1)));
}

// ---- errors (wording checked against `haproxy -c`, 2.6.12) ----

#[test]
fn acl_declaration_errors() {
    let p = "error detected while parsing ACL 'x' : ";
    for (expr, msg) in [
        ("foo", "unknown fetch method 'foo' in ACL expression 'foo'"),
        ("", "missing fetch method in ACL expression ''"),
        ("(host) /a", "missing fetch method in ACL expression '(host)'"),
        ("src 10.0.0.0/33", "'10.0.0.0/33' is not a valid IPv4 or IPv6 address"),
        ("src 300.1.1.1", "'300.1.1.1' is not a valid IPv4 or IPv6 address"),
        ("dst 1.2.3.4/", "'1.2.3.4/' is not a valid IPv4 or IPv6 address"),
        ("src_port abc", "'abc' is not a number"),
        ("dst_port 99999999999999999999", "'99999999999999999999' is not a number"),
        ("dst_port +5", "'+5' is not a number"),
        ("dst_port 5:3", "'5:3' is not a valid number range"),
        ("dst_port :", "':' is not a valid number range"),
        ("dst_port 1:2:3", "'1:2:3' is not a valid number range"),
        ("dst_port gt abc", "'abc' is neither a number nor a supported operator"),
        ("path -m foo /a", "unknown matching method 'foo' when parsing ACL expression"),
        ("path -m", "unknown matching method '' when parsing ACL expression"),
        ("path -f", "failed to open pattern file <>"),
        ("path -f /nonexistent/x", "failed to open pattern file </nonexistent/x>"),
        (
            "path -z /a",
            "'-z' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'",
        ),
        (
            "dst_port -5",
            "'-5' is not a valid ACL option. Please use '--' before any pattern beginning with a '-'",
        ),
        ("hdr(host,abc) /a", "ACL keyword 'hdr' : failed to parse 'abc' as type 'integer' at position 2"),
        ("hdr(host /a", "ACL keyword 'hdr' : expected ')'"),
        ("hdr(host)x /a", "ACL keyword 'hdr' : missing comma after fetch keyword"),
        ("path_beg(x) /a", "ACL keyword 'path_beg' : expected ')' before 'x)'"),
        (
            "req.hdr(host,abc) /a",
            "fetch method 'req.hdr' : failed to parse 'abc' as type 'integer' at position 2 in ACL expression 'req.hdr(host,abc)'",
        ),
        (
            "req.hdr(host,1,2) /a",
            "fetch method 'req.hdr' : expected ')' before ',2)' in ACL expression 'req.hdr(host,1,2)'",
        ),
        (
            "int(abc) 1",
            "fetch method 'int' : failed to parse 'abc' as type 'integer' at position 1 in ACL expression 'int(abc)'",
        ),
        (
            "int 1",
            "fetch method 'int' : expected type 'integer' at position 1, but got nothing in ACL expression 'int'",
        ),
        ("fe_name(x) a", "fetch method 'fe_name' : expected ')' before 'x)' in ACL expression 'fe_name(x)'"),
        ("path,lower /a", "ACL keyword 'path' : converter 'lower' is not supported"),
    ] {
        assert_eq!(acl_err(expr), format!("{p}{msg}."), "{expr}");
    }
    let e = acl_err("path_reg (");
    assert!(e.starts_with("error detected while parsing ACL 'x' : regex '(' is invalid (error="), "{e}");
}

#[test]
fn acl_name_errors() {
    let mut set = AclSet::new();
    let e = set.add("x!", &words("path /a"), &loc()).err().map(|e| e.to_string());
    assert_eq!(e.as_deref(), Some("character '!' is not permitted in acl name 'x!'"));
    assert!(set.add("x.y-z_:a", &words("path /a"), &loc()).is_ok());
    assert!(set.add("", &words("path /a"), &loc()).is_err());
}

#[test]
fn condition_errors() {
    let err = |acls: &[&str], c: &str| build(acls, c).err().map(|e| e.to_string());
    assert_eq!(err(&[], "y").as_deref(), Some("no such ACL : 'y'"));
    assert_eq!(err(&[], "TRUE }").as_deref(), Some("no such ACL : '}'"));
    assert_eq!(err(&[], "{ path /a").as_deref(), Some("missing closing '}' in condition"));
    assert_eq!(err(&[], "{ }").as_deref(), Some("missing fetch method in ACL expression ''"));
    assert_eq!(err(&[], "{ foo }").as_deref(), Some("unknown fetch method 'foo' in ACL expression 'foo'"));
    assert_eq!(err(&["a path /a"], "a || b").as_deref(), Some("no such ACL : 'b'"));
    let e = build(&[], "nope").err();
    assert_eq!(e.as_ref().map(|e| e.loc().line), Some(8));
}

// ---- robustness ----

#[test]
fn conditions_are_shareable_between_workers() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Condition>();
    shareable::<AclSet>();
}

/// xorshift64*: a tiny seeded PRNG; the seed is printed so a failure replays with SEED=.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

#[test]
fn random_words_never_panic() {
    let seed = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5EED_AC1D_u64);
    println!("seed {seed}");
    let vocab = [
        "path",
        "path_beg",
        "hdr(host)",
        "hdr(x,-1)",
        "hdr(",
        "hdr(a,b,c)",
        "req.hdr(x,0)",
        "url_param(a)",
        "src",
        "dst_port",
        "status",
        "nbsrv",
        "int(5)",
        "str(x)",
        "base_dom",
        "query",
        "hdr_cnt",
        "always_true",
        "-i",
        "-m",
        "-f",
        "-n",
        "--",
        "-",
        "reg",
        "beg",
        "dir",
        "dom",
        "len",
        "found",
        "bool",
        "int",
        "ip",
        "str",
        "eq",
        "ne",
        "gt",
        "lt",
        "ge",
        "le",
        "1",
        "-1",
        "0:",
        ":0",
        "5:3",
        "9223372036854775807",
        "-9223372036854775808",
        "10.0.0.0/8",
        "::/0",
        "1.2.3.4/99",
        "(",
        ")",
        "[",
        "a{99999}",
        "\\",
        "*",
        "?",
        "^$",
        "/",
        "",
        "{",
        "}",
        "!",
        "!!",
        "||",
        "or",
        "a",
        "b",
        "TRUE",
        "METH_GET",
        "é",
        "\u{0}",
    ];
    let uris = ["/", "", "*", "?", "http://", "http://h", "/a?b=c&&=;", "x://y/z?", "/\u{ff}"];
    let mut rng = Rng(seed);
    for _ in 0..20_000 {
        let n = (rng.next() % 7) as usize;
        let acl_words: Vec<String> = (0..n).map(|_| rng.pick(&vocab).to_owned()).collect();
        let mut set = AclSet::new();
        let _ = set.add("a", &acl_words, &loc());
        let _ = set.add(rng.pick(&vocab), &acl_words, &loc());
        let m = (rng.next() % 8) as usize;
        let cw: Vec<String> = (0..m).map(|_| rng.pick(&vocab).to_owned()).collect();
        let c = Cond { negate: rng.next().is_multiple_of(2), words: cw, loc: loc() };
        if let Ok(c) = compile(&c, &set) {
            let uri = rng.pick(&uris);
            let s = req("GET", uri, &[("host", rng.pick(&uris)), ("x", ",,\"a,")]);
            let _ = c.eval(&s);
        }
    }
}
