//! `tcp-request inspect-delay` with `tcp-request content` rules (TCP mode):
//! the stream waits for the client's first bytes before its rules and its
//! `use_backend` choice run, as HAProxy does. A rule whose condition reads
//! bytes that have not all arrived (`req.ssl_hello_type`, `req.ssl_sni`)
//! waits there, until the bytes come, the buffer is full, the client
//! closes or the delay ends; then it is judged with what there is. This is
//! what routes TLS by SNI without terminating it.

use super::client::ClientSide;
use super::sample::{SlotAccess, StreamSample};
use super::stream::{Phase, Stream, StreamCtx};
use super::term::{TermCause, TermPhase};
use crate::acl::{SampleSource, Tri, take_incomplete};
use crate::l4_conn::IoStep;
use crate::l4_conn::track::{TcpAction, TcpRule, Verdict, run_sc_action};

/// How a rule pass over buffered content ended.
enum Inspected {
    Done(Verdict),
    Wait(usize), // the rule to resume at
}

impl Stream {
    /// A new TCP stream of `frontend` waits for content when the frontend
    /// has an inspect delay and content rules.
    pub(super) fn wants_inspection(frontend: usize, ctx: &StreamCtx<'_>) -> Option<std::time::Instant> {
        let delay = ctx.cfg.proxies[frontend].inspect_delay?;
        (!ctx.rules[frontend].tcp_content.is_empty()).then(|| ctx.now + delay)
    }

    /// One step of the inspection: read, run the rules from where they
    /// stopped, and when they are decided, route and go on to connect.
    pub(super) fn inspect<C: ClientSide>(&mut self, cli: &mut C, ctx: &StreamCtx<'_>) {
        let Phase::Inspect { until, next } = self.phase else { return };
        if cli.fill(ctx.now) == IoStep::Failed {
            return self.abort(TermCause::ClientAbort, TermPhase::Request);
        }
        let last = ctx.now >= until || cli.rx_full() || cli.read_closed();
        let data = cli.rx().map_or(&[][..], |b| b.data());
        let payload = Some((data, last));
        let fe = self.frontend;
        match self.content_pass(fe, next, payload, ctx) {
            Inspected::Wait(i) => {
                self.phase = Phase::Inspect { until, next: i };
                return;
            }
            Inspected::Done(v @ (Verdict::Reject | Verdict::SilentDrop)) => {
                return self.refuse_request(v == Verdict::SilentDrop);
            }
            Inspected::Done(Verdict::SwitchHttp(proto)) => return self.switch_to_http(proto),
            Inspected::Done(_) => {}
        }
        let backend = {
            let mut sample = self.sample(ctx, false, fe);
            sample.payload = payload;
            super::route::select_backend(&ctx.cfg.proxies[fe], &ctx.rules[fe], &sample)
        };
        self.backend = backend;
        self.retries_left = backend.map_or(0, |b| ctx.cfg.proxies[b].retries);
        if self.upgrade_for_backend(ctx) {
            return; // its rules run on the HTTP stream that continues it
        }
        if let Some(be) = backend.filter(|&b| b != fe)
            && let Inspected::Done(v @ (Verdict::Reject | Verdict::SilentDrop)) =
                self.content_pass(be, 0, Some((data, true)), ctx)
        {
            return self.refuse_request(v == Verdict::SilentDrop);
        }
        self.phase = Phase::Assign;
    }

    /// `proxy`'s content rules from rule `from`, over `payload`.
    fn content_pass(
        &mut self,
        proxy: usize,
        from: usize,
        payload: Option<(&[u8], bool)>,
        ctx: &StreamCtx<'_>,
    ) -> Inspected {
        let last = payload.is_none_or(|(_, l)| l);
        let mut sample = StreamSample {
            facts: self.sample_facts(ctx),
            lazy: Default::default(),
            src: self.src,
            dst: self.dst,
            txn: None,
            frontend: self.frontend,
            backend: self.backend,
            server: self.server,
            cfg: ctx.cfg,
            backends: ctx.backends,
            response: false,
            slots: SlotAccess::Write(&mut self.slots),
            inherited: ctx.inherited,
            sess_vars: ctx.sess_vars,
            unique_id_fmt: None, // TCP content rules: no HTTP transaction
            tables: ctx.tables,
            rule_proxy: proxy,
            now_ms: ctx.now_ms,
            client_tls: ctx.client_tls,
            client_pp: ctx.client_pp,
            server_tls: false,
            payload,
            set_timeouts: self.extra.timeouts,
            tcp_vars: &self.vars,
            last_rule: self.extra.last_rule.and_then(|r| r.loc(ctx.rules)),
        };
        let (pass, fired) = run_from(&ctx.rules[proxy].tcp_content, from, last, &mut sample, ctx);
        if let Some(i) = fired {
            let at = super::last_rule::RuleRef::new(super::last_rule::RuleSet::TcpContent, proxy, i);
            self.extra.last_rule = Some(at);
        }
        pass
    }
}

/// Runs `rules` from `from`; a condition that read missing bytes stops
/// the pass (unless no more can come) so it runs again with more.
fn run_from(
    rules: &[TcpRule],
    from: usize,
    last: bool,
    sample: &mut StreamSample<'_>,
    ctx: &StreamCtx<'_>,
) -> (Inspected, Option<usize>) {
    for (i, rule) in rules.iter().enumerate().skip(from) {
        let _ = take_incomplete();
        let res = rule.cond.as_ref().map_or(Tri::Pass, |c| c.eval_partial(&*sample as &dyn SampleSource));
        match res {
            Tri::Pass => {}
            Tri::Miss if !last => return (Inspected::Wait(i), None),
            Tri::Miss | Tri::Fail => continue,
        }
        match &rule.action {
            TcpAction::Accept => return (Inspected::Done(Verdict::Accept), Some(i)),
            TcpAction::Reject => return (Inspected::Done(Verdict::Reject), Some(i)),
            TcpAction::SilentDrop => return (Inspected::Done(Verdict::SilentDrop), Some(i)),
            TcpAction::Sc(a) => {
                run_sc_action(a, sample, ctx.tables, ctx.now_ms);
            }
            TcpAction::Var(a) => a.run(&*sample),
            TcpAction::VarFmt(var, fmt) => crate::l4_conn::track::run_var_fmt(var, fmt, &*sample),
            TcpAction::ExpectProxy => {} // connection rules only (refused elsewhere at load)
            TcpAction::SwitchHttp(proto) => return (Inspected::Done(Verdict::SwitchHttp(*proto)), Some(i)),
        }
        // An action whose sample (a `track-sc` key, a `set-var` value) read
        // missing bytes did nothing: it runs again when more have come.
        if take_incomplete() && !last {
            return (Inspected::Wait(i), None);
        }
    }
    (Inspected::Done(Verdict::Continue), None)
}
