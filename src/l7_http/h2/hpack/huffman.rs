//! Huffman coding of HPACK string literals (RFC 7541 §5.2, Appendix B).
//!
//! Decoding is table-driven, never bit by bit: a 64-bit accumulator holds
//! the next input bits (most significant first) and the top
//! [`FAST_BITS`] of it index [`FAST`], whose entry gives the one or two
//! symbols those bits start with and how many bits they take. Codes longer
//! than that (rare bytes: controls, high bytes, a few punctuation marks)
//! go through the canonical-code ranges in [`CANON`], one comparison per
//! length. Both tables are built at compile time from the RFC's code
//! table.
//!
//! Errors are RFC 7541's: an EOS symbol inside the string, padding longer
//! than 7 bits, or padding that is not the most significant bits of EOS
//! (all ones). Each is a COMPRESSION_ERROR for the caller.

use super::huffman_code::CODES;

/// Bits indexing the fast table (4096 entries of 4 bytes: 16 KiB).
const FAST_BITS: u32 = 12;
const FAST_SIZE: usize = 1 << FAST_BITS;

/// EOS: never valid inside a string.
const EOS: u16 = 256;

/// Why a Huffman string could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HuffmanError {
    Eos,     // the EOS symbol was decoded
    Padding, // more than 7 bits left, or not all ones
}

// Fast entry layout: bits the symbols take together (bits 0-5, so that
// the entry itself is the shift count), symbol count (6-7), sym1 (8-15),
// sym2 (16-23), bits of sym1 alone (24-28). A count of 0 means the code
// is longer than FAST_BITS.
const fn fast_entry(sym1: u32, sym2: u32, count: u32, total: u32, first: u32) -> u32 {
    total | (count << 6) | (sym1 << 8) | (sym2 << 16) | (first << 24)
}

const fn entry_count(e: u32) -> u32 {
    (e >> 6) & 3
}

const fn entry_bits(e: u32) -> u32 {
    e & 0x3f
}

const fn entry_first_bits(e: u32) -> u32 {
    (e >> 24) & 0x1f
}

/// For each FAST_BITS pattern: the symbols it starts with.
const fn build_fast() -> [u32; FAST_SIZE] {
    // First pass: the one symbol each pattern starts with (value | len << 8 | 1 << 16).
    let mut first = [0u32; FAST_SIZE];
    let mut s = 0;
    while s < 256 {
        let (code, len) = CODES[s];
        let len = len as u32;
        if len <= FAST_BITS {
            let start = (code << (FAST_BITS - len)) as usize;
            let n = 1usize << (FAST_BITS - len);
            let mut i = 0;
            while i < n {
                first[start + i] = s as u32 | (len << 8) | (1 << 16);
                i += 1;
            }
        }
        s += 1;
    }
    // Second pass: a second symbol when its code fits in the bits left.
    let mut table = [0u32; FAST_SIZE];
    let mut p = 0;
    while p < FAST_SIZE {
        let f = first[p];
        if f & (1 << 16) != 0 {
            let l1 = (f >> 8) & 0xff;
            let g = first[(p << l1) & (FAST_SIZE - 1)];
            let l2 = (g >> 8) & 0xff;
            table[p] = if g & (1 << 16) != 0 && l1 + l2 <= FAST_BITS {
                fast_entry(f & 0xff, g & 0xff, 2, l1 + l2, l1)
            } else {
                fast_entry(f & 0xff, 0, 1, l1, l1)
            };
        }
        p += 1;
    }
    table
}

static FAST: [u32; FAST_SIZE] = build_fast();

/// The canonical code by length: codes of length `len` are the
/// consecutive values `first[len] .. first[len] + count[len]`, for the
/// symbols `sorted[offset[len] ..]` in that order.
struct Canon {
    first: [u32; 31],
    count: [u16; 31],
    offset: [u16; 31],
    sorted: [u16; 257],
}

const fn build_canon() -> Canon {
    let mut c = Canon { first: [0; 31], count: [0; 31], offset: [0; 31], sorted: [0; 257] };
    let mut at = 0usize;
    let mut len = 1;
    while len <= 30 {
        c.offset[len] = at as u16;
        let mut s = 0;
        while s < 257 {
            if CODES[s].1 as usize == len {
                if c.count[len] == 0 {
                    c.first[len] = CODES[s].0;
                }
                c.count[len] += 1;
                c.sorted[at] = s as u16;
                at += 1;
            }
            s += 1;
        }
        len += 1;
    }
    c
}

static CANON: Canon = build_canon();

/// A code longer than FAST_BITS at the top of `bits` (left-aligned):
/// its symbol and length, if `bits` starts with one.
#[inline(never)]
fn slow_symbol(bits: u64) -> Option<(u16, u32)> {
    let mut len = FAST_BITS as usize + 1;
    while len <= 30 {
        let code = (bits >> (64 - len)) as u32;
        let first = CANON.first[len];
        let count = CANON.count[len] as u32;
        if count > 0 && code >= first && code - first < count {
            return Some((CANON.sorted[CANON.offset[len] as usize + (code - first) as usize], len as u32));
        }
        len += 1;
    }
    None
}

/// Decodes the Huffman string `input`, appending the bytes to `out`.
pub fn decode(input: &[u8], out: &mut Vec<u8>) -> Result<(), HuffmanError> {
    // Every code is at least 5 bits: at most 8 symbols per 5 bytes, and
    // the loop below writes two bytes per step even when one is kept.
    let base = out.len();
    out.resize(base + input.len() * 8 / 5 + 2, 0);
    let buf = &mut out[base..];
    let mut o = 0; // bytes decoded into `buf`
    let mut acc: u64 = 0; // next bits, most significant first
    let mut nbits: u32 = 0; // valid bits in `acc`
    let mut pos = 0;
    loop {
        // Refill: four bytes at a time while they fit, then single bytes.
        if nbits <= 32 && pos + 4 <= input.len() {
            let w = u32::from_be_bytes([input[pos], input[pos + 1], input[pos + 2], input[pos + 3]]);
            acc |= (w as u64) << (32 - nbits);
            nbits += 32;
            pos += 4;
        } else if nbits < 30 {
            while nbits <= 56 && pos < input.len() {
                acc |= (input[pos] as u64) << (56 - nbits);
                nbits += 8;
                pos += 1;
            }
            if nbits < 30 {
                break; // the last bits: see below, where padding is checked
            }
        }
        let e = FAST[(acc >> (64 - FAST_BITS)) as usize];
        let count = entry_count(e);
        if count != 0 {
            // Both bytes are written; only `count` of them are kept.
            buf[o..o + 2].copy_from_slice(&((e >> 8) as u16).to_le_bytes());
            o += count as usize;
            acc <<= entry_bits(e);
            nbits -= entry_bits(e);
        } else {
            let Some((sym, len)) = slow_symbol(acc) else { return Err(HuffmanError::Eos) };
            if sym == EOS {
                return Err(HuffmanError::Eos);
            }
            buf[o] = sym as u8;
            o += 1;
            acc <<= len;
            nbits -= len;
        }
    }
    out.truncate(base + o);
    decode_tail(acc, nbits, out)
}

/// The last (fewer than 30) bits: symbols that end within them, then
/// padding, which must be at most 7 bits, all ones. Bits past `nbits` are
/// read as ones, so padding never completes a code (only EOS is all ones,
/// and it is 30 bits long).
fn decode_tail(mut acc: u64, mut nbits: u32, out: &mut Vec<u8>) -> Result<(), HuffmanError> {
    while nbits > 0 {
        let bits = acc | (u64::MAX >> nbits);
        let e = FAST[(bits >> (64 - FAST_BITS)) as usize];
        let count = entry_count(e);
        let first = entry_first_bits(e);
        let total = entry_bits(e);
        let used = if count == 2 && total <= nbits {
            out.push((e >> 8) as u8);
            out.push((e >> 16) as u8);
            total
        } else if count >= 1 && first <= nbits {
            out.push((e >> 8) as u8);
            first
        } else if count == 0
            && let Some((sym, len)) = slow_symbol(bits)
            && len <= nbits
        {
            if sym == EOS {
                return Err(HuffmanError::Eos);
            }
            out.push(sym as u8);
            len
        } else {
            // No code ends within the bits left: they are padding.
            let ones = (1u64 << nbits) - 1;
            return if nbits <= 7 && acc >> (64 - nbits) == ones {
                Ok(())
            } else {
                Err(HuffmanError::Padding)
            };
        };
        acc = if used >= 64 { 0 } else { acc << used };
        nbits -= used;
    }
    Ok(())
}

/// The length of `input` Huffman-coded, in bytes.
pub fn encoded_len(input: &[u8]) -> usize {
    let bits: usize = input.iter().map(|&b| CODES[b as usize].1 as usize).sum();
    bits.div_ceil(8)
}

/// Appends `input` Huffman-coded to `out`, padded with ones.
pub fn encode(input: &[u8], out: &mut Vec<u8>) {
    let mut acc: u64 = 0;
    let mut nbits: u32 = 0;
    for &b in input {
        let (code, len) = CODES[b as usize];
        acc = (acc << len) | code as u64;
        nbits += len as u32;
        while nbits >= 8 {
            nbits -= 8;
            out.push((acc >> nbits) as u8);
        }
    }
    if nbits > 0 {
        let pad = 8 - nbits;
        out.push(((acc << pad) | ((1 << pad) - 1)) as u8);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_is_canonical() {
        let mut syms: Vec<usize> = (0..257).collect();
        syms.sort_by_key(|&s| (CODES[s].1, s));
        for w in syms.windows(2) {
            let (a, la) = CODES[w[0]];
            let (b, lb) = CODES[w[1]];
            assert_eq!(b, (a + 1) << (lb - la), "symbols {} and {}", w[0], w[1]);
        }
    }

    #[test]
    fn every_byte_round_trips_alone_and_in_pairs() {
        for a in 0..=255u8 {
            let mut enc = Vec::new();
            encode(&[a], &mut enc);
            assert_eq!(enc.len(), encoded_len(&[a]));
            let mut dec = Vec::new();
            decode(&enc, &mut dec).unwrap();
            assert_eq!(dec, [a]);
            for b in [0u8, b'a', b'0', b' ', 0xff, b'\\'] {
                let mut enc = Vec::new();
                encode(&[a, b, a], &mut enc);
                let mut dec = Vec::new();
                decode(&enc, &mut dec).unwrap();
                assert_eq!(dec, [a, b, a]);
            }
        }
    }

    #[test]
    fn long_strings_round_trip() {
        let text: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
        let mut enc = Vec::new();
        encode(&text, &mut enc);
        let mut dec = Vec::new();
        decode(&enc, &mut dec).unwrap();
        assert_eq!(dec, text);
    }

    #[test]
    fn bad_padding_and_eos_are_refused() {
        // "a" is 00011 (5 bits): padded with 3 ones is 0x1f.
        let mut dec = Vec::new();
        assert_eq!(decode(&[0x1f], &mut dec), Ok(()));
        assert_eq!(dec, b"a");
        // Padding with zeros.
        assert_eq!(decode(&[0x18], &mut Vec::new()), Err(HuffmanError::Padding));
        // A whole byte of padding (8 ones after a full symbol).
        assert_eq!(decode(&[0x1f, 0xff], &mut Vec::new()), Err(HuffmanError::Padding));
        // EOS (30 ones) padded to 32 bits.
        assert_eq!(decode(&[0xff, 0xff, 0xff, 0xff], &mut Vec::new()), Err(HuffmanError::Eos));
        // EOS followed by a symbol.
        assert_eq!(decode(&[0xff, 0xff, 0xff, 0xfc, 0x7f], &mut Vec::new()), Err(HuffmanError::Eos));
        // An empty string is fine.
        assert_eq!(decode(&[], &mut Vec::new()), Ok(()));
    }
}
