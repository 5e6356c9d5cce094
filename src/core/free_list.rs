//! Bounded per-thread free lists: storage a worker gives back when an
//! object ends and takes again for the next one, so steady traffic
//! allocates nothing. Each user declares its own thread-local list (each
//! worker is one thread, so a list is its worker's) and its bound.

use std::cell::RefCell;
use std::thread::LocalKey;

/// A per-thread list of freed storage of type `T`.
pub type FreeList<T> = LocalKey<RefCell<Vec<T>>>;

/// Storage from `list`, if it holds any.
#[inline]
pub fn take<T: 'static>(list: &'static FreeList<T>) -> Option<T> {
    list.with(|l| l.borrow_mut().pop())
}

/// Gives `item` back to `list`, unless the list already holds `max`
/// items: then it is dropped, so a burst does not pin memory forever.
/// Returns whether it was kept.
#[inline]
pub fn give<T: 'static>(list: &'static FreeList<T>, item: T, max: usize) -> bool {
    list.with(|l| {
        let mut l = l.borrow_mut();
        let keep = l.len() < max;
        if keep {
            l.push(item);
        }
        keep
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        static LIST: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
    }

    #[test]
    fn a_list_gives_back_what_it_kept_up_to_its_bound() {
        assert_eq!(take(&LIST), None);
        for i in 0..5 {
            give(&LIST, i, 3);
        }
        assert_eq!([take(&LIST), take(&LIST), take(&LIST), take(&LIST)], [Some(2), Some(1), Some(0), None]);
    }
}
