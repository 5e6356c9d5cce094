//! An HTTP/2 request HAProxy 2.6 answers with its 400 rather than a
//! stream reset (an invalid `:method` or `:scheme`): the answer is framed
//! here, without a stream, and the request counted and logged as the
//! HTTP/1 mux does for an unparsable head. The connection carries on.

use super::H2;
use super::response;
use crate::l5_session::mux::StreamSeed;
use crate::l6_stream::StreamCtx;
use crate::l6_stream::term::{TermCause, TermPhase, TermState};
use crate::l7_http::errors::BuiltinStatus;
use crate::l7_http::h2::frame::{self, ErrorCode};
use log::debug;

impl H2 {
    /// Answers stream `id` with HAProxy's 400 (RST_STREAM NO_ERROR after
    /// it when the client has more of the request to send, RFC 9113
    /// §8.1), or resets it when the windows leave no room for the page.
    pub(super) fn bad_request(
        &mut self,
        id: u32,
        end_stream: bool,
        why: &str,
        ctx: &mut StreamCtx<'_>,
        seed: &StreamSeed,
    ) {
        debug!(target: "l5", "h2: stream {id}: invalid request ({why}): 400");
        let status = BuiltinStatus::BadRequest;
        let raw = status.bytes();
        let head = response::encode_head(raw, (false, false), &mut self.enc, &mut self.hblock);
        let body = match head {
            Ok(Some(h)) => &raw[h.consumed..],
            _ => &[][..],
        };
        let room = self.conn_send.min(self.peer.initial_window as i64);
        let fits = self.hblock.len() <= self.peer.max_frame_size as usize && body.len() as i64 <= room;
        if !body.is_empty() && fits {
            frame::put_header(&mut self.out, self.hblock.len(), frame::HEADERS, frame::END_HEADERS, id);
            self.out.extend_from_slice(&self.hblock);
            frame::put_header(&mut self.out, body.len(), frame::DATA, frame::END_STREAM, id);
            self.out.extend_from_slice(body);
            self.conn_send -= body.len() as i64;
            if !end_stream {
                frame::rst_stream(&mut self.out, id, ErrorCode::NoError);
            }
        } else {
            frame::rst_stream(&mut self.out, id, ErrorCode::Protocol);
        }
        self.requests += 1;
        let term = TermState { cause: TermCause::ProxyRule, phase: TermPhase::Request };
        crate::l5_session::mux::refused::log_refused(ctx, seed, status, term, ctx.now, false);
    }
}
