//! The session object.

use super::mux::Pt;
use crate::core::slab::Key;
use crate::core::timer::TimerSlot;
use crate::l4_conn::Conn;
use crate::l6_stream::{Stream, StreamCtx};
use log::debug;
use std::fmt;
use std::net::SocketAddr;
use std::time::Instant;

/// Token sub-index of the client connection; a stream's server
/// connection uses [`SERVER_SUB`].
pub const CLIENT_SUB: u8 = 0;
pub const SERVER_SUB: u8 = 1;

/// Whether the session lives on after a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStatus {
    Alive,
    Ended,
}

/// An accepted client connection with its mux and streams. Owned by the
/// worker's slab; dropped (its end) only after `mux` has no stream left.
/// Field order matters: streams (inside `mux`) drop before anything the
/// session itself holds.
pub struct Session {
    pub id: u64,         // worker-unique, shown as `sess#id`
    pub frontend: usize, // proxy index
    mux: Pt,             // the streams: declared first, dropped first
    cli: Conn,           // the client connection
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub timer: TimerSlot, // this session's entry in the worker's timers
    pub accepted: Instant,
}

impl fmt::Display for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sess#{}", self.id)
    }
}

impl Session {
    /// Creates the session for an accepted connection stored under `key`
    /// and its first (TCP mode: only) stream. Registers the client socket.
    pub fn start(
        id: u64,
        stream_id: u64,
        key: Key,
        frontend: usize,
        mut cli: Conn,
        src: SocketAddr,
        ctx: &mut StreamCtx<'_>,
    ) -> std::io::Result<Session> {
        cli.register(ctx.registry, key.token(CLIENT_SUB))?;
        let dst = cli.local_addr()?;
        let stream = Stream::new(stream_id, frontend, src, dst, key.token(SERVER_SUB), ctx);
        debug!(target: "l5", "sess#{id}: accepted {src} -> {dst}, stream {stream}");
        Ok(Session {
            id,
            frontend,
            mux: Pt::new(stream),
            cli,
            src,
            dst,
            timer: TimerSlot::default(),
            accepted: ctx.now,
        })
    }

    /// Handles readiness on socket `sub` of this session.
    pub fn on_event(&mut self, sub: u8, ev: &mio::event::Event, ctx: &mut StreamCtx<'_>) -> SessionStatus {
        if sub == CLIENT_SUB {
            self.cli.on_event(ev);
        } else {
            self.mux.on_server_event(ev);
        }
        self.drive(ctx, false)
    }

    /// Handles the session's timer firing.
    pub fn on_timeout(&mut self, ctx: &mut StreamCtx<'_>) -> SessionStatus {
        self.drive(ctx, true)
    }

    fn drive(&mut self, ctx: &mut StreamCtx<'_>, timed_out: bool) -> SessionStatus {
        if self.mux.process(&mut self.cli, ctx, timed_out) {
            SessionStatus::Alive
        } else {
            SessionStatus::Ended
        }
    }

    /// The earliest deadline of the session's streams and connection.
    pub fn next_deadline(&self, cfg: &crate::cfg::Config) -> Option<Instant> {
        self.mux.next_deadline(&self.cli, cfg)
    }

    /// Ends the session: streams first (already gone unless killed), then
    /// the client connection. Consumes the session so it runs once.
    pub fn end(mut self, ctx: &mut StreamCtx<'_>) {
        self.mux.kill(ctx);
        self.cli.deregister(ctx.registry);
        debug!(
            target: "l5",
            "{self}: end after {:?}",
            ctx.now.saturating_duration_since(self.accepted)
        );
    }
}
