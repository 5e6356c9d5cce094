//! `http-request normalize-uri NORMALIZER`: HAProxy 2.6's URI
//! normalizers, each a pure function from the request target to its
//! normalized form (or a refusal, for the `strict` variants).

/// One normalizer with its option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normalizer {
    FragmentEncode,
    FragmentStrip,
    PathMergeSlashes,
    PathStripDot,
    PathStripDotdot { full: bool },
    PercentDecodeUnreserved { strict: bool },
    PercentToUppercase { strict: bool },
    QuerySortByName,
}

/// Parses the words after `normalize-uri`.
pub fn parse(words: &[String]) -> Result<Normalizer, String> {
    let name = words.first().map_or("", String::as_str);
    let opt = words.get(1).map(String::as_str);
    let flag = |expected: &str| -> Result<bool, String> {
        match opt {
            None => Ok(false),
            Some(o) if o == expected => match words.get(2) {
                None => Ok(true),
                Some(w) => Err(format!("unexpected argument '{w}'.")),
            },
            Some(o) => Err(format!("unexpected argument '{o}'.")),
        }
    };
    let plain = |n: Normalizer| match opt {
        None => Ok(n),
        Some(o) => Err(format!("unexpected argument '{o}'.")),
    };
    match name {
        "fragment-encode" => plain(Normalizer::FragmentEncode),
        "fragment-strip" => plain(Normalizer::FragmentStrip),
        "path-merge-slashes" => plain(Normalizer::PathMergeSlashes),
        "path-strip-dot" => plain(Normalizer::PathStripDot),
        "path-strip-dotdot" => Ok(Normalizer::PathStripDotdot { full: flag("full")? }),
        "percent-decode-unreserved" => Ok(Normalizer::PercentDecodeUnreserved { strict: flag("strict")? }),
        "percent-to-uppercase" => Ok(Normalizer::PercentToUppercase { strict: flag("strict")? }),
        "query-sort-by-name" => plain(Normalizer::QuerySortByName),
        "" => Err("expects a normalizer name.".into()),
        other => Err(format!("unknown normalizer '{other}'.")),
    }
}

/// A strict normalizer found an invalid percent escape: the request is
/// refused (400).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadEscape;

/// Splits an origin-form target into (path, `?query` with its `?`).
fn split(uri: &[u8]) -> (&[u8], &[u8]) {
    match uri.iter().position(|&c| c == b'?') {
        Some(q) => (&uri[..q], &uri[q..]),
        None => (uri, &[]),
    }
}

impl Normalizer {
    /// The normalized target; `BadEscape` when a strict normalizer refuses it (400).
    pub fn apply(self, uri: &[u8]) -> Result<Vec<u8>, BadEscape> {
        let (path, query) = split(uri);
        let join = |p: Vec<u8>| {
            let mut out = p;
            out.extend_from_slice(query);
            out
        };
        Ok(match self {
            Normalizer::FragmentEncode => {
                let mut out = Vec::with_capacity(uri.len() + 2);
                for &c in uri {
                    if c == b'#' { out.extend_from_slice(b"%23") } else { out.push(c) }
                }
                out
            }
            Normalizer::FragmentStrip => {
                uri[..uri.iter().position(|&c| c == b'#').unwrap_or(uri.len())].to_vec()
            }
            Normalizer::PathMergeSlashes => {
                let mut out = Vec::with_capacity(path.len());
                for &c in path {
                    if !(c == b'/' && out.last() == Some(&b'/')) {
                        out.push(c);
                    }
                }
                join(out)
            }
            Normalizer::PathStripDot => join(strip_dot(path)),
            Normalizer::PathStripDotdot { full } => join(strip_dotdot(path, full)),
            Normalizer::PercentDecodeUnreserved { strict } => {
                let mut out = Vec::with_capacity(uri.len());
                let mut i = 0;
                while i < uri.len() {
                    if uri[i] == b'%' {
                        match (uri.get(i + 1).and_then(hex), uri.get(i + 2).and_then(hex)) {
                            (Some(h), Some(l)) => {
                                let c = h * 16 + l;
                                if c.is_ascii_alphanumeric() || b"-._~".contains(&c) {
                                    out.push(c);
                                } else {
                                    out.extend_from_slice(&uri[i..i + 3]);
                                }
                                i += 3;
                                continue;
                            }
                            _ if strict => return Err(BadEscape),
                            _ => {}
                        }
                    }
                    out.push(uri[i]);
                    i += 1;
                }
                out
            }
            Normalizer::PercentToUppercase { strict } => {
                let mut out = uri.to_vec();
                let mut i = 0;
                while i < out.len() {
                    if out[i] == b'%' {
                        let ok =
                            out.get(i + 1).and_then(hex).is_some() && out.get(i + 2).and_then(hex).is_some();
                        if ok {
                            out[i + 1].make_ascii_uppercase();
                            out[i + 2].make_ascii_uppercase();
                            i += 3;
                            continue;
                        }
                        if strict {
                            return Err(BadEscape);
                        }
                    }
                    i += 1;
                }
                out
            }
            Normalizer::QuerySortByName => {
                let Some(q) = query.strip_prefix(b"?") else { return Ok(uri.to_vec()) };
                let mut params: Vec<&[u8]> = q.split(|&c| c == b'&').collect();
                let name =
                    |p: &&[u8]| -> Vec<u8> { p.split(|&c| c == b'=').next().unwrap_or_default().to_vec() };
                params.sort_by_key(name); // stable: equal names keep their order
                let mut out = path.to_vec();
                out.push(b'?');
                for (i, p) in params.iter().enumerate() {
                    if i > 0 {
                        out.push(b'&');
                    }
                    out.extend_from_slice(p);
                }
                out
            }
        })
    }
}

fn hex(c: &u8) -> Option<u8> {
    (*c as char).to_digit(16).map(|d| d as u8)
}

/// Removes `.` segments.
fn strip_dot(path: &[u8]) -> Vec<u8> {
    let segs: Vec<&[u8]> = path.split(|&c| c == b'/').collect();
    let mut out: Vec<&[u8]> = Vec::with_capacity(segs.len());
    let last = segs.len().saturating_sub(1);
    for (i, s) in segs.iter().enumerate() {
        if *s == b"." && i > 0 {
            if i == last {
                out.push(b""); // `/a/.` keeps its trailing slash
            }
            continue;
        }
        out.push(s);
    }
    if out.len() == 1 && path.starts_with(b"/") {
        out.push(b"");
    }
    out.join(&b'/')
}

/// Merges `..` segments with the segment before them.
fn strip_dotdot(path: &[u8], full: bool) -> Vec<u8> {
    let segs: Vec<&[u8]> = path.split(|&c| c == b'/').collect();
    let last = segs.len().saturating_sub(1);
    let mut out: Vec<&[u8]> = Vec::with_capacity(segs.len());
    for (i, s) in segs.iter().enumerate() {
        if *s == b".." && i > 0 {
            let can_pop = out.len() > 1 && out.last() != Some(&&b".."[..]);
            if can_pop {
                out.pop();
            } else if !full {
                out.push(s);
                continue;
            }
            if i == last {
                out.push(b"");
            }
            continue;
        }
        out.push(s);
    }
    if out.len() == 1 && path.starts_with(b"/") {
        out.push(b"");
    }
    out.join(&b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(norm: Normalizer, uri: &str) -> String {
        String::from_utf8(norm.apply(uri.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn the_documented_examples() {
        let dd = Normalizer::PathStripDotdot { full: false };
        for (i, o) in [
            ("/foo/../", "/"),
            ("/foo/../bar/", "/bar/"),
            ("/foo/bar/../", "/foo/"),
            ("/../bar/", "/../bar/"),
            ("/bar/../../", "/../"),
            ("/foo//../", "/foo/"),
            ("/foo/%2E%2E/", "/foo/%2E%2E/"),
        ] {
            assert_eq!(n(dd, i), o, "{i}");
        }
        let full = Normalizer::PathStripDotdot { full: true };
        assert_eq!(n(full, "/../bar/"), "/bar/");
        assert_eq!(n(full, "/bar/../../"), "/");
        for (i, o) in
            [("/.", "/"), ("/./bar/", "/bar/"), ("/a/./a", "/a/a"), ("/.well-known/", "/.well-known/")]
        {
            assert_eq!(n(Normalizer::PathStripDot, i), o, "{i}");
        }
        assert_eq!(n(Normalizer::PathMergeSlashes, "//"), "/");
        assert_eq!(n(Normalizer::PathMergeSlashes, "/foo//bar?a//b"), "/foo/bar?a//b");
        let pd = Normalizer::PercentDecodeUnreserved { strict: false };
        assert_eq!(n(pd, "/%61dmin"), "/admin");
        assert_eq!(n(pd, "/foo%3Fbar=baz"), "/foo%3Fbar=baz");
        assert_eq!(n(pd, "/%%36%36"), "/%66");
        assert_eq!(n(pd, "/%ZZ"), "/%ZZ");
        assert!(Normalizer::PercentDecodeUnreserved { strict: true }.apply(b"/%ZZ").is_err());
        assert_eq!(n(Normalizer::PercentToUppercase { strict: false }, "/%6f"), "/%6F");
        assert!(Normalizer::PercentToUppercase { strict: true }.apply(b"/%zz").is_err());
        let q = Normalizer::QuerySortByName;
        assert_eq!(n(q, "/?c=3&a=1&b=2"), "/?a=1&b=2&c=3");
        assert_eq!(n(q, "/?aaa=3&a=1&aa=2"), "/?a=1&aa=2&aaa=3");
        assert_eq!(n(q, "/?a=3&b=4&a=1&b=5&a=2"), "/?a=3&a=1&a=2&b=4&b=5");
        assert_eq!(n(Normalizer::FragmentEncode, "/#foo"), "/%23foo");
        assert_eq!(n(Normalizer::FragmentStrip, "/#foo"), "/");
    }
}
