//! Stick-table keys.
//!
//! A table has one [`KeyType`]; every key it stores has the same fixed size
//! (`ip` 4 bytes, `ipv6` 16, `integer` 4, `string`/`binary` `len`). The caller
//! hands in a [`Key`] (what a sample fetch produced); the table converts it to
//! its own type ([`KeyType::normalize`]) and stores the bytes. A
//! [`StoredKey`] is a copy of such bytes, printable as `show table` prints it.
//!
//! Stored forms, chosen so that byte order is HAProxy's dump order:
//! - `ip`: the 4 address bytes (network order);
//! - `ipv6`: the 16 address bytes; an IPv4 key becomes `::ffff:a.b.c.d`;
//! - `integer`: the value big-endian (so byte order is numeric order);
//! - `string`: the text truncated to `len` and at the first NUL, zero-padded
//!   to `len` (HAProxy compares strings as C strings, so a NUL ends them);
//! - `binary`: the bytes truncated or zero-padded to exactly `len`.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use smallvec::SmallVec;

/// Default `len` of `binary` keys, and the default storage of `string`
/// keys, which includes HAProxy's terminating NUL: a `string` table without
/// `len` keeps 31 characters, one with `len 32` keeps 32.
pub const DEFAULT_KEY_LEN: u32 = 32;

/// Inline capacity of a key buffer: ip, ipv6 and integer keys never allocate.
pub(crate) type KeyBytes = SmallVec<[u8; 16]>;

/// The key type of a table (`stick-table type <keytype> [len <n>]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    Ip,                  // IPv4 address
    Ipv6,                // IPv6 address (IPv4 stored mapped)
    Integer,             // unsigned 32-bit
    String { len: u32 }, // text, at most `len` bytes
    Binary { len: u32 }, // exactly `len` bytes
}

/// A key as the caller has it, before conversion to a table's key type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key<'a> {
    Ip(Ipv4Addr),
    Ipv6(Ipv6Addr),
    Integer(u32),
    Str(&'a [u8]),
    Bin(&'a [u8]),
}

/// Why a CLI key text was refused (texts are HAProxy's, see `dump`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyTextError {
    Invalid,     // `Invalid key`
    Unsupported, // binary tables: keys cannot be given as text
}

impl KeyType {
    /// Builds a key type from the config words `type <name> [len <n>]`.
    /// `len` is only meaningful for `string` and `binary`.
    pub fn from_name(name: &str, len: Option<u32>) -> Result<KeyType, String> {
        let len_or_default = |len: Option<u32>, default: u32| match len {
            Some(0) => Err(format!("invalid length 0 for key type '{name}'")),
            Some(n) => Ok(n),
            None => Ok(default),
        };
        match name {
            "ip" => Ok(KeyType::Ip),
            "ipv6" => Ok(KeyType::Ipv6),
            "integer" => Ok(KeyType::Integer),
            "string" => Ok(KeyType::String { len: len_or_default(len, DEFAULT_KEY_LEN - 1)? }),
            "binary" => Ok(KeyType::Binary { len: len_or_default(len, DEFAULT_KEY_LEN)? }),
            _ => Err(format!("unknown key type '{name}'")),
        }
    }

    /// The name `show table` prints after `type:`.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Ip => "ip",
            KeyType::Ipv6 => "ipv6",
            KeyType::Integer => "integer",
            KeyType::String { .. } => "string",
            KeyType::Binary { .. } => "binary",
        }
    }

    /// Bytes one stored key takes.
    pub fn key_size(self) -> usize {
        match self {
            KeyType::Ip | KeyType::Integer => 4,
            KeyType::Ipv6 => 16,
            KeyType::String { len } | KeyType::Binary { len } => len as usize,
        }
    }

    /// Converts a sample to this key type, as HAProxy's sample casts do;
    /// `None` when the sample cannot be a key of this table (the caller then
    /// goes on untracked).
    pub fn normalize(self, key: Key<'_>) -> Option<StoredKey> {
        let mut out = KeyBytes::new();
        match (self, key) {
            (KeyType::Ip, Key::Ip(a)) => out.extend_from_slice(&a.octets()),
            (KeyType::Ip, Key::Ipv6(a)) => out.extend_from_slice(&a.to_ipv4_mapped()?.octets()),
            (KeyType::Ip, Key::Integer(n)) => out.extend_from_slice(&n.to_be_bytes()),
            (KeyType::Ip, Key::Str(s)) => {
                let a: Ipv4Addr = std::str::from_utf8(s).ok()?.parse().ok()?;
                out.extend_from_slice(&a.octets());
            }
            (KeyType::Ipv6, Key::Ip(a)) => out.extend_from_slice(&a.to_ipv6_mapped().octets()),
            (KeyType::Ipv6, Key::Ipv6(a)) => out.extend_from_slice(&a.octets()),
            (KeyType::Ipv6, Key::Str(s)) => {
                let a: Ipv6Addr = std::str::from_utf8(s).ok()?.parse().ok()?;
                out.extend_from_slice(&a.octets());
            }
            (KeyType::Integer, Key::Integer(n)) => out.extend_from_slice(&n.to_be_bytes()),
            (KeyType::Integer, Key::Ip(a)) => out.extend_from_slice(&a.octets()),
            (KeyType::Integer, Key::Str(s)) => {
                let n = parse_u32_strict(std::str::from_utf8(s).ok()?)?;
                out.extend_from_slice(&n.to_be_bytes());
            }
            (KeyType::String { len }, key) => {
                let text: KeyBytes = match key {
                    Key::Str(s) | Key::Bin(s) => KeyBytes::from_slice(s),
                    Key::Ip(a) => KeyBytes::from_slice(a.to_string().as_bytes()),
                    Key::Ipv6(a) => KeyBytes::from_slice(a.to_string().as_bytes()),
                    Key::Integer(n) => KeyBytes::from_slice(n.to_string().as_bytes()),
                };
                let end = text.iter().position(|&b| b == 0).unwrap_or(text.len()).min(len as usize);
                out.extend_from_slice(&text[..end]);
                out.resize(len as usize, 0);
            }
            (KeyType::Binary { len }, key) => {
                match key {
                    Key::Str(s) | Key::Bin(s) => out.extend_from_slice(&s[..s.len().min(len as usize)]),
                    Key::Ip(a) => out.extend_from_slice(&a.octets()),
                    Key::Ipv6(a) => out.extend_from_slice(&a.octets()),
                    Key::Integer(n) => out.extend_from_slice(&u64::from(n).to_be_bytes()),
                }
                out.truncate(len as usize);
                out.resize(len as usize, 0);
            }
            (KeyType::Ip | KeyType::Ipv6 | KeyType::Integer, _) => return None,
        }
        Some(StoredKey { ty: self, bytes: out })
    }

    /// Parses a key typed on the CLI (`show|set|clear table T key K`).
    ///
    /// strata is strict where HAProxy 2.6.12 is lenient: HAProxy turns
    /// `not-an-ip` into `0.0.0.0` for an `ip` table and reads `12abc` as 12
    /// for an `integer` table; strata answers `Invalid key` for both (later
    /// HAProxy versions do the same for IPv4). Integers are decimal digits
    /// only, 0 to 2^32-1. String keys are taken as typed (truncated to
    /// `len`). Binary tables refuse keys given as text, as HAProxy does.
    pub fn parse_text(self, text: &str) -> Result<StoredKey, KeyTextError> {
        let key = match self {
            KeyType::Ip => Key::Ip(text.parse().map_err(|_| KeyTextError::Invalid)?),
            KeyType::Ipv6 => Key::Ipv6(text.parse().map_err(|_| KeyTextError::Invalid)?),
            KeyType::Integer => Key::Integer(parse_u32_strict(text).ok_or(KeyTextError::Invalid)?),
            KeyType::String { .. } => Key::Str(text.as_bytes()),
            KeyType::Binary { .. } => return Err(KeyTextError::Unsupported),
        };
        self.normalize(key).ok_or(KeyTextError::Invalid)
    }
}

/// Decimal digits only, no sign, no spaces, at most `u32::MAX`.
fn parse_u32_strict(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A key in a table's stored form. Ordered as `show table` lists entries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StoredKey {
    ty: KeyType,     // the table's key type
    bytes: KeyBytes, // exactly `ty.key_size()` bytes
}

impl StoredKey {
    /// Rebuilds a key from stored bytes (the table's side).
    pub(crate) fn from_stored(ty: KeyType, bytes: &[u8]) -> StoredKey {
        StoredKey { ty, bytes: KeyBytes::from_slice(bytes) }
    }

    pub fn key_type(&self) -> KeyType {
        self.ty
    }

    /// The stored bytes (fixed size for the key type).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The key as a sample, to look it up in another table
    /// (`sc0_conn_cur(othertable)`).
    pub fn as_key(&self) -> Key<'_> {
        let b = &self.bytes[..];
        match self.ty {
            KeyType::Ip => Key::Ip(Ipv4Addr::new(b[0], b[1], b[2], b[3])),
            KeyType::Ipv6 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(b);
                Key::Ipv6(Ipv6Addr::from(a))
            }
            KeyType::Integer => Key::Integer(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
            KeyType::String { .. } => {
                let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
                Key::Str(&b[..end])
            }
            KeyType::Binary { .. } => Key::Bin(b),
        }
    }
}

impl PartialOrd for StoredKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for StoredKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.bytes.cmp(&other.bytes)
    }
}

/// Formats stored key bytes as `show table` does after `key=`.
pub(crate) fn fmt_key(ty: KeyType, b: &[u8], out: &mut String) {
    use fmt::Write;
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    match ty {
        KeyType::Ip => {
            let _ = write!(out, "{}", Ipv4Addr::new(b[0], b[1], b[2], b[3]));
        }
        KeyType::Ipv6 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            fmt_ipv6(Ipv6Addr::from(a), out);
        }
        KeyType::Integer => {
            let _ = write!(out, "{}", u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        }
        KeyType::String { .. } => {
            // HAProxy's dump_text(): printable ASCII as is except `\`, space
            // and `=`; \t \n \r \e \\ \  \= escaped; anything else as \xHH.
            for &c in b.iter().take_while(|&&c| c != 0) {
                match c {
                    b'\\' | b' ' | b'=' => {
                        out.push('\\');
                        out.push(c as char);
                    }
                    b'\t' => out.push_str("\\t"),
                    b'\n' => out.push_str("\\n"),
                    b'\r' => out.push_str("\\r"),
                    0x1b => out.push_str("\\e"),
                    0x21..=0x7e => out.push(c as char),
                    _ => {
                        out.push_str("\\x");
                        out.push(HEX[usize::from(c >> 4)] as char);
                        out.push(HEX[usize::from(c & 0xf)] as char);
                    }
                }
            }
        }
        KeyType::Binary { .. } => {
            for &c in b {
                out.push(HEX[usize::from(c >> 4)] as char);
                out.push(HEX[usize::from(c & 0xf)] as char);
            }
        }
    }
}

/// `inet_ntop(AF_INET6)` as glibc writes it: Rust's `Display` agrees except
/// for the deprecated IPv4-compatible form `::a.b.c.d`.
fn fmt_ipv6(a: Ipv6Addr, out: &mut String) {
    use fmt::Write;
    let s = a.segments();
    if s[..6].iter().all(|&w| w == 0) && s[6] != 0 {
        let o = a.octets();
        let _ = write!(out, "::{}", Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    } else {
        let _ = write!(out, "{a}");
    }
}

impl fmt::Display for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        fmt_key(self.ty, &self.bytes, &mut s);
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(ty: KeyType, key: Key<'_>) -> String {
        ty.normalize(key).map(|k| k.to_string()).unwrap_or_else(|| "<none>".into())
    }

    #[test]
    fn stick_key_formats_as_haproxy() {
        let lo = Ipv4Addr::LOCALHOST;
        assert_eq!(shown(KeyType::Ip, Key::Ip(lo)), "127.0.0.1");
        assert_eq!(shown(KeyType::Ipv6, Key::Ip(lo)), "::ffff:127.0.0.1");
        assert_eq!(shown(KeyType::Ipv6, Key::Ipv6(Ipv6Addr::LOCALHOST)), "::1");
        assert_eq!(shown(KeyType::Ipv6, Key::Ipv6("::1.2.3.4".parse().unwrap())), "::1.2.3.4");
        assert_eq!(shown(KeyType::Integer, Key::Integer(42)), "42");
        assert_eq!(shown(KeyType::String { len: 16 }, Key::Str(b"a\tb")), "a\\tb");
        assert_eq!(shown(KeyType::String { len: 16 }, Key::Str(b"x y=z\\\x01\x1b")), "x\\ y\\=z\\\\\\x01\\e");
        assert_eq!(shown(KeyType::Binary { len: 8 }, Key::Bin(b"ABC")), "4142430000000000");
    }

    #[test]
    fn stick_key_truncates_and_pads() {
        let s = KeyType::String { len: 4 }.normalize(Key::Str(b"abcdefgh")).unwrap();
        assert_eq!(s.bytes(), b"abcd");
        assert_eq!(s.to_string(), "abcd");
        let s = KeyType::String { len: 4 }.normalize(Key::Str(b"ab\0cd")).unwrap();
        assert_eq!(s.bytes(), b"ab\0\0");
        assert_eq!(s.as_key(), Key::Str(b"ab"));
        let b = KeyType::Binary { len: 2 }.normalize(Key::Bin(b"ABC")).unwrap();
        assert_eq!(b.to_string(), "4142");
        assert_eq!(KeyType::String { len: DEFAULT_KEY_LEN }.key_size(), 32);
    }

    /// HAProxy 2.6.12 (checked on loopback): `type string` without `len`
    /// keeps 31 characters of a 40-character key, `len 32` keeps 32; strata
    /// kept 32 for both.
    #[test]
    fn stick_key_default_string_len_is_haproxys() {
        assert_eq!(KeyType::from_name("string", None), Ok(KeyType::String { len: 31 }));
        assert_eq!(KeyType::from_name("string", Some(32)), Ok(KeyType::String { len: 32 }));
        assert_eq!(KeyType::from_name("binary", None), Ok(KeyType::Binary { len: 32 }));
    }

    #[test]
    fn stick_key_conversions() {
        let mapped = Key::Ipv6(Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped());
        assert_eq!(shown(KeyType::Ip, mapped), "10.0.0.1");
        assert_eq!(shown(KeyType::Ip, Key::Ipv6(Ipv6Addr::LOCALHOST)), "<none>");
        assert_eq!(shown(KeyType::Integer, Key::Bin(b"x")), "<none>");
        assert_eq!(shown(KeyType::String { len: 32 }, Key::Ip(Ipv4Addr::LOCALHOST)), "127.0.0.1");
    }

    #[test]
    fn stick_key_cli_text_is_strict() {
        assert_eq!(KeyType::Ip.parse_text("not-an-ip"), Err(KeyTextError::Invalid));
        assert_eq!(KeyType::Ipv6.parse_text("nonsense"), Err(KeyTextError::Invalid));
        assert_eq!(KeyType::Integer.parse_text("-1"), Err(KeyTextError::Invalid));
        assert_eq!(KeyType::Integer.parse_text("4294967296"), Err(KeyTextError::Invalid));
        assert_eq!(KeyType::Integer.parse_text("12abc"), Err(KeyTextError::Invalid));
        assert_eq!(KeyType::Integer.parse_text("4294967295").unwrap().to_string(), "4294967295");
        assert_eq!(KeyType::Binary { len: 8 }.parse_text("00"), Err(KeyTextError::Unsupported));
        assert_eq!(KeyType::Ipv6.parse_text("::1").unwrap().to_string(), "::1");
    }

    #[test]
    fn stick_key_order_is_numeric() {
        let k = |s: &str| KeyType::Ip.parse_text(s).unwrap();
        assert!(k("10.0.0.9") < k("127.0.0.0"));
        assert!(k("127.0.0.1") < k("200.0.0.1"));
        let i = |n| KeyType::Integer.normalize(Key::Integer(n)).unwrap();
        assert!(i(7) < i(42));
    }
}
