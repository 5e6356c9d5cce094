//! Message framing (`doc/peers-v2.0.txt`, section IV): two bytes, class
//! and type; a type of 128 or more is followed by a variable-length
//! payload length and the payload.

use super::varint;

/// Message classes.
pub const CLASS_CONTROL: u8 = 0;
pub const CLASS_ERROR: u8 = 1;
pub const CLASS_STKT: u8 = 10;
pub const CLASS_RESERVED: u8 = 255;

/// Control message types.
pub const CTRL_RESYNC_REQUEST: u8 = 0;
pub const CTRL_RESYNC_FINISHED: u8 = 1;
pub const CTRL_RESYNC_PARTIAL: u8 = 2;
pub const CTRL_RESYNC_CONFIRM: u8 = 3;
pub const CTRL_HEARTBEAT: u8 = 4;

/// Error message types.
pub const ERR_PROTOCOL: u8 = 0;
pub const ERR_SIZE_LIMIT: u8 = 1;

/// Stick-table message types.
pub const STKT_UPDATE: u8 = 0x80;
pub const STKT_INCUPDATE: u8 = 0x81;
pub const STKT_DEFINE: u8 = 0x82;
pub const STKT_SWITCH: u8 = 0x83;
pub const STKT_ACK: u8 = 0x84;
pub const STKT_UPDATE_TIMED: u8 = 0x85;
pub const STKT_INCUPDATE_TIMED: u8 = 0x86;

/// The longest payload length encoding HAProxy reads (a 32-bit varint).
const LENGTH_MAX_BYTES: usize = 5;

/// One received message, borrowing its payload from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    pub class: u8,
    pub kind: u8,
    pub payload: &'a [u8], // empty for types below 128
}

/// Why the input cannot be read as messages; the connection ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The payload length is not a valid number (HAProxy: protocol error).
    BadLength,
    /// The payload is longer than the receiver accepts (HAProxy answers
    /// the "size limit reached" error message).
    TooLarge(u64),
}

/// Reads the message at the front of `buf`. `Ok(None)` when it is not
/// complete yet; `Ok(Some((frame, n)))` with the bytes it takes.
pub fn read(buf: &[u8], max_payload: usize) -> Result<Option<(Frame<'_>, usize)>, FrameError> {
    let [class, kind, rest @ ..] = buf else { return Ok(None) };
    if kind & 0x80 == 0 {
        return Ok(Some((Frame { class: *class, kind: *kind, payload: &[] }, 2)));
    }
    let (len, n) = match varint::get(rest) {
        Ok(v) => v,
        Err(varint::VarintError::Truncated) if rest.len() < LENGTH_MAX_BYTES => return Ok(None),
        Err(_) => return Err(FrameError::BadLength),
    };
    if n > LENGTH_MAX_BYTES {
        return Err(FrameError::BadLength);
    }
    if len > max_payload as u64 {
        return Err(FrameError::TooLarge(len));
    }
    let len = len as usize;
    let Some(payload) = rest.get(n..n + len) else { return Ok(None) };
    Ok(Some((Frame { class: *class, kind: *kind, payload }, 2 + n + len)))
}

/// Appends a message without payload.
pub fn put_short(out: &mut Vec<u8>, class: u8, kind: u8) {
    out.extend_from_slice(&[class, kind]);
}

/// Appends a message with `payload`.
pub fn put_long(out: &mut Vec<u8>, class: u8, kind: u8, payload: &[u8]) {
    out.extend_from_slice(&[class, kind]);
    varint::put(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

/// Appends a message whose payload `fill` writes in place (no copy of the
/// payload: the length is written in front of it afterwards, moving it by
/// the length's size when that is more than one byte).
pub fn put_with(out: &mut Vec<u8>, class: u8, kind: u8, fill: impl FnOnce(&mut Vec<u8>)) {
    out.extend_from_slice(&[class, kind, 0]);
    let start = out.len();
    fill(out);
    let len = (out.len() - start) as u64;
    let n = varint::len(len);
    if n > 1 {
        out.splice(start - 1..start, std::iter::repeat_n(0, n));
    }
    let mut head = Vec::with_capacity(n);
    varint::put(&mut head, len);
    out[start - 1..start - 1 + n].copy_from_slice(&head);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_frames_split_and_wait() {
        // golden P1: resync request then resync confirm, then an update
        let mut b = vec![0x00, 0x00, 0x00, 0x03, 0x0a, 0x80, 0x02, 0xaa];
        let (f, n) = read(&b, 16384).unwrap().unwrap();
        assert_eq!((f.class, f.kind, n), (CLASS_CONTROL, CTRL_RESYNC_REQUEST, 2));
        let (f, n) = read(&b[2..], 16384).unwrap().unwrap();
        assert_eq!((f.class, f.kind, n), (CLASS_CONTROL, CTRL_RESYNC_CONFIRM, 2));
        assert_eq!(read(&b[4..], 16384), Ok(None)); // one payload byte missing
        b.push(0xbb);
        let (f, n) = read(&b[4..], 16384).unwrap().unwrap();
        assert_eq!((f.kind, f.payload, n), (STKT_UPDATE, &[0xaa, 0xbb][..], 5));
        assert_eq!(read(&[0x0a], 16384), Ok(None));
    }

    #[test]
    fn peers_frames_refuse_bad_and_large_lengths() {
        assert_eq!(
            read(&[0x0a, 0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 16384),
            Err(FrameError::BadLength)
        );
        assert_eq!(read(&[0x0a, 0x80, 0xff, 0xff], 16384), Ok(None));
        assert_eq!(read(&[0x0a, 0x80, 0xf0, 0x10], 16384), Ok(None)); // 496 bytes announced
        assert_eq!(read(&[0x0a, 0x80, 0xf0, 0x10], 100), Err(FrameError::TooLarge(496)));
    }

    #[test]
    fn peers_frames_written_in_place() {
        for len in [0usize, 1, 239, 240, 3000] {
            let mut out = vec![9];
            put_with(&mut out, CLASS_STKT, STKT_UPDATE, |o| o.extend(std::iter::repeat_n(7u8, len)));
            let mut expect = vec![9];
            put_long(&mut expect, CLASS_STKT, STKT_UPDATE, &vec![7u8; len]);
            assert_eq!(out, expect, "payload of {len} bytes");
        }
    }
}
