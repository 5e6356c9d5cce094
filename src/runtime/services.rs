//! The worker's [`ServiceHost`]: what the stats page, the Prometheus
//! exporter and the static files see of the running process. Built on
//! the stack for each session call from the worker's fields (copies and
//! shared borrows only: nothing is computed, allocated or locked until a
//! service request actually arrives; then the process lock is taken
//! before the backends', the order every path follows).

use super::stats::{StatInput, lines};
use crate::backend::Counters;
use crate::backend::stats::RATE_PERIOD;
use crate::cfg::Config;
use crate::cli::ProcessInfo;
use crate::l6_stream::service::{ServiceCall, ServiceHost, ServiceReply, ServiceRequest, ServiceShared};
use crate::l7_http::h2::counters::H2Counters;
use crate::l7_http::service_rules::InternalService;
use crate::service::{ServiceData, prometheus, static_files, stats_admin, stats_page};

/// What a worker knows of itself for `show info`, read without the
/// process lock.
#[derive(Clone, Copy)]
pub struct WorkerFacts<'a> {
    pub uptime_us: u64,
    pub start_time_us: u64,
    pub own_tasks: u64, // runtime API connections and health checks of this worker
    pub own_jobs: u64,  // runtime API connections and open listeners of this worker
    pub listeners: u64,
    pub idle_pct: u32,
    pub stopping: bool,
    pub node: &'a str,
}

impl<'a> WorkerFacts<'a> {
    /// The numbers `show info` prints, with the process-wide ones of `p`.
    pub(super) fn parts(&self, p: &'a super::shared::Process) -> InfoParts<'a> {
        let c = &p.counts;
        InfoParts {
            uptime_us: self.uptime_us,
            start_time_us: self.start_time_us,
            maxconn: p.maxconn,
            rate_limits: p.rate_limits,
            curr_conns: c.cur_conns,
            cum_conns: c.cum_conns + c.cli_cum,
            cli_cum: c.cli_cum,
            tasks: u64::from(c.cur_conns) + self.own_tasks,
            jobs: u64::from(c.cur_conns) + self.own_jobs,
            listeners: self.listeners,
            idle_pct: self.idle_pct,
            stopping: self.stopping,
            total_bytes_out: c.bytes_out,
            node: self.node,
            process: &c.process,
        }
    }
}

/// The worker's own numbers `show info` prints, as of the current call.
pub struct InfoParts<'a> {
    pub uptime_us: u64,
    pub start_time_us: u64,
    pub maxconn: u32,
    pub rate_limits: crate::cfg::process::RateLimits, // `maxconnrate`... as `set rate-limit` left them
    pub curr_conns: u32,
    pub cum_conns: u64, // runtime API connections included
    pub cli_cum: u64,   // runtime API connections (each also counts as a request)
    pub tasks: u64,
    pub jobs: u64,
    pub listeners: u64,
    pub idle_pct: u32,
    pub stopping: bool,
    pub total_bytes_out: u64,
    pub node: &'a str,
    pub process: &'a Counters, // process-wide connection and session rates
}

impl InfoParts<'_> {
    /// `show info`'s values; `streams`: streams this worker started, `h2`:
    /// the HTTP/2 mitigations fired.
    pub fn info(&self, cfg: &Config, streams: u64, now_ms: u64, h2: &H2Counters) -> ProcessInfo {
        let g = &cfg.global;
        ProcessInfo {
            pid: std::process::id(),
            nbthread: g.nbthread,
            uptime_us: self.uptime_us,
            start_time_us: self.start_time_us,
            ulimit_n: rlimit::Resource::NOFILE.get().map_or(0, |(soft, _)| soft),
            maxconn: self.maxconn,
            rate_limits: self.rate_limits,
            curr_conns: self.curr_conns,
            cum_conns: self.cum_conns,
            cum_req: streams + self.cli_cum,
            tasks: self.tasks,
            idle_pct: self.idle_pct,
            node: self.node.to_owned(),
            description: g.description.clone(),
            stopping: self.stopping,
            jobs: self.jobs,
            listeners: self.listeners,
            total_bytes_out: self.total_bytes_out,
            h2: h2.clone(),
            pool_bytes: (crate::core::buffer::pooled() * g.tune_bufsize) as u64,
            conn_rate: self.process.conn_rate.read(now_ms, RATE_PERIOD).into(),
            max_conn_rate: self.process.conn_rate_max.into(),
            sess_rate: self.process.sess_rate.read(now_ms, RATE_PERIOD).into(),
            max_sess_rate: self.process.sess_rate_max.into(),
            tls: crate::l4_conn::tls::stats::counters(),
            memmax_bytes: crate::core::buffer::limit() as u64,
            pool_failed: crate::core::buffer::failed(),
            ..ProcessInfo::default()
        }
    }
}

/// The host lent to streams for one session call.
pub struct WorkerServices<'a> {
    pub facts: WorkerFacts<'a>,
    pub shared: &'a super::shared::SharedState, // locked only once a service request arrives
}

impl ServiceHost for WorkerServices<'_> {
    fn serve(&mut self, req: &ServiceRequest<'_>, shared: ServiceShared<'_>) -> ServiceReply {
        let ServiceShared { cfg, tables, now_ms } = shared;
        if let ServiceCall::Use(InternalService::Static(root)) = req.call {
            return static_files::serve(root, req.txn);
        }
        let p = super::shared::lock(self.shared);
        let mut backends = self.shared.backends.lock();
        if let ServiceCall::Stats { proxy, admin, rule } = req.call {
            let px = &cfg.proxies[*proxy];
            if let Some(refused) = stats_page::refuse(&px.stats, rule.as_ref(), req.txn) {
                return refused;
            }
            if req.txn.method_bytes() == b"POST" {
                return stats_admin::apply(px, *admin, req.body, cfg, &mut backends, now_ms);
            }
        }
        let stat_lines = lines(&StatInput {
            cfg,
            backends: &backends,
            fe_stats: &p.counts.fe_stats,
            fe_cur: &p.counts.fe_cur,
            fe_max: &p.counts.fe_max,
            li: &p.counts.li,
            now_ms,
        });
        drop(backends);
        let info = self.facts.parts(&p).info(cfg, self.shared.streams(), now_ms, &p.h2);
        let audit = p.audit;
        drop(p);
        let data = ServiceData { lines: &stat_lines, info: &info, cfg, tables, now_ms, audit };
        match req.call {
            ServiceCall::Stats { proxy, admin, .. } => {
                stats_page::render(&cfg.proxies[*proxy], req.txn, *admin, &data)
            }
            _ => prometheus::serve(req.txn, &data),
        }
    }
}
