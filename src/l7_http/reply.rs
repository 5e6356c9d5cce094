//! The answers HAProxy 2.6 calls "http replies": `http-request return
//! [status N] [content-type T] [string S | file F | lf-string FMT |
//! lf-file F | errorfile F | errorfiles NAME | default-errorfiles]
//! [hdr NAME FMT]...`, and the `http-error` pages with a format. Written as
//! HAProxy writes them: `hdr` lines first (names in lower case, a value
//! that renders empty left out), then `content-length`, then
//! `content-type` when the body is not empty. Built once at start-up when
//! every part is literal, else per answer from the log-format parts
//! ([`DynReply::render`]).

use super::errors::BuiltinStatus;
use super::logformat::{LogFormat, LogSource};
use super::rules::{literal, reason};
use crate::cfg::errorpages::{PageBody, PageFormat, page_from_response};

/// An answer with log-format parts, rendered for each request. Owned by
/// its rule, or by the worker's error pages (`custom_errors.rs`).
#[derive(Clone, Debug)]
pub struct DynReply {
    status_line: Vec<u8>,           // `HTTP/1.1 N Reason\r\n`
    hdrs: Vec<(String, LogFormat)>, // `hdr NAME FMT`, in order
    content_type: Option<String>,   // sent with a body that is not empty
    body: DynBody,
}

#[derive(Clone, Debug)]
enum DynBody {
    Bytes(Vec<u8>),
    Format(LogFormat),
}

impl DynReply {
    /// The complete answer for the request `src` describes.
    pub fn render(&self, src: &dyn LogSource) -> Vec<u8> {
        let hdrs = self.hdrs.iter().map(|(n, v)| (n.as_str(), v.render(src)));
        match &self.body {
            DynBody::Bytes(b) => self.assemble(hdrs, b),
            DynBody::Format(f) => self.assemble(hdrs, f.render(src).as_bytes()),
        }
    }

    /// The answer when no part depends on the request.
    fn literal(&self) -> Option<Vec<u8>> {
        let hdrs: Option<Vec<(&str, String)>> =
            self.hdrs.iter().map(|(n, v)| v.as_literal().map(|v| (n.as_str(), v))).collect();
        let body = match &self.body {
            DynBody::Bytes(b) => b.clone(),
            DynBody::Format(f) => f.as_literal()?.into_bytes(),
        };
        Some(self.assemble(hdrs?.into_iter(), &body))
    }

    fn assemble<'a>(&self, hdrs: impl Iterator<Item = (&'a str, String)>, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.status_line.len() + body.len() + 96);
        out.extend_from_slice(&self.status_line);
        for (name, value) in hdrs.filter(|(_, v)| !v.is_empty()) {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
        if let Some(t) = self.content_type.as_ref().filter(|_| !body.is_empty()) {
            out.extend_from_slice(format!("content-type: {t}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        out
    }

    /// The reply of an `http-error` page with a format (checked by the
    /// configuration's load, see `l6_stream::rules`).
    pub fn from_page(code: u16, f: &PageFormat) -> Result<DynReply, String> {
        let hdrs = f
            .hdrs
            .iter()
            .map(|(n, v)| LogFormat::parse(v).map(|v| (n.clone(), v)))
            .collect::<Result<Vec<_>, String>>()?;
        let body = match &f.body {
            PageBody::Bytes(b) => DynBody::Bytes(b.clone()),
            PageBody::Format(t) => DynBody::Format(LogFormat::parse(t)?),
        };
        let status_line = format!("HTTP/1.1 {code} {}\r\n", reason(code)).into_bytes();
        Ok(DynReply { status_line, hdrs, content_type: f.content_type.clone(), body })
    }
}

/// Where a `return` takes an error page from (`errorfiles`,
/// `default-errorfiles`): looked up when it answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRef {
    pub code: u16,
    pub section: Option<String>, // `errorfiles NAME`: that section's page, else the proxy's
    pub builtin: BuiltinStatus,  // when no page is configured for the status
}

/// What a `deny`, `tarpit` or `return` rule answers (HAProxy's "http
/// reply"). Owned by its rule; read-only.
#[derive(Clone, Debug)]
pub enum Reply {
    Bytes(Vec<u8>),     // every part literal: the complete answer, built at start-up
    Dyn(Box<DynReply>), // with log-format parts: rendered per answer
    Page(PageRef),      // an error page (`default-errorfiles`, `errorfiles NAME`), looked up when it answers
}

/// A reply made for one request: its bytes, or the error page to look up.
#[derive(Debug)]
pub enum Answer {
    Bytes(Vec<u8>),
    Page(PageRef),
}

impl Reply {
    /// The answer for the request `src` describes.
    pub fn answer(&self, src: &dyn LogSource) -> Answer {
        match self {
            Reply::Bytes(b) => Answer::Bytes(b.clone()),
            Reply::Dyn(d) => Answer::Bytes(d.render(src)),
            Reply::Page(p) => Answer::Page(p.clone()),
        }
    }

    /// The error page a reply names, if any (checked at start-up).
    pub fn page(&self) -> Option<&PageRef> {
        if let Reply::Page(p) = self { Some(p) } else { None }
    }
}

/// Parses the words of a `return` action (`words[0]` is the keyword).
pub(super) fn parse(words: &[String]) -> Result<Reply, String> {
    parse_reply(&words[1..], 200).map(|(r, _)| r)
}

/// HAProxy's warnings for the rule line `words` when its reply ignores
/// part of it: a `content-type` with no payload or an empty one, `hdr` or
/// `content-type` beside an error file, a `hdr` naming a header the reply
/// writes itself. Checked at start-up.
pub fn warnings(words: &[String]) -> Vec<String> {
    let end = words.iter().position(|w| w == "if" || w == "unless").unwrap_or(words.len());
    let words = &words[..end];
    let parsed = match words.first().map(String::as_str) {
        Some("deny" | "tarpit") => deny_reply(words, 403),
        Some("return") => parse_reply(&words[1..], 200),
        _ => return Vec::new(),
    };
    parsed.map(|(_, w)| w).unwrap_or_default()
}

/// Parses the words of a `deny` or `tarpit` action, `default_status` its
/// status without one. As HAProxy 2.6 does: no argument, or only
/// `deny_status N`, is the error page of the status (`default-errorfiles`);
/// `deny_status` followed by more is `status`, and the rest is a reply as
/// `return` takes it.
pub(super) fn parse_deny(words: &[String], default_status: u16) -> Result<Reply, String> {
    deny_reply(words, default_status).map(|(r, _)| r)
}

fn deny_reply(words: &[String], default_status: u16) -> Result<(Reply, Vec<String>), String> {
    let args = &words[1..];
    let default_page = |status: &str| -> Vec<String> {
        ["status", status, "default-errorfiles"].map(str::to_owned).to_vec()
    };
    match args {
        [] => parse_reply(&default_page(&default_status.to_string()), default_status),
        [kw, code] if kw == "deny_status" => parse_reply(&default_page(code), default_status),
        [kw, rest @ ..] if kw == "deny_status" => {
            let mut renamed = Vec::with_capacity(args.len());
            renamed.push("status".to_owned());
            renamed.extend_from_slice(rest);
            parse_reply(&renamed, default_status)
        }
        _ => parse_reply(args, default_status),
    }
}

/// `[status N] [content-type T] [string S | file F | lf-string FMT |
/// lf-file F | errorfile F | errorfiles NAME | default-errorfiles]
/// [hdr NAME FMT]...` in HAProxy 2.6's words; with HAProxy's warnings
/// for what it ignores (and strata ignores too).
fn parse_reply(args: &[String], default_status: u16) -> Result<(Reply, Vec<String>), String> {
    let mut warnings = Vec::new();
    let (mut status, mut ctype, mut body) = (default_status, None, DynBody::Bytes(Vec::new()));
    let mut hdrs: Vec<(String, LogFormat)> = Vec::new();
    let mut page: Option<Result<Vec<u8>, Option<String>>> = None; // errorfile bytes, or a section (None: default)
    let mut payload: Option<&str> = None; // the argument that set the body or the page
    let mut i = 0;
    while i < args.len() {
        let kw = args[i].as_str();
        let is_payload = matches!(
            kw,
            "default-errorfiles" | "errorfile" | "errorfiles" | "file" | "string" | "lf-file" | "lf-string"
        );
        if is_payload && let Some(first) = payload {
            return Err(format!("unexpected '{kw}' argument, '{first}' already defined"));
        }
        if is_payload {
            payload = Some(kw);
        }
        if kw == "default-errorfiles" {
            page = Some(Err(None));
            i += 1;
            continue;
        }
        let v = args.get(i + 1).filter(|v| !v.is_empty()).map(String::as_str);
        let v = v.ok_or_else(|| format!("'{kw}' expects {} as argument", expected(kw)))?;
        match kw {
            "status" => {
                status = v
                    .parse()
                    .ok()
                    .filter(|s| (200..=599).contains(s))
                    .ok_or_else(|| format!("Unexpected status code '{v}'"))?;
            }
            "content-type" => ctype = Some(literal(v)?),
            "string" => body = DynBody::Bytes(literal(v)?.into_bytes()),
            "file" => body = DynBody::Bytes(read(v)?),
            "lf-string" => body = DynBody::Format(LogFormat::parse(v)?),
            "lf-file" => {
                let text = String::from_utf8(read(v)?).map_err(|_| format!("file '{v}' is not text."))?;
                body = DynBody::Format(LogFormat::parse(&text)?);
            }
            "errorfile" => page = Some(Ok(read(v)?)),
            "errorfiles" => page = Some(Err(Some(v.to_owned()))),
            "hdr" => {
                let value = args.get(i + 2).filter(|w| !w.is_empty());
                let value = value.ok_or("'hdr' expects <name> and <value> as arguments")?;
                let lower = v.to_ascii_lowercase();
                if matches!(lower.as_str(), "content-length" | "transfer-encoding" | "content-type") {
                    // HAProxy 2.6 warns and drops it (the reply writes its own).
                    warnings.push(format!("header '{v}' always ignored by the http reply."));
                } else {
                    hdrs.push((lower, LogFormat::parse(value)?));
                }
                i += 1;
            }
            other => return Err(format!("unexpected argument '{other}'.")),
        }
        i += 2;
    }
    if let Some(page) = page {
        // An error file is sent as it is: HAProxy 2.6 warns that `content-type`
        // and `hdr` are ignored, and so does strata.
        warnings.extend(crate::cfg::errorpages::ignored_beside_errorfile(ctype.as_deref(), !hdrs.is_empty()));
        return match page {
            Ok(bytes) => {
                let p = page_from_response(status, &bytes).map_err(|e| format!("errorfile: {e}."))?;
                Ok((Reply::Bytes(p.bytes.to_vec()), warnings))
            }
            Err(section) => {
                let builtin = BuiltinStatus::from_code(status).ok_or_else(|| {
                    format!(
                        "status code '{status}' not handled by default with '{}' argument.",
                        payload.unwrap_or("default-errorfiles")
                    )
                })?;
                Ok((Reply::Page(PageRef { code: status, section, builtin }), warnings))
            }
        };
    }
    let empty = matches!(&body, DynBody::Bytes(b) if b.is_empty());
    if ctype.is_none() && matches!(body, DynBody::Format(_)) {
        return Err("a content type must be defined with a log-format payload.".into());
    }
    if !empty && matches!(status, 204 | 304) {
        return Err(format!("No body expected for {status} responses"));
    }
    if !empty && ctype.is_none() {
        return Err("a content type must be defined when non-empty payload is configured".into());
    }
    // HAProxy drops a content type that has nothing to describe, and warns.
    let warning = match (&ctype, payload) {
        (Some(t), None) => Some(format!(
            "content-type '{t}' ignored by the http reply because neither errorfile nor payload defined."
        )),
        (Some(t), Some(_)) if empty => {
            Some(format!("content-type '{t}' ignored by the http reply when used with an empty payload."))
        }
        _ => None,
    };
    if let Some(w) = warning {
        warnings.push(w);
        ctype = None;
    }
    let status_line = format!("HTTP/1.1 {status} {}\r\n", reason(status)).into_bytes();
    let reply = DynReply { status_line, hdrs, content_type: ctype, body };
    let reply = match reply.literal() {
        Some(bytes) => Reply::Bytes(bytes),
        None => Reply::Dyn(Box::new(reply)),
    };
    Ok((reply, warnings))
}

/// What a reply argument takes, as HAProxy's messages name it.
fn expected(kw: &str) -> &'static str {
    match kw {
        "status" => "<status_code>",
        "content-type" => "<ctype>",
        "errorfiles" => "<name>",
        "errorfile" | "lf-string" => "<fmt>",
        "file" | "lf-file" => "<file>",
        "string" => "<str>",
        "hdr" => "<name> and <value>",
        _ => "a value",
    }
}

fn read(file: &str) -> Result<Vec<u8>, String> {
    std::fs::read(file).map_err(|e| format!("failed to read file '{file}' ({e})."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn hdr_lines_come_first_in_lower_case() {
        let a = parse(&words("return status 201 content-type text/plain string hi hdr X-B lit")).unwrap();
        let Reply::Bytes(bytes) = a else { panic!("static") };
        assert_eq!(
            bytes,
            b"HTTP/1.1 201 Created\r\nx-b: lit\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nhi"
        );
        let a = parse(&words("return hdr x-a %[path]")).unwrap();
        assert!(matches!(a, Reply::Dyn(_)));
        assert!(parse(&words("return hdr x-a")).is_err());
        // HAProxy 2.6 warns and drops a header the reply writes itself.
        let a = parse(&words("return hdr content-length 5 hdr x-b 1")).unwrap();
        let Reply::Bytes(bytes) = a else { panic!("static") };
        assert_eq!(bytes, b"HTTP/1.1 200 OK\r\nx-b: 1\r\ncontent-length: 0\r\n\r\n");
        assert_eq!(
            warnings(&words("return hdr content-length 5")),
            ["header 'content-length' always ignored by the http reply."]
        );
    }

    #[test]
    fn error_file_replies_and_log_format_bodies() {
        let a = parse(&words("return status 503 default-errorfiles")).unwrap();
        assert!(matches!(a, Reply::Page(PageRef { code: 503, section: None, .. })));
        let a = parse(&words("return status 404 errorfiles errs")).unwrap();
        assert!(matches!(a, Reply::Page(PageRef { code: 404, section: Some(_), .. })));
        assert!(parse(&words("return status 201 default-errorfiles")).unwrap_err().contains("201"));
        // Beside an error file, `content-type` and `hdr` are ignored with a warning each.
        let a = parse(&words("return status 503 default-errorfiles content-type a/b hdr x-a b")).unwrap();
        assert!(matches!(a, Reply::Page(PageRef { code: 503, section: None, .. })));
        assert_eq!(
            warnings(&words("return status 503 default-errorfiles content-type a/b hdr x-a b if TRUE")),
            [
                "content-type 'a/b' ignored by the http reply when used with an errorfile.",
                "hdr parameters ignored by the http reply when used with an errorfile.",
            ]
        );
        assert!(parse(&words("return lf-string %[path]")).is_err(), "a content-type is required");
        let a = parse(&words("return content-type text/plain lf-string %[path]")).unwrap();
        assert!(matches!(a, Reply::Dyn(_)));
        // A literal log-format body is built once.
        let a = parse(&words("return content-type text/plain lf-string plain")).unwrap();
        assert!(matches!(a, Reply::Bytes(b) if b.ends_with(b"content-type: text/plain\r\n\r\nplain")));
        let e = parse(&words("return content-type a/b string x file /f")).unwrap_err();
        assert_eq!(e, "unexpected 'file' argument, 'string' already defined");
        assert!(parse(&words("return status 204 content-type a/b string x")).unwrap_err().contains("204"));
        assert!(parse(&words("return status 600")).unwrap_err().contains("600"));
    }

    #[test]
    fn deny_takes_deny_status_alone_as_the_error_page_else_a_reply() {
        let page = |r: Reply| r.page().map(|p| p.code);
        assert_eq!(page(parse_deny(&words("deny"), 403).unwrap()), Some(403));
        assert_eq!(page(parse_deny(&words("tarpit"), 500).unwrap()), Some(500));
        assert_eq!(page(parse_deny(&words("deny deny_status 429"), 403).unwrap()), Some(429));
        assert!(parse_deny(&words("deny deny_status 418"), 403).unwrap_err().contains("418"));
        // `status` alone is an empty answer, not the page.
        let Reply::Bytes(b) = parse_deny(&words("deny status 404"), 403).unwrap() else { panic!("bytes") };
        assert_eq!(b, b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
        // `deny_status` followed by more is `status`.
        let r = parse_deny(&words("deny deny_status 418 content-type text/plain string tea"), 403).unwrap();
        let Reply::Bytes(b) = r else { panic!("bytes") };
        assert_eq!(
            b,
            b"HTTP/1.1 418 I'm a teapot\r\ncontent-length: 3\r\ncontent-type: text/plain\r\n\r\ntea"
        );
        let Reply::Bytes(b) = parse_deny(&words("deny hdr x-a b"), 403).unwrap() else { panic!("bytes") };
        assert_eq!(b, b"HTTP/1.1 403 Forbidden\r\nx-a: b\r\ncontent-length: 0\r\n\r\n");
        assert!(matches!(parse_deny(&words("deny deny_status 429 hdr x-a %[path]"), 403), Ok(Reply::Dyn(_))));
    }
}
