//! Pass-through mux (TCP mode): the session's single stream sees the
//! client connection's bytes as they are.

use crate::l4_conn::Conn;
use crate::l6_stream::{PooledStream, Stream, StreamCtx, StreamStatus, Upgraded};

/// What one `process` call left behind.
pub enum PtStatus {
    Alive,
    Closed,
    /// The stream stopped to go on as HTTP (`switch-mode http`, an HTTP
    /// backend): the session puts an HTTP mux in place, which takes this.
    Upgrade(Box<Upgraded>),
}

/// Holds the one stream of a TCP-mode session until it ends.
pub struct Pt {
    stream: Option<PooledStream>, // None once the stream has ended and was dropped
}

impl Pt {
    pub fn new(stream: Stream) -> Pt {
        Pt { stream: Some(PooledStream::new(stream)) }
    }

    pub fn stream(&self) -> Option<&Stream> {
        self.stream.as_deref()
    }

    /// The stream, to act on it from outside (a server taken away).
    pub fn stream_mut(&mut self) -> Option<&mut Stream> {
        self.stream.as_deref_mut()
    }

    /// Readiness for the stream's server connection.
    pub fn on_server_event(&mut self, ev: &mio::event::Event) {
        if let Some(s) = self.stream.as_mut() {
            s.on_server_event(ev);
        }
    }

    /// Drives the stream; when it reports `Done` it is ended (exactly once)
    /// and dropped, unless it stopped to switch to HTTP: it is then dropped
    /// silently, what it decided handed over in the status.
    pub fn process(&mut self, cli: &mut Conn, ctx: &mut StreamCtx<'_>, timed_out: bool) -> PtStatus {
        let Some(stream) = self.stream.as_mut() else {
            return PtStatus::Closed;
        };
        let status = if timed_out { stream.on_timeout(cli, ctx) } else { stream.process(cli, ctx) };
        if status == StreamStatus::Done {
            if let Some(up) = stream.take_upgrade() {
                self.stream = None; // not ended: the HTTP stream goes on as it
                return PtStatus::Upgrade(up);
            }
            if stream.silent_drop() {
                cli.silent_drop(); // `tcp-request content silent-drop`
            }
            if let Some(s) = self.stream.take() {
                s.finish(ctx);
            }
            return PtStatus::Closed;
        }
        PtStatus::Alive
    }

    pub fn next_deadline(&self, cli: &Conn, cfg: &crate::cfg::Config) -> Option<std::time::Instant> {
        self.stream.as_ref().and_then(|s| s.next_deadline(cli, cfg))
    }

    /// Ends the stream now (worker shutdown).
    pub fn kill(&mut self, ctx: &mut StreamCtx<'_>, cause: crate::l6_stream::term::TermCause) {
        if let Some(mut s) = self.stream.take() {
            s.term.set(cause, crate::l6_stream::term::TermPhase::Data);
            s.finish(ctx);
        }
    }
}
