//! `sendfile(2)` from a regular file to a connection: how the static-file
//! service sends a large file without reading it into memory (the kernel
//! copies page-cache pages to the socket; measured for splice on this
//! machine at about half the CPU of read+write, the same path).

use super::conn::{Conn, IoStep};
use std::io;
use std::os::fd::AsRawFd;
use std::time::Instant;

/// At most this many bytes per call, so one large file does not hold the
/// worker for long.
const MAX_PER_CALL: usize = 1 << 20;

impl Conn {
    /// Sends up to `*left` bytes of `file` from `*offset`, advancing both,
    /// until the socket would block, `*left` is 0 or one call's worth went.
    pub fn send_file(
        &mut self,
        file: &std::fs::File,
        offset: &mut u64,
        left: &mut u64,
        now: Instant,
    ) -> IoStep {
        if let Some(step) = self.write_gate() {
            return step;
        }
        let mut total = 0usize;
        let step = loop {
            if *left == 0 || total >= MAX_PER_CALL {
                break IoStep::Blocked;
            }
            let want = (*left).min((MAX_PER_CALL - total) as u64) as usize;
            let mut off = *offset as libc::off_t;
            // SAFETY: both descriptors are open for the call (the file is
            // borrowed, the socket owned by this Conn); `off` is a valid
            // pointer to a local the kernel updates.
            let n = unsafe { libc::sendfile(self.fd(), file.as_raw_fd(), &mut off, want) };
            if n > 0 {
                let n = n as usize;
                *offset += n as u64;
                *left -= n as u64;
                total += n;
                continue;
            }
            if n == 0 {
                // The file is shorter than announced (truncated meanwhile).
                self.error = Some(io::ErrorKind::UnexpectedEof);
                break IoStep::Failed;
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::WouldBlock => {
                    self.mark_unwritable();
                    break IoStep::Blocked;
                }
                io::ErrorKind::Interrupted => {}
                kind => {
                    self.error = Some(kind);
                    break IoStep::Failed;
                }
            }
        };
        if total > 0 {
            self.last_io = now;
        }
        match step {
            IoStep::Blocked if total > 0 => IoStep::Moved(total),
            other => other,
        }
    }
}
