//! What sessions and streams borrow from the worker during a call: the
//! worker's clock, configuration, idle pool, rules and tables, kept apart
//! from the session slab so both can be borrowed at once. The backends
//! and the stream ids are the process-wide ones (`runtime::shared`),
//! locked only where a stream reads or changes them.

use crate::cfg::Config;
use crate::core::clock::Clock;
use crate::l4_conn::IdlePool;
use crate::l6_stream::rules::ProxyRules;
use crate::l6_stream::slots::InheritedSlots;
use crate::l6_stream::{StreamCtx, StreamRecord};
use crate::stick::Registry;
use std::sync::Arc;

use super::shared::SharedState;

/// What sessions and streams borrow from the worker during a call
/// (kept apart from the session slab so both can be borrowed at once).
pub(super) struct Env {
    pub(super) clock: Clock,
    pub(super) cfg: Arc<Config>,
    pub(super) ended: Vec<StreamRecord>, // streams that ended during the call, to log
    pub(super) errors: crate::l7_http::capture::ErrorLog, // `show errors`
    pub(super) idle: IdlePool,           // idle server connections for reuse
    pub(super) rules: Arc<Vec<ProxyRules>>, // compiled rules, indexed like cfg.proxies
    pub(super) tables: Registry,         // stick tables, indexed like cfg.proxies
    pub(super) caches: Arc<crate::l7_http::cache::Caches>, // `cache` sections
    pub(super) thread: usize,            // the worker's thread number
    pub(super) h2srv: crate::l6_stream::h2srv::H2Servers, // shared HTTP/2 server connections
    pub(super) h2: crate::l7_http::h2::counters::H2Counters, // this thread's HTTP/2 mitigations, not yet folded into the process's
}

impl Env {
    /// The context of one session call, with the process-wide backends and
    /// stream ids of `shared` (neither locked by it).
    pub(super) fn ctx<'a>(
        &'a mut self,
        registry: &'a mio::Registry,
        shared: &'a SharedState,
    ) -> StreamCtx<'a> {
        StreamCtx {
            registry,
            now: self.clock.now(),
            wall: self.clock.wall(),
            cfg: &self.cfg,
            backends: &shared.backends,
            ended: &mut self.ended,
            errors: &mut self.errors,
            idle: &mut self.idle,
            stream_ids: &shared.stream_ids,
            rules: &self.rules,
            tables: &self.tables,
            caches: &self.caches,
            now_ms: self.clock.ticks_ms(),
            inherited: InheritedSlots::none(),
            sess_vars: None,
            client_tls: None,
            client_pp: None,
            h2: &mut self.h2,
            h2srv: &mut self.h2srv,
            services: None,
            thread: self.thread,
            listener: 0,
        }
    }
}
