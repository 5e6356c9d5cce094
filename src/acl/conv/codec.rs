//! Encoding converters: `base64`, `b64dec`, `ub64enc`, `ub64dec`, `hex`,
//! `hex2i`, `be2hex`, `be2dec`, `json`, `url_dec`, `url_enc`.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use super::{In, Res, arity, bytes, int_arg};
use crate::acl::fetch::SmpType;
use crate::acl::source::Sample;

/// `json`'s input reading (HAProxy's `ascii`, `utf8`, `utf8s`, `utf8p`, `utf8ps`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JsonIn {
    Ascii,
    Utf8 { skip: bool },
}

#[derive(Clone, Debug)]
pub(crate) enum CodecConv {
    Base64,
    B64dec,
    Ub64enc,
    Ub64dec,
    Hex,
    Hex2i,
    Be2hex { sep: Box<[u8]>, chunk: usize, truncate: bool },
    Be2dec { sep: Box<[u8]>, chunk: usize, truncate: bool },
    Json(JsonIn),
    UrlDec { form: bool },
    UrlEnc,
}

pub(super) fn parse(name: &str, args: &[String]) -> Option<Result<CodecConv, String>> {
    let chunked = |dec: bool| -> Result<(Box<[u8]>, usize, bool), String> {
        arity(args, usize::from(dec), 3)?;
        let sep: Box<[u8]> = args.first().map(|s| s.as_bytes().into()).unwrap_or_default();
        let chunk = int_arg(args, 1, name)?.unwrap_or(1);
        let max = if dec { 8 } else { i64::MAX };
        if chunk < 1 || chunk > max {
            return Err(format!("chunk size must be between 1 and {max}"));
        }
        let truncate = int_arg(args, 2, name)?.unwrap_or(0) != 0;
        Ok((sep, chunk as usize, truncate))
    };
    Some(match name {
        "base64" => Ok(CodecConv::Base64),
        "b64dec" => Ok(CodecConv::B64dec),
        "ub64enc" => Ok(CodecConv::Ub64enc),
        "ub64dec" => Ok(CodecConv::Ub64dec),
        "hex" => Ok(CodecConv::Hex),
        "hex2i" => Ok(CodecConv::Hex2i),
        "be2hex" => chunked(false).map(|(sep, chunk, truncate)| CodecConv::Be2hex { sep, chunk, truncate }),
        "be2dec" => chunked(true).map(|(sep, chunk, truncate)| CodecConv::Be2dec { sep, chunk, truncate }),
        "json" => match args.first().map(String::as_str).unwrap_or("") {
            "" | "ascii" => Ok(CodecConv::Json(JsonIn::Ascii)),
            "utf8" | "utf8p" => Ok(CodecConv::Json(JsonIn::Utf8 { skip: false })),
            "utf8s" | "utf8ps" => Ok(CodecConv::Json(JsonIn::Utf8 { skip: true })),
            other => Err(format!(
                "Unexpected input code type '{other}'. Allowed value are 'ascii', 'utf8', 'utf8s', 'utf8p' and 'utf8ps'"
            )),
        },
        "url_dec" => int_arg(args, 0, name).map(|f| CodecConv::UrlDec { form: f.unwrap_or(0) != 0 }),
        "url_enc" => match args.first().map(String::as_str).unwrap_or("query") {
            "query" => Ok(CodecConv::UrlEnc),
            other => Err(format!("Unexpected encode type '{other}'. Allowed value is 'query'")),
        },
        _ => return None,
    })
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

impl CodecConv {
    pub(super) fn input(&self) -> In {
        match self {
            CodecConv::Base64 | CodecConv::Ub64enc | CodecConv::Hex => In::Bin,
            CodecConv::Be2hex { .. } | CodecConv::Be2dec { .. } => In::Bin,
            _ => In::Str,
        }
    }

    pub(super) fn output(&self) -> SmpType {
        match self {
            CodecConv::B64dec | CodecConv::Ub64dec => SmpType::Bin,
            CodecConv::Hex2i => SmpType::Int,
            _ => SmpType::Str,
        }
    }

    pub(super) fn apply(&self, s: Sample<'_>, out: &mut Vec<u8>) -> Option<Res> {
        let b = bytes(&s);
        match self {
            CodecConv::Base64 => encode(&STANDARD, b, out, true)?,
            CodecConv::Ub64enc => encode(&URL_SAFE_NO_PAD, b, out, false)?,
            CodecConv::B64dec => {
                STANDARD.decode_vec(b, out).ok()?;
                return Some(Res::Bin);
            }
            CodecConv::Ub64dec => {
                let trimmed = b.strip_suffix(b"==").or_else(|| b.strip_suffix(b"=")).unwrap_or(b);
                URL_SAFE_NO_PAD.decode_vec(trimmed, out).ok()?;
                return Some(Res::Bin);
            }
            CodecConv::Hex => {
                for &c in b {
                    out.extend_from_slice(&[HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]);
                }
            }
            CodecConv::Hex2i => {
                let mut v: i64 = 0;
                for &c in b {
                    let d = (c as char).to_digit(16)?;
                    v = v.wrapping_mul(16).wrapping_add(i64::from(d));
                }
                return Some(Res::Int(v));
            }
            CodecConv::Be2hex { sep, chunk, truncate } => {
                for (i, part) in b.chunks(*chunk).enumerate() {
                    if *truncate && part.len() < *chunk {
                        break;
                    }
                    if i > 0 {
                        out.extend_from_slice(sep);
                    }
                    for &c in part {
                        out.extend_from_slice(&[HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]);
                    }
                }
            }
            CodecConv::Be2dec { sep, chunk, truncate } => {
                use std::io::Write;
                for (i, part) in b.chunks(*chunk).enumerate() {
                    if *truncate && part.len() < *chunk {
                        break;
                    }
                    if i > 0 {
                        out.extend_from_slice(sep);
                    }
                    let v = part.iter().fold(0u64, |acc, &c| (acc << 8) | u64::from(c));
                    let _ = write!(out, "{v}");
                }
            }
            CodecConv::Json(how) => json(b, *how, out)?,
            CodecConv::UrlDec { form } => url_dec(b, *form, out)?,
            CodecConv::UrlEnc => {
                for &c in b {
                    if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
                        out.push(c);
                    } else {
                        out.extend_from_slice(&[b'%', HEX[usize::from(c >> 4)], HEX[usize::from(c & 15)]]);
                    }
                }
            }
        }
        Some(Res::Str)
    }
}

/// Base64 of `b` appended to `out`, without a temporary string.
fn encode(engine: &impl Engine, b: &[u8], out: &mut Vec<u8>, pad: bool) -> Option<()> {
    let start = out.len();
    out.resize(start + base64::encoded_len(b.len(), pad)?, 0);
    let n = engine.encode_slice(b, &mut out[start..]).ok()?;
    out.truncate(start + n);
    Some(())
}

/// JSON string escaping as HAProxy's `json` converter does it.
fn json(b: &[u8], how: JsonIn, out: &mut Vec<u8>) -> Option<()> {
    let put = |c: u32, out: &mut Vec<u8>| match c {
        0x22 => out.extend_from_slice(b"\\\""),
        0x5c => out.extend_from_slice(b"\\\\"),
        0x2f => out.extend_from_slice(b"\\/"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        0x0d => out.extend_from_slice(b"\\r"),
        0x0a => out.extend_from_slice(b"\\n"),
        0x09 => out.extend_from_slice(b"\\t"),
        0x20..=0x7e => out.push(c as u8),
        _ => {
            use std::io::Write;
            let _ = write!(out, "\\u{c:04x}");
        }
    };
    match how {
        JsonIn::Ascii => b.iter().for_each(|&c| put(u32::from(c), out)),
        JsonIn::Utf8 { skip } => {
            for chunk in b.utf8_chunks() {
                for ch in chunk.valid().chars() {
                    let c = u32::from(ch);
                    if c > 0xffff {
                        if !skip {
                            return None;
                        }
                        continue;
                    }
                    put(c, out);
                }
                if !chunk.invalid().is_empty() && !skip {
                    return None;
                }
            }
        }
    }
    Some(())
}

/// `%XX` decoding, `+` as a space in form mode or after a `?` (HAProxy's
/// `url_decode`); a bad escape fails.
fn url_dec(b: &[u8], form: bool, out: &mut Vec<u8>) -> Option<()> {
    let mut form = form;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hi = (*b.get(i + 1)? as char).to_digit(16)?;
                let lo = (*b.get(i + 2)? as char).to_digit(16)?;
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
            b'+' if form => out.push(b' '),
            b'?' => {
                form = true; // a query string follows: `+` is a space there
                out.push(b'?');
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(())
}
