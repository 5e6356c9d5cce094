//! Certificates and keys from PEM files (`crt`, `ca-file`, `crl-file`),
//! and what strata reads in a certificate: the names it serves (for SNI
//! selection), its subject and issuer, serial, validity and fingerprint
//! (`show ssl cert`, `ssl_c_*`). PEM is read with
//! `rustls::pki_types::pem::PemObject`; X.509 fields with `x509-parser`.

use crate::acl::tls_facts::PeerCert;
use crate::core::date::Civil;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

/// A certificate chain with its key, ready to serve, and what it says.
#[derive(Clone, Debug)]
pub struct LoadedCert {
    pub key: Arc<CertifiedKey>,
    pub names: Vec<String>, // DNS names it serves (SANs, then the CN), lower case
    pub info: CertInfo,
}

/// What `show ssl cert FILE` prints about a certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertInfo {
    pub path: String,
    pub serial: String,     // upper-case hex
    pub not_before: String, // `Dec  6 19:30:19 2026 GMT`
    pub not_after: String,
    pub sans: Vec<String>, // `DNS:a.example.com`
    pub algorithm: String, // `RSA2048`, `EC256`
    pub sha1: String,      // upper-case hex
    pub subject: String,   // `/CN=a.example.com`
    pub issuer: String,
    pub chain: Vec<(String, String)>, // (subject, issuer) of each certificate after the first
}

/// Reads a `crt` file: its certificate chain and its private key (in the
/// same file, else in `FILE.key`, as HAProxy looks for it). Errors are
/// HAProxy's sentences.
pub fn load_crt(path: &Path) -> Result<LoadedCert, String> {
    let shown = path.display();
    if let Err(e) = std::fs::metadata(path) {
        return Err(format!("unable to stat SSL certificate from file '{shown}' : {}.", os_text(&e)));
    }
    let chain = read_certs(path).ok_or_else(|| format!("unable to load certificate from file '{shown}'."))?;
    let key = match PrivateKeyDer::from_pem_file(path) {
        Ok(k) => k,
        Err(_) => {
            let side = PathBuf::from(format!("{shown}.key"));
            PrivateKeyDer::from_pem_file(&side)
                .map_err(|_| format!("No Private Key found in '{}'.", side.display()))?
        }
    };
    let signer = rustls::crypto::aws_lc_rs::sign::any_supported_type(&key)
        .map_err(|_| format!("unable to load private key from file '{shown}'."))?;
    let key = CertifiedKey::new(chain, signer);
    if key.keys_match().is_err() {
        return Err(format!("inconsistencies between private key and certificate loaded '{shown}'."));
    }
    let (names, info) = describe(&key.cert, &path.display().to_string())
        .ok_or_else(|| format!("unable to load certificate from file '{shown}'."))?;
    Ok(LoadedCert { key: Arc::new(key), names, info })
}

/// Every certificate of a PEM file, in order; none is an error.
pub fn read_certs(path: &Path) -> Option<Vec<CertificateDer<'static>>> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path).ok()?.collect();
    certs.ok().filter(|c| !c.is_empty())
}

/// Every CRL of a PEM file.
pub fn read_crls(path: &Path) -> Option<Vec<CertificateRevocationListDer<'static>>> {
    let crls: Result<Vec<_>, _> = CertificateRevocationListDer::pem_file_iter(path).ok()?.collect();
    crls.ok().filter(|c| !c.is_empty())
}

/// The text of an OS error without Rust's " (os error N)" suffix.
fn os_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

/// The names and the description of a chain's first certificate.
fn describe(chain: &[CertificateDer<'_>], path: &str) -> Option<(Vec<String>, CertInfo)> {
    let (_, leaf) = x509_parser::parse_x509_certificate(chain.first()?.as_ref()).ok()?;
    let mut names = Vec::new();
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = leaf.subject_alternative_name() {
        for gn in &ext.value.general_names {
            if let x509_parser::extensions::GeneralName::DNSName(n) = gn {
                names.push(n.to_ascii_lowercase());
                sans.push(format!("DNS:{n}"));
            }
        }
    }
    for cn in leaf.subject().iter_common_name() {
        if let Ok(cn) = cn.as_str() {
            let cn = cn.to_ascii_lowercase();
            if !names.contains(&cn) {
                names.push(cn);
            }
        }
    }
    let algorithm = match leaf.public_key().parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(k)) => format!("RSA{}", k.key_size()),
        Ok(x509_parser::public_key::PublicKey::EC(k)) => format!("EC{}", k.key_size()),
        Ok(k) => format!("{}", k.key_size()),
        Err(_) => String::new(),
    };
    let chain_names = chain[1..]
        .iter()
        .filter_map(|c| {
            let (_, c) = x509_parser::parse_x509_certificate(c.as_ref()).ok()?;
            Some((one_line(c.subject()), one_line(c.issuer())))
        })
        .collect();
    let info = CertInfo {
        path: path.to_owned(),
        serial: hex_upper(leaf.raw_serial()),
        not_before: openssl_time(leaf.validity().not_before.timestamp()),
        not_after: openssl_time(leaf.validity().not_after.timestamp()),
        sans,
        algorithm,
        sha1: hex_upper(&sha1(chain[0].as_ref())),
        subject: one_line(leaf.subject()),
        issuer: one_line(leaf.issuer()),
        chain: chain_names,
    };
    Some((names, info))
}

/// What the `ssl_c_*` fetches read of a peer's certificate.
pub fn peer_cert(der: &CertificateDer<'_>) -> Option<PeerCert> {
    let (_, c) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    Some(PeerCert {
        subject: one_line(c.subject()).into(),
        issuer: one_line(c.issuer()).into(),
        serial: c.raw_serial().into(),
        sha1: sha1(der.as_ref()),
        verify: 0,
    })
}

/// OpenSSL's one-line form of a name: `/C=FR/O=Acme/CN=client`, with
/// OpenSSL's short attribute names.
pub fn one_line(name: &x509_parser::x509::X509Name<'_>) -> String {
    let registry = x509_parser::objects::oid_registry();
    let mut out = String::new();
    for attr in name.iter_attributes() {
        let oid = attr.attr_type();
        let short = match oid.to_id_string().as_str() {
            "2.5.4.3" => "CN".to_owned(),
            "2.5.4.6" => "C".to_owned(),
            "2.5.4.7" => "L".to_owned(),
            "2.5.4.8" => "ST".to_owned(),
            "2.5.4.10" => "O".to_owned(),
            "2.5.4.11" => "OU".to_owned(),
            "1.2.840.113549.1.9.1" => "emailAddress".to_owned(),
            other => {
                x509_parser::objects::oid2sn(oid, registry).map_or_else(|_| other.to_owned(), str::to_owned)
            }
        };
        let value = attr.as_str().map_or_else(|_| hex_upper(attr.as_slice()), str::to_owned);
        out.push('/');
        out.push_str(&short);
        out.push('=');
        out.push_str(&value);
    }
    out
}

/// `Dec  6 19:30:19 2026 GMT`, as OpenSSL prints certificate times.
fn openssl_time(secs: i64) -> String {
    let t = if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs())).unwrap_or(UNIX_EPOCH)
    };
    let c = Civil::from_system(t);
    format!("{} {:2} {:02}:{:02}:{:02} {} GMT", c.month_name(), c.day, c.hour, c.min, c.sec, c.year)
}

pub fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

pub fn sha1(bytes: &[u8]) -> [u8; 20] {
    use sha1::Digest;
    sha1::Sha1::digest(bytes).into()
}
