//! Which timeout applies to each side of a stream, and what expiry does.
//!
//! Client side: `timeout client`, or `timeout client-fin` once that side is
//! half-closed; server side likewise with `server`/`server-fin`; once
//! connected, `timeout tunnel` (from the backend) supersedes both, as in
//! HAProxy's TCP mode. All are inactivity timeouts measured from the last
//! byte moved on that connection. Connecting is bounded by `timeout connect`.
//!
//! In HTTP mode the tunnel timeout applies only after a protocol switch,
//! and the client is not timed while it waits for the server's answer
//! (it is expected neither to send nor to read then); a server that does
//! not answer in time gets the client HAProxy's 504.
//!
//! `http-request set-timeout server|tunnel` replaces the backend's value
//! for one stream ([`SetTimeouts`]).

use super::client::ClientSide;
use super::srv_conn::SrvConn;
use super::stream::{Phase, Stream, StreamCtx};
use super::term::{TermCause, TermPhase};
use crate::cfg::Config;
use crate::l7_http::errors::BuiltinStatus;
use std::time::{Duration, Instant};

/// The server and tunnel timeouts `http-request set-timeout` gave one
/// stream, superseding its backend's; None: not set. Owned by the stream
/// (`StreamExtra`), copied into its samples for `cur_*_timeout`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetTimeouts {
    pub server: Option<Duration>,
    pub tunnel: Option<Duration>,
}

impl SetTimeouts {
    /// The stream's server timeout: its own, else its backend's.
    pub fn server(&self, be: &crate::cfg::Timeouts) -> Option<Duration> {
        self.server.or(be.server)
    }
    /// The stream's tunnel timeout: its own, else its backend's.
    pub fn tunnel(&self, be: &crate::cfg::Timeouts) -> Option<Duration> {
        self.tunnel.or(be.tunnel)
    }
}

/// Whether the stream is a tunnel (TCP mode once connected, or HTTP after
/// a protocol switch), where `timeout tunnel` supersedes the others.
fn tunnelled(s: &Stream) -> bool {
    s.phase == Phase::Forwarding && s.http.as_ref().is_none_or(|h| h.tunnel)
}

/// Inactivity limit for the client connection.
fn client_timeout<C: ClientSide>(s: &Stream, cli: &C, cfg: &Config) -> Option<Duration> {
    let fe = &cfg.proxies[s.frontend].timeouts;
    if tunnelled(s)
        && let Some(t) = s.backend.and_then(|b| s.extra.timeouts.tunnel(&cfg.proxies[b].timeouts))
    {
        return Some(t);
    }
    if let Some(h) = s.http.as_ref()
        && !h.tunnel
        && h.request_done()
        && !h.response_started
    {
        return None; // waiting for the server: the client owes nothing
    }
    if cli.read_closed() || cli.write_shut() { fe.client_fin.or(fe.client) } else { fe.client }
}

/// Inactivity limit for the server connection once connected.
fn server_timeout(s: &Stream, srv: &SrvConn, cfg: &Config) -> Option<Duration> {
    let be = &cfg.proxies[s.backend?].timeouts;
    if tunnelled(s)
        && let Some(t) = s.extra.timeouts.tunnel(be)
    {
        return Some(t);
    }
    let server = s.extra.timeouts.server(be);
    if srv.read_closed() || srv.write_shut() { be.server_fin.or(server) } else { server }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

pub(super) fn next_deadline<C: ClientSide>(s: &Stream, cli: &C, cfg: &Config) -> Option<Instant> {
    let client =
        if cli.fully_closed() { None } else { client_timeout(s, cli, cfg).map(|t| cli.last_io() + t) };
    let other = match (s.phase, s.srv.as_ref()) {
        (Phase::TurnAround { until }, _) => Some(until),
        (Phase::Inspect { until, .. }, _) => Some(until),
        (Phase::Tarpit { until, .. }, _) => Some(until),
        (Phase::WaitBody(w), _) => w.until,
        (Phase::Queued { until }, _) => until,
        (Phase::Assign, _) => s.balance_key_deadline(cfg),
        (Phase::Connecting, Some(srv)) => {
            s.backend.and_then(|b| cfg.proxies[b].timeouts.connect).map(|t| srv.since() + t)
        }
        (Phase::Forwarding, Some(srv)) if !srv.fully_closed() => {
            earliest(server_timeout(s, srv, cfg).map(|t| srv.last_io() + t), s.response_wait_until())
        }
        _ => None,
    };
    earliest(earliest(client, other), s.extra.res_inspect.deadline())
}

pub(super) fn expire<C: ClientSide>(s: &mut Stream, cli: &mut C, ctx: &mut StreamCtx<'_>) {
    let now = ctx.now;
    match s.phase {
        Phase::TurnAround { until } if until <= now => return s.retry_same_server(ctx),
        Phase::Tarpit { until, rule } if until <= now => return s.end_tarpit(rule, ctx),
        Phase::Tarpit { .. } => return, // the client is not timed while held
        Phase::WaitBody(w) if w.until.is_some_and(|u| u <= now) => return s.body_timeout(),
        Phase::Queued { until: Some(until) } if until <= now => return s.queue_expired(ctx),
        Phase::Connecting => {
            let limit = s.backend.and_then(|b| ctx.cfg.proxies[b].timeouts.connect);
            if let (Some(t), Some(srv)) = (limit, s.srv.as_ref())
                && srv.since() + t <= now
            {
                return s.connect_failed(ctx, "timeout");
            }
        }
        Phase::Forwarding => {
            if s.response_wait_until().is_some_and(|u| u <= now) {
                return s.response_body_late(ctx); // `http-response wait-for-body`: its time is over
            }
            if let Some(srv) = s.srv.as_ref()
                && let Some(t) = server_timeout(s, srv, ctx.cfg)
                && !srv.fully_closed()
                && srv.last_io() + t <= now
            {
                if s.response_wait_until().is_some() {
                    return s.response_body_late(ctx);
                }
                if s.http.as_ref().is_some_and(|h| h.txn.res.is_none() && !h.tunnel) {
                    if s.l7_retry(ctx, crate::cfg::srv_select::RetryOn::RESPONSE_TIMEOUT) {
                        return;
                    }
                    // A failed request for the trackers, as HAProxy's
                    // response analyser counts its 504.
                    s.count(ctx, crate::stick::Update::HttpFail);
                    return s.answer(
                        BuiltinStatus::GatewayTimeout,
                        TermCause::ServerTimeout,
                        TermPhase::Headers,
                    );
                }
                return s.abort(TermCause::ServerTimeout, TermPhase::Data);
            }
        }
        _ => {}
    }
    if let Some(t) = client_timeout(s, cli, ctx.cfg)
        && !cli.fully_closed()
        && cli.last_io() + t <= now
    {
        if let Phase::WaitBody(_) = s.phase {
            return s.body_timeout(); // the 408 as for the wait's own time
        }
        let phase = match s.phase {
            Phase::Forwarding => TermPhase::Data,
            Phase::Queued { .. } => TermPhase::Queue,
            Phase::Inspect { .. } => TermPhase::Request,
            _ => TermPhase::Connect,
        };
        s.abort(TermCause::ClientTimeout, phase);
    }
}
