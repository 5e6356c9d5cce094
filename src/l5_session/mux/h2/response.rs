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
use crate::l7_http::h2::res_fields::{EncodedHead, encode_fields};
use crate::l7_http::head::Framing;
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

/// Encodes the response head at the front of `out` into `block` (which it
/// clears first); `ext_connect`: it answers an extended CONNECT.
/// `Ok(None)`: the head is not complete yet. `Err`: the bytes are not a
/// response head.
pub fn encode_head(
    out: &[u8],
    (head_method, ext_connect): (bool, bool),
    enc: &mut Encoder,
    block: &mut Vec<u8>,
) -> Result<Option<Head>, ()> {
    let head = match parse_response(out, head_method, false) {
        Ok(Some(h)) => h,
        Ok(None) => return Ok(None),
        Err(_) => return Err(()),
    };
    let status = begin_block(head.status, ext_connect, enc, block);
    encode_fields(out, &head.headers, block);
    Ok(Some(framed(status, head.framing, head.len, ext_connect)))
}

/// The block of a head its stream already encoded (see
/// [`EncodedHead`]), the same as [`encode_head`] makes of its text.
pub fn encoded_head(pre: &EncodedHead, ext_connect: bool, enc: &mut Encoder, block: &mut Vec<u8>) -> Head {
    let status = begin_block(pre.status, ext_connect, enc, block);
    block.extend_from_slice(&pre.fields);
    framed(status, pre.framing, pre.len, ext_connect)
}

/// Starts `block` with `:status` (a switched extended CONNECT's 101 as
/// 200); returns the status as received.
fn begin_block(status: u16, ext_connect: bool, enc: &mut Encoder, block: &mut Vec<u8>) -> u16 {
    block.clear();
    enc.begin(block);
    enc.status(if ext_connect && status == 101 { 200 } else { status }, block);
    status
}

/// What follows a head of `status` and `framing`, `len` bytes of text.
fn framed(status: u16, framing: Framing, len: usize, ext_connect: bool) -> Head {
    let switched = ext_connect && status == 101;
    let interim = (100..200).contains(&status) && !switched;
    let payload = match framing {
        _ if switched => Some(Payload::UntilEnd),
        _ if interim => None,
        Framing::None | Framing::Length(0) => None,
        Framing::Length(n) => Some(Payload::Length(n)),
        Framing::Chunked => Some(Payload::Chunked(Dechunk::default())),
        Framing::UntilClose => Some(Payload::UntilEnd),
    };
    Head { consumed: len, interim, payload }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l7_http::h2::hpack::Decoder;

    /// A head the stream encoded from its spans frames as its text would.
    #[test]
    fn a_head_encoded_by_its_stream_is_the_head_its_text_gives() {
        let raws: [(&[u8], bool, bool); 4] = [
            (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\nX-Thing: A\r\n\r\nhello", false, false),
            (b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\nX-A-Rather-Long-Field-Name-Of-More-Than-Sixty-Four-Bytes-In-All-Of-It: v\r\n\r\n", false, false),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nAccept-Ranges: bytes\r\n\r\n", true, false),
            (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: a\r\n\r\n", false, true),
        ];
        for (raw, head_method, ext_connect) in raws {
            let (mut parsed_block, mut pre_block) = (Vec::new(), Vec::new());
            let a = encode_head(raw, (head_method, ext_connect), &mut Encoder::new(), &mut parsed_block)
                .unwrap()
                .unwrap();
            let head = parse_response(raw, head_method, false).unwrap().unwrap();
            let pre = EncodedHead::new(&head, raw);
            let b = encoded_head(&pre, ext_connect, &mut Encoder::new(), &mut pre_block);
            assert_eq!(pre_block, parsed_block, "{}", String::from_utf8_lossy(raw));
            assert_eq!((a.consumed, a.interim, a.payload), (b.consumed, b.interim, b.payload));
        }
    }

    #[test]
    fn a_response_head_is_encoded_without_connection_fields() {
        let raw =
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\nX-Thing: A\r\n\r\nhello";
        let mut block = Vec::new();
        let h = encode_head(raw, (false, false), &mut Encoder::new(), &mut block).unwrap().unwrap();
        assert_eq!(h.consumed, raw.len() - 5);
        assert_eq!(h.payload, Some(Payload::Length(5)));
        let mut fields = Vec::new();
        Decoder::new(4096).decode(&block, 65536, |n, v| fields.push((n.to_vec(), v.to_vec()))).unwrap();
        let want: Vec<(Vec<u8>, Vec<u8>)> = [(":status", "200"), ("content-length", "5"), ("x-thing", "A")]
            .iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
        assert_eq!(fields, want);
        let h = encode_head(raw, (true, false), &mut Encoder::new(), &mut block).unwrap().unwrap();
        assert_eq!(h.payload, None, "HEAD: no body");
        // After an extended CONNECT a 101 is the client's 200, its payload a tunnel.
        let raw = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: a\r\n\r\n";
        let h = encode_head(raw, (false, true), &mut Encoder::new(), &mut block).unwrap().unwrap();
        assert_eq!((h.interim, h.payload, h.consumed), (false, Some(Payload::UntilEnd), raw.len()));
        let mut fields = Vec::new();
        Decoder::new(4096).decode(&block, 65536, |n, v| fields.push((n.to_vec(), v.to_vec()))).unwrap();
        assert_eq!(
            fields,
            [(b":status".to_vec(), b"200".to_vec()), (b"sec-websocket-accept".to_vec(), b"a".to_vec())]
        );
        assert!(
            encode_head(b"HTTP/1.1 200", (false, false), &mut Encoder::new(), &mut block).unwrap().is_none()
        );
    }
}
