//! A hand-written HTTP/2 client for the tests: frames written byte by byte
//! (so a test can send anything, malformed or hostile, as well as normal
//! requests), requests compressed by `loona-hpack` (an encoder
//! independent of strata's, using its dynamic table), responses decoded
//! by strata's HPACK decoder (checked against `loona-hpack` by
//! `tests/hpack_differential.rs`). Blocking I/O with timeouts, one thread.
//!
//! [`H2Conn::connect`] sends the preface and SETTINGS and reads the
//! server's; [`H2Conn::request`] opens a stream; [`H2Conn::run`] reads
//! frames until the streams it names are done, acknowledging PINGs and
//! SETTINGS and giving back window for the DATA it receives, and returns
//! each stream's [`H2Response`] (status, fields, body, or the reset code).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use strata::l7_http::h2::hpack::Decoder;

pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const PRIORITY: u8 = 0x2;
pub const RST_STREAM: u8 = 0x3;
pub const SETTINGS: u8 = 0x4;
pub const PING: u8 = 0x6;
pub const GOAWAY: u8 = 0x7;
pub const WINDOW_UPDATE: u8 = 0x8;
pub const CONTINUATION: u8 = 0x9;

pub const END_STREAM: u8 = 0x1;
pub const ACK: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;
pub const PADDED: u8 = 0x8;

/// RFC 9113 error codes the tests look for.
pub const NO_ERROR: u32 = 0x0;
pub const PROTOCOL_ERROR: u32 = 0x1;
pub const FLOW_CONTROL_ERROR: u32 = 0x3;
pub const STREAM_CLOSED: u32 = 0x5;
pub const FRAME_SIZE_ERROR: u32 = 0x6;
pub const REFUSED_STREAM: u32 = 0x7;
pub const CANCEL: u32 = 0x8;
pub const COMPRESSION_ERROR: u32 = 0x9;
pub const ENHANCE_YOUR_CALM: u32 = 0xb;

/// One frame as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
    pub payload: Vec<u8>,
}

impl Frame {
    /// The error code of a RST_STREAM or GOAWAY.
    pub fn error_code(&self) -> Option<u32> {
        let at = match self.kind {
            RST_STREAM => 0,
            GOAWAY => 4,
            _ => return None,
        };
        self.payload.get(at..at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// What a stream got back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct H2Response {
    pub status: Option<u16>,
    pub fields: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub reset: Option<u32>, // RST_STREAM code, if the stream was reset
    pub ended: bool,        // END_STREAM received
}

impl H2Response {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Why reading stopped.
#[derive(Debug)]
pub enum H2End {
    Goaway(u32), // the server sent GOAWAY with this code
    Closed,      // the server closed the connection
    Timeout,     // nothing came within the limit
}

/// A client connection.
pub struct H2Conn {
    pub sock: TcpStream,
    enc: loona_hpack::Encoder<'static>,
    dec: Decoder,
    rx: Vec<u8>,
    pub next_id: u32,
    pub goaway: Option<u32>, // code of a GOAWAY received
    pub server_settings: Vec<(u16, u32)>,
    pub auto_window: bool,  // give back window for every DATA received
    pub frames: Vec<Frame>, // every frame received, in order (for assertions)
    backlog: std::collections::VecDeque<Frame>, // read while waiting for window, not yet handled
    send_conn: i64,         // connection window the server gives us
    send_initial: i64,      // its SETTINGS_INITIAL_WINDOW_SIZE
    send_streams: HashMap<u32, i64>, // stream windows it gives us (beyond the initial one)
    pub respect_windows: bool, // `data` waits for window (off: send regardless)
}

impl H2Conn {
    /// Connects, sends the preface with `settings`, and reads the server's
    /// SETTINGS (acknowledged).
    pub fn connect_with(port: u16, settings: &[(u16, u32)]) -> H2Conn {
        let sock = TcpStream::connect(("127.0.0.1", port)).expect("connect to the proxy");
        H2Conn::over(sock, settings)
    }

    /// The same over a connection the test made (from a chosen source
    /// address, say).
    pub fn over(sock: TcpStream, settings: &[(u16, u32)]) -> H2Conn {
        sock.set_nodelay(true).ok();
        let mut c = H2Conn {
            sock,
            enc: loona_hpack::Encoder::new(),
            dec: Decoder::new(4096),
            rx: Vec::new(),
            next_id: 1,
            goaway: None,
            server_settings: Vec::new(),
            auto_window: true,
            frames: Vec::new(),
            backlog: Default::default(),
            send_conn: 65_535,
            send_initial: 65_535,
            send_streams: HashMap::new(),
            respect_windows: true,
        };
        c.write(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        let payload: Vec<u8> = settings
            .iter()
            .flat_map(|(id, v)| [id.to_be_bytes().to_vec(), v.to_be_bytes().to_vec()].concat())
            .collect();
        c.send(SETTINGS, 0, 0, &payload);
        let f = c.read_frame(Duration::from_secs(10)).expect("the server's SETTINGS");
        assert_eq!((f.kind, f.flags), (SETTINGS, 0), "the server speaks first with SETTINGS");
        c.server_settings = f
            .payload
            .chunks(6)
            .map(|e| (u16::from_be_bytes([e[0], e[1]]), u32::from_be_bytes([e[2], e[3], e[4], e[5]])))
            .collect();
        if let Some((_, w)) = c.server_settings.iter().find(|(id, _)| *id == 4) {
            c.send_initial = *w as i64;
        }
        c.send(SETTINGS, ACK, 0, &[]);
        c
    }

    pub fn connect(port: u16) -> H2Conn {
        H2Conn::connect_with(port, &[])
    }

    pub fn write(&mut self, bytes: &[u8]) {
        let _ = self.sock.write_all(bytes);
    }

    /// Sends one frame.
    pub fn send(&mut self, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
        let mut f = frame_bytes(kind, flags, stream, payload.len());
        f.extend_from_slice(payload);
        self.write(&f);
    }

    /// A header block for `fields` (loona-hpack, with indexing).
    pub fn block(&mut self, fields: &[(&str, &str)]) -> Vec<u8> {
        self.enc.encode(fields.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())))
    }

    /// Opens the next stream with a request; returns its id.
    pub fn request(&mut self, method: &str, path: &str, extra: &[(&str, &str)], end_stream: bool) -> u32 {
        let id = self.next_id;
        self.next_id += 2;
        let mut fields =
            vec![(":method", method), (":scheme", "http"), (":authority", "localhost"), (":path", path)];
        fields.extend_from_slice(extra);
        let block = self.block(&fields);
        let flags = END_HEADERS | if end_stream { END_STREAM } else { 0 };
        self.send(HEADERS, flags, id, &block);
        id
    }

    pub fn get(&mut self, path: &str) -> u32 {
        self.request("GET", path, &[], true)
    }

    /// DATA on `stream`, split at 16384 bytes.
    pub fn data(&mut self, stream: u32, bytes: &[u8], end_stream: bool) {
        let mut parts: Vec<&[u8]> = bytes.chunks(16_384).collect();
        if parts.is_empty() {
            parts.push(&[]);
        }
        let last = parts.len() - 1;
        for (i, p) in parts.into_iter().enumerate() {
            if self.respect_windows {
                self.wait_window(stream, p.len() as i64);
            }
            self.send(DATA, if end_stream && i == last { END_STREAM } else { 0 }, stream, p);
        }
    }

    /// Waits (bounded) until `n` bytes may be sent on `stream`, keeping
    /// the frames read meanwhile for [`H2Conn::run`].
    fn wait_window(&mut self, stream: u32, n: i64) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let initial = self.send_initial;
            let w = *self.send_streams.entry(stream).or_insert(initial);
            if n == 0 || (w >= n && self.send_conn >= n) {
                *self.send_streams.entry(stream).or_insert(initial) -= n;
                self.send_conn -= n;
                return;
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else { return };
            let Some(f) = self.read_frame(left) else { return };
            self.backlog.push_back(f);
        }
    }

    pub fn rst(&mut self, stream: u32, code: u32) {
        self.send(RST_STREAM, 0, stream, &code.to_be_bytes());
    }

    pub fn window_update(&mut self, stream: u32, inc: u32) {
        self.send(WINDOW_UPDATE, 0, stream, &inc.to_be_bytes());
    }

    /// The next frame, if one comes within `limit`; None on close or timeout.
    pub fn read_frame(&mut self, limit: Duration) -> Option<Frame> {
        let deadline = Instant::now() + limit;
        loop {
            if self.rx.len() >= 9 {
                let len = u32::from_be_bytes([0, self.rx[0], self.rx[1], self.rx[2]]) as usize;
                if self.rx.len() >= 9 + len {
                    let f = Frame {
                        kind: self.rx[3],
                        flags: self.rx[4],
                        stream: u32::from_be_bytes([self.rx[5], self.rx[6], self.rx[7], self.rx[8]])
                            & 0x7fff_ffff,
                        payload: self.rx[9..9 + len].to_vec(),
                    };
                    self.rx.drain(..9 + len);
                    if f.kind == GOAWAY {
                        self.goaway = f.error_code();
                    }
                    if f.kind == WINDOW_UPDATE && f.payload.len() == 4 {
                        let inc =
                            (u32::from_be_bytes([f.payload[0], f.payload[1], f.payload[2], f.payload[3]])
                                & 0x7fff_ffff) as i64;
                        if f.stream == 0 {
                            self.send_conn += inc;
                        } else {
                            let initial = self.send_initial;
                            *self.send_streams.entry(f.stream).or_insert(initial) += inc;
                        }
                    }
                    self.frames.push(f.clone());
                    return Some(f);
                }
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            self.sock.set_read_timeout(Some(left.max(Duration::from_millis(1)))).ok();
            let mut buf = [0u8; 65536];
            match self.sock.read(&mut buf) {
                Ok(0) => return None,
                Ok(n) => self.rx.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
                {
                    if Instant::now() >= deadline {
                        return None;
                    }
                }
                Err(_) => return None,
            }
        }
    }

    /// Reads frames until every stream of `ids` ended or was reset, or the
    /// connection ended; answers PING and SETTINGS, gives back window.
    pub fn run(&mut self, ids: &[u32], limit: Duration) -> (HashMap<u32, H2Response>, Option<H2End>) {
        let mut out: HashMap<u32, H2Response> = ids.iter().map(|&i| (i, H2Response::default())).collect();
        let deadline = Instant::now() + limit;
        // Only `ids` count: frames for other streams (ones the test reset,
        // say) are kept in `out` but waited for by nobody.
        let done =
            |out: &HashMap<u32, H2Response>| ids.iter().all(|i| out[i].ended || out[i].reset.is_some());
        while !done(&out) {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return (out, Some(H2End::Timeout));
            };
            let next = match self.backlog.pop_front() {
                Some(f) => Some(f),
                None => self.read_frame(left),
            };
            let Some(f) = next else {
                return (out, Some(if Instant::now() >= deadline { H2End::Timeout } else { H2End::Closed }));
            };
            if let Some(end) = self.handle(&f, &mut out) {
                return (out, Some(end));
            }
        }
        (out, None)
    }

    /// Applies one received frame to the responses being collected.
    pub fn handle(&mut self, f: &Frame, out: &mut HashMap<u32, H2Response>) -> Option<H2End> {
        match f.kind {
            SETTINGS if f.flags & ACK == 0 => self.send(SETTINGS, ACK, 0, &[]),
            PING if f.flags & ACK == 0 => {
                let p = f.payload.clone();
                self.send(PING, ACK, 0, &p);
            }
            GOAWAY => return Some(H2End::Goaway(f.error_code().unwrap_or(0))),
            HEADERS | CONTINUATION => {
                let r = out.entry(f.stream).or_default();
                let mut fields = Vec::new();
                self.dec
                    .decode(&f.payload, usize::MAX, |n, v| {
                        fields.push((
                            String::from_utf8_lossy(n).into_owned(),
                            String::from_utf8_lossy(v).into_owned(),
                        ))
                    })
                    .expect("the server's header block decodes");
                for (n, v) in fields {
                    if n == ":status" {
                        r.status = v.parse().ok();
                        r.fields.clear(); // a final head after a 1xx
                    } else {
                        r.fields.push((n, v));
                    }
                }
                if f.flags & END_STREAM != 0 {
                    r.ended = true;
                }
            }
            DATA => {
                let r = out.entry(f.stream).or_default();
                r.body.extend_from_slice(&f.payload);
                if f.flags & END_STREAM != 0 {
                    r.ended = true;
                }
                if self.auto_window && !f.payload.is_empty() {
                    let n = f.payload.len() as u32;
                    self.window_update(0, n);
                    if f.flags & END_STREAM == 0 {
                        self.window_update(f.stream, n);
                    }
                }
            }
            RST_STREAM => out.entry(f.stream).or_default().reset = f.error_code(),
            _ => {}
        }
        None
    }

    /// Reads until the server closes or sends GOAWAY (returned), within `limit`.
    pub fn expect_goaway(&mut self, limit: Duration) -> Option<u32> {
        let deadline = Instant::now() + limit;
        let mut sink = HashMap::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let f = self.read_frame(left)?;
            if let Some(H2End::Goaway(code)) = self.handle(&f, &mut sink) {
                return Some(code);
            }
        }
        None
    }

    /// Whether the server closed the connection within `limit` (frames
    /// before the close are read and kept).
    pub fn closed_within(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            if self.read_frame(left).is_none() {
                return Instant::now() < deadline;
            }
        }
        false
    }
}

/// A frame header for a payload of `len` bytes.
pub fn frame_bytes(kind: u8, flags: u8, stream: u32, len: usize) -> Vec<u8> {
    let l = (len as u32).to_be_bytes();
    let s = stream.to_be_bytes();
    vec![l[1], l[2], l[3], kind, flags, s[0], s[1], s[2], s[3]]
}
