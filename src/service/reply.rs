//! Response heads of internal services, in HAProxy's header order
//! (`cache-control`, `content-type`, then the others).

use crate::l6_stream::service::ServiceReply;
use crate::l7_http::rules::reason;

/// A reply with `body` (left out for a HEAD request), framed by
/// `content-length`, and `extra` header lines (`name: value`).
pub fn reply(status: u16, ctype: &str, extra: &[String], body: &[u8], head_only: bool) -> ServiceReply {
    let mut bytes = head(status, ctype, extra, body.len() as u64);
    if !head_only {
        bytes.extend_from_slice(body);
    }
    ServiceReply { status, bytes, file: None }
}

/// The head of a response whose body is `len` bytes.
pub fn head(status: u16, ctype: &str, extra: &[String], len: u64) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\ncache-control: no-cache\r\n", reason(status));
    if !ctype.is_empty() {
        out.push_str("content-type: ");
        out.push_str(ctype);
        out.push_str("\r\n");
    }
    out.push_str(&format!("content-length: {len}\r\n"));
    for h in extra {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// Decodes standard base64 (`Authorization: Basic`); None if malformed.
pub fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let text = text.strip_suffix(b"==").or_else(|| text.strip_suffix(b"=")).unwrap_or(text);
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// `%XX` and `+` decoding of a form field or query value.
pub fn url_decode(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        match v[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < v.len() => {
                match std::str::from_utf8(&v[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// Escapes `&`, `<`, `>` and `"` for HTML text and attributes.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_url_decoding() {
        assert_eq!(base64_decode(b"YWRtaW46c2VjcmV0").as_deref(), Some(&b"admin:secret"[..]));
        assert_eq!(base64_decode(b"YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64_decode(b"YWI=").as_deref(), Some(&b"ab"[..]));
        assert_eq!(base64_decode(b"Y!=="), None);
        assert_eq!(url_decode(b"%232+x%2"), b"#2 x%2");
        assert_eq!(html_escape("<a&\"b\">"), "&lt;a&amp;&quot;b&quot;&gt;");
    }
}
