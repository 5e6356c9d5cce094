//! Scratch buffers for sample evaluation: a per-thread free list of byte
//! vectors, taken for one evaluation and given back, so converters and
//! fetches that build a value (`lower`, `base64`, `var()`) allocate only
//! until the list is warm. Re-entrant: a converter argument evaluated
//! inside another evaluation takes a buffer of its own.

use std::cell::RefCell;

/// Buffers kept per thread (more are dropped instead of kept).
const KEEP: usize = 16;
/// A buffer grown past this is dropped instead of kept.
const KEEP_CAPACITY: usize = 64 * 1024;

thread_local! {
    static FREE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with an empty buffer from the thread's free list.
pub(crate) fn with_buf<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    let mut buf = FREE.with(|l| l.try_borrow_mut().ok().and_then(|mut l| l.pop())).unwrap_or_default();
    buf.clear();
    let r = f(&mut buf);
    if buf.capacity() <= KEEP_CAPACITY {
        FREE.with(|l| {
            if let Ok(mut l) = l.try_borrow_mut()
                && l.len() < KEEP
            {
                l.push(buf);
            }
        });
    }
    r
}

/// Runs `f` with two empty buffers (a converter chain's current value and
/// the next one).
pub(crate) fn with_pair<R>(f: impl FnOnce(&mut Vec<u8>, &mut Vec<u8>) -> R) -> R {
    with_buf(|a| with_buf(|b| f(a, b)))
}
