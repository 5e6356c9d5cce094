//! A response head's fields as an HPACK block, encoded where the head's
//! parsed spans are at hand: by the stream, as it hands a head it
//! forwards unchanged to an HTTP/2 client, so that the mux frames it
//! without parsing the HTTP/1 text again; or by the mux after parsing it
//! (interim heads, heads the stream rewrote). Field names are sent in
//! lower case, connection-specific fields are dropped (RFC 9113 §8.2.2).

use super::hpack::Encoder;
use crate::core::free_list;
use crate::l7_http::head::{Framing, HeaderSpan, ResponseHead, name_is};
use std::cell::RefCell;

/// Blocks kept for reuse per thread beyond which freed storage is released.
const POOL_MAX: usize = 1024;

thread_local! {
    static POOL: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// Fields never sent over HTTP/2 (RFC 9113 §8.2.2).
pub fn connection_specific(name: &[u8]) -> bool {
    match name.len() {
        7 => name_is(name, b"upgrade"),
        10 => name_is(name, b"connection") || name_is(name, b"keep-alive"),
        16 => name_is(name, b"proxy-connection"),
        17 => name_is(name, b"transfer-encoding"),
        _ => false,
    }
}

/// Appends the fields of a head held in `src` to `out`, HPACK-encoded
/// (the encoder adds nothing to the peer's table, so any block of the
/// connection may carry them).
pub fn encode_fields(src: &[u8], headers: &[HeaderSpan], out: &mut Vec<u8>) {
    let mut enc = Encoder::new();
    let mut lower = [0u8; 64];
    for h in headers {
        let name = h.name.of(src);
        if connection_specific(name) {
            continue;
        }
        let value = h.value.of(src);
        match lower.get_mut(..name.len()) {
            Some(l) => {
                for (d, s) in l.iter_mut().zip(name) {
                    *d = s.to_ascii_lowercase();
                }
                enc.field(l, value, out);
            }
            None => enc.field(&name.to_ascii_lowercase(), value, out), // a name over 64 bytes
        }
    }
}

/// A final response head its stream encoded, with what framing it needs.
/// Owned by the stream's channel until the mux frames it; its storage
/// returns to this thread's pool on drop.
#[derive(Debug)]
pub struct EncodedHead {
    pub fields: Vec<u8>, // the fields' block, without `:status`
    pub status: u16,
    pub framing: Framing,
    pub len: usize, // bytes of its HTTP/1 text, at the front of the channel
}

impl EncodedHead {
    /// `head`, parsed from `src`.
    pub fn new(head: &ResponseHead, src: &[u8]) -> EncodedHead {
        let mut fields = free_list::take(&POOL).unwrap_or_else(|| Vec::with_capacity(256));
        encode_fields(src, &head.headers, &mut fields);
        EncodedHead { fields, status: head.status, framing: head.framing, len: head.len }
    }
}

impl Drop for EncodedHead {
    fn drop(&mut self) {
        let mut fields = std::mem::take(&mut self.fields);
        fields.clear();
        free_list::give(&POOL, fields, POOL_MAX);
    }
}
