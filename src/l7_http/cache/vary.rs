//! The Vary secondary key of HAProxy 2.6's cache (`process-vary on`):
//! only `Accept-Encoding` and `Referer` are understood. A stored variant
//! keeps the content codings of its response (a bitmap); a request gets
//! it when its `Accept-Encoding` accepts every one of them, and when its
//! `Referer` is the one the variant was stored for.
//!
//! Keys are compared for equality by the store ([`super::Cache::lookup`]):
//! [`store_key`] writes the response's codings, [`lookup_key`] writes the
//! entry's codings back when the request accepts them, and a mark no
//! stored key has when it does not.

use super::policy::Headers;

const GZIP: u32 = 1 << 0;
const DEFLATE: u32 = 1 << 1;
const BR: u32 = 1 << 2;
const COMPRESS: u32 = 1 << 3;
const AES128GCM: u32 = 1 << 4;
const EXI: u32 = 1 << 5;
const PACK200_GZIP: u32 = 1 << 6;
const ZSTD: u32 = 1 << 7;
const IDENTITY: u32 = 1 << 8;
const STAR: u32 = 1 << 9;
const OTHER: u32 = 1 << 10;

/// HAProxy reads at most this many `Accept-Encoding` values; a request
/// with this many or more is not matched against (nor stores) variants.
const MAX_ACCEPT_VALUES: usize = 16;

/// A lookup key that equals no stored key (stored keys start with a
/// header name).
const NO_MATCH: &[u8] = &[0xff];

/// The codings HAProxy's cache knows, by name.
const CODINGS: &[(&[u8], u32)] = &[
    (b"aes128gcm", AES128GCM),
    (b"br", BR),
    (b"compress", COMPRESS),
    (b"deflate", DEFLATE),
    (b"exi", EXI),
    (b"gzip", GZIP),
    (b"identity", IDENTITY),
    (b"pack200-gzip", PACK200_GZIP),
    (b"x-gzip", GZIP),
    (b"x-compress", COMPRESS),
    (b"zstd", ZSTD),
    (b"*", STAR),
];

/// One coding value, optionally weighted (`gzip;q=0`): its bit and
/// whether its weight is zero; None for a coding HAProxy does not know.
fn coding(v: &[u8]) -> Option<(u32, bool)> {
    let mut parts = v.splitn(2, |&c| c == b';');
    let name = parts.next().unwrap_or_default().trim_ascii();
    let bit = CODINGS.iter().find(|(n, _)| name.eq_ignore_ascii_case(n))?.1;
    let zero = parts.next().is_some_and(|w| w.trim_ascii() == b"q=0");
    Some((bit, zero))
}

/// Values of the header `name`, each line split on commas, trimmed; empty
/// values kept (an empty `Accept-Encoding` accepts no coding).
fn values<'a>(h: Headers<'a>, name: &'static [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    h.iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.split(|&c| c == b',').map(<[u8]>::trim_ascii))
}

/// The codings a request accepts, as HAProxy's normalizer computes them;
/// None with too many values.
fn accepted(req: Headers<'_>) -> Option<u32> {
    let (mut bits, mut refused, mut count) = (IDENTITY, !0u32, 0);
    for v in values(req, b"accept-encoding").take(MAX_ACCEPT_VALUES) {
        count += 1;
        if v.is_empty() {
            continue;
        }
        match coding(v) {
            Some((bit, true)) => refused &= !bit,
            Some((bit, false)) => bits |= bit,
            None => bits |= OTHER,
        }
    }
    if bits & STAR != 0 {
        bits = !0;
    }
    bits &= refused;
    match count {
        0 => Some(!0), // no Accept-Encoding: any coding is acceptable
        MAX_ACCEPT_VALUES => None,
        _ => Some(bits),
    }
}

/// The codings of a response (`identity` without `Content-Encoding`);
/// None when one is unknown (such a response is not stored).
fn response_codings(res: Headers<'_>) -> Option<u32> {
    let mut bits = 0;
    for v in values(res, b"content-encoding") {
        match coding(v) {
            Some((bit, _)) if bit != STAR => bits |= bit,
            _ => return None,
        }
    }
    Some(if bits == 0 { IDENTITY } else { bits })
}

/// The Vary'd header names of a response, lowercase and sorted, if
/// `process-vary` can honour them all; None: a header HAProxy 2.6 does
/// not normalize (the response is not stored).
pub fn names(res: Headers<'_>) -> Option<Vec<Vec<u8>>> {
    let mut names: Vec<Vec<u8>> = Vec::new();
    for n in values(res, b"vary").filter(|n| !n.is_empty()) {
        let n = n.to_ascii_lowercase();
        if n != b"accept-encoding" && n != b"referer" {
            return None;
        }
        if !names.contains(&n) {
            names.push(n);
        }
    }
    names.sort();
    Some(names)
}

/// The `Referer` part: its first value as it is (empty when missing).
fn referer<'a>(req: Headers<'a>) -> &'a [u8] {
    req.iter().find(|(n, _)| n.eq_ignore_ascii_case(b"referer")).map_or(&[][..], |(_, v)| *v)
}

fn key(names: &[Vec<u8>], req: Headers<'_>, codings: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for n in names {
        out.extend_from_slice(n);
        out.push(b'=');
        if n == b"accept-encoding" {
            out.extend_from_slice(&codings.to_le_bytes());
        } else {
            out.extend_from_slice(referer(req));
        }
        out.push(0);
    }
    out
}

/// The key a response is stored under for the request that fetched it;
/// None when it must not be stored (an unknown coding, a request with too
/// many `Accept-Encoding` values).
pub fn store_key(names: &[Vec<u8>], req: Headers<'_>, res: Headers<'_>) -> Option<Vec<u8>> {
    accepted(req)?;
    let codings = if names.iter().any(|n| n == b"accept-encoding") { response_codings(res)? } else { 0 };
    Some(key(names, req, codings))
}

/// The key a request looks an entry up with, given the entry's Vary
/// names and its response headers: the entry's own key when the request
/// accepts the entry's codings.
pub fn lookup_key(names: &[Vec<u8>], req: Headers<'_>, entry: Headers<'_>) -> Vec<u8> {
    let Some(accepts) = accepted(req) else { return NO_MATCH.to_vec() };
    let mut codings = 0;
    if names.iter().any(|n| n == b"accept-encoding") {
        match response_codings(entry) {
            Some(c) if c & OTHER == 0 && accepts & c == c => codings = c,
            _ => return NO_MATCH.to_vec(),
        }
    }
    key(names, req, codings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ae(v: &[&'static str]) -> Vec<(&'static [u8], &'static [u8])> {
        v.iter().map(|v| (&b"Accept-Encoding"[..], v.as_bytes())).collect()
    }

    #[test]
    fn accepted_codings_as_haproxy() {
        assert_eq!(accepted(&[]), Some(!0), "no header: anything");
        assert_eq!(accepted(&ae(&[""])), Some(IDENTITY), "empty: identity only");
        assert_eq!(accepted(&ae(&["gzip, br"])), Some(IDENTITY | GZIP | BR));
        assert_eq!(accepted(&ae(&["gzip", "br,deflate"])), Some(IDENTITY | GZIP | BR | DEFLATE));
        assert_eq!(accepted(&ae(&["first,second"])), Some(IDENTITY | OTHER));
        assert_eq!(accepted(&ae(&["identity;q=0, gzip"])), Some(GZIP));
        assert_eq!(accepted(&ae(&["*, br;q=0"])), Some(!BR));
        let many = "a1,a2,a3,a4,a5,a6,a7,a8,a9,a10,a11,a12,a13,a14,a15,a16,a17";
        assert_eq!(accepted(&ae(&[many])), None);
    }

    #[test]
    fn variants_by_the_response_coding() {
        let names = vec![b"accept-encoding".to_vec()];
        let gz: &[(&[u8], &[u8])] = &[(b"Content-Encoding", b"gzip")];
        let stored = store_key(&names, &ae(&["first_value"]), gz).unwrap();
        assert_ne!(lookup_key(&names, &ae(&["first_value"]), gz), stored, "gzip not accepted");
        assert_eq!(lookup_key(&names, &ae(&["br, gzip"]), gz), stored);
        assert_eq!(lookup_key(&names, &[], gz), stored, "no Accept-Encoding accepts all");
        assert_ne!(lookup_key(&names, &ae(&[""]), gz), stored, "empty accepts none");
        let plain = store_key(&names, &ae(&["x"]), &[]).unwrap();
        assert_eq!(lookup_key(&names, &ae(&["first,second"]), &[]), plain, "identity is implied");
        assert!(store_key(&names, &[], &[(b"Content-Encoding", b"weird")]).is_none());
        assert!(names_of(&[(b"Vary", b"accept-encoding, unmanaged")]).is_none());
        assert_eq!(names_of(&[(b"Vary", b"Referer,accept-encoding")]).unwrap()[0], b"accept-encoding");
    }

    fn names_of(h: Headers<'_>) -> Option<Vec<Vec<u8>>> {
        names(h)
    }
}
