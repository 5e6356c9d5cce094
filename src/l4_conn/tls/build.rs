//! rustls configurations from strata's settings: one `ServerConfig` per
//! certificate of a bind (its crt-list line's options applied), one
//! `ClientConfig` per TLS server. Settings resolve as HAProxy's do: the
//! line's own option, else the global `ssl-default-*` one, else the
//! built-in default.

use super::certs::{LoadedCert, read_certs, read_crls};
use super::ciphers::{self, Chosen};
use super::verify::{AnyServerCert, ChainVerifier};
use crate::cfg::ssl::{TlsParams, TlsVersion, Verify};
use rustls::crypto::CryptoProvider;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{NoServerSessionStorage, ProducesTickets, StoresServerSessions, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a bind's configurations share, so that a session made with one
/// certificate resumes on the same bind: the session cache and tickets.
#[derive(Clone, Debug)]
pub struct Shared {
    pub cache: Arc<dyn StoresServerSessions>,
    pub ticketer: Arc<dyn ProducesTickets>,
}

/// The effective parameters: `own` over `default`, field by field.
pub fn merge(own: &TlsParams, default: &TlsParams) -> TlsParams {
    TlsParams {
        min_ver: own.min_ver.or(default.min_ver),
        max_ver: own.max_ver.or(default.max_ver),
        no_versions: if own.no_versions.is_empty() {
            default.no_versions.clone()
        } else {
            own.no_versions.clone()
        },
        force: own.force.or(default.force),
        ciphers: own.ciphers.clone().or_else(|| default.ciphers.clone()),
        ciphersuites: own.ciphersuites.clone().or_else(|| default.ciphersuites.clone()),
        curves: own.curves.clone().or_else(|| default.curves.clone()),
        alpn: own.alpn.clone().or_else(|| default.alpn.clone()),
        no_tls_tickets: own.no_tls_tickets.or(default.no_tls_tickets),
        prefer_client_ciphers: own.prefer_client_ciphers || default.prefer_client_ciphers,
        ca_file: own.ca_file.clone().or_else(|| default.ca_file.clone()),
        crl_file: own.crl_file.clone().or_else(|| default.crl_file.clone()),
        verify: own.verify.or(default.verify),
        npn: own.npn.clone().or_else(|| default.npn.clone()),
        max_record: own.max_record.or(default.max_record),
    }
}

/// The protocol versions the parameters leave (rustls has TLSv1.2 and
/// TLSv1.3 only; older ones in a range are narrowed away).
fn versions(p: &TlsParams) -> Result<Vec<&'static SupportedProtocolVersion>, String> {
    let mut out = Vec::new();
    for (v, rv) in
        [(TlsVersion::Tls12, &rustls::version::TLS12), (TlsVersion::Tls13, &rustls::version::TLS13)]
    {
        let allowed = match p.force {
            Some(f) => f == v,
            None => {
                p.min_ver.is_none_or(|m| m <= v)
                    && p.max_ver.is_none_or(|m| v <= m)
                    && !p.no_versions.contains(&v)
            }
        };
        if allowed {
            out.push(rv);
        }
    }
    if out.is_empty() {
        return Err(
            "no TLS protocol version is left enabled (strata supports TLSv1.2 and TLSv1.3 only)".into()
        );
    }
    Ok(out)
}

/// What a build had to say about its parameters: warnings, and notices.
/// A cipher list keeping some usable suites drops the rest with a notice
/// only (OpenSSL, so HAProxy, takes such a list without a word, so it must
/// not trip `zero-warning`); curves rustls lacks are warned.
#[derive(Debug, Default)]
pub struct Warnings {
    pub warnings: Vec<String>,
    pub notices: Vec<String>,
}

impl Warnings {
    pub fn new() -> Warnings {
        Warnings::default()
    }

    /// Removes repeated messages (a bind's certificates share parameters).
    pub fn dedup(&mut self) {
        self.warnings.dedup();
        self.notices.dedup();
    }
}

/// The chosen items; the names rustls lacks go to `out`.
fn note<T>(what: &str, chosen: Chosen<T>, out: &mut Vec<String>) -> Vec<T> {
    if !chosen.lacking.is_empty() {
        out.push(format!("{what} {} not available in strata (rustls): ignored", chosen.lacking.join(", ")));
    }
    chosen.items
}

/// The crypto provider: aws-lc-rs's, restricted to the configured suites
/// and curves, in the configured order.
fn provider(p: &TlsParams, warnings: &mut Warnings) -> Result<Arc<CryptoProvider>, String> {
    // aws-lc-rs rather than ring: AWS-LC's RSA private-key operation (what
    // a full RSA handshake spends most of its CPU on) uses the AVX-512 IFMA
    // code OpenSSL has and ring lacks, 2x faster (docs/performance.md).
    let mut prov = rustls::crypto::aws_lc_rs::default_provider();
    let tls13 = match &p.ciphersuites {
        Some(list) => note(
            "'ciphersuites'",
            ciphers::tls13_list(list).map_err(|e| format!("'ciphersuites' : {e}"))?,
            &mut warnings.notices,
        ),
        None => ciphers::default_suites().into_iter().filter(|s| s.tls13().is_some()).collect(),
    };
    let tls12 = match &p.ciphers {
        Some(list) => {
            let chosen = ciphers::tls12_list(list).map_err(|e| format!("'ciphers' : {e}"))?;
            note("'ciphers'", chosen, &mut warnings.notices)
        }
        None => ciphers::default_suites().into_iter().filter(|s| s.tls13().is_none()).collect(),
    };
    prov.cipher_suites = tls13.into_iter().chain(tls12).collect();
    prov.kx_groups = match &p.curves {
        Some(list) => {
            let chosen = ciphers::curves_list(list).map_err(|e| format!("'curves' : {e}"))?;
            note("'curves'", chosen, &mut warnings.warnings)
        }
        None => ciphers::default_curves(),
    };
    Ok(Arc::new(prov))
}

/// Reads a CA file into a root store.
fn roots(path: &Path) -> Result<Arc<RootCertStore>, String> {
    let certs = read_certs(path).ok_or_else(|| format!("'ca-file' : unable to load {}", path.display()))?;
    let mut store = RootCertStore::empty();
    for c in certs {
        store.add(c).map_err(|_| format!("'ca-file' : unable to load {}", path.display()))?;
    }
    Ok(Arc::new(store))
}

/// Resolves a relative file against `base` (`crt-base`, `ca-base`).
pub fn based(path: &Path, base: Option<&PathBuf>) -> PathBuf {
    match base {
        Some(b) if path.is_relative() => b.join(path),
        _ => path.to_path_buf(),
    }
}

/// A server (frontend-side) configuration serving `cert` (None: the
/// configuration that refuses every handshake, for `strict-sni`).
pub fn server_config(
    cert: Option<&LoadedCert>,
    p: &TlsParams,
    shared: &Shared,
    ca_base: Option<&PathBuf>,
    warnings: &mut Warnings,
) -> Result<Arc<ServerConfig>, String> {
    let prov = provider(p, warnings)?;
    let builder = ServerConfig::builder_with_provider(prov.clone())
        .with_protocol_versions(&versions(p)?)
        .map_err(|e| format!("{e}"))?;
    let verifier: Arc<dyn ClientCertVerifier> = match p.verify.unwrap_or_default() {
        Verify::None => WebPkiClientVerifier::no_client_auth(),
        v => {
            let Some(ca) = &p.ca_file else {
                return Err("verify is enabled but no CA file specified".into());
            };
            let mut b = WebPkiClientVerifier::builder_with_provider(roots(&based(ca, ca_base))?, prov);
            if let Some(crl) = &p.crl_file {
                let path = based(crl, ca_base);
                let crls = read_crls(&path)
                    .ok_or_else(|| format!("'crl-file' : unable to load {}", path.display()))?;
                b = b.with_crls(crls);
            }
            if v == Verify::Optional {
                b = b.allow_unauthenticated();
            }
            b.build().map_err(|e| format!("'ca-file' : {e}"))?
        }
    };
    let builder = builder.with_client_cert_verifier(verifier);
    let mut cfg = match cert {
        Some(c) => builder.with_cert_resolver(Arc::new(Fixed(c.key.clone()))),
        None => builder.with_cert_resolver(Arc::new(NoCert)),
    };
    cfg.ignore_client_order = !p.prefer_client_ciphers; // HAProxy prefers the server's order
    cfg.alpn_protocols = p.alpn.iter().flatten().map(|a| a.as_bytes().to_vec()).collect();
    cfg.max_fragment_size = p.max_record;
    cfg.session_storage = shared.cache.clone();
    if p.no_tls_tickets != Some(true) {
        cfg.ticketer = shared.ticketer.clone();
    }
    if p.npn.is_some() {
        warnings.warnings.push("'npn' is ignored: rustls has no NPN (clients negotiate with ALPN)".into());
    }
    Ok(Arc::new(cfg))
}

/// The shared session cache of a bind (`tune.ssl.cachesize` entries;
/// none with 0), counted for `show info`.
pub fn shared(cache_size: usize) -> Result<Shared, String> {
    let cache: Arc<dyn StoresServerSessions> = if cache_size == 0 {
        Arc::new(NoServerSessionStorage {})
    } else {
        Arc::new(super::cache::CountedCache::new(cache_size))
    };
    let ticketer = rustls::crypto::aws_lc_rs::Ticketer::new().map_err(|e| format!("TLS tickets: {e}"))?;
    Ok(Shared { cache, ticketer })
}

/// A client (backend-side) configuration for one server.
pub fn client_config(
    p: &TlsParams,
    verify: Verify,
    verifyhost: Option<&str>,
    crt: Option<&LoadedCert>,
    ca_base: Option<&PathBuf>,
    warnings: &mut Warnings,
) -> Result<Arc<ClientConfig>, String> {
    let prov = provider(p, warnings)?;
    let builder = ClientConfig::builder_with_provider(prov.clone())
        .with_protocol_versions(&versions(p)?)
        .map_err(|e| format!("{e}"))?;
    let builder = match verify {
        Verify::None => {
            builder.dangerous().with_custom_certificate_verifier(Arc::new(AnyServerCert::new(prov)))
        }
        _ => {
            let Some(ca) = &p.ca_file else {
                return Err(
                    "verify is enabled by default but no CA file specified. If you're running on a LAN \
                            where you're certain to trust the server's certificate, please set an explicit \
                            'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in \
                            the global section to disable server-side verifications by default."
                        .into(),
                );
            };
            let verifier = ChainVerifier::new(roots(&based(ca, ca_base))?, verifyhost, prov);
            builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier))
        }
    };
    let mut cfg = match crt {
        Some(c) => builder.with_client_cert_resolver(Arc::new(FixedClient(c.key.clone()))),
        None => builder.with_no_client_auth(),
    };
    cfg.max_fragment_size = p.max_record;
    cfg.alpn_protocols = p.alpn.iter().flatten().map(|a| a.as_bytes().to_vec()).collect();
    if p.no_tls_tickets == Some(true) {
        cfg.resumption = rustls::client::Resumption::default()
            .tls12_resumption(rustls::client::Tls12Resumption::SessionIdOnly);
    }
    Ok(Arc::new(cfg))
}

/// Serves one certificate whatever the ClientHello says (the SNI choice
/// was made before, by the bind's selector).
#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl rustls::server::ResolvesServerCert for Fixed {
    fn resolve(&self, _: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// Serves nothing: the handshake fails (`strict-sni` without a match).
#[derive(Debug)]
struct NoCert;

impl rustls::server::ResolvesServerCert for NoCert {
    fn resolve(&self, _: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        None
    }
}

/// A server's `crt`: the client certificate, offered whatever the server asks.
#[derive(Debug)]
struct FixedClient(Arc<CertifiedKey>);

impl rustls::client::ResolvesClientCert for FixedClient {
    fn resolve(&self, _: &[&[u8]], _: &[rustls::SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}
