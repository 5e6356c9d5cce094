//! Fixed-size I/O buffers from a per-thread pool.
//!
//! A connection takes a [`Buffer`] when bytes arrive and drops it as soon as
//! they have all been forwarded, so an idle connection holds no buffer. The
//! storage goes back to this thread's pool on drop (each worker is one
//! thread, so the pool is the worker's), bounded so a burst does not pin
//! memory forever.
//!
//! Two process-wide settings come from the command line: `-dM[<byte>]`
//! poisons buffer storage with the byte when it is handed out and when it
//! is given back (HAProxy fills at allocation; filling at release too
//! makes a use after release read poison as well), and `-m <megs>` caps
//! the storage all buffers may take ([`admits`] tells the worker whether
//! a new connection still fits; storage freed above the cap goes back to
//! the system instead of the pool).

use super::free_list;
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Buffers kept for reuse per thread beyond which freed storage is released.
const POOL_MAX: usize = 1024;

/// `-dM`: 0 = no poisoning, else 0x100 | the byte.
static POISON: AtomicUsize = AtomicUsize::new(0);
/// `-m`: the cap on buffer storage in bytes, 0 = none.
static LIMIT: AtomicUsize = AtomicUsize::new(0);
/// Bytes of buffer storage that exist now (in use or pooled), all threads.
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
/// Connections refused because they would not fit under the cap.
static FAILED: AtomicU64 = AtomicU64::new(0);

/// `-dM<byte>`: fill buffer storage with `byte` whenever it is taken or
/// given back (None: stop).
pub fn set_poison(byte: Option<u8>) {
    POISON.store(byte.map_or(0, |b| 0x100 | usize::from(b)), Ordering::Relaxed);
}

/// `-m`: caps the storage of all buffers at `bytes` (0: no cap).
pub fn set_limit(bytes: usize) {
    LIMIT.store(bytes, Ordering::Relaxed);
}

/// The cap set by [`set_limit`] (0: none).
pub fn limit() -> usize {
    LIMIT.load(Ordering::Relaxed)
}

/// Whether `n` more buffers fit under the cap, counting this thread's
/// pooled ones as free. Always true without a cap. A refusal is counted
/// ([`failed`]).
pub fn admits(n: usize) -> bool {
    let limit = LIMIT.load(Ordering::Relaxed);
    if limit == 0 {
        return true;
    }
    let size = BUFSIZE.with(|b| b.get());
    let in_use = ALLOCATED.load(Ordering::Relaxed).saturating_sub(pooled() * size);
    let fits = in_use + n * size <= limit;
    if !fits {
        FAILED.fetch_add(1, Ordering::Relaxed);
    }
    fits
}

/// Bytes of buffer storage that exist now, in use or pooled.
pub fn allocated() -> usize {
    ALLOCATED.load(Ordering::Relaxed)
}

/// Connections [`admits`] refused since start.
pub fn failed() -> u64 {
    FAILED.load(Ordering::Relaxed)
}

fn poison(data: &mut [u8]) {
    let p = POISON.load(Ordering::Relaxed);
    if p != 0 {
        data.fill(p as u8);
    }
}

thread_local! {
    static POOL: RefCell<Vec<Box<[u8]>>> = const { RefCell::new(Vec::new()) };
    static BUFSIZE: Cell<usize> = const { Cell::new(16384) };
}

/// Sets this thread's buffer size (`tune.bufsize`); call before any buffer
/// is taken. Pooled buffers of another size are discarded.
pub fn set_bufsize(size: usize) {
    BUFSIZE.with(|b| b.set(size.max(1024)));
    POOL.with(|p| p.borrow_mut().clear());
}

/// This thread's buffer size.
pub fn size() -> usize {
    BUFSIZE.with(|b| b.get())
}

/// Number of buffers waiting in this thread's pool (tests, `show info`).
pub fn pooled() -> usize {
    POOL.with(|p| p.borrow().len())
}

/// Bytes in flight: `data[start..end]` is unread payload. Owned by one
/// connection side at a time; returned to the pool on drop.
pub struct Buffer {
    data: Box<[u8]>,
    start: usize, // first unread byte
    end: usize,   // one past the last written byte
}

impl std::fmt::Debug for Buffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Buffer({}/{})", self.len(), self.data.len())
    }
}

impl Default for Buffer {
    fn default() -> Self {
        Self::take()
    }
}

impl Buffer {
    /// A buffer from this thread's pool, or a new one.
    pub fn take() -> Buffer {
        let data = match free_list::take(&POOL) {
            Some(mut data) => {
                poison(&mut data);
                data
            }
            None => {
                let size = BUFSIZE.with(|b| b.get());
                ALLOCATED.fetch_add(size, Ordering::Relaxed);
                let p = POISON.load(Ordering::Relaxed);
                vec![if p != 0 { p as u8 } else { 0 }; size].into_boxed_slice()
            }
        };
        Buffer { data, start: 0, end: 0 }
    }

    /// Unread bytes.
    pub fn data(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub fn capacity(&self) -> usize {
        self.data.len()
    }

    /// No room left even after compaction.
    pub fn is_full(&self) -> bool {
        self.len() == self.data.len()
    }

    /// Marks `n` unread bytes as consumed.
    pub fn consume(&mut self, n: usize) {
        self.start += n.min(self.len());
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Free space after the data, compacting first when the tail is short.
    pub fn space(&mut self) -> &mut [u8] {
        if self.start > 0 && self.data.len() - self.end < self.data.len() / 2 {
            self.data.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        &mut self.data[self.end..]
    }

    /// Records that `n` bytes were written into [`Buffer::space`].
    pub fn produced(&mut self, n: usize) {
        self.end = (self.end + n).min(self.data.len());
    }

    /// Appends as much of `bytes` as fits; returns how many were taken.
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        let space = self.space();
        let n = space.len().min(bytes.len());
        space[..n].copy_from_slice(&bytes[..n]);
        self.produced(n);
        n
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        let mut data = std::mem::take(&mut self.data);
        let len = data.len();
        poison(&mut data);
        let limit = LIMIT.load(Ordering::Relaxed);
        let over = limit != 0 && ALLOCATED.load(Ordering::Relaxed) > limit;
        if len == BUFSIZE.with(|b| b.get()) && !over && free_list::give(&POOL, data, POOL_MAX) {
            return;
        }
        ALLOCATED.fetch_sub(len, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_returns_to_pool_and_compacts() {
        set_bufsize(4096);
        assert_eq!(pooled(), 0);
        let mut b = Buffer::take();
        assert_eq!(b.push(&[7u8; 4000]), 4000);
        b.consume(3000);
        assert_eq!(b.data(), &[7u8; 1000][..]);
        assert_eq!(b.space().len(), 3096, "compacted: tail was short");
        assert_eq!(b.push(&[1u8; 5000]), 3096);
        assert!(b.is_full());
        drop(b);
        assert_eq!(pooled(), 1);
        let b = Buffer::take();
        assert!(b.is_empty());
        assert_eq!(pooled(), 0);
    }

    // The cap is process-wide, so it is tested with the real binary
    // (tests/cmdline.rs, `-m`), not here beside parallel tests.
    #[test]
    fn poison_fills_fresh_and_reused_storage() {
        set_bufsize(2048);
        set_poison(Some(0x50));
        let mut b = Buffer::take();
        assert!(b.space().iter().all(|&c| c == 0x50), "fresh storage is poisoned");
        b.push(b"hello");
        drop(b);
        let mut b = Buffer::take();
        assert!(b.space().iter().all(|&c| c == 0x50), "reused storage is poisoned again");
        set_poison(None);
        assert!(admits(1_000_000), "no cap: everything fits");
    }
}
