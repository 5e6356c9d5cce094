//! HAProxy 2.6's caching rules, as pure functions over header lists:
//! which requests may use or fill the cache, which responses are stored
//! and for how long (`Cache-Control`, `Expires`, `Age`), the Vary
//! secondary key is [`super::vary`]'s, and conditional requests are
//! answered with a 304.

use sha1::{Digest, Sha1};

use super::store::{Entry, Primary};
use crate::l7_http::head::tokens;

/// Header lines as (name, value).
pub type Headers<'a> = &'a [(&'a [u8], &'a [u8])];

fn values<'a>(h: Headers<'a>, name: &'static str) -> impl Iterator<Item = &'a [u8]> + 'a {
    h.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes())).map(|(_, v)| *v)
}

/// The primary key: SHA-1 of the Host value and the URI.
pub fn primary_key(host: &[u8], uri: &[u8]) -> Primary {
    let mut h = Sha1::new();
    h.update(host);
    h.update(uri);
    h.finalize().into()
}

/// What a request allows (HAProxy's `TX_CACHE_IGNORE` / `TX_CACHEABLE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestCache {
    pub may_use: bool,   // a stored answer may be served
    pub may_store: bool, // its response may be stored
}

/// HTTP/1.1 GET or HEAD; no `Authorization`; `Cache-Control: no-cache`,
/// `max-age`, `max-stale`, `min-fresh` (or `Pragma: no-cache` without
/// Cache-Control) skip the lookup; `no-store` forbids storing.
pub fn request(http11: bool, method: &[u8], h: Headers<'_>) -> RequestCache {
    let safe = matches!(method, b"GET" | b"HEAD" | b"OPTIONS" | b"TRACE");
    let mut r = RequestCache { may_use: http11 && (method == b"GET" || method == b"HEAD"), may_store: safe };
    if values(h, "authorization").next().is_some() {
        r = RequestCache { may_use: false, may_store: false };
    }
    let mut cc_found = false;
    for v in values(h, "cache-control").flat_map(tokens) {
        cc_found = true;
        let lower = v.to_ascii_lowercase();
        if ["max-age", "no-cache", "max-stale", "min-fresh"].iter().any(|p| lower.starts_with(p.as_bytes())) {
            r.may_use = false;
        } else if lower.starts_with(b"no-store") {
            r.may_store = false;
        }
    }
    if !cc_found && values(h, "pragma").any(|v| v.trim_ascii().eq_ignore_ascii_case(b"no-cache")) {
        r.may_use = false;
    }
    r
}

/// How a response is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreAs {
    pub max_age: u64, // seconds it stays fresh (capped by the cache's `max-age`)
    pub age: u64,     // the `Age` it arrived with
    pub last_modified: i64,
    pub etag: Option<Box<[u8]>>,
}

/// Whether (and how) a 200 response is stored, at Unix time `now`:
/// nothing `private`, `no-cache`, `no-store`, `max-age=0`, `s-maxage=0`,
/// `Pragma: no-cache`; freshness from `s-maxage`, `max-age` or `Expires`,
/// or at least a validator (`ETag`, `Last-Modified`); a valid `Age` not
/// beyond the freshness; no `Set-Cookie` unless `public` (strata: HAProxy
/// 2.6 would store and replay another client's cookie).
pub fn response(status: u16, h: Headers<'_>, cache_max_age: u64, now: i64) -> Option<StoreAs> {
    if status != 200 {
        return None;
    }
    if values(h, "pragma").any(|v| v.trim_ascii().eq_ignore_ascii_case(b"no-cache")) {
        return None;
    }
    let mut public = false;
    let (mut maxage, mut smaxage): (Option<i64>, Option<i64>) = (None, None);
    for v in values(h, "cache-control").flat_map(tokens) {
        let lower = v.to_ascii_lowercase();
        match lower.as_slice() {
            b"public" => public = true,
            b"private" | b"no-cache" | b"no-store" | b"max-age=0" | b"s-maxage=0" => return None,
            _ => {}
        }
        let num = |prefix: &[u8]| -> Option<Option<i64>> {
            let rest = lower.strip_prefix(prefix)?;
            let rest = rest.strip_prefix(b"\"").unwrap_or(rest);
            let digits: Vec<u8> = rest.iter().copied().take_while(u8::is_ascii_digit).collect();
            Some(std::str::from_utf8(&digits).ok().and_then(|d| d.parse().ok()))
        };
        if let Some(v) = num(b"s-maxage=") {
            smaxage = Some(v?); // malformed: not stored
        } else if let Some(v) = num(b"max-age=") {
            maxage = Some(v?);
        }
    }
    if values(h, "set-cookie").next().is_some() && !public {
        return None;
    }
    let expires = if maxage.is_none() && smaxage.is_none() {
        values(h, "expires").next().map(|v| parse_http_date(v).map_or(0, |t| (t - now).max(0)))
    } else {
        None
    };
    let etag: Option<Box<[u8]>> = values(h, "etag").next().map(Into::into);
    let last_modified_hdr = values(h, "last-modified").next().and_then(parse_http_date);
    let fresh = smaxage.filter(|v| *v > 0).or(maxage.filter(|v| *v > 0)).or(expires);
    if fresh.is_none() && etag.is_none() && last_modified_hdr.is_none() {
        return None; // neither freshness nor validator (RFC 9111 section 3)
    }
    let true_max = fresh.unwrap_or(cache_max_age as i64);
    let effective = fresh.map_or(cache_max_age as i64, |f| f.min(cache_max_age as i64));
    let mut age = 0;
    if let Some(a) = values(h, "age").next() {
        let a = std::str::from_utf8(a.trim_ascii()).ok().and_then(|t| t.parse::<i64>().ok())?;
        if a <= 0 {
            return None;
        }
        if a > true_max {
            return None; // already stale
        }
        age = a as u64;
    }
    let last_modified =
        last_modified_hdr.or_else(|| values(h, "date").next().and_then(parse_http_date)).unwrap_or(now);
    Some(StoreAs { max_age: effective.max(0) as u64, age, last_modified, etag })
}

/// The header lines of a stored entry's head, as (name, value).
pub fn head_lines(e: &Entry) -> impl Iterator<Item = (&[u8], &[u8])> {
    e.head.split(|&c| c == b'\n').skip(1).filter_map(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = line.iter().position(|&c| c == b':')?;
        Some((&line[..colon], &line[colon + 1..]))
    })
}

/// Whether a request for a stored entry gets a 304: `If-None-Match`
/// (weak comparison, `*` matching anything) when present, else
/// `If-Modified-Since` not before the entry's last modification.
pub fn not_modified(e: &Entry, req: Headers<'_>) -> bool {
    let mut inm = values(req, "if-none-match").peekable();
    if inm.peek().is_some() {
        let Some(etag) = e.etag.as_deref() else { return false };
        let weak = |t: &[u8]| t.strip_prefix(b"W/").unwrap_or(t).to_vec();
        return inm.flat_map(tokens).any(|t| t == b"*" || weak(t) == weak(etag));
    }
    match values(req, "if-modified-since").next().and_then(parse_http_date) {
        Some(t) => e.last_modified <= t,
        None => false,
    }
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 date
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) or asctime date
/// (`Sun Nov  6 08:49:37 1994`) as Unix seconds.
pub fn parse_http_date(v: &[u8]) -> Option<i64> {
    let t = std::str::from_utf8(v).ok()?.trim();
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = |m: &str| months.iter().position(|x| *x == m).map(|i| i as u32 + 1);
    let hms = |s: &str| -> Option<(u32, u32, u32)> {
        let mut p = s.split(':');
        let r = (p.next()?.parse().ok()?, p.next()?.parse().ok()?, p.next()?.parse().ok()?);
        (r.0 < 24 && r.1 < 60 && r.2 < 61 && p.next().is_none()).then_some(r)
    };
    let (y, mo, d, time): (i64, u32, u32, (u32, u32, u32)) = if let Some((_, rest)) = t.split_once(", ") {
        let parts: Vec<&str> = rest.split(' ').collect();
        match parts.as_slice() {
            [d, m, y, hm, "GMT"] => (y.parse().ok()?, month(m)?, d.parse().ok()?, hms(hm)?),
            [dmy, hm, "GMT"] => {
                let mut p = dmy.split('-');
                let (d, m, y) = (p.next()?, p.next()?, p.next()?);
                let y: i64 = y.parse().ok()?;
                (if y < 70 { 2000 + y } else { 1900 + y }, month(m)?, d.parse().ok()?, hms(hm)?)
            }
            _ => return None,
        }
    } else {
        let parts: Vec<&str> = t.split_whitespace().collect();
        match parts.as_slice() {
            [_, m, d, hm, y] => (y.parse().ok()?, month(m)?, d.parse().ok()?, hms(hm)?),
            _ => return None,
        }
    };
    if !(1..=31).contains(&d) {
        return None;
    }
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy.rem_euclid(400);
    let mp = (i64::from(mo) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some(days * 86_400 + i64::from(time.0) * 3600 + i64::from(time.1) * 60 + i64::from(time.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_the_three_formats() {
        assert_eq!(parse_http_date(b"Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse_http_date(b"Sunday, 06-Nov-94 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse_http_date(b"Sun Nov  6 08:49:37 1994"), Some(784_111_777));
        assert_eq!(parse_http_date(b"yesterday"), None);
    }

    #[test]
    fn storing_rules_as_haproxy() {
        let now = 1_000_000;
        let r = |h: &[(&[u8], &[u8])]| response(200, h, 60, now);
        assert_eq!(r(&[(b"Cache-Control", b"max-age=5")]).map(|s| s.max_age), Some(5));
        assert_eq!(
            r(&[(b"Cache-Control", b"s-maxage=500")]).map(|s| s.max_age),
            Some(60),
            "capped by max-age"
        );
        assert!(r(&[]).is_none(), "neither freshness nor validator");
        assert!(r(&[(b"ETag", b"\"x\"")]).is_some());
        assert!(r(&[(b"Cache-Control", b"max-age=5"), (b"Age", b"abc")]).is_none());
        assert!(r(&[(b"Cache-Control", b"max-age=5"), (b"Age", b"10")]).is_none());
        assert_eq!(r(&[(b"Cache-Control", b"max-age=500"), (b"Age", b"100")]).map(|s| s.age), Some(100));
        assert!(r(&[(b"Cache-Control", b"private, max-age=5")]).is_none());
        assert!(r(&[(b"Cache-Control", b"max-age=5"), (b"Set-Cookie", b"a=b")]).is_none());
        assert!(r(&[(b"Cache-Control", b"public, max-age=5"), (b"Set-Cookie", b"a=b")]).is_some());
        assert!(response(404, &[(b"Cache-Control", b"max-age=5")], 60, now).is_none());
        let req = request(true, b"GET", &[(b"Cache-Control", b"no-cache")]);
        assert_eq!(req, RequestCache { may_use: false, may_store: true });
        assert!(!request(false, b"GET", &[]).may_use, "HTTP/1.0");
        assert!(!request(true, b"GET", &[(b"Authorization", b"x")]).may_store);
    }
}
