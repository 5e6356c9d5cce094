//! Body framing: finds where a message body ends while its bytes are
//! forwarded as they are (never buffered whole, never re-encoded).
//!
//! [`BodyState::advance`] looks at the bytes available and says how many of
//! them belong to the body; the caller forwards exactly that many. For
//! chunked bodies it walks chunk-size lines, data, CRLFs and trailers,
//! strictly: a chunk size must be hex (at most 15 digits), lines end in
//! CRLF, and chunk data must be followed by CRLF.

use super::head::Framing;

/// Why a body was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyError {
    ChunkSize,    // not hex, empty, or overflowing
    ChunkFraming, // missing CRLF after a size line, data or trailer
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BodyError::ChunkSize => "invalid chunk size",
            BodyError::ChunkFraming => "invalid chunk framing",
        })
    }
}

/// Position inside a chunked body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunk {
    Size { digits: u8, value: u64 }, // reading the hex size
    Ext { value: u64 },              // chunk extension, up to CR
    SizeLf { value: u64 },           // CR seen after the size line, LF expected
    Data(u64),                       // chunk bytes left
    DataCr,                          // CRLF after data expected
    DataLf,
    TrailerStart,              // start of a trailer line (or the final CRLF)
    Trailer,                   // inside a trailer line
    TrailerLf { empty: bool }, // CR seen; `empty` if the line was empty
}

/// Where a body is. Owned by the transaction of the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyState {
    Done,
    Length(u64), // bytes left
    Chunked(Chunk),
    UntilClose, // ends when the sender closes
}

/// Result of looking at some bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Advance {
    pub body_bytes: usize, // leading bytes that belong to the body
    pub done: bool,        // the body ended within them
}

impl BodyState {
    pub fn new(framing: Framing) -> BodyState {
        match framing {
            Framing::None | Framing::Length(0) => BodyState::Done,
            Framing::Length(n) => BodyState::Length(n),
            Framing::Chunked => BodyState::Chunked(Chunk::Size { digits: 0, value: 0 }),
            Framing::UntilClose => BodyState::UntilClose,
        }
    }

    pub fn is_done(&self) -> bool {
        *self == BodyState::Done
    }

    /// Body bytes that may be forwarded without looking at them (a
    /// Content-Length body's rest, or a body ending at close); None when
    /// the framing must be read (chunked) or the body is over.
    pub fn blind_room(&self) -> Option<u64> {
        match self {
            BodyState::Length(left) => Some(*left),
            BodyState::UntilClose => Some(u64::MAX),
            _ => None,
        }
    }

    /// Accounts `n` body bytes forwarded without being looked at (at most
    /// [`BodyState::blind_room`]).
    pub fn forwarded_blind(&mut self, n: u64) {
        if let BodyState::Length(left) = self {
            *left = left.saturating_sub(n);
            if *left == 0 {
                *self = BodyState::Done;
            }
        }
    }

    /// Like [`BodyState::advance`], also handing `payload` the message's
    /// content within those bytes (chunk data without its framing; trailers
    /// are dropped): what a compressor reads.
    pub fn advance_payload(
        &mut self,
        data: &[u8],
        payload: &mut dyn FnMut(&[u8]),
    ) -> Result<Advance, BodyError> {
        if !matches!(self, BodyState::Chunked(_)) {
            let a = self.advance(data)?;
            payload(&data[..a.body_bytes]);
            return Ok(a);
        }
        let mut used = 0;
        while used < data.len() && !self.is_done() {
            if let BodyState::Chunked(Chunk::Data(left)) = *self {
                let k = (left.min((data.len() - used) as u64)) as usize;
                payload(&data[used..used + k]);
                self.advance(&data[used..used + k])?;
                used += k;
                continue;
            }
            // Framing: a byte at a time (size lines and CRLFs are short).
            let a = self.advance(&data[used..used + 1])?;
            if a.body_bytes == 0 {
                break;
            }
            used += a.body_bytes;
        }
        Ok(Advance { body_bytes: used, done: self.is_done() })
    }

    /// Consumes body bytes from the start of `data`.
    pub fn advance(&mut self, data: &[u8]) -> Result<Advance, BodyError> {
        match self {
            BodyState::Done => Ok(Advance { body_bytes: 0, done: true }),
            BodyState::UntilClose => Ok(Advance { body_bytes: data.len(), done: false }),
            BodyState::Length(left) => {
                let n = (*left).min(data.len() as u64);
                *left -= n;
                let done = *left == 0;
                if done {
                    *self = BodyState::Done;
                }
                Ok(Advance { body_bytes: n as usize, done })
            }
            BodyState::Chunked(chunk) => {
                let mut chunk = *chunk;
                let (used, done) = walk_chunks(&mut chunk, data)?;
                *self = if done { BodyState::Done } else { BodyState::Chunked(chunk) };
                Ok(Advance { body_bytes: used, done })
            }
        }
    }
}

/// Walks chunked framing over `data`; returns bytes used and whether the
/// final CRLF was reached (bytes after it are not the body's).
fn walk_chunks(state: &mut Chunk, data: &[u8]) -> Result<(usize, bool), BodyError> {
    let mut i = 0;
    while i < data.len() {
        if let Chunk::Data(left) = *state {
            let n = left.min((data.len() - i) as u64);
            i += n as usize;
            *state = if left == n { Chunk::DataCr } else { Chunk::Data(left - n) };
            continue;
        }
        let b = data[i];
        i += 1;
        *state = match *state {
            Chunk::Size { digits, value } => match (hex(b), b) {
                (Some(_), _) if digits >= 15 => return Err(BodyError::ChunkSize),
                (Some(d), _) => Chunk::Size { digits: digits + 1, value: value << 4 | d as u64 },
                (None, _) if digits == 0 => return Err(BodyError::ChunkSize),
                (None, b'\r') => Chunk::SizeLf { value },
                (None, b';' | b' ' | b'\t') => Chunk::Ext { value },
                (None, _) => return Err(BodyError::ChunkSize),
            },
            Chunk::Ext { value } => match b {
                b'\r' => Chunk::SizeLf { value },
                b'\n' | 0 => return Err(BodyError::ChunkFraming),
                _ => Chunk::Ext { value },
            },
            Chunk::SizeLf { value } => match b {
                b'\n' if value == 0 => Chunk::TrailerStart,
                b'\n' => Chunk::Data(value),
                _ => return Err(BodyError::ChunkFraming),
            },
            Chunk::DataCr if b == b'\r' => Chunk::DataLf,
            Chunk::DataLf if b == b'\n' => Chunk::Size { digits: 0, value: 0 },
            Chunk::DataCr | Chunk::DataLf => return Err(BodyError::ChunkFraming),
            Chunk::TrailerStart => match b {
                b'\r' => Chunk::TrailerLf { empty: true },
                b'\n' | 0 => return Err(BodyError::ChunkFraming),
                _ => Chunk::Trailer,
            },
            Chunk::Trailer => match b {
                b'\r' => Chunk::TrailerLf { empty: false },
                b'\n' | 0 => return Err(BodyError::ChunkFraming),
                _ => Chunk::Trailer,
            },
            Chunk::TrailerLf { empty } => match b {
                b'\n' if empty => return Ok((i, true)),
                b'\n' => Chunk::TrailerStart,
                _ => return Err(BodyError::ChunkFraming),
            },
            Chunk::Data(left) => Chunk::Data(left), // handled above
        };
    }
    Ok((i, false))
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` split at every possible point; all splits must agree.
    fn run(framing: Framing, input: &[u8]) -> Result<(usize, bool), BodyError> {
        let mut whole = BodyState::new(framing);
        let a = whole.advance(input)?;
        for cut in 0..input.len() {
            let mut st = BodyState::new(framing);
            let first = st.advance(&input[..cut])?;
            let (used, done) = if first.done {
                (first.body_bytes, true)
            } else {
                let second = st.advance(&input[cut..])?;
                (first.body_bytes + second.body_bytes, second.done)
            };
            assert_eq!((used, done), (a.body_bytes, a.done), "split at {cut}");
        }
        Ok((a.body_bytes, a.done))
    }

    #[test]
    fn length_body_stops_at_its_end() {
        assert_eq!(run(Framing::Length(5), b"helloGET /"), Ok((5, true)));
        assert_eq!(run(Framing::Length(10), b"hello"), Ok((5, false)));
        assert_eq!(run(Framing::None, b"GET /"), Ok((0, true)));
    }

    #[test]
    fn chunked_with_extensions_and_trailers() {
        let body = b"5;name=val\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
        assert_eq!(run(Framing::Chunked, body), Ok((body.len() - 4, true)));
        let simple = b"3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n";
        assert_eq!(run(Framing::Chunked, simple), Ok((simple.len(), true)));
    }

    #[test]
    fn chunked_rejects_bad_framing() {
        assert_eq!(run(Framing::Chunked, b"zz\r\n"), Err(BodyError::ChunkSize));
        assert_eq!(run(Framing::Chunked, b"\r\n"), Err(BodyError::ChunkSize));
        assert_eq!(run(Framing::Chunked, b"1000000000000000\r\n"), Err(BodyError::ChunkSize));
        assert_eq!(run(Framing::Chunked, b"3\nabc"), Err(BodyError::ChunkSize));
        assert_eq!(run(Framing::Chunked, b"3\r\nabcX"), Err(BodyError::ChunkFraming));
        assert_eq!(run(Framing::Chunked, b"0\r\n\n"), Err(BodyError::ChunkFraming));
        assert_eq!(run(Framing::Chunked, b"-1\r\n"), Err(BodyError::ChunkSize));
    }

    #[test]
    fn until_close_takes_everything() {
        assert_eq!(run(Framing::UntilClose, b"anything"), Ok((8, false)));
    }
}
