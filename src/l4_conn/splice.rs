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

/// Pipes opened with a capacity of [`LARGE_PIPE`] bytes; those opened
/// after them keep the kernel's default (64 KiB). Pooled pipes are reused
/// most recently released first, so the large ones carry most transfers,
/// and at most `LARGE_PIPES` × 1 MiB of kernel memory can sit in pipes.
const LARGE_PIPES: usize = 16;

/// A large pipe's capacity. One splice call moves up to a pipe's capacity:
/// with 1 MiB instead of 64 KiB, a 1 MiB body reaches the client in a few
/// large writes, and the client and the server are woken far less often
/// (1 MiB bodies in mode http: 1.05 -> 1.20 GB/s, medians of 8 paired
/// rounds, docs/performance.md).
const LARGE_PIPE: usize = 1024 * 1024;

/// Pipes a thread may open: `MAX_PIPES` unless `maxpipes` or `nosplice`
/// (0: never splice) said otherwise; set once at start-up.
static LIMIT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(MAX_PIPES);

/// Sets how many pipes a thread may open (`maxpipes`; 0 for `nosplice`).
pub fn set_limit(n: usize) {
    LIMIT.store(n, std::sync::atomic::Ordering::Relaxed);
}

/// How many pipes a thread may open.
pub fn limit() -> usize {
    LIMIT.load(std::sync::atomic::Ordering::Relaxed)
}

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
    cap: usize, // bytes the pipe holds when full
}

impl Pipe {
    /// A pipe from this thread's pool, a new one, or None when the budget
    /// is spent (the caller copies through buffers instead).
    pub fn take() -> Option<Pipe> {
        if let Some(p) = FREE.with(|f| f.borrow_mut().pop()) {
            return Some(p);
        }
        if OPEN.with(|o| o.get()) >= limit() {
            return None;
        }
        let mut fds = [0 as RawFd; 2];
        // SAFETY: `fds` is a valid array of two descriptors for pipe2 to fill.
        let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
        if rc != 0 {
            return None;
        }
        let opened = OPEN.with(|o| o.replace(o.get() + 1));
        // SAFETY: pipe2 succeeded: both descriptors are open and owned by nobody else.
        let (rd, wr) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let cap = if opened < LARGE_PIPES { resize(&wr, LARGE_PIPE) } else { capacity(&wr) };
        Some(Pipe { rd, wr, len: 0, cap })
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

/// Asks for a pipe of `size` bytes; returns the capacity it has (the
/// kernel may refuse: a lower `fs.pipe-max-size`, or the user's pipe
/// memory over `fs.pipe-user-pages-soft`).
fn resize(pipe: &OwnedFd, size: usize) -> usize {
    let want = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
    // SAFETY: the descriptor is an open pipe owned by the caller.
    let got = unsafe { libc::fcntl(pipe.as_raw_fd(), libc::F_SETPIPE_SZ, want) };
    if got > 0 { got as usize } else { capacity(pipe) }
}

/// The capacity of a pipe, 64 KiB if the kernel does not say.
fn capacity(pipe: &OwnedFd) -> usize {
    // SAFETY: the descriptor is an open pipe owned by the caller.
    let got = unsafe { libc::fcntl(pipe.as_raw_fd(), libc::F_GETPIPE_SZ) };
    if got > 0 { got as usize } else { 64 * 1024 }
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
            let room = pipe.cap.saturating_sub(pipe.len).min(max - total);
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
            self.wire_received(total);
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
            self.wire_sent(total);
        }
        match step {
            IoStep::Blocked if total > 0 => IoStep::Moved(total),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipes_know_their_capacity() {
        // The first pipes ask for LARGE_PIPE; whatever the kernel granted is
        // what splice_in fills them to.
        let p = Pipe::take().expect("a pipe");
        assert_eq!(p.cap, capacity(&p.wr));
        assert!(p.cap >= 64 * 1024 && p.cap <= LARGE_PIPE, "{}", p.cap);
        p.release();
    }
}
