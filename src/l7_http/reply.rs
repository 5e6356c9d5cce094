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
use super::rules::{HttpAction, arg, literal, reason};
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
#[derive(Clone, Debug)]
pub struct PageRef {
    pub code: u16,
    pub section: Option<String>, // `errorfiles NAME`: that section's page, else the proxy's
    pub builtin: BuiltinStatus,  // when no page is configured for the status
}

/// Parses the words of a `return` action.
pub(super) fn parse(words: &[String]) -> Result<HttpAction, String> {
    let (mut status, mut ctype, mut body) = (200u16, None, DynBody::Bytes(Vec::new()));
    let mut hdrs: Vec<(String, LogFormat)> = Vec::new();
    let mut page: Option<Result<Vec<u8>, Option<String>>> = None; // errorfile bytes, or a section (None: default)
    let mut i = 1;
    while i < words.len() {
        if words[i] == "default-errorfiles" {
            page = Some(Err(None));
            i += 1;
            continue;
        }
        let v = arg(words, i + 1, &format!("a value after '{}'", words[i]))?;
        match words[i].as_str() {
            "status" => {
                status = v.parse().ok().filter(|s| (200..=599).contains(s)).ok_or("invalid status code.")?;
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
                let value = words.get(i + 2).filter(|w| !w.is_empty());
                let value = value.ok_or("'hdr' expects <name> and <value> as arguments")?;
                let lower = v.to_ascii_lowercase();
                if matches!(lower.as_str(), "content-length" | "transfer-encoding" | "content-type") {
                    // HAProxy warns and drops it; refused here rather than silently ignored.
                    return Err(format!(
                        "header '{v}' is always ignored by the http reply (use 'content-type')."
                    ));
                }
                hdrs.push((lower, LogFormat::parse(value)?));
                i += 1;
            }
            other => return Err(format!("unsupported 'return' argument '{other}'.")),
        }
        i += 2;
    }
    if let Some(page) = page {
        // HAProxy warns and ignores them with an error file: refused rather than dropped.
        if !hdrs.is_empty() || ctype.is_some() || !matches!(&body, DynBody::Bytes(b) if b.is_empty()) {
            return Err("'hdr', 'content-type' and a payload cannot be used with an errorfile.".into());
        }
        return match page {
            Ok(bytes) => {
                let p = page_from_response(status, &bytes).map_err(|e| format!("errorfile: {e}."))?;
                Ok(HttpAction::Return(p.bytes.to_vec()))
            }
            Err(section) => {
                let builtin = BuiltinStatus::from_code(status).ok_or_else(|| {
                    format!(
                        "status code '{status}' not handled by default with 'default-errorfiles' argument."
                    )
                })?;
                Ok(HttpAction::ReturnPage(PageRef { code: status, section, builtin }))
            }
        };
    }
    let empty = matches!(&body, DynBody::Bytes(b) if b.is_empty());
    if ctype.is_none() && matches!(body, DynBody::Format(_)) {
        return Err("a content type must be defined with a log-format payload.".into());
    }
    if !empty && ctype.is_none() {
        return Err("a 'content-type' is required with a body.".into());
    }
    let status_line = format!("HTTP/1.1 {status} {}\r\n", reason(status)).into_bytes();
    let reply = DynReply { status_line, hdrs, content_type: ctype, body };
    Ok(match reply.literal() {
        Some(bytes) => HttpAction::Return(bytes),
        None => HttpAction::ReturnDyn(Box::new(reply)),
    })
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
        let HttpAction::Return(bytes) = a else { panic!("static") };
        assert_eq!(
            bytes,
            b"HTTP/1.1 201 Created\r\nx-b: lit\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nhi"
        );
        let a = parse(&words("return hdr x-a %[path]")).unwrap();
        assert!(matches!(a, HttpAction::ReturnDyn(_)));
        assert!(parse(&words("return hdr x-a")).is_err());
        assert!(parse(&words("return hdr content-length 5")).is_err());
    }

    #[test]
    fn error_file_replies_and_log_format_bodies() {
        let a = parse(&words("return status 503 default-errorfiles")).unwrap();
        assert!(matches!(a, HttpAction::ReturnPage(PageRef { code: 503, section: None, .. })));
        let a = parse(&words("return status 404 errorfiles errs")).unwrap();
        assert!(matches!(a, HttpAction::ReturnPage(PageRef { code: 404, section: Some(_), .. })));
        assert!(parse(&words("return status 201 default-errorfiles")).unwrap_err().contains("201"));
        assert!(parse(&words("return default-errorfiles hdr x-a b")).is_err());
        assert!(parse(&words("return lf-string %[path]")).is_err(), "a content-type is required");
        let a = parse(&words("return content-type text/plain lf-string %[path]")).unwrap();
        assert!(matches!(a, HttpAction::ReturnDyn(_)));
        // A literal log-format body is built once.
        let a = parse(&words("return content-type text/plain lf-string plain")).unwrap();
        assert!(matches!(a, HttpAction::Return(b) if b.ends_with(b"content-type: text/plain\r\n\r\nplain")));
    }
}
