//! A stream waiting for a server slot: in its backend's queue (every
//! usable server is at its `maxconn`), or in one server's queue (a hash
//! pinned the stream to a server that is full). It waits at most `timeout
//! queue`, else `timeout connect`, as in HAProxy, until the worker hands
//! it a freed slot. On expiry the client gets HAProxy's 503 and the log
//! says `sQ`; a server queue at its `maxqueue` refuses at once (`SQ`).
//!
//! While it waits the stream counts on its backend (`scur`, `stot`) but on
//! no server, like HAProxy's queued streams.

use super::client::ClientSide;
use super::stream::{Phase, Stream, StreamCtx};
use super::term::{TermCause, TermPhase};
use crate::backend::{BackendState, Queue, Ticket, Waiter};
use std::time::{Duration, Instant};

/// Which queue a stream is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Line {
    Backend,
    Server(usize), // index in the backend
}

/// A stream's dealings with the queues. Owned by the stream.
#[derive(Clone, Copy, Debug, Default)]
pub struct QueueState {
    waiting: Option<(Ticket, Instant, Line)>, // in a queue since
    granted: Option<Line>,                    // handed a slot, no server taken yet: skip the line once
    pub(super) time: Option<Duration>,        // %Tw
    pub(super) pos: u32,                      // %bq
}

/// The queue `line` of backend state `b`.
fn queue_of(b: &mut crate::backend::BackendState, line: Line) -> Option<&mut Queue> {
    match line {
        Line::Backend => Some(&mut b.queue),
        Line::Server(s) => b.servers.get_mut(s).map(|s| &mut s.queue),
    }
}

impl Stream {
    /// This stream as a queue entry; `thread`: the worker running it.
    fn waiter(&self, thread: usize) -> Waiter {
        Waiter { token: self.srv_token.0, stream: self.id, thread }
    }

    /// Whether this stream must wait behind others already queued in the
    /// backend: with `roundrobin`, `static-rr` and `first` a busy queue
    /// means every server is full (HAProxy's `assign_server`); the other
    /// algorithms may still find a server.
    pub(super) fn must_queue_behind(&self, b: &BackendState) -> bool {
        use crate::cfg::Balance;
        self.queue.granted.is_none()
            && b.queue.is_busy()
            && matches!(b.algorithm(), Balance::RoundRobin | Balance::StaticRr | Balance::First)
    }

    /// Whether the backend already counts this stream without a server:
    /// it waits, or was handed a slot and has not taken a server yet.
    pub(super) fn counted_on_backend(&self) -> bool {
        self.queue.waiting.is_some() || self.queue.granted.is_some()
    }

    /// The server whose queue handed this stream a slot, if any: the
    /// stream takes that server without balancing again.
    pub(super) fn granted_server(&self) -> Option<usize> {
        match self.queue.granted {
            Some(Line::Server(s)) => Some(s),
            _ => None,
        }
    }

    /// The stream got a server: the grant, if any, is used up.
    pub(super) fn queue_served(&mut self) {
        self.queue.granted = None;
    }

    /// Joins the queue of backend `state` (`server` None) or of one of its
    /// servers, until a slot frees or the queue timeout. Called with the
    /// backends locked, in the same hold as the pick that found no room
    /// (a slot freed in between would otherwise wake nobody).
    pub(super) fn join_queue(
        &mut self,
        ctx: &StreamCtx<'_>,
        state: &mut BackendState,
        server: Option<usize>,
    ) -> Result<(), TermPhase> {
        let waiter = self.waiter(ctx.thread);
        let counted = self.counted_on_backend();
        let be = state.proxy;
        let line = server.map_or(Line::Backend, Line::Server);
        if queue_of(state, line).is_none() {
            return Err(TermPhase::Queue);
        }
        if !counted {
            state.enter(ctx.now_ms);
        }
        let Some(queue) = queue_of(state, line) else { return Err(TermPhase::Queue) };
        let due = i64::try_from(ctx.now_ms).unwrap_or(i64::MAX).saturating_add(self.extra.priority_offset);
        let ticket = queue.join_ranked(waiter, (self.extra.priority_class, due));
        let waiting = queue.waiting;
        self.queue.granted = None;
        self.queue.waiting = Some((ticket, ctx.now, line));
        let timeouts = &ctx.cfg.proxies[be].timeouts;
        // HAProxy: without `timeout queue`, `timeout connect` bounds the wait.
        let limit = timeouts.queue.or(timeouts.connect);
        let until = limit.map(|t| ctx.now + t);
        log::debug!(target: "l6", "{self}: queued in {line:?} of backend {} ({waiting} waiting)", state.name);
        self.phase = Phase::Queued { until };
        Ok(())
    }

    /// Waiting: keeps reading the client (bounded by its buffer) and takes
    /// the slot when the worker grants one.
    pub(super) fn wait_in_queue<C: ClientSide>(&mut self, cli: &mut C, ctx: &mut StreamCtx<'_>) {
        self.buffer_client_while_waiting(cli, ctx);
        if self.phase == Phase::Done {
            return;
        }
        let waiter = self.waiter(ctx.thread);
        let Some((_, _, line)) = self.queue.waiting else { return };
        let backends = ctx.backends;
        let mut locked = backends.lock();
        let mut state = self.backend.and_then(|b| locked.get_mut(b));
        let claimed = state.as_deref_mut().and_then(|b| queue_of(b, line)).is_some_and(|q| q.claim(waiter));
        if claimed {
            self.leave_queue_of(state, ctx.now, true);
            self.queue.granted = Some(line);
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
        if self.queue.waiting.is_none() && self.queue.granted.is_none() {
            return; // nothing to give back: no lock taken
        }
        let backends = ctx.backends;
        let mut locked = backends.lock();
        let state = self.backend.and_then(|b| locked.get_mut(b));
        self.leave_queue_of(state, ctx.now, served);
    }

    /// [`Stream::leave_queue`] with the backend's state already locked.
    pub(super) fn leave_queue_of(&mut self, state: Option<&mut BackendState>, now: Instant, served: bool) {
        if let Some((ticket, since, line)) = self.queue.waiting.take() {
            self.queue.time = Some(now.saturating_duration_since(since));
            if let Some(b) = state {
                if let Some(q) = queue_of(b, line) {
                    self.queue.pos = q.leave(ticket, served);
                }
                if !served {
                    b.leave_unserved();
                }
            }
        } else if !served && self.queue.granted.is_some() {
            // Granted a slot but ended before taking a server.
            if let Some(b) = state {
                b.leave_unserved();
            }
            self.queue.granted = None;
        }
    }
}
