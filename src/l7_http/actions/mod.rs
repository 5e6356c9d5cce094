//! The `http-request` / `http-response` actions beyond the header edits,
//! deny, return and redirect of `rules.rs`: variables, URI and method
//! rewrites, `replace-value`, `set-status`, `early-hint`, `normalize-uri`,
//! `set-src`, priorities, log level, `set-timeout`, `tarpit`,
//! `silent-drop`, `reject`, `allow` and `auth`. Parsed here into an [`ExtAction`]; run by the
//! stream (`l6_stream/http_actions.rs`).

pub mod normalize;

use regex::bytes::Regex;

use super::logformat::LogFormat;
use super::rules::RuleSide;
use crate::acl::{SampleExpr, VarAction, VarTarget, parse_var_action};

/// The part of the request target a URI action replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UriPart {
    Path,  // the path, query kept
    PathQ, // path and query
    Query, // the query (without `?`)
    Uri,   // the whole target
}

/// One of the extra actions. Owned by its rule; immutable.
#[derive(Clone, Debug)]
pub enum ExtAction {
    Var(VarAction),
    SetVarFmt(VarTarget, LogFormat),
    SetUri(UriPart, LogFormat),
    ReplaceUri(UriPart, Regex, LogFormat), // the replacement's `\N` refer to the regex's groups
    ReplaceValue { name: String, re: Regex, with: LogFormat },
    ReplaceHeader { name: String, re: Regex, with: LogFormat }, // on the response side
    SetMethod(LogFormat),
    SetStatus { code: u16, reason: Option<String> },
    SetLogLevel(u32), // syslog severity; 8 is `silent`
    SetPriorityClass(SampleExpr),
    SetPriorityOffset(SampleExpr),
    SetSrc(SampleExpr),
    EarlyHint { name: String, value: LogFormat },
    Normalize(normalize::Normalizer),
    Tarpit(super::reply::Reply), // answered when the tarpit timeout ends
    SilentDrop,
    Reject,
    Allow,
    Auth { realm: String },
    CacheUse(String),                                      // `http-request cache-use NAME`
    CacheStore(String),                                    // `http-response cache-store NAME`
    Capture { expr: SampleExpr, slot: usize },             // `capture <sample> id N`: the frontend's slot N
    SetTimeout { tunnel: bool, value: TimeoutValue },      // `http-request set-timeout server|tunnel V`
    WaitBody { time: std::time::Duration, at_least: u64 }, // `wait-for-body time T [at-least N]`
}

/// The value of `set-timeout`: a time, or an expression giving milliseconds.
#[derive(Clone, Debug)]
pub enum TimeoutValue {
    Fixed(std::time::Duration),
    Expr(SampleExpr),
}

/// HAProxy's syslog level names; `silent` disables the log line.
pub const LOG_SILENT: u32 = 8;

fn arg<'a>(words: &'a [String], i: usize, what: &str) -> Result<&'a str, String> {
    words.get(i).map(String::as_str).ok_or_else(|| format!("expects {what}."))
}

fn no_more(words: &[String], n: usize) -> Result<(), String> {
    match words.get(n) {
        None => Ok(()),
        Some(w) => Err(format!("unexpected argument '{w}'.")),
    }
}

fn regex(re: &str) -> Result<Regex, String> {
    regex::bytes::RegexBuilder::new(re)
        .unicode(false)
        .build()
        .map_err(|e| format!("invalid regex '{re}' ({e})"))
}

fn expr(text: &str) -> Result<SampleExpr, String> {
    SampleExpr::parse(text).map_err(|e| format!("failed to parse sample expression <{text}> : {e}"))
}

/// Parses `words` (the action and its arguments, without the condition)
/// when it is one of these actions; None otherwise.
pub fn parse(words: &[String], side: RuleSide) -> Option<Result<ExtAction, String>> {
    let kw = words.first().map_or("", String::as_str);
    if let Some(r) = parse_var_action(words) {
        return Some(r.and_then(|(a, used)| no_more(words, used).map(|()| ExtAction::Var(a))));
    }
    let req = side == RuleSide::Request;
    Some((|| {
        Ok(match kw {
            _ if kw.starts_with("set-var-fmt(") => {
                let inner = &kw["set-var-fmt(".len()..];
                let inner =
                    inner.strip_suffix(')').ok_or("'set-var-fmt' expects 'set-var-fmt(<var-name>)'")?;
                let args: Vec<&str> = inner.split(',').collect();
                let target = VarTarget::parse(&args)?;
                let fmt = LogFormat::parse(arg(words, 1, "a log-format string")?)?;
                no_more(words, 2)?;
                ExtAction::SetVarFmt(target, fmt)
            }
            "set-path" | "set-pathq" | "set-query" | "set-uri" if req => {
                let part = match kw {
                    "set-path" => UriPart::Path,
                    "set-pathq" => UriPart::PathQ,
                    "set-query" => UriPart::Query,
                    _ => UriPart::Uri,
                };
                let fmt = LogFormat::parse(arg(words, 1, "exactly 1 argument")?)?;
                no_more(words, 2)?;
                ExtAction::SetUri(part, fmt)
            }
            "replace-path" | "replace-pathq" | "replace-uri" if req => {
                let part = match kw {
                    "replace-path" => UriPart::Path,
                    "replace-pathq" => UriPart::PathQ,
                    _ => UriPart::Uri,
                };
                let re = regex(arg(words, 1, "exactly 2 arguments")?)?;
                let with = LogFormat::parse(arg(words, 2, "exactly 2 arguments")?)?;
                no_more(words, 3)?;
                ExtAction::ReplaceUri(part, re, with)
            }
            "replace-value" | "replace-header" => {
                let name = arg(words, 1, "exactly 3 arguments")?.to_owned();
                let re = regex(&format!("^(?:{})$", arg(words, 2, "exactly 3 arguments")?))?;
                let with = LogFormat::parse(arg(words, 3, "exactly 3 arguments")?)?;
                no_more(words, 4)?;
                if kw == "replace-value" {
                    ExtAction::ReplaceValue { name, re, with }
                } else {
                    ExtAction::ReplaceHeader { name, re, with }
                }
            }
            "set-timeout" if req => {
                let which = arg(words, 1, "2 arguments")?;
                let tunnel = match which {
                    "server" | "srv" => false,
                    "tunnel" => true,
                    _ => return Err(format!("'set-timeout' rule supports 'server'/'tunnel' (got '{which}')")),
                };
                let v = arg(words, 2, "2 arguments")?;
                let value = match crate::cfg::time::parse_time_checked(v) {
                    Ok(d) if d.is_zero() => return Err(format!("null value is not valid for a 'timeout {which}' rule")),
                    Ok(d) => TimeoutValue::Fixed(d),
                    Err(crate::cfg::time::TimeError::Overflow) => {
                        return Err(format!(
                            "timer overflow in argument <{v}> to <{which}> (maximum value is 2147483647 ms or ~24.8 days)"
                        ));
                    }
                    Err(_) => TimeoutValue::Expr(expr(v)?),
                };
                no_more(words, 3)?;
                ExtAction::SetTimeout { tunnel, value }
            }
            "set-method" if req => {
                let fmt = LogFormat::parse(arg(words, 1, "exactly 1 argument")?)?;
                no_more(words, 2)?;
                ExtAction::SetMethod(fmt)
            }
            "set-status" if !req => {
                let code: u16 = arg(words, 1, "a status code")?
                    .parse()
                    .ok()
                    .filter(|c| (100..=999).contains(c))
                    .ok_or("expects an HTTP status code between 100 and 999.")?;
                let reason = match words.get(2).map(String::as_str) {
                    None => None,
                    Some("reason") => {
                        let r = arg(words, 3, "a reason string after 'reason'")?.to_owned();
                        no_more(words, 4)?;
                        Some(r)
                    }
                    Some(w) => return Err(format!("unexpected argument '{w}'.")),
                };
                ExtAction::SetStatus { code, reason }
            }
            "set-log-level" => {
                let l = arg(words, 1, "a log level")?;
                let level = match l {
                    "emerg" => 0,
                    "alert" => 1,
                    "crit" => 2,
                    "err" => 3,
                    "warning" => 4,
                    "notice" => 5,
                    "info" => 6,
                    "debug" => 7,
                    "silent" => LOG_SILENT,
                    _ => return Err(format!("unsupported log level '{l}'.")),
                };
                no_more(words, 2)?;
                ExtAction::SetLogLevel(level)
            }
            "set-priority-class" | "set-priority-offset" if req => {
                let e = expr(arg(words, 1, "a sample expression")?)?;
                no_more(words, 2)?;
                if kw == "set-priority-class" {
                    ExtAction::SetPriorityClass(e)
                } else {
                    ExtAction::SetPriorityOffset(e)
                }
            }
            "set-src" if req => {
                let e = expr(arg(words, 1, "a sample expression")?)?;
                no_more(words, 2)?;
                ExtAction::SetSrc(e)
            }
            "early-hint" if req => {
                // HAProxy writes header names in lower case.
                let name = arg(words, 1, "<name> and <value> as arguments")?.to_ascii_lowercase();
                let value = LogFormat::parse(arg(words, 2, "<name> and <value> as arguments")?)?;
                no_more(words, 3)?;
                ExtAction::EarlyHint { name, value }
            }
            "normalize-uri" if req => ExtAction::Normalize(normalize::parse(&words[1..])?),
            "tarpit" if req => ExtAction::Tarpit(super::reply::parse_deny(words, 500)?),
            "cache-use" | "cache-store" if req == (kw == "cache-use") => {
                let name = arg(words, 1, "a cache name")?.to_owned();
                no_more(words, 2)?;
                if req { ExtAction::CacheUse(name) } else { ExtAction::CacheStore(name) }
            }
            "capture" if side != RuleSide::After => capture(words, req)?,
            "wait-for-body" if side != RuleSide::After => wait_for_body(words)?,
            "silent-drop" => {
                no_more(words, 1)?;
                ExtAction::SilentDrop
            }
            "reject" => {
                no_more(words, 1)?;
                ExtAction::Reject
            }
            "allow" => {
                no_more(words, 1)?;
                ExtAction::Allow
            }
            "auth" if req => {
                let realm = match words.get(1).map(String::as_str) {
                    None => String::new(),
                    Some("realm") => {
                        let r = arg(words, 2, "a realm after 'realm'")?.to_owned();
                        no_more(words, 3)?;
                        r
                    }
                    Some(w) => return Err(format!("unexpected argument '{w}'.")),
                };
                ExtAction::Auth { realm }
            }
            _ => return Err(String::new()),
        })
    })())
    .filter(|r| !matches!(r, Err(e) if e.is_empty()))
}

/// `capture <sample> id <n>` (a `len <n>` form was given its slot by the
/// configuration parser, which wrote it as `id`), in HAProxy's words.
fn capture(words: &[String], req: bool) -> Result<ExtAction, String> {
    let (Some(text), Some(kw)) = (words.get(1), words.get(2)) else {
        return Err(if req {
            "expects <expression> [ 'len' <length> | id <idx> ]"
        } else {
            "expects <expression> id <idx>"
        }
        .into());
    };
    let e = expr(text)?;
    if kw != "id" {
        return Err(if req { "expects 'len or 'id'".into() } else { format!("expects 'id', found '{kw}'") });
    }
    let v = arg(words, 3, "an id value").map_err(|_| "missing id value".to_string())?;
    let slot = v.parse::<usize>().map_err(|_| format!("cannot parse id '{v}'"))?;
    no_more(words, 4)?;
    Ok(ExtAction::Capture { expr: e, slot })
}

/// HAProxy's 401 answer to `http-request auth` (`realm` defaults to the
/// proxy's name).
pub fn auth_response(realm: &str) -> Vec<u8> {
    const BODY: &str = "<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n";
    format!(
        "HTTP/1.1 401 Unauthorized\r\ncontent-length: {}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nwww-authenticate: Basic realm=\"{realm}\"\r\n\r\n{BODY}",
        BODY.len()
    )
    .into_bytes()
}

/// HAProxy's `\N` back-references in the regex crate's `${N}` form.
pub fn backrefs(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(d)) if d.is_ascii_digit() => {
                out.push_str(&format!("${{{d}}}"));
                chars.next();
            }
            ('$', _) => out.push_str("$$"),
            _ => out.push(c),
        }
    }
    out
}

/// `wait-for-body time T [at-least N]`, with HAProxy 2.6's words.
fn wait_for_body(words: &[String]) -> Result<ExtAction, String> {
    const USAGE: &str = "expects time <time> [ at-least <bytes> ]";
    let (mut time, mut at_least, mut i) = (None, 0, 1);
    while let Some(w) = words.get(i) {
        let v = words.get(i + 1).map(String::as_str).filter(|v| !v.is_empty());
        match (w.as_str(), v) {
            ("time", Some(v)) => time = Some(crate::cfg::time::parse_time(v)?),
            ("at-least", Some(v)) => at_least = crate::cfg::time::parse_size(v)?,
            ("time" | "at-least", None) => return Err(format!("missing argument for '{w}'")),
            _ => return Err(format!("unexpected argument '{w}'.")),
        }
        i += 2;
    }
    let time = time.ok_or(USAGE)?;
    Ok(ExtAction::WaitBody { time, at_least })
}
