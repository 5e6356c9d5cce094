//! A chunked HTTP/1.1 body walked to separate its payload from its
//! framing (sizes, CRLFs, the last chunk and trailers): what HTTP/2 sends
//! as DATA when a message came chunked. Used by both directions' HTTP/2
//! conversions (the client mux's responses, the server side's requests).

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
