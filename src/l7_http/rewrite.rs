//! Serialising a head to send: the request or status line and the headers
//! kept, with the connection-management headers strata decides itself.
//!
//! Hop-by-hop handling follows RFC 9110 §7.6.1: `Connection` and
//! `Keep-Alive` are dropped and replaced by what strata wants for the next
//! hop (`Connection: close` when closing, nothing otherwise, since both
//! sides speak HTTP/1.1 keep-alive by default).

use super::head::{HeaderSpan, Version};
use crate::core::buffer::Buffer;

/// The `Connection` header strata writes for the next hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnHeader {
    Default,   // nothing: HTTP/1.1 keep-alive
    Close,     // `Connection: close`
    KeepAlive, // `Connection: keep-alive` (to an HTTP/1.0 peer that asked for it)
    Upgrade,   // `Connection: upgrade` (protocol switch)
}

/// A header edit decided by rules, applied while serialising, in order:
/// a `Del` or `Set` removes every earlier header of that name (received
/// or added), as HAProxy's rules applied one after another would.
#[derive(Clone, Debug)]
pub enum HeaderEdit {
    Add(String, String),                          // append `name: value`
    Set(String, String),                          // remove every `name`, then append it
    Del(String),                                  // remove every `name` header
    Replace(String, regex::bytes::Regex, String), // rewrite received `name` values matching the regex
}

impl HeaderEdit {
    fn name(&self) -> &str {
        match self {
            HeaderEdit::Add(n, _)
            | HeaderEdit::Set(n, _)
            | HeaderEdit::Del(n)
            | HeaderEdit::Replace(n, _, _) => n,
        }
    }

    /// Whether this edit removes headers named `name` written before it.
    fn removes(&self, name: &[u8]) -> bool {
        matches!(self, HeaderEdit::Set(..) | HeaderEdit::Del(_))
            && self.name().as_bytes().eq_ignore_ascii_case(name)
    }
}

/// Appends `parts` to `out`; false if the head does not fit.
fn put(out: &mut Buffer, parts: &[&[u8]]) -> bool {
    for p in parts {
        if out.push(p) != p.len() {
            return false;
        }
    }
    true
}

fn is_hop_by_hop(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"connection")
        || name.eq_ignore_ascii_case(b"keep-alive")
        || name.eq_ignore_ascii_case(b"proxy-connection")
}

/// Writes a head: `first_line`, then every header of `src` except the
/// hop-by-hop ones and those deleted by `edits`, then added headers, then
/// `extra` headers (added by the proxy itself, e.g. X-Forwarded-For), then
/// the `Connection` header chosen. Returns None if the result does not fit
/// in one buffer.
pub fn write_head(
    first_line: &[&[u8]],
    src: &[u8],
    headers: &[HeaderSpan],
    edits: &[HeaderEdit],
    extra: &[(&[u8], &[u8])],
    conn: ConnHeader,
) -> Option<Buffer> {
    let mut out = Buffer::take();
    let mut ok = put(&mut out, first_line) && put(&mut out, &[b"\r\n"]);
    for h in headers {
        let name = h.name.of(src);
        if is_hop_by_hop(name) || edits.iter().any(|e| e.removes(name)) {
            continue;
        }
        let value = h.value.of(src);
        let replaced = edits.iter().find_map(|e| match e {
            HeaderEdit::Replace(n, re, with)
                if n.as_bytes().eq_ignore_ascii_case(name) && re.is_match(value) =>
            {
                Some(re.replace(value, with.as_bytes()).into_owned())
            }
            _ => None,
        });
        ok &= put(&mut out, &[name, b": ", replaced.as_deref().unwrap_or(value), b"\r\n"]);
    }
    for (i, e) in edits.iter().enumerate() {
        if let HeaderEdit::Add(n, v) | HeaderEdit::Set(n, v) = e {
            if edits[i + 1..].iter().any(|later| later.removes(n.as_bytes())) {
                continue;
            }
            ok &= put(&mut out, &[n.as_bytes(), b": ", v.as_bytes(), b"\r\n"]);
        }
    }
    for (n, v) in extra {
        ok &= put(&mut out, &[n, b": ", v, b"\r\n"]);
    }
    ok &= match conn {
        ConnHeader::Default => true,
        ConnHeader::Close => put(&mut out, &[b"Connection: close\r\n"]),
        ConnHeader::KeepAlive => put(&mut out, &[b"Connection: keep-alive\r\n"]),
        ConnHeader::Upgrade => put(&mut out, &[b"Connection: upgrade\r\n"]),
    };
    ok &= put(&mut out, &[b"\r\n"]);
    ok.then_some(out)
}

/// The request line to send upstream, as the client sent it.
pub fn request_line<'a>(method: &'a [u8], uri: &'a [u8], version: Version) -> [&'a [u8]; 5] {
    [method, b" ", uri, b" ", version.as_str().as_bytes()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l7_http::parse::parse_request;

    #[test]
    fn hop_by_hop_headers_are_replaced_and_edits_applied() {
        let raw = b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, x-foo\r\nX-Del: 1\r\nKeep-Alive: 5\r\nAccept: */*\r\n\r\n";
        let h = parse_request(raw).unwrap().unwrap();
        let line = request_line(h.method.of(raw), h.uri.of(raw), h.version);
        let edits =
            [HeaderEdit::Del("x-del".into()), HeaderEdit::Add("X-Forwarded-For".into(), "10.0.0.1".into())];
        let out = write_head(&line, raw, &h.headers, &edits, &[], ConnHeader::Close).unwrap();
        assert_eq!(
            std::str::from_utf8(out.data()).unwrap(),
            "GET /x HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nX-Forwarded-For: 10.0.0.1\r\nConnection: close\r\n\r\n"
        );
    }
}
