//! TLS for connections on both sides, with rustls (aws-lc-rs provider). Every
//! rustls call of strata lives in this module; its connection I/O in
//! `engine.rs` alone.
//!
//! - [`load`] reads every certificate, key and CA the configuration names
//!   and builds the rustls configurations, reporting what fails at the
//!   line that named it (so `-c` finds it); the result is a [`TlsSet`].
//! - A `bind ... ssl` listener holds its [`BindTls`]: the configurations
//!   of its certificates and how the ClientHello's SNI picks one (exact
//!   name, then wildcard, then the default: the first certificate).
//! - A `server ... ssl` holds its [`ServerTls`].
//! - A [`Conn`](super::Conn) owns its transport: plain, or a [`TlsState`]
//!   (see `io.rs`), so sessions, streams and trackers above never see TLS.

mod build;
mod cache;
pub mod certs;
mod ciphers;
mod engine;
mod io;
pub use io::Handshake;
mod load;
pub mod stats;
mod verify;

pub use load::load;

use crate::acl::tls_facts::TlsFacts;
use certs::CertInfo;
use engine::Engine;
use hashbrown::HashMap;
use std::sync::Arc;

/// Every TLS configuration of a loaded configuration. Built once by
/// [`load`], shared read-only by the workers.
#[derive(Debug, Default)]
pub struct TlsSet {
    binds: HashMap<(usize, usize), Arc<BindTls>>, // (proxy, bind index) of `ssl` binds
    servers: HashMap<(usize, usize), Arc<ServerTls>>, // (proxy, server index) of TLS servers
    pub certs: Vec<CertInfo>,                     // every certificate loaded, first load order
}

impl TlsSet {
    /// The TLS side of bind `bind` of proxy `proxy`, if it has `ssl`.
    pub fn bind(&self, proxy: usize, bind: usize) -> Option<Arc<BindTls>> {
        self.binds.get(&(proxy, bind)).cloned()
    }

    /// The TLS settings of server `srv` of backend `proxy`, if any.
    pub fn server(&self, proxy: usize, srv: usize) -> Option<Arc<ServerTls>> {
        self.servers.get(&(proxy, srv)).cloned()
    }
}

/// A `bind ... ssl` line's server configurations and its SNI choice.
#[derive(Debug)]
pub struct BindTls {
    configs: Vec<Arc<rustls::ServerConfig>>, // one per certificate entry
    exact: HashMap<String, usize>,           // lower-case name → config
    wildcard: HashMap<String, usize>,        // `example.com` for `*.example.com` → config
    excluded: Vec<(usize, String)>,          // `!name` filters of crt-list lines
    default: Option<usize>,                  // None with `strict-sni`
    refuse: Arc<rustls::ServerConfig>,       // fails every handshake (no match under strict-sni)
}

impl BindTls {
    /// The configuration for a ClientHello's SNI: exact name, then the
    /// wildcard of its parent, then the default.
    pub fn config_for(&self, sni: Option<&str>) -> Arc<rustls::ServerConfig> {
        let pick = sni.and_then(|name| {
            let name = name.to_ascii_lowercase();
            let allowed = |i: &usize| !self.excluded.iter().any(|(j, n)| j == i && *n == name);
            if let Some(i) = self.exact.get(&name).filter(|i| allowed(i)) {
                return Some(*i);
            }
            let parent = name.split_once('.').map(|(_, p)| p)?;
            self.wildcard.get(parent).filter(|i| allowed(i)).copied()
        });
        match pick.or(self.default) {
            Some(i) => self.configs[i].clone(),
            None => self.refuse.clone(),
        }
    }
}

/// A `server ... ssl` line's client configuration.
#[derive(Debug)]
pub struct ServerTls {
    pub config: Arc<rustls::ClientConfig>,
    pub sni: Option<crate::acl::SampleExpr>, // `sni EXPR`, evaluated per connection on its stream
    pub ssl: bool,                           // traffic is TLS (`ssl`)
    pub check_ssl: bool, // health checks are TLS (`check-ssl`, or `ssl` and no port override)
    pub check_sni: Option<String>, // `check-sni`
}

/// Why a handshake failed, as HAProxy's connection error codes say it
/// (the text ends an embryonic session's log line and a check's info).
/// The PROXY protocol header (`accept-proxy`) is a handshake too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HsFailure {
    Empty,                                       // closed by the peer before or during the handshake
    Abort,                                       // a socket error during the handshake
    Timeout,                                     // `timeout client` (or `connect`) while handshaking
    Handshake, // the peer's messages were refused (plain HTTP, bad version, no common suite...)
    CrtFail,   // the client's certificate failed verification
    Proxy(crate::l4_conn::proxy_proto::Refused), // the PROXY protocol header was not received
}

impl HsFailure {
    /// HAProxy's `conn_err_code_str` for it.
    pub fn message(self) -> &'static str {
        match self {
            HsFailure::Empty => "Connection closed during SSL handshake",
            HsFailure::Abort => "Connection error during SSL handshake",
            HsFailure::Timeout => "Timeout during SSL handshake",
            HsFailure::Handshake => "SSL handshake failure",
            HsFailure::CrtFail => "SSL client certificate not trusted",
            HsFailure::Proxy(r) => r.message(),
        }
    }

    /// `option dontlognull` silences these (nothing was exchanged).
    pub fn is_null(self) -> bool {
        use crate::l4_conn::proxy_proto::Refused;
        matches!(
            self,
            HsFailure::Empty | HsFailure::Abort | HsFailure::Proxy(Refused::Empty | Refused::Abort)
        )
    }
}

/// A connection's TLS transport: the engine and the bookkeeping that
/// keeps the plain `Conn` semantics ("bytes taken are on the wire").
pub struct TlsState {
    engine: Engine,
    held: usize, // bytes of the caller's data encrypted but not all on the wire yet: taken at the next send
    plain_left: bool, // rustls holds plaintext that did not fit the receive buffer
    shut_pending: bool, // our FIN waits for the close_notify to leave
    failure: Option<HsFailure>,
    sent_sni: Option<Box<str>>, // client side: the SNI sent (reuse must match it)
    server_side: bool,
    done: bool, // the handshake completed (and was counted)
    facts_taken: bool,
}

impl TlsState {
    fn new(engine: Engine, server_side: bool) -> TlsState {
        stats::conn_opened();
        TlsState {
            engine,
            held: 0,
            plain_left: false,
            shut_pending: false,
            failure: None,
            sent_sni: None,
            server_side,
            done: false,
            facts_taken: false,
        }
    }

    /// What the handshake negotiated (once it is done).
    pub fn facts(&self) -> TlsFacts {
        self.engine.facts()
    }
}

impl Drop for TlsState {
    fn drop(&mut self) {
        stats::conn_closed();
    }
}

impl std::fmt::Debug for TlsState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsState").field("done", &self.done).field("failure", &self.failure).finish()
    }
}
