//! HTTP/2 mux (RFC 9113): one client connection carrying many concurrent
//! streams, each request an L6 stream with its own transaction.
//!
//! ```text
//!  cli.rx --frames--> input.rs --HEADERS--> request.rs --HTTP/1.1 head--> Stream::new_http
//!                            \--DATA-----> MuxChan.rx (chunk-framed when no content-length)
//!  cli <--frames-- output.rs <--HTTP/1 response-- MuxChan.tx <-- Stream (response.rs converts)
//! ```
//!
//! - `input.rs`: frame parsing (streaming: no frame needs to fit in a
//!   buffer), stream states, flow-control accounting, connection and
//!   stream errors with RFC 9113's codes;
//! - `output.rs`: responses framed under both send windows and the
//!   peer's frame size, control frames, the write to the socket;
//! - `stream.rs`: the per-stream state and the slot table (a slot is the
//!   token sub-index of that stream's server connection);
//! - `request.rs` / `response.rs`: the head conversions (`req_head.rs`
//!   writes the request's HTTP/1.1 head with its spans, so it is not
//!   parsed again);
//! - `bad_request.rs`: HAProxy's 400 for a request it answers instead of
//!   resetting (an invalid method or scheme);
//! - `settings.rs`: our settings (from `tune.h2.*`) and the peer's;
//! - `abuse.rs`: the flood and misuse limits.
//!
//! Each stream's L6 stream is finished exactly once, when it reports
//! `Done` or when the connection ends (`kill`), always before the session
//! ends, so the stream's own trackers are released by whichever path
//! ends it (END_STREAM, RST_STREAM either way, GOAWAY, connection error,
//! timeout) while the session's stay with the session.

mod abuse;
mod bad_request;
mod body;
mod chunked;
mod input;
mod output;
mod req_head;
mod request;
mod response;
mod settings;
mod stream;

use super::h1::StreamSeed;
use crate::cfg::Config;
use crate::l4_conn::{Conn, IoStep};
use crate::l6_stream::term::{TermCause, TermPhase};
use crate::l6_stream::{ClientSide, Stream, StreamCtx, StreamStatus};
use crate::l7_http::h2::counters::{Abuse as AbuseKind, H2Counters};
use crate::l7_http::h2::frame::{self, ErrorCode};
use crate::l7_http::h2::hpack::{Decoder, Encoder};
use log::debug;
use response::ResState;
use settings::{Ours, Peer};
use std::time::{Duration, Instant};
use stream::Streams;

/// Output bytes buffered for the client beyond which no more frames are
/// produced until some were written.
const OUT_HIGH: usize = 65_536;

/// What one `process` call left behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum H2Status {
    Alive,
    Closed, // the session can end
}

/// Where the frame reader is.
#[derive(Clone, Copy, Debug)]
enum Rd {
    Preface, // the client's 24-byte preface is expected
    Header,  // a frame header is expected
    Payload { hdr: frame::FrameHeader, left: usize, pad: usize, started: bool }, // inside a frame
}

/// The header block being received (HEADERS then CONTINUATION frames).
#[derive(Clone, Copy, Debug)]
struct Pending {
    stream: u32,
    end_stream: bool,
    frames: u32, // CONTINUATION frames so far
}

/// One HTTP/2 client connection's framing state and streams. Owned by the
/// session; its streams are finished before the session ends.
pub struct H2 {
    rd: Rd,
    ours: Ours,
    peer: Peer,
    dec: Decoder,
    enc: Encoder,
    block: Vec<u8>,           // header block being received
    pending: Option<Pending>, // a header block awaits CONTINUATION
    scratch: request::Scratch,
    hblock: Vec<u8>, // response header block being sent
    out: Vec<u8>,    // frames for the client
    out_sent: usize, // bytes of `out` already written
    streams: Streams,
    max_id: u32,             // highest stream id the client opened
    requests: u64,           // streams started (requests received)
    conn_send: i64,          // connection window the client gives us
    conn_recv: i64,          // connection window we give the client
    conn_credit: u64,        // received DATA bytes not yet given back
    conn_opened: bool,       // the connection window was opened past its initial 65535
    goaway: Option<u32>,     // GOAWAY sent with this last stream id
    closing: bool,           // a connection error was sent: close once flushed
    client_gone: bool,       // error on the client connection (or EOF with nothing left to answer)
    client_eof: bool,        // the client closed its side: what it sent is served, nothing more is read
    peer_goaway: bool,       // the client sent GOAWAY: no new stream from it
    idle_since: Instant,     // last moment the connection had a stream
    blocked_on: Option<u32>, // DATA for this stream waits for room in its channel
    abuse: abuse::Abuse,
    data_frames_sent: u64, // DATA frames written (what justifies the client's WINDOW_UPDATEs)
    wu_received: u64,      // WINDOW_UPDATE frames received
    t_client: Option<Duration>, // `timeout client`: a stream's response stalled this long is reset
    t_idle: Option<Duration>, // with no stream: `timeout http-keep-alive`, else `timeout client`
    /// Events of the poll batch were noted and not yet run (set and
    /// cleared by the session's read-ahead).
    pub batch_pending: bool,
    wake_all: bool, // the next drive runs every stream, woken or not (soft stop, streams acted on)
}

impl H2 {
    /// A connection of `frontend` whose client sends the preface next
    /// (when the HTTP/1 mux detected it, it consumed nothing).
    pub fn new(cfg: &Config, frontend: usize, now: Instant) -> H2 {
        let ours = Ours::from_cfg(cfg);
        let t = &cfg.proxies[frontend].timeouts;
        let mut h2 = H2 {
            rd: Rd::Preface,
            dec: Decoder::new(ours.header_table_size as usize),
            enc: Encoder::new(),
            block: Vec::new(),
            pending: None,
            scratch: request::Scratch::default(),
            hblock: Vec::new(),
            out: Vec::new(),
            out_sent: 0,
            streams: Streams::default(),
            max_id: 0,
            requests: 0,
            conn_send: frame::DEFAULT_WINDOW as i64,
            conn_recv: frame::DEFAULT_WINDOW as i64,
            conn_credit: 0,
            conn_opened: false,
            goaway: None,
            closing: false,
            client_gone: false,
            client_eof: false,
            peer_goaway: false,
            idle_since: now,
            blocked_on: None,
            abuse: abuse::Abuse::new(now),
            data_frames_sent: 0,
            wu_received: 0,
            peer: Peer::default(),
            ours,
            t_client: t.client,
            t_idle: t.http_keep_alive.or(t.client),
            batch_pending: false,
            wake_all: false,
        };
        h2.send_preface();
        h2
    }

    /// Requests (streams) received on this connection.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// The live L6 streams.
    pub fn l6_streams(&self) -> impl Iterator<Item = &Stream> {
        self.streams.iter().filter_map(stream::H2Stream::l6)
    }

    /// The live L6 streams, to act on them from outside (a server taken
    /// away): the next drive runs them all.
    pub fn l6_streams_mut(&mut self) -> impl Iterator<Item = &mut Stream> {
        self.wake_all = true;
        self.streams.iter_mut().filter_map(|(_, s)| s.l6_mut())
    }

    /// Highest server token sub-index any stream used (1..=this).
    pub fn subs_used(&self) -> usize {
        self.streams.slots_used()
    }

    /// Readiness for server connection `sub`; false when no stream uses it
    /// (the event is for an idle pooled connection).
    pub fn on_server_event(&mut self, sub: u8, ev: &mio::event::Event) -> bool {
        let Some(st) = (sub as usize).checked_sub(1).and_then(|slot| self.streams.get_mut(slot)) else {
            return false;
        };
        match st.l6.as_mut() {
            Some(l6) => {
                l6.on_server_event(ev);
                st.chan.wake();
                true
            }
            None => false,
        }
    }

    /// Drives the connection: reads frames, runs the streams, writes
    /// frames, until nothing moves.
    pub fn process(
        &mut self,
        cli: &mut Conn,
        ctx: &mut StreamCtx<'_>,
        seed: &StreamSeed,
        timed_out: bool,
    ) -> H2Status {
        // The worker's counts, taken out of the context for the call (the
        // context is lent to the streams meanwhile).
        let mut counters = std::mem::take(ctx.h2);
        let status = self.process_counted(cli, ctx, seed, timed_out, &mut counters);
        *ctx.h2 = counters;
        status
    }

    fn process_counted(
        &mut self,
        cli: &mut Conn,
        ctx: &mut StreamCtx<'_>,
        seed: &StreamSeed,
        timed_out: bool,
        counters: &mut H2Counters,
    ) -> H2Status {
        if timed_out {
            self.expire(ctx.now, counters);
        }
        let mut timed_out = timed_out;
        // A drive without an event (a timer, a queue slot, a shared server
        // connection's news) may concern any stream: all run once.
        let mut all = timed_out || std::mem::take(&mut self.wake_all);
        loop {
            let mut progress = false;
            if !self.client_gone && !self.closing && !self.client_eof {
                match cli.fill(ctx.now) {
                    IoStep::Moved(_) => progress = true,
                    IoStep::Eof => {
                        self.client_eof = true;
                        progress = true;
                    }
                    IoStep::Failed => self.client_lost(),
                    IoStep::Blocked => {}
                }
            }
            if !self.closing && !self.client_gone {
                progress |= self.read_frames(cli, ctx, seed, counters);
            }
            if self.client_eof {
                progress |= self.client_ended();
            }
            progress |= self.run_streams(ctx, (timed_out, all), counters);
            timed_out = false;
            all = false;
            progress |= self.emit(ctx.now);
            progress |= self.flush(cli, ctx.now);
            if !progress {
                break;
            }
        }
        if self.streams.len() > 0 {
            self.idle_since = ctx.now;
        }
        let done_streams = self.streams.len() == 0;
        if (self.client_gone || (self.client_eof && self.out.is_empty())) && done_streams {
            return H2Status::Closed;
        }
        if (self.closing || self.goaway.is_some()) && done_streams && self.out.is_empty() {
            return H2Status::Closed;
        }
        H2Status::Alive
    }

    /// The client closed its sending side (EOF), after the frames it sent
    /// were read: requests it completed are still served (their answers
    /// go out while the socket takes them: a client that only shut down
    /// its side gets them, one that closed gets a reset, then
    /// `client_lost`); streams still waiting for request bytes (a body, a
    /// tunnel) cannot get them and end now. The others see their
    /// client's side closed, as HAProxy 2.6's streams see the connection's
    /// end: with the backend's `option abortonclose`, one still waiting
    /// for its response gives up (its server connection reset, a 400, the
    /// log's `CH--`). Returns whether anything changed.
    fn client_ended(&mut self) -> bool {
        let mut ended = false;
        for (_, st) in self.streams.iter_mut() {
            if st.reset {
                continue;
            }
            if st.recv == stream::Recv::Open {
                st.chan.fail();
                st.reset = true;
                ended = true;
            } else if st.l6.is_some() && !st.end_pending {
                // (Once its whole request is in its channel: a body's
                // chunked terminator still to come is no close.)
                ended |= st.chan.conn_closed();
            }
        }
        ended
    }

    /// The client connection ended or failed: every stream is reset.
    fn client_lost(&mut self) {
        self.client_gone = true;
        self.out.clear();
        self.out_sent = 0;
        for (_, st) in self.streams.iter_mut() {
            st.chan.fail();
            st.reset = true;
        }
    }

    /// A connection error: GOAWAY with `code`, every stream reset, the
    /// connection closes once the GOAWAY is written.
    fn connection_error(&mut self, code: ErrorCode, why: &str) {
        debug!(target: "l5", "h2: connection error {} ({why})", code.name());
        if self.closing {
            return;
        }
        self.closing = true;
        frame::goaway(&mut self.out, self.max_id, code);
        for (_, st) in self.streams.iter_mut() {
            st.chan.fail();
            st.reset = true;
        }
    }

    /// A graceful GOAWAY (soft stop, idle timeout): streams already open
    /// finish, no new one starts.
    pub fn go_away(&mut self) {
        self.wake_all = true;
        if self.goaway.is_none() && !self.closing {
            self.goaway = Some(self.max_id);
            frame::goaway(&mut self.out, self.max_id, ErrorCode::NoError);
        }
    }

    /// Drives the live L6 streams that have something to do (`all`: every
    /// one); finishes those that are done. A forwarding stream that was
    /// not woken ([`MuxChan::take_wake`](crate::l6_stream::MuxChan::take_wake):
    /// its server connection had no event and its channel did not move)
    /// is skipped, so a drive for one stream's response does not run the
    /// others that wait for theirs.
    fn run_streams(
        &mut self,
        ctx: &mut StreamCtx<'_>,
        (timed_out, all): (bool, bool),
        counters: &mut H2Counters,
    ) -> bool {
        let mut progress = false;
        let mut remove = smallvec::SmallVec::<[usize; 8]>::new();
        for (slot, st) in self.streams.iter_mut() {
            let woken = st.chan.take_wake();
            if let Some(l6) = st.l6.as_mut()
                && (woken || all || !l6.forwarding())
            {
                let before = st.chan.rx_pending();
                let status = if st.chan.failed() {
                    l6.client_gone();
                    StreamStatus::Done
                } else if timed_out {
                    l6.on_timeout(&mut st.chan, ctx)
                } else {
                    l6.process(&mut st.chan, ctx)
                };
                if st.chan.rx_pending() != before {
                    progress = true;
                }
                if status == StreamStatus::Done {
                    st.complete = l6.ended_cleanly();
                    st.l6_ended = true;
                    // Timed out while its response waited for window the
                    // client never gave: a zero-window stall. (A response
                    // the server cut while it waited for window is no
                    // stall: its end is framed as usual.)
                    let stalled = !st.complete
                        && l6.term.cause == TermCause::ClientTimeout
                        && !st.chan.failed()
                        && st.chan.tx_pending() > 0
                        && (st.send_window <= 0 || self.conn_send <= 0);
                    if let Some(l6) = st.l6.take() {
                        l6.finish(ctx);
                    }
                    if stalled {
                        counters.count(AbuseKind::ZeroWindow);
                        log::warn!(target: "l5", "h2: stream {} reset: response stalled by a zero window ({})", st.id, AbuseKind::ZeroWindow.field());
                        output::reset_stream(&mut self.out, st, ErrorCode::Cancel);
                    }
                    progress = true;
                } else {
                    // Its deadline moves only when it runs: a stream that
                    // did not run keeps the one computed here.
                    st.deadline = l6.next_deadline(&st.chan, ctx.cfg);
                }
            }
            if st.finished() {
                remove.push(slot);
            }
        }
        for slot in remove {
            self.streams.remove(slot);
            progress = true;
        }
        progress
    }

    /// Deadlines that passed: an idle connection says GOAWAY and closes; a
    /// stream whose response cannot drain (a zero window) is reset.
    fn expire(&mut self, now: Instant, counters: &mut H2Counters) {
        if self.idle_deadline().is_some_and(|d| d <= now) {
            debug!(target: "l5", "h2: idle timeout");
            self.go_away();
        }
        let Some(limit) = self.t_client else { return };
        for (_, st) in self.streams.iter_mut() {
            if st.l6.is_none() && !st.reset && st.res != ResState::Done && st.chan.last_io() + limit <= now {
                counters.count(AbuseKind::ZeroWindow);
                log::warn!(target: "l5", "h2: stream {} reset: response stalled by a zero window ({})", st.id, AbuseKind::ZeroWindow.field());
                output::reset_stream(&mut self.out, st, ErrorCode::Cancel);
            }
        }
    }

    /// When an idle connection (no stream) times out.
    fn idle_deadline(&self) -> Option<Instant> {
        if self.streams.len() > 0 || self.goaway.is_some() {
            return None;
        }
        self.t_idle.map(|t| self.idle_since + t)
    }

    /// The earliest deadline of the connection and its streams (each L6
    /// stream's as of its last run, so this costs no timeout lookups).
    pub fn next_deadline(&self) -> Option<Instant> {
        let mut next = self.idle_deadline();
        let mut take = |d: Option<Instant>| {
            if let Some(d) = d {
                next = Some(next.map_or(d, |n| n.min(d)));
            }
        };
        for st in self.streams.iter() {
            match st.l6.as_deref() {
                Some(_) => take(st.deadline), // computed when it last ran (`run_streams`)
                None if !st.reset && st.res != ResState::Done => {
                    take(self.t_client.map(|t| st.chan.last_io() + t));
                }
                None => {}
            }
        }
        if self.closing || self.goaway.is_some() {
            // Bounded flush of the last frames.
            take(self.t_client.map(|t| self.idle_since + t));
        }
        next
    }

    /// Ends every stream now (worker shutdown, or the session ends), their
    /// logs saying `cause`.
    pub fn kill(&mut self, ctx: &mut StreamCtx<'_>, cause: TermCause) {
        let slots: smallvec::SmallVec<[usize; 16]> = self.streams.iter_mut().map(|(slot, _)| slot).collect();
        for slot in slots {
            if let Some(mut st) = self.streams.remove(slot)
                && let Some(mut l6) = st.l6.take()
            {
                l6.term.set(cause, TermPhase::Data);
                l6.finish(ctx);
            }
        }
    }
}
