//! A stream whose server is taken away under it: HAProxy's
//! `stream_shutdown()` for `on-marked-down shutdown-sessions` (cause `D`)
//! and `on-marked-up shutdown-backup-sessions` (cause `U`).
//!
//! As in HAProxy 2.6 (checked against it: `502`, logged `DH--`), an HTTP
//! stream still waiting for its response head gets the 502 and its client
//! connection is closed after it; a stream already forwarding a response,
//! or a TCP stream, is aborted. Either way the stream is logged with the
//! cause, in the phase it was in, and no retry or redispatch follows. The
//! other streams of the session (HTTP/2) go on.

use super::stream::{Phase, Stream, StreamCtx};
use super::term::{TermCause, TermPhase};
use crate::l7_http::errors::BuiltinStatus;

impl Stream {
    /// Shuts the stream down with its server (see the module doc).
    pub fn shut_down_with_server(&mut self, cause: TermCause, ctx: &StreamCtx<'_>) {
        let waiting_head = self.http.as_ref().is_some_and(|h| h.txn.res.is_none() && !h.answered);
        let phase = match self.phase {
            Phase::Done => return,
            Phase::Queued { .. } => TermPhase::Queue,
            Phase::Assign | Phase::Connecting | Phase::TurnAround { .. } | Phase::RetryFresh => {
                TermPhase::Connect
            }
            _ if waiting_head => TermPhase::Headers,
            _ => TermPhase::Data,
        };
        self.term.set(cause, phase);
        if waiting_head {
            self.count(ctx, crate::stick::Update::HttpFail);
            if let Some(h) = self.http.as_mut() {
                h.txn.client_close = true;
                h.reused = false; // no retry on a new connection either
            }
            self.answer(BuiltinStatus::BadGateway, cause, phase);
        } else {
            self.abort(cause, phase);
        }
    }
}
