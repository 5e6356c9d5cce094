//! The HTTP/1.1 head an HTTP/2 request runs on, written together with
//! its parsed form: each part's span is recorded as it is written, so the
//! stream gets the [`RequestHead`] without the text being parsed again
//! (the same spans, framing and connection options `parse_request` would
//! find in it; `request.rs`'s tests check that they are).

use crate::core::buffer::Buffer;
use crate::l7_http::head::{HeaderSpan, Headers, Span};

/// A head being written: the bytes and the header lines' spans. Owned by
/// one `request::build` call.
pub struct HeadWriter {
    pub buf: Buffer,
    pub headers: Headers,
    pub ok: bool, // everything fit in the buffer
}

impl HeadWriter {
    pub fn new() -> HeadWriter {
        HeadWriter { buf: Buffer::take(), headers: Headers::take(), ok: true }
    }

    /// Appends `bytes`; returns where they are.
    pub fn put(&mut self, bytes: &[u8]) -> Span {
        let start = self.buf.len() as u32;
        self.ok &= self.buf.push(bytes) == bytes.len();
        Span { start, end: self.buf.len() as u32 }
    }

    /// Appends the line `name: value` and records it.
    pub fn line(&mut self, name: &[u8], value: &[u8]) {
        let name = self.put(name);
        self.put(b": ");
        let value = self.put(value);
        self.put(b"\r\n");
        self.headers.push(HeaderSpan { name, value });
    }

    /// Appends `block`, lines already written as `name: value\r\n`, and
    /// records them: `spans` gives each line's name start, value start and
    /// value end within `block`.
    pub fn lines(&mut self, block: &[u8], spans: &[[u32; 3]]) {
        let base = self.put(block).start;
        if !self.ok {
            return;
        }
        for &[name, value, end] in spans {
            self.headers.push(HeaderSpan {
                name: Span { start: base + name, end: base + value - 2 },
                value: Span { start: base + value, end: base + end },
            });
        }
    }
}
