//! What a stream writes to its client side (an HTTP/1 response: head,
//! then the body as the server framed it) turned into HTTP/2: the head
//! becomes a header block (status, fields in lower case, hop-by-hop ones
//! dropped), the body its payload, chunk framing removed.
//!
//! The stream has already checked the framing it forwards (its own
//! `BodyState` walks the server's bytes strictly), so the walk here only
//! separates payload from framing; anything else it finds ends the
//! stream with a reset, never a panic.

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
    UntilEnd,         // until the L6 stream ends (a body delimited by the server's close)
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
/// clears first). `Ok(None)`: the head is not complete yet. `Err`: the
/// bytes are not a response head.
pub fn encode_head(
    out: &[u8],
    head_method: bool,
    enc: &mut Encoder,
    block: &mut Vec<u8>,
    lower: &mut Vec<u8>,
) -> Result<Option<Head>, ()> {
    let head = match parse_response(out, head_method, false) {
        Ok(Some(h)) => h,
        Ok(None) => return Ok(None),
        Err(_) => return Err(()),
    };
    block.clear();
    enc.begin(block);
    enc.status(head.status, block);
    for h in &head.headers {
        let name = h.name.of(out);
        if connection_specific(name) {
            continue;
        }
        lower.clear();
        lower.extend(name.iter().map(u8::to_ascii_lowercase));
        enc.field(lower, h.value.of(out), block);
    }
    let interim = (100..200).contains(&head.status);
    let payload = match head.framing {
        _ if interim => None,
        Framing::None | Framing::Length(0) => None,
        Framing::Length(n) => Some(Payload::Length(n)),
        Framing::Chunked => Some(Payload::Chunked(Dechunk::default())),
        Framing::UntilClose => Some(Payload::UntilEnd),
    };
    Ok(Some(Head { consumed: head.len, interim, payload }))
}

/// Position in a chunked body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dechunk {
    #[default]
    Size, // reading the hex size (value in `size`)
    Data(u64),    // chunk bytes left
    DataCrlf(u8), // CRLF after the data: bytes of it seen
    Trailers,     // after the last chunk: trailer lines up to the empty one
}

/// What the front of the output holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece {
    Payload(usize), // this many payload bytes
    Framing(usize), // this many framing bytes to drop
    End(usize),     // the body ends after this many framing bytes
    More,           // incomplete framing: wait for more bytes
    Invalid,
}

impl Dechunk {
    /// Classifies the front of `data`.
    pub fn next(&mut self, data: &[u8]) -> Piece {
        match *self {
            Dechunk::Data(0) => {
                *self = Dechunk::DataCrlf(0);
                self.next(data)
            }
            Dechunk::Data(left) => match data.len() {
                0 => Piece::More,
                n => Piece::Payload((n as u64).min(left) as usize),
            },
            Dechunk::DataCrlf(seen) => {
                let want = &b"\r\n"[seen as usize..];
                let n = want.len().min(data.len());
                if data[..n] != want[..n] {
                    return Piece::Invalid;
                }
                if n == want.len() {
                    *self = Dechunk::Size;
                    return Piece::Framing(n);
                }
                *self = Dechunk::DataCrlf(seen + n as u8);
                if n == 0 { Piece::More } else { Piece::Framing(n) }
            }
            Dechunk::Size => {
                // The whole size line must be there: `hex[;ext]\r\n`.
                let Some(lf) = data.iter().position(|&b| b == b'\n') else {
                    return if data.len() > 4096 { Piece::Invalid } else { Piece::More };
                };
                let line = &data[..lf];
                let Some(line) = line.strip_suffix(b"\r") else { return Piece::Invalid };
                let hex = line.split(|&b| b == b';').next().unwrap_or_default().trim_ascii();
                let Some(size) = std::str::from_utf8(hex).ok().and_then(|h| u64::from_str_radix(h, 16).ok())
                else {
                    return Piece::Invalid;
                };
                *self = if size == 0 { Dechunk::Trailers } else { Dechunk::Data(size) };
                Piece::Framing(lf + 1)
            }
            Dechunk::Trailers => {
                // Trailer lines, dropped, up to the empty line.
                let mut at = 0;
                loop {
                    let Some(lf) = data[at..].iter().position(|&b| b == b'\n') else {
                        return if at > 0 { Piece::Framing(at) } else { Piece::More };
                    };
                    let line_len = lf + 1;
                    let empty = data[at..at + lf] == *b"\r" || lf == 0;
                    at += line_len;
                    if empty {
                        return Piece::End(at);
                    }
                }
            }
        }
    }

    /// `n` payload bytes were forwarded.
    pub fn paid(&mut self, n: usize) {
        if let Dechunk::Data(left) = self {
            *left = left.saturating_sub(n as u64);
        }
    }
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
        let h = encode_head(raw, false, &mut Encoder::new(), &mut block, &mut lower).unwrap().unwrap();
        assert_eq!(h.consumed, raw.len() - 5);
        assert_eq!(h.payload, Some(Payload::Length(5)));
        let mut fields = Vec::new();
        Decoder::new(4096).decode(&block, 65536, |n, v| fields.push((n.to_vec(), v.to_vec()))).unwrap();
        let want: Vec<(Vec<u8>, Vec<u8>)> = [(":status", "200"), ("content-length", "5"), ("x-thing", "A")]
            .iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
        assert_eq!(fields, want);
        let h = encode_head(raw, true, &mut Encoder::new(), &mut block, &mut lower).unwrap().unwrap();
        assert_eq!(h.payload, None, "HEAD: no body");
        assert!(
            encode_head(b"HTTP/1.1 200", false, &mut Encoder::new(), &mut block, &mut lower)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn chunk_framing_is_separated_from_payload() {
        let body = b"5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\nTrailer: 1\r\n\r\n";
        let mut d = Dechunk::default();
        let mut at = 0;
        let mut payload = Vec::new();
        loop {
            match d.next(&body[at..]) {
                Piece::Payload(n) => {
                    payload.extend_from_slice(&body[at..at + n]);
                    d.paid(n);
                    at += n;
                }
                Piece::Framing(n) => at += n,
                Piece::End(n) => {
                    at += n;
                    break;
                }
                other => panic!("{other:?} at {at}"),
            }
        }
        assert_eq!((payload.as_slice(), at), (&b"helloabc"[..], body.len()));
        // Byte by byte: the same payload.
        let mut d = Dechunk::default();
        let mut pending = Vec::new();
        let mut payload = Vec::new();
        for &b in body.iter() {
            pending.push(b);
            loop {
                match d.next(&pending) {
                    Piece::Payload(n) => {
                        payload.extend(pending.drain(..n));
                        d.paid(n);
                    }
                    Piece::Framing(n) | Piece::End(n) => {
                        pending.drain(..n);
                    }
                    Piece::More => break,
                    Piece::Invalid => panic!("invalid"),
                }
                if pending.is_empty() {
                    break;
                }
            }
        }
        assert_eq!(payload, b"helloabc");
        assert_eq!(Dechunk::default().next(b"zz\r\n"), Piece::Invalid);
    }
}
