//! Which timeout applies to each side of a stream, and what expiry does.
//!
//! Client side: `timeout client`, or `timeout client-fin` once that side is
//! half-closed; server side likewise with `server`/`server-fin`; once
//! connected, `timeout tunnel` (from the backend) supersedes both, as in
//! HAProxy's TCP mode. All are inactivity timeouts measured from the last
//! byte moved on that connection. Connecting is bounded by `timeout connect`.

use super::stream::{Phase, Stream, StreamCtx};
use super::term::{TermCause, TermPhase};
use crate::cfg::Config;
use crate::l4_conn::Conn;
use std::time::{Duration, Instant};

/// Inactivity limit for the client connection.
fn client_timeout(s: &Stream, cli: &Conn, cfg: &Config) -> Option<Duration> {
    let fe = &cfg.proxies[s.frontend].timeouts;
    if s.phase == Phase::Forwarding
        && let Some(t) = s.backend.and_then(|b| cfg.proxies[b].timeouts.tunnel)
    {
        return Some(t);
    }
    if cli.read_closed || cli.write_shut { fe.client_fin.or(fe.client) } else { fe.client }
}

/// Inactivity limit for the server connection once connected.
fn server_timeout(s: &Stream, srv: &Conn, cfg: &Config) -> Option<Duration> {
    let be = &cfg.proxies[s.backend?].timeouts;
    if let Some(t) = be.tunnel {
        return Some(t);
    }
    if srv.read_closed || srv.write_shut { be.server_fin.or(be.server) } else { be.server }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

pub(super) fn next_deadline(s: &Stream, cli: &Conn, cfg: &Config) -> Option<Instant> {
    let client = if cli.fully_closed() { None } else { client_timeout(s, cli, cfg).map(|t| cli.last_io + t) };
    let other = match (s.phase, s.srv.as_ref()) {
        (Phase::TurnAround { until }, _) => Some(until),
        (Phase::Connecting, Some(srv)) => {
            s.backend.and_then(|b| cfg.proxies[b].timeouts.connect).map(|t| srv.since + t)
        }
        (Phase::Forwarding, Some(srv)) if !srv.fully_closed() => {
            server_timeout(s, srv, cfg).map(|t| srv.last_io + t)
        }
        _ => None,
    };
    earliest(client, other)
}

pub(super) fn expire(s: &mut Stream, cli: &mut Conn, ctx: &mut StreamCtx<'_>) {
    let now = ctx.now;
    match s.phase {
        Phase::TurnAround { until } if until <= now => return s.connect_to_assigned(ctx),
        Phase::Connecting => {
            let limit = s.backend.and_then(|b| ctx.cfg.proxies[b].timeouts.connect);
            if let (Some(t), Some(srv)) = (limit, s.srv.as_ref())
                && srv.since + t <= now
            {
                return s.connect_failed(ctx, "timeout");
            }
        }
        Phase::Forwarding => {
            if let Some(srv) = s.srv.as_ref()
                && let Some(t) = server_timeout(s, srv, ctx.cfg)
                && !srv.fully_closed()
                && srv.last_io + t <= now
            {
                return s.abort(TermCause::ServerTimeout, TermPhase::Data);
            }
        }
        _ => {}
    }
    if let Some(t) = client_timeout(s, cli, ctx.cfg)
        && !cli.fully_closed()
        && cli.last_io + t <= now
    {
        let phase = if s.phase == Phase::Forwarding { TermPhase::Data } else { TermPhase::Connect };
        s.abort(TermCause::ClientTimeout, phase);
    }
}
