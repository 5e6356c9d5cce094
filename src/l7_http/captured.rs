//! What one transaction captured for its frontend's log line and the
//! `capture.req.hdr` / `capture.res.hdr` fetches: the header slots, the
//! rule-filled slots and the cookie (`cfg::capture` says what to take).
//! Owned by the [`super::txn::Txn`]; filled by the stream when a head
//! arrives (headers, cookie) and by `capture` rules.

use super::head::HeaderSpan;
use crate::cfg::capture::{CaptureSlot, Captures, CookieCapture};

/// The captured values of one transaction; empty (no allocation) when
/// the frontend captures nothing.
#[derive(Debug, Default)]
pub struct Captured {
    pub req: Vec<Option<Box<[u8]>>>,   // one per request slot, in declaration order
    pub res: Vec<Option<Box<[u8]>>>,   // one per response slot
    pub cookie_req: Option<Box<[u8]>>, // `%CC`
    pub cookie_res: Option<Box<[u8]>>, // `%CS`
}

impl Captured {
    /// Empty slots for a frontend's captures.
    pub fn for_frontend(c: &Captures) -> Captured {
        if !c.any() {
            return Captured::default();
        }
        Captured {
            req: vec![None; c.req.len()],
            res: vec![None; c.res.len()],
            cookie_req: None,
            cookie_res: None,
        }
    }

    /// The slots of one side; None when the frontend declares none there
    /// (the log variables then print nothing).
    pub fn side(&self, response: bool) -> Option<&[Option<Box<[u8]>>]> {
        let s = if response { &self.res } else { &self.req };
        (!s.is_empty()).then_some(s.as_slice())
    }

    /// Stores `value` in slot `slot`, cut to the slot's length; a slot the
    /// frontend does not have is ignored (a backend's rule naming a slot
    /// the frontend lacks, as in HAProxy).
    pub fn set(&mut self, c: &Captures, response: bool, slot: usize, value: &[u8]) {
        let (Some(def), Some(v)) = (c.side(response).get(slot), self.side_mut(response).get_mut(slot)) else {
            return;
        };
        *v = Some(value[..value.len().min(def.len)].into());
    }

    fn side_mut(&mut self, response: bool) -> &mut Vec<Option<Box<[u8]>>> {
        if response { &mut self.res } else { &mut self.req }
    }

    /// Captures the headers of a head that arrived (`buf` holds it):
    /// each header slot takes the last occurrence of its header, its
    /// whole value cut to the slot's length (HAProxy's
    /// `http_capture_headers`), and the cookie capture its first match.
    pub fn take_headers(&mut self, c: &Captures, response: bool, buf: &[u8], headers: &[HeaderSpan]) {
        let slots: &[CaptureSlot] = c.side(response);
        let wants_headers = slots.iter().any(|s| s.header.is_some());
        if !wants_headers && c.cookie.is_none() {
            return;
        }
        for h in headers {
            let (name, value) = (h.name.of(buf), h.value.of(buf));
            if wants_headers {
                for (i, s) in slots.iter().enumerate() {
                    if s.header.as_deref().is_some_and(|n| name.eq_ignore_ascii_case(n.as_bytes())) {
                        self.set(c, response, i, value);
                    }
                }
            }
            if let Some(cc) = &c.cookie {
                self.take_cookie(cc, response, name, value);
            }
        }
    }

    /// `capture cookie`: the first cookie whose name starts with the
    /// configured one, as `name=value` cut to its length (`Cookie` on
    /// requests, `Set-Cookie` on responses).
    fn take_cookie(&mut self, cc: &CookieCapture, response: bool, name: &[u8], value: &[u8]) {
        let (header, slot): (&[u8], _) =
            if response { (b"set-cookie", &mut self.cookie_res) } else { (b"cookie", &mut self.cookie_req) };
        if slot.is_some() || !name.eq_ignore_ascii_case(header) {
            return;
        }
        // A Set-Cookie carries one cookie (its attributes follow a ';');
        // a Cookie header a list.
        let mut pairs = value.split(|&b| b == b';');
        let candidates: &mut dyn Iterator<Item = &[u8]> =
            if response { &mut pairs.by_ref().take(1) } else { &mut pairs };
        for pair in candidates {
            let pair = trim(pair);
            if pair.starts_with(cc.name.as_bytes()) && pair.contains(&b'=') {
                *slot = Some(pair[..pair.len().min(cc.len)].into());
                return;
            }
        }
    }
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(s.len());
    let end = s.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &s[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l7_http::head::Span;

    fn heads(lines: &[(&str, &str)]) -> (Vec<u8>, Vec<HeaderSpan>) {
        let mut buf = Vec::new();
        let mut spans = Vec::new();
        for (n, v) in lines {
            let ns = buf.len() as u32;
            buf.extend_from_slice(n.as_bytes());
            let vs = buf.len() as u32;
            buf.extend_from_slice(v.as_bytes());
            spans.push(HeaderSpan {
                name: Span { start: ns, end: vs },
                value: Span { start: vs, end: buf.len() as u32 },
            });
        }
        (buf, spans)
    }

    fn caps() -> Captures {
        Captures {
            req: vec![
                CaptureSlot { header: Some("host".into()), len: 4 },
                CaptureSlot { header: None, len: 3 },
                CaptureSlot { header: Some("x-a".into()), len: 20 },
            ],
            res: vec![CaptureSlot { header: Some("server".into()), len: 10 }],
            cookie: Some(CookieCapture { name: "SESS".into(), len: 12 }),
        }
    }

    #[test]
    fn last_occurrence_whole_value_cut_to_length() {
        let c = caps();
        let mut got = Captured::for_frontend(&c);
        let (buf, h) = heads(&[
            ("Host", "example.org"),
            ("X-A", "1, 2"),
            ("x-a", "3"),
            ("Cookie", "a=1; SESSID=abcdefghijklmnop"),
        ]);
        got.take_headers(&c, false, &buf, &h);
        assert_eq!(got.req[0].as_deref(), Some(&b"exam"[..]));
        assert_eq!(got.req[1], None, "a rule slot is not filled by headers");
        assert_eq!(got.req[2].as_deref(), Some(&b"3"[..]));
        assert_eq!(got.cookie_req.as_deref(), Some(&b"SESSID=abcde"[..]));
        got.set(&c, false, 1, b"abcdef");
        assert_eq!(got.req[1].as_deref(), Some(&b"abc"[..]));
        got.set(&c, false, 7, b"ignored");
        let (buf, h) = heads(&[("Set-Cookie", "other=1"), ("Set-Cookie", "SESS=9; Path=/"), ("Server", "s")]);
        got.take_headers(&c, true, &buf, &h);
        assert_eq!(got.cookie_res.as_deref(), Some(&b"SESS=9"[..]));
        assert_eq!(got.res[0].as_deref(), Some(&b"s"[..]));
    }

    #[test]
    fn nothing_captured_costs_nothing() {
        let got = Captured::for_frontend(&Captures::default());
        assert!(got.req.capacity() == 0 && got.side(false).is_none() && got.side(true).is_none());
    }
}
