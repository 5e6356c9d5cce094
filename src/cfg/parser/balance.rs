//! `balance`, `hash-type` and `hash-balance-factor` in backend-side
//! sections, with HAProxy 2.6's arguments and error texts.

use super::args::{Res, int, no_extra};
use super::section::Open;
use crate::cfg::balance::{Balance, HashFn, HashType, UriHash};

/// `balance <algorithm> [arguments]`. Errors read `balance <reason>`, as
/// HAProxy prints them.
pub(super) fn balance(o: &mut Open, words: &[String]) -> Res {
    o.px.balance = algorithm(words).map_err(|e| format!("balance {e}"))?;
    o.px.balance_set = true;
    Ok(())
}

/// The algorithm a `balance` line names.
fn algorithm(words: &[String]) -> Result<Balance, String> {
    let v = words.get(1).map_or("", String::as_str);
    let args = &words[2.min(words.len())..];
    Ok(match v {
        "roundrobin" => simple(Balance::RoundRobin, words)?,
        "static-rr" => simple(Balance::StaticRr, words)?,
        "leastconn" => simple(Balance::LeastConn, words)?,
        "first" => simple(Balance::First, words)?,
        "source" => simple(Balance::Source, words)?,
        "uri" => Balance::Uri(uri(args)?),
        "url_param" => {
            let name =
                args.first().filter(|n| !n.is_empty()).ok_or("url_param requires an URL parameter name.")?;
            let check_post = match args.get(1).map(String::as_str) {
                None => false,
                // HAProxy ignores the old <max_wait> argument after it.
                Some("check_post") => true,
                Some(m) => return Err(format!("url_param only accepts 'check_post' modifier (got '{m}').")),
            };
            Balance::UrlParam { name: name.clone(), check_post }
        }
        "hash" => return Err("'hash' is not supported by strata yet.".into()),
        _ if v.starts_with("random") => random(v)?,
        _ if v.starts_with("hdr(") => {
            let name = v[4..].split_once(')').map(|(n, _)| n).filter(|n| !n.is_empty());
            let name = name.ok_or("hdr requires an http header field name.")?;
            let use_domain_only = match args.first().map(String::as_str) {
                None => false,
                Some("use_domain_only") => true,
                Some(m) => return Err(format!("{v} only accepts 'use_domain_only' modifier (got '{m}').")),
            };
            Balance::Hdr { name: name.to_string(), use_domain_only }
        }
        _ if v.starts_with("rdp-cookie") => {
            let name = match &v[10..] {
                "" => "mstshash",
                rest => rest
                    .strip_prefix('(')
                    .and_then(|r| r.split_once(')'))
                    .map(|(n, _)| n)
                    .filter(|n| !n.is_empty())
                    .ok_or("rdp-cookie : missing cookie name.")?,
            };
            Balance::RdpCookie(name.to_string())
        }
        _ => return Err(ONLY.into()),
    })
}

/// HAProxy's text for an unknown algorithm.
const ONLY: &str = "only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', \
                    'hdr(name)' and 'rdp-cookie(name)' options.";

/// An algorithm without arguments.
fn simple(algo: Balance, words: &[String]) -> Result<Balance, String> {
    match words.get(2) {
        Some(x) => Err(format!("{} takes no argument (got '{x}').", words[1])),
        None => Ok(algo),
    }
}

/// `uri [len N] [depth N] [whole] [path-only]`.
fn uri(args: &[String]) -> Result<UriHash, String> {
    let mut u = UriHash::default();
    let mut i = 0;
    while let Some(a) = args.get(i) {
        match a.as_str() {
            "len" | "depth" => {
                let n = args.get(i + 1).and_then(|n| n.parse::<usize>().ok()).filter(|n| *n > 0).ok_or_else(
                    || {
                        format!(
                            "uri : '{a}' expects a positive integer (got '{}').",
                            args.get(i + 1).map_or("", String::as_str)
                        )
                    },
                )?;
                if a == "len" {
                    u.len = n;
                } else {
                    u.depth = n;
                }
                i += 2;
            }
            "whole" => {
                u.whole = true;
                i += 1;
            }
            "path-only" => {
                u.path_only = true;
                i += 1;
            }
            _ => {
                return Err(format!(
                    "uri only accepts parameters 'len', 'depth', 'path-only', and 'whole' (got '{a}')."
                ));
            }
        }
    }
    Ok(u)
}

/// `random` or `random(DRAWS)`.
fn random(v: &str) -> Result<Balance, String> {
    let rest = &v[6..];
    if rest.is_empty() || rest == "()" {
        return Ok(Balance::Random { draws: 2 });
    }
    let Some(inner) = rest.strip_prefix('(') else { return Err(ONLY.into()) };
    let digits: String = inner.chars().take_while(|c| c.is_ascii_digit() || *c == '-').collect();
    match inner[digits.len()..].chars().next() {
        None => return Err("random : missing closing parenthesis.".into()),
        Some(')') => {}
        Some(c) => return Err(format!("random : unexpected character '{c}' after argument.")),
    }
    match digits.parse::<i64>() {
        Ok(n) if n >= 1 => Ok(Balance::Random { draws: n.min(u32::MAX as i64) as u32 }),
        _ => Err("random : number of draws must be at least 1.".into()),
    }
}

/// `hash-type map-based|consistent [sdbm|djb2|wt6|crc32 [avalanche]]`.
pub(super) fn hash_type(o: &mut Open, words: &[String]) -> Res {
    let consistent = match words.get(1).map(String::as_str) {
        Some("consistent") => true,
        Some("map-based") => false,
        Some("avalanche") => {
            return Err("experimental feature 'hash-type avalanche' is not supported anymore, please use \
                        'hash-type map-based sdbm avalanche' instead."
                .into());
        }
        _ => return Err("'hash-type' only supports 'consistent' and 'map-based'.".into()),
    };
    let (function, avalanche) = match words.get(2).map(String::as_str) {
        // Consistent hashing without a function: sdbm with avalanche.
        None => (HashFn::Sdbm, consistent),
        Some(f) => {
            let function = match f {
                "sdbm" => HashFn::Sdbm,
                "djb2" => HashFn::Djb2,
                "wt6" => HashFn::Wt6,
                "crc32" => HashFn::Crc32,
                _ => {
                    return Err(
                        "'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions.".into(),
                    );
                }
            };
            let avalanche = match words.get(3).map(String::as_str) {
                None => false,
                Some("avalanche") => true,
                Some(_) => {
                    return Err(
                        "'hash-type' only supports 'avalanche' as a modifier for hash functions.".into()
                    );
                }
            };
            no_extra("hash-type", words, 4)?;
            (function, avalanche)
        }
    };
    o.px.hash_type = HashType { consistent, function, avalanche };
    Ok(())
}

/// `hash-balance-factor N`: 0 (off) or above 100.
pub(super) fn hash_balance_factor(o: &mut Open, words: &[String]) -> Res {
    let n: u32 = int("hash-balance-factor", words.get(1))?;
    if n != 0 && n <= 100 {
        return Err("'hash-balance-factor' must be 0 or greater than 100.".into());
    }
    no_extra("hash-balance-factor", words, 2)?;
    o.px.hash_balance_factor = n;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn random_draws() {
        assert_eq!(random("random"), Ok(Balance::Random { draws: 2 }));
        assert_eq!(random("random(3)"), Ok(Balance::Random { draws: 3 }));
        assert_eq!(random("random(0)"), Err("random : number of draws must be at least 1.".into()));
        assert_eq!(random("random(2x)"), Err("random : unexpected character 'x' after argument.".into()));
        assert_eq!(random("random(2"), Err("random : missing closing parenthesis.".into()));
    }

    #[test]
    fn uri_arguments() {
        assert_eq!(
            uri(&w("whole len 5 depth 2 path-only")),
            Ok(UriHash { len: 5, depth: 2, whole: true, path_only: true })
        );
        assert_eq!(uri(&w("len 0")), Err("uri : 'len' expects a positive integer (got '0').".into()));
        assert!(uri(&w("deep")).is_err());
    }
}
