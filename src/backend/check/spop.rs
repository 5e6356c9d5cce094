//! `option spop-check`: HAProxy 2.6's health check of an SPOE agent (the
//! Stream Processing Offload Protocol, SPOP 2.0). The check sends a
//! HAPROXY-HELLO frame announcing version 2.0, its maximum frame size and
//! `healthcheck: true`; the agent must answer an AGENT-HELLO frame (FIN
//! set, stream and frame ids 0) with a supported `version` and a
//! `max-frame-size` within bounds. An AGENT-DISCONNECT frame fails the
//! check with the reason of its `status-code`. The reasons are HAProxy's
//! texts. Only the handshake: strata has no SPOE filter.

use super::expect::{Eval, error_message};
use super::program::{Expect, Proto, Step};
use super::status::{Outcome, Status};

const HAPROXY_HELLO: u8 = 1;
const AGENT_HELLO: u8 = 101;
const AGENT_DISCONNECT: u8 = 102;
const FLAG_FIN: u32 = 1;

/// SPOP data types (the low 4 bits of a type byte).
const T_BOOL: u8 = 1;
const T_INT32: u8 = 2;
const T_UINT32: u8 = 3;
const T_INT64: u8 = 4;
const T_UINT64: u8 = 5;
const T_IPV4: u8 = 6;
const T_IPV6: u8 = 7;
const T_STR: u8 = 8;
const T_BIN: u8 = 9;
const FL_TRUE: u8 = 0x10;

/// The largest frame announced and accepted: a buffer less the 4-byte
/// length, as HAProxy's `MAX_FRAME_SIZE` with the default `tune.bufsize`.
const MAX_FRAME_SIZE: u64 = 16_380;
const MIN_FRAME_SIZE: u64 = 256;

/// HAProxy's SPOE error reasons, by status code.
fn reason(code: u64) -> &'static str {
    match code {
        0 => "normal",
        1 => "I/O error",
        2 => "a timeout occurred",
        3 => "frame is too big",
        4 => "invalid frame received",
        5 => "version value not found",
        6 => "max-frame-size value not found",
        7 => "capabilities value not found",
        8 => "unsupported version",
        9 => "max-frame-size too big or too small",
        10 => "fragmentation not supported",
        11 => "invalid interlaced frames",
        12 => "frame-id not found",
        13 => "resource allocation error",
        _ => "an unknown error occurred",
    }
}

const INVALID: u64 = 4;
const NO_VSN: u64 = 5;
const NO_FRAME_SIZE: u64 = 6;
const BAD_VSN: u64 = 8;
const BAD_FRAME_SIZE: u64 = 9;
const FRAG_NOT_SUPPORTED: u64 = 10;

/// SPOP's variable-length integer: below 240 one byte; else the low 4
/// bits in a first byte ≥ 240, then 7 bits per byte while the high bit is set.
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    if v < 240 {
        out.push(v as u8);
        return;
    }
    out.push((v as u8) | 240);
    v = (v - 240) >> 4;
    while v >= 128 {
        out.push((v as u8) | 128);
        v = (v - 128) >> 7;
    }
    out.push(v as u8);
}

fn varint(p: &mut &[u8]) -> Option<u64> {
    let (&b, rest) = p.split_first()?;
    *p = rest;
    let mut v = u64::from(b);
    if v < 240 {
        return Some(v);
    }
    let mut shift = 4;
    loop {
        let (&c, rest) = p.split_first()?;
        *p = rest;
        v = v.checked_add(u64::from(c).checked_shl(shift)?)?;
        shift += 7;
        if c < 128 {
            return Some(v);
        }
        if shift > 63 {
            return None;
        }
    }
}

/// A length-prefixed byte string.
fn bytes<'a>(p: &mut &'a [u8]) -> Option<&'a [u8]> {
    let n = usize::try_from(varint(p)?).ok()?;
    if p.len() < n {
        return None;
    }
    let (b, rest) = p.split_at(n);
    *p = rest;
    Some(b)
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// The HAPROXY-HELLO frame of the check, with its 4-byte length.
pub fn hello_frame() -> Vec<u8> {
    let mut f = vec![0; 4];
    f.push(HAPROXY_HELLO);
    f.extend_from_slice(&FLAG_FIN.to_be_bytes());
    f.extend_from_slice(&[0, 0]); // stream-id, frame-id
    put_str(&mut f, b"supported-versions");
    f.push(T_STR);
    put_str(&mut f, b"2.0");
    put_str(&mut f, b"max-frame-size");
    f.push(T_UINT32);
    put_varint(&mut f, MAX_FRAME_SIZE);
    put_str(&mut f, b"capabilities");
    f.push(T_STR);
    put_str(&mut f, b"");
    put_str(&mut f, b"healthcheck");
    f.push(T_BOOL | FL_TRUE);
    let len = (f.len() - 4) as u32;
    f[..4].copy_from_slice(&len.to_be_bytes());
    f
}

/// Skips one typed value; None when it does not fit.
fn skip_value(p: &mut &[u8]) -> Option<()> {
    let (&t, rest) = p.split_first()?;
    *p = rest;
    match t & 0x0f {
        0 | T_BOOL => {}
        T_INT32 | T_UINT32 | T_INT64 | T_UINT64 => {
            varint(p)?;
        }
        T_IPV4 | T_IPV6 => {
            let n = if t & 0x0f == T_IPV4 { 4 } else { 16 };
            *p = p.get(n..)?;
        }
        T_STR | T_BIN => {
            bytes(p)?;
        }
        _ => return None,
    }
    Some(())
}

/// The frame's metadata after its type: FIN set, ids 0. Err: a status code.
fn metadata(frame: &[u8]) -> Result<&[u8], u64> {
    if frame.len() < 7 {
        return Err(INVALID);
    }
    let flags = u32::from_be_bytes([frame[1], frame[2], frame[3], frame[4]]);
    if flags & FLAG_FIN == 0 {
        return Err(FRAG_NOT_SUPPORTED);
    }
    if frame[5] != 0 || frame[6] != 0 {
        return Err(INVALID);
    }
    Ok(&frame[7..])
}

/// A typed integer value (any of the four integer types).
fn int_value(p: &mut &[u8]) -> Option<u64> {
    let (&t, rest) = p.split_first()?;
    *p = rest;
    matches!(t & 0x0f, T_INT32 | T_UINT32 | T_INT64 | T_UINT64).then_some(())?;
    varint(p)
}

/// A typed string value.
fn str_value<'a>(p: &mut &'a [u8]) -> Option<&'a [u8]> {
    let (&t, rest) = p.split_first()?;
    *p = rest;
    (t & 0x0f == T_STR).then_some(())?;
    bytes(p)
}

/// SPOP's "MAJOR.MINOR" as 1000 * MAJOR + MINOR (spaces around allowed).
fn version(s: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(s).ok()?.trim_matches(|c: char| c.is_ascii_whitespace());
    let (maj, min) = s.split_once('.')?;
    let all_digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(maj) || !all_digits(min) {
        return None;
    }
    let (maj, min) = (maj.parse::<u64>().ok()?, min.parse::<u64>().ok()?);
    (maj > 0 && min <= 999).then_some(maj * 1000 + min)
}

/// Judges an AGENT-HELLO frame (without its length); Err: a status code.
fn judge_hello(frame: &[u8]) -> Result<(), u64> {
    if frame.first() != Some(&AGENT_HELLO) {
        return Err(INVALID);
    }
    let mut p = metadata(frame)?;
    let (mut vsn, mut frame_size) = (None, None);
    while !p.is_empty() {
        let key = bytes(&mut p).filter(|k| !k.is_empty()).ok_or(INVALID)?;
        if key.starts_with(b"version") {
            let v = str_value(&mut p).ok_or(INVALID)?;
            match version(v) {
                Some(2000) => vsn = Some(2000),
                _ => return Err(BAD_VSN), // 2.0 only, as HAProxy 2.6
            }
        } else if key.starts_with(b"max-frame-size") {
            let n = int_value(&mut p).ok_or(INVALID)?;
            if !(MIN_FRAME_SIZE..=MAX_FRAME_SIZE).contains(&n) {
                return Err(BAD_FRAME_SIZE);
            }
            frame_size = Some(n);
        } else if key.starts_with(b"capabilities") {
            str_value(&mut p).ok_or(INVALID)?;
        } else {
            skip_value(&mut p).ok_or(INVALID)?; // unknown items are ignored
        }
    }
    vsn.ok_or(NO_VSN)?;
    frame_size.ok_or(NO_FRAME_SIZE)?;
    Ok(())
}

/// The status code an AGENT-DISCONNECT frame gives (0 when it has none).
fn disconnect_code(frame: &[u8]) -> u64 {
    let mut p = match metadata(frame) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let mut code = 0;
    while !p.is_empty() {
        let Some(key) = bytes(&mut p).filter(|k| !k.is_empty()) else { return INVALID };
        let ok = if key.starts_with(b"status-code") {
            int_value(&mut p).map(|c| code = c)
        } else if key.starts_with(b"message") {
            str_value(&mut p).map(drop)
        } else {
            skip_value(&mut p)
        };
        if ok.is_none() {
            return INVALID;
        }
    }
    code
}

/// The check's expect over the agent's answer `data`.
pub fn agent_hello(step: &Step, e: &Expect, data: &[u8], last_read: bool) -> Eval {
    let fail = |code: u64| {
        let info = error_message(step, e, data, false, reason(code), Proto::Protocol);
        Eval::Stop(Outcome::new(Status::L7Rsp, info))
    };
    let Some(len) = data.get(..4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize) else {
        return if last_read { fail(INVALID) } else { Eval::Wait };
    };
    if !last_read && data.len() < 4 + len {
        return Eval::Wait;
    }
    let frame = &data[4..data.len().min(4 + len)];
    let judged = if frame.first() == Some(&AGENT_DISCONNECT) {
        Err(disconnect_code(frame))
    } else {
        judge_hello(frame)
    };
    match judged {
        Err(code) => fail(code),
        Ok(()) => {
            let status = e.ok_status.map_or(Status::L7Ok, Status::from_cfg);
            // HAProxy's check then ends, clearing the text it logged.
            Eval::Passed(Outcome { info_logged_only: true, ..Outcome::new(status, "SPOA server is ok") })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or(0)).collect()
    }

    #[test]
    fn the_hello_frame_is_haproxys_82_bytes() {
        let f = hello_frame();
        assert_eq!(f.len(), 82);
        assert_eq!(&f[..4], &[0, 0, 0, 0x4e]);
        assert_eq!(&f[12..29], b"supported-version");
        assert_eq!(&f[f.len() - 13..], &hex("0b 6865616c7468636865636b 11")[..]);
        let mut p = &hex("fcf006")[..];
        assert_eq!(varint(&mut p), Some(16_380));
    }

    #[test]
    fn agent_answers_are_judged_as_haproxy_does() {
        let judge = |s: &str| {
            let d = hex(s);
            let f = &d[4..];
            if f.first() == Some(&AGENT_DISCONNECT) { Err(disconnect_code(f)) } else { judge_hello(f) }
        };
        let ok = "00000036 65 00000001 0000 0776657273696F6E 0803322E30 0E6D61782D6672616D652D73697A65 03FCF006 0C6361706162696C6974696573 0800";
        assert_eq!(judge(ok), Ok(()));
        assert_eq!(judge("00000007 65 00000000 0000"), Err(FRAG_NOT_SUPPORTED));
        assert_eq!(judge("00000014 65 00000001 0000 0776657273696F6E 0803312E30"), Err(BAD_VSN));
        assert_eq!(judge("00000007 65 00000001 0000"), Err(NO_VSN));
        assert_eq!(judge("0000000c 65 00000001 0000 0776657273696F6E 0803322E30"), Err(NO_FRAME_SIZE));
        assert_eq!(judge("00000001 01"), Err(INVALID));
        let disc = "0000001f 66 00000001 0000 0b7374617475732d636f6465 0303 076d657373616765 0800";
        assert_eq!(judge(disc), Err(3));
    }
}
