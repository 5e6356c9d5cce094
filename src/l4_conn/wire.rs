//! Two small facts a [`Conn`](super::Conn) keeps, each packed so that an
//! idle `Session` (which holds its client `Conn`) stays within its size
//! budget: the bytes the connection moved since its owner last drained
//! them ([`WireBytes`], what HAProxy's `h1_bytes_in` / `h1_bytes_out`
//! count), and what a read ahead found ([`ReadAhead`]).

use super::IoStep;

/// Bytes a connection received and sent (spliced ones included; with
/// TLS the plaintext, as HAProxy's mux counts them) since
/// [`Conn::take_wire`](super::Conn::take_wire) last drained them. Owned
/// by its `Conn`; only the `Conn`'s reads, writes and splices add to it.
///
/// Four bytes each, so the `Conn` does not grow: whoever counts them
/// drains them after every turn of the connection (the HTTP/1 mux, an
/// HTTP stream for its server connection), and a turn moves far less than
/// 4 GiB (each read fills at most one buffer, each splice one pipe, and a
/// turn ends when a socket would block). They wrap rather than overflow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireBytes {
    pub rx: u32, // received
    pub tx: u32, // sent
}

impl WireBytes {
    pub(super) fn received(&mut self, n: usize) {
        self.rx = self.rx.wrapping_add(n as u32);
    }

    pub(super) fn sent(&mut self, n: usize) {
        self.tx = self.tx.wrapping_add(n as u32);
    }
}

/// What [`Conn::read_ahead`](super::Conn::read_ahead) read, kept for the
/// next `fill`: an `Option<IoStep>` in four bytes instead of sixteen (a
/// read moves at most one buffer, far below 4 GiB). `Blocked` is never
/// kept: the next `fill` finds the same.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct ReadAhead(u32);

const NONE: u32 = 0;
const EOF: u32 = 1;
const FAILED: u32 = 2;
const MOVED: u32 = 3; // Moved(n) is stored as MOVED + n

impl ReadAhead {
    /// Keeps `step` (nothing for `Blocked`).
    pub(super) fn keep(step: IoStep) -> ReadAhead {
        ReadAhead(match step {
            IoStep::Blocked => NONE,
            IoStep::Eof => EOF,
            IoStep::Failed => FAILED,
            IoStep::Moved(n) => MOVED.saturating_add(u32::try_from(n).unwrap_or(u32::MAX)),
        })
    }

    pub(super) fn is_none(self) -> bool {
        self.0 == NONE
    }

    /// The step kept, if any, leaving none.
    pub(super) fn take(&mut self) -> Option<IoStep> {
        let kept = std::mem::take(&mut self.0);
        match kept {
            NONE => None,
            EOF => Some(IoStep::Eof),
            FAILED => Some(IoStep::Failed),
            n => Some(IoStep::Moved((n - MOVED) as usize)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_ahead_gives_back_what_was_kept_once() {
        for step in [IoStep::Eof, IoStep::Failed, IoStep::Moved(1), IoStep::Moved(16384)] {
            let mut r = ReadAhead::keep(step);
            assert!(!r.is_none());
            assert_eq!(r.take(), Some(step));
            assert_eq!(r.take(), None, "told once");
        }
        assert!(ReadAhead::keep(IoStep::Blocked).is_none());
    }
}
