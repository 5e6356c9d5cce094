//! The HPACK encoder (RFC 7541 §6): one per connection direction.
//!
//! It never adds to the peer's dynamic table: fields are sent indexed when
//! the static table has them whole, else as literals without indexing
//! (with the static table's name index when there is one), Huffman-coded
//! when that is shorter. So the peer's table stays empty whatever size its
//! SETTINGS allow, and the encoder has no state but a pending size update:
//! a peer that lowers SETTINGS_HEADER_TABLE_SIZE gets one at the start of
//! the next block, as RFC 7541 §4.2 requires.

use super::huffman;
use super::table::{STATIC, static_name_index};

/// Encoding state of one direction. Owned by the connection's mux.
#[derive(Debug, Default)]
pub struct Encoder {
    size_update: Option<usize>, // to send at the start of the next block
}

impl Encoder {
    pub fn new() -> Encoder {
        Encoder::default()
    }

    /// The peer's SETTINGS_HEADER_TABLE_SIZE changed to `size`.
    pub fn peer_table_size(&mut self, size: usize) {
        if size < 4096 {
            self.size_update = Some(size);
        }
    }

    /// Starts a header block in `out` (a pending size update first).
    pub fn begin(&mut self, out: &mut Vec<u8>) {
        if let Some(size) = self.size_update.take() {
            integer(out, 0x20, 5, size);
        }
    }

    /// `:status`, indexed when the static table has the code.
    pub fn status(&mut self, code: u16, out: &mut Vec<u8>) {
        let index = match code {
            200 => 8,
            204 => 9,
            206 => 10,
            304 => 11,
            400 => 12,
            404 => 13,
            500 => 14,
            _ => 0,
        };
        if index > 0 {
            return integer(out, 0x80, 7, index);
        }
        let digits =
            [b'0' + (code / 100 % 10) as u8, b'0' + (code / 10 % 10) as u8, b'0' + (code % 10) as u8];
        integer(out, 0x00, 4, 8);
        literal(out, &digits);
    }

    /// One field; `name` must be lower case (HTTP/2 field names are).
    pub fn field(&mut self, name: &[u8], value: &[u8], out: &mut Vec<u8>) {
        let named = static_name_index(name);
        // Entries with a value follow the first one of their name.
        if let Some(first) = named
            && !value.is_empty()
            && let Some(i) =
                STATIC[first - 1..].iter().take_while(|(n, _)| *n == name).position(|(_, v)| *v == value)
        {
            return integer(out, 0x80, 7, first + i);
        }
        match named {
            Some(i) => integer(out, 0x00, 4, i),
            None => {
                out.push(0x00);
                literal(out, name);
            }
        }
        literal(out, value);
    }
}

/// An integer with an N-bit prefix (§5.1), the prefix's other bits `flags`.
fn integer(out: &mut Vec<u8>, flags: u8, prefix: u32, value: usize) {
    let mask = (1usize << prefix) - 1;
    if value < mask {
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | mask as u8);
    let mut rest = value - mask;
    while rest >= 0x80 {
        out.push((rest & 0x7f) as u8 | 0x80);
        rest >>= 7;
    }
    out.push(rest as u8);
}

/// A string literal, Huffman-coded when shorter.
fn literal(out: &mut Vec<u8>, s: &[u8]) {
    let coded = huffman::encoded_len(s);
    if coded < s.len() {
        integer(out, 0x80, 7, coded);
        huffman::encode(s, out);
    } else {
        integer(out, 0x00, 7, s.len());
        out.extend_from_slice(s);
    }
}
