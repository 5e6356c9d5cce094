//! Compressible text for bodies (`/text/N` of the test server, the
//! compression benchmark): numbered lines, truncated to the size asked.

/// `n` bytes of numbered text lines.
pub fn text_body(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 64);
    let mut i = 0u64;
    while out.len() < n {
        out.extend_from_slice(format!("line {i}: the quick brown fox jumps over the lazy dog\n").as_bytes());
        i += 1;
    }
    out.truncate(n);
    out
}
