//! A stream's log facts (`l7_http::logformat::LogFacts`) and its log line:
//! what the format variables read, as they stand now (a rule's value) or
//! at the end (the log line); `option logasap`'s early line.

use super::stream::{Stream, StreamCtx};
use crate::backend::Backends;
use crate::l7_http::logformat::LogFacts;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn ms(d: Duration) -> i64 {
    d.as_millis() as i64
}

/// `%ac %fc %bc %sc` of a stream of `frontend` on `backend`/`server` now.
pub(super) fn conn_counts(
    b: &Backends,
    frontend: usize,
    backend: Option<usize>,
    server: Option<usize>,
) -> [u32; 4] {
    let (beconn, srvconn) = match (backend.and_then(|i| b.get(i)), server) {
        (Some(be), Some(s)) => (be.cur_conns, be.servers.get(s).map_or(0, |s| s.cur_conns)),
        (Some(be), None) => (be.cur_conns, 0),
        _ => (0, 0),
    };
    [b.actconn(), b.fe_conn(frontend), beconn, srvconn]
}

impl Stream {
    /// The facts as they stand at `ctx.now` (the server connection's
    /// addresses left out: they cost system calls, see
    /// [`Stream::with_server_addrs`]).
    pub(super) fn log_facts(&self, ctx: &StreamCtx<'_>) -> LogFacts {
        let mut facts = self.sample_facts(ctx);
        [facts.actconn, facts.feconn, facts.beconn, facts.srvconn] =
            conn_counts(&ctx.backends.lock(), self.frontend, self.backend, self.server);
        facts
    }

    /// The facts a rule pass's sample starts from: all but the connection
    /// counts (left 0: the sample reads them from the backends only if a
    /// format asks, [`StreamSample`]'s `conn_counts`), so building one
    /// takes no lock.
    ///
    /// [`StreamSample`]: super::sample::StreamSample
    pub(super) fn sample_facts(&self, ctx: &StreamCtx<'_>) -> LogFacts {
        let http = self.http.as_ref();
        let since = |from: Instant, to: Instant| ms(to.saturating_duration_since(from));
        let fe = self.frontend;
        let (actconn, feconn, beconn, srvconn) = (0, 0, 0, 0);
        let queue_ms = match self.queue.time {
            Some(d) => ms(d),
            None if self.server.is_some() => 0,
            None => -1,
        };
        LogFacts {
            accept_date: self.accept_date(ctx),
            handshake_ms: 0,
            idle_ms: if http.is_some() { since(self.accepted, self.req_begin) } else { 0 },
            head_ms: if http.is_some() { since(self.req_begin, self.started) } else { -1 },
            queue_ms,
            connect_ms: self.connect_time.map_or(-1, ms),
            response_ms: self.response_time().map_or(-1, ms),
            total_ms: since(self.accepted, ctx.now),
            bytes_in: self.bytes_in,
            bytes_out: self.bytes_out,
            final_counts: true,
            status: http.map_or(0, |h| h.txn.status.map_or(-1, i64::from)),
            term: self.term.letters(),
            cookie_flags: *b"--",
            actconn,
            feconn,
            beconn,
            srvconn,
            retries: self.retries_done,
            redispatched: self.redispatched,
            srv_queue: 0,
            be_queue: self.queue.pos,
            req_counter: self.id.saturating_sub(1),
            log_count: ctx.rules.get(fe).map_or(0, |r| r.log.count.load(Ordering::Relaxed)),
            tls_frontend: ctx.client_tls.is_some(),
            http: http.is_some(),
            server_addr: None,
            backend_src: None,
        }
    }

    /// `facts` with the server connection's addresses, when the frontend's
    /// formats read them and the connection exists.
    pub(super) fn with_server_addrs(&self, ctx: &StreamCtx<'_>, mut facts: LogFacts) -> LogFacts {
        if ctx.rules.get(self.frontend).is_some_and(|r| r.log.reads_server_conn)
            && let Some(srv) = self.srv.as_ref()
        {
            facts.server_addr = srv.peer_addr().ok();
            facts.backend_src = srv.local_addr().ok();
        }
        facts
    }

    /// When the stream's connection was accepted (keep-alive: when the
    /// previous request ended), on the wall clock: `%t`, and the ended
    /// stream's `StreamRecord::accept_date` whether or not a line is logged.
    pub(super) fn accept_date(&self, ctx: &StreamCtx<'_>) -> std::time::SystemTime {
        ctx.wall.checked_sub(ctx.now.saturating_duration_since(self.accepted)).unwrap_or(ctx.wall)
    }

    /// Whether this stream's line is to be rendered: the frontend has a
    /// format and a target, and the line was not sent early.
    pub(super) fn logs_a_line(&self, ctx: &StreamCtx<'_>) -> bool {
        !self.extra.logged
            && !ctx.cfg.proxies[self.frontend].logs.is_empty()
            && ctx.rules.get(self.frontend).is_some_and(|r| r.log.format.is_some())
    }

    /// Renders the log line (and structured data) from `facts`.
    pub(super) fn render_log(
        &self,
        ctx: &StreamCtx<'_>,
        facts: LogFacts,
    ) -> (Option<Box<str>>, Option<Box<str>>) {
        if !self.logs_a_line(ctx) {
            return (None, None);
        }
        let mut sample = self.sample(ctx, true, self.frontend);
        sample.facts = facts;
        ctx.rules[self.frontend].log.render(&sample)
    }

    /// `option logasap`: the line goes out now (TCP: once connected; HTTP:
    /// once the response head arrived), with the times and bytes so far
    /// marked `+`; nothing is logged at the end.
    pub(super) fn log_asap(&mut self, ctx: &mut StreamCtx<'_>, bytes_out: u64) {
        if !ctx.cfg.proxies[self.frontend].knobs.logasap || !self.logs_a_line(ctx) {
            return;
        }
        let mut facts = self.with_server_addrs(ctx, self.log_facts(ctx));
        facts.final_counts = false;
        facts.bytes_out = bytes_out;
        let (line, sd) = self.render_log(ctx, facts);
        self.extra.logged = true;
        let mut r = self.record(ctx, facts.accept_date, (facts.beconn, facts.srvconn));
        (r.line, r.sd, r.early) = (line, sd, true);
        r.log_level = self.extra.log_level;
        ctx.ended.push(r);
    }
}
