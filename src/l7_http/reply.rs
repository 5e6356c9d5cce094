//! `http-request return [status N] [content-type T] [string S | file F]
//! [hdr NAME FMT]...`: the answer HAProxy 2.6 writes, `hdr` lines first
//! (names in lower case), then `content-length` and `content-type`. Built
//! once at start-up when every value is literal, else per request from
//! the rule's log-format values ([`DynReply::render`]).

use super::logformat::{LogFormat, LogSource};
use super::rules::{HttpAction, arg, literal, reason};

/// A `return` whose `hdr` values have samples: the parts that do not
/// change, and the headers to render. Owned by its rule.
#[derive(Clone, Debug)]
pub struct DynReply {
    status_line: Vec<u8>,           // `HTTP/1.1 N Reason\r\n`
    hdrs: Vec<(String, LogFormat)>, // `hdr NAME FMT`, in order
    tail: Vec<u8>,                  // content-length, content-type, blank line, body
}

impl DynReply {
    /// The complete answer for the request `src` describes.
    pub fn render(&self, src: &dyn LogSource) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.status_line.len() + self.tail.len() + 64);
        out.extend_from_slice(&self.status_line);
        for (name, value) in &self.hdrs {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.render(src).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(&self.tail);
        out
    }
}

/// Parses the words of a `return` action.
pub(super) fn parse(words: &[String]) -> Result<HttpAction, String> {
    let (mut status, mut ctype, mut body) = (200u16, None, Vec::new());
    let mut hdrs: Vec<(String, LogFormat)> = Vec::new();
    let mut i = 1;
    while i < words.len() {
        let v = arg(words, i + 1, &format!("a value after '{}'", words[i]))?;
        match words[i].as_str() {
            "status" => {
                status = v.parse().ok().filter(|s| (200..=599).contains(s)).ok_or("invalid status code.")?;
            }
            "content-type" => ctype = Some(literal(v)?),
            "string" => body = literal(v)?.into_bytes(),
            "file" => body = std::fs::read(v).map_err(|e| format!("failed to read file '{v}' ({e})."))?,
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
    if !body.is_empty() && ctype.is_none() {
        return Err("a 'content-type' is required with a body.".into());
    }
    let status_line = format!("HTTP/1.1 {status} {}\r\n", reason(status)).into_bytes();
    let mut tail = format!("content-length: {}\r\n", body.len()).into_bytes();
    if let Some(t) = ctype {
        tail.extend_from_slice(format!("content-type: {t}\r\n").as_bytes());
    }
    tail.extend_from_slice(b"\r\n");
    tail.extend_from_slice(&body);
    let literal_hdrs: Option<Vec<(String, String)>> =
        hdrs.iter().map(|(n, v)| v.as_literal().map(|v| (n.clone(), v))).collect();
    match literal_hdrs {
        Some(lit) => {
            let mut out = status_line;
            for (n, v) in lit {
                out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
            }
            out.extend_from_slice(&tail);
            Ok(HttpAction::Return(out))
        }
        None => Ok(HttpAction::ReturnDyn(Box::new(DynReply { status_line, hdrs, tail }))),
    }
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
}
