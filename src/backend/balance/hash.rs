//! The keys hash-based balancing reads from a request and the hash
//! functions `hash-type` names, computed as HAProxy 2.6 computes them so
//! that a key lands on the same server as behind HAProxy.

use crate::cfg::{HashFn, HashType, UriHash};
use std::net::IpAddr;

/// `hash-type`'s function over `key`, then the avalanche modifier.
pub fn hash(t: &HashType, key: &[u8]) -> u32 {
    let h = match t.function {
        HashFn::Sdbm => sdbm(key),
        HashFn::Djb2 => djb2(key),
        HashFn::Wt6 => wt6(key),
        HashFn::Crc32 => crc32(key),
    };
    if t.avalanche { full_hash(h) } else { h }
}

/// `balance source`: the address as big-endian 32-bit words XORed
/// together, then the avalanche modifier (no hash function applies).
pub fn source(t: &HashType, ip: IpAddr) -> u32 {
    let fold = |bytes: &[u8]| {
        bytes.chunks_exact(4).fold(0u32, |h, w| h ^ u32::from_be_bytes([w[0], w[1], w[2], w[3]]))
    };
    let h = match ip {
        IpAddr::V4(a) => fold(&a.octets()),
        IpAddr::V6(a) => fold(&a.octets()),
    };
    if t.avalanche { full_hash(h) } else { h }
}

/// Bob Jenkins' 32-bit full avalanche integer hash, times a prime close
/// to 3/4 of 2^32 (HAProxy's `full_hash`): also the positions of servers
/// on the consistent-hashing ring.
pub fn full_hash(a: u32) -> u32 {
    let mut a = a;
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    a.wrapping_mul(3_221_225_473)
}

fn sdbm(key: &[u8]) -> u32 {
    key.iter().fold(0u32, |h, &c| (c as u32).wrapping_add(h << 6).wrapping_add(h << 16).wrapping_sub(h))
}

fn djb2(key: &[u8]) -> u32 {
    key.iter().fold(5381u32, |h, &c| (h << 5).wrapping_add(h).wrapping_add(c as u32))
}

fn wt6(key: &[u8]) -> u32 {
    let (mut h0, mut h1) = (0xa53c_965a_u32, 0x5ca6_953a_u32);
    let (mut step0, mut step1) = (6u32, 18u32);
    for &c in key {
        let t = c as u32;
        h0 = !(h0 ^ t);
        h1 = !(h1.wrapping_add(t));
        let t = h1.rotate_left(step0);
        h1 = h0.rotate_left(step1);
        h0 = t;
        let t = ((h0 >> 16) ^ h1) & 0xffff;
        step0 = t & 0x1f;
        step1 = t >> 11;
    }
    h0 ^ h1
}

fn crc32(key: &[u8]) -> u32 {
    let mut h = !0u32;
    for &c in key {
        h ^= c as u32;
        for _ in 0..8 {
            h = (h >> 1) ^ if h & 1 != 0 { 0xedb8_8320 } else { 0 };
        }
    }
    !h
}

/// `balance uri`: the part of the URI that is hashed (up to `?` unless
/// `whole`, at most `len` bytes, stopping at the `depth+1`-th slash;
/// `path-only` first skips the scheme and authority of an absolute URI).
pub fn uri_key<'a>(u: &UriHash, uri: &'a [u8]) -> &'a [u8] {
    let mut uri = uri;
    if u.path_only {
        uri = path_of(uri);
    }
    let max = if u.len > 0 { u.len.min(uri.len()) } else { uri.len() };
    let mut slashes = 0;
    let mut end = 0;
    while end < max {
        match uri[end] {
            b'/' => {
                slashes += 1;
                if u.depth > 0 && slashes == u.depth + 1 {
                    break;
                }
            }
            b'?' if !u.whole => break,
            _ => {}
        }
        end += 1;
    }
    &uri[..end]
}

/// The path (and query) of a URI: from the first `/` after the authority
/// of an absolute URI, the whole origin form otherwise; empty for `*`.
fn path_of(uri: &[u8]) -> &[u8] {
    if uri.first() == Some(&b'/') {
        return uri;
    }
    let Some(scheme_end) = uri.windows(3).position(|w| w == b"://") else { return &[] };
    let authority = &uri[scheme_end + 3..];
    match authority.iter().position(|&b| b == b'/' || b == b'?') {
        Some(p) if authority[p] == b'/' => &authority[p..],
        _ => &[],
    }
}

/// `balance url_param NAME`: the value of parameter `name` in the query
/// string of `uri` (`NAME=value`, up to the next `&`).
pub fn url_param<'a>(uri: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let q = uri.iter().position(|&b| b == b'?')?;
    param_value(&uri[q + 1..], name.as_bytes())
}

/// `check_post`: the parameter in a POST body. The body must look
/// URL-encoded up to the value's end (a blank ends it early); anything
/// else means it holds no parameters.
pub fn post_param<'a>(body: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let v = param_value(body, name.as_bytes())?;
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    let mut end = 0;
    for &b in v {
        if !token(b) {
            if matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
                break;
            }
            return None;
        }
        end += 1;
    }
    Some(&v[..end])
}

/// The value of `name=` in an `a=1&b=2` list.
fn param_value<'a>(list: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    list.split(|&b| b == b'&').find_map(|p| {
        let v = p.strip_prefix(name)?.strip_prefix(b"=")?;
        Some(v)
    })
}

/// `hdr(NAME) use_domain_only`: the main domain of a host name, its label
/// before the TLD (`1wt` in `haproxy.1wt.eu`); a name without a dot is
/// hashed whole.
pub fn domain_only(value: &[u8]) -> &[u8] {
    let Some(last_dot) = value.iter().rposition(|&b| b == b'.') else { return value };
    let start = value[..last_dot].iter().rposition(|&b| b == b'.').map_or(0, |p| p + 1);
    &value[start..last_dot]
}

/// `balance rdp-cookie(NAME)`: the value of `Cookie: NAME=value` in an
/// RDP connection request (an X.224 packet whose text starts at byte 11,
/// the line ended by CRLF). The name matches in any case. None also while
/// the line is incomplete.
pub fn rdp_cookie<'a>(payload: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let text = payload.get(11..)?;
    let rest = text.get(..7).filter(|c| c.eq_ignore_ascii_case(b"Cookie:")).map(|_| &text[7..])?;
    let rest = &rest[rest.iter().take_while(|&&b| b == b' ').count()..];
    let (cname, rest) = (rest.get(..name.len())?, rest.get(name.len()..)?);
    if !cname.eq_ignore_ascii_case(name.as_bytes()) || rest.first() != Some(&b'=') {
        return None;
    }
    let value = &rest[1..];
    let end = value.iter().position(|&b| b == b'\r')?;
    (value.get(end + 1) == Some(&b'\n')).then_some(&value[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDBM: HashType = HashType { consistent: false, function: HashFn::Sdbm, avalanche: false };

    /// Reference values computed with HAProxy 2.6's C functions.
    #[test]
    fn functions_give_haproxys_values() {
        assert_eq!(sdbm(b"/url1"), 4_103_199_409);
        assert_eq!(djb2(b"abc"), 193_485_963);
        assert_eq!(wt6(b"abc"), 2_483_038_440);
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926, "the CRC-32 check value");
        assert_eq!(
            (full_hash(0), full_hash(1), full_hash(4096)),
            (2_874_071_335, 881_230_262, 1_237_450_891)
        );
    }

    #[test]
    fn uri_keys() {
        let u = UriHash::default();
        assert_eq!(uri_key(&u, b"/url1?ignore=this-arg"), b"/url1");
        assert_eq!(uri_key(&UriHash { whole: true, ..u }, b"/a?b"), b"/a?b");
        assert_eq!(uri_key(&UriHash { depth: 1, ..u }, b"/a/b/c"), b"/a");
        assert_eq!(uri_key(&UriHash { len: 3, ..u }, b"/abcdef"), b"/ab");
        assert_eq!(uri_key(&UriHash { path_only: true, ..u }, b"http://h:80/p?q"), b"/p");
    }

    #[test]
    fn parameters_domains_and_rdp_cookies() {
        assert_eq!(url_param(b"/x?a=1&user=bob&c", "user"), Some(&b"bob"[..]));
        assert_eq!(url_param(b"/x?username=1", "user"), None);
        assert_eq!(post_param(b"user=bob jr", "user"), Some(&b"bob"[..]));
        assert_eq!(post_param(b"user=\x01\x02", "user"), None);
        assert_eq!(domain_only(b"haproxy.1wt.eu"), b"1wt");
        assert_eq!(domain_only(b"localhost"), b"localhost");
        let mut rdp = vec![0u8; 11];
        rdp.extend_from_slice(b"Cookie: mstshash=alice\r\n\x01");
        assert_eq!(rdp_cookie(&rdp, "MSTSHASH"), Some(&b"alice"[..]));
        assert_eq!(rdp_cookie(&rdp[..20], "mstshash"), None, "incomplete");
        assert_eq!(source(&SDBM, "1.2.3.4".parse().expect("ip")), 0x0102_0304);
    }
}
