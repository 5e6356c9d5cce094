//! `option http-restrict-req-hdr-names`: which request header names, as
//! the request stands after the `http-request` rules (received headers
//! with the rules' edits applied), have a character outside
//! `[A-Za-z0-9-]`. Read by `l6_stream::http_restrict`, which deletes those
//! headers or refuses the request.

use super::head::HeaderSpan;
use super::rewrite::HeaderEdit;

/// Whether `name` has a character HAProxy's filter refuses (anything but
/// ASCII letters, digits and `-`).
pub fn restricted(name: &[u8]) -> bool {
    name.iter().any(|&c| !c.is_ascii_alphanumeric() && c != b'-')
}

/// The restricted header names present once `edits` are applied to the
/// received headers (`headers` over `buf`), each once (first spelling).
/// Empty, without allocating, when every name is fine.
pub fn present_restricted(buf: &[u8], headers: &[HeaderSpan], edits: &[HeaderEdit]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let received = headers.iter().map(|h| h.name.of(buf));
    let added = edits.iter().filter_map(|e| match e {
        HeaderEdit::Add(n, _) | HeaderEdit::Set(n, _) => Some(n.as_bytes()),
        _ => None,
    });
    for name in received.chain(added) {
        if !restricted(name) || out.iter().any(|n| n.as_bytes().eq_ignore_ascii_case(name)) {
            continue;
        }
        let was_received = headers.iter().any(|h| h.name.of(buf).eq_ignore_ascii_case(name));
        if present_after(edits, name, was_received) {
            out.push(String::from_utf8_lossy(name).into_owned());
        }
    }
    out
}

/// Whether a header `name` exists after `edits`: the last edit that adds
/// or removes that name decides, else whether it was received.
fn present_after(edits: &[HeaderEdit], name: &[u8], received: bool) -> bool {
    for e in edits.iter().rev() {
        match e {
            HeaderEdit::Add(n, _) | HeaderEdit::Set(n, _) if n.as_bytes().eq_ignore_ascii_case(name) => {
                return true;
            }
            HeaderEdit::Del(_) | HeaderEdit::DelMatching(_) if e.removes(name) => return false,
            _ => {}
        }
    }
    received
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l7_http::head::Span;

    fn spans(buf: &str) -> Vec<HeaderSpan> {
        let mut out = Vec::new();
        let mut at = 0u32;
        for line in buf.split_inclusive('\n') {
            let colon = line.find(':').unwrap_or(0) as u32;
            let end = line.trim_end().len() as u32;
            out.push(HeaderSpan {
                name: Span { start: at, end: at + colon },
                value: Span { start: at + colon + 2, end: at + end },
            });
            at += line.len() as u32;
        }
        out
    }

    #[test]
    fn names_outside_the_charset_are_found_after_the_edits() {
        assert!(restricted(b"X_y") && restricted(b"x.y") && restricted(b"a_"));
        assert!(!restricted(b"X-Forwarded-For") && !restricted(b"abc123"));
        let buf = "X_a: 1\nHost: h\nx_A: 2\nX_b: 3\n";
        let h = spans(buf);
        assert_eq!(present_restricted(buf.as_bytes(), &h, &[]), ["X_a", "X_b"]);
        // A rule deleted X_b and added X_c; a later Del of X_d is moot.
        let edits = [
            HeaderEdit::Del("x_b".into()),
            HeaderEdit::Add("X_c".into(), "v".into()),
            HeaderEdit::Del("X_d".into()),
        ];
        assert_eq!(present_restricted(buf.as_bytes(), &h, &edits), ["X_a", "X_c"]);
        // Deleted and added again: present.
        let edits = [HeaderEdit::Del("X_a".into()), HeaderEdit::Set("X_a".into(), "v".into())];
        assert_eq!(present_restricted(buf.as_bytes(), &h, &edits), ["X_a", "X_b"]);
        let clean = "Host: h\n";
        assert!(present_restricted(clean.as_bytes(), &spans(clean), &[]).is_empty());
    }
}
