//! OpenSSL names for rustls's cipher suites and key-exchange groups, and
//! the OpenSSL cipher-list language (`ciphers ECDH+AESGCM:!aNULL`,
//! `ciphersuites TLS_AES_128_GCM_SHA256:...`, `curves X25519:P-256`)
//! evaluated over what rustls offers.
//!
//! A cipher OpenSSL knows and rustls lacks (`DHE-RSA-AES128-GCM-SHA256`,
//! `AES128-SHA`...) is dropped with a warning naming it; a word neither
//! knows is an alert naming it; a list that leaves nothing is an alert.

use rustls::SupportedCipherSuite;
use rustls::crypto::SupportedKxGroup;
use rustls::crypto::aws_lc_rs::{cipher_suite as cs, kx_group};

/// A TLSv1.2 suite with the attributes the cipher-list aliases select on.
struct Suite12 {
    name: &'static str,
    suite: SupportedCipherSuite,
    auth: &'static str, // aRSA / aECDSA
    enc: &'static str,  // AESGCM / CHACHA20
    bits: u32,
}

fn suites12() -> [Suite12; 6] {
    let s = |name, suite, auth, enc, bits| Suite12 { name, suite, auth, enc, bits };
    [
        s(
            "ECDHE-ECDSA-AES256-GCM-SHA384",
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            "aECDSA",
            "AESGCM",
            256,
        ),
        s("ECDHE-RSA-AES256-GCM-SHA384", cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "aRSA", "AESGCM", 256),
        s(
            "ECDHE-ECDSA-CHACHA20-POLY1305",
            cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            "aECDSA",
            "CHACHA20",
            256,
        ),
        s(
            "ECDHE-RSA-CHACHA20-POLY1305",
            cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            "aRSA",
            "CHACHA20",
            256,
        ),
        s(
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            "aECDSA",
            "AESGCM",
            128,
        ),
        s("ECDHE-RSA-AES128-GCM-SHA256", cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "aRSA", "AESGCM", 128),
    ]
}

fn suites13() -> [(&'static str, SupportedCipherSuite); 3] {
    [
        ("TLS_AES_256_GCM_SHA384", cs::TLS13_AES_256_GCM_SHA384),
        ("TLS_CHACHA20_POLY1305_SHA256", cs::TLS13_CHACHA20_POLY1305_SHA256),
        ("TLS_AES_128_GCM_SHA256", cs::TLS13_AES_128_GCM_SHA256),
    ]
}

/// OpenSSL's name of a negotiated suite (`%sslc`, `ssl_fc_cipher`).
pub fn openssl_name(suite: SupportedCipherSuite) -> &'static str {
    let id = suite.suite();
    suites13()
        .into_iter()
        .find(|(_, s)| s.suite() == id)
        .map(|(n, _)| n)
        .or_else(|| suites12().into_iter().find(|s| s.suite.suite() == id).map(|s| s.name))
        .unwrap_or("UNKNOWN")
}

/// The default suite order (TLSv1.3 first, then TLSv1.2 by strength).
pub fn default_suites() -> Vec<SupportedCipherSuite> {
    suites13().into_iter().map(|(_, s)| s).chain(suites12().into_iter().map(|s| s.suite)).collect()
}

/// Aliases that select none of rustls's suites (OpenSSL's classes of
/// ciphers rustls does not implement).
const EMPTY_ALIASES: &[&str] = &[
    "MEDIUM",
    "LOW",
    "EXP",
    "EXPORT",
    "EXPORT40",
    "EXPORT56",
    "eNULL",
    "NULL",
    "aNULL",
    "ADH",
    "AECDH",
    "MD5",
    "RC4",
    "DES",
    "3DES",
    "PSK",
    "kPSK",
    "ECDHEPSK",
    "DHEPSK",
    "RSAPSK",
    "SRP",
    "kSRP",
    "aSRP",
    "SEED",
    "IDEA",
    "CAMELLIA",
    "CAMELLIA128",
    "CAMELLIA256",
    "ARIA",
    "ARIA128",
    "ARIA256",
    "AESCCM",
    "AESCCM8",
    "kRSA",
    "RSA",
    "DHE",
    "EDH",
    "kEDH",
    "kDHE",
    "DH",
    "kDH",
    "DSS",
    "aDSS",
    "SHA1",
    "SHA",
    "GOST",
    "aGOST",
    "kGOST",
    "GOST94",
    "GOST89MAC",
    "aPSK",
    "SSLv3",
    "TLSv1",
    "TLSv1.0",
    "kECDH",
    "kECDHr",
    "kECDHe",
    "aECDH",
    "aDH",
    "COMPLEMENTOFDEFAULT",
    "COMPLEMENTOFALL",
    "CBC",
];

/// Does the alias or name `word` select `s`? None: not a word of the
/// language at all.
fn selects(word: &str, s: &Suite12) -> Option<bool> {
    Some(match word {
        "ALL" | "DEFAULT" | "HIGH" | "TLSv1.2" | "AEAD" | "ECDHE" | "EECDH" | "kEECDH" | "kECDHE"
        | "ECDH" | "FIPS" => true,
        "aRSA" => s.auth == "aRSA",
        "aECDSA" | "ECDSA" => s.auth == "aECDSA",
        "AESGCM" => s.enc == "AESGCM",
        "AES" => s.enc == "AESGCM",
        "AES128" => s.enc == "AESGCM" && s.bits == 128,
        "AES256" => s.enc == "AESGCM" && s.bits == 256,
        "CHACHA20" => s.enc == "CHACHA20",
        "SHA256" => s.name.ends_with("SHA256") || s.enc == "CHACHA20",
        "SHA384" => s.name.ends_with("SHA384"),
        _ if EMPTY_ALIASES.contains(&word) => false,
        _ if suites12().iter().any(|x| x.name == word) => s.name == word,
        _ => return None,
    })
}

/// A name that looks like one of OpenSSL's cipher names (rustls lacks it).
fn openssl_cipher_name(word: &str) -> bool {
    const PARTS: &[&str] = &[
        "AES", "DES", "RC4", "RC2", "CAMELLIA", "SEED", "IDEA", "NULL", "PSK", "SRP", "ECDHE", "DHE", "EDH",
        "ADH", "AECDH", "ECDH", "DH", "EXP", "ARIA", "CHACHA20", "GOST",
    ];
    word.contains('-')
        && word.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && PARTS.iter().any(|p| word.starts_with(p))
}

/// What a list produced: the suites, and names dropped with a warning.
#[derive(Debug)]
pub struct Chosen<T> {
    pub items: Vec<T>,
    pub lacking: Vec<String>,
}

fn words(list: &str) -> impl Iterator<Item = &str> {
    list.split([':', ',', ' ', ';']).filter(|w| !w.is_empty())
}

/// Evaluates an OpenSSL cipher list (`ciphers`) over rustls's TLSv1.2
/// suites, in OpenSSL's way: `X` appends, `-X` removes, `!X` removes for
/// good, `+X` moves to the end, `A+B` is the suites matching both,
/// `@STRENGTH` sorts by key length.
pub fn tls12_list(list: &str) -> Result<Chosen<SupportedCipherSuite>, String> {
    let all = suites12();
    let mut order: Vec<usize> = Vec::new();
    let mut banned = [false; 6];
    let mut lacking = Vec::new();
    for word in words(list) {
        if word == "@STRENGTH" {
            order.sort_by_key(|&i| std::cmp::Reverse(all[i].bits));
            continue;
        }
        if word.starts_with("@SECLEVEL=") {
            continue; // every rustls suite meets OpenSSL's security levels up to 3
        }
        let (op, body) = match word.as_bytes()[0] {
            b @ (b'!' | b'-' | b'+') => (b, &word[1..]),
            _ => (b' ', word),
        };
        let mut matched = [true; 6];
        for part in body.split('+') {
            for (i, s) in all.iter().enumerate() {
                match selects(part, s) {
                    Some(m) => matched[i] &= m,
                    None if openssl_cipher_name(part) => {
                        matched[i] = false;
                        if op == b' ' && !lacking.iter().any(|l| l == part) {
                            lacking.push(part.to_owned());
                        }
                    }
                    None => return Err(format!("unknown cipher '{part}' in '{list}'")),
                }
            }
        }
        for i in 0..all.len() {
            if !matched[i] {
                continue;
            }
            match op {
                b'!' => {
                    banned[i] = true;
                    order.retain(|&j| j != i);
                }
                b'-' => order.retain(|&j| j != i),
                b'+' => {
                    if order.contains(&i) {
                        order.retain(|&j| j != i);
                        order.push(i);
                    }
                }
                _ => {
                    if !banned[i] && !order.contains(&i) {
                        order.push(i);
                    }
                }
            }
        }
    }
    if order.is_empty() {
        return Err(format!(
            "no cipher of '{list}' is available in strata (rustls offers {})",
            all.iter().map(|s| s.name).collect::<Vec<_>>().join(":")
        ));
    }
    Ok(Chosen { items: order.into_iter().map(|i| all[i].suite).collect(), lacking })
}

/// TLSv1.3 suite names OpenSSL knows and rustls lacks.
const LACKING13: &[&str] = &["TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"];

/// A `ciphersuites` list (TLSv1.3 names, in preference order).
pub fn tls13_list(list: &str) -> Result<Chosen<SupportedCipherSuite>, String> {
    let mut items = Vec::new();
    let mut lacking = Vec::new();
    for word in words(list) {
        match suites13().into_iter().find(|(n, _)| *n == word) {
            Some((_, s)) => {
                if !items.iter().any(|x: &SupportedCipherSuite| x.suite() == s.suite()) {
                    items.push(s);
                }
            }
            None if LACKING13.contains(&word) => lacking.push(word.to_owned()),
            None => return Err(format!("unknown TLSv1.3 cipher suite '{word}' in '{list}'")),
        }
    }
    if items.is_empty() {
        return Err(format!(
            "no cipher suite of '{list}' is available in strata (rustls offers \
             TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256)"
        ));
    }
    Ok(Chosen { items, lacking })
}

/// The groups offered without a `curves` list: OpenSSL 3.0's order (what
/// HAProxy 2.6 offers) over what rustls has. The provider's own default
/// puts the X25519MLKEM768 hybrid first, which HAProxy 2.6 never offers.
pub fn default_curves() -> Vec<&'static dyn SupportedKxGroup> {
    vec![kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1]
}

/// A `curves` list (`X25519:P-256:secp384r1`).
pub fn curves_list(list: &str) -> Result<Chosen<&'static dyn SupportedKxGroup>, String> {
    let mut items: Vec<&'static dyn SupportedKxGroup> = Vec::new();
    let mut lacking = Vec::new();
    for word in words(list) {
        let group: &'static dyn SupportedKxGroup = match word {
            "X25519" | "x25519" => kx_group::X25519,
            "P-256" | "prime256v1" | "secp256r1" => kx_group::SECP256R1,
            "P-384" | "secp384r1" => kx_group::SECP384R1,
            "X448" | "x448" | "P-521" | "secp521r1" | "brainpoolP256r1" | "brainpoolP384r1"
            | "brainpoolP512r1" | "ffdhe2048" | "ffdhe3072" | "ffdhe4096" | "ffdhe6144" | "ffdhe8192" => {
                lacking.push(word.to_owned());
                continue;
            }
            _ => return Err(format!("unknown curve '{word}' in '{list}'")),
        };
        if !items.iter().any(|g| g.name() == group.name()) {
            items.push(group);
        }
    }
    if items.is_empty() {
        return Err(format!(
            "no curve of '{list}' is available in strata (rustls offers X25519:P-256:P-384)"
        ));
    }
    Ok(Chosen { items, lacking })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &str) -> Vec<&'static str> {
        tls12_list(list).map(|c| c.items.into_iter().map(openssl_name).collect()).unwrap_or_default()
    }

    #[test]
    fn cipher_lists_follow_openssl() {
        assert_eq!(names("ECDHE-RSA-AES128-GCM-SHA256"), ["ECDHE-RSA-AES128-GCM-SHA256"]);
        assert_eq!(names("ECDH+AESGCM:!aNULL:!SHA1:!AESCCM").len(), 4);
        assert_eq!(
            names("HIGH:!aECDSA"),
            ["ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-RSA-AES128-GCM-SHA256"]
        );
        assert_eq!(names("AES128:AES256:@STRENGTH")[0], "ECDHE-ECDSA-AES256-GCM-SHA384");
        assert_eq!(names("DEFAULT:-CHACHA20:+AES256").last(), Some(&"ECDHE-RSA-AES256-GCM-SHA384"));
        let mozilla = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256";
        let c = tls12_list(mozilla).expect("list");
        assert_eq!(c.items.len(), 2);
        assert_eq!(c.lacking, ["DHE-RSA-AES128-GCM-SHA256"]);
        assert!(tls12_list("ECDHE-RSA-AES128-GCM-SHA256:BOGUS").unwrap_err().contains("'BOGUS'"));
        assert!(tls12_list("AES128-SHA").unwrap_err().contains("no cipher"));
        assert_eq!(names("AES256+EECDH:AES256+EDH:!aNULL;").len(), 2);
    }

    #[test]
    fn suites_and_curves() {
        let c = tls13_list("TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256").expect("list");
        assert_eq!(c.items.len(), 1);
        assert_eq!(c.lacking, ["TLS_AES_128_CCM_SHA256"]);
        assert!(tls13_list("TLS_FOO").unwrap_err().contains("'TLS_FOO'"));
        assert_eq!(
            curves_list("X25519:prime256v1:X448").map(|c| (c.items.len(), c.lacking.len())).ok(),
            Some((2, 1))
        );
        assert!(curves_list("bogus").is_err());
    }
}
