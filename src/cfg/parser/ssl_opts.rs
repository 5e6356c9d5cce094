//! TLS options of `bind` and `server` lines, `crt-list` lines and the
//! `ssl-default-*-options` global keywords, with HAProxy's wording.
//!
//! Each function looks at the option at `words[i]` and answers `None`
//! when it is not a TLS option (the caller reports it as unknown), else
//! the number of words it took or the alert text.

use crate::cfg::ssl::{BindSsl, Crt, ServerSsl, TlsParams, TlsVersion, Verify};
use std::path::PathBuf;

/// Words an option took, or the alert text.
pub type Took = Option<Result<usize, String>>;

/// The argument of option `words[i]`, or HAProxy's "missing" message.
fn arg<'a>(words: &'a [String], i: usize, missing: &str) -> Result<&'a str, String> {
    match words.get(i + 1).map(String::as_str) {
        Some(a) if !a.is_empty() => Ok(a),
        _ => Err(format!("'{}' : {missing}", words[i])),
    }
}

fn version(words: &[String], i: usize) -> Result<TlsVersion, String> {
    let v = arg(words, i, "missing the ssl/tls version")?;
    TlsVersion::parse(v).ok_or_else(|| format!("'{v}' : unknown ssl/tls version"))
}

/// Options shared by binds, servers, crt-list lines and the global
/// defaults: protocol versions, ciphers, ALPN, tickets, CA and verify.
pub(in crate::cfg) fn params_option(p: &mut TlsParams, words: &[String], i: usize) -> Took {
    let kw = words[i].as_str();
    let one = |r: Result<(), String>| Some(r.map(|()| 1));
    let two = |r: Result<(), String>| Some(r.map(|()| 2));
    let no_ver = match kw {
        "no-sslv3" => Some(TlsVersion::Ssl3),
        "no-tlsv10" => Some(TlsVersion::Tls10),
        "no-tlsv11" => Some(TlsVersion::Tls11),
        "no-tlsv12" => Some(TlsVersion::Tls12),
        "no-tlsv13" => Some(TlsVersion::Tls13),
        _ => None,
    };
    if let Some(v) = no_ver {
        if !p.no_versions.contains(&v) {
            p.no_versions.push(v);
        }
        return Some(Ok(1));
    }
    let force = match kw {
        "force-sslv3" => Some(TlsVersion::Ssl3),
        "force-tlsv10" => Some(TlsVersion::Tls10),
        "force-tlsv11" => Some(TlsVersion::Tls11),
        "force-tlsv12" => Some(TlsVersion::Tls12),
        "force-tlsv13" => Some(TlsVersion::Tls13),
        _ => None,
    };
    if let Some(v) = force {
        p.force = Some(v);
        return Some(Ok(1));
    }
    match kw {
        "ssl-min-ver" => two(version(words, i).map(|v| p.min_ver = Some(v))),
        "ssl-max-ver" => two(version(words, i).map(|v| p.max_ver = Some(v))),
        "ciphers" => two(arg(words, i, "missing cipher suite").map(|c| p.ciphers = Some(c.to_owned()))),
        "ciphersuites" => {
            two(arg(words, i, "missing cipher suite").map(|c| p.ciphersuites = Some(c.to_owned())))
        }
        "curves" | "ecdhe" => {
            let missing = if kw == "curves" { "missing curve suite" } else { "missing named curve" };
            two(arg(words, i, missing).map(|c| p.curves = Some(c.to_owned())))
        }
        "alpn" => two(match words.get(i + 1).filter(|a| !a.is_empty()) {
            None => Err("'alpn' : missing the comma-delimited ALPN protocol suite".into()),
            Some(list) => alpn_list(list).map(|l| p.alpn = Some(l)),
        }),
        "npn" => {
            two(arg(words, i, "missing the comma-delimited NPN protocol suite").map(|l| p.npn = Some(l.into())))
        }
        "no-tls-tickets" => {
            p.no_tls_tickets = Some(true);
            one(Ok(()))
        }
        "tls-tickets" => {
            p.no_tls_tickets = Some(false);
            one(Ok(()))
        }
        "prefer-client-ciphers" => {
            p.prefer_client_ciphers = true;
            one(Ok(()))
        }
        "ca-file" => two(arg(words, i, "missing CAfile path").map(|f| p.ca_file = Some(PathBuf::from(f)))),
        "crl-file" => two(arg(words, i, "missing CRLfile path").map(|f| p.crl_file = Some(PathBuf::from(f)))),
        "verify" => two(arg(words, i, "missing verify method").and_then(|m| {
            p.verify = Some(match m {
                "none" => Verify::None,
                "optional" => Verify::Optional,
                "required" => Verify::Required,
                _ => {
                    return Err(format!(
                        "'verify' : unknown verify method '{m}', only 'none', 'optional', and 'required' are supported"
                    ));
                }
            });
            Ok(())
        })),
        _ => None,
    }
}

/// `h2,http/1.1` → its protocol names (each 1..=255 bytes).
fn alpn_list(list: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for name in list.split(',') {
        if name.is_empty() {
            return Err(format!("'alpn' : empty ALPN protocol name in '{list}'"));
        }
        if name.len() > 255 {
            return Err(format!("'alpn' : ALPN protocol name too long : '{name}'"));
        }
        out.push(name.to_owned());
    }
    Ok(out)
}

/// Options HAProxy's OpenSSL build has and strata (rustls) refuses: an
/// alert naming it is better than a line read and then ignored.
const UNSUPPORTED: &[&str] = &[
    "allow-0rtt",
    "ca-ignore-err",
    "crt-ignore-err",
    "ca-sign-file",
    "ca-sign-pass",
    "generate-certificates",
    "tls-ticket-keys",
    "ca-verify-file",
    "no-ca-names",
    "ssl-engine",
    "ocsp-update",
];

/// One TLS option of a `bind` line.
pub(in crate::cfg) fn bind_option(b: &mut BindSsl, words: &[String], i: usize) -> Took {
    let kw = words[i].as_str();
    match kw {
        "ssl" => {
            b.ssl = true;
            Some(Ok(1))
        }
        "crt" => Some(arg(words, i, "missing certificate location").map(|f| {
            b.crts.push(Crt::Path(PathBuf::from(f)));
            2
        })),
        "crt-list" => Some(arg(words, i, "missing certificate location").map(|f| {
            b.crts.push(Crt::List(PathBuf::from(f)));
            2
        })),
        "strict-sni" => {
            b.strict_sni = true;
            Some(Ok(1))
        }
        _ if UNSUPPORTED.contains(&kw) => Some(Err(unsupported(kw))),
        _ => params_option(&mut b.params, words, i),
    }
}

/// One TLS option of a `server` line.
pub(in crate::cfg) fn server_option(s: &mut ServerSsl, words: &[String], i: usize) -> Took {
    let kw = words[i].as_str();
    match kw {
        "ssl" => {
            s.ssl = true;
            Some(Ok(1))
        }
        "no-ssl" => {
            s.ssl = false;
            Some(Ok(1))
        }
        "check-ssl" => {
            s.check_ssl = true;
            Some(Ok(1))
        }
        "sni" => Some(arg(words, i, "expects a sample expression").map(|e| {
            s.sni = Some(e.to_owned());
            2
        })),
        "check-sni" => Some(arg(words, i, "missing SNI").map(|e| {
            s.check_sni = Some(e.to_owned());
            2
        })),
        "crt" => Some(arg(words, i, "missing certificate file path").map(|f| {
            s.crt = Some(PathBuf::from(f));
            2
        })),
        "verifyhost" => Some(arg(words, i, "missing hostname to verify against").map(|h| {
            s.verifyhost = Some(h.to_owned());
            2
        })),
        "verify" => match words.get(i + 1).map(String::as_str) {
            Some("optional") => Some(Err(
                "'verify' : unknown verify method 'optional', only 'none' and 'required' are supported"
                    .into(),
            )),
            _ => params_option(&mut s.params, words, i),
        },
        "strict-sni" | "crt-list" => None,
        _ if UNSUPPORTED.contains(&kw) => Some(Err(unsupported(kw))),
        _ => params_option(&mut s.params, words, i),
    }
}

fn unsupported(kw: &str) -> String {
    format!("'{kw}' : option not supported by strata (TLS is provided by rustls, not OpenSSL)")
}

/// The words of `ssl-default-bind-options` / `ssl-default-server-options`
/// (each an option without its `bind`/`server` line).
pub(in crate::cfg) fn default_options(p: &mut TlsParams, words: &[String]) -> Result<(), String> {
    let mut i = 1;
    while i < words.len() {
        let kw = words[i].as_str();
        match kw {
            // Only protocol-level switches make sense as defaults.
            "ca-file" | "crl-file" | "verify" | "alpn" | "npn" | "ciphers" | "ciphersuites" => {
                return Err(format!("'{}' : unknown option '{kw}'.", words[0]));
            }
            _ if UNSUPPORTED.contains(&kw) => return Err(unsupported(kw)),
            _ => match params_option(p, words, i) {
                Some(Ok(n)) => i += n,
                Some(Err(e)) => return Err(format!("'{}' : {e}", words[0])),
                None => return Err(format!("'{}' : unknown option '{kw}'.", words[0])),
            },
        }
    }
    Ok(())
}

/// One option of a `crt-list` line's `[...]` part (the options HAProxy
/// allows there: versions, ciphers, ALPN, CA and verify).
pub fn crt_list_option(p: &mut TlsParams, words: &[String], i: usize) -> Took {
    match words[i].as_str() {
        kw if UNSUPPORTED.contains(&kw) => Some(Err(unsupported(kw))),
        "no-tls-tickets" | "tls-tickets" | "prefer-client-ciphers" => None,
        _ => params_option(p, words, i),
    }
}
