//! TLS settings as written: `bind ... ssl` options, `server ... ssl`
//! options and the `global` SSL defaults. Files are only named here;
//! `l4_conn::tls` reads them (certificates, keys, CAs) when it builds the
//! TLS configurations, and reports what it cannot load at the line that
//! named it.

use super::model::Loc;
use std::path::PathBuf;

/// A TLS protocol version, as `ssl-min-ver`/`ssl-max-ver` name it.
/// strata (rustls) speaks TLSv1.2 and TLSv1.3 only; the older names are
/// kept so a range such as `ssl-min-ver TLSv1.0` can be read and narrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Ssl3,
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl TlsVersion {
    /// Parses HAProxy's spelling (`SSLv3`, `TLSv1.0` ... `TLSv1.3`).
    pub fn parse(s: &str) -> Option<TlsVersion> {
        Some(match s {
            "SSLv3" => TlsVersion::Ssl3,
            "TLSv1.0" => TlsVersion::Tls10,
            "TLSv1.1" => TlsVersion::Tls11,
            "TLSv1.2" => TlsVersion::Tls12,
            "TLSv1.3" => TlsVersion::Tls13,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            TlsVersion::Ssl3 => "SSLv3",
            TlsVersion::Tls10 => "TLSv1.0",
            TlsVersion::Tls11 => "TLSv1.1",
            TlsVersion::Tls12 => "TLSv1.2",
            TlsVersion::Tls13 => "TLSv1.3",
        }
    }
}

/// `verify none|optional|required`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Verify {
    #[default]
    None,
    Optional,
    Required,
}

/// Protocol and cipher choices shared by binds, crt-list lines and
/// servers (each `Option` is "not written here": a default applies).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsParams {
    pub min_ver: Option<TlsVersion>,  // `ssl-min-ver`
    pub max_ver: Option<TlsVersion>,  // `ssl-max-ver`
    pub no_versions: Vec<TlsVersion>, // `no-sslv3`, `no-tlsv10` ... `no-tlsv13`
    pub force: Option<TlsVersion>,    // `force-tlsv12` ...
    pub ciphers: Option<String>,      // `ciphers` (OpenSSL list, TLSv1.2 and below)
    pub ciphersuites: Option<String>, // `ciphersuites` (TLSv1.3)
    pub curves: Option<String>,       // `curves` / `ecdhe`
    pub alpn: Option<Vec<String>>,    // `alpn h2,http/1.1`
    pub no_tls_tickets: Option<bool>, // `no-tls-tickets` (Some(true)) / `tls-tickets` (Some(false))
    pub prefer_client_ciphers: bool,  // `prefer-client-ciphers`
    pub ca_file: Option<PathBuf>,     // `ca-file`
    pub crl_file: Option<PathBuf>,    // `crl-file`
    pub verify: Option<Verify>,       // `verify`
    pub npn: Option<String>,          // `npn` (obsolete; rustls has no NPN: warned)
    pub max_record: Option<usize>, // `tune.ssl.maxrecord` / `hard-maxrecord` (global): plaintext bytes per record
}

/// The `ssl` options of one `bind` line (every address of the line
/// shares them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BindSsl {
    pub ssl: bool,      // `ssl` written: the listener speaks TLS
    pub crts: Vec<Crt>, // `crt FILE|DIR` and `crt-list FILE`, in order (the first is the default)
    pub params: TlsParams,
    pub strict_sni: bool,  // `strict-sni`: no default certificate
    pub addr_text: String, // the address list as written (for messages)
    pub section: String,   // `frontend` / `listen` (for messages)
    pub loc: Loc,          // the `bind` line
}

/// Where a bind's certificates come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Crt {
    Path(PathBuf), // `crt FILE|DIR`
    List(PathBuf), // `crt-list FILE`
}

/// The TLS options of one `server` line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerSsl {
    pub ssl: bool,                  // `ssl`: traffic to the server is TLS
    pub check_ssl: bool,            // `check-ssl`: health checks are TLS
    pub sni: Option<String>,        // `sni EXPR` (a sample expression, e.g. `str(example.com)`)
    pub check_sni: Option<String>,  // `check-sni NAME`
    pub crt: Option<PathBuf>,       // `crt FILE`: client certificate
    pub verifyhost: Option<String>, // `verifyhost NAME`
    pub params: TlsParams,
}

impl ServerSsl {
    /// Whether the server line uses TLS at all.
    pub fn any(&self) -> bool {
        self.ssl || self.check_ssl
    }
}

/// `global` SSL settings: defaults every `bind` and `server` starts from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GlobalSsl {
    pub bind: TlsParams,   // `ssl-default-bind-options`, `-ciphers`, `-ciphersuites`
    pub server: TlsParams, // `ssl-default-server-options`, `-ciphers`, `-ciphersuites`
    pub server_verify: Option<Verify>, // `ssl-server-verify none|required` (default required)
    pub cache_size: Option<usize>, // `tune.ssl.cachesize` (sessions; default 20000, 0 = off)
    pub lifetime_secs: Option<u64>, // `tune.ssl.lifetime` (default 300)
    pub crt_base: Option<PathBuf>, // `crt-base`
    pub ca_base: Option<PathBuf>, // `ca-base`
    pub loc: Option<Loc>,  // the first SSL line of `global` (for messages)
}
