//! Serialising a head to send: the request or status line and the headers
//! kept, with the connection-management headers strata decides itself.
//!
//! Hop-by-hop handling follows RFC 9110 §7.6.1: `Connection` and
//! `Keep-Alive` are dropped and replaced by what strata wants for the next
//! hop (`Connection: close` when closing, nothing otherwise, since both
//! sides speak HTTP/1.1 keep-alive by default).

use super::head::{HeaderSpan, Version, name_is};
use crate::core::buffer::Buffer;

/// The `Connection` header strata writes for the next hop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnHeader {
    Default,   // nothing: HTTP/1.1 keep-alive
    Close,     // `Connection: close`
    KeepAlive, // `Connection: keep-alive` (to an HTTP/1.0 peer that asked for it)
    Upgrade,   // `Connection: upgrade` (protocol switch)
}

/// A header edit decided by rules, applied while serialising, in order:
/// a `Del` or `Set` removes every earlier header of that name (received
/// or added), as HAProxy's rules applied one after another would.
#[derive(Clone, Debug)]
pub enum HeaderEdit {
    Add(String, String),                               // append `name: value`
    Set(String, String),                               // remove every `name`, then append it
    Del(String),                                       // remove every `name` header
    DelMatching(NameMatch),                            // `del-header NAME -m beg|end|sub|reg`
    Replace(String, regex::bytes::Regex, String),      // rewrite received `name` values matching the regex
    ReplaceValue(String, regex::bytes::Regex, String), // same, each comma-separated value on its own
}

impl HeaderEdit {
    /// Whether this edit removes headers named `name` written before it.
    pub fn removes(&self, name: &[u8]) -> bool {
        match self {
            HeaderEdit::Set(n, _) | HeaderEdit::Del(n) => n.as_bytes().eq_ignore_ascii_case(name),
            HeaderEdit::DelMatching(m) => m.matches(name),
            _ => false,
        }
    }
}

/// How `del-header NAME -m METHOD` compares header names (HAProxy 2.6:
/// `str`, the default, is a plain [`HeaderEdit::Del`]). Names compare
/// without regard to case; a regex sees the name in lower case, as
/// HAProxy stores it.
#[derive(Clone, Debug)]
pub enum NameMatch {
    Beg(String),              // the name starts with it
    End(String),              // the name ends with it
    Sub(String),              // the name contains it
    Reg(regex::bytes::Regex), // the lower-case name matches
}

impl NameMatch {
    /// Whether header name `name` (as received) is matched.
    pub fn matches(&self, name: &[u8]) -> bool {
        let fold = |p: &str, at: usize| {
            name.get(at..at + p.len()).is_some_and(|n| n.eq_ignore_ascii_case(p.as_bytes()))
        };
        match self {
            NameMatch::Beg(p) => fold(p, 0),
            NameMatch::End(p) => name.len() >= p.len() && fold(p, name.len() - p.len()),
            NameMatch::Sub(p) => (0..=name.len().saturating_sub(p.len())).any(|at| fold(p, at)),
            NameMatch::Reg(re) => {
                let lower: smallvec::SmallVec<[u8; 64]> = name.iter().map(u8::to_ascii_lowercase).collect();
                re.is_match(&lower)
            }
        }
    }
}

/// The value of header `name` after the `replace-header`/`replace-value`
/// edits, in order; None when none changed it.
fn replaced_value(edits: &[HeaderEdit], name: &[u8], value: &[u8]) -> Option<Vec<u8>> {
    let mut cur: Option<Vec<u8>> = None;
    for e in edits {
        match e {
            HeaderEdit::Replace(n, re, with) if n.as_bytes().eq_ignore_ascii_case(name) => {
                let v = cur.as_deref().unwrap_or(value);
                if re.is_match(v) {
                    cur = Some(re.replace(v, with.as_bytes()).into_owned());
                }
            }
            HeaderEdit::ReplaceValue(n, re, with) if n.as_bytes().eq_ignore_ascii_case(name) => {
                let v = cur.as_deref().unwrap_or(value);
                let mut out = Vec::with_capacity(v.len());
                let mut changed = false;
                for (i, part) in v.split(|&c| c == b',').enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    let lead = part.iter().take_while(|c| c.is_ascii_whitespace()).count();
                    let core = part[lead..].trim_ascii_end();
                    out.extend_from_slice(&part[..lead]);
                    if re.is_match(core) {
                        out.extend_from_slice(&re.replace(core, with.as_bytes()));
                        changed = true;
                    } else {
                        out.extend_from_slice(core);
                    }
                    // HAProxy drops the blanks after each value (not before).
                }
                if changed {
                    cur = Some(out);
                }
            }
            _ => {}
        }
    }
    cur
}

/// Calls `f` with each header line of a head as it stands after `edits`,
/// in the order [`NextHead::write`] would write them (received lines not
/// removed, with their replaced values, then the added ones): what rules
/// see of the headers earlier rules changed, as HAProxy's in-place edits
/// show them. Hop-by-hop lines stay visible. Stops when `f` breaks.
pub fn visit_edited(
    src: &[u8],
    headers: &[HeaderSpan],
    edits: &[HeaderEdit],
    f: crate::acl::HeaderVisitor<'_>,
) {
    for h in headers {
        let name = h.name.of(src);
        if edits.iter().any(|e| e.removes(name)) {
            continue;
        }
        let value = h.value.of(src);
        let flow = match replaced_value(edits, name, value) {
            Some(v) => f(name, &v),
            None => f(name, value),
        };
        if flow.is_break() {
            return;
        }
    }
    for (i, e) in edits.iter().enumerate() {
        if let HeaderEdit::Add(n, v) | HeaderEdit::Set(n, v) = e
            && !edits[i + 1..].iter().any(|later| later.removes(n.as_bytes()))
            && f(n.as_bytes(), v.as_bytes()).is_break()
        {
            return;
        }
    }
}

/// Appends `parts` to `out`; false if the head does not fit.
fn put(out: &mut Buffer, parts: &[&[u8]]) -> bool {
    for p in parts {
        if out.push(p) != p.len() {
            return false;
        }
    }
    true
}

fn is_hop_by_hop(name: &[u8]) -> bool {
    match name.len() {
        10 => name_is(name, b"connection") || name_is(name, b"keep-alive"),
        16 => name_is(name, b"proxy-connection"),
        _ => false,
    }
}

/// Where header `h` lies in `src` as the complete line `name: value\r\n`,
/// when the received bytes are exactly what would be written for it (one
/// space after the colon, nothing after the value): such lines are copied
/// as they are, consecutive ones in one copy.
fn raw_line(src: &[u8], h: &HeaderSpan) -> Option<std::ops::Range<usize>> {
    let (name_end, value_start, value_end) =
        (h.name.end as usize, h.value.start as usize, h.value.end as usize);
    let exact = value_start == name_end + 2
        && src.get(name_end..value_start) == Some(b": ")
        && src.get(value_end..value_end + 2) == Some(b"\r\n");
    exact.then_some(h.name.start as usize..value_end + 2)
}

/// Where `parts` followed by CRLF lie in `src` as they are, when the first
/// part is in `src` and the bytes after it are the other parts: the first
/// line to write is then the one received.
fn raw_first_line(src: &[u8], parts: &[&[u8]]) -> Option<std::ops::Range<usize>> {
    let first = parts.first()?;
    let start = (first.as_ptr() as usize).checked_sub(src.as_ptr() as usize)?;
    let mut at = start;
    for part in parts {
        let received = src.get(at..at + part.len())?;
        // A part that points into `src` is the received bytes; a one-byte
        // part (a space) is compared directly, without a `memcmp` call.
        let same = received.as_ptr() == part.as_ptr()
            || match part.len() {
                1 => received[0] == part[0],
                _ => received == *part,
            };
        if !same {
            return None;
        }
        at += part.len();
    }
    (src.get(at..at + 2)? == b"\r\n").then_some(start..at + 2)
}

/// A head for the next hop as the stream decided it: the received head
/// (`src`, its header spans), the first line to send, the rules' header
/// edits, headers the proxy adds itself (e.g. X-Forwarded-For) and the
/// `Connection` header strata chose. Built by the stream for each head it
/// forwards, then either found [`unchanged`](NextHead::unchanged) (sent as
/// received) or [`write`](NextHead::write)n.
#[derive(Clone, Copy)]
pub struct NextHead<'a> {
    pub first_line: &'a [&'a [u8]],
    pub src: &'a [u8],
    pub headers: &'a [HeaderSpan],
    pub edits: &'a [HeaderEdit],
    pub extra: &'a [(&'a [u8], &'a [u8])],
    pub conn: ConnHeader,
}

impl NextHead<'_> {
    /// Writes the head: the first line, then every header of `src` except
    /// the hop-by-hop ones and those deleted by `edits`, then added
    /// headers, then `extra`, then the `Connection` header chosen. Returns
    /// None if the result does not fit in one buffer.
    pub fn write(&self) -> Option<Buffer> {
        let NextHead { first_line, src, headers, edits, extra, conn } = *self;
        let mut out = Buffer::take();
        // Received lines kept as they are, not yet copied: the first line too
        // when it is unchanged, so that an unchanged head is one copy.
        let mut run = raw_first_line(src, first_line).unwrap_or(0..0);
        let mut ok = !run.is_empty() || (put(&mut out, first_line) && put(&mut out, &[b"\r\n"]));
        for h in headers {
            let name = h.name.of(src);
            if is_hop_by_hop(name) || edits.iter().any(|e| e.removes(name)) {
                continue;
            }
            let value = h.value.of(src);
            let replaced = replaced_value(edits, name, value);
            if replaced.is_none()
                && let Some(line) = raw_line(src, h)
            {
                if run.is_empty() || run.end != line.start {
                    ok &= put(&mut out, &[&src[run]]);
                    run = line;
                } else {
                    run.end = line.end;
                }
                continue;
            }
            ok &= put(&mut out, &[&src[std::mem::take(&mut run)]]);
            ok &= put(&mut out, &[name, b": ", replaced.as_deref().unwrap_or(value), b"\r\n"]);
        }
        ok &= put(&mut out, &[&src[run]]);
        for (i, e) in edits.iter().enumerate() {
            if let HeaderEdit::Add(n, v) | HeaderEdit::Set(n, v) = e {
                if edits[i + 1..].iter().any(|later| later.removes(n.as_bytes())) {
                    continue;
                }
                ok &= put(&mut out, &[n.as_bytes(), b": ", v.as_bytes(), b"\r\n"]);
            }
        }
        for (n, v) in extra {
            ok &= put(&mut out, &[n, b": ", v, b"\r\n"]);
        }
        ok &= match conn {
            ConnHeader::Default => true,
            ConnHeader::Close => put(&mut out, &[b"Connection: close\r\n"]),
            ConnHeader::KeepAlive => put(&mut out, &[b"Connection: keep-alive\r\n"]),
            ConnHeader::Upgrade => put(&mut out, &[b"Connection: upgrade\r\n"]),
        };
        ok &= put(&mut out, &[b"\r\n"]);
        ok.then_some(out)
    }

    /// Whether [`NextHead::write`] would write `src`, the received head,
    /// byte for byte as it is: no edits, no extra headers, no `Connection`
    /// header of strata's own, the first line as received, then only
    /// header lines in written form (none hop-by-hop), one after another,
    /// then the empty line. Such a head is forwarded as it is, without
    /// being written again.
    pub fn unchanged(&self) -> bool {
        let NextHead { first_line, src, headers, edits, extra, conn } = *self;
        if !edits.is_empty() || !extra.is_empty() || conn != ConnHeader::Default {
            return false;
        }
        let Some(first) = raw_first_line(src, first_line).filter(|r| r.start == 0) else { return false };
        let mut end = first.end;
        for h in headers {
            match raw_line(src, h) {
                Some(line) if line.start == end && !is_hop_by_hop(h.name.of(src)) => end = line.end,
                _ => return false,
            }
        }
        src.get(end..) == Some(b"\r\n")
    }
}

/// Whether the head written from `src` with `edits` has a `Host` line.
/// An HTTP/2 request may have neither `:authority` nor `host` (RFC 9113
/// §8.3.1); sent on as HTTP/1.1 it then gets an empty `Host`, as RFC 9112
/// §3.2 asks of a client whose target has no authority.
pub fn has_host_after(src: &[u8], headers: &[HeaderSpan], edits: &[HeaderEdit]) -> bool {
    let received = headers.iter().any(|h| name_is(h.name.of(src), b"host"));
    edits.iter().fold(received, |has, e| match e {
        HeaderEdit::Add(n, _) | HeaderEdit::Set(n, _) if n.eq_ignore_ascii_case("host") => true,
        HeaderEdit::Del(n) if n.eq_ignore_ascii_case("host") => false,
        _ => has,
    })
}

/// The request line to send upstream, as the client sent it.
pub fn request_line<'a>(method: &'a [u8], uri: &'a [u8], version: Version) -> [&'a [u8]; 5] {
    [method, b" ", uri, b" ", version.on_the_wire().as_bytes()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l7_http::parse::parse_request;

    #[test]
    fn hop_by_hop_headers_are_replaced_and_edits_applied() {
        let raw = b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, x-foo\r\nX-Del: 1\r\nKeep-Alive: 5\r\nAccept: */*\r\n\r\n";
        let h = parse_request(raw).unwrap().unwrap();
        let line = request_line(h.method.of(raw), h.uri.of(raw), h.version);
        let edits =
            [HeaderEdit::Del("x-del".into()), HeaderEdit::Add("X-Forwarded-For".into(), "10.0.0.1".into())];
        let next = NextHead {
            first_line: &line,
            src: raw,
            headers: &h.headers,
            edits: &edits,
            extra: &[],
            conn: ConnHeader::Close,
        };
        let out = next.write().unwrap();
        assert_eq!(
            std::str::from_utf8(out.data()).unwrap(),
            "GET /x HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nX-Forwarded-For: 10.0.0.1\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn del_header_match_methods_compare_names_as_haproxy_does() {
        let beg = NameMatch::Beg("x-beg".into());
        assert!(beg.matches(b"X-Beg1") && beg.matches(b"x-beg") && !beg.matches(b"y-x-beg"));
        let end = NameMatch::End("end1".into());
        assert!(end.matches(b"X-END1") && !end.matches(b"x-end2") && !end.matches(b"nd1"));
        let sub = NameMatch::Sub("sub".into());
        assert!(sub.matches(b"X-Sub1") && sub.matches(b"sub") && !sub.matches(b"su"));
        let reg = NameMatch::Reg(regex::bytes::Regex::new("^x.reg.$").unwrap());
        assert!(reg.matches(b"X-Reg1") && !reg.matches(b"x-reg12"));
        let edit = HeaderEdit::DelMatching(sub);
        assert!(edit.removes(b"a-SUB-b") && !edit.removes(b"x"));
    }

    #[test]
    fn rules_see_the_headers_as_edited() {
        let raw = b"GET / HTTP/1.1\r\nHost: a\r\nX-Del: 1\r\nX-Rep: v-old\r\nX-Set: 1\r\n\r\n";
        let h = parse_request(raw).unwrap().unwrap();
        let re = regex::bytes::Regex::new("-old$").unwrap();
        let edits = [
            HeaderEdit::Del("x-del".into()),
            HeaderEdit::Replace("x-rep".into(), re, "-new".into()),
            HeaderEdit::Set("x-set".into(), "2".into()),
            HeaderEdit::Add("x-gone".into(), "1".into()),
            HeaderEdit::DelMatching(NameMatch::Beg("x-go".into())),
        ];
        let mut seen = Vec::new();
        visit_edited(raw, &h.headers, &edits, &mut |n, v| {
            seen.push(format!("{}={}", String::from_utf8_lossy(n), String::from_utf8_lossy(v)));
            std::ops::ControlFlow::Continue(())
        });
        assert_eq!(seen, ["Host=a", "X-Rep=v-new", "x-set=2"]);
    }

    #[test]
    fn lines_copied_as_received_only_when_already_in_written_form() {
        let raw = b"GET / HTTP/1.1\r\nHost: a\r\nX-A:b\r\nX-B: c \r\nX-C: d\r\nConnection: close\r\nX-D: e\r\nX-E: f\r\n\r\n";
        let h = parse_request(raw).unwrap().unwrap();
        let line = request_line(h.method.of(raw), h.uri.of(raw), h.version);
        let edits = [HeaderEdit::Del("x-d".into())];
        let extra: [(&[u8], &[u8]); 1] = [(b"X-F", b"g")];
        let next = NextHead {
            first_line: &line,
            src: raw,
            headers: &h.headers,
            edits: &edits,
            extra: &extra,
            conn: ConnHeader::Default,
        };
        let out = next.write().unwrap();
        assert_eq!(
            std::str::from_utf8(out.data()).unwrap(),
            "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\nX-B: c\r\nX-C: d\r\nX-E: f\r\nX-F: g\r\n\r\n"
        );
    }

    /// A head `unchanged` accepts is the one `write` writes; the others
    /// differ from it in some byte.
    #[test]
    fn a_head_is_unchanged_only_when_written_as_received() {
        use crate::l7_http::parse::parse_response;
        let heads: [(&[u8], bool); 9] = [
            (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true),
            (b"GET /x?y HTTP/1.1\r\nHost: a\r\nAccept: */*\r\nUser-Agent: u\r\n\r\n", true),
            (b"GET / HTTP/1.0\r\n\r\n", true),
            (b"GET / HTTP/1.1\r\nHost:a\r\n\r\n", false),
            (b"GET / HTTP/1.1\r\nHost: a \r\n\r\n", false),
            (b"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", false),
            (b"GET / HTTP/1.1\r\nProxy-Connection: x\r\nHost: a\r\n\r\n", false),
            (b"GET / HTTP/1.1\nHost: a\n\n", false),
            (b"GET / HTTP/1.1\r\nHost:  a\r\n\r\n", false),
        ];
        for (raw, expected) in heads {
            let text = String::from_utf8_lossy(raw);
            let h = parse_request(raw).unwrap().unwrap();
            let raw = &raw[..h.len];
            let line = request_line(h.method.of(raw), h.uri.of(raw), h.version);
            let next = NextHead {
                first_line: &line,
                src: raw,
                headers: &h.headers,
                edits: &[],
                extra: &[],
                conn: ConnHeader::Default,
            };
            let written = next.write().unwrap();
            assert_eq!(next.unchanged(), expected, "{text:?}");
            assert_eq!(written.data() == raw, expected, "{text:?}");
            // Anything strata adds or edits is a change.
            let edit = [HeaderEdit::Del("x-none".into())];
            assert!(!NextHead { edits: &edit, ..next }.unchanged(), "{text:?}");
            assert!(!NextHead { conn: ConnHeader::Close, ..next }.unchanged(), "{text:?}");
        }
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello";
        let h = parse_response(raw, false, false).unwrap().unwrap();
        let src = &raw[..h.len];
        let line: [&[u8]; 5] = [&src[..8], b" ", b"200", b" ", h.reason.of(src)];
        let next = NextHead {
            first_line: &line,
            src,
            headers: &h.headers,
            edits: &[],
            extra: &[],
            conn: ConnHeader::Default,
        };
        assert!(next.unchanged());
        let rewritten: [&[u8]; 5] = [b"HTTP/1.1", b" ", b"200", b" ", b"Fine"];
        assert!(!NextHead { first_line: &rewritten, ..next }.unchanged());
    }
}
