//! Frames to the client: our preface, responses framed from what each
//! stream wrote (HEADERS + CONTINUATION split at the peer's frame size,
//! DATA under both send windows), window credit for what streams took,
//! resets, and the write to the socket.

use super::response::{self, Payload, Piece, ResState};
use super::stream::{H2Stream, Recv};
use super::{H2, OUT_HIGH};
use crate::l4_conn::{Conn, IoStep};
use crate::l7_http::h2::frame::{self, ErrorCode};
use log::debug;
use std::time::Instant;

/// Resets `st` (once): RST_STREAM with `code`, the stream's channel fails
/// so its L6 stream ends as aborted.
pub(super) fn reset_stream(out: &mut Vec<u8>, st: &mut H2Stream, code: ErrorCode) {
    if st.reset {
        return;
    }
    debug!(target: "l5", "h2: stream {} reset ({})", st.id, code.name());
    frame::rst_stream(out, st.id, code);
    st.reset = true;
    st.recv = Recv::Closed;
    st.res = ResState::Done;
    st.chan.fail();
}

impl H2 {
    /// SETTINGS, and a connection window raised to the maximum (streams
    /// are bounded by their own windows and buffers).
    pub(super) fn send_preface(&mut self) {
        // The connection window opens wide with the first DATA received,
        // not here: as HAProxy, the first frames a client reads are our
        // SETTINGS and then its ACK (VTest's clients expect exactly that).
        frame::settings(&mut self.out, &self.ours.values(), false);
    }

    /// Frames what streams wrote, and window credit; returns whether
    /// anything was produced.
    pub(super) fn emit(&mut self, now: Instant) -> bool {
        let mut progress = false;
        let max_frame = self.peer.max_frame_size as usize;
        let half = self.ours.initial_window as u64 / 2;
        for (_, st) in self.streams.iter_mut() {
            if self.out.len() >= OUT_HIGH {
                break;
            }
            // Window credit for request bytes the stream has taken.
            if !st.reset && st.recv == Recv::Open && st.chan.rx_pending() < 4096 {
                let credit = st.rx_pushed - st.rx_credited;
                if credit > 0 && (credit >= half.max(1) || st.chan.rx_pending() == 0) {
                    frame::window_update(&mut self.out, st.id, credit as u32);
                    st.rx_credited = st.rx_pushed;
                    st.recv_window += credit as i64;
                    progress = true;
                }
            }
            super::chunked::push_terminator(st, now);
            let before = self.out.len();
            let produced = frame_response(
                st,
                &mut self.out,
                &mut self.enc,
                &mut self.hblock,
                &mut self.conn_send,
                max_frame,
                now,
            );
            if produced {
                // Counted roughly: one frame per produced run is enough for the
                // WINDOW_UPDATE justification, which only needs an upper bound.
                self.data_frames_sent += 1 + ((self.out.len() - before) / 4096) as u64;
            }
            progress |= produced;
            // A complete response ends the request side too (RFC 9113 §8.1).
            if st.res == ResState::Done && st.l6_ended && !st.reset && st.recv == Recv::Open {
                frame::rst_stream(&mut self.out, st.id, ErrorCode::NoError);
                st.reset = true;
                st.recv = Recv::Closed;
                progress = true;
            }
        }
        if !self.conn_opened && self.conn_credit > 0 {
            let wide = frame::MAX_WINDOW - frame::DEFAULT_WINDOW;
            frame::window_update(&mut self.out, 0, wide);
            self.conn_recv += wide as i64;
            self.conn_opened = true;
        }
        if self.conn_credit >= (frame::MAX_WINDOW / 2) as u64
            || (self.conn_credit > 0 && self.streams.len() == 0)
        {
            frame::window_update(&mut self.out, 0, self.conn_credit as u32);
            self.conn_recv += self.conn_credit as i64;
            self.conn_credit = 0;
            progress = true;
        }
        progress
    }

    /// Writes buffered frames to the client.
    pub(super) fn flush(&mut self, cli: &mut Conn, now: Instant) -> bool {
        if self.out.is_empty() || self.client_gone {
            return false;
        }
        match cli.send_bytes(&self.out[self.out_sent..], now) {
            IoStep::Moved(n) => {
                self.out_sent += n;
                if self.out_sent == self.out.len() {
                    self.out.clear();
                    self.out_sent = 0;
                }
                true
            }
            IoStep::Failed => {
                self.client_lost();
                true
            }
            _ => false,
        }
    }
}

/// Appends a header block as HEADERS + CONTINUATION frames.
fn header_frames(out: &mut Vec<u8>, id: u32, block: &[u8], end_stream: bool, max_frame: usize) {
    let mut parts = block.chunks(max_frame.max(1));
    let first = parts.next().unwrap_or_default();
    let single = block.len() <= max_frame;
    let mut flags = if end_stream { frame::END_STREAM } else { 0 };
    if single {
        flags |= frame::END_HEADERS;
    }
    frame::put_header(out, first.len(), frame::HEADERS, flags, id);
    out.extend_from_slice(first);
    let mut rest = parts.peekable();
    while let Some(p) = rest.next() {
        let flags = if rest.peek().is_none() { frame::END_HEADERS } else { 0 };
        frame::put_header(out, p.len(), frame::CONTINUATION, flags, id);
        out.extend_from_slice(p);
    }
}

/// Frames as much of one stream's response as windows and room allow.
#[allow(clippy::too_many_arguments)]
fn frame_response(
    st: &mut H2Stream,
    out: &mut Vec<u8>,
    enc: &mut crate::l7_http::h2::hpack::Encoder,
    hblock: &mut Vec<u8>,
    conn_send: &mut i64,
    max_frame: usize,
    now: Instant,
) -> bool {
    let mut progress = false;
    loop {
        if st.reset || out.len() >= OUT_HIGH {
            return progress;
        }
        match st.res {
            ResState::Done => return progress,
            ResState::Head => {
                // A head the stream encoded as it handed it over, else its text parsed.
                let pre = st.chan.take_head();
                let pre = pre.map(|p| response::encoded_head(&p, st.ext_connect, enc, hblock));
                let Some(tx) = st.chan.tx().as_ref() else {
                    if st.l6_ended {
                        // Ended without a response (aborted early).
                        reset_stream(out, st, ErrorCode::Internal);
                        return true;
                    }
                    return progress;
                };
                let data = tx.data();
                let full = tx.is_full();
                let head = match pre {
                    Some(head) => Ok(Some(head)),
                    None => response::encode_head(data, (st.head_method, st.ext_connect), enc, hblock),
                };
                match head {
                    Ok(Some(head)) => {
                        let end = !head.interim && head.payload.is_none();
                        header_frames(out, st.id, hblock, end, max_frame);
                        st.chan.tx_sent(head.consumed, now);
                        st.res = match (head.interim, head.payload) {
                            (true, _) => ResState::Head,
                            (false, None) => ResState::Done,
                            (false, Some(p)) => ResState::Body(p),
                        };
                        progress = true;
                    }
                    Ok(None) if !full && !st.l6_ended => return progress,
                    _ => {
                        reset_stream(out, st, ErrorCode::Internal);
                        return true;
                    }
                }
            }
            ResState::Body(payload) => {
                let window = st.send_window.min(*conn_send).max(0) as usize;
                let room = OUT_HIGH.saturating_sub(out.len()).saturating_sub(frame::HEADER_LEN);
                let limit = window.min(max_frame).min(room);
                let data = st.chan.tx().as_ref().map_or(&[][..], |b| b.data());
                let (n, framing, end) = match payload {
                    Payload::Length(left) => {
                        let n = (data.len() as u64).min(left) as usize;
                        let n = n.min(limit);
                        (n, 0, n as u64 == left)
                    }
                    Payload::UntilEnd => {
                        let n = data.len().min(limit);
                        (n, 0, n == data.len() && st.l6_ended && st.complete)
                    }
                    Payload::Chunked(mut d) => match d.next(data) {
                        Piece::Payload(k) => {
                            let n = k.min(limit);
                            d.paid(n);
                            st.res = ResState::Body(Payload::Chunked(d));
                            (n, 0, false)
                        }
                        Piece::Framing(k) => {
                            st.res = ResState::Body(Payload::Chunked(d));
                            (0, k, false)
                        }
                        Piece::End(k) => (0, k, true),
                        Piece::More => (0, 0, false),
                        Piece::Invalid => {
                            reset_stream(out, st, ErrorCode::Internal);
                            return true;
                        }
                    },
                };
                if framing > 0 && !end {
                    st.chan.tx_sent(framing, now);
                    progress = true;
                    continue;
                }
                if n == 0 && !end {
                    if st.l6_ended && st.chan.tx_pending() == 0 {
                        // The stream ended before its body did: truncated.
                        reset_stream(out, st, ErrorCode::Internal);
                        return true;
                    }
                    return progress;
                }
                frame::put_header(out, n, frame::DATA, if end { frame::END_STREAM } else { 0 }, st.id);
                out.extend_from_slice(&data[..n]);
                st.chan.tx_sent(n + framing, now);
                st.send_window -= n as i64;
                *conn_send -= n as i64;
                if let ResState::Body(Payload::Length(left)) = st.res {
                    st.res = ResState::Body(Payload::Length(left - n as u64));
                }
                if end {
                    st.res = ResState::Done;
                }
                progress = true;
            }
        }
    }
}
