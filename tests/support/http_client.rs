//! A raw HTTP/1.1 client over one `TcpStream`: it writes exactly the bytes
//! a test gives it and reads responses by their framing (Content-Length,
//! chunked with trailers, until close; no body for HEAD, 1xx, 204, 304),
//! keeping whatever it read ahead for the next response (keep-alive,
//! pipelining). Every wait is bounded (scaled, see [`super::time`]).

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::client::{Closed, connect};
use super::time::ms;

/// How long a response may take by default: a safety net only.
const RESPONSE_WAIT_MS: u64 = 10_000;

/// One response as read from the wire.
#[derive(Clone, Debug, Default)]
pub struct Response {
    pub raw: Vec<u8>,                    // every byte of this response, head and body as received
    pub version: String,                 // `HTTP/1.1`
    pub status: u16,                     // 200
    pub reason: String,                  // `OK`
    pub headers: Vec<(String, String)>,  // in order, names as sent, values trimmed
    pub body: Vec<u8>,                   // decoded body (de-chunked)
    pub trailers: Vec<(String, String)>, // chunked trailers
    pub chunked: bool,                   // the body came chunked
}

impl Response {
    /// First header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// First trailer named `name` (case-insensitive).
    pub fn trailer(&self, name: &str) -> Option<&str> {
        self.trailers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The raw bytes as text, for assertion messages.
    pub fn raw_text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }
}

/// A client connection with its read-ahead buffer.
pub struct HttpConn {
    s: TcpStream,
    buf: Vec<u8>, // read from the socket, not yet consumed
}

/// `GET path HTTP/1.1` with `Host: test`.
pub fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").into_bytes()
}

/// `method path HTTP/1.1`, `Host: test`, the given header lines
/// (`"Name: value"`), then `body` as is (framing headers are the caller's).
pub fn request(method: &str, path: &str, headers: &[&str], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: test\r\n").into_bytes();
    for h in headers {
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// `body` chunked in chunks of up to `chunk` bytes, with `trailers` lines.
pub fn chunk_body(body: &[u8], chunk: usize, trailers: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in body.chunks(chunk.max(1)) {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n");
    for t in trailers {
        out.extend_from_slice(t.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

impl HttpConn {
    /// Connect to 127.0.0.1:`port` (panics if that fails).
    pub fn connect(port: u16) -> HttpConn {
        HttpConn { s: connect(port), buf: Vec::new() }
    }

    /// Wrap a connected socket (e.g. from [`super::client::connect_from`]).
    pub fn from_stream(s: TcpStream) -> HttpConn {
        HttpConn { s, buf: Vec::new() }
    }

    /// Give the socket back (to reset or half-close it).
    pub fn into_stream(self) -> TcpStream {
        self.s
    }

    /// Connect to 127.0.0.1:`port` from the local address `src` (e.g.
    /// 127.0.0.2: all of 127.0.0.0/8 is on `lo`), port chosen by the kernel.
    pub fn connect_from(port: u16, src: std::net::Ipv4Addr) -> HttpConn {
        let s = super::client::connect_from(src, port)
            .unwrap_or_else(|e| panic!("connect from {src} to port {port}: {e}"));
        HttpConn::from_stream(s)
    }

    /// Close with an RST instead of a FIN (`SO_LINGER` 0, then close).
    pub fn reset(self) {
        super::client::reset(self.s);
    }

    pub fn stream(&self) -> &TcpStream {
        &self.s
    }

    /// Write `bytes` as they are.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.s.write_all(bytes)
    }

    /// Send one raw request and read its response (no body expected if the
    /// request is a HEAD).
    pub fn request(&mut self, raw: &[u8]) -> io::Result<Response> {
        self.send(raw)?;
        self.read_response(raw.starts_with(b"HEAD "))
    }

    /// Send all `requests` in one write, then read as many responses, in order.
    pub fn pipeline(&mut self, requests: &[Vec<u8>]) -> io::Result<Vec<Response>> {
        self.send(&requests.concat())?;
        requests.iter().map(|r| self.read_response(r.starts_with(b"HEAD "))).collect()
    }

    /// Read the next response (a 1xx is a response of its own). `to_head`:
    /// it answers a HEAD, so it has no body whatever its headers say.
    pub fn read_response(&mut self, to_head: bool) -> io::Result<Response> {
        self.read_response_within(to_head, ms(RESPONSE_WAIT_MS))
    }

    /// [`HttpConn::read_response`] with an explicit bound.
    pub fn read_response_within(&mut self, to_head: bool, within: Duration) -> io::Result<Response> {
        let deadline = Instant::now() + within;
        let mut consumed = 0; // bytes of `buf` that belong to this response
        let head_len = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            self.fill(deadline)?;
        };
        let mut r = parse_head(&self.buf[..head_len])?;
        consumed += head_len;
        let no_body = to_head || r.status < 200 || r.status == 204 || r.status == 304;
        let chunked =
            r.header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        if no_body {
        } else if chunked {
            r.chunked = true;
            loop {
                let line = self.line_at(&mut consumed, deadline)?;
                let size = line.split(';').next().unwrap_or("").trim().to_string();
                let size =
                    usize::from_str_radix(&size, 16).map_err(|_| invalid(format!("chunk size {line:?}")))?;
                if size == 0 {
                    break;
                }
                while self.buf.len() < consumed + size + 2 {
                    self.fill(deadline)?;
                }
                r.body.extend_from_slice(&self.buf[consumed..consumed + size]);
                if &self.buf[consumed + size..consumed + size + 2] != b"\r\n" {
                    return Err(invalid("no CRLF after chunk data".into()));
                }
                consumed += size + 2;
            }
            loop {
                let line = self.line_at(&mut consumed, deadline)?;
                if line.is_empty() {
                    break;
                }
                let (n, v) = line.split_once(':').ok_or_else(|| invalid(format!("trailer {line:?}")))?;
                r.trailers.push((n.to_string(), v.trim().to_string()));
            }
        } else if let Some(len) = r.header("content-length") {
            let len: usize = len.trim().parse().map_err(|_| invalid(format!("content-length {len:?}")))?;
            while self.buf.len() < consumed + len {
                self.fill(deadline)?;
            }
            r.body = self.buf[consumed..consumed + len].to_vec();
            consumed += len;
        } else {
            // Delimited by the close: everything until EOF.
            loop {
                match self.fill(deadline) {
                    Ok(()) => {}
                    Err(e) if e.kind() == ErrorKind::UnexpectedEof => break,
                    Err(e) => return Err(e),
                }
            }
            r.body = self.buf[consumed..].to_vec();
            consumed = self.buf.len();
        }
        r.raw = self.buf.drain(..consumed).collect();
        Ok(r)
    }

    /// Wait up to `within` for the peer to close without sending anything
    /// (bytes already read ahead count as data).
    pub fn expect_closed(&mut self, within: Duration) -> Closed {
        if !self.buf.is_empty() {
            return Closed::Data(std::mem::take(&mut self.buf));
        }
        super::client::expect_closed_within(&mut self.s, within)
    }

    /// Everything that arrives (read-ahead included) until the peer closes
    /// or `within` passes, and how it ended (`Eof`, `Reset` or `StillOpen`).
    pub fn read_until_closed(&mut self, within: Duration) -> (Vec<u8>, Closed) {
        let start = Instant::now();
        let deadline = start + within;
        let end = loop {
            match self.fill(deadline) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => break Closed::Eof(start.elapsed()),
                Err(e) if e.kind() == ErrorKind::TimedOut => break Closed::StillOpen,
                Err(_) => break Closed::Reset(start.elapsed()),
            }
        };
        (std::mem::take(&mut self.buf), end)
    }

    /// Exactly `n` raw bytes (e.g. after a protocol switch).
    pub fn read_raw(&mut self, n: usize, within: Duration) -> io::Result<Vec<u8>> {
        let deadline = Instant::now() + within;
        while self.buf.len() < n {
            self.fill(deadline)?;
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// One more read into `buf`: `UnexpectedEof` at EOF, `TimedOut` past
    /// `deadline`.
    fn fill(&mut self, deadline: Instant) -> io::Result<()> {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    ErrorKind::TimedOut,
                    format!("timed out; got {:?}", self.preview()),
                ));
            }
            self.s.set_read_timeout(Some(left))?;
            match self.s.read(&mut chunk) {
                Ok(0) => {
                    return Err(io::Error::new(
                        ErrorKind::UnexpectedEof,
                        format!("EOF; got {:?}", self.preview()),
                    ));
                }
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The CRLF-terminated line at `*at` (advanced past it), without CRLF.
    fn line_at(&mut self, at: &mut usize, deadline: Instant) -> io::Result<String> {
        loop {
            if let Some(i) = self.buf[*at..].windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[*at..*at + i]).into_owned();
                *at += i + 2;
                return Ok(line);
            }
            self.fill(deadline)?;
        }
    }

    /// The start of the read-ahead buffer, for error messages.
    fn preview(&self) -> String {
        let n = self.buf.len();
        let shown = String::from_utf8_lossy(&self.buf[..n.min(300)]).into_owned();
        format!("{n} bytes: {shown}")
    }
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(ErrorKind::InvalidData, msg)
}

fn parse_head(raw: &[u8]) -> io::Result<Response> {
    let text = std::str::from_utf8(raw).map_err(|_| invalid("response head is not UTF-8".into()))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("").to_string();
    let status = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid(format!("status line {status_line:?}")))?;
    let reason = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    for l in lines.filter(|l| !l.is_empty()) {
        let (n, v) = l.split_once(':').ok_or_else(|| invalid(format!("header line {l:?}")))?;
        headers.push((n.to_string(), v.trim().to_string()));
    }
    Ok(Response { version, status, reason, headers, ..Response::default() })
}
