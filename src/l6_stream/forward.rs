//! Bidirectional forwarding with back-pressure and half-close (TCP mode).
//!
//! Each direction moves bytes with `splice(2)` through a pooled kernel pipe
//! when one is available (no copy through user space), else through the
//! receiving side's buffer, which the other side writes out. Bytes already
//! buffered (e.g. read by `tcp-request content` rules) go first. A full
//! pipe or buffer stops reading (the sender's TCP window does the rest).
//! A side's EOF is passed on as `shutdown(Write)` once everything before
//! it was written.

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

impl Stream {
    /// Moves bytes until neither side can make progress.
    pub(super) fn forward<C: ClientSide>(&mut self, cli: &mut C, now: Instant) {
        // Only a socket can carry a tunnel: a multiplexed stream cannot.
        let (true, Some(cli)) = (self.srv.as_ref().is_some_and(|s| s.plain().is_some()), cli.conn()) else {
            return self.abort(TermCause::Internal, TermPhase::Data);
        };
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
            let down = pump(srv, cli, &mut self.pipe_down, now);
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
