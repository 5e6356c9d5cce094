//! Unit tests of the ACL engine, through its public API: declare ACLs,
//! compile conditions, evaluate them against a hand-built source. This
//! module holds the hand-built source and the helpers; the tests are split
//! by concern: fetches, matchers, conditions, errors and robustness.

use std::net::SocketAddr;

use super::*;
use crate::cfg::{Cond, Loc};

mod conditions;
mod errors;
mod fetches;
mod matchers;
mod robustness;

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
