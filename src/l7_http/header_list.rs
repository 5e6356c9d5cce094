//! The header lines of a parsed head, in storage reused from one message to
//! the next.
//!
//! A head keeps its header spans in a `Vec` taken from this thread's pool
//! and given back when the head is dropped, so the list is three words
//! inside the head (which moves from the parser into the transaction) and
//! parsing allocates nothing once the pool is warm.

use super::head::HeaderSpan;
use crate::core::free_list;
use std::cell::RefCell;

/// Lists kept for reuse per thread beyond which freed storage is released.
const POOL_MAX: usize = 1024;

/// Room a new list starts with: most heads have fewer lines.
const FIRST_CAPACITY: usize = 32;

thread_local! {
    static POOL: RefCell<Vec<Vec<HeaderSpan>>> = const { RefCell::new(Vec::new()) };
}

/// The header lines of one head, in order. Owned by the head; its storage
/// returns to this thread's pool on drop.
pub struct Headers {
    list: Vec<HeaderSpan>,
}

impl Headers {
    /// An empty list, from this thread's pool when it has one.
    pub fn take() -> Headers {
        let list = free_list::take(&POOL).unwrap_or_else(|| Vec::with_capacity(FIRST_CAPACITY));
        Headers { list }
    }
}

impl Headers {
    /// Appends one line (heads built rather than parsed: HTTP/2 requests).
    pub fn push(&mut self, h: HeaderSpan) {
        self.list.push(h);
    }
}

impl std::ops::Deref for Headers {
    type Target = [HeaderSpan];

    fn deref(&self) -> &[HeaderSpan] {
        &self.list
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a HeaderSpan;
    type IntoIter = std::slice::Iter<'a, HeaderSpan>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

impl Drop for Headers {
    fn drop(&mut self) {
        let mut list = std::mem::take(&mut self.list);
        list.clear();
        free_list::give(&POOL, list, POOL_MAX);
    }
}

impl Clone for Headers {
    fn clone(&self) -> Headers {
        let mut copy = Headers::take();
        copy.list.extend_from_slice(&self.list);
        copy
    }
}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.list.iter()).finish()
    }
}

impl FromIterator<HeaderSpan> for Headers {
    fn from_iter<I: IntoIterator<Item = HeaderSpan>>(iter: I) -> Headers {
        let mut headers = Headers::take();
        headers.list.extend(iter);
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l7_http::head::Span;

    fn line(i: u32) -> HeaderSpan {
        HeaderSpan { name: Span { start: i, end: i + 1 }, value: Span { start: i + 2, end: i + 3 } }
    }

    #[test]
    fn storage_is_reused_and_comes_back_empty() {
        let first: Headers = (0..40).map(line).collect();
        assert_eq!(first.len(), 40);
        let copy = first.clone();
        assert_eq!(&copy[..], &first[..]);
        let storage = first.list.as_ptr();
        drop(first);
        let again = Headers::take();
        assert!(again.is_empty(), "a reused list starts empty");
        assert_eq!(again.list.as_ptr(), storage, "the freed storage is the one taken next");
        assert!(again.list.capacity() >= 40, "with the room it grew to");
    }
}
