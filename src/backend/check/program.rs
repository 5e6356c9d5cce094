//! A proxy's checks as a program: the rules of the check kind in use,
//! completed as HAProxy's `check_proxy_tcpcheck` completes them (a first
//! implicit connect, the HTTP request moved after a first connect, an
//! implicit `expect status 200-399` after a last HTTP send, comments
//! attached to the rules after them), regexes compiled, HTTP requests
//! written out. Built once per backend at start-up.

use super::protocols;
use crate::cfg::checks::{
    CheckAction, CheckKind, CheckMsg, CheckRule, ConnectRule, ExpectRule, HttpSend, ProxyChecks,
};
use crate::cfg::checks::{CheckStatus, Custom, ExpectKind};
use regex::bytes::Regex;

/// What family of check the program is: decides HAProxy's generic
/// messages (only plain `tcp-check` rule sets get `TCPCHK ... at step N`)
/// and how responses are read (HTTP heads and bodies).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Plain,    // no check option: a connect
    Tcp,      // `option tcp-check`
    Http,     // `option httpchk`
    Protocol, // a built-in protocol check (mysql, redis...)
    Agent,    // `agent-check`
}

/// A check program.
#[derive(Debug)]
pub struct Program {
    pub proto: Proto,
    pub steps: Vec<Step>,
    pub disable_on_404: bool,
    pub send_state: bool, // `http-check send-state`: HTTP requests carry the server's state
    pub hello_date_at: Option<usize>, // `ssl-hello-chk`: where the send step's Unix time goes
}

/// One step.
#[derive(Debug)]
pub struct Step {
    pub action: Action,
    pub index: usize,   // HAProxy's rule index (step number = index + 1)
    pub implicit: bool, // the implicit first connect (step number 0)
    pub comment: Option<String>,
    pub head: usize, // expect: the step evaluation restarts from when it needs more data
    pub state_at: Option<usize>, // HTTP send: where the `x-haproxy-server-state` line goes (after the configured headers)
}

impl Step {
    /// HAProxy's step number (`tcpcheck_get_step_id`).
    pub fn id(&self) -> usize {
        if self.implicit && self.index == 0 { 0 } else { self.index + 1 }
    }
}

/// What a step does.
#[derive(Debug)]
pub enum Action {
    Connect(ConnectRule),
    Send(Vec<u8>), // bytes as they go on the wire (an HTTP request written out)
    Expect(Expect),
}

/// A compiled expect rule.
#[derive(Debug)]
pub struct Expect {
    pub matcher: Matcher,
    pub negate: bool,
    pub min_recv: Option<usize>,
    pub ok_status: Option<CheckStatus>,
    pub error_status: Option<CheckStatus>,
    pub timeout_status: Option<CheckStatus>,
    pub on_success: Option<CheckMsg>,
    pub on_error: Option<CheckMsg>,
    pub status_code: Option<CheckMsg>,
}

/// What an expect looks for.
#[derive(Debug)]
pub enum Matcher {
    String(Vec<u8>),
    Binary(Vec<u8>),
    Rstring(Option<Regex>),
    Rbinary(Option<Regex>),
    Status(Vec<(u16, u16)>),
    Rstatus(Option<Regex>),
    Body(Vec<u8>),
    Rbody(Option<Regex>),
    Custom(Custom),
    Agent,
}

impl Program {
    /// The program of `checks` (None without a check option: a plain
    /// connect program, as HAProxy's default).
    pub fn build(checks: &ProxyChecks) -> Program {
        let (proto, rules) = match &checks.kind {
            CheckKind::Connect => (Proto::Plain, Vec::new()),
            CheckKind::Tcp => (Proto::Tcp, checks.tcp.rules.clone()),
            CheckKind::Http => (Proto::Http, checks.http.rules.clone()),
            other => (Proto::Protocol, protocols::rules(other)),
        };
        let mut rules = rules;
        if proto == Proto::Http {
            complete_http(&mut rules);
        }
        let hello_date_at = (checks.kind == CheckKind::SslHello).then_some(protocols::HELLO_DATE_AT);
        Program {
            proto,
            steps: compile(rules, proto == Proto::Http),
            disable_on_404: checks.disable_on_404,
            send_state: checks.send_state,
            hello_date_at,
        }
    }

    /// The agent check program: connect, send `agent-send` if any, read the reply line.
    pub fn agent(send: Option<&[u8]>) -> Program {
        let mut rules = Vec::new();
        if let Some(s) = send {
            rules.push(CheckRule { action: CheckAction::Send(s.to_vec()), index: 0, comment: None });
        }
        let index = rules.len();
        rules.push(CheckRule {
            action: CheckAction::Expect(ExpectRule {
                kind: ExpectKind::Custom(Custom::MysqlOk), // replaced below
                negate: false,
                min_recv: None,
                ok_status: None,
                error_status: None,
                timeout_status: None,
                on_success: None,
                on_error: None,
                status_code: None,
            }),
            index,
            comment: None,
        });
        let mut steps = compile(rules, false);
        if let Some(Step { action: Action::Expect(e), .. }) = steps.last_mut() {
            e.matcher = Matcher::Agent;
        }
        Program { proto: Proto::Agent, steps, disable_on_404: false, send_state: false, hello_date_at: None }
    }
}

/// The HTTP completion: the request of `option httpchk`, if first, goes
/// after a connect that follows it; a last send gets the implicit
/// `expect status 200-399`.
fn complete_http(rules: &mut Vec<CheckRule>) {
    let is_rule = |r: &CheckRule| !matches!(r.action, CheckAction::Comment);
    let first = rules.iter().position(is_rule);
    if let Some(f) = first
        && matches!(&rules[f].action, CheckAction::HttpSend(s) if s.from_option)
        && let Some(n) = rules[f + 1..].iter().position(is_rule).map(|n| f + 1 + n)
        && matches!(rules[n].action, CheckAction::Connect(_))
    {
        let mut send = rules.remove(f);
        let connect_at = n - 1;
        send.index = rules[connect_at].index + 1;
        rules.insert(connect_at + 1, send);
    }
    if let Some(last) = rules.iter().rev().find(|r| is_rule(r))
        && matches!(last.action, CheckAction::HttpSend(_))
    {
        let index = last.index + 1;
        rules.push(CheckRule {
            action: CheckAction::Expect(ExpectRule {
                kind: ExpectKind::Status(vec![(200, 399)]),
                negate: false,
                min_recv: None,
                ok_status: None,
                error_status: None,
                timeout_status: None,
                on_success: None,
                on_error: None,
                status_code: None,
            }),
            index,
            comment: None,
        });
    }
}

/// Rules to steps: the implicit connect, comments carried to the rules
/// after them (until a rule of another kind), expect chains' heads.
fn compile(rules: Vec<CheckRule>, http: bool) -> Vec<Step> {
    let mut steps = Vec::new();
    let first_is_connect = rules
        .iter()
        .find(|r| !matches!(r.action, CheckAction::Comment))
        .is_some_and(|r| matches!(r.action, CheckAction::Connect(_)));
    if !first_is_connect {
        let connect = ConnectRule { default: true, implicit: true, ..ConnectRule::default() };
        steps.push(Step {
            action: Action::Connect(connect),
            index: 0,
            implicit: true,
            comment: None,
            head: 0,
            state_at: None,
        });
    }
    let mut comment: Option<String> = None;
    let mut prev_kind = 0u8; // 0: comment (or none), 1: connect, 2: send, 3: expect
    for r in rules {
        let kind = match r.action {
            CheckAction::Comment => 0,
            CheckAction::Connect(_) => 1,
            CheckAction::Send(_) | CheckAction::HttpSend(_) => 2,
            CheckAction::Expect(_) => 3,
        };
        if kind != prev_kind && prev_kind != 0 {
            comment = None;
        }
        prev_kind = kind;
        let inherited = r.comment.clone().or_else(|| comment.clone());
        let mut state_at = None;
        let action = match r.action {
            CheckAction::Comment => {
                comment = r.comment;
                continue;
            }
            CheckAction::Connect(c) => {
                comment = None;
                Action::Connect(c)
            }
            CheckAction::Send(b) => Action::Send(b),
            CheckAction::HttpSend(s) => {
                let (bytes, at) = http_request_parts(&s);
                state_at = Some(at);
                Action::Send(bytes)
            }
            CheckAction::Expect(e) => Action::Expect(expect(e, http)),
        };
        let at = steps.len();
        let head = match (&action, steps.last()) {
            (Action::Expect(_), Some(Step { action: Action::Expect(_), head, .. })) => {
                chain_head(&steps, *head, at)
            }
            _ => at,
        };
        steps.push(Step { action, index: r.index, implicit: false, comment: inherited, head, state_at });
    }
    steps
}

/// HAProxy's expect chains: a rule waiting for more data starts again from
/// the first negated expect of the chain of expects it belongs to, so the
/// negations see the data that came since.
fn chain_head(steps: &[Step], prev_head: usize, at: usize) -> usize {
    let start = (prev_head..at).find(|&i| matches!(&steps[i].action, Action::Expect(e) if e.negate));
    start.unwrap_or(at)
}

fn expect(e: ExpectRule, http: bool) -> Expect {
    // The configuration checked every pattern: one that failed here would never match.
    let re = |p: &str| Regex::new(p).ok();
    let matcher = match e.kind {
        ExpectKind::String(s) if http => Matcher::Body(s),
        ExpectKind::Rstring(r) if http => Matcher::Rbody(re(&r)),
        ExpectKind::String(s) => Matcher::String(s),
        ExpectKind::Binary(b) => Matcher::Binary(b),
        ExpectKind::Rstring(r) => Matcher::Rstring(re(&r)),
        ExpectKind::Rbinary(r) => Matcher::Rbinary(re(&r)),
        ExpectKind::Status(c) => Matcher::Status(c),
        ExpectKind::Rstatus(r) => Matcher::Rstatus(re(&r)),
        ExpectKind::Custom(c) => Matcher::Custom(c),
    };
    Expect {
        matcher,
        negate: e.negate,
        min_recv: e.min_recv,
        ok_status: e.ok_status,
        error_status: e.error_status,
        timeout_status: e.timeout_status,
        on_success: e.on_success,
        on_error: e.on_error,
        status_code: e.status_code,
    }
}

/// An HTTP check request as HAProxy's HTTP/1 output writes it: the request
/// line (default `OPTIONS / HTTP/1.0`), the configured headers with lower
/// case names, `content-length` only with a body. A configured `Connection`
/// header loses its `close` and `keep-alive` tokens (kept when others are
/// left, as `upgrade`); the connection mode they chose is written the
/// HTTP/1 way: `connection: close` for HTTP/1.1, `connection: keep-alive`
/// for HTTP/1.0. Without a `Connection` header the check closes.
pub fn http_request(s: &HttpSend) -> Vec<u8> {
    http_request_parts(s).0
}

/// [`http_request`] and the offset just after the configured headers,
/// where HAProxy puts `http-check send-state`'s header.
fn http_request_parts(s: &HttpSend) -> (Vec<u8>, usize) {
    let method = s.method.as_deref().unwrap_or("OPTIONS");
    let uri = s.uri.as_deref().unwrap_or("/");
    let version = s.version.as_deref().unwrap_or("HTTP/1.0");
    let v11 = version != "HTTP/1.0" && version.starts_with("HTTP/");
    let mut out = format!("{method} {uri} {version}\r\n");
    let mut mode: Option<(bool, bool)> = None; // (close, keep-alive) tokens seen
    for (n, v) in &s.headers {
        if n.eq_ignore_ascii_case("connection") {
            let (close, ka) = mode.get_or_insert((false, false));
            let mut rest = Vec::new();
            for token in v.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                if token.eq_ignore_ascii_case("close") {
                    *close = true;
                } else if token.eq_ignore_ascii_case("keep-alive") {
                    *ka = true;
                } else {
                    rest.push(token);
                }
            }
            if !rest.is_empty() {
                out.push_str(&format!("connection: {}\r\n", rest.join(", ")));
            }
            continue;
        }
        out.push_str(&format!("{}: {v}\r\n", n.to_ascii_lowercase()));
    }
    let state_at = out.len();
    let body = s.body.as_deref().unwrap_or("");
    if !body.is_empty() {
        out.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    let close = mode.is_none_or(|(close, ka)| close || (!v11 && !ka));
    match (v11, close) {
        (true, true) => out.push_str("connection: close\r\n"),
        (false, false) => out.push_str("connection: keep-alive\r\n"),
        _ => {}
    }
    out.push_str("\r\n");
    out.push_str(body);
    (out.into_bytes(), state_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_written_as_haproxy_writes_them() {
        assert_eq!(http_request(&HttpSend::default()), b"OPTIONS / HTTP/1.0\r\n\r\n");
        let s = HttpSend {
            method: Some("GET".into()),
            uri: Some("/x".into()),
            version: Some("HTTP/1.1".into()),
            headers: vec![("Host".into(), "h1".into()), ("X-A".into(), "b".into())],
            body: Some("zz".into()),
            from_option: false,
        };
        assert_eq!(
            http_request(&s),
            b"GET /x HTTP/1.1\r\nhost: h1\r\nx-a: b\r\ncontent-length: 2\r\nconnection: close\r\n\r\nzz"
        );
        let ka = HttpSend {
            version: Some("HTTP/1.1".into()),
            headers: vec![("Connection".into(), "keep-alive".into())],
            ..HttpSend::default()
        };
        assert_eq!(http_request(&ka), b"OPTIONS / HTTP/1.1\r\n\r\n");
        let upgrade = HttpSend {
            version: Some("HTTP/1.1".into()),
            headers: vec![("connection".into(), "upgrade".into()), ("upgrade".into(), "raw".into())],
            ..HttpSend::default()
        };
        assert_eq!(
            http_request(&upgrade),
            b"OPTIONS / HTTP/1.1\r\nconnection: upgrade\r\nupgrade: raw\r\n\r\n"
        );
        let both = HttpSend {
            version: Some("HTTP/1.1".into()),
            headers: vec![("Connection".into(), "Upgrade, close".into())],
            ..HttpSend::default()
        };
        assert_eq!(
            http_request(&both),
            b"OPTIONS / HTTP/1.1\r\nconnection: Upgrade\r\nconnection: close\r\n\r\n"
        );
    }

    #[test]
    fn completion_adds_the_implicit_connect_and_expect() {
        let checks = ProxyChecks { kind: CheckKind::Http, ..ProxyChecks::default() };
        let mut checks = checks;
        checks.http.rules.push(CheckRule {
            action: CheckAction::HttpSend(HttpSend { from_option: true, ..HttpSend::default() }),
            index: 0,
            comment: None,
        });
        let p = Program::build(&checks);
        let ids: Vec<usize> = p.steps.iter().map(Step::id).collect();
        assert_eq!(ids, [0, 1, 2], "implicit connect, send, implicit expect");
        assert!(
            matches!(&p.steps[2].action, Action::Expect(e) if matches!(&e.matcher, Matcher::Status(c) if c == &[(200, 399)]))
        );
        let plain = Program::build(&ProxyChecks::default());
        assert_eq!(plain.steps.len(), 1, "a connect");
    }
}
