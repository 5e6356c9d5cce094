//! A request's body from the client's DATA frames into its stream's
//! channel, as the request head said it comes: as it is (content-length,
//! or an extended CONNECT's tunnel), or chunk-framed (no content-length);
//! and END_STREAM, which ends it.

use super::chunked::{chunk_line, push_terminator};
use super::input::Next;
use super::request::ReqBody;
use super::stream::Recv;
use super::{H2, output};
use crate::l6_stream::StreamCtx;
use crate::l7_http::h2::frame::{ErrorCode, FrameHeader};
use log::debug;

impl H2 {
    /// DATA payload bytes for stream `hdr.stream`.
    pub(super) fn data(&mut self, hdr: FrameHeader, avail: &[u8], ctx: &StreamCtx<'_>) -> Next {
        let id = hdr.stream;
        let Some(st) = self.streams.by_id_mut(id) else {
            // Idle: a connection error. Closed: its bytes are dropped (the
            // connection window was charged and is given back).
            if id > self.max_id {
                self.connection_error(ErrorCode::Protocol, "DATA on an idle stream");
                return Next::Wait;
            }
            return Next::Consumed(avail.len());
        };
        if st.reset || st.recv == Recv::Closed {
            return Next::Consumed(avail.len());
        }
        if avail.is_empty() {
            return Next::Consumed(0);
        }
        let now = ctx.now;
        let n = match st.body {
            ReqBody::None => {
                output::reset_stream(&mut self.out, st, ErrorCode::Protocol);
                return Next::Consumed(avail.len());
            }
            ReqBody::Length(left) => {
                if avail.len() as u64 > left {
                    debug!(target: "l5", "h2: stream {id}: DATA beyond content-length");
                    output::reset_stream(&mut self.out, st, ErrorCode::Protocol);
                    return Next::Consumed(avail.len());
                }
                let n = st.chan.push_rx(avail, now);
                st.body = ReqBody::Length(left - n as u64);
                n
            }
            ReqBody::Tunnel => st.chan.push_rx(avail, now),
            ReqBody::Chunked => {
                // One chunk per piece that fits: size line, data, CRLF.
                let room = st.chan.rx_room();
                let want = avail.len().min(room.saturating_sub(16 + 2));
                if want == 0 {
                    0
                } else {
                    let mut line = [0u8; 18];
                    let len = chunk_line(want, &mut line);
                    st.chan.push_rx(&line[..len], now);
                    let n = st.chan.push_rx(&avail[..want], now);
                    st.chan.push_rx(b"\r\n", now);
                    n
                }
            }
        };
        if n == 0 {
            self.blocked_on = Some(id);
            return Next::Wait;
        }
        self.blocked_on = None;
        Next::Consumed(n)
    }

    /// END_STREAM from the client on stream `id`.
    pub(super) fn end_of_request(&mut self, id: u32, now: std::time::Instant) {
        let Some(st) = self.streams.by_id_mut(id) else { return };
        if st.reset || st.recv == Recv::Closed {
            return;
        }
        st.recv = Recv::Closed;
        match st.body {
            ReqBody::Length(0) | ReqBody::None => {}
            ReqBody::Length(_) => {
                debug!(target: "l5", "h2: stream {id}: END_STREAM before content-length");
                output::reset_stream(&mut self.out, st, ErrorCode::Protocol);
            }
            ReqBody::Chunked => st.end_pending = true,
            ReqBody::Tunnel => {
                debug!(target: "l5", "h2: stream {id}: END_STREAM on a tunnel");
                st.chan.close_rx(); // the tunnel's way in ends once its bytes are out
            }
        }
        push_terminator(st, now);
    }
}
