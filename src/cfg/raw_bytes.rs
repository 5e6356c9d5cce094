//! Bytes that are not UTF-8 in configuration words. Words are `String`s,
//! but a `\xHH` escape can write any byte (HAProxy reads its configuration
//! as bytes: `str(\xE0)` is the one-byte string E0). The lexer keeps each
//! byte that is not part of valid UTF-8 as one character of a private-use
//! range ([`word`]); the places that take bytes from a word (`str()`,
//! rule and log-format text) turn them back with [`raw`]. Owned by the
//! configuration reader; read by the sample and log-format parsers.

use std::borrow::Cow;

/// First character of the range: byte B (0x80..=0xFF) is `BASE + B`
/// (U+10FE80..U+10FEFF, in the supplementary private-use plane).
const BASE: u32 = 0x10_FE00;

/// A word from its bytes: valid UTF-8 as it is, each stray byte as its
/// private-use character.
pub fn word(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let bytes = e.into_bytes();
            let mut out = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                for &b in chunk.invalid() {
                    out.push(char::from_u32(BASE + u32::from(b)).unwrap_or(char::REPLACEMENT_CHARACTER));
                }
            }
            out
        }
    }
}

/// The bytes a word stands for (borrowed when it holds no stray byte).
pub fn raw(s: &str) -> Cow<'_, [u8]> {
    let stray = |c: char| (BASE + 0x80..=BASE + 0xFF).contains(&u32::from(c));
    if !s.chars().any(stray) {
        return Cow::Borrowed(s.as_bytes());
    }
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        if stray(c) {
            out.push((u32::from(c) - BASE) as u8);
        } else {
            let mut tmp = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stray_bytes_survive_the_round_trip() {
        for bytes in [&b"plain"[..], b"\xe0", b"-\xe0-", b"caf\xc3\xa9 \xff\xfe", b"\xc3"] {
            let w = word(bytes.to_vec());
            assert_eq!(&*raw(&w), bytes, "{w:?}");
        }
        assert!(matches!(raw("déjà vu"), Cow::Borrowed(_)));
        assert_eq!(word("é".as_bytes().to_vec()), "é");
    }
}
