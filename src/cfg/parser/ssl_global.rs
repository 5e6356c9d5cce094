//! `global` SSL keywords: `ssl-default-bind-options|ciphers|ciphersuites`,
//! `ssl-default-server-options|ciphers|ciphersuites`, `ssl-server-verify`,
//! `tune.ssl.cachesize`, `tune.ssl.lifetime`, `tune.ssl.maxrecord`,
//! `tune.ssl.hard-maxrecord`, `crt-base`, `ca-base`, and the knobs strata's
//! TLS has no use for, warned: `tune.ssl.default-dh-param` (rustls has no
//! finite-field DHE), `tune.ssl.force-private-cache`, `tune.ssl.keylog`,
//! `tune.ssl.ssl-ctx-cache-size`.

use super::args::no_extra;
use super::ssl_opts::default_options;
use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::model::Loc;
use crate::cfg::ssl::{GlobalSsl, Verify};
use std::path::PathBuf;

/// The smallest record rustls writes (its `max_fragment_size` floor).
const MIN_RECORD: usize = 32;
/// TLS's largest record plaintext: a limit at or above it changes nothing.
const MAX_RECORD: usize = 16384;

/// `tune.ssl.lifetime`: a time whose bare number is in seconds (HAProxy's
/// `TIME_UNIT_S`).
fn lifetime(a: &str) -> Result<std::time::Duration, String> {
    match a.parse::<u64>() {
        Ok(secs) => Ok(std::time::Duration::from_secs(secs)),
        Err(_) => crate::cfg::time::parse_time_checked(a).map_err(|e| e.to_string()),
    }
}

/// Applies `words` when it is a global SSL keyword; false when it is not
/// one (the caller tries the other global keywords).
pub(super) fn keyword(g: &mut GlobalSsl, words: &[String], loc: &Loc, diags: &mut Diagnostics) -> bool {
    let kw = words[0].as_str();
    let arg = words.get(1).map(String::as_str).filter(|a| !a.is_empty());
    let res: Result<(), String> = match kw {
        "ssl-default-bind-options" => default_options(&mut g.bind, words),
        "ssl-default-server-options" => default_options(&mut g.server, words),
        "ssl-default-bind-ciphers"
        | "ssl-default-server-ciphers"
        | "ssl-default-bind-ciphersuites"
        | "ssl-default-server-ciphersuites" => match arg {
            None => Err(format!("global statement '{kw}' expects a cipher suite as an argument.")),
            Some(c) => {
                let p = if kw.contains("-bind-") { &mut g.bind } else { &mut g.server };
                let slot = if kw.ends_with("ciphersuites") { &mut p.ciphersuites } else { &mut p.ciphers };
                *slot = Some(c.to_owned());
                no_extra(kw, words, 2)
            }
        },
        "ssl-server-verify" => match arg {
            Some("none") => {
                g.server_verify = Some(Verify::None);
                Ok(())
            }
            Some("required") => {
                g.server_verify = Some(Verify::Required);
                Ok(())
            }
            _ => Err(format!("'{kw}' expects 'none' or 'required' as argument.")),
        }
        .and_then(|()| no_extra(kw, words, 2)),
        "tune.ssl.cachesize" => match arg.and_then(|a| a.parse::<usize>().ok()) {
            Some(n) if arg.is_some_and(|a| a.bytes().all(|b| b.is_ascii_digit())) => {
                g.cache_size = Some(n);
                no_extra(kw, words, 2)
            }
            _ => Err(format!("'{kw}' expects an integer argument.")),
        },
        "tune.ssl.maxrecord" | "tune.ssl.hard-maxrecord" => match arg.and_then(|a| a.parse::<usize>().ok()) {
            Some(n) if (1..MIN_RECORD).contains(&n) => Err(format!(
                "'{kw}' {n}: strata's TLS (rustls) writes records of {MIN_RECORD} bytes at least."
            )),
            Some(n) => {
                // 0 is HAProxy's "no limit"; TLS records never carry more than 16 kB anyway.
                let limit = (n > 0 && n < MAX_RECORD).then_some(n);
                for p in [&mut g.bind, &mut g.server] {
                    p.max_record = match (p.max_record, limit) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                no_extra(kw, words, 2)
            }
            None => Err(format!("'{kw}' expects an integer argument.")),
        },
        "tune.ssl.force-private-cache" | "tune.ssl.keylog" | "tune.ssl.ssl-ctx-cache-size" => {
            let why = match kw {
                "tune.ssl.force-private-cache" => "strata is one process: its session cache is its own",
                "tune.ssl.keylog" => "strata has no ssl_*_secret / ssl_fc_client_random fetches to fill",
                _ => "strata has no 'generate-certificates' whose contexts it would cache",
            };
            let arg_ok = match kw {
                "tune.ssl.force-private-cache" => no_extra(kw, words, 1),
                "tune.ssl.keylog" => match arg {
                    Some("on" | "off") => no_extra(kw, words, 2),
                    _ => Err(format!("'{kw}' expects 'on' or 'off'.")),
                },
                _ => match arg.filter(|a| a.bytes().all(|b| b.is_ascii_digit())) {
                    Some(_) => no_extra(kw, words, 2),
                    None => Err(format!("'{kw}' expects an integer argument.")),
                },
            };
            arg_ok.map(|()| {
                diags.push(Diag::warning(loc, format!("'{kw}' has no effect in strata ({why}); ignored.")))
            })
        }
        "tune.ssl.lifetime" => match arg.map(lifetime) {
            Some(Ok(d)) if d.as_secs() > 0 => {
                g.lifetime_secs = Some(d.as_secs());
                diags.push(Diag::warning(
                    loc,
                    format!("'{kw}' is ignored: rustls's session lifetimes are its own (ticket keys rotate every 6 hours)."),
                ));
                no_extra(kw, words, 2)
            }
            _ => Err(format!("'{kw}' expects ssl sessions <lifetime> in seconds as argument.")),
        },
        "crt-base" | "ca-base" => match arg {
            None => Err(format!("'{kw}' expects a directory path as an argument.")),
            Some(dir) => {
                let slot = if kw == "crt-base" { &mut g.crt_base } else { &mut g.ca_base };
                *slot = Some(PathBuf::from(dir));
                no_extra(kw, words, 2)
            }
        },
        "tune.ssl.default-dh-param" => match arg.and_then(|a| a.parse::<u32>().ok()) {
            Some(n) if n >= 1024 => {
                diags.push(Diag::warning(
                    loc,
                    format!(
                        "'{kw}' is ignored: strata's TLS (rustls) has no finite-field Diffie-Hellman \
                         (DHE) key exchange, only ECDHE."
                    ),
                ));
                no_extra(kw, words, 2)
            }
            Some(_) => Err(format!("'{kw}' expects a value >= 1024.")),
            None => Err(format!("'{kw}' expects an integer argument.")),
        },
        _ => return false,
    };
    if g.loc.is_none() {
        g.loc = Some(loc.clone());
    }
    if let Err(e) = res {
        diags.push(Diag::alert(loc, e));
    }
    true
}
