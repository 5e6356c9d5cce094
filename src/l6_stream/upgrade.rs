//! A TCP stream that goes on as HTTP: `tcp-request content switch-mode
//! http [proto h1|h2]`, or a `mode tcp` frontend whose stream is routed
//! to a `mode http` backend (HAProxy 2.6 upgrades it then too).
//!
//! The TCP stream stops where it is (before any server connection) and
//! ends silently: no log line, nothing counted as ended. What it decided
//! is handed to the HTTP mux the session puts in place of the
//! pass-through one ([`Upgraded`]): its id, its variables, its own
//! trackers and its backend. The mux's first HTTP stream takes them over,
//! so for the client and the counters it is the same stream going on: the
//! frontend's content rules are not run again on it (HAProxy's in-place
//! upgrade), later requests are new streams that run them. An HTTP/2
//! client starts new streams instead (HAProxy does the same), and the
//! TCP stream's state is dropped with it.

use super::slots::StreamSlots;
use super::stream::{Phase, Stream, StreamCtx};
use crate::cfg::{BindProto, Mode};

/// What an upgraded TCP stream hands to the first HTTP stream of its
/// connection. Built by [`Stream::take_upgrade`], consumed by
/// `Stream::new_http_upgraded`.
pub struct Upgraded {
    pub proto: Option<BindProto>, // `switch-mode http proto X`: the mux forced, else chosen by the bytes
    pub(super) id: u64,           // the stream's id, kept
    pub(super) vars: crate::acl::Vars, // its `txn.`/`req.` variables
    pub(super) slots: StreamSlots, // its own trackers (the session's stay the session's)
    pub(super) backend: Option<usize>, // its backend when one was chosen (a TCP frontend on an HTTP backend)
}

impl Stream {
    /// The stream stops as TCP to go on as HTTP (`proto`: forced mux).
    pub(super) fn switch_to_http(&mut self, proto: Option<BindProto>) {
        log::debug!(target: "l6", "s#{}: switching to HTTP", self.id);
        self.upgrade = Some(proto);
        self.phase = Phase::Done;
    }

    /// A TCP stream routed to an HTTP backend is upgraded (true) rather
    /// than forwarded as bytes.
    pub(super) fn upgrade_for_backend(&mut self, ctx: &StreamCtx<'_>) -> bool {
        let http_backend = self.backend.is_some_and(|b| ctx.cfg.proxies[b].mode == Mode::Http);
        if self.http.is_none() && http_backend {
            self.switch_to_http(None);
            return true;
        }
        false
    }

    /// What the HTTP stream that continues this one takes over, once it
    /// stopped to switch; None for a stream that just ended.
    pub fn take_upgrade(&mut self) -> Option<Box<Upgraded>> {
        let proto = self.upgrade.take()?;
        Some(Box::new(Upgraded {
            proto,
            id: self.id,
            vars: std::mem::take(&mut self.vars),
            slots: std::mem::take(&mut self.slots),
            backend: self.backend,
        }))
    }
}
