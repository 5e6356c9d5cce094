//! `option abortonclose` once the request has left, as HAProxy 2.6 does
//! it (checked against it): when both the frontend (its HTTP/1 side then
//! keeps reading the client) and the backend have the option, a client
//! that closes while the response is awaited ends the stream at once —
//! the server connection is reset (HAProxy's NOLINGER), the client gets
//! the 400 if it still reads, the log says `CH--`, and `cli_abrt` counts
//! it. Without the option on both, the close is not looked at before the
//! response, as in HAProxy. An HTTP/2 client's connection end (its FIN,
//! which the mux always reads) needs the option on the backend only, as
//! in HAProxy 2.6; its RST_STREAM ends the stream with or without it.

use super::super::client::ClientSide;
use super::super::stream::{Stream, StreamCtx};
use super::super::term::{TermCause, TermPhase};
use crate::l4_conn::IoStep;
use crate::l7_http::errors::BuiltinStatus;

impl Stream {
    /// Watches the client while the response head is awaited. Returns
    /// whether anything moved.
    pub(super) fn watch_client_close<C: ClientSide>(&mut self, cli: &mut C, ctx: &StreamCtx<'_>) -> bool {
        let on = |p: usize| super::super::http_checks::abort_on_close(Some(&ctx.cfg.proxies[p]));
        let Some(be) = self.backend else { return false };
        let Some(h) = self.http.as_mut() else { return false };
        let waiting = h.txn.res.is_none() && !h.answered && h.res_out.is_none() && !h.tunnel;
        // An HTTP/2 stream's channel (no socket of its own) reports the
        // connection's end whatever the frontend says: the mux reads it.
        let frontend_too = on(self.frontend) || cli.conn().is_none();
        if !waiting || !h.request_done() || !on(be) || !frontend_too {
            return false;
        }
        let closed = cli.read_closed()
            || match cli.fill(ctx.now) {
                IoStep::Blocked => return false,
                IoStep::Failed => true,
                IoStep::Moved(_) | IoStep::Eof => cli.read_closed(),
            };
        if !closed {
            return true; // bytes of a next request: they wait in the buffer
        }
        if let Some(c) = self.srv.as_mut().and_then(|s| s.plain_mut()) {
            c.reset_on_close();
        }
        self.answer(BuiltinStatus::BadRequest, TermCause::ClientAbort, TermPhase::Headers);
        true
    }
}
