//! HTTP compression (`compression algo|type|offload`), as HAProxy 2.6's
//! compression filter decides and does it: the algorithm from the
//! request's `Accept-Encoding` (q-values), whether a response may be
//! compressed, the header changes that go with it, and a streaming
//! [`Compressor`] whose output is written as chunks (nothing is buffered
//! whole; each batch of input that drains the server's buffer is flushed,
//! so a slow stream still flows).

use flate2::{Compress, Compression as Level, FlushCompress};

use super::head::Framing;
use super::rewrite::HeaderEdit;
use crate::cfg::{CompAlgo, Compression};
use crate::core::buffer::Buffer;

/// HAProxy's `tune.comp.maxlevel` default: the fastest level.
pub const LEVEL: u32 = 1;

/// The algorithm for a request, from its `Accept-Encoding` values
/// (`headers`: every value of every `Accept-Encoding` line, comma-split):
/// the value with the highest q-value (first wins a tie) naming a
/// configured algorithm, `*` naming the first of them; else `identity`
/// when configured. None: the response is not compressed.
pub fn choose<'a>(comp: &Compression, values: impl Iterator<Item = &'a [u8]>) -> Option<CompAlgo> {
    let mut best: Option<(CompAlgo, u32)> = None;
    for v in values {
        let tok_end = v.iter().position(|c| !is_token(*c)).unwrap_or(v.len());
        let token = &v[..tok_end];
        let q = qvalue(&v[tok_end..]);
        if q <= best.map_or(0, |(_, q)| q) {
            continue;
        }
        let hit =
            comp.algos.iter().find(|a| token == b"*" || token.eq_ignore_ascii_case(a.token().as_bytes()));
        if let Some(a) = hit {
            best = Some((*a, q));
        }
    }
    best.map(|(a, _)| a).or_else(|| comp.algos.iter().find(|a| **a == CompAlgo::Identity).copied())
}

fn is_token(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// The `q=` parameter in thousandths (1000 when absent; malformed: 0).
fn qvalue(params: &[u8]) -> u32 {
    for p in params.split(|&c| c == b';').skip(1) {
        let p = p.trim_ascii();
        let Some(v) = p.strip_prefix(b"q=").or_else(|| p.strip_prefix(b"Q=")) else { continue };
        let mut q = 0u32;
        let mut it = v.iter();
        match it.next() {
            Some(b'1') => q = 1000,
            Some(b'0') => {}
            _ => return 0,
        }
        if it.next() == Some(&b'.') {
            let mut scale = 100;
            for &d in it.take(3) {
                if !d.is_ascii_digit() {
                    break;
                }
                if q < 1000 {
                    q += u32::from(d - b'0') * scale;
                }
                scale /= 10;
            }
        }
        return q.min(1000);
    }
    1000
}

/// What the response decision reads of an exchange.
pub struct ResponseFacts<'a> {
    pub http11: bool,                        // request and response both HTTP/1.1
    pub head_request: bool,                  // HEAD
    pub status: u16,                         //
    pub framing: Framing,                    // the response body's
    pub headers: &'a [(&'a [u8], &'a [u8])], // (name, value) of the response, as received
}

/// Whether HAProxy 2.6 compresses this response: HTTP/1.1 both ways, not
/// HEAD, status 200-203, a body of known framing, no `Content-Encoding`,
/// no `Cache-Control: no-transform`, at most one valid `ETag`, a listed
/// `Content-Type` (never multipart) when `compression type` is set, and
/// (strata, after HAProxy 3.0) not below `minsize-res`.
pub fn response_ok(comp: &Compression, f: &ResponseFacts<'_>) -> bool {
    if !f.http11 || f.head_request || !(200..=203).contains(&f.status) {
        return false;
    }
    match f.framing {
        Framing::None | Framing::UntilClose => return false,
        Framing::Length(n) if comp.minsize_res > 0 && n < comp.minsize_res => return false,
        _ => {}
    }
    let all = |name: &'static str| {
        f.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes())).map(|(_, v)| *v)
    };
    if all("content-encoding").next().is_some() {
        return false;
    }
    if all("cache-control").any(|v| super::head::tokens(v).any(|t| t.eq_ignore_ascii_case(b"no-transform"))) {
        return false;
    }
    let mut etags = all("etag");
    if let Some(e) = etags.next()
        && (!valid_etag(e) || etags.next().is_some())
    {
        return false;
    }
    match all("content-type").next() {
        Some(t) if t.len() >= 9 && t[..9].eq_ignore_ascii_case(b"multipart") => false,
        Some(t) => {
            comp.types.is_empty()
                || comp
                    .types
                    .iter()
                    .any(|ty| t.len() >= ty.len() && t[..ty.len()].eq_ignore_ascii_case(ty.as_bytes()))
        }
        None => comp.types.is_empty(),
    }
}

/// `"x"` or `W/"x"`.
fn valid_etag(e: &[u8]) -> bool {
    let e = e.strip_prefix(b"W/").unwrap_or(e);
    e.len() >= 2 && e.starts_with(b"\"") && e.ends_with(b"\"")
}

/// The response head changes of a compressed response: `Content-Encoding`
/// (not for identity), no `Content-Length`, `Transfer-Encoding: chunked`
/// (unless already), a strong `ETag` made weak, `Vary: Accept-Encoding`.
pub fn head_edits(algo: CompAlgo, chunked: bool, etag: Option<&[u8]>, edits: &mut Vec<HeaderEdit>) {
    edits.push(HeaderEdit::Del("content-length".into()));
    if algo != CompAlgo::Identity {
        edits.push(HeaderEdit::Add("content-encoding".into(), algo.token().into()));
    }
    if !chunked {
        edits.push(HeaderEdit::Add("transfer-encoding".into(), "chunked".into()));
    }
    if let Some(e) = etag.filter(|e| e.starts_with(b"\"")) {
        edits.push(HeaderEdit::Set("etag".into(), format!("W/{}", String::from_utf8_lossy(e))));
    }
    edits.push(HeaderEdit::Add("vary".into(), "Accept-Encoding".into()));
}

/// One response's compression state. Owned by the stream's HTTP part.
/// Its zlib state (some 400 KB, zeroed when made) comes from and goes
/// back to its thread's spares ([`SPARES`]), as HAProxy pools its zlib
/// contexts: a response only resets one.
pub struct Compressor {
    z: Option<Compress>,  // None: identity
    key: (CompAlgo, u32), // the algorithm and level `z` was made for
    scratch: Vec<u8>,     // compressed bytes not yet framed as a chunk
    finished: bool,       // the stream's end was compressed
    end_written: bool,    // the last chunk was written
}

/// Spare zlib states kept per thread, beyond which an ended response's
/// state is freed.
const MAX_SPARES: usize = 16;

/// A compressor's reusable parts.
type Spare = ((CompAlgo, u32), Compress, Vec<u8>);

thread_local! {
    /// The zlib states (and chunk buffers) of ended responses, reset and
    /// reused by the next ones of the same algorithm and level.
    static SPARES: std::cell::RefCell<Vec<Spare>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Drop for Compressor {
    fn drop(&mut self) {
        let Some(mut z) = self.z.take() else { return };
        z.reset();
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let key = self.key;
        SPARES.with(|s| {
            let mut s = s.borrow_mut();
            if s.len() < MAX_SPARES {
                s.push((key, z, scratch));
            }
        });
    }
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor").field("finished", &self.finished).finish()
    }
}

impl Compressor {
    pub fn new(algo: CompAlgo, level: u32) -> Compressor {
        let key = (algo, level);
        let spare = SPARES.with(|s| {
            let mut s = s.borrow_mut();
            let i = s.iter().rposition(|(k, ..)| *k == key)?;
            Some(s.swap_remove(i))
        });
        let (z, scratch) = match spare {
            _ if algo == CompAlgo::Identity => (None, Vec::with_capacity(16 * 1024)),
            Some((_, z, scratch)) => (Some(z), scratch), // reset when it was given back
            None => {
                let l = Level::new(level);
                let z = match algo {
                    CompAlgo::Gzip => Compress::new_gzip(l, 15),
                    CompAlgo::Deflate => Compress::new(l, true),
                    _ => Compress::new(l, false),
                };
                (Some(z), Vec::with_capacity(16 * 1024))
            }
        };
        Compressor { z, key, scratch, finished: false, end_written: false }
    }

    /// Compresses all of `input`.
    pub fn push(&mut self, input: &[u8]) {
        let Some(z) = self.z.as_mut() else {
            self.scratch.extend_from_slice(input);
            return;
        };
        let mut rest = input;
        while !rest.is_empty() {
            reserve(&mut self.scratch, rest.len() / 2 + 64);
            let before = z.total_in();
            if z.compress_vec(rest, &mut self.scratch, FlushCompress::None).is_err() {
                return;
            }
            rest = &rest[(z.total_in() - before) as usize..];
        }
    }

    /// Makes everything pushed so far decodable by the client (a sync
    /// flush), as HAProxy does after each buffer of input.
    pub fn flush(&mut self) {
        self.drain(FlushCompress::Sync);
    }

    /// Ends the stream (the gzip trailer).
    pub fn finish(&mut self) {
        if !self.finished {
            self.drain(FlushCompress::Finish);
            self.finished = true;
        }
    }

    fn drain(&mut self, how: FlushCompress) {
        let Some(z) = self.z.as_mut() else { return };
        loop {
            reserve(&mut self.scratch, 256);
            let before = z.total_out();
            let status = z.compress_vec(&[], &mut self.scratch, how);
            let moved = z.total_out() - before;
            let full = self.scratch.len() == self.scratch.capacity();
            match status {
                Ok(flate2::Status::StreamEnd) => return,
                Ok(_) if moved == 0 && !full => return,
                Ok(_) => {}
                Err(_) => return,
            }
        }
    }

    /// Compressed bytes waiting to be framed.
    pub fn pending(&self) -> usize {
        self.scratch.len()
    }

    /// Moves pending bytes into `out` as one chunk (`hex\r\ndata\r\n`),
    /// as many as fit; then, once finished and drained, the last chunk
    /// (`0\r\n\r\n`). Returns whether anything was written.
    pub fn write_chunk(&mut self, out: &mut Buffer) -> bool {
        let room = out.capacity() - out.len();
        if !self.scratch.is_empty() && room > 12 {
            let n = self.scratch.len().min(room - 12);
            let mut size = [0u8; 16];
            let len = hex_len(n, &mut size);
            out.push(&size[..len]);
            out.push(&self.scratch[..n]);
            out.push(b"\r\n");
            self.scratch.drain(..n);
            return true;
        }
        if self.finished && self.scratch.is_empty() && !self.end_written && room >= 5 {
            out.push(b"0\r\n\r\n");
            self.end_written = true;
            return true;
        }
        false
    }

    /// Everything, the last chunk included, was handed to [`Compressor::write_chunk`].
    pub fn done(&self) -> bool {
        self.end_written
    }
}

/// `n` in hexadecimal followed by CRLF, into `out`; returns its length.
fn hex_len(n: usize, out: &mut [u8; 16]) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digits = (usize::BITS - n.leading_zeros()).div_ceil(4).max(1) as usize;
    for i in 0..digits {
        out[digits - 1 - i] = HEX[(n >> (4 * i)) & 15];
    }
    out[digits] = b'\r';
    out[digits + 1] = b'\n';
    digits + 2
}

fn reserve(v: &mut Vec<u8>, more: usize) {
    if v.capacity() - v.len() < more {
        v.reserve(more);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn comp(algos: &[CompAlgo]) -> Compression {
        Compression { algos: algos.to_vec(), ..Compression::default() }
    }

    #[test]
    fn accept_encoding_with_qvalues() {
        let c = comp(&[CompAlgo::Deflate, CompAlgo::Gzip]);
        let pick = |v: &[&str]| choose(&c, v.iter().map(|s| s.as_bytes()));
        assert_eq!(pick(&["gzip"]), Some(CompAlgo::Gzip));
        assert_eq!(pick(&["br", "gzip;q=0.5", "deflate;q=0.8"]), Some(CompAlgo::Deflate));
        assert_eq!(pick(&["gzip;q=0", "deflate;q=0"]), None);
        assert_eq!(pick(&["*"]), Some(CompAlgo::Deflate));
        assert_eq!(pick(&["GZIP ; q=1.0"]), Some(CompAlgo::Gzip));
        assert_eq!(pick(&["invalid"]), None);
        assert_eq!(pick(&[]), None);
        let with_identity = comp(&[CompAlgo::Gzip, CompAlgo::Identity]);
        assert_eq!(choose(&with_identity, [&b"br"[..]].into_iter()), Some(CompAlgo::Identity));
    }

    /// Each algorithm twice: the second time with the state the first
    /// one gave back (reset, from the thread's spares).
    #[test]
    fn compressed_chunks_decode_to_the_input() {
        let input: Vec<u8> = (0..200_000u32).flat_map(|i| format!("{i} ").into_bytes()).collect();
        let algos = [CompAlgo::Gzip, CompAlgo::Deflate, CompAlgo::RawDeflate, CompAlgo::Identity];
        for (round, algo) in algos.into_iter().cycle().take(8).enumerate() {
            let reused = SPARES.with(|s| s.borrow().iter().any(|(k, ..)| k.0 == algo));
            assert_eq!(reused, round >= 4 && algo != CompAlgo::Identity, "{algo:?} round {round}");
            let mut c = Compressor::new(algo, LEVEL);
            let mut wire = Vec::new();
            let mut drain = |c: &mut Compressor| loop {
                let mut b = Buffer::take();
                let wrote = c.write_chunk(&mut b);
                wire.extend_from_slice(b.data());
                if !wrote {
                    break;
                }
            };
            for part in input.chunks(7000) {
                c.push(part);
                c.flush();
                drain(&mut c);
            }
            c.finish();
            drain(&mut c);
            assert!(c.done());
            assert!(wire.ends_with(b"0\r\n\r\n"));
            // De-chunk.
            let mut body = Vec::new();
            let mut rest = &wire[..];
            while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
                let n = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap(), 16).unwrap();
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&rest[eol + 2..eol + 2 + n]);
                rest = &rest[eol + 4 + n..];
            }
            let mut out = Vec::new();
            match algo {
                CompAlgo::Gzip => flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut out).map(|_| ()),
                CompAlgo::Deflate => {
                    flate2::read::ZlibDecoder::new(&body[..]).read_to_end(&mut out).map(|_| ())
                }
                CompAlgo::RawDeflate => {
                    flate2::read::DeflateDecoder::new(&body[..]).read_to_end(&mut out).map(|_| ())
                }
                CompAlgo::Identity => {
                    out = body.clone();
                    Ok(())
                }
            }
            .unwrap();
            assert_eq!(out, input, "{algo:?}");
            if algo != CompAlgo::Identity {
                assert!(
                    body.len() < input.len() * 3 / 4,
                    "{algo:?} compresses: {} of {}",
                    body.len(),
                    input.len()
                );
            }
        }
    }
}
