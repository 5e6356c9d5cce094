//! `ring` and `log-forward` sections at run time (HAProxy 2.6's sinks and
//! syslog relays): the process's rings (`core::ring`, `buf0` and each
//! `ring` section) are installed before the workers open their log
//! targets; each ring `server` gets a forwarder thread sending the ring's
//! events over TCP (`forward.rs`); each `log-forward` listener, bound
//! before the fork, gets a thread receiving syslog messages and sending
//! them to the section's `log` targets (`relay.rs`). Message parsing and
//! headers: `message.rs`.
//!
//! These threads only move log lines; they share nothing with the workers
//! but the rings' locks and the process's exit.

mod forward;
pub mod message;
mod relay;

use crate::cfg::Config;
use crate::core::ring::{Ring, Rings};
use std::sync::Arc;

/// Size of HAProxy's built-in `buf0` ring (1 MB, `timed` format).
pub const BUF0_SIZE: usize = 1_048_576;

/// Rings installed and log-forward sockets bound, threads not started.
pub struct Prepared {
    relays: Vec<relay::Listener>,
}

/// Installs the rings and binds every `log-forward` listener (before the
/// fork: a bind error stops the start, as HAProxy's).
pub fn prepare(cfg: &Config) -> Result<Prepared, super::StartError> {
    let mut list =
        vec![Arc::new(Ring::new(crate::cfg::syslog::BUILTIN_RING, "in-memory ring buffer", BUF0_SIZE))];
    for r in &cfg.rings {
        list.push(Arc::new(Ring::new(&r.name, r.description.as_deref().unwrap_or(&r.name), r.size)));
    }
    crate::core::ring::install(Rings::new(list));
    let mut relays = Vec::new();
    for (i, f) in cfg.log_forwards.iter().enumerate() {
        relays.extend(relay::bind(i, f)?);
    }
    Ok(Prepared { relays })
}

impl Prepared {
    /// Starts the relay and forwarder threads (after the fork).
    pub fn spawn(self, cfg: &Arc<Config>) {
        for l in self.relays {
            relay::spawn(l, cfg.clone());
        }
        for r in &cfg.rings {
            let Some(ring) = crate::core::ring::rings().find(&r.name) else { continue };
            for s in &r.servers {
                forward::spawn(ring.clone(), s.clone(), r.timeout_connect, r.timeout_server);
            }
        }
    }
}
