//! Parsing and rendering against a hand-made source, with the outputs
//! HAProxy 2.6 gives for the same formats (the integration tests compare
//! whole log lines with a running HAProxy).

use super::*;
use crate::acl::{HeaderVisitor, SampleSource};
use std::net::SocketAddr;
use std::time::{Duration, UNIX_EPOCH};

struct Fake {
    facts: LogFacts,
    caps: Option<Vec<Option<Box<[u8]>>>>,
    line: Option<[&'static [u8]; 3]>,
}

impl SampleSource for Fake {
    fn src(&self) -> Option<SocketAddr> {
        Some("127.0.0.1:40000".parse().unwrap())
    }
    fn dst(&self) -> Option<SocketAddr> {
        Some("10.0.0.1:80".parse().unwrap())
    }
    fn for_each_req_header(&self, f: HeaderVisitor<'_>) {
        let _ = f(b"x-a", b"v\"1");
    }
    fn frontend_name(&self) -> &str {
        "fe"
    }
}

impl LogSource for Fake {
    fn log_facts(&self) -> Option<&LogFacts> {
        Some(&self.facts)
    }
    fn request_line(&self) -> Option<[&[u8]; 3]> {
        self.line
    }
    fn captures(&self, _: bool) -> Option<&[Option<Box<[u8]>>]> {
        self.caps.as_deref()
    }
}

fn fake() -> Fake {
    let facts = LogFacts {
        accept_date: UNIX_EPOCH + Duration::from_millis(1_795_333_912_685),
        idle_ms: 2,
        head_ms: 3,
        queue_ms: 0,
        connect_ms: 1,
        response_ms: 4,
        total_ms: 12,
        bytes_out: 99,
        status: 200,
        http: true,
        ..LogFacts::NONE
    };
    Fake { facts, caps: None, line: Some([b"GET", b"/a?b=\"1\"", b"HTTP/1.1"]) }
}

fn log(fmt: &str, src: &Fake) -> String {
    LogFormat::parse_for(fmt, Usage::Log { http: true }).unwrap().render(src)
}

#[test]
fn variables_and_flags() {
    let s = fake();
    assert_eq!(log("%ci:%cp %{+X}ci:%{+X}cp", &s), "127.0.0.1:40000 7F000001:9C40");
    assert_eq!(log("%b/%s %{+Q}b", &s), "fe/<NOSRV> \"fe\"");
    assert_eq!(log("%TR/%Tw/%Tc/%Tr/%Ta %Tq %Td %Tt", &s), "3/0/1/4/10 5 2 12");
    assert_eq!(log("%{+Q}r", &s), "\"GET /a?b=#221#22 HTTP/1.1\"");
    assert_eq!(log("%HM %HU %HP %HQ %HV", &s), "GET /a?b=#221#22 /a ?b=#221#22 HTTP/1.1");
    assert_eq!(
        log("[%t] [%tr] %Ts %ms", &s),
        "[22/Nov/2026:07:51:52.685] [22/Nov/2026:07:51:52.687] 1795333912 685"
    );
    assert_eq!(log("%T", &s), "22/Nov/2026:07:51:52 +0000");
    assert_eq!(log("%{+Q}o %ci %{-Q}cp %b", &s), "\"127.0.0.1\" 40000 \"fe\"");
}

#[test]
fn blanks_merge_around_empty_captures() {
    let mut s = fake();
    assert_eq!(log("%ST   %hr %hs %B", &s), "200 99");
    s.caps = Some(vec![Some(b"a|b".to_vec().into()), None]);
    assert_eq!(log("%ST %hr %B", &s), "200 {a#7Cb|} 99");
    assert_eq!(log("%hrl", &s), "a#7Cb -");
    assert_eq!(log("%{+Q}hrl", &s), "\"a#7Cb\" \"\"");
}

#[test]
fn samples_in_logs_and_in_rules() {
    let s = fake();
    let unset = "env(STRATA_TEST_SURELY_UNSET)";
    assert_eq!(log(&format!("%[str(a]b)] %[{unset}] %{{+Q}}[{unset}]"), &s), "a]b - \"\"");
    assert_eq!(log("%{+E}[str(a]b)]", &s), "a\\]b");
    let head = LogFormat::parse_for("%[req.hdr(x-a)]", Usage::Log { http: true }).unwrap_err();
    assert!(head.contains("needs 'HTTP request headers'"), "{head}");
    let rule = LogFormat::parse("%[req.hdr(nope)]x %ci").unwrap();
    assert_eq!(rule.render(&s), "x 127.0.0.1");
    assert_eq!(LogFormat::parse("a%%b").unwrap().as_literal().as_deref(), Some("a%b"));
}

#[test]
fn logasap_counts_have_a_plus() {
    let mut s = fake();
    s.facts.final_counts = false;
    assert_eq!(log("%Tt %B %Ta %U", &s), "+12 +99 +10 0");
}

#[test]
fn haproxy_errors() {
    let tcp = Usage::Log { http: false };
    let e = |f: &str, u| LogFormat::parse_for(f, u).unwrap_err();
    assert_eq!(e("%r", tcp), "format variable 'r' is reserved for HTTP mode");
    assert!(e("%zz", tcp).starts_with("no such format variable 'zz'"));
    assert_eq!(e("abc %", tcp), "truncated line after '%'");
    assert!(e("%1", tcp).starts_with("unexpected variable name near '1' at position 1"));
    assert!(e("%{+Q} x", tcp).starts_with("parse argument modifier without variable name near '%{+Q}'"));
    assert!(e("%[src", tcp).starts_with("missing ']'"));
    assert!(LogFormat::parse_for(HTTP_LOG, Usage::Log { http: true }).is_ok());
    assert!(LogFormat::parse_for(CLF_LOG, Usage::Log { http: true }).is_ok());
    assert!(LogFormat::parse_for(TCP_LOG, tcp).is_ok());
}
