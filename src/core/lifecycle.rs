//! Whether the process is soft-stopping (SIGUSR1, or replaced by a new
//! process with `-sf`). Set once by the worker; read by the HTTP/1 mux,
//! which then answers with `Connection: close` and closes connections
//! between requests, as HAProxy does, so that clients move to the new
//! process and this one can exit.

use std::sync::atomic::{AtomicBool, Ordering};

static STOPPING: AtomicBool = AtomicBool::new(false);

/// The soft stop began.
pub fn set_stopping() {
    STOPPING.store(true, Ordering::Release);
}

/// Whether a soft stop is in progress.
#[inline]
pub fn stopping() -> bool {
    STOPPING.load(Ordering::Relaxed)
}
