//! The WebSocket handshake keys (RFC 6455 §4.1, §4.2.2) where strata
//! itself takes part in the handshake: an HTTP/2 client's extended
//! CONNECT (RFC 8441) becomes an HTTP/1.1 upgrade, for which the proxy
//! writes the `Sec-WebSocket-Key` the client never sent and checks the
//! server's `Sec-WebSocket-Accept` against it, as HAProxy 2.6 does.
//! Used by the H2 mux (`l5_session::mux::h2::request`) and the HTTP
//! stream's response side (`l6_stream::http::response`).

use super::head::{HeaderSpan, find};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

/// The GUID RFC 6455 §1.3 appends to the key.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// A fresh `Sec-WebSocket-Key`: 16 random bytes in base64 (24 bytes).
/// The key is a nonce against caches, not a secret (RFC 6455 §10.3).
pub fn new_key() -> [u8; 24] {
    let mut raw = [0u8; 16];
    raw[..8].copy_from_slice(&crate::acl::random().to_le_bytes());
    raw[8..].copy_from_slice(&crate::acl::random().to_le_bytes());
    let mut out = [0u8; 24];
    let n = STANDARD.encode_slice(raw, &mut out).unwrap_or(0);
    debug_assert_eq!(n, 24);
    out
}

/// The `Sec-WebSocket-Accept` a server answers `key` with:
/// base64(SHA-1(key + GUID)), 28 bytes.
pub fn accept_of(key: &[u8]) -> [u8; 28] {
    let mut h = Sha1::new();
    h.update(key);
    h.update(GUID);
    let digest: [u8; 20] = h.finalize().into();
    let mut out = [0u8; 28];
    let n = STANDARD.encode_slice(digest, &mut out).unwrap_or(0);
    debug_assert_eq!(n, 28);
    out
}

/// Whether a 101 answering a WebSocket upgrade carries the accept value
/// of the request's key. A request without a key (none to check against)
/// passes: only handshakes strata wrote the key of are checked this way.
pub fn accept_matches(
    req: &[u8],
    req_headers: &[HeaderSpan],
    res: &[u8],
    res_headers: &[HeaderSpan],
) -> bool {
    let Some(key) = find(req, req_headers, "sec-websocket-key").next() else { return true };
    let want = accept_of(key.trim_ascii());
    find(res, res_headers, "sec-websocket-accept").next().is_some_and(|v| v.trim_ascii() == want)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_example_and_fresh_keys() {
        // RFC 6455 §1.3's example.
        assert_eq!(&accept_of(b"dGhlIHNhbXBsZSBub25jZQ=="), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        let (a, b) = (new_key(), new_key());
        assert_ne!(a, b);
        assert_eq!(STANDARD.decode(a).map(|k| k.len()), Ok(16));
    }
}
