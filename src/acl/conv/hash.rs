//! Hash converters: `djb2`, `sdbm`, `wt6`, `crc32`, `crc32c` (optionally
//! avalanched), `xxh32`, `xxh64`, `xxh3` (optional seed), `sha1`,
//! `sha2([bits])`, `hmac(alg,key)`, `digest(alg)`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use sha2::Digest;

use super::{In, Res, arity, bytes, int_arg};
use crate::acl::fetch::SmpType;
use crate::acl::source::{Sample, SampleSource};
use crate::acl::vars::VarName;

/// The integer hashes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntHash {
    Djb2,
    Sdbm,
    Wt6,
    Crc32,
    Crc32c,
    Xxh32,
    Xxh64,
    Xxh3,
}

/// Digest algorithms of `sha2`, `hmac` and `digest`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Alg {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Alg {
    fn from_name(name: &str) -> Option<Alg> {
        Some(match name.to_ascii_lowercase().as_str() {
            "sha1" => Alg::Sha1,
            "sha224" => Alg::Sha224,
            "sha256" => Alg::Sha256,
            "sha384" => Alg::Sha384,
            "sha512" => Alg::Sha512,
            _ => return None,
        })
    }
}

/// Where `hmac`'s key comes from: base64 text given inline, or a variable holding it.
#[derive(Clone, Debug)]
pub(crate) enum Key {
    Inline(Vec<u8>),
    Var(VarName),
}

#[derive(Clone, Debug)]
pub(crate) enum HashConv {
    Int { f: IntHash, arg: i64 }, // avalanche flag (djb2..crc32c) or seed (xxh*)
    Digest(Alg),
    Hmac { alg: Alg, key: Key },
}

pub(super) fn parse(name: &str, args: &[String]) -> Option<Result<HashConv, String>> {
    let int = |f| {
        arity(args, 0, 1)?;
        Ok(HashConv::Int { f, arg: int_arg(args, 0, name)?.unwrap_or(0) })
    };
    Some(match name {
        "djb2" => int(IntHash::Djb2),
        "sdbm" => int(IntHash::Sdbm),
        "wt6" => int(IntHash::Wt6),
        "crc32" => int(IntHash::Crc32),
        "crc32c" => int(IntHash::Crc32c),
        "xxh32" => int(IntHash::Xxh32),
        "xxh64" => int(IntHash::Xxh64),
        "xxh3" => int(IntHash::Xxh3),
        "sha1" => Ok(HashConv::Digest(Alg::Sha1)),
        "sha2" => (|| {
            arity(args, 0, 1)?;
            Ok(HashConv::Digest(match int_arg(args, 0, name)?.unwrap_or(256) {
                224 => Alg::Sha224,
                256 => Alg::Sha256,
                384 => Alg::Sha384,
                512 => Alg::Sha512,
                b => return Err(format!("Unsupported number of bits: '{b}'.")),
            }))
        })(),
        "digest" => (|| {
            arity(args, 1, 1)?;
            Alg::from_name(&args[0]).map(HashConv::Digest).ok_or(format!("unknown digest '{}'", args[0]))
        })(),
        "hmac" => (|| {
            arity(args, 2, 2)?;
            let alg = Alg::from_name(&args[0]).ok_or(format!("unknown digest '{}'", args[0]))?;
            let key = if args[1].contains('.') && VarName::parse(&args[1]).is_ok() {
                Key::Var(VarName::parse(&args[1])?)
            } else {
                Key::Inline(STANDARD.decode(&args[1]).map_err(|_| "key is not valid base64".to_string())?)
            };
            Ok(HashConv::Hmac { alg, key })
        })(),
        _ => return None,
    })
}

impl HashConv {
    pub(super) fn input(&self) -> In {
        In::Bin
    }

    pub(super) fn output(&self) -> SmpType {
        match self {
            HashConv::Int { .. } => SmpType::Int,
            _ => SmpType::Bin,
        }
    }

    pub(super) fn apply(&self, s: Sample<'_>, out: &mut Vec<u8>, src: &dyn SampleSource) -> Option<Res> {
        let b = bytes(&s);
        match self {
            HashConv::Int { f, arg } => Some(Res::Int(int_hash(*f, *arg, b))),
            HashConv::Digest(alg) => {
                digest(*alg, b, out);
                Some(Res::Bin)
            }
            HashConv::Hmac { alg, key } => {
                let key = match key {
                    Key::Inline(k) => k.clone(),
                    Key::Var(v) => {
                        let mut text = Vec::new();
                        if !crate::acl::value::with_var_text(src, v, |t| text.extend_from_slice(t)) {
                            return None;
                        }
                        STANDARD.decode(&text).ok()?
                    }
                };
                hmac(*alg, &key, b, out)?;
                Some(Res::Bin)
            }
        }
    }
}

fn int_hash(f: IntHash, arg: i64, b: &[u8]) -> i64 {
    let h32 = match f {
        IntHash::Djb2 => b.iter().fold(5381u32, |h, &c| (h << 5).wrapping_add(h).wrapping_add(u32::from(c))),
        IntHash::Sdbm => b
            .iter()
            .fold(0u32, |h, &c| u32::from(c).wrapping_add(h << 6).wrapping_add(h << 16).wrapping_sub(h)),
        IntHash::Wt6 => wt6(b),
        IntHash::Crc32 => crc32fast::hash(b),
        IntHash::Crc32c => crc32c(b),
        IntHash::Xxh32 => return i64::from(xxhash_rust::xxh32::xxh32(b, arg as u32)),
        IntHash::Xxh64 => return xxhash_rust::xxh64::xxh64(b, arg as u64) as i64,
        IntHash::Xxh3 => return xxhash_rust::xxh3::xxh3_64_with_seed(b, arg as u64) as i64,
    };
    i64::from(if arg != 0 { full_hash(h32) } else { h32 })
}

/// HAProxy's `hash_wt6`.
fn wt6(b: &[u8]) -> u32 {
    let (mut h0, mut h1) = (0xa53c_965au32, 0x5ca6_953au32);
    let (mut step0, mut step1) = (6u32, 18u32);
    for &c in b {
        let t = u32::from(c);
        h0 = !(h0 ^ t);
        h1 = !(h1.wrapping_add(t));
        let t = h1.rotate_left(step0);
        h1 = h0.rotate_left(step1);
        h0 = t;
        let t = ((h0 >> 16) ^ h1) & 0xffff;
        step0 = t & 0x1f;
        step1 = t >> 11;
    }
    h0 ^ h1
}

/// Bob Jenkins' 32-bit avalanche, as HAProxy's `full_hash` applies it.
fn full_hash(a: u32) -> u32 {
    let mut a = a;
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    a.wrapping_mul(3_221_225_473)
}

/// CRC-32C (Castagnoli, RFC 4960 appendix B), table built at compile time.
fn crc32c(b: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut t = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 { 0x82f6_3b78 ^ (c >> 1) } else { c >> 1 };
                k += 1;
            }
            t[i] = c;
            i += 1;
        }
        t
    };
    !b.iter().fold(!0u32, |crc, &c| (crc >> 8) ^ TABLE[((crc ^ u32::from(c)) & 0xff) as usize])
}

fn digest(alg: Alg, b: &[u8], out: &mut Vec<u8>) {
    match alg {
        Alg::Sha1 => out.extend_from_slice(&sha1::Sha1::digest(b)),
        Alg::Sha224 => out.extend_from_slice(&sha2::Sha224::digest(b)),
        Alg::Sha256 => out.extend_from_slice(&sha2::Sha256::digest(b)),
        Alg::Sha384 => out.extend_from_slice(&sha2::Sha384::digest(b)),
        Alg::Sha512 => out.extend_from_slice(&sha2::Sha512::digest(b)),
    }
}

fn hmac(alg: Alg, key: &[u8], b: &[u8], out: &mut Vec<u8>) -> Option<()> {
    macro_rules! run {
        ($d:ty) => {{
            let mut m = hmac::Hmac::<$d>::new_from_slice(key).ok()?;
            m.update(b);
            out.extend_from_slice(&m.finalize().into_bytes());
        }};
    }
    match alg {
        Alg::Sha1 => run!(sha1::Sha1),
        Alg::Sha224 => run!(sha2::Sha224),
        Alg::Sha256 => run!(sha2::Sha256),
        Alg::Sha384 => run!(sha2::Sha384),
        Alg::Sha512 => run!(sha2::Sha512),
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_of_bytes_0_to_255_as_haproxy() {
        // sample_fetches/hashes.vtc: the 256 bytes 0x00..0xff.
        let b: Vec<u8> = (0..=255).collect();
        assert_eq!(int_hash(IntHash::Crc32, 0, &b), 688_229_491);
        assert_eq!(int_hash(IntHash::Crc32, 1, &b), 4_230_317_029);
        assert_eq!(int_hash(IntHash::Crc32c, 0, &b), 2_621_708_363);
        assert_eq!(int_hash(IntHash::Crc32c, 1, &b), 2_242_979_626);
        assert_eq!(int_hash(IntHash::Djb2, 0, &b), 2_589_693_061);
        assert_eq!(int_hash(IntHash::Djb2, 1, &b), 600_622_701);
        assert_eq!(int_hash(IntHash::Sdbm, 0, &b), 905_707_648);
        assert_eq!(int_hash(IntHash::Sdbm, 1, &b), 3_103_804_144);
        assert_eq!(int_hash(IntHash::Wt6, 0, &b), 4_090_277_559);
        assert_eq!(int_hash(IntHash::Wt6, 1, &b), 1_192_658_767);
        assert_eq!(int_hash(IntHash::Xxh3, 0, &b), -7_779_787_747_613_135_503);
        assert_eq!(int_hash(IntHash::Xxh3, 1, &b), 5_930_632_130_106_562_027);
        assert_eq!(int_hash(IntHash::Xxh32, 0, &b), 1_497_633_363);
        assert_eq!(int_hash(IntHash::Xxh32, 1, &b), 1_070_421_674);
        assert_eq!(int_hash(IntHash::Xxh64, 0, &b), 2_282_408_585_429_094_475);
        assert_eq!(int_hash(IntHash::Xxh64, 1, &b), -4_689_339_368_900_765_961);
    }
}
