//! What the runtime API reads from the running worker.

use super::stats::{StatInput, lines};
use crate::backend::{Backends, Counters};
use crate::cfg::Config;
use crate::cli::stat::StatLine;
use crate::cli::{CliData, ProcessInfo};
use crate::core::slab::TokenSlab;
use crate::l5_session::Session;
use crate::stick::Registry;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What one runtime API command sees of the worker: a snapshot of its
/// numbers, the live stick tables, server states, counters and limits.
/// Built on the stack per event, borrowing the worker's fields.
pub struct WorkerView<'a> {
    pub info: ProcessInfo,
    pub tables: &'a Registry,
    pub now_ms: u64,
    pub cfg: &'a Config,
    pub backends: &'a mut Backends,
    pub fe_stats: &'a mut [Counters],
    pub fe_cur: &'a [u32],
    pub fe_max: &'a mut [u32],
    pub li: &'a mut [Vec<super::listener_stats::ListenerCounts>], // per proxy, per bind
    pub maxconn: &'a mut u32,
    pub initial_maxconn: u32,
    pub rate_limits: &'a mut crate::cfg::process::RateLimits, // `set rate-limit`
    pub sessions: &'a TokenSlab<Box<Session>>,
    pub errors: &'a crate::l7_http::capture::ErrorLog,
    pub now: std::time::Instant,
    pub peers: &'a crate::peers::net::Peers,
    pub certs: &'a [crate::l4_conn::tls::certs::CertInfo], // `show ssl cert`
    pub idle: &'a mut crate::l4_conn::pool::IdlePool, // idle server connections (`del server`, maintenance)
    pub listener_fds: Vec<i32>,                       // what `_getsocks` hands over
    pub caches: &'a crate::l7_http::cache::Caches,
    pub lent: &'a [super::isolate::Lent], // the other threads' sessions, parked for this command
    pub threads: (&'a super::shared::Threads, usize), // every thread, and the one running the command
    pub logs: (&'a super::logsink::LogSink, SystemTime), // the log targets and the wall clock (`server_event`)
    pub dns: &'a crate::backend::dns::Resolvers,         // `show resolvers`
}

impl CliData for WorkerView<'_> {
    fn listener_fds(&self) -> Vec<i32> {
        self.listener_fds.clone()
    }
    fn show_peers(&self, args: &[&str]) -> Result<String, &'static str> {
        crate::peers::show::show(self.peers, args, self.now_ms)
    }
    fn show_resolvers(&self, section: Option<&str>) -> Result<String, &'static str> {
        self.dns.show(section)
    }
    fn ssl_certs(&self) -> &[crate::l4_conn::tls::certs::CertInfo] {
        self.certs
    }
    fn idle_conns(&self, backend: usize, server: usize) -> usize {
        self.idle.idle_count((backend, server))
    }
    fn close_idle(&mut self, backend: usize, server: usize) {
        self.idle.close_server((backend, server));
        let (threads, me) = self.threads;
        threads.broadcast(me, super::shared::Mail::CloseIdle(backend, server));
    }
    fn caches(&self) -> Option<&crate::l7_http::cache::Caches> {
        Some(self.caches)
    }
    fn server_event(&self, proxy: usize, line: &crate::backend::admin_log::AdminLog) {
        let (sink, wall) = self.logs;
        sink.event(proxy, wall, &line.text, line.level);
        let tag = if line.alert { "[ALERT]   " } else { "[WARNING] " };
        eprintln!("{tag} ({}) : {}", std::process::id(), line.stderr);
    }
    fn process_info(&self) -> ProcessInfo {
        self.info.clone()
    }
    fn tables(&self) -> &Registry {
        self.tables
    }
    fn now_ms(&self) -> u64 {
        self.now_ms
    }
    fn config(&self) -> &Config {
        self.cfg
    }
    fn backends_mut(&mut self) -> &mut Backends {
        self.backends
    }
    fn stat_lines(&self) -> Vec<StatLine> {
        lines(&StatInput {
            cfg: self.cfg,
            backends: self.backends,
            fe_stats: self.fe_stats,
            fe_cur: self.fe_cur,
            fe_max: self.fe_max,
            li: self.li,
            now_ms: self.now_ms,
        })
    }
    fn clear_counters(&mut self, all: bool) {
        let clear = |c: &mut Counters| if all { c.clear_all() } else { c.clear_max() };
        self.fe_stats.iter_mut().for_each(clear);
        self.li.iter_mut().flatten().for_each(|l| clear(&mut l.c));
        for be in self.backends.iter_mut() {
            clear(&mut be.stats);
            be.servers.iter_mut().for_each(|s| clear(&mut s.stats));
        }
        // HAProxy's `h1` module is clearable: both forms restart its totals.
        self.backends.h1.clear();
    }
    fn for_each_session(&self, f: &mut dyn FnMut(&Session)) {
        let mut all: Vec<&Session> = self.sessions.iter().map(|s| &**s).collect();
        for l in self.lent {
            // SAFETY: `lent` borrows the isolation held for this view's
            // lifetime: each owner is parked and lends its slab read-only.
            all.extend(unsafe { l.sessions() }.iter().map(|s| &**s));
        }
        all.sort_unstable_by_key(|s| s.id);
        all.into_iter().for_each(f);
    }
    fn errors(&self) -> &crate::l7_http::capture::ErrorLog {
        self.errors
    }
    fn now(&self) -> std::time::Instant {
        self.now
    }
    fn set_rate_limit(&mut self, which: crate::cli::commands::RateLimit, n: u32) {
        use crate::cli::commands::RateLimit;
        let r = &mut *self.rate_limits;
        match which {
            RateLimit::Connections => r.conn = n,
            RateLimit::Sessions => r.sess = n,
            RateLimit::SslSessions => r.ssl = n,
        }
        self.info.rate_limits = *r;
    }
    fn set_maxconn(&mut self, frontend: Option<usize>, n: u32) {
        match frontend {
            None => *self.maxconn = if n == 0 { self.initial_maxconn } else { n },
            Some(fe) => {
                let configured = self.cfg.proxies[fe].maxconn.unwrap_or(self.initial_maxconn);
                self.fe_max[fe] = if n == 0 { configured } else { n };
            }
        }
    }
}

/// The host name (HAProxy's default `node`).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_default()
}

/// Microseconds since the Unix epoch of `t`.
pub fn unix_micros(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_micros() as u64
}
