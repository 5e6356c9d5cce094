//! The peers protocol's variable-length integers (`doc/peers-v2.0.txt`,
//! section I): values below 240 take one byte; larger ones a first byte
//! `>= 240` carrying 4 bits, then 7 bits per byte, the last byte below 128.

/// Smallest value that needs two bytes.
const TWO_BYTES_MIN: u64 = 0xf0;
/// Longest encoding of a 64-bit value.
pub const MAX_LEN: usize = 10;

/// Appends the encoding of `v` to `out`.
pub fn put(out: &mut Vec<u8>, mut v: u64) {
    if v < TWO_BYTES_MIN {
        out.push(v as u8);
        return;
    }
    out.push((v as u8) | TWO_BYTES_MIN as u8);
    v = (v - TWO_BYTES_MIN) >> 4;
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v = (v - 0x80) >> 7;
    }
    out.push(v as u8);
}

/// Bytes the encoding of `v` takes.
pub fn len(v: u64) -> usize {
    let mut n = 1;
    if v < TWO_BYTES_MIN {
        return n;
    }
    let mut v = (v - TWO_BYTES_MIN) >> 4;
    while v >= 0x80 {
        n += 1;
        v = (v - 0x80) >> 7;
    }
    n + 1
}

/// Why a value could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarintError {
    Truncated, // the input ends inside the value
    TooLong,   // more bytes than a 64-bit value can take
}

/// Reads one value at the front of `buf`: the value and the bytes it took.
pub fn get(buf: &[u8]) -> Result<(u64, usize), VarintError> {
    let first = *buf.first().ok_or(VarintError::Truncated)?;
    let mut v = u64::from(first);
    if v < TWO_BYTES_MIN {
        return Ok((v, 1));
    }
    let mut shift = 4u32;
    let mut i = 1;
    loop {
        let b = *buf.get(i).ok_or(VarintError::Truncated)?;
        i += 1;
        if shift >= 64 || i > MAX_LEN {
            return Err(VarintError::TooLong);
        }
        v = v.wrapping_add(u64::from(b) << shift);
        shift += 7;
        if b < 0x80 {
            return Ok((v, i));
        }
    }
}

/// A cursor over a message payload reading values in order.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    /// Bytes read so far.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left.
    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// One variable-length integer.
    pub fn int(&mut self) -> Option<u64> {
        let (v, n) = get(self.rest()).ok()?;
        self.pos += n;
        Some(v)
    }

    /// `n` raw bytes.
    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let b = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(b)
    }

    /// A big-endian 32-bit number.
    pub fn u32_be(&mut self) -> Option<u32> {
        let b = self.bytes(4)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        put(&mut out, v);
        out
    }

    #[test]
    fn peers_varint_boundaries_of_the_spec() {
        // doc/peers-v2.0.txt: 1 byte below 240, 2 below 2288, 3 below
        // 264432, 4 below 33818864, 5 below 4328786160
        for (v, n) in [
            (0u64, 1),
            (239, 1),
            (240, 2),
            (2287, 2),
            (2288, 3),
            (264_431, 3),
            (264_432, 4),
            (33_818_863, 4),
            (33_818_864, 5),
            (4_328_786_159, 5),
            (4_328_786_160, 6),
            (u64::MAX, 10),
        ] {
            let e = enc(v);
            assert_eq!(e.len(), n, "length of {v}");
            assert_eq!(len(v), n);
            assert_eq!(get(&e), Ok((v, n)), "round trip of {v}");
        }
    }

    #[test]
    fn peers_varint_bytes_of_p1() {
        // golden P1: the table definition's expire 60000 is `f0 97 1c` and
        // the period 10000 `f0 e2 03`
        assert_eq!(enc(60_000), [0xf0, 0x97, 0x1c]);
        assert_eq!(enc(10_000), [0xf0, 0xe2, 0x03]);
        assert_eq!(enc(0x654), [0xf4, 0x56]);
    }

    #[test]
    fn peers_varint_refuses_truncated_and_endless() {
        assert_eq!(get(&[]), Err(VarintError::Truncated));
        assert_eq!(get(&[0xf0, 0x80]), Err(VarintError::Truncated));
        assert_eq!(get(&[0xff; 40]), Err(VarintError::TooLong));
    }
}
