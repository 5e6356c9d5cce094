//! Zero-copy forwarding with `splice(2)`: bytes move socket → pipe →
//! socket inside the kernel, never through a user-space buffer.
//!
//! A [`Pipe`] is taken from a per-thread pool only while a direction has
//! bytes in flight and goes back as soon as it is empty, so idle
//! connections hold no pipe and the pool bounds the descriptors used
//! ([`MAX_PIPES`], reserved in the process's fd budget).

use super::IoStep;
use super::conn::Conn;
use std::cell::RefCell;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Instant;

/// Pipes a worker may hold at once (each is two descriptors).
pub const MAX_PIPES: usize = 64;

/// Bytes asked of one splice call (a default pipe holds 64 KiB).
const CHUNK: usize = 64 * 1024;

thread_local! {
    static FREE: RefCell<Vec<Pipe>> = const { RefCell::new(Vec::new()) };
    static OPEN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A kernel pipe and the bytes it holds. Owned by one direction of one
/// stream while it holds bytes; otherwise in the pool.
#[derive(Debug)]
pub struct Pipe {
    rd: OwnedFd,
    wr: OwnedFd,
    len: usize, // bytes spliced in and not yet out
}

impl Pipe {
    /// A pipe from this thread's pool, a new one, or None when the budget
    /// is spent (the caller copies through buffers instead).
    pub fn take() -> Option<Pipe> {
        if let Some(p) = FREE.with(|f| f.borrow_mut().pop()) {
            return Some(p);
        }
        if OPEN.with(|o| o.get()) >= MAX_PIPES {
            return None;
        }
        let mut fds = [0 as RawFd; 2];
        // SAFETY: `fds` is a valid array of two descriptors for pipe2 to fill.
        let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
        if rc != 0 {
            return None;
        }
        OPEN.with(|o| o.set(o.get() + 1));
        // SAFETY: pipe2 succeeded: both descriptors are open and owned by nobody else.
        let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        Some(Pipe { rd, wr, len: 0 })
    }

    /// Bytes waiting in the pipe.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Gives an empty pipe back to the pool (a non-empty one is closed:
    /// its bytes belong to a stream that is going away).
    pub fn release(self) {
        if self.len == 0 {
            FREE.with(|f| f.borrow_mut().push(self));
        }
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        // The descriptors close with the OwnedFds; the budget gets them back.
        OPEN.with(|o| o.set(o.get().saturating_sub(1)));
    }
}

fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    // SAFETY: both descriptors are open for the duration of the call (owned
    // by the caller's Conn and Pipe); null offsets are valid for sockets and
    // pipes.
    let n = unsafe {
        libc::splice(
            from,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            len,
            libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
        )
    };
    if n < 0 { Err(io::Error::last_os_error()) } else { Ok(n as usize) }
}

impl Conn {
    /// Moves received bytes from the socket into `pipe` until the socket
    /// would block, the pipe is full, or EOF.
    pub fn splice_in(&mut self, pipe: &mut Pipe, now: Instant) -> IoStep {
        self.splice_in_max(pipe, usize::MAX, now)
    }

    /// [`Conn::splice_in`], taking at most `max` bytes (the rest of a body).
    pub fn splice_in_max(&mut self, pipe: &mut Pipe, max: usize, now: Instant) -> IoStep {
        if let Some(step) = self.read_gate() {
            return step;
        }
        if max == 0 {
            return IoStep::Blocked;
        }
        let mut total = 0;
        let step = loop {
            let room = CHUNK.saturating_sub(pipe.len).min(max - total);
            if room == 0 {
                break IoStep::Blocked; // pipe full: readiness stays, the pipe drains first
            }
            match splice(self.fd(), pipe.wr.as_raw_fd(), room) {
                Ok(0) => {
                    self.mark_read_closed();
                    break IoStep::Eof;
                }
                Ok(n) => {
                    pipe.len += n;
                    total += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if pipe.len == 0 {
                        self.mark_drained(); // nothing in the socket
                    }
                    break IoStep::Blocked;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.error = Some(e.kind());
                    break IoStep::Failed;
                }
            }
        };
        if total > 0 {
            self.last_io = now;
        }
        match step {
            IoStep::Blocked | IoStep::Eof if total > 0 => IoStep::Moved(total),
            other => other,
        }
    }

    /// Sends bytes from `pipe` until it is empty or the socket would block.
    pub fn splice_out(&mut self, pipe: &mut Pipe, now: Instant) -> IoStep {
        if let Some(step) = self.write_gate() {
            return step;
        }
        if pipe.len == 0 {
            return IoStep::Blocked;
        }
        let mut total = 0;
        let step = loop {
            if pipe.len == 0 {
                break IoStep::Blocked;
            }
            match splice(pipe.rd.as_raw_fd(), self.fd(), pipe.len) {
                Ok(0) => break IoStep::Blocked,
                Ok(n) => {
                    pipe.len -= n;
                    total += n;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.mark_unwritable();
                    break IoStep::Blocked;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.error = Some(e.kind());
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
