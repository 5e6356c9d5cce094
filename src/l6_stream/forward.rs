//! Bidirectional forwarding with back-pressure and half-close (TCP mode).
//!
//! Each direction moves bytes with `splice(2)` through a pooled kernel pipe
//! when one is available (no copy through user space), else through the
//! receiving side's buffer, which the other side writes out. Bytes already
//! buffered (e.g. read by `tcp-request content` rules) go first. A full
//! pipe or buffer stops reading (the sender's TCP window does the rest).
//! A side's EOF is passed on as `shutdown(Write)` once everything before
//! it was written.
//!
//! An HTTP/2 stream's tunnel (an extended CONNECT the server switched)
//! has no socket on the client side: its bytes go through the stream's
//! channel, which the mux frames as DATA ([`Stream::forward_mux`]).

use super::client::ClientSide;
use super::srv_conn::SrvConn;
use super::stream::{Phase, Stream};
use super::term::{TermCause, TermPhase};
use crate::l4_conn::{Conn, IoStep, Pipe};
use std::time::Instant;

/// Which end failed, when a direction cannot go on.
enum Failed {
    Reader,
    Writer,
}

/// Moves what it can from `src` to `dst`; returns the bytes written and
/// whether anything happened.
fn pump(
    src: &mut Conn,
    dst: &mut Conn,
    pipe: &mut Option<Pipe>,
    now: Instant,
) -> Result<(u64, bool), Failed> {
    let mut progress = false;
    let mut written = 0u64;
    // Never with TLS on either side: the kernel would move ciphertext.
    if src.pending() == 0 && pipe.is_none() && src.is_readable() && src.splices() && dst.splices() {
        *pipe = Pipe::take();
    }
    if let Some(p) = pipe.as_mut() {
        match src.splice_in(p, now) {
            IoStep::Moved(_) | IoStep::Eof => progress = true,
            IoStep::Failed => return Err(Failed::Reader),
            IoStep::Blocked => {}
        }
        match dst.splice_out(p, now) {
            IoStep::Moved(n) => {
                written += n as u64;
                progress = true;
            }
            IoStep::Failed => return Err(Failed::Writer),
            _ => {}
        }
        if p.is_empty()
            && let Some(p) = pipe.take()
        {
            p.release();
        }
    } else {
        match src.fill(now) {
            IoStep::Moved(_) | IoStep::Eof => progress = true,
            IoStep::Failed => return Err(Failed::Reader),
            IoStep::Blocked => {}
        }
    }
    match dst.send_from(&mut src.rx, now) {
        IoStep::Moved(n) => {
            written += n as u64;
            progress = true;
        }
        IoStep::Failed => return Err(Failed::Writer),
        _ => {}
    }
    if src.read_closed && src.pending() == 0 && pipe.is_none() && !dst.write_shut {
        dst.shutdown_write();
        progress = true;
    }
    Ok((written, progress))
}

/// Reads what `src` has into its buffer (until it is full), sending
/// nothing on.
fn hold(src: &mut Conn, now: Instant) -> Result<(u64, bool), Failed> {
    if src.rx_full() {
        return Ok((0, false));
    }
    match src.fill(now) {
        IoStep::Moved(_) | IoStep::Eof => Ok((0, true)),
        IoStep::Failed => Err(Failed::Reader),
        IoStep::Blocked => Ok((0, false)),
    }
}

impl Stream {
    /// Moves bytes until neither side can make progress.
    pub(super) fn forward<C: ClientSide>(&mut self, cli: &mut C, now: Instant) {
        self.forward_both(cli, now, false)
    }

    /// The same, but the server's bytes are only read into its buffer,
    /// not sent on: they wait for the `tcp-response content` rules
    /// (`response_inspect.rs`).
    pub(super) fn forward_holding<C: ClientSide>(&mut self, cli: &mut C, now: Instant) {
        self.forward_both(cli, now, true)
    }

    fn forward_both<C: ClientSide>(&mut self, cli: &mut C, now: Instant, hold_down: bool) {
        // A tunnel needs the server's socket; the client's may be an
        // HTTP/2 stream's channel.
        if self.srv.as_ref().is_none_or(|s| s.plain().is_none()) {
            return self.abort(TermCause::Internal, TermPhase::Data);
        }
        if cli.conn().is_none() {
            return self.forward_mux(cli, now);
        }
        let Some(cli) = cli.conn() else { return };
        loop {
            let Some(srv) = self.srv.as_mut().and_then(SrvConn::plain_mut) else { return };
            let up = pump(cli, srv, &mut self.pipe_up, now);
            let (n, up_progress) = match up {
                Ok(r) => r,
                Err(Failed::Reader) => return self.abort(TermCause::ClientAbort, TermPhase::Data),
                Err(Failed::Writer) => return self.abort(TermCause::ServerAbort, TermPhase::Data),
            };
            self.bytes_in += n;
            let Some(srv) = self.srv.as_mut().and_then(SrvConn::plain_mut) else { return };
            let down = if hold_down { hold(srv, now) } else { pump(srv, cli, &mut self.pipe_down, now) };
            let (n, down_progress) = match down {
                Ok(r) => r,
                Err(Failed::Reader) => return self.abort(TermCause::ServerAbort, TermPhase::Data),
                Err(Failed::Writer) => return self.abort(TermCause::ClientAbort, TermPhase::Data),
            };
            self.bytes_out += n;
            if !up_progress && !down_progress {
                break;
            }
        }
        let Some(srv) = self.srv.as_ref() else { return };
        if cli.fully_closed() && srv.fully_closed() {
            self.phase = Phase::Done;
        }
    }
}

impl Stream {
    /// A tunnel between the server's socket and an HTTP/2 stream's
    /// channel: the client's DATA to the server, the server's bytes to the
    /// client (the mux frames them under flow control; a full channel
    /// stops reading the server). The client's END_STREAM is the server's
    /// FIN once its bytes are out; the server's EOF ends the stream once
    /// its last bytes are in the channel (END_STREAM follows them).
    fn forward_mux<C: ClientSide>(&mut self, cli: &mut C, now: Instant) {
        loop {
            let Some(srv) = self.srv.as_mut().and_then(SrvConn::plain_mut) else { return };
            let mut progress = false;
            if matches!(cli.fill(now), IoStep::Failed) {
                return self.abort(TermCause::ClientAbort, TermPhase::Data);
            }
            match srv.send_from(cli.rx_mut(), now) {
                IoStep::Moved(n) => {
                    self.bytes_in += n as u64;
                    progress = true;
                }
                IoStep::Failed => return self.abort(TermCause::ServerAbort, TermPhase::Data),
                _ => {}
            }
            if cli.read_closed() && cli.pending() == 0 && !srv.write_shut {
                log::debug!(target: "l6", "s#{}: the client ended the tunnel's way in", self.id);
                srv.shutdown_write();
                progress = true;
            }
            if !srv.read_closed {
                match srv.fill(now) {
                    IoStep::Moved(_) | IoStep::Eof => progress = true,
                    IoStep::Failed => return self.abort(TermCause::ServerAbort, TermPhase::Data),
                    IoStep::Blocked => {}
                }
            }
            match cli.send_from(&mut srv.rx, now) {
                IoStep::Moved(n) => {
                    self.bytes_out += n as u64;
                    progress = true;
                }
                IoStep::Failed => return self.abort(TermCause::ClientAbort, TermPhase::Data),
                _ => {}
            }
            if srv.read_closed && srv.pending() == 0 {
                self.phase = Phase::Done;
                return;
            }
            if !progress {
                return;
            }
        }
    }
}
