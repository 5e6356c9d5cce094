//! A request body from HTTP/2 DATA frames relayed to the stream in HTTP/1.1
//! chunked framing (when the request had no content-length): the chunk
//! size lines and the last chunk. Used by `input.rs` (DATA) and
//! `output.rs` (the terminator once there is room).

use super::stream::H2Stream;

/// `HEX\r\n` for a chunk of `n` bytes; returns its length.
pub(super) fn chunk_line(n: usize, out: &mut [u8; 18]) -> usize {
    let digits = (usize::BITS - n.leading_zeros()).div_ceil(4).max(1) as usize;
    for (i, o) in out.iter_mut().take(digits).enumerate() {
        *o = b"0123456789abcdef"[(n >> (4 * (digits - 1 - i))) & 0xf];
    }
    out[digits] = b'\r';
    out[digits + 1] = b'\n';
    digits + 2
}

/// The last chunk of a chunk-framed request body, once there is room.
pub(super) fn push_terminator(st: &mut H2Stream, now: std::time::Instant) {
    if st.end_pending && st.chan.rx_room() >= 5 {
        st.chan.push_rx(b"0\r\n\r\n", now);
        st.end_pending = false;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn chunk_lines_are_hex() {
        let mut b = [0u8; 18];
        for (n, want) in [(1usize, "1\r\n"), (15, "f\r\n"), (16, "10\r\n"), (16_384, "4000\r\n")] {
            let len = super::chunk_line(n, &mut b);
            assert_eq!(&b[..len], want.as_bytes());
        }
    }
}
