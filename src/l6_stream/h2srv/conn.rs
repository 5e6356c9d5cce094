//! One HTTP/2 connection to a server, shared by the streams it carries.
//!
//! It reads the server's frames and turns each stream's response into
//! HTTP/1.1 bytes in that stream's inbox (a head, then the payload as
//! is when the server gave a content-length, else chunk-framed), which
//! the stream takes on its next `fill`. It gives window back only as the
//! streams take their bytes, so a slow client holds at most one window
//! of its response here. Streams whose inbox changed are named in the
//! worker's wake list so their sessions run.

use super::Wake;
use crate::l4_conn::{Conn, IoStep};
use crate::l7_http::h2::frame::{self, ErrorCode, FrameHeader};
use crate::l7_http::h2::hpack::{Decoder, Encoder};
use hashbrown::HashMap;
use log::debug;
use mio::Token;
use std::fmt::Write as _;
use std::time::Instant;

/// Inbox size below which received window is given back.
const INBOX_LOW: usize = 16_384;
/// Connection window given back in one WINDOW_UPDATE at least.
const CONN_CREDIT_MIN: u32 = 1 << 20;
/// Header block (HEADERS + CONTINUATION) accepted from a server at most.
const MAX_BLOCK: usize = 256 * 1024;

/// What the connection knows of one of its streams.
#[derive(Debug, Default)]
pub(super) struct SrvStream {
    pub(super) owner: Option<Token>, // the stream's token (its session is woken); None: detached
    pub(super) inbox: Vec<u8>,       // HTTP/1.1 response bytes not yet taken
    pub(super) send_window: i64,     // what the server lets us send on it
    pub(super) unacked: u32,         // DATA bytes received and not yet given back
    pub(super) head_req: bool,       // HEAD request: no body in the response
    pub(super) head_done: bool,      // the final response head arrived
    pub(super) chunked: bool,        // the body goes to the stream chunk-framed
    pub(super) ended: bool,          // END_STREAM received
    pub(super) reset: bool,          // reset by the server (or the connection failed)
    pub(super) local_done: bool,     // we sent END_STREAM
}

/// The shared connection. Owned by the worker's [`H2Servers`](super::H2Servers)
/// and by the [`H2Chan`](super::H2Chan)s of the streams it carries.
pub struct H2SrvConn {
    pub(super) conn: Option<Conn>, // None once closed
    pub(super) tls: bool,
    pub(super) decided: bool, // HTTP/2 for sure (`proto h2`, or ALPN said h2)
    pub(super) private: bool, // `http-reuse never`: only the stream that made it
    pub(super) connected: bool,
    pub(super) failed: bool,    // unusable: closed, GOAWAY, error
    pub(super) attached: usize, // streams using it (started or not)
    inbuf: Vec<u8>,             // bytes read and not yet parsed
    pub(super) out: Vec<u8>,    // frames for the server
    out_sent: usize,
    pub(super) enc: Encoder,
    dec: Decoder,
    block: Vec<u8>,    // header block being received
    block_stream: u32, // its stream (0: none)
    block_end: bool,   // its HEADERS had END_STREAM
    pub(super) streams: HashMap<u32, SrvStream>,
    pub(super) next_id: u32,
    pub(super) peer_max_streams: usize,
    pub(super) peer_initial_window: i64,
    pub(super) peer_max_frame: usize,
    pub(super) conn_send: i64,
    conn_unacked: u32,
    pub(super) last_id_allowed: u32, // GOAWAY's last stream id (u32::MAX: none)
    pub(super) wake: Wake,
    pub(super) waiting: smallvec::SmallVec<[Token; 4]>, // attached streams not started (woken when room frees)
    pub(super) scratch: Vec<u8>,                        // header block being sent
    pub(super) idle_since: Option<Instant>,             // kept with no stream since then
    pub(super) purge_delay: std::time::Duration,        // the server's `pool-purge-delay`
    pub(super) lower: Vec<u8>,                          // a field name in lower case
    pub(super) spare_inboxes: Vec<Vec<u8>>,             // ended streams' inboxes, for the next ones
}

/// Inboxes kept for reuse at most (each at most [`SPARE_INBOX_MAX`] bytes
/// of capacity), so that a stream in steady state allocates none.
const SPARE_INBOXES: usize = 16;
const SPARE_INBOX_MAX: usize = 64 * 1024;

impl H2SrvConn {
    pub(super) fn new(
        conn: Conn,
        decided: bool,
        private: bool,
        wake: Wake,
        purge_delay: std::time::Duration,
    ) -> H2SrvConn {
        H2SrvConn {
            tls: conn.is_tls(),
            conn: Some(conn),
            decided,
            private,
            connected: false,
            failed: false,
            attached: 0,
            inbuf: Vec::new(),
            out: Vec::new(),
            out_sent: 0,
            enc: Encoder::new(),
            dec: Decoder::new(4096),
            block: Vec::new(),
            block_stream: 0,
            block_end: false,
            streams: HashMap::new(),
            next_id: 1,
            peer_max_streams: 100,
            peer_initial_window: frame::DEFAULT_WINDOW as i64,
            peer_max_frame: frame::DEFAULT_MAX_FRAME as usize,
            conn_send: frame::DEFAULT_WINDOW as i64,
            conn_unacked: 0,
            last_id_allowed: u32::MAX,
            wake,
            waiting: smallvec::SmallVec::new(),
            scratch: Vec::new(),
            lower: Vec::new(),
            spare_inboxes: Vec::new(),
            idle_since: None,
            purge_delay,
        }
    }

    /// Whether another stream may be attached.
    pub(super) fn has_room(&self) -> bool {
        !self.failed && self.conn.is_some() && self.attached < self.peer_max_streams
    }

    /// Completes the connect; once done, the preface and our SETTINGS go
    /// out. `Ok(true)`: connected.
    pub(super) fn finish_connect(&mut self, now: Instant) -> std::io::Result<bool> {
        if self.connected {
            return Ok(true);
        }
        if self.failed {
            return Err(std::io::Error::other("HTTP/2 server connection failed"));
        }
        let Some(c) = self.conn.as_mut() else { return Err(std::io::Error::other("closed")) };
        match c.finish_connect(now) {
            Ok(true) => {}
            Ok(false) => return Ok(false),
            Err(e) => {
                self.fail();
                return Err(e);
            }
        }
        self.connected = true;
        if !self.decided {
            self.decided = c.tls_alpn() == Some(b"h2");
            if !self.decided {
                return Ok(true); // ALPN chose HTTP/1.1: the stream takes the connection over
            }
        }
        self.out.extend_from_slice(frame::PREFACE);
        frame::settings(&mut self.out, &[(frame::SETTINGS_ENABLE_PUSH, 0)], false);
        frame::window_update(&mut self.out, 0, frame::MAX_WINDOW - frame::DEFAULT_WINDOW);
        self.flush(now);
        self.wake_all();
        Ok(true)
    }

    /// Every attached stream's session is to run.
    pub(super) fn wake_all(&mut self) {
        let mut w = self.wake.borrow_mut();
        w.extend(self.streams.values().filter_map(|s| s.owner));
        w.extend(self.waiting.iter().copied());
    }

    /// The connection is unusable: every stream on it fails.
    pub(super) fn fail(&mut self) {
        if !self.failed {
            debug!(target: "l6", "h2 server connection failed");
        }
        self.failed = true;
        for s in self.streams.values_mut() {
            if !s.ended {
                s.reset = true;
            }
        }
        self.wake_all();
        if self.attached == 0 {
            self.conn = None;
        }
    }

    /// Reads what the server sent, handles its frames, writes ours.
    pub(super) fn pump(&mut self, now: Instant) {
        if !self.connected || !self.decided {
            return;
        }
        loop {
            let Some(c) = self.conn.as_mut() else { return };
            let step = c.fill(now);
            if let Some(rx) = c.rx.take() {
                self.inbuf.extend_from_slice(rx.data());
            }
            self.parse(now);
            match step {
                IoStep::Moved(_) => continue,
                IoStep::Eof | IoStep::Failed => {
                    self.fail();
                    break;
                }
                IoStep::Blocked => break,
            }
        }
        self.flush(now);
    }

    /// Writes pending frames.
    pub(super) fn flush(&mut self, now: Instant) {
        let Some(c) = self.conn.as_mut() else { return };
        while self.out_sent < self.out.len() {
            match c.send_bytes(&self.out[self.out_sent..], now) {
                IoStep::Moved(n) => self.out_sent += n,
                IoStep::Failed => {
                    self.out.clear();
                    self.out_sent = 0;
                    return self.fail();
                }
                _ => break,
            }
        }
        if self.out_sent == self.out.len() {
            self.out.clear();
            self.out_sent = 0;
        }
    }

    /// Handles every complete frame in `inbuf`.
    fn parse(&mut self, now: Instant) {
        let mut at = 0;
        while !self.failed {
            let Some(hdr) = self.inbuf.get(at..).and_then(FrameHeader::parse) else { break };
            let len = hdr.len as usize;
            if len > frame::DEFAULT_MAX_FRAME as usize {
                self.protocol_error(ErrorCode::FrameSize);
                break;
            }
            let start = at + frame::HEADER_LEN;
            if self.inbuf.len() < start + len {
                break;
            }
            let payload = std::mem::take(&mut self.inbuf);
            self.frame(hdr, &payload[start..start + len], now);
            self.inbuf = payload;
            at = start + len;
        }
        self.inbuf.drain(..at.min(self.inbuf.len()));
    }

    /// A connection error on our side: GOAWAY, every stream fails.
    fn protocol_error(&mut self, code: ErrorCode) {
        debug!(target: "l6", "h2 server connection: protocol error {}", code.name());
        frame::goaway(&mut self.out, 0, code);
        self.fail();
    }

    fn frame(&mut self, hdr: FrameHeader, payload: &[u8], now: Instant) {
        if self.block_stream != 0 && hdr.kind != frame::CONTINUATION {
            return self.protocol_error(ErrorCode::Protocol);
        }
        match hdr.kind {
            frame::DATA => self.data(hdr, payload),
            frame::HEADERS | frame::CONTINUATION => self.headers(hdr, payload),
            frame::RST_STREAM => {
                if let Some(s) = self.streams.get_mut(&hdr.stream) {
                    if !s.ended {
                        s.reset = true;
                    }
                    wake_one(&self.wake, s.owner);
                }
            }
            frame::SETTINGS if !hdr.has(frame::ACK) => self.settings(payload, now),
            frame::PING if !hdr.has(frame::ACK) => {
                let mut data = [0u8; 8];
                data.copy_from_slice(payload.get(..8).unwrap_or(&[0; 8]));
                frame::ping(&mut self.out, &data, true);
            }
            frame::GOAWAY => {
                let last = payload
                    .get(..4)
                    .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) & 0x7fff_ffff);
                self.last_id_allowed = last;
                self.failed = true; // no new stream
                for (&id, s) in self.streams.iter_mut() {
                    if id > last && !s.ended {
                        s.reset = true;
                    }
                }
                self.wake_all();
            }
            frame::WINDOW_UPDATE => {
                let inc = payload
                    .get(..4)
                    .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) & 0x7fff_ffff);
                if hdr.stream == 0 {
                    self.conn_send += inc as i64;
                    self.wake_all();
                } else if let Some(s) = self.streams.get_mut(&hdr.stream) {
                    s.send_window += inc as i64;
                    wake_one(&self.wake, s.owner);
                }
            }
            frame::PUSH_PROMISE => self.protocol_error(ErrorCode::Protocol),
            _ => {} // PRIORITY, unknown types
        }
    }

    fn settings(&mut self, payload: &[u8], now: Instant) {
        for p in payload.chunks_exact(6) {
            let id = u16::from_be_bytes([p[0], p[1]]);
            let v = u32::from_be_bytes([p[2], p[3], p[4], p[5]]);
            match id {
                frame::SETTINGS_HEADER_TABLE_SIZE => self.enc.peer_table_size(v as usize),
                frame::SETTINGS_MAX_CONCURRENT_STREAMS => self.peer_max_streams = v as usize,
                frame::SETTINGS_INITIAL_WINDOW_SIZE => {
                    let delta = v as i64 - self.peer_initial_window;
                    self.peer_initial_window = v as i64;
                    for s in self.streams.values_mut() {
                        s.send_window += delta;
                    }
                }
                frame::SETTINGS_MAX_FRAME_SIZE => {
                    self.peer_max_frame = (v as usize).clamp(16_384, frame::MAX_MAX_FRAME as usize)
                }
                _ => {}
            }
        }
        frame::settings(&mut self.out, &[], true);
        self.flush(now);
        self.wake_all();
    }

    fn data(&mut self, hdr: FrameHeader, payload: &[u8]) {
        self.conn_unacked += payload.len() as u32;
        let body = match unpad(hdr, payload) {
            Some(b) => b,
            None => return self.protocol_error(ErrorCode::Protocol),
        };
        let Some(s) = self.streams.get_mut(&hdr.stream) else {
            // A stream we reset: its window still counts for the connection.
            return self.give_back_conn(true);
        };
        s.unacked += payload.len() as u32;
        if s.owner.is_none() || s.reset {
            return;
        }
        if !s.head_done {
            s.reset = true;
        } else if s.chunked && !body.is_empty() {
            let _ = write!(Hex(&mut s.inbox), "{:x}\r\n", body.len());
            s.inbox.extend_from_slice(body);
            s.inbox.extend_from_slice(b"\r\n");
        } else if !s.head_req {
            s.inbox.extend_from_slice(body);
        }
        if hdr.has(frame::END_STREAM) {
            s.ended = true;
            if s.chunked {
                s.inbox.extend_from_slice(b"0\r\n\r\n");
            }
        }
        wake_one(&self.wake, s.owner);
    }

    fn headers(&mut self, hdr: FrameHeader, payload: &[u8]) {
        let frag = if hdr.kind == frame::HEADERS {
            if self.block_stream != 0 {
                return self.protocol_error(ErrorCode::Protocol);
            }
            self.block_stream = hdr.stream;
            self.block_end = hdr.has(frame::END_STREAM);
            self.block.clear();
            let Some(mut b) = unpad(hdr, payload) else { return self.protocol_error(ErrorCode::Protocol) };
            if hdr.has(frame::PRIORITY_FLAG) {
                let Some(rest) = b.get(5..) else { return self.protocol_error(ErrorCode::Protocol) };
                b = rest;
            }
            b
        } else {
            if self.block_stream == 0 || hdr.stream != self.block_stream {
                return self.protocol_error(ErrorCode::Protocol);
            }
            payload
        };
        if self.block.len() + frag.len() > MAX_BLOCK {
            return self.protocol_error(ErrorCode::EnhanceYourCalm);
        }
        self.block.extend_from_slice(frag);
        if !hdr.has(frame::END_HEADERS) {
            return;
        }
        let id = std::mem::take(&mut self.block_stream);
        let end = self.block_end;
        let block = std::mem::take(&mut self.block);
        let stream = self.streams.get_mut(&id).filter(|s| s.owner.is_some() && !s.reset);
        let ok = super::response::decode_head(&mut self.dec, &block, stream, end);
        self.block = block;
        if !ok {
            return self.protocol_error(ErrorCode::Compression);
        }
        wake_one(&self.wake, self.streams.get(&id).and_then(|s| s.owner));
    }

    /// A stream took `taken` bytes of its inbox: window goes back once it
    /// runs low.
    pub(super) fn taken(&mut self, id: u32, now: Instant) {
        let Some(s) = self.streams.get_mut(&id) else { return };
        if s.inbox.len() < INBOX_LOW && s.unacked > 0 && !s.ended && !s.reset {
            frame::window_update(&mut self.out, id, s.unacked);
            s.unacked = 0;
        }
        self.give_back_conn(false);
        self.flush(now);
    }

    fn give_back_conn(&mut self, now_anyway: bool) {
        if self.conn_unacked >= CONN_CREDIT_MIN || (now_anyway && self.conn_unacked > 0) {
            frame::window_update(&mut self.out, 0, self.conn_unacked);
            self.conn_unacked = 0;
        }
    }

    /// A stream stops using the connection: reset when unfinished.
    pub(super) fn detach(&mut self, id: u32, owner: Token, now: Instant) {
        self.attached = self.attached.saturating_sub(1);
        if let Some(pos) = self.waiting.iter().position(|&t| t == owner) {
            self.waiting.swap_remove(pos);
        }
        if let Some(s) = self.streams.remove(&id) {
            let finished = s.ended && s.local_done;
            if !(finished || s.reset || self.failed) {
                frame::rst_stream(&mut self.out, id, ErrorCode::Cancel);
            }
            // Window the stream never gave back still counts for the connection.
            self.give_back_conn(s.unacked > 0);
            let mut inbox = s.inbox;
            if self.spare_inboxes.len() < SPARE_INBOXES && inbox.capacity() <= SPARE_INBOX_MAX {
                inbox.clear();
                self.spare_inboxes.push(inbox);
            }
        }
        // Room for a stream that waited.
        self.wake.borrow_mut().extend(self.waiting.iter().copied());
        self.flush(now);
        // Kept for later streams only when connected and sound (a connect
        // its last stream gave up on is not waited for).
        if self.attached == 0 && (self.failed || self.private || !self.decided || !self.connected) {
            self.conn = None;
            self.failed = true;
        } else if self.attached == 0 {
            self.idle_since = Some(now);
            if self.purge_delay.is_zero() {
                self.close_idle(now); // `pool-purge-delay 0`: no idle connection kept
            }
        }
    }

    /// Whether it has been kept unused for its server's `pool-purge-delay`.
    pub(super) fn purge_due(&self, now: Instant) -> bool {
        self.attached == 0
            && self.idle_since.is_some_and(|t| now.saturating_duration_since(t) >= self.purge_delay)
    }

    /// Closes an idle connection politely: GOAWAY (NO_ERROR, no stream of
    /// the server's processed), then the close.
    pub(super) fn close_idle(&mut self, now: Instant) {
        debug!(target: "l6", "h2 server connection idle for {:?}: closed", self.purge_delay);
        frame::goaway(&mut self.out, 0, ErrorCode::NoError);
        self.flush(now);
        self.conn = None;
        self.failed = true;
    }
}

/// Names `owner` in the wake list (once when named twice in a row).
fn wake_one(wake: &Wake, owner: Option<Token>) {
    let Some(o) = owner else { return };
    let mut w = wake.borrow_mut();
    if w.last() != Some(&o) {
        w.push(o);
    }
}

/// A DATA or HEADERS payload without its padding.
fn unpad(hdr: FrameHeader, payload: &[u8]) -> Option<&[u8]> {
    if !hdr.has(frame::PADDED) {
        return Some(payload);
    }
    let pad = *payload.first()? as usize;
    payload.get(1..payload.len().checked_sub(pad)?)
}

/// `write!` into a byte vector.
struct Hex<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Hex<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}
