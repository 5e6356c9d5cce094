//! `global` keywords of HAProxy 2.6 that strata obeys in a line or accepts
//! with a warning, each checked first as HAProxy checks it (its error
//! texts): `master-worker` (as `-W`), `thread-group` (strata's one group),
//! `h1-accept-payload-with-any-method`, `close-spread-time`,
//! `cluster-secret` (QUIC only), `httpclient.*` (no internal HTTP client),
//! the compression limits, `ssl-load-extra-files` /
//! `ssl-load-extra-del-ext` and the OpenSSL-only `ssl-*` keywords.
//! Called by `process::line` before the lists of `known`.

use super::args::Res;
use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::model::{Global, Loc};

/// Applies `words` when its keyword is one of this module's; `None` when
/// it is not.
pub(super) fn keyword(g: &mut Global, words: &[String], loc: &Loc, diags: &mut Diagnostics) -> Option<Res> {
    let kw = words[0].as_str();
    let arg = words.get(1).map_or("", String::as_str);
    let mut warn = |why: &str| {
        diags.push(Diag::warning(loc, format!("'{kw}' has no effect in strata ({why}); ignored.")));
        Ok(())
    };
    Some(match kw {
        "master-worker" => match arg {
            "" => {
                g.process.master_worker = true;
                Ok(())
            }
            "no-exit-on-failure" => {
                Err("'master-worker no-exit-on-failure' is not supported by strata yet.".into())
            }
            _ => Err("'master-worker' only supports 'no-exit-on-failure' option.".into()),
        },
        "thread-group" => thread_group(g, words),
        "h1-accept-payload-with-any-method" => {
            no_arg(kw, words).map(|()| g.h1_accept_payload_with_any_method = true)
        }
        "pp2-never-send-local" => {
            if let Err(e) = no_arg(kw, words) {
                return Some(Err(e));
            }
            warn("strata's health checks always send the LOCAL command, HAProxy 2.6's default")
        }
        "close-spread-time" => {
            if arg.is_empty() {
                return Some(Err("'close-spread-time' expects <time> as argument.".into()));
            }
            if arg != "infinite"
                && let Err(e) = crate::cfg::time::parse_time_checked(arg)
            {
                return Some(Err(match e {
                    crate::cfg::time::TimeError::BadChar(c) => {
                        format!("unexpected character '{c}' in argument to <close-spread-time>.")
                    }
                    _ => format!("'close-spread-time' : {e}"),
                }));
            }
            warn("a soft stop does not spread the closing of idle connections over time")
        }
        "cluster-secret" => {
            if arg.is_empty() {
                return Some(Err("expects an ASCII string argument.".into()));
            }
            warn("it keys QUIC tokens, and strata has no QUIC")
        }
        "httpclient.ssl.verify" if !matches!(arg, "none" | "required") => {
            Err("'httpclient.ssl.verify' expects 'none' or 'required' as argument.".into())
        }
        "httpclient.resolvers.prefer" if !matches!(arg, "ipv4" | "ipv6") => {
            Err("'httpclient.resolvers.prefer' expects 'ipv4' or 'ipv6' as argument.".into())
        }
        "httpclient.ssl.ca-file" | "httpclient.resolvers.id" if arg.is_empty() => {
            Err(format!("'{kw}' expects a file path as argument."))
        }
        "httpclient.ssl.verify"
        | "httpclient.resolvers.prefer"
        | "httpclient.ssl.ca-file"
        | "httpclient.resolvers.id" => {
            warn("strata has no internal HTTP client: HAProxy's serves Lua scripts")
        }
        "maxcomprate" | "maxcompcpuusage" | "maxzlibmem" => {
            let ok = !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_digit());
            if !ok {
                return Some(Err(format!("'{kw}' expects an integer argument.")));
            }
            if kw == "maxcompcpuusage" && arg.parse::<u32>().map_or(true, |n| n > 100) {
                return Some(Err("'maxcompcpuusage' expects an integer argument between 0 and 100.".into()));
            }
            warn("strata compresses every response its filter selects, without a rate, CPU or memory bound")
        }
        "ssl-load-extra-files" => {
            let all = ["none", "all", "bundle", "sctl", "ocsp", "issuer", "key"];
            if words.len() < 2 || words[1..].iter().any(|w| !all.contains(&w.as_str())) {
                return Some(Err("'ssl-load-extra-files' expects one or multiple arguments (none, all, \
                                 bundle, sctl, ocsp, issuer)."
                    .into()));
            }
            warn(
                "strata always looks for a key missing from a 'crt' file in FILE.key, and loads no \
                  .ocsp, .issuer or .sctl file",
            )
        }
        "ssl-load-extra-del-ext" => {
            warn("strata looks for a missing key in FILE.key, the name with its extension")
        }
        "ssl-mode-async" => warn("strata's TLS (rustls) has no asynchronous engines"),
        "ssl-provider" | "ssl-provider-path" | "ssl-propquery" => {
            if arg.is_empty() {
                return Some(Err(format!("'{kw}' expects an argument.")));
            }
            warn("strata's TLS is rustls, not OpenSSL: there are no providers")
        }
        "ssl-dh-param-file" => {
            if arg.is_empty() {
                return Some(Err("'ssl-dh-param-file' expects a file path as an argument.".into()));
            }
            warn("strata's TLS (rustls) has no finite-field Diffie-Hellman key exchange")
        }
        _ => return None,
    })
}

/// HAProxy's refusal of an argument given to a keyword that takes none.
fn no_arg(kw: &str, words: &[String]) -> Res {
    match words.get(1) {
        Some(extra) => Err(format!("'{kw}' cannot handle unexpected argument '{extra}'.")),
        None => Ok(()),
    }
}

/// `thread-group 1 [THREADS...]`: strata has one thread group, which holds
/// every thread; a list must name them all (checked once `nbthread` is
/// known: [`crate::cfg::listen::check_bind_threads`]).
fn thread_group(g: &mut Global, words: &[String]) -> Res {
    let v = words.get(1).map_or("", String::as_str);
    match v.parse::<u64>() {
        Ok(1) if v.bytes().all(|b| b.is_ascii_digit()) => {}
        Ok(n) if v.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(format!("'thread-group' thread-group number must be between 1 and 1 (was {n})"));
        }
        _ => return Err(format!("'thread-group' passed a missing or unparsable integer value in '{v}'")),
    }
    for w in &words[2..] {
        let bad = || {
            format!(
                "'thread-group 1' passed an unparsable or invalid thread number '{w}' (valid range is 1 to 64)"
            )
        };
        let num = |t: &str| {
            t.parse::<u32>().ok().filter(|n| (1..=64).contains(n) && t.bytes().all(|b| b.is_ascii_digit()))
        };
        let (a, b) = match w.split_once('-') {
            Some((a, b)) => (num(a).ok_or_else(bad)?, num(b).ok_or_else(bad)?),
            None => {
                let n = num(w).ok_or_else(bad)?;
                (n, n)
            }
        };
        let mask = (a.min(b)..=a.max(b)).fold(0u64, |m, t| m | 1 << (t - 1));
        g.thread_group_threads = Some(g.thread_group_threads.unwrap_or(0) | mask);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(g: &mut Global, line: &str) -> (Option<Res>, Vec<String>) {
        let words: Vec<String> = line.split_whitespace().map(String::from).collect();
        let mut diags = Diagnostics::default();
        let r = keyword(g, &words, &Loc::default(), &mut diags);
        (r, diags.items.iter().map(|d| d.msg.clone()).collect())
    }

    #[test]
    fn obeyed_and_warned() {
        let mut g = Global::default();
        assert_eq!(run(&mut g, "master-worker").0, Some(Ok(())));
        assert!(g.process.master_worker);
        assert!(run(&mut g, "master-worker bogus").0.is_some_and(|r| r.is_err()));
        assert_eq!(run(&mut g, "h1-accept-payload-with-any-method").0, Some(Ok(())));
        assert!(g.h1_accept_payload_with_any_method);
        assert_eq!(run(&mut g, "thread-group 1 1 2-3").0, Some(Ok(())));
        assert_eq!(g.thread_group_threads, Some(0b111));
        assert!(run(&mut g, "thread-group 2").0.is_some_and(|r| r.is_err()));
        assert!(run(&mut g, "thread-group 1 0").0.is_some_and(|r| r.is_err()));
        let (r, w) = run(&mut g, "close-spread-time 5s");
        assert_eq!((r, w.len()), (Some(Ok(())), 1));
        assert!(run(&mut g, "close-spread-time x").0.is_some_and(|r| r.is_err()));
        assert!(run(&mut g, "ssl-load-extra-files none bogus").0.is_some_and(|r| r.is_err()));
        let (r, w) = run(&mut g, "ssl-load-extra-files all");
        assert_eq!((r, w.len()), (Some(Ok(())), 1));
        assert!(run(&mut g, "maxcompcpuusage 101").0.is_some_and(|r| r.is_err()));
        assert!(run(&mut g, "nosuch").0.is_none());
    }
}
