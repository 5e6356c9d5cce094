//! A server's HTTP/2 response head (or trailers) rebuilt as the HTTP/1.1
//! bytes its stream parses: `HTTP/1.1 STATUS REASON`, the fields, and
//! `transfer-encoding: chunked` when a body of unknown length follows (the
//! DATA payloads then become chunks). A field the HTTP/1 side could
//! misread (CR, LF or NUL in it, a bad name, a connection-specific field)
//! resets the stream instead of being written.

use super::conn::SrvStream;
use crate::l7_http::h2::hpack::Decoder;

/// Decodes one header block of stream `s` (None: a stream no longer
/// followed: the block is decoded only to keep the table in step).
/// False on an HPACK error (a connection error).
pub(super) fn decode_head(dec: &mut Decoder, block: &[u8], s: Option<&mut SrvStream>, end: bool) -> bool {
    let mut status: Option<u16> = None;
    let mut bad = false;
    let mut has_length = false;
    let mut fields: smallvec::SmallVec<[u8; 1024]> = smallvec::SmallVec::new();
    let decoded = dec.decode(block, 1 << 20, |name, value| {
        if name == b":status" {
            status = std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|c| (100..600).contains(c));
            bad |= status.is_none();
            return;
        }
        if name.first() == Some(&b':')
            || name.is_empty()
            || !name.iter().all(|&c| c.is_ascii_graphic() && !c.is_ascii_uppercase() && c != b':')
            || value.iter().any(|&c| c == b'\r' || c == b'\n' || c == 0)
            || matches!(
                name,
                b"connection" | b"keep-alive" | b"proxy-connection" | b"transfer-encoding" | b"upgrade"
            )
        {
            bad = true;
            return;
        }
        has_length |= name == b"content-length";
        fields.extend_from_slice(name);
        fields.extend_from_slice(b": ");
        fields.extend_from_slice(value);
        fields.extend_from_slice(b"\r\n");
    });
    if decoded.is_err() {
        return false;
    }
    let Some(s) = s else { return true };
    if bad || decoded.is_ok_and(|d| d.over_budget) {
        s.reset = true;
        return true;
    }
    if s.head_done {
        // Trailers: the end of the body.
        if !end {
            s.reset = true;
            return true;
        }
        s.ended = true;
        if s.chunked {
            s.inbox.extend_from_slice(b"0\r\n");
            s.inbox.extend_from_slice(&fields);
            s.inbox.extend_from_slice(b"\r\n");
        }
        return true;
    }
    let Some(code) = status else {
        s.reset = true;
        return true;
    };
    let interim = (100..200).contains(&code);
    if interim && end {
        s.reset = true;
        return true;
    }
    let digits = [b'0' + (code / 100) as u8, b'0' + (code / 10 % 10) as u8, b'0' + (code % 10) as u8];
    s.inbox.extend_from_slice(b"HTTP/1.1 ");
    s.inbox.extend_from_slice(&digits);
    s.inbox.push(b' ');
    s.inbox.extend_from_slice(crate::l7_http::rules::reason(code).as_bytes());
    s.inbox.extend_from_slice(b"\r\n");
    s.inbox.extend_from_slice(&fields);
    if !interim {
        s.head_done = true;
        let bodiless = s.head_req || code == 204 || code == 304;
        if end {
            s.ended = true;
            if !has_length && !bodiless {
                s.inbox.extend_from_slice(b"content-length: 0\r\n");
            }
        } else if !has_length && !bodiless {
            s.chunked = true;
            s.inbox.extend_from_slice(b"transfer-encoding: chunked\r\n");
        }
    }
    s.inbox.extend_from_slice(b"\r\n");
    true
}
