//! Frames from the client (RFC 9113 §4-6): read from the client
//! connection's buffer as they arrive, a payload at a time or in pieces
//! (DATA, header block fragments, SETTINGS entries and ignored payloads
//! stream through, so no frame has to fit in a buffer), checked against
//! the stream states of §5.1, the flow-control windows and the limits in
//! `abuse.rs`. A connection error sends GOAWAY with the RFC's code; a
//! stream error resets that stream only.

use super::abuse::{MAX_CONTINUATIONS, TINY_WINDOW_UPDATE};
use super::request::{self, ReqBody, ReqError};
use super::stream::{Ended, H2Stream, Recv};
use super::{AbuseKind, H2, H2Counters, Pending, Rd, output};
use crate::core::slab::Key;
use crate::l4_conn::Conn;
use crate::l6_stream::{Stream, StreamCtx};
use crate::l7_http::h2::frame::{self, ErrorCode, FrameHeader};
use log::{debug, warn};

/// What handling a piece of input asks of the reader.
pub(super) enum Next {
    Consumed(usize), // this many bytes were used: go on
    Wait,            // more bytes (or room in a stream's channel) are needed
}

impl H2 {
    /// Parses what the client sent; returns whether anything was used.
    pub(super) fn read_frames(
        &mut self,
        cli: &mut Conn,
        ctx: &mut StreamCtx<'_>,
        seed: &super::super::h1::StreamSeed,
        counters: &mut H2Counters,
    ) -> bool {
        let mut progress = false;
        while !self.closing {
            // A frame without payload (an empty DATA with END_STREAM, a
            // SETTINGS ACK) whose header was the last byte read is handled
            // now, not when more bytes come.
            let empty_payload = matches!(self.rd, Rd::Payload { left: 0, .. });
            let next = match cli.rx.as_ref() {
                Some(rx) => self.input(rx.data(), ctx, seed, counters),
                None if empty_payload => self.input(&[], ctx, seed, counters),
                None => break,
            };
            match next {
                Next::Consumed(n) => {
                    if let Some(rx) = cli.rx.as_mut() {
                        rx.consume(n);
                        if rx.is_empty() {
                            cli.rx = None;
                        }
                    }
                    progress = true;
                }
                Next::Wait => break,
            }
        }
        progress
    }

    /// Handles the front of `data`.
    fn input(
        &mut self,
        data: &[u8],
        ctx: &mut StreamCtx<'_>,
        seed: &super::super::h1::StreamSeed,
        counters: &mut H2Counters,
    ) -> Next {
        match self.rd {
            Rd::Preface => {
                let n = data.len().min(frame::PREFACE.len());
                if data[..n] != frame::PREFACE[..n] {
                    counters.count(AbuseKind::ProtocolError);
                    self.connection_error(ErrorCode::Protocol, "invalid connection preface");
                    return Next::Wait;
                }
                if n < frame::PREFACE.len() {
                    return Next::Wait;
                }
                self.rd = Rd::Header;
                Next::Consumed(n)
            }
            Rd::Header => {
                let Some(hdr) = FrameHeader::parse(data) else { return Next::Wait };
                self.begin_frame(hdr, counters, ctx.now);
                Next::Consumed(frame::HEADER_LEN)
            }
            Rd::Payload { hdr, left, pad, started } => {
                let avail = &data[..data.len().min(left)];
                self.payload(hdr, left, pad, started, avail, ctx, seed, counters)
            }
        }
    }

    /// A frame header arrived: checks that do not need the payload.
    fn begin_frame(&mut self, hdr: FrameHeader, counters: &mut H2Counters, now: std::time::Instant) {
        let len = hdr.len as usize;
        if hdr.len > self.ours.max_frame_size {
            counters.count(AbuseKind::OversizedFrame);
            warn!(target: "l5", "h2: frame of {} bytes above SETTINGS_MAX_FRAME_SIZE ({})", hdr.len, AbuseKind::OversizedFrame.field());
            return self.connection_error(ErrorCode::FrameSize, "frame too large");
        }
        if let Some(p) = self.pending
            && (hdr.kind != frame::CONTINUATION || hdr.stream != p.stream)
        {
            counters.count(AbuseKind::ProtocolError);
            return self.connection_error(ErrorCode::Protocol, "expected CONTINUATION");
        }
        let fixed = match hdr.kind {
            frame::RST_STREAM | frame::WINDOW_UPDATE => Some(4),
            frame::PING => Some(8),
            frame::PRIORITY => Some(5),
            _ => None,
        };
        if fixed.is_some_and(|f| f != len) && hdr.kind != frame::PRIORITY {
            counters.count(AbuseKind::ProtocolError);
            return self.connection_error(ErrorCode::FrameSize, "control frame of the wrong size");
        }
        match hdr.kind {
            frame::SETTINGS if hdr.stream != 0 => {
                return self.connection_error(ErrorCode::Protocol, "SETTINGS on a stream");
            }
            frame::SETTINGS if hdr.has(frame::ACK) && len != 0 => {
                return self.connection_error(ErrorCode::FrameSize, "SETTINGS ACK with a payload");
            }
            frame::SETTINGS if !len.is_multiple_of(6) => {
                return self.connection_error(ErrorCode::FrameSize, "SETTINGS length");
            }
            frame::SETTINGS if !hdr.has(frame::ACK) && self.abuse.hit(AbuseKind::SettingsFlood, now) => {
                return self.flood(AbuseKind::SettingsFlood, counters);
            }
            frame::PING | frame::GOAWAY if hdr.stream != 0 => {
                return self.connection_error(ErrorCode::Protocol, "PING or GOAWAY on a stream");
            }
            frame::PING if !hdr.has(frame::ACK) && self.abuse.hit(AbuseKind::PingFlood, now) => {
                return self.flood(AbuseKind::PingFlood, counters);
            }
            frame::GOAWAY if len < 8 => return self.connection_error(ErrorCode::FrameSize, "GOAWAY length"),
            frame::DATA | frame::HEADERS | frame::PRIORITY | frame::RST_STREAM | frame::CONTINUATION
                if hdr.stream == 0 =>
            {
                counters.count(AbuseKind::StreamIdMisuse);
                return self.connection_error(ErrorCode::Protocol, "stream frame on stream 0");
            }
            frame::PUSH_PROMISE => {
                return self.connection_error(ErrorCode::Protocol, "PUSH_PROMISE from a client");
            }
            frame::CONTINUATION if self.pending.is_none() => {
                return self.connection_error(ErrorCode::Protocol, "CONTINUATION without HEADERS");
            }
            frame::DATA => {
                // Flow control counts the whole payload, padding included.
                self.conn_recv -= len as i64;
                if self.conn_recv < 0 {
                    return self.connection_error(ErrorCode::FlowControl, "connection window exceeded");
                }
                self.conn_credit += len as u64;
                let open =
                    self.streams.by_id_mut(hdr.stream).is_some_and(|st| !st.reset && st.recv == Recv::Open);
                if !open && hdr.stream <= self.max_id {
                    // DATA on a closed (or half-closed) stream: STREAM_CLOSED,
                    // and a client that keeps doing it is cut off.
                    if self.abuse.hit(AbuseKind::ClosedStream, now) {
                        return self.flood(AbuseKind::ClosedStream, counters);
                    }
                    self.closed_stream_frame(hdr.stream);
                }
                if let Some(st) = self.streams.by_id_mut(hdr.stream)
                    && !st.reset
                    && st.recv == Recv::Open
                {
                    st.recv_window -= len as i64;
                    st.rx_pushed += len as u64; // credited back once the stream has taken it
                    if st.recv_window < 0 {
                        output::reset_stream(&mut self.out, st, ErrorCode::FlowControl);
                    }
                }
                if len == 0 && !hdr.has(frame::END_STREAM) && self.abuse.hit(AbuseKind::EmptyDataFlood, now) {
                    return self.flood(AbuseKind::EmptyDataFlood, counters);
                }
            }
            _ => {}
        }
        self.rd = Rd::Payload { hdr, left: len, pad: 0, started: false };
        if len == 0 {
            // Nothing to wait for: handled at once (the payload step with no bytes).
            self.rd = Rd::Payload { hdr, left: 0, pad: 0, started: false };
        }
    }

    fn flood(&mut self, kind: AbuseKind, counters: &mut H2Counters) {
        counters.count(kind);
        warn!(target: "l5", "h2: {} limit reached: GOAWAY ENHANCE_YOUR_CALM", kind.field());
        self.connection_error(ErrorCode::EnhanceYourCalm, kind.field());
    }

    /// Handles `avail`, the payload bytes of `hdr` present (at most `left`).
    #[allow(clippy::too_many_arguments)]
    fn payload(
        &mut self,
        hdr: FrameHeader,
        left: usize,
        mut pad: usize,
        mut started: bool,
        avail: &[u8],
        ctx: &mut StreamCtx<'_>,
        seed: &super::super::h1::StreamSeed,
        counters: &mut H2Counters,
    ) -> Next {
        let mut used = 0;
        // The padding length (DATA, HEADERS) and priority fields (HEADERS).
        if !started {
            let mut prefix = 0;
            if matches!(hdr.kind, frame::DATA | frame::HEADERS) && hdr.has(frame::PADDED) {
                prefix += 1;
            }
            if hdr.kind == frame::HEADERS && hdr.has(frame::PRIORITY_FLAG) {
                prefix += 5;
            }
            if prefix > 0 {
                if left < prefix {
                    return self.error_at_payload(ErrorCode::FrameSize, "frame shorter than its fields");
                }
                if avail.len() < prefix {
                    return Next::Wait;
                }
                if hdr.has(frame::PADDED) {
                    pad = avail[0] as usize;
                    if pad > left - prefix {
                        return self.error_at_payload(ErrorCode::Protocol, "padding longer than the frame");
                    }
                }
                if hdr.kind == frame::HEADERS && hdr.has(frame::PRIORITY_FLAG) {
                    let p = &avail[prefix - 5..prefix];
                    let dep = u32::from_be_bytes([p[0], p[1], p[2], p[3]]) & frame::MAX_WINDOW;
                    if dep == hdr.stream {
                        return self.stream_error_at_payload(
                            hdr,
                            left,
                            ErrorCode::Protocol,
                            "depends on itself",
                        );
                    }
                }
                used = prefix;
            }
            started = true;
        }
        let left = left - used;
        let body = left - pad; // content bytes still to come
        let avail = &avail[used..];
        let step = match hdr.kind {
            frame::DATA => self.data(hdr, &avail[..avail.len().min(body)], ctx),
            frame::HEADERS | frame::CONTINUATION => self.fragment(&avail[..avail.len().min(body)], counters),
            frame::SETTINGS => self.settings(hdr, avail),
            frame::PING | frame::RST_STREAM | frame::WINDOW_UPDATE | frame::PRIORITY | frame::GOAWAY => {
                let need = if hdr.kind == frame::GOAWAY { 8 } else { left };
                if avail.len() < need {
                    // The fixed part must be whole; the rest of a GOAWAY is skipped below.
                    Next::Wait
                } else {
                    self.control(hdr, &avail[..need], counters, ctx.now);
                    Next::Consumed(need)
                }
            }
            _ => Next::Consumed(avail.len().min(body)), // unknown types are ignored (§4.1)
        };
        let n = match step {
            Next::Consumed(n) => n,
            Next::Wait if used > 0 => 0,
            Next::Wait => {
                if body > 0 || self.closing {
                    // Keep the progress made on the prefix fields.
                    self.rd = Rd::Payload { hdr, left: left + used, pad, started: false };
                    return Next::Wait;
                }
                0
            }
        };
        if self.closing {
            return Next::Wait;
        }
        let mut left = left - n;
        let mut consumed = used + n;
        // Padding, then the frame's end.
        if left == pad && left > 0 {
            let skip = (avail.len() - n).min(left);
            left -= skip;
            pad -= skip;
            consumed += skip;
        }
        if left > 0 {
            self.rd = Rd::Payload { hdr, left, pad, started };
            return if consumed > 0 { Next::Consumed(consumed) } else { Next::Wait };
        }
        self.rd = Rd::Header;
        self.end_frame(hdr, ctx, seed, counters);
        Next::Consumed(consumed)
    }

    fn error_at_payload(&mut self, code: ErrorCode, why: &str) -> Next {
        self.connection_error(code, why);
        Next::Wait
    }

    /// A stream error found in the payload's fixed fields: the stream is
    /// reset and the frame skipped.
    fn stream_error_at_payload(&mut self, hdr: FrameHeader, left: usize, code: ErrorCode, why: &str) -> Next {
        debug!(target: "l5", "h2: stream {} error {} ({why})", hdr.stream, code.name());
        self.reset_id(hdr.stream, code);
        self.rd = Rd::Payload { hdr: FrameHeader { kind: 0xff, ..hdr }, left, pad: 0, started: true };
        Next::Consumed(0)
    }

    /// Resets stream `id`, live or not.
    /// A frame other than PRIORITY on a closed or half-closed (remote)
    /// stream `id`: STREAM_CLOSED (RFC 9113 §5.1), unless we reset the
    /// stream ourselves (then the frame was in flight and is ignored).
    fn closed_stream_frame(&mut self, id: u32) {
        let ours = self.streams.ended(id) == Some(Ended::ByUs);
        match self.streams.by_id_mut(id) {
            Some(st) if st.reset_by_peer => frame::rst_stream(&mut self.out, id, ErrorCode::StreamClosed),
            Some(st) if st.reset => {}
            Some(st) => output::reset_stream(&mut self.out, st, ErrorCode::StreamClosed),
            None if ours => {}
            None => frame::rst_stream(&mut self.out, id, ErrorCode::StreamClosed),
        }
    }

    fn reset_id(&mut self, id: u32, code: ErrorCode) {
        match self.streams.by_id_mut(id) {
            Some(st) => output::reset_stream(&mut self.out, st, code),
            None => frame::rst_stream(&mut self.out, id, code),
        }
    }

    /// A header block fragment (HEADERS or CONTINUATION content).
    fn fragment(&mut self, avail: &[u8], counters: &mut H2Counters) -> Next {
        if self.block.len() + avail.len() > self.ours.header_list_budget.max(16_384) * 2 {
            counters.count(AbuseKind::ContinuationFlood);
            warn!(target: "l5", "h2: header block over its limit: GOAWAY ENHANCE_YOUR_CALM ({})", AbuseKind::ContinuationFlood.field());
            self.connection_error(ErrorCode::EnhanceYourCalm, "header block too large");
            return Next::Wait;
        }
        self.block.extend_from_slice(avail);
        Next::Consumed(avail.len())
    }

    /// SETTINGS entries (whole ones only) or an ACK.
    fn settings(&mut self, hdr: FrameHeader, avail: &[u8]) -> Next {
        if hdr.has(frame::ACK) {
            return Next::Consumed(0);
        }
        let whole = avail.len() / 6 * 6;
        for e in avail[..whole].chunks_exact(6) {
            let id = u16::from_be_bytes([e[0], e[1]]);
            let v = u32::from_be_bytes([e[2], e[3], e[4], e[5]]);
            if let Err((code, why)) = self.apply_setting(id, v) {
                self.connection_error(code, why);
                return Next::Wait;
            }
        }
        if whole == 0 && !avail.is_empty() { Next::Wait } else { Next::Consumed(whole) }
    }

    fn apply_setting(&mut self, id: u16, v: u32) -> Result<(), (ErrorCode, &'static str)> {
        match id {
            frame::SETTINGS_HEADER_TABLE_SIZE => self.enc.peer_table_size(v as usize),
            frame::SETTINGS_ENABLE_PUSH if v > 1 => return Err((ErrorCode::Protocol, "ENABLE_PUSH above 1")),
            frame::SETTINGS_ENABLE_CONNECT_PROTOCOL if v > 1 => {
                return Err((ErrorCode::Protocol, "ENABLE_CONNECT_PROTOCOL above 1"));
            }
            frame::SETTINGS_INITIAL_WINDOW_SIZE => {
                if v > frame::MAX_WINDOW {
                    return Err((ErrorCode::FlowControl, "INITIAL_WINDOW_SIZE above 2^31-1"));
                }
                let delta = v as i64 - self.peer.initial_window as i64;
                self.peer.initial_window = v;
                for (_, st) in self.streams.iter_mut() {
                    st.send_window += delta;
                    if st.send_window > frame::MAX_WINDOW as i64 {
                        return Err((ErrorCode::FlowControl, "a stream window above 2^31-1"));
                    }
                }
            }
            frame::SETTINGS_MAX_FRAME_SIZE => {
                if !(frame::DEFAULT_MAX_FRAME..=frame::MAX_MAX_FRAME).contains(&v) {
                    return Err((ErrorCode::Protocol, "MAX_FRAME_SIZE out of range"));
                }
                self.peer.max_frame_size = v;
            }
            _ => {} // unknown or advisory settings are ignored
        }
        Ok(())
    }

    /// PING, RST_STREAM, WINDOW_UPDATE, PRIORITY, GOAWAY (fixed part).
    fn control(&mut self, hdr: FrameHeader, p: &[u8], counters: &mut H2Counters, now: std::time::Instant) {
        let word = |at: usize| u32::from_be_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]]);
        match hdr.kind {
            frame::PING if !hdr.has(frame::ACK) => {
                let mut data = [0u8; 8];
                data.copy_from_slice(p);
                frame::ping(&mut self.out, &data, true);
            }
            frame::GOAWAY => {
                debug!(target: "l5", "h2: client GOAWAY ({})", ErrorCode::from_u32(word(4)).name());
                self.peer_goaway = true;
            }
            frame::PRIORITY => {
                if p.len() != 5 {
                    return self.reset_id(hdr.stream, ErrorCode::FrameSize);
                }
                if word(0) & frame::MAX_WINDOW == hdr.stream {
                    self.reset_id(hdr.stream, ErrorCode::Protocol);
                }
            }
            frame::RST_STREAM => {
                if hdr.stream > self.max_id {
                    counters.count(AbuseKind::StreamIdMisuse);
                    return self.connection_error(ErrorCode::Protocol, "RST_STREAM on an idle stream");
                }
                let Some(st) = self.streams.by_id_mut(hdr.stream) else { return };
                debug!(target: "l5", "h2: stream {} reset by the client ({})", hdr.stream, ErrorCode::from_u32(word(0)).name());
                let unanswered = st.res != super::ResState::Done;
                st.chan.fail();
                st.reset_by_peer |= !st.reset;
                st.reset = true;
                st.recv = Recv::Closed;
                st.res = super::ResState::Done;
                if unanswered && self.abuse.hit(AbuseKind::RapidReset, now) {
                    self.flood(AbuseKind::RapidReset, counters);
                }
            }
            frame::WINDOW_UPDATE => {
                let inc = word(0) & frame::MAX_WINDOW;
                // A client gives back window for what it received: about
                // two updates (stream and connection) per DATA frame sent.
                // Updates beyond that, and tiny, count toward the limit.
                self.wu_received += 1;
                let justified = 2 * self.data_frames_sent + 2 * self.requests + 16;
                if inc < TINY_WINDOW_UPDATE
                    && self.wu_received > justified
                    && self.abuse.hit(AbuseKind::WindowUpdateFlood, now)
                {
                    return self.flood(AbuseKind::WindowUpdateFlood, counters);
                }
                if hdr.stream == 0 {
                    if inc == 0 {
                        return self.connection_error(ErrorCode::Protocol, "WINDOW_UPDATE of 0");
                    }
                    self.conn_send += inc as i64;
                    if self.conn_send > frame::MAX_WINDOW as i64 {
                        self.connection_error(ErrorCode::FlowControl, "connection window above 2^31-1");
                    }
                    return;
                }
                if hdr.stream > self.max_id {
                    counters.count(AbuseKind::StreamIdMisuse);
                    return self.connection_error(ErrorCode::Protocol, "WINDOW_UPDATE on an idle stream");
                }
                let Some(st) = self.streams.by_id_mut(hdr.stream) else { return }; // closed: ignored
                if inc == 0 {
                    return output::reset_stream(&mut self.out, st, ErrorCode::Protocol);
                }
                st.send_window += inc as i64;
                if st.send_window > frame::MAX_WINDOW as i64 {
                    output::reset_stream(&mut self.out, st, ErrorCode::FlowControl);
                }
            }
            _ => {}
        }
    }

    /// The whole frame was read.
    fn end_frame(
        &mut self,
        hdr: FrameHeader,
        ctx: &mut StreamCtx<'_>,
        seed: &super::super::h1::StreamSeed,
        counters: &mut H2Counters,
    ) {
        match hdr.kind {
            frame::SETTINGS if !hdr.has(frame::ACK) => frame::settings(&mut self.out, &[], true),
            frame::DATA if hdr.has(frame::END_STREAM) => self.end_of_request(hdr.stream, ctx.now),
            frame::HEADERS => self.headers_frame(hdr, ctx, seed, counters),
            frame::CONTINUATION => {
                let Some(mut p) = self.pending else { return };
                p.frames += 1;
                if p.frames > MAX_CONTINUATIONS && !hdr.has(frame::END_HEADERS) {
                    return self.flood(AbuseKind::ContinuationFlood, counters);
                }
                self.pending = Some(p);
                if hdr.has(frame::END_HEADERS) {
                    self.pending = None;
                    self.header_block(p.stream, p.end_stream, ctx, seed, counters);
                }
            }
            _ => {}
        }
    }

    /// A HEADERS frame ended: its block is complete, or CONTINUATION follows.
    fn headers_frame(
        &mut self,
        hdr: FrameHeader,
        ctx: &mut StreamCtx<'_>,
        seed: &super::super::h1::StreamSeed,
        counters: &mut H2Counters,
    ) {
        let id = hdr.stream;
        let end_stream = hdr.has(frame::END_STREAM);
        if hdr.has(frame::END_HEADERS) {
            self.header_block(id, end_stream, ctx, seed, counters);
        } else {
            self.pending = Some(Pending { stream: id, end_stream, frames: 0 });
        }
    }

    /// A complete header block for stream `id`: a new request, trailers,
    /// or a misuse of stream ids.
    fn header_block(
        &mut self,
        id: u32,
        end_stream: bool,
        ctx: &mut StreamCtx<'_>,
        seed: &super::super::h1::StreamSeed,
        counters: &mut H2Counters,
    ) {
        let block = std::mem::take(&mut self.block);
        self.header_block_in(id, end_stream, &block, ctx, seed, counters);
        self.block = block;
        self.block.clear();
    }

    fn header_block_in(
        &mut self,
        id: u32,
        end_stream: bool,
        block: &[u8],
        ctx: &mut StreamCtx<'_>,
        seed: &super::super::h1::StreamSeed,
        counters: &mut H2Counters,
    ) {
        let budget = self.ours.header_list_budget;
        let gone = id <= self.max_id && self.streams.slot_of(id).is_none();
        let ended = if gone && !id.is_multiple_of(2) { self.streams.ended(id) } else { None };
        if let Some(how @ (Ended::PeerReset | Ended::ByUs)) = ended {
            // Decoded for the table's sake; STREAM_CLOSED after the client's reset.
            if let Err(e) = self.dec.decode(block, budget, |_, _| {}) {
                counters.count(AbuseKind::ProtocolError);
                return self.connection_error(ErrorCode::Compression, &e.to_string());
            }
            if how == Ended::PeerReset {
                if self.abuse.hit(AbuseKind::ClosedStream, ctx.now) {
                    return self.flood(AbuseKind::ClosedStream, counters);
                }
                frame::rst_stream(&mut self.out, id, ErrorCode::StreamClosed);
            }
            return;
        }
        if ended == Some(Ended::PeerEnd) {
            counters.count(AbuseKind::StreamIdMisuse);
            warn!(target: "l5", "h2: HEADERS on closed stream {id} ({})", AbuseKind::StreamIdMisuse.field());
            return self.connection_error(ErrorCode::StreamClosed, "HEADERS on a closed stream");
        }
        if id.is_multiple_of(2) || gone {
            counters.count(AbuseKind::StreamIdMisuse);
            warn!(target: "l5", "h2: HEADERS on stream {id} (highest {}): stream id reused or even ({})", self.max_id, AbuseKind::StreamIdMisuse.field());
            return self.connection_error(ErrorCode::Protocol, "stream id reused, going down or even");
        }
        if let Some(st) = self.streams.by_id_mut(id) {
            // Trailers: decoded (the table must stay in step), then dropped.
            let mut pseudo = false;
            let ok = self.dec.decode(block, budget, |name, _| pseudo |= name.starts_with(b":"));
            if let Err(e) = ok {
                counters.count(AbuseKind::ProtocolError);
                return self.connection_error(ErrorCode::Compression, &e.to_string());
            }
            if st.reset_by_peer {
                return frame::rst_stream(&mut self.out, id, ErrorCode::StreamClosed);
            }
            if st.recv == Recv::Closed {
                // Half-closed (remote): only WINDOW_UPDATE, PRIORITY, RST_STREAM (§5.1).
                return output::reset_stream(&mut self.out, st, ErrorCode::StreamClosed);
            }
            if pseudo {
                // A pseudo-header in a trailer section: malformed (RFC 9113 §8.1).
                return output::reset_stream(&mut self.out, st, ErrorCode::Protocol);
            }
            if !end_stream {
                return output::reset_stream(&mut self.out, st, ErrorCode::Protocol);
            }
            return self.end_of_request(id, ctx.now);
        }
        self.max_id = id;
        let built = request::build(
            &mut self.dec,
            &mut self.scratch,
            block,
            budget,
            (end_stream, self.ours.ext_connect),
        );
        if self.goaway.is_some() || self.peer_goaway {
            return; // after our GOAWAY: decoded for the table's sake, not served
        }
        let built = match built {
            Ok(b) => b,
            Err(ReqError::Compression(e)) => {
                counters.count(AbuseKind::ProtocolError);
                return self.connection_error(ErrorCode::Compression, &e.to_string());
            }
            Err(ReqError::BadRequest(why)) => return self.bad_request(id, end_stream, why, ctx, seed),
            Err(ReqError::Malformed(why)) => {
                debug!(target: "l5", "h2: stream {id}: malformed request ({why})");
                return frame::rst_stream(&mut self.out, id, ErrorCode::Protocol);
            }
            Err(ReqError::TooLarge) => {
                counters.count(AbuseKind::HpackBomb);
                warn!(target: "l5", "h2: stream {id}: header list over {budget} bytes: refused ({})", AbuseKind::HpackBomb.field());
                frame::rst_stream(&mut self.out, id, ErrorCode::RefusedStream);
                if self.abuse.hit(AbuseKind::HpackBomb, ctx.now) {
                    self.connection_error(ErrorCode::EnhanceYourCalm, "header lists over budget");
                }
                return;
            }
        };
        if self.streams.len() >= self.ours.max_concurrent as usize {
            debug!(target: "l5", "h2: stream {id} refused: {} streams already", self.streams.len());
            return frame::rst_stream(&mut self.out, id, ErrorCode::RefusedStream);
        }
        let mut st =
            H2Stream::new(id, self.peer.initial_window as i64, self.ours.initial_window as i64, ctx.now);
        st.body = built.body;
        st.head_method = built.head_method;
        st.ext_connect = built.ext_connect;
        st.recv = if end_stream { Recv::Closed } else { Recv::Open };
        if end_stream && built.body == ReqBody::Tunnel {
            st.chan.close_rx(); // a tunnel with nothing to send
        }
        let slot = self.streams.insert(st);
        self.requests += 1;
        let id = ctx.next_stream_id();
        let srv_token = Key::token(seed.key, slot as u8 + 1);
        let l6 = Stream::new_http(
            id,
            seed.frontend,
            seed.src,
            seed.dst,
            srv_token,
            built.buf,
            built.head,
            self.requests == 1,
            ctx.now,
            ctx,
        );
        if let Some(st) = self.streams.get_mut(slot) {
            st.l6 = Some(l6);
        }
    }
}
