//! A stream waiting in its backend's queue: every usable server is at its
//! `maxconn`, so the stream waits (at most `timeout queue`, else `timeout
//! connect`, as in HAProxy) until the worker hands it a freed slot. On
//! expiry the client gets HAProxy's 503 and the log says `sQ`.
//!
//! While it waits the stream counts on its backend (`scur`, `stot`) but on
//! no server, like HAProxy's queued streams.

use super::stream::{Phase, Stream, StreamCtx};
use super::term::{TermCause, TermPhase};
use crate::backend::{Ticket, Waiter};
use crate::l4_conn::Conn;
use std::time::{Duration, Instant};

/// A stream's dealings with the queue. Owned by the stream.
#[derive(Clone, Copy, Debug, Default)]
pub struct QueueState {
    waiting: Option<(Ticket, Instant)>, // in the queue since
    granted: bool,                      // handed a slot, no server taken yet: skip the line once
    pub(super) time: Option<Duration>,  // %Tw
    pub(super) pos: u32,                // %bq
}

impl Stream {
    fn waiter(&self) -> Waiter {
        Waiter { token: self.srv_token.0, stream: self.id }
    }

    /// Whether this stream must wait behind others already queued.
    pub(super) fn must_queue_behind(&self, ctx: &StreamCtx<'_>, be: usize) -> bool {
        !self.queue.granted && ctx.backends.get(be).is_some_and(|b| b.queue.is_busy())
    }

    /// Whether the backend already counts this stream without a server:
    /// it waits, or was handed a slot and has not taken a server yet.
    pub(super) fn counted_on_backend(&self) -> bool {
        self.queue.waiting.is_some() || self.queue.granted
    }

    /// The stream got a server: the grant, if any, is used up.
    pub(super) fn queue_served(&mut self) {
        self.queue.granted = false;
    }

    /// Joins the backend's queue until a slot frees or the queue timeout.
    pub(super) fn join_queue(&mut self, ctx: &mut StreamCtx<'_>, be: usize) {
        let waiter = self.waiter();
        let Some(state) = ctx.backends.get_mut(be) else {
            return self.abort(TermCause::Internal, TermPhase::Queue);
        };
        if !self.counted_on_backend() {
            state.enter(ctx.now_ms);
        }
        let ticket = state.queue.join(waiter);
        self.queue.granted = false;
        self.queue.waiting = Some((ticket, ctx.now));
        let timeouts = &ctx.cfg.proxies[be].timeouts;
        // HAProxy: without `timeout queue`, `timeout connect` bounds the wait.
        let limit = timeouts.queue.or(timeouts.connect);
        let until = limit.map(|t| ctx.now + t);
        log::debug!(target: "l6", "{self}: queued in backend {} ({} waiting)", state.name, state.queue.waiting);
        self.phase = Phase::Queued { until };
    }

    /// Waiting: keeps reading the client (bounded by its buffer) and takes
    /// the slot when the worker grants one.
    pub(super) fn wait_in_queue(&mut self, cli: &mut Conn, ctx: &mut StreamCtx<'_>) {
        self.buffer_client_while_waiting(cli, ctx.now);
        if self.phase == Phase::Done {
            return;
        }
        let waiter = self.waiter();
        let claimed =
            self.backend.and_then(|b| ctx.backends.get_mut(b)).is_some_and(|b| b.queue.claim(waiter));
        if claimed {
            self.leave_queue(ctx, true);
            self.queue.granted = true;
            self.phase = Phase::Assign;
        }
    }

    /// `timeout queue` expired: HAProxy's 503, `sQ`.
    pub(super) fn queue_expired(&mut self, ctx: &mut StreamCtx<'_>) {
        self.leave_queue(ctx, false);
        self.no_server(TermCause::ServerTimeout, TermPhase::Queue);
    }

    /// Leaves the queue if waiting; `served`: for a slot (the backend keeps
    /// counting the stream), else for good. Records `%Tw` and `%bq`.
    pub(super) fn leave_queue(&mut self, ctx: &mut StreamCtx<'_>, served: bool) {
        let state = self.backend.and_then(|b| ctx.backends.get_mut(b));
        if let Some((ticket, since)) = self.queue.waiting.take() {
            self.queue.time = Some(ctx.now.saturating_duration_since(since));
            if let Some(b) = state {
                self.queue.pos = b.queue.leave(ticket, served);
                if !served {
                    b.leave_unserved();
                }
            }
        } else if !served && self.queue.granted {
            // Granted a slot but ended before taking a server.
            if let Some(b) = state {
                b.leave_unserved();
            }
            self.queue.granted = false;
        }
    }
}
