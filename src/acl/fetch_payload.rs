//! The request-buffer fetches of HAProxy 2.6's `payload.c` that read
//! bytes at an offset: `req.payload(OFFSET,LENGTH)` and
//! `req.payload_lv(OFFSET1,LENGTH[,OFFSET2])` (and their ACL spellings
//! `payload`, `payload_lv`). They see the bytes of a TCP-mode stream that
//! wait in the request buffer ([`SampleSource::req_payload`]); in HTTP
//! mode they find nothing, as HAProxy's do on its HTX buffers.
//!
//! Too few bytes while more may come marks the sample incomplete
//! ([`super::fetch_ssl::mark_incomplete`]), so `tcp-request content` rules
//! wait for them up to `tcp-request inspect-delay`.

use std::ops::ControlFlow;

use super::source::{Sample, SampleSource};

/// One compiled payload fetch. Owned by its expression; immutable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Payload {
    /// `LENGTH` bytes from `OFFSET`; LENGTH 0: all bytes from OFFSET.
    Bytes { offset: u64, len: u64 },
    /// The same fetch on the response buffer (`res.payload`, `res.payload_lv`).
    Response(Box<Payload>),
    /// A `len_size`-byte big-endian length at `len_offset`, then that many
    /// bytes: right after the length, at `Absolute(n)` or at
    /// `Relative(n)` bytes from the end of the length.
    Lv { len_offset: u64, len_size: u64, data: DataAt },
}

/// Where `payload_lv`'s bytes start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DataAt {
    AfterLength,
    Absolute(i64),
    Relative(i64),
}

/// Whether `name` is one of these fetches.
pub(crate) fn known(name: &str) -> bool {
    matches!(
        name,
        "req.payload" | "payload" | "req.payload_lv" | "payload_lv" | "res.payload" | "res.payload_lv"
    )
}

/// Compiles `name` (one that [`known`] accepts) with its arguments,
/// checked as HAProxy's `val_payload_lv` does.
pub(crate) fn parse(name: &str, args: &[String]) -> Result<Payload, String> {
    if let Some(rest) = name.strip_prefix("res.") {
        return Ok(Payload::Response(Box::new(parse(rest, args)?)));
    }
    let lv = name.ends_with("_lv");
    let (min, max) = if lv { (2, 3) } else { (2, 2) };
    if args.len() < min {
        return Err(format!("missing arguments (got {}/{min})", args.len()));
    }
    if args.len() > max {
        return Err(format!("expected at most {max} arguments but got {}", args.len()));
    }
    let int = |i: usize| -> Result<i64, String> {
        super::keyword::parse_i64(&args[i])
            .ok_or_else(|| format!("failed to parse '{}' as type 'integer' at position {}", args[i], i + 1))
    };
    let (first, second) = (int(0)?, int(1)?);
    if !lv {
        if first < 0 || second < 0 {
            return Err("payload offset and length must be positive".into());
        }
        return Ok(Payload::Bytes { offset: first as u64, len: second as u64 });
    }
    if first < 0 {
        return Err("payload offset1 must be positive".into());
    }
    if second <= 0 {
        return Err("payload length must be > 0".into());
    }
    let data = match args.get(2).map(String::as_str).filter(|a| !a.is_empty()) {
        None => DataAt::AfterLength,
        Some(a) => {
            let n = super::keyword::parse_i64(a.strip_prefix('+').unwrap_or(a))
                .ok_or("payload offset2 is not a number")?;
            if first + second + n < 0 {
                return Err("payload offset2 too negative".into());
            }
            if a.starts_with(['+', '-']) { DataAt::Relative(n) } else { DataAt::Absolute(n) }
        }
    };
    Ok(Payload::Lv { len_offset: first as u64, len_size: second as u64, data })
}

impl Payload {
    /// Gives the bytes to `f`, or nothing (marked incomplete when they may
    /// still come).
    pub(crate) fn each(
        &self,
        src: &dyn SampleSource,
        f: &mut dyn FnMut(Sample<'_>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let (payload, fetch) = match self {
            Payload::Response(p) => (src.res_payload(), &**p),
            p => (src.req_payload(), p),
        };
        let Some((buf, last)) = payload else { return ControlFlow::Continue(()) };
        match fetch.slice(buf) {
            Ok(bytes) => f(Sample::Bin(bytes)),
            Err(Short::Wait) => {
                if !last {
                    super::fetch_ssl::mark_incomplete();
                }
                ControlFlow::Continue(())
            }
            Err(Short::Never) => ControlFlow::Continue(()),
        }
    }

    /// The bytes this fetch reads from `buf`.
    fn slice<'b>(&self, buf: &'b [u8]) -> Result<&'b [u8], Short> {
        let have = buf.len() as u64;
        let (start, len) = match *self {
            Payload::Response(ref p) => return p.slice(buf),
            Payload::Bytes { offset, len: 0 } => (offset, have.checked_sub(offset).ok_or(Short::Wait)?),
            Payload::Bytes { offset, len } => (offset, len),
            Payload::Lv { len_offset, len_size, data } => {
                let end = len_offset.checked_add(len_size).ok_or(Short::Never)?;
                if len_size > 8 {
                    return Err(Short::Never); // a length no buffer holds
                }
                if end > have {
                    return Err(Short::Wait);
                }
                let len =
                    buf[len_offset as usize..end as usize].iter().fold(0u64, |n, &b| (n << 8) | u64::from(b));
                if len == 0 {
                    return Err(Short::Never);
                }
                let start = match data {
                    DataAt::AfterLength => end as i64,
                    DataAt::Absolute(n) => n,
                    DataAt::Relative(n) => end as i64 + n,
                };
                (u64::try_from(start).map_err(|_| Short::Never)?, len)
            }
        };
        let end = start.checked_add(len).ok_or(Short::Never)?;
        if end > have {
            return Err(Short::Wait);
        }
        Ok(&buf[start as usize..end as usize])
    }
}

/// Why a fetch found no bytes.
#[derive(Debug, PartialEq, Eq)]
enum Short {
    Wait,  // more bytes may make it match
    Never, // it never will
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, args: &[&str]) -> Result<Payload, String> {
        parse(name, &args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn bytes_at_an_offset() {
        let f = p("req.payload", &["1", "3"]).expect("parses");
        assert_eq!(f.slice(b"abcdef"), Ok(&b"bcd"[..]));
        assert_eq!(f.slice(b"ab"), Err(Short::Wait));
        let all = p("payload", &["2", "0"]).expect("parses");
        assert_eq!(all.slice(b"abcdef"), Ok(&b"cdef"[..]));
        assert_eq!(all.slice(b"a"), Err(Short::Wait));
        assert!(p("req.payload", &["1"]).is_err());
        assert!(p("req.payload", &["x", "1"]).is_err());
    }

    #[test]
    fn length_prefixed_bytes() {
        // A 2-byte length at 1, then the data right after it.
        let f = p("req.payload_lv", &["1", "2"]).expect("parses");
        assert_eq!(f.slice(b"X\x00\x03abcZ"), Ok(&b"abc"[..]));
        assert_eq!(f.slice(b"X\x00\x03ab"), Err(Short::Wait));
        assert_eq!(f.slice(b"X\x00"), Err(Short::Wait));
        assert_eq!(f.slice(b"X\x00\x00abc"), Err(Short::Never));
        let abs = p("req.payload_lv", &["0", "1", "4"]).expect("parses");
        assert_eq!(abs.slice(b"\x02---xyz"), Ok(&b"xy"[..]));
        let rel = p("payload_lv", &["0", "1", "+1"]).expect("parses");
        assert_eq!(rel.slice(b"\x02-xy"), Ok(&b"xy"[..]));
        let back = p("payload_lv", &["2", "1", "-3"]).expect("parses");
        assert_eq!(back.slice(b"ab\x02"), Ok(&b"ab"[..]));
        assert_eq!(p("payload_lv", &["0", "0"]), Err("payload length must be > 0".into()));
        assert_eq!(p("payload_lv", &["-1", "1"]), Err("payload offset1 must be positive".into()));
        assert_eq!(p("payload_lv", &["0", "1", "-5"]), Err("payload offset2 too negative".into()));
        assert_eq!(p("payload_lv", &["0", "1", "z"]), Err("payload offset2 is not a number".into()));
    }
}
