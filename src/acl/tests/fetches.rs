//! ACL tests: sample fetches.

use super::*;

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
