//! Matching: the methods of `-m` ([`Matcher`]), the patterns they compare
//! against ([`Pattern`], parsed once at configuration time) and the casts
//! HAProxy applies when a sample's type differs from the method's.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use regex::bytes::{Regex, RegexBuilder};

use super::error::AclErrorKind;
use super::keyword::parse_i64;
use super::source::Sample;
use super::text;

/// A matching method (`-m NAME`, or implied by a suffix such as `_beg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Matcher {
    Found, // a sample exists; patterns ignored
    Bool,  // the sample is true / non-zero; patterns ignored
    Int,
    Ip,
    Len, // string length against integer patterns
    Str,
    Beg,
    End,
    Sub,
    Reg,
    Dir, // a `/`-delimited part
    Dom, // a `.`-delimited part (`/`, `?`, `:` also delimit)
    Bin, // the sample's bytes equal a pattern written in hexadecimal
}

impl Matcher {
    /// The method called `name` after `-m`.
    pub(crate) fn from_name(name: &str) -> Option<Matcher> {
        Some(match name {
            "found" => Matcher::Found,
            "bool" => Matcher::Bool,
            "int" => Matcher::Int,
            "ip" => Matcher::Ip,
            "len" => Matcher::Len,
            "str" => Matcher::Str,
            "beg" => Matcher::Beg,
            "end" => Matcher::End,
            "sub" => Matcher::Sub,
            "reg" => Matcher::Reg,
            "dir" => Matcher::Dir,
            "dom" => Matcher::Dom,
            "bin" => Matcher::Bin,
            _ => return None,
        })
    }

    /// Whether patterns are integers (and `eq`/`gt`... operators apply).
    pub(crate) fn takes_ints(self) -> bool {
        matches!(self, Matcher::Int | Matcher::Len)
    }
}

/// One compiled pattern, owned by its expression.
#[derive(Clone, Debug)]
pub(crate) enum Pattern {
    Bytes(Box<[u8]>),
    Range { min: Option<i64>, max: Option<i64> }, // inclusive; None: open
    V4 { net: u32, mask: u32 },
    V6 { net: u128, mask: u128 },
    Regex(Regex),
}

/// Parses one pattern for `m`. `Ok(None)`: the method ignores patterns.
pub(crate) fn parse(m: Matcher, icase: bool, text: &str) -> Result<Option<Pattern>, AclErrorKind> {
    Ok(Some(match m {
        Matcher::Found | Matcher::Bool => return Ok(None),
        Matcher::Int | Matcher::Len => parse_range(text)?,
        Matcher::Ip => parse_net(text).ok_or_else(|| AclErrorKind::BadAddress { text: text.to_owned() })?,
        Matcher::Reg => Pattern::Regex(parse_regex(text, icase)?),
        Matcher::Bin => {
            Pattern::Bytes(parse_hex(text).ok_or_else(|| AclErrorKind::BadHex { text: text.to_owned() })?)
        }
        _ => Pattern::Bytes(text.as_bytes().into()),
    }))
}

/// HAProxy's `pat_parse_int`: `N`, `N:M` (or `N-M`), `N:`, `:M`.
pub(crate) fn parse_range(text: &str) -> Result<Pattern, AclErrorKind> {
    let bad = || AclErrorKind::BadRange { text: text.to_owned() };
    let Some(sep) = text.find([':', '-']) else {
        let v = parse_i64(text).ok_or_else(|| AclErrorKind::NotANumber { text: text.to_owned() })?;
        return Ok(Pattern::Range { min: Some(v), max: Some(v) });
    };
    let (lo, hi) = (&text[..sep], &text[sep + 1..]);
    if lo.is_empty() && !hi.is_empty() {
        return Ok(Pattern::Range { min: None, max: Some(parse_i64(hi).ok_or_else(bad)?) });
    }
    if hi.is_empty() {
        return Ok(Pattern::Range { min: Some(parse_i64(lo).ok_or_else(bad)?), max: None });
    }
    let (min, max) = (parse_i64(lo).ok_or_else(bad)?, parse_i64(hi).ok_or_else(bad)?);
    if min > max {
        return Err(bad());
    }
    Ok(Pattern::Range { min: Some(min), max: Some(max) })
}

/// `-m bin` patterns: an even number of hexadecimal digits.
fn parse_hex(text: &str) -> Option<Box<[u8]>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()
        .map(Vec::into_boxed_slice)
}

/// An address or network: `1.2.3.4`, `10.0.0.0/8`, `10.0.0.0/255.0.0.0`,
/// `::1`, `2001:db8::/32`. No DNS resolution (as if `-n` were always set).
pub(crate) fn parse_net(text: &str) -> Option<Pattern> {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    if let Ok(a) = addr.parse::<Ipv4Addr>() {
        let mask = match len {
            None => u32::MAX,
            Some(l) => match l.parse::<u32>() {
                Ok(0) => 0,
                Ok(n) if n <= 32 && l.bytes().all(|c| c.is_ascii_digit()) => u32::MAX << (32 - n),
                Ok(_) => return None,
                Err(_) => u32::from(l.parse::<Ipv4Addr>().ok()?),
            },
        };
        return Some(Pattern::V4 { net: u32::from(a) & mask, mask });
    }
    let a = addr.parse::<Ipv6Addr>().ok()?;
    let mask = match len {
        None => u128::MAX,
        Some(l) if !l.bytes().all(|c| c.is_ascii_digit()) => return None,
        Some(l) => match l.parse::<u32>().ok()? {
            0 => 0,
            n if n <= 128 => u128::MAX << (128 - n),
            _ => return None,
        },
    };
    Some(Pattern::V6 { net: u128::from(a) & mask, mask })
}

/// Compiles a regex as PCRE would without UTF-8 mode: bytes, ASCII classes,
/// `-i` folds ASCII case.
fn parse_regex(text: &str, icase: bool) -> Result<Regex, AclErrorKind> {
    RegexBuilder::new(text).unicode(false).case_insensitive(icase).build().map_err(|e| {
        let detail = match &e {
            regex::Error::Syntax(s) => {
                s.lines().find_map(|l| l.strip_prefix("error: ")).unwrap_or(s.as_str()).to_owned()
            }
            other => other.to_string(),
        };
        AclErrorKind::BadRegex { regex: text.to_owned(), detail }
    })
}

/// Whether sample `s` matches any of `pats` with method `m`.
/// Casts as HAProxy does: integers and addresses are printed for string
/// methods, strings are read as integers (leading digits) or addresses.
pub(crate) fn matches(m: Matcher, icase: bool, pats: &[Pattern], s: Sample<'_>) -> bool {
    match m {
        Matcher::Found => true,
        Matcher::Bool => match s {
            Sample::Bool(b) => b,
            Sample::Int(i) => i != 0,
            Sample::Str(b) => !b.is_empty() && text::read_int(b) != 0,
            Sample::Ip(_) | Sample::Bin(_) => false,
        },
        Matcher::Int => {
            let v = match s {
                Sample::Int(i) => i,
                Sample::Bool(b) => i64::from(b),
                Sample::Str(b) if !b.is_empty() => text::read_int(b),
                Sample::Ip(IpAddr::V4(a)) => i64::from(u32::from(a)),
                _ => return false,
            };
            in_ranges(pats, v)
        }
        Matcher::Ip => {
            let ip = match s {
                Sample::Ip(ip) => ip,
                Sample::Str(b) => match std::str::from_utf8(b).ok().and_then(|t| t.parse().ok()) {
                    Some(ip) => ip,
                    None => return false,
                },
                Sample::Int(i) => match u32::try_from(i) {
                    Ok(v) => IpAddr::V4(Ipv4Addr::from(v)),
                    Err(_) => return false,
                },
                Sample::Bool(_) | Sample::Bin(_) => return false,
            };
            pats.iter().any(|p| ip_in(p, ip))
        }
        _ => with_bytes(s, |b| match m {
            Matcher::Len => in_ranges(pats, i64::try_from(b.len()).unwrap_or(i64::MAX)),
            Matcher::Reg => pats.iter().any(|p| matches!(p, Pattern::Regex(r) if r.is_match(b))),
            Matcher::Bin => pats.iter().any(|p| matches!(p, Pattern::Bytes(p) if **p == *b)),
            _ => pats.iter().any(|p| match p {
                Pattern::Bytes(p) => str_match(m, icase, p, b),
                _ => false,
            }),
        }),
    }
}

fn in_ranges(pats: &[Pattern], v: i64) -> bool {
    pats.iter().any(|p| match p {
        Pattern::Range { min, max } => min.is_none_or(|m| v >= m) && max.is_none_or(|m| v <= m),
        _ => false,
    })
}

/// IPv4 samples also match IPv4-mapped IPv6 networks and the reverse.
pub(crate) fn ip_in(p: &Pattern, ip: IpAddr) -> bool {
    match (p, ip) {
        (&Pattern::V4 { net, mask }, IpAddr::V4(a)) => u32::from(a) & mask == net,
        (&Pattern::V4 { net, mask }, IpAddr::V6(a)) => {
            a.to_ipv4_mapped().is_some_and(|a| u32::from(a) & mask == net)
        }
        (&Pattern::V6 { net, mask }, IpAddr::V6(a)) => u128::from(a) & mask == net,
        (&Pattern::V6 { net, mask }, IpAddr::V4(a)) => u128::from(a.to_ipv6_mapped()) & mask == net,
        _ => false,
    }
}

/// Runs `f` on the sample as bytes; numbers and addresses are printed into
/// a stack buffer (no allocation).
fn with_bytes(s: Sample<'_>, f: impl FnOnce(&[u8]) -> bool) -> bool {
    let mut buf = [0u8; 64];
    let printed = |buf: &mut [u8; 64], v: &dyn std::fmt::Display| -> usize {
        let mut cur = &mut buf[..];
        let room = cur.len();
        match write!(cur, "{v}") {
            Ok(()) => room - cur.len(),
            Err(_) => 0,
        }
    };
    match s {
        Sample::Str(b) => f(b),
        Sample::Bin(b) => f(b),
        Sample::Bool(b) => f(if b { b"1" } else { b"0" }),
        Sample::Int(i) => {
            let n = printed(&mut buf, &i);
            f(&buf[..n])
        }
        Sample::Ip(ip) => {
            let n = printed(&mut buf, &ip);
            f(&buf[..n])
        }
    }
}

fn eq(a: &[u8], b: &[u8], icase: bool) -> bool {
    if icase { a.eq_ignore_ascii_case(b) } else { a == b }
}

/// The string methods: `p` is the pattern, `s` the sample.
pub(crate) fn str_match(m: Matcher, icase: bool, p: &[u8], s: &[u8]) -> bool {
    match m {
        Matcher::Str => eq(p, s, icase),
        Matcher::Beg => s.len() >= p.len() && eq(p, &s[..p.len()], icase),
        Matcher::End => s.len() >= p.len() && eq(p, &s[s.len() - p.len()..], icase),
        Matcher::Sub => p.is_empty() || s.windows(p.len()).any(|w| eq(p, w, icase)),
        Matcher::Dir => word_match(p, s, icase, b"/?"),
        Matcher::Dom => word_match(p, s, icase, b"/?.:"),
        _ => false,
    }
}

/// HAProxy's `match_word`: `p` (stripped of its own leading and trailing
/// delimiters) appears in `s` bounded by delimiters or the string ends.
fn word_match(p: &[u8], s: &[u8], icase: bool, delims: &[u8]) -> bool {
    let is_delim = |c: &u8| delims.contains(c);
    let start = p.iter().position(|c| !is_delim(c)).unwrap_or(p.len());
    let end = p.iter().rposition(|c| !is_delim(c)).map_or(start, |e| e + 1);
    let p = &p[start..end.max(start)];
    if p.is_empty() || p.len() > s.len() {
        return false;
    }
    let mut may_match = true;
    for i in 0..=s.len() - p.len() {
        if is_delim(&s[i]) {
            may_match = true;
            continue;
        }
        if may_match && eq(p, &s[i..i + p.len()], icase) && s.get(i + p.len()).is_none_or(is_delim) {
            return true;
        }
        may_match = false;
    }
    false
}
