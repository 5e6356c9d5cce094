//! Where a live stream is stored: a heap slot taken from a per-thread pool
//! when the stream starts and given back when it ends, so an idle
//! connection (between requests, or waiting for its first) holds no stream
//! memory and a busy one allocates nothing in steady state.

use super::stream::{Stream, StreamCtx};
use crate::core::free_list;
use std::cell::RefCell;
use std::ops::{Deref, DerefMut};

/// Empty slots kept for reuse per thread (more are freed).
const POOL_MAX: usize = 4096;

thread_local! {
    // The boxes are the point: each is a stream-sized allocation kept for reuse.
    #[allow(clippy::vec_box)]
    static FREE: RefCell<Vec<Box<Option<Stream>>>> = const { RefCell::new(Vec::new()) };
}

/// A live stream in a pooled heap slot. Owned by the mux that runs it.
/// Ending it ([`PooledStream::finish`]) or dropping it ends the stream
/// exactly as dropping a `Stream` does, then recycles the slot.
pub struct PooledStream(Option<Box<Option<Stream>>>); // None only inside drop

impl PooledStream {
    pub fn new(stream: Stream) -> PooledStream {
        PooledStream::build(|| stream)
    }

    /// A stream built by `make` in its slot: once inlined, the stream (over
    /// a kilobyte) is written where it stays instead of built then copied.
    #[inline(always)]
    pub fn build(make: impl FnOnce() -> Stream) -> PooledStream {
        let mut slot = free_list::take(&FREE).unwrap_or_else(|| Box::new(None));
        *slot = Some(make());
        PooledStream(Some(slot))
    }

    /// Ends the stream (see [`Stream::finish`]) and recycles its slot. The
    /// stream is dropped where it lies (not moved out first).
    pub fn finish(mut self, ctx: &mut StreamCtx<'_>) {
        if let Some(slot) = self.0.as_mut() {
            if let Some(s) = slot.as_mut() {
                s.record_end(ctx);
            }
            **slot = None;
        }
    }
}

impl Deref for PooledStream {
    type Target = Stream;
    fn deref(&self) -> &Stream {
        // A PooledStream holds its stream until finish() or drop consumes it.
        self.0
            .as_deref()
            .and_then(Option::as_ref)
            .unwrap_or_else(|| unreachable!("pooled slot without a stream"))
    }
}

impl DerefMut for PooledStream {
    fn deref_mut(&mut self) -> &mut Stream {
        self.0
            .as_deref_mut()
            .and_then(Option::as_mut)
            .unwrap_or_else(|| unreachable!("pooled slot without a stream"))
    }
}

impl Drop for PooledStream {
    fn drop(&mut self) {
        let Some(mut slot) = self.0.take() else { return };
        // Drop the stream first, in place (its trackers release), then keep the slot.
        *slot = None;
        free_list::give(&FREE, slot, POOL_MAX);
    }
}
