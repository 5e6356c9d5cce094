//! The HTTP/1.1 request head a stream prepared for its server, encoded as
//! an HTTP/2 header block: `:method`, `:scheme`, `:authority` (from the
//! absolute URI, else `Host`), `:path`, then the fields in lower case
//! without the connection-specific ones (RFC 9113 §8.2.2; `te` only as
//! `trailers`).

use crate::l7_http::h2::hpack::Encoder;
use crate::l7_http::head::{Framing, name_is};
use crate::l7_http::parse::parse_request;

/// A request head, encoded.
pub(super) struct Encoded {
    pub consumed: usize,  // bytes of the head
    pub framing: Framing, // how its body follows
    pub head_method: bool,
}

/// Encodes the head at the front of `data` into `block`. `Ok(None)`: not
/// complete yet; `Err`: not a request HTTP/2 can carry (CONNECT, bad head).
pub(super) fn encode(
    data: &[u8],
    tls: bool,
    enc: &mut Encoder,
    block: &mut Vec<u8>,
    lower: &mut Vec<u8>,
) -> Result<Option<Encoded>, ()> {
    let head = match parse_request(data) {
        Ok(Some(h)) => h,
        Ok(None) => return Ok(None),
        Err(_) => return Err(()),
    };
    let method = head.method.of(data);
    if method == b"CONNECT" {
        return Err(());
    }
    let uri = head.uri.of(data);
    // Absolute form: scheme://authority/path.
    let (scheme, authority, path) = match uri.windows(3).position(|w| w == b"://") {
        Some(i) if uri[0] != b'/' => {
            let rest = &uri[i + 3..];
            let slash = rest.iter().position(|&b| b == b'/' || b == b'?').unwrap_or(rest.len());
            let path = &rest[slash..];
            (&uri[..i], Some(&rest[..slash]), if path.is_empty() { &b"/"[..] } else { path })
        }
        _ => (if tls { &b"https"[..] } else { &b"http"[..] }, None, uri),
    };
    let host = head.headers.iter().find(|h| name_is(h.name.of(data), b"host")).map(|h| h.value.of(data));
    block.clear();
    enc.begin(block);
    enc.field(b":method", method, block);
    enc.field(b":scheme", scheme, block);
    // An empty Host (a request without authority) gives no :authority.
    if let Some(a) = authority.or(host).filter(|a| !a.is_empty()) {
        enc.field(b":authority", a, block);
    }
    enc.field(b":path", if method == b"OPTIONS" && path == b"*" { b"*" } else { path }, block);
    for h in &head.headers {
        let (name, value) = (h.name.of(data), h.value.of(data));
        let skip = match name.len() {
            2 => name_is(name, b"te") && !value.eq_ignore_ascii_case(b"trailers"),
            4 => name_is(name, b"host"),
            7 => name_is(name, b"upgrade"),
            10 => name_is(name, b"connection") || name_is(name, b"keep-alive"),
            16 => name_is(name, b"proxy-connection"),
            17 => name_is(name, b"transfer-encoding"),
            _ => false,
        };
        if skip {
            continue;
        }
        lower.clear();
        lower.extend(name.iter().map(u8::to_ascii_lowercase));
        enc.field(lower, value, block);
    }
    Ok(Some(Encoded { consumed: head.len, framing: head.framing, head_method: method == b"HEAD" }))
}
