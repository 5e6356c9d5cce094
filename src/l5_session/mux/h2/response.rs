//! What a stream writes to its client side (an HTTP/1 response: head,
//! then the body as the server framed it) turned into HTTP/2: the head
//! becomes a header block (status, fields in lower case, hop-by-hop ones
//! dropped), the body its payload, chunk framing removed.
//!
//! After an extended CONNECT (RFC 8441) the server's `101 Switching
//! Protocols` is the client's `200` (as HAProxy 2.6 answers it), whose
//! payload is the tunnel's bytes until the stream ends.
//!
//! The stream has already checked the framing it forwards (its own
//! `BodyState` walks the server's bytes strictly), so the walk here only
//! separates payload from framing; anything else it finds ends the
//! stream with a reset, never a panic.

pub use crate::l7_http::h2::dechunk::{Dechunk, Piece};
use crate::l7_http::h2::hpack::Encoder;
use crate::l7_http::head::{Framing, name_is};
use crate::l7_http::parse::parse_response;

/// Where a stream's response conversion is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResState {
    Head,          // waiting for the (final) response head
    Body(Payload), // its payload follows in the stream's output
    Done,          // END_STREAM sent, or the stream was reset
}

/// How the response body's payload is delimited in the stream's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payload {
    Length(u64),      // bytes left
    Chunked(Dechunk), // chunk framing to remove
    UntilEnd,         // until the L6 stream ends (a body delimited by the server's close, a tunnel)
}

/// A response head, encoded.
pub struct Head {
    pub consumed: usize,          // bytes of the output it took
    pub interim: bool,            // 1xx: a final head follows
    pub payload: Option<Payload>, // None: no body (END_STREAM with the head)
}

/// Fields never sent over HTTP/2 (RFC 9113 §8.2.2).
fn connection_specific(name: &[u8]) -> bool {
    match name.len() {
        7 => name_is(name, b"upgrade"),
        10 => name_is(name, b"connection") || name_is(name, b"keep-alive"),
        16 => name_is(name, b"proxy-connection"),
        17 => name_is(name, b"transfer-encoding"),
        _ => false,
    }
}

/// Encodes the response head at the front of `out` into `block` (which it
/// clears first); `ext_connect`: it answers an extended CONNECT.
/// `Ok(None)`: the head is not complete yet. `Err`: the bytes are not a
/// response head.
pub fn encode_head(
    out: &[u8],
    (head_method, ext_connect): (bool, bool),
    enc: &mut Encoder,
    block: &mut Vec<u8>,
    lower: &mut Vec<u8>,
) -> Result<Option<Head>, ()> {
    let head = match parse_response(out, head_method, false) {
        Ok(Some(h)) => h,
        Ok(None) => return Ok(None),
        Err(_) => return Err(()),
    };
    let switched = ext_connect && head.status == 101;
    block.clear();
    enc.begin(block);
    enc.status(if switched { 200 } else { head.status }, block);
    for h in &head.headers {
        let name = h.name.of(out);
        if connection_specific(name) {
            continue;
        }
        lower.clear();
        lower.extend(name.iter().map(u8::to_ascii_lowercase));
        enc.field(lower, h.value.of(out), block);
    }
    let interim = (100..200).contains(&head.status) && !switched;
    let payload = match head.framing {
        _ if switched => Some(Payload::UntilEnd),
        _ if interim => None,
        Framing::None | Framing::Length(0) => None,
        Framing::Length(n) => Some(Payload::Length(n)),
        Framing::Chunked => Some(Payload::Chunked(Dechunk::default())),
        Framing::UntilClose => Some(Payload::UntilEnd),
    };
    Ok(Some(Head { consumed: head.len, interim, payload }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l7_http::h2::hpack::Decoder;

    #[test]
    fn a_response_head_is_encoded_without_connection_fields() {
        let raw =
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\nX-Thing: A\r\n\r\nhello";
        let (mut block, mut lower) = (Vec::new(), Vec::new());
        let h =
            encode_head(raw, (false, false), &mut Encoder::new(), &mut block, &mut lower).unwrap().unwrap();
        assert_eq!(h.consumed, raw.len() - 5);
        assert_eq!(h.payload, Some(Payload::Length(5)));
        let mut fields = Vec::new();
        Decoder::new(4096).decode(&block, 65536, |n, v| fields.push((n.to_vec(), v.to_vec()))).unwrap();
        let want: Vec<(Vec<u8>, Vec<u8>)> = [(":status", "200"), ("content-length", "5"), ("x-thing", "A")]
            .iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
        assert_eq!(fields, want);
        let h =
            encode_head(raw, (true, false), &mut Encoder::new(), &mut block, &mut lower).unwrap().unwrap();
        assert_eq!(h.payload, None, "HEAD: no body");
        // After an extended CONNECT a 101 is the client's 200, its payload a tunnel.
        let raw = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: a\r\n\r\n";
        let h =
            encode_head(raw, (false, true), &mut Encoder::new(), &mut block, &mut lower).unwrap().unwrap();
        assert_eq!((h.interim, h.payload, h.consumed), (false, Some(Payload::UntilEnd), raw.len()));
        let mut fields = Vec::new();
        Decoder::new(4096).decode(&block, 65536, |n, v| fields.push((n.to_vec(), v.to_vec()))).unwrap();
        assert_eq!(
            fields,
            [(b":status".to_vec(), b"200".to_vec()), (b"sec-websocket-accept".to_vec(), b"a".to_vec())]
        );
        assert!(
            encode_head(b"HTTP/1.1 200", (false, false), &mut Encoder::new(), &mut block, &mut lower)
                .unwrap()
                .is_none()
        );
    }
}
