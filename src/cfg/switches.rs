//! Command-line switches that change how the configuration is read or
//! what it means (HAProxy's `global.tune.options` bits set by flags).
//! `main` sets them once, before loading; everything else only reads.

use std::sync::atomic::{AtomicBool, Ordering};

static RESOLVE_DONTFAIL: AtomicBool = AtomicBool::new(false);
static SSL_VERIFY_NONE: AtomicBool = AtomicBool::new(false);

/// `-dr`: a server whose address does not resolve is disabled with a
/// warning instead of failing the configuration.
pub fn set_resolve_dontfail(on: bool) {
    RESOLVE_DONTFAIL.store(on, Ordering::Relaxed);
}

pub fn resolve_dontfail() -> bool {
    RESOLVE_DONTFAIL.load(Ordering::Relaxed)
}

/// `-dV`: servers' TLS certificates are not verified unless a `server`
/// line says `verify required` or the global section says
/// `ssl-server-verify required` (as HAProxy: the configuration wins).
pub fn set_ssl_verify_none(on: bool) {
    SSL_VERIFY_NONE.store(on, Ordering::Relaxed);
}

pub fn ssl_verify_none() -> bool {
    SSL_VERIFY_NONE.load(Ordering::Relaxed)
}
