//! ACL tests: named and anonymous conditions, negation, precedence.

use super::*;

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
