//! `http-request` and `http-response` rules: compiled from the
//! configuration's rule lines once at start-up, run by the stream for each
//! request and response.
//!
//! Supported actions: `deny` and `return` on both sides (their reply,
//! `reply.rs`), `redirect location|prefix|scheme X [code N]`,
//! `set-header`, `add-header`, `del-header`, `replace-header`, `track-scN`,
//! `sc-*`; the others in `actions/`. Header values of set/add-header are log-format strings
//! (`%[fetch]`); other values are literal, and a log-format expression
//! there is refused at start-up rather than sent as text.

use super::actions::ExtAction;
use super::logformat::LogFormat;
use super::rewrite::HeaderEdit;
use crate::acl::{AclSet, Condition, compile};
use crate::cfg::{Cond, Loc, RuleLine};
use crate::l4_conn::track::{ScAction, TableLookup, parse_sc_action};

/// Which rule set a line belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleSide {
    Request,
    Response,
    After, // `http-after-response`: every response, the ones strata builds too
}

impl RuleSide {
    fn keyword(self) -> &'static str {
        match self {
            RuleSide::Request => "http-request",
            RuleSide::Response => "http-response",
            RuleSide::After => "http-after-response",
        }
    }
}

/// What a rule does when its condition holds.
#[derive(Clone, Debug)]
pub enum HttpAction {
    Deny(super::reply::Reply),   // `deny [deny_status N] [reply...]`; stops the rules
    Return(super::reply::Reply), // `return [status N] [reply...]`
    Redirect(Box<super::redirect::Redirect>), // `redirect location|prefix|scheme ...`
    Edit(HeaderEdit),            // set/add/del/replace-header
    Sc(ScAction),                // track-scN, sc-inc-gpc0(N), sc-set-gpt0(N)
    DynHeader { name: String, value: LogFormat, set: bool }, // set/add-header with %[...] samples
    Ext(super::actions::ExtAction), // variables, URI rewrites, set-status... (actions/)
    UseService(super::service_rules::InternalService), // `use-service`: an internal service answers
}

/// One compiled rule. Owned by the proxy's rule set, shared read-only.
#[derive(Clone, Debug)]
pub struct HttpRule {
    pub action: HttpAction,
    pub cond: Option<Condition>,
    pub loc: Loc,
}

pub use super::reason::reason;

/// Compiles the rule lines of one side. `acls` must already hold every
/// `acl` line of the proxy. Errors come back as `(loc, message)` in
/// HAProxy's wording.
pub fn compile_rules(
    lines: &[RuleLine],
    side: RuleSide,
    acls: &AclSet,
    tables: TableLookup<'_>,
) -> Result<Vec<HttpRule>, Vec<(Loc, String)>> {
    let mut rules = Vec::with_capacity(lines.len());
    let mut errors = Vec::new();
    for line in lines {
        match compile_one(line, side, acls, tables) {
            Ok(rule) => rules.push(rule),
            Err(msg) => errors.push((line.loc.clone(), msg)),
        }
    }
    if errors.is_empty() { Ok(rules) } else { Err(errors) }
}

fn compile_one(
    line: &RuleLine,
    side: RuleSide,
    acls: &AclSet,
    tables: TableLookup<'_>,
) -> Result<HttpRule, String> {
    let words = &line.words;
    let split = words.iter().position(|w| w == "if" || w == "unless").unwrap_or(words.len());
    let (action_words, cond_words) = words.split_at(split);
    let cond = match cond_words.split_first() {
        None => None,
        Some((kw, rest)) => {
            let c = Cond { negate: kw == "unless", words: rest.to_vec(), loc: line.loc.clone() };
            Some(compile(&c, acls).map_err(|e| {
                format!("error detected while parsing an '{} {}' condition : {e}.", side.keyword(), words[0])
            })?)
        }
    };
    let action = match (side, parse_sc_action(action_words, tables)?) {
        (RuleSide::Request, Some((a, used))) => match action_words.get(used) {
            None => HttpAction::Sc(a),
            Some(w) => return Err(format!("'{} {}': unexpected argument '{w}'.", side.keyword(), words[0])),
        },
        _ => action(action_words, side).map_err(|e| format!("'{} {}': {e}", side.keyword(), words[0]))?,
    };
    Ok(HttpRule { action, cond, loc: line.loc.clone() })
}

/// A literal value: `%%` is a percent sign; any other `%` would be a
/// log-format expression, which strata does not evaluate yet.
pub(super) fn literal(v: &str) -> Result<String, String> {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '%' {
            if chars.peek() == Some(&'%') {
                chars.next();
            } else {
                return Err(format!("log-format expressions are not supported by strata yet in '{v}'"));
            }
        }
        out.push(c);
    }
    Ok(out)
}

pub(super) fn arg<'a>(words: &'a [String], i: usize, what: &str) -> Result<&'a str, String> {
    words.get(i).map(String::as_str).ok_or_else(|| format!("expects {what}."))
}

fn no_more(words: &[String], n: usize) -> Result<(), String> {
    match words.get(n) {
        None => Ok(()),
        Some(w) => Err(format!("unexpected argument '{w}'.")),
    }
}

fn action(words: &[String], side: RuleSide) -> Result<HttpAction, String> {
    let kw = words.first().map_or("", String::as_str);
    if let Some(ext) = super::actions::parse(words, side) {
        return ext.and_then(|a| after_allows(kw, side, a)).map(HttpAction::Ext);
    }
    match (kw, side) {
        ("deny", RuleSide::Request | RuleSide::Response) => deny(words, side),
        ("set-header" | "add-header", _) => {
            let name = arg(words, 1, "<name> and <value> as arguments")?.to_ascii_lowercase(); // HAProxy emits header names in lower case
            let value = LogFormat::parse(arg(words, 2, "<name> and <value> as arguments")?)?;
            no_more(words, 3)?;
            let set = kw == "set-header";
            Ok(match value.as_literal() {
                Some(v) if set => HttpAction::Edit(HeaderEdit::Set(name, v)),
                Some(v) => HttpAction::Edit(HeaderEdit::Add(name, v)),
                None => HttpAction::DynHeader { name, value, set },
            })
        }
        ("del-header", _) => del_header(words),
        ("return", RuleSide::Request | RuleSide::Response) => {
            super::reply::parse(words).map(HttpAction::Return)
        }
        ("use-service", RuleSide::Request) => {
            super::service_rules::use_service(words).map(HttpAction::UseService)
        }
        ("redirect", RuleSide::Request | RuleSide::Response) => {
            let (r, used) = super::redirect::parse(&words[1..], true)?;
            no_more(words, used + 1)?;
            if side == RuleSide::Response && r.kind != super::redirect::RedirectKind::Location {
                return Err("response only supports redirect type 'location'.".into());
            }
            Ok(HttpAction::Redirect(Box::new(r)))
        }
        _ => Err(format!("unknown or unsupported action '{kw}' in '{}' rules", side.keyword())),
    }
}

/// `http-after-response` takes HAProxy 2.6's short list of actions: the
/// header edits (handled by `action`), variables, `set-status`,
/// `set-log-level` and `allow`; nothing that would end the response.
fn after_allows(kw: &str, side: RuleSide, a: ExtAction) -> Result<ExtAction, String> {
    use ExtAction as A;
    match a {
        A::Var(_) | A::SetVarFmt(..) | A::ReplaceValue { .. } | A::ReplaceHeader { .. } => Ok(a),
        A::SetStatus { .. } | A::SetLogLevel(_) | A::Allow => Ok(a),
        _ if side != RuleSide::After => Ok(a),
        _ => Err(format!("unknown or unsupported action '{kw}' in '{}' rules", side.keyword())),
    }
}

/// `del-header NAME [-m str|beg|end|sub|reg]`, HAProxy 2.6's messages.
fn del_header(words: &[String]) -> Result<HttpAction, String> {
    use super::rewrite::NameMatch;
    let name = words.get(1).filter(|n| !n.is_empty()).ok_or("expects at least 1 argument")?.to_owned();
    if words.get(2).map(String::as_str) != Some("-m") {
        no_more(words, 2)?;
        return Ok(HttpAction::Edit(HeaderEdit::Del(name)));
    }
    let method = words.get(3).filter(|m| !m.is_empty()).ok_or("-m flag expects exactly 1 argument")?;
    no_more(words, 4)?;
    let m = match method.as_str() {
        "str" => return Ok(HttpAction::Edit(HeaderEdit::Del(name))),
        "beg" => NameMatch::Beg(name),
        "end" => NameMatch::End(name),
        "sub" => NameMatch::Sub(name),
        "reg" => NameMatch::Reg(regex::bytes::Regex::new(&name).map_err(|e| format!("regex '{name}': {e}"))?),
        other => return Err(format!("-m with unsupported matching method '{other}'")),
    };
    Ok(HttpAction::Edit(HeaderEdit::DelMatching(m)))
}

fn deny(words: &[String], side: RuleSide) -> Result<HttpAction, String> {
    let default = if side == RuleSide::Request { 403 } else { 502 };
    super::reply::parse_deny(words, default).map(HttpAction::Deny)
}

#[cfg(test)]
mod tests {
    use super::super::errors::BuiltinStatus;
    use super::super::reply::{PageRef, Reply};
    use super::*;

    fn line(s: &str) -> RuleLine {
        RuleLine {
            words: s.split(' ').map(str::to_owned).collect(),
            loc: Loc { file: "t.cfg".into(), line: 7 },
        }
    }

    fn one(s: &str, side: RuleSide) -> Result<HttpRule, String> {
        let tables = |_: Option<&str>| -> Result<usize, String> { Ok(0) };
        compile_rules(&[line(s)], side, &AclSet::new(), &tables)
            .map(|mut v| v.remove(0))
            .map_err(|mut e| e.remove(0).1)
    }

    #[test]
    fn return_builds_haproxys_bytes() {
        let r = one("return status 200 content-type text/plain string hello", RuleSide::Request).unwrap();
        let HttpAction::Return(Reply::Bytes(bytes)) = r.action else { panic!("return") };
        assert_eq!(bytes, b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n\r\nhello");
        let r = one("return status 404", RuleSide::Request).unwrap();
        let HttpAction::Return(Reply::Bytes(bytes)) = r.action else { panic!("return") };
        assert_eq!(bytes, b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
    }

    #[test]
    fn errors_name_the_problem() {
        assert!(one("deny deny_status 418", RuleSide::Request).unwrap_err().contains("418"));
        assert!(one("set-header X %[src]", RuleSide::Request).is_ok());
        assert!(one("set-header X %t", RuleSide::Request).is_ok());
        assert!(
            one("set-header X %zz", RuleSide::Request).unwrap_err().contains("no such format variable 'zz'")
        );
        assert!(one("set-path %[src]", RuleSide::Request).is_ok());
        assert!(one("set-path %zz", RuleSide::Request).unwrap_err().contains("zz"));
        assert!(one("frobnicate", RuleSide::Request).unwrap_err().contains("frobnicate"));
        assert!(one("redirect location /x code 305", RuleSide::Request).is_err());
        assert!(one("return status 200 string x", RuleSide::Request).unwrap_err().contains("content type"));
        assert!(one("deny if { nosuchfetch }", RuleSide::Request).is_err());
        assert!(one("set-path /x", RuleSide::Response).is_err());
        let r = one("deny if { path /x }", RuleSide::Request).unwrap();
        let forbidden = PageRef { code: 403, section: None, builtin: BuiltinStatus::Forbidden };
        assert!(matches!(r.action, HttpAction::Deny(Reply::Page(p)) if p == forbidden) && r.cond.is_some());
        let r = one("deny", RuleSide::Response).unwrap();
        assert!(matches!(r.action, HttpAction::Deny(Reply::Page(PageRef { code: 502, .. }))));
        assert!(matches!(one("set-header X 100%%", RuleSide::Request).unwrap().action,
            HttpAction::Edit(HeaderEdit::Set(_, ref v)) if v == "100%"));
    }
}
