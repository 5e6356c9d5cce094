//! An HTTP/2 request head (a decoded header block) rebuilt as the HTTP/1.1
//! head its stream runs on: `METHOD URI HTTP/1.1`, `host` from
//! `:authority`, the fields in order, cookies joined into one (RFC 9113
//! §8.2.3), `transfer-encoding: chunked` when a body of unknown length
//! follows. The URI is absolute (`scheme://authority/path`) when
//! `:authority` is present, as HAProxy 2.6 shows it to `url` and in logs;
//! it goes to HTTP/1 servers in origin form.
//!
//! Everything RFC 9113 §8.2-8.3 calls malformed is refused before a byte
//! is written: an invalid `:method` or `:scheme` with HAProxy 2.6's 400,
//! the rest with a stream error (PROTOCOL_ERROR): pseudo-headers after a
//! field, repeated, unknown or missing; upper case or non-token names;
//! connection-specific fields; NUL, CR, LF, or surrounding blanks in a
//! value; a `:path` or `:authority` that could not be written as one
//! HTTP/1 token. So no HTTP/2 request can smuggle a second HTTP/1 one.
//!
//! An extended CONNECT (RFC 8441: `:method CONNECT` with `:protocol`,
//! which needs `:scheme`, `:path` and `:authority`) becomes what HAProxy
//! 2.6 makes of it: `GET` with `upgrade: PROTOCOL` and `connection:
//! upgrade`, and for `websocket` a fresh `sec-websocket-key` when the
//! client gave none (RFC 8441 §5 has no key; an HTTP/1.1 server needs
//! one). Its DATA, once the server switched, is the tunnel's bytes.

use super::req_head::HeadWriter;
use crate::core::buffer::Buffer;
use crate::l7_http::h2::hpack::{Decoder, HpackError};
use crate::l7_http::head::{ConnOpts, Framing, RequestHead, Version};
use crate::l7_http::parse::MAX_HEADERS;

/// Why a request head was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReqError {
    Compression(HpackError),  // the block is not valid HPACK: the connection fails
    Malformed(&'static str),  // a stream error (PROTOCOL_ERROR)
    BadRequest(&'static str), // answered with a 400, as HAProxy 2.6 does (an invalid method or scheme)
    TooLarge,                 // over the header list budget or the buffer
}

/// How the request body reaches the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReqBody {
    None,        // END_STREAM came with the head
    Length(u64), // content-length: DATA payload as it is; bytes still expected
    Chunked,     // no content-length: each DATA payload becomes a chunk
    Tunnel,      // extended CONNECT: DATA payload as it is, END_STREAM closes the tunnel's way in
}

/// A request ready to become a stream.
pub struct Built {
    pub buf: Buffer,       // the HTTP/1.1 head
    pub head: RequestHead, // `buf` as `parse_request` would parse it, version `Http2`
    pub body: ReqBody,
    pub head_method: bool, // HEAD: the response has no body
    pub ext_connect: bool, // RFC 8441 extended CONNECT: a 101 from the server is the client's 200
}

/// The pseudo-headers seen so far, as ranges of `Scratch::pseudo`.
#[derive(Default)]
struct Pseudo {
    method: Option<(usize, usize)>,
    scheme: Option<(usize, usize)>,
    authority: Option<(usize, usize)>,
    path: Option<(usize, usize)>,
    protocol: Option<(usize, usize)>, // RFC 8441 `:protocol`
}

/// Per-connection storage reused from one request to the next.
#[derive(Default)]
pub struct Scratch {
    pseudo: Vec<u8>,      // pseudo-header values
    fields: Vec<u8>,      // `name: value\r\n` lines of the regular fields
    spans: Vec<[u32; 3]>, // each line of `fields`: name start, value start, value end
    cookie: Vec<u8>,      // cookie values joined with "; "
}

/// Whether `b` may appear in a field name (a token, lower case).
fn name_byte(b: u8) -> bool {
    matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
}

/// A value HTTP/2 allows (RFC 9113 §8.2.1).
fn value_ok(v: &[u8]) -> bool {
    !v.iter().any(|&b| b == 0 || b == b'\r' || b == b'\n')
        && !matches!(v.first(), Some(b' ' | b'\t'))
        && !matches!(v.last(), Some(b' ' | b'\t'))
}

/// Whether an HTTP/1 parser takes `v` as a header value (HTAB, SP,
/// visible characters and obs-text; RFC 9110 §5.5).
fn h1_value_ok(v: &[u8]) -> bool {
    v.iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// Bytes that may appear in a request target written on an HTTP/1 line.
fn target_ok(v: &[u8]) -> bool {
    !v.is_empty() && v.iter().all(|&b| b > 0x20 && b != 0x7f)
}

fn authority_ok(v: &[u8]) -> bool {
    target_ok(v) && !v.iter().any(|&b| matches!(b, b'/' | b'?' | b'#' | b'@'))
}

/// Decoding state for one block.
struct Fields<'s> {
    s: &'s mut Scratch,
    pseudo: Pseudo,
    regular: bool, // a regular field was seen: no more pseudo-headers
    content_length: Option<u64>,
    hosts: u8,             // `host` fields kept (without `:authority`)
    expect_continue: bool, // `expect: 100-continue`
    h1_invalid: bool,      // a value no HTTP/1 parser takes: refused once the head is written
    error: Option<&'static str>,
}

impl Fields<'_> {
    fn field(&mut self, name: &[u8], value: &[u8]) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self.check(name, value) {
            self.error = Some(e);
        }
    }

    fn check(&mut self, name: &[u8], value: &[u8]) -> Result<(), &'static str> {
        if !value_ok(value) {
            return Err("invalid character in a field value");
        }
        if let Some(pseudo) = name.strip_prefix(b":") {
            if self.regular {
                return Err("pseudo-header after a regular field");
            }
            let slot = match pseudo {
                b"method" => &mut self.pseudo.method,
                b"scheme" => &mut self.pseudo.scheme,
                b"authority" => &mut self.pseudo.authority,
                b"path" => &mut self.pseudo.path,
                b"protocol" => &mut self.pseudo.protocol,
                _ => return Err("unknown pseudo-header"),
            };
            if slot.is_some() {
                return Err("repeated pseudo-header");
            }
            let start = self.s.pseudo.len();
            self.s.pseudo.extend_from_slice(value);
            *slot = Some((start, self.s.pseudo.len()));
            return Ok(());
        }
        self.regular = true;
        if name.is_empty() || !name.iter().all(|&b| name_byte(b)) {
            return Err("invalid field name");
        }
        self.h1_invalid |= !h1_value_ok(value);
        match name {
            b"connection" | b"keep-alive" | b"proxy-connection" | b"transfer-encoding" | b"upgrade" => {
                return Err("connection-specific field");
            }
            b"te" if value != b"trailers" => return Err("te other than trailers"),
            b"cookie" => {
                if !self.s.cookie.is_empty() {
                    self.s.cookie.extend_from_slice(b"; ");
                }
                self.s.cookie.extend_from_slice(value);
                return Ok(());
            }
            // `:authority` is written as `host` and wins over a `host` field,
            // which is dropped (as HAProxy 2.6 does against HTTP/2 desync
            // attacks): rules, logs and the server all see one host, the
            // one the client's TLS and HTTP/2 layers meant.
            b"host" if self.pseudo.authority.is_some() => return Ok(()),
            b"host" => self.hosts = self.hosts.saturating_add(1),
            b"expect" => self.expect_continue |= value.eq_ignore_ascii_case(b"100-continue"),
            b"content-length" => {
                let n = std::str::from_utf8(value)
                    .ok()
                    .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|t| t.parse::<u64>().ok())
                    .ok_or("invalid content-length")?;
                self.h1_invalid |= value.len() > 19; // more digits than the HTTP/1 parser takes
                if self.content_length.is_some_and(|c| c != n) {
                    return Err("conflicting content-length");
                }
                if self.content_length.is_some() {
                    return Ok(()); // one is written
                }
                self.content_length = Some(n);
            }
            _ => {}
        }
        let f = &mut self.s.fields;
        let start = f.len() as u32;
        f.extend_from_slice(name);
        f.extend_from_slice(b": ");
        let value_start = f.len() as u32;
        f.extend_from_slice(value);
        self.s.spans.push([start, value_start, f.len() as u32]);
        f.extend_from_slice(b"\r\n");
        Ok(())
    }
}

/// Decodes `block` and builds the HTTP/1.1 head. `end_stream`: the
/// HEADERS frame ended the stream (no body); `ext_connect`: extended
/// CONNECT was announced (SETTINGS_ENABLE_CONNECT_PROTOCOL).
pub fn build(
    dec: &mut Decoder,
    scratch: &mut Scratch,
    block: &[u8],
    budget: usize,
    (end_stream, ext_connect): (bool, bool),
) -> Result<Built, ReqError> {
    scratch.pseudo.clear();
    scratch.fields.clear();
    scratch.spans.clear();
    scratch.cookie.clear();
    let mut f = Fields {
        s: scratch,
        pseudo: Pseudo::default(),
        regular: false,
        content_length: None,
        hosts: 0,
        expect_continue: false,
        h1_invalid: false,
        error: None,
    };
    let decoded = dec.decode(block, budget, |n, v| f.field(n, v)).map_err(ReqError::Compression)?;
    if decoded.over_budget {
        return Err(ReqError::TooLarge);
    }
    if let Some(e) = f.error {
        return Err(ReqError::Malformed(e));
    }
    let Fields { s, pseudo, content_length, hosts, expect_continue, h1_invalid, .. } = f;
    let part = |r: Option<(usize, usize)>| r.map(|(a, b)| &s.pseudo[a..b]);
    let mut method = part(pseudo.method).ok_or(ReqError::Malformed("no :method"))?;
    let protocol = part(pseudo.protocol);
    match (method == b"CONNECT", protocol) {
        (true, None) => return Err(ReqError::Malformed("CONNECT is not supported over HTTP/2")),
        (false, Some(_)) => return Err(ReqError::Malformed(":protocol without CONNECT")),
        (true, Some(_)) if !ext_connect => return Err(ReqError::Malformed("extended CONNECT not enabled")),
        (true, Some(p)) if p.is_empty() || !p.iter().all(|&b| name_byte(b.to_ascii_lowercase())) => {
            return Err(ReqError::Malformed("invalid :protocol"));
        }
        (true, Some(_)) if pseudo.authority.is_none() => {
            return Err(ReqError::Malformed("extended CONNECT without :authority"));
        }
        (true, Some(_)) => method = b"GET", // RFC 8441 §4, as HAProxy 2.6 rewrites it
        (false, None) => {}
    }
    let scheme = part(pseudo.scheme).ok_or(ReqError::Malformed("no :scheme"))?;
    let path = part(pseudo.path).ok_or(ReqError::Malformed("no :path"))?;
    let authority = part(pseudo.authority);
    if !method.iter().all(|&b| name_byte(b) || b.is_ascii_uppercase()) || method.is_empty() {
        return Err(ReqError::BadRequest("invalid :method"));
    }
    if !target_ok(path) || !(path[0] == b'/' || (path == b"*" && method == b"OPTIONS")) {
        return Err(ReqError::Malformed("invalid :path"));
    }
    if !scheme.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        || scheme.is_empty()
    {
        return Err(ReqError::BadRequest("invalid :scheme"));
    }
    if authority.is_some_and(|a| !authority_ok(a)) {
        return Err(ReqError::Malformed("invalid :authority"));
    }
    let body = match (end_stream, content_length) {
        _ if protocol.is_some() && content_length.is_some() => {
            return Err(ReqError::Malformed("content-length on an extended CONNECT"));
        }
        _ if protocol.is_some() => ReqBody::Tunnel,
        (true, Some(n)) if n > 0 => return Err(ReqError::Malformed("content-length without a body")),
        (true, _) => ReqBody::None,
        (false, Some(n)) => ReqBody::Length(n),
        (false, None) => ReqBody::Chunked,
    };
    // The target is absolute (`scheme://authority/path`) with an authority
    // but for `OPTIONS *`; its authority and the `host` line are written as
    // `authority::normalize` leaves a head (no default port).
    let absolute = authority.filter(|_| path != b"*");
    let normalized = absolute.map(|a| crate::l7_http::authority::normalized_authority(scheme, a));
    let host = match normalized {
        Some(Some(a)) => Some(a),
        _ => authority,
    };
    // Without :authority nor host (RFC 9113 §8.3.1 allows it) the head is
    // written as HTTP/1.0, which needs no Host: HAProxy serves such
    // requests too, and HTTP/1.1 would require one.
    let hostless = authority.is_none() && hosts == 0;
    let mut w = HeadWriter::new();
    let method_span = w.put(method);
    w.put(b" ");
    let uri_start = w.put(b"").start;
    if let Some(a) = absolute {
        w.put(scheme);
        w.put(b"://");
        w.put(host.unwrap_or(a));
    }
    let uri = crate::l7_http::head::Span { start: uri_start, end: w.put(path).end };
    w.put(if hostless { &b" HTTP/1.0\r\n"[..] } else { &b" HTTP/1.1\r\n"[..] });
    if let Some(a) = host {
        w.line(b"host", a);
    }
    w.lines(&s.fields, &s.spans);
    if !s.cookie.is_empty() {
        w.line(b"cookie", &s.cookie);
    }
    if let Some(p) = protocol {
        w.line(b"upgrade", p);
        w.line(b"connection", b"upgrade");
        if p.eq_ignore_ascii_case(b"websocket") && !has_field(&s.fields, b"sec-websocket-key:") {
            w.line(b"sec-websocket-key", &crate::l7_http::websocket::new_key());
        }
    }
    if body == ReqBody::Chunked {
        w.line(b"transfer-encoding", b"chunked");
    }
    w.put(b"\r\n");
    if !w.ok {
        return Err(ReqError::TooLarge);
    }
    // What an HTTP/1 parser would refuse in the written head: a value it
    // does not take, more lines than it holds, several Host lines, an empty
    // host in an http(s) URI, chunked framing in HTTP/1.0.
    if h1_invalid
        || w.headers.len() > MAX_HEADERS
        || hosts > 1
        || normalized == Some(None)
        || (hostless && body == ReqBody::Chunked)
    {
        return Err(ReqError::Malformed("not a valid request once written as HTTP/1.1"));
    }
    let framing = match content_length {
        Some(n) if n > 0 => Framing::Length(n),
        _ if body == ReqBody::Chunked => Framing::Chunked,
        _ => Framing::None,
    };
    let head = RequestHead {
        method: method_span,
        uri,
        version: Version::Http2,
        len: w.buf.len(),
        headers: w.headers,
        framing,
        // HTTP/1.0 without keep-alive closes; an upgrade is announced.
        conn: ConnOpts { close: hostless, keep_alive: false, upgrade: protocol.is_some() },
        expect_continue,
    };
    let head_method = method == b"HEAD";
    Ok(Built { buf: w.buf, head, body, head_method, ext_connect: protocol.is_some() })
}

/// Whether the regular fields have a line starting with `prefix` (`name:`).
fn has_field(fields: &[u8], prefix: &[u8]) -> bool {
    fields
        .split(|&b| b == b'\n')
        .any(|l| l.len() > prefix.len() && l[..prefix.len()].eq_ignore_ascii_case(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l7_http::h2::hpack::Encoder;

    fn block(fields: &[(&str, &str)]) -> Vec<u8> {
        let mut e = Encoder::new();
        let mut b = Vec::new();
        for (n, v) in fields {
            e.field(n.as_bytes(), v.as_bytes(), &mut b);
        }
        b
    }

    fn run(fields: &[(&str, &str)], end: bool) -> Result<Built, ReqError> {
        build(&mut Decoder::new(4096), &mut Scratch::default(), &block(fields), 65536, (end, true))
    }

    const BASE: [(&str, &str); 4] =
        [(":method", "GET"), (":scheme", "http"), (":authority", "a.example"), (":path", "/x?y=1")];

    #[test]
    fn a_request_becomes_an_http1_head() {
        let mut f = BASE.to_vec();
        f.extend([("accept", "*/*"), ("cookie", "a=1"), ("user-agent", "t"), ("cookie", "b=2")]);
        let b = run(&f, true).unwrap();
        assert_eq!(
            std::str::from_utf8(b.buf.data()).unwrap(),
            "GET http://a.example/x?y=1 HTTP/1.1\r\nhost: a.example\r\naccept: */*\r\nuser-agent: t\r\ncookie: a=1; b=2\r\n\r\n"
        );
        assert_eq!((b.body, b.head.version), (ReqBody::None, Version::Http2));
        // A host field beside :authority is dropped: :authority is the host.
        let mut f = BASE.to_vec();
        f.push(("host", "other.example"));
        let b = run(&f, true).unwrap();
        assert_eq!(
            std::str::from_utf8(b.buf.data()).unwrap(),
            "GET http://a.example/x?y=1 HTTP/1.1\r\nhost: a.example\r\n\r\n"
        );
        let mut f = BASE.to_vec();
        f[0] = (":method", "POST");
        let b = run(&f, false).unwrap();
        assert!(std::str::from_utf8(b.buf.data()).unwrap().ends_with("transfer-encoding: chunked\r\n\r\n"));
        assert_eq!(b.body, ReqBody::Chunked);
        f.push(("content-length", "5"));
        assert_eq!(run(&f, false).unwrap().body, ReqBody::Length(5));
    }

    /// The head handed to the stream is what parsing the written text
    /// gives (spans, framing, connection options, expect), and the text
    /// is already as `authority::normalize` leaves it.
    fn same_as_parsed(b: &Built) -> String {
        let text = String::from_utf8_lossy(b.buf.data()).into_owned();
        let mut parsed = crate::l7_http::parse::parse_request(b.buf.data()).unwrap().unwrap();
        parsed.version = Version::Http2;
        assert_eq!(format!("{:?}", b.head), format!("{parsed:?}"), "{text}");
        let mut copy = Buffer::take();
        copy.push(b.buf.data());
        let (copy, _) = crate::l7_http::authority::normalize(copy, parsed);
        assert_eq!(copy.data(), b.buf.data(), "{text}");
        text
    }

    #[test]
    fn the_head_is_the_parse_of_its_text() {
        let with = |extra: &[(&'static str, &'static str)], end: bool| {
            let mut f = BASE.to_vec();
            f.extend_from_slice(extra);
            same_as_parsed(&run(&f, end).unwrap())
        };
        with(&[("accept", "*/*"), ("cookie", "a=1"), ("x-e", ""), ("cookie", "b=2")], true);
        with(&[("content-length", "0")], true);
        with(&[("content-length", "5")], false);
        with(&[("content-length", "0000000000000000005"), ("content-length", "5")], false);
        with(&[("expect", "100-Continue"), ("x", "tab\there, obs-text \u{e9}")], false);
        with(&[], false);
        let authority = |scheme: &'static str, a: &'static str, path: &'static str| {
            let f = [(":method", "OPTIONS"), (":scheme", scheme), (":authority", a), (":path", path)];
            same_as_parsed(&run(&f, true).unwrap())
        };
        // Default ports are dropped from the URI and the host line, as
        // HAProxy normalizes them; others stay.
        assert!(
            authority("http", "a.example:80", "/p")
                .starts_with("OPTIONS http://a.example/p HTTP/1.1\r\nhost: a.example\r\n")
        );
        assert!(
            authority("https", "a.example:443", "/")
                .contains("https://a.example/ HTTP/1.1\r\nhost: a.example\r\n")
        );
        assert!(
            authority("https", "a.example:80", "/")
                .contains("https://a.example:80/ HTTP/1.1\r\nhost: a.example:80\r\n")
        );
        assert!(
            authority("http", "a.example:", "/")
                .contains("http://a.example/ HTTP/1.1\r\nhost: a.example\r\n")
        );
        assert!(authority("http", "a.example:8080", "/").contains("http://a.example:8080/ HTTP/1.1\r\n"));
        assert!(authority("foo", ":80", "/").contains("foo://:80/ HTTP/1.1\r\nhost: :80\r\n"));
        assert!(
            authority("http", "a.example:80", "*")
                .starts_with("OPTIONS * HTTP/1.1\r\nhost: a.example:80\r\n")
        );
        // Without :authority: the host field, or HTTP/1.0 without one.
        let f = [(":method", "GET"), (":scheme", "http"), (":path", "/"), ("host", "h.example:80")];
        assert!(
            same_as_parsed(&run(&f, true).unwrap()).starts_with("GET / HTTP/1.1\r\nhost: h.example:80\r\n")
        );
        let f = [(":method", "POST"), (":scheme", "http"), (":path", "/"), ("content-length", "3")];
        let b = run(&f, false).unwrap();
        assert!(same_as_parsed(&b).starts_with("POST / HTTP/1.0\r\n") && b.head.conn.close);
        let mut ws = vec![(":method", "CONNECT"), (":protocol", "websocket")];
        ws.extend_from_slice(&BASE[1..]);
        same_as_parsed(&run(&ws, false).unwrap());
        let many: Vec<(String, String)> = (0..100).map(|i| (format!("x-{i}"), "v".to_string())).collect();
        let mut f: Vec<(&str, &str)> = BASE.to_vec();
        f.extend(many.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        same_as_parsed(&run(&f, true).unwrap()); // 101 lines with host
    }

    #[test]
    fn what_an_http1_parser_refuses_is_malformed() {
        let malformed = |f: &[(&str, &str)], end: bool| {
            assert!(matches!(run(f, end), Err(ReqError::Malformed(_))), "{f:?} accepted")
        };
        let with = |extra: (&'static str, &'static str)| {
            let mut f = BASE.to_vec();
            f.push(extra);
            f
        };
        for bad in ["a\u{7f}b", "a\u{1}b", "\u{1f}"] {
            malformed(&with(("x", bad)), true);
            malformed(&with(("cookie", bad)), true);
        }
        malformed(&with(("content-length", "00000000000000000005")), false);
        malformed(
            &[(":method", "GET"), (":scheme", "http"), (":path", "/"), ("host", "a"), ("host", "b")],
            true,
        );
        malformed(&[(":method", "GET"), (":scheme", "https"), (":authority", ":443"), (":path", "/")], true);
        malformed(&[(":method", "POST"), (":scheme", "http"), (":path", "/")], false); // chunked in HTTP/1.0
        let many: Vec<(String, String)> = (0..101).map(|i| (format!("x-{i}"), "v".to_string())).collect();
        let mut f: Vec<(&str, &str)> = BASE.to_vec();
        f.extend(many.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        malformed(&f, true); // 102 lines
    }

    #[test]
    fn an_extended_connect_becomes_an_http11_upgrade() {
        let ws = [
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", "http"),
            (":authority", "a.example"),
            (":path", "/chat"),
            ("sec-websocket-version", "13"),
        ];
        let b = run(&ws, false).unwrap();
        let text = std::str::from_utf8(b.buf.data()).unwrap().to_string();
        let key_line = text.lines().find(|l| l.starts_with("sec-websocket-key: ")).expect(&text);
        assert_eq!(key_line.len(), "sec-websocket-key: ".len() + 24, "{text}");
        assert_eq!(
            text.replace(key_line, "KEY"),
            "GET http://a.example/chat HTTP/1.1\r\nhost: a.example\r\nsec-websocket-version: 13\r\nupgrade: websocket\r\nconnection: upgrade\r\nKEY\r\n\r\n"
        );
        assert_eq!((b.body, b.ext_connect), (ReqBody::Tunnel, true));
        // A key the client gave is kept; another protocol gets none.
        let mut f = ws.to_vec();
        f.push(("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="));
        let text = String::from_utf8(run(&f, false).unwrap().buf.data().to_vec()).unwrap();
        assert_eq!(text.matches("sec-websocket-key").count(), 1, "{text}");
        let mut f = ws.to_vec();
        f[1] = (":protocol", "x-chat");
        let text = String::from_utf8(run(&f, false).unwrap().buf.data().to_vec()).unwrap();
        assert!(!text.contains("sec-websocket-key") && text.contains("upgrade: x-chat\r\n"), "{text}");
        // RFC 8441 §4: :scheme, :path and :authority are required; :protocol only with CONNECT.
        for drop in [":scheme", ":path", ":authority"] {
            let f: Vec<_> = ws.iter().copied().filter(|(n, _)| *n != drop).collect();
            assert!(matches!(run(&f, false), Err(ReqError::Malformed(_))), "without {drop}");
        }
        let mut f = ws.to_vec();
        f[0] = (":method", "GET");
        assert!(matches!(run(&f, false), Err(ReqError::Malformed(_))));
        // Not announced (h2-workaround-bogus-websocket-clients): refused.
        let r = build(&mut Decoder::new(4096), &mut Scratch::default(), &block(&ws), 65536, (false, false));
        assert!(matches!(r, Err(ReqError::Malformed(_))));
    }

    #[test]
    fn malformed_requests_are_refused() {
        let cases: Vec<Vec<(&str, &str)>> = vec![
            vec![(":method", "GET"), (":scheme", "http"), (":path", "/"), (":path", "/")],
            vec![(":method", "GET"), (":scheme", "http"), ("accept", "x"), (":path", "/")],
            vec![(":method", "GET"), (":scheme", "http")],
            vec![(":method", "GET"), (":scheme", "http"), (":path", "/"), (":status", "200")],
            vec![(":method", "GET"), (":scheme", "http"), (":path", "/"), ("Accept", "x")],
            vec![(":method", "GET"), (":scheme", "http"), (":path", "/"), ("connection", "close")],
            vec![(":method", "GET"), (":scheme", "http"), (":path", "/"), ("transfer-encoding", "chunked")],
            vec![(":method", "GET"), (":scheme", "http"), (":path", "/"), ("x", "a\r\nb: c")],
            vec![(":method", "GET"), (":scheme", "http"), (":path", "/"), ("x", " a")],
            vec![(":method", "GET"), (":scheme", "http"), (":path", "/ HTTP/1.1\r\nx: y")],
            vec![(":method", "GET"), (":scheme", "http"), (":path", "/a b")],
            vec![(":method", "GET"), (":scheme", "http"), (":path", "")],
            vec![(":method", "GET"), (":scheme", "http"), (":authority", "a b"), (":path", "/")],
            vec![(":method", "GET"), (":scheme", "http"), (":path", "/"), ("te", "gzip")],
            vec![(":method", "GET"), (":scheme", "http"), (":path", "/"), ("content-length", "1x")],
            vec![
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                ("content-length", "1"),
                ("content-length", "2"),
            ],
        ];
        for f in cases {
            assert!(matches!(run(&f, false), Err(ReqError::Malformed(_))), "{f:?}");
        }
        // An invalid method or scheme gets HAProxy's 400 instead of a reset.
        for f in [
            [(":method", "G T"), (":scheme", "http"), (":path", "/")],
            [(":method", "GET?"), (":scheme", "http"), (":path", "/")],
            [(":method", "GET"), (":scheme", "http://localhost/?"), (":path", "/")],
        ] {
            assert!(matches!(run(&f, true), Err(ReqError::BadRequest(_))), "{f:?}");
        }
        let f = [(":method", "GET"), (":scheme", "http"), (":path", "/"), ("content-length", "3")];
        assert!(matches!(run(&f, true), Err(ReqError::Malformed(_))));
        assert!(matches!(
            build(&mut Decoder::new(4096), &mut Scratch::default(), &[0x80], 65536, (true, true)),
            Err(ReqError::Compression(_))
        ));
    }
}
