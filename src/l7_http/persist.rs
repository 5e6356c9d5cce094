//! Cookie persistence (`cookie NAME insert|rewrite|prefix ...`) as HAProxy
//! 2.6 does it, as pure functions: reading the persistence cookie from a
//! request (with `maxidle`/`maxlife` dates, 4-second units in HAProxy's
//! 5-character base64), the `Cookie` header the server gets, the
//! `Set-Cookie` strata inserts, and what becomes of the server's own.

use crate::cfg::{CookieMode, CookiePersist};

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// HAProxy's `s30tob64`: the low 30 bits, 6 at a time, most significant first.
fn s30tob64(v: u32, out: &mut String) {
    for i in 0..5 {
        out.push(B64[((v >> (24 - 6 * i)) & 0x3f) as usize] as char);
    }
}

/// HAProxy's `b64tos30`; None on a character outside the alphabet.
fn b64tos30(s: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in s.get(..5)? {
        let d = B64.iter().position(|&b| b == c)? as u32;
        v = (v << 6) | d;
    }
    Some(v)
}

/// The persistence cookie a request carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReqCookie {
    pub server: Vec<u8>, // the server's `cookie` value
    pub last: u32,       // last-seen date (Unix seconds), 0: none
    pub first: u32,      // first-seen date, 0: none
}

/// Finds the persistence cookie in the request's `Cookie` values (first
/// occurrence). A cookie too old for `maxlife`/`maxidle`, or dated more
/// than a day ahead, is ignored, as in HAProxy.
pub fn from_request<'a>(
    c: &CookiePersist,
    cookie_values: impl Iterator<Item = &'a [u8]>,
    now: u32,
) -> Option<ReqCookie> {
    for v in cookie_values {
        for pair in v.split(|&b| b == b';') {
            let pair = pair.trim_ascii();
            let Some(eq) = pair.iter().position(|&b| b == b'=') else { continue };
            if pair[..eq].trim_ascii() != c.name.as_bytes() {
                continue;
            }
            let value = pair[eq + 1..].trim_ascii();
            return parse_value(c, value, now);
        }
    }
    None
}

fn parse_value(c: &CookiePersist, value: &[u8], now: u32) -> Option<ReqCookie> {
    match c.mode {
        CookieMode::Prefix => {
            let tilde = value.iter().position(|&b| b == b'~')?;
            Some(ReqCookie { server: value[..tilde].to_vec(), last: 0, first: 0 })
        }
        CookieMode::Rewrite => Some(ReqCookie { server: value.to_vec(), last: 0, first: 0 }),
        CookieMode::Insert => {
            let mut parts = value.split(|&b| b == b'|');
            let server = parts.next()?.to_vec();
            let date = |p: Option<&[u8]>| p.and_then(b64tos30).filter(|v| *v > 0).map_or(0, |v| v << 2);
            let last = date(parts.next());
            let first = date(parts.next());
            let ahead = |d: u32| d > now && d - now > 86_400;
            if first > 0 && c.maxlife > 0 && (now.saturating_sub(first) > c.maxlife || ahead(first)) {
                return None;
            }
            if last > 0 && c.maxidle > 0 && (now.saturating_sub(last) > c.maxidle || ahead(last)) {
                return None;
            }
            Some(ReqCookie { server, last, first })
        }
    }
}

/// The `Cookie` header value for the server: the persistence cookie
/// removed (`insert indirect`), or its `VALUE~` prefix stripped
/// (`prefix`). None: unchanged; `Some("")`: no cookie left.
pub fn request_value(c: &CookiePersist, value: &[u8]) -> Option<Vec<u8>> {
    let strip = c.mode == CookieMode::Insert && c.indirect;
    if !(strip || c.mode == CookieMode::Prefix) {
        return None;
    }
    let mut out: Vec<&[u8]> = Vec::new();
    let mut owned: Vec<Vec<u8>> = Vec::new();
    let mut changed = false;
    for pair in value.split(|&b| b == b';') {
        let p = pair.trim_ascii();
        let named =
            p.iter().position(|&b| b == b'=').is_some_and(|eq| p[..eq].trim_ascii() == c.name.as_bytes());
        if !named || p.is_empty() {
            if !p.is_empty() {
                out.push(p);
            }
            continue;
        }
        changed = true;
        if strip {
            continue;
        }
        let eq = p.iter().position(|&b| b == b'=').unwrap_or(0);
        let v = &p[eq + 1..];
        match v.iter().position(|&b| b == b'~') {
            Some(t) => {
                let mut n = p[..eq + 1].to_vec();
                n.extend_from_slice(&v[t + 1..]);
                owned.push(n);
            }
            None => out.push(p),
        }
    }
    if !changed {
        return None;
    }
    let mut joined: Vec<Vec<u8>> = out.into_iter().map(<[u8]>::to_vec).collect();
    joined.extend(owned);
    Some(joined.join(&b"; "[..]))
}

/// The `Set-Cookie` value strata inserts for a server whose `cookie` is
/// `server` (none: a removal), with the dates `maxidle`/`maxlife` need.
pub fn insert_value(c: &CookiePersist, server: Option<&str>, now: u32, first: u32) -> String {
    let mut v = match server {
        None => format!("{}=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/", c.name),
        Some(s) => {
            let mut v = format!("{}={s}", c.name);
            if c.maxidle > 0 || c.maxlife > 0 {
                v.push('|');
                s30tob64((now + 3) >> 2, &mut v);
                if c.maxlife > 0 {
                    v.push('|');
                    s30tob64(if first > 0 { first >> 2 } else { (now + 3) >> 2 }, &mut v);
                }
            }
            v.push_str("; path=/");
            v
        }
    };
    for d in &c.domains {
        v.push_str("; domain=");
        v.push_str(d);
    }
    if c.httponly {
        v.push_str("; HttpOnly");
    }
    if c.secure {
        v.push_str("; Secure");
    }
    for a in &c.attrs {
        v.push_str("; ");
        v.push_str(a);
    }
    v
}

/// What becomes of a `Set-Cookie` the server sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerCookie {
    Keep,
    Drop,            // `insert` without `preserve`: strata's own replaces it
    Replace(String), // `rewrite`: the server's value; `prefix`: `VALUE~` added
}

/// The fate of one `Set-Cookie` value for a response from the server
/// whose `cookie` is `server`.
pub fn server_set_cookie(c: &CookiePersist, set_cookie: &[u8], server: Option<&str>) -> ServerCookie {
    let first = set_cookie.split(|&b| b == b';').next().unwrap_or_default();
    let Some(eq) = first.iter().position(|&b| b == b'=') else { return ServerCookie::Keep };
    if first[..eq].trim_ascii() != c.name.as_bytes() {
        return ServerCookie::Keep;
    }
    let rest = &set_cookie[first.len()..];
    match (c.mode, server) {
        (CookieMode::Insert, _) if c.preserve => ServerCookie::Keep,
        (CookieMode::Insert, _) => ServerCookie::Drop,
        (_, None) => ServerCookie::Keep,
        (CookieMode::Rewrite, Some(s)) => {
            ServerCookie::Replace(format!("{}={s}{}", c.name, String::from_utf8_lossy(rest)))
        }
        (CookieMode::Prefix, Some(s)) => {
            let value = String::from_utf8_lossy(first[eq + 1..].trim_ascii());
            ServerCookie::Replace(format!("{}={s}~{value}{}", c.name, String::from_utf8_lossy(rest)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(mode: CookieMode) -> CookiePersist {
        CookiePersist { name: "SRV".into(), mode, ..CookiePersist::default() }
    }

    #[test]
    fn dates_as_haproxy_writes_them() {
        let mut s = String::new();
        s30tob64((1_796_588_925 + 3) >> 2, &mut s);
        assert_eq!(b64tos30(s.as_bytes()), Some((1_796_588_925 + 3) >> 2));
        let mut c = cfg(CookieMode::Insert);
        c.maxidle = 30;
        c.maxlife = 3600;
        c.httponly = true;
        c.secure = true;
        let v = insert_value(&c, Some("c1"), 1000, 0);
        assert!(v.starts_with("SRV=c1|") && v.ends_with("; path=/; HttpOnly; Secure"), "{v}");
        let value = v.split(';').next().unwrap().strip_prefix("SRV=").unwrap();
        let got = from_request(&c, [format!("a=1; SRV={value}").as_bytes()].into_iter(), 1010).unwrap();
        assert_eq!(got.server, b"c1");
        assert!(
            from_request(&c, [format!("SRV={value}").as_bytes()].into_iter(), 1100).is_none(),
            "idle too long"
        );
        assert!(from_request(&c, [&b"SRV=c2"[..]].into_iter(), 1100).is_some(), "no date: accepted");
    }

    #[test]
    fn request_and_response_rewrites() {
        let mut ins = cfg(CookieMode::Insert);
        ins.indirect = true;
        assert_eq!(request_value(&ins, b"a=1; SRV=c1; b=2"), Some(b"a=1; b=2".to_vec()));
        assert_eq!(request_value(&ins, b"SRV=c1"), Some(Vec::new()));
        assert_eq!(request_value(&ins, b"a=1"), None);
        let mut pre = cfg(CookieMode::Prefix);
        pre.name = "JSESSIONID".into();
        assert_eq!(request_value(&pre, b"JSESSIONID=c1~abc"), Some(b"JSESSIONID=abc".to_vec()));
        assert_eq!(
            server_set_cookie(&pre, b"JSESSIONID=abc; path=/", Some("c1")),
            ServerCookie::Replace("JSESSIONID=c1~abc; path=/".into())
        );
        let rw = cfg(CookieMode::Rewrite);
        assert_eq!(
            server_set_cookie(&rw, b"SRV=x; path=/", Some("c2")),
            ServerCookie::Replace("SRV=c2; path=/".into())
        );
        assert_eq!(server_set_cookie(&rw, b"OTHER=x", Some("c2")), ServerCookie::Keep);
        assert_eq!(server_set_cookie(&cfg(CookieMode::Insert), b"SRV=x", Some("c2")), ServerCookie::Drop);
        assert_eq!(
            from_request(&pre, [&b"JSESSIONID=c2~abc"[..]].into_iter(), 0).map(|c| c.server),
            Some(b"c2".to_vec())
        );
    }
}
