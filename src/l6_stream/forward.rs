//! Bidirectional forwarding with back-pressure and half-close.
//!
//! Each side reads into its own receive buffer, which the other side
//! writes out. A full buffer stops reading (the sender's TCP window does
//! the rest); an emptied one goes back to the pool. A side's EOF is passed
//! on as `shutdown(Write)` once everything before it was written.

use super::stream::{Phase, Stream};
use super::term::{TermCause, TermPhase};
use crate::l4_conn::{Conn, IoStep};
use std::time::Instant;

impl Stream {
    /// Moves bytes until neither side can make progress.
    pub(super) fn forward(&mut self, cli: &mut Conn, now: Instant) {
        let Some(srv) = self.srv.as_mut() else {
            return self.abort(crate::l6_stream::term::TermCause::Internal, TermPhase::Data);
        };
        loop {
            let mut progress = false;
            // client → server
            match cli.fill(now) {
                IoStep::Moved(_) | IoStep::Eof => progress = true,
                IoStep::Failed => return self.abort(TermCause::ClientAbort, TermPhase::Data),
                IoStep::Blocked => {}
            }
            match srv.send_from(&mut cli.rx, now) {
                IoStep::Moved(n) => {
                    self.bytes_in += n as u64;
                    progress = true;
                }
                IoStep::Failed => return self.abort(TermCause::ServerAbort, TermPhase::Data),
                _ => {}
            }
            if cli.read_closed && cli.pending() == 0 && !srv.write_shut {
                srv.shutdown_write();
                progress = true;
            }
            // server → client
            match srv.fill(now) {
                IoStep::Moved(_) | IoStep::Eof => progress = true,
                IoStep::Failed => return self.abort(TermCause::ServerAbort, TermPhase::Data),
                IoStep::Blocked => {}
            }
            match cli.send_from(&mut srv.rx, now) {
                IoStep::Moved(n) => {
                    self.bytes_out += n as u64;
                    progress = true;
                }
                IoStep::Failed => return self.abort(TermCause::ClientAbort, TermPhase::Data),
                _ => {}
            }
            if srv.read_closed && srv.pending() == 0 && !cli.write_shut {
                cli.shutdown_write();
                progress = true;
            }
            if !progress {
                break;
            }
        }
        if cli.fully_closed() && srv.fully_closed() {
            self.phase = Phase::Done;
        }
    }
}
