//! An HTTP stream's part in HAProxy's `h1` statistics
//! (`backend/mux_stats.rs`): on the backend's side, the stream on an
//! HTTP/1 server connection, that connection while the stream holds it,
//! and the bytes it moved; on both sides, the body bytes spliced. The
//! client connection's own bytes, connections and streams are the HTTP/1
//! mux's to count (`l5_session/mux/h1.rs`), the idle pool's closes the
//! pool's (`IdlePool::take_closed`).
//!
//! Counted after every turn of the stream ([`Stream::tally_h1`]), so
//! `show stat` follows a long transfer, and once at its end
//! ([`Stream::tally_h1_end`]).

use super::HttpPart;
use crate::l6_stream::srv_conn::SrvConn;
use crate::l6_stream::stream::{Stream, StreamCtx};

/// What a stream has counted and has yet to count. Part of [`HttpPart`].
#[derive(Clone, Copy, Debug, Default)]
pub(in crate::l6_stream) struct H1Tally {
    pub(super) req_spliced_in: u64, // request body spliced from the client, not yet counted
    pub(super) req_spliced_out: u64, // ... to the server
    pub(super) res_spliced_in: u64, // response body spliced from the server
    pub(super) res_spliced_out: u64, // ... to the client
    on_server: bool,                // counted in the backend's h1_open_streams
    holds_conn: bool,               // holds the server connection counted in h1_open_connections
    pooled: bool,                   // the connection in `srv` came from the idle pool, counted already
}

impl HttpPart {
    /// The server connection in the stream's `srv` was just taken from the
    /// idle pool (it stayed counted open there).
    pub(in crate::l6_stream) fn took_pooled_conn(&mut self) {
        self.h1.pooled = true;
    }
}

impl Stream {
    /// Counts what the last turn moved (see the module doc).
    pub(in crate::l6_stream) fn tally_h1(&mut self, ctx: &mut StreamCtx<'_>) {
        for be in ctx.idle.take_closed() {
            ctx.backends.h1().be(be).conn_closed();
        }
        let Some(h) = self.http.as_mut() else { return };
        let t = &mut h.h1;
        if t.req_spliced_in + t.res_spliced_out > 0 {
            let fe = ctx.backends.h1().fe(self.frontend);
            fe.spliced(std::mem::take(&mut t.req_spliced_in), std::mem::take(&mut t.res_spliced_out));
        }
        let Some(be) = self.backend else { return };
        let b = ctx.backends.h1().be(be);
        b.spliced(std::mem::take(&mut t.res_spliced_in), std::mem::take(&mut t.req_spliced_out));
        let Some(conn) = self.srv.as_mut().and_then(SrvConn::plain_mut) else { return };
        if !t.on_server {
            t.on_server = true;
            b.stream_opened();
        }
        if !t.holds_conn {
            t.holds_conn = true;
            if !std::mem::take(&mut t.pooled) {
                b.conn_opened();
            }
        }
        b.moved(conn.take_wire());
    }

    /// The stream closes its server connection (a failed attempt, a retry):
    /// the connection it held is no longer open.
    pub(in crate::l6_stream) fn h1_server_closed(&mut self, ctx: &mut StreamCtx<'_>) {
        let (Some(h), Some(be)) = (self.http.as_mut(), self.backend) else { return };
        let t = &mut h.h1;
        if std::mem::take(&mut t.holds_conn) | std::mem::take(&mut t.pooled) {
            ctx.backends.h1().be(be).conn_closed();
        }
    }

    /// The stream ends: the last bytes counted, its stream on the server
    /// side closed, and its server connection too unless `to_pool` (the
    /// idle pool keeps it, and counts its close).
    pub(in crate::l6_stream) fn tally_h1_end(&mut self, ctx: &mut StreamCtx<'_>, to_pool: bool) {
        self.tally_h1(ctx);
        let (Some(h), Some(be)) = (self.http.as_mut(), self.backend) else { return };
        let t = std::mem::take(&mut h.h1);
        let b = ctx.backends.h1().be(be);
        if t.on_server {
            b.stream_closed();
        }
        if (t.holds_conn || t.pooled) && !to_pool {
            b.conn_closed();
        }
    }
}
