//! The process's `server_key` dictionary: strings (server names or
//! addresses) interned once and referred to by a 32-bit id, so an entry
//! stores one word for its `server_key` (HAProxy's `server_key_dict`).
//!
//! Shared by every table and thread (`Send + Sync`, one lock taken only to
//! intern or look up a string, never on the counting path). Ids start at 1;
//! 0 means "no value". Entries are never freed: values are server names and
//! addresses, a bounded set. A peer could send arbitrary strings, so the
//! dictionary refuses new strings past [`MAX_STRINGS`] (the entry then keeps
//! no value) instead of growing without bound.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// Most distinct strings the dictionary holds.
pub const MAX_STRINGS: usize = 65_536;

/// Longest string interned (longer ones are refused).
pub const MAX_LEN: usize = 1024;

#[derive(Default)]
struct Inner {
    ids: HashMap<Arc<str>, u32>, // string -> id
    strings: Vec<Arc<str>>,      // id - 1 -> string
}

fn dict() -> &'static Mutex<Inner> {
    static DICT: OnceLock<Mutex<Inner>> = OnceLock::new();
    DICT.get_or_init(Default::default)
}

/// The id of `s`, interning it if new. `None` when the dictionary is full
/// or the string too long.
pub fn intern(s: &str) -> Option<u32> {
    if s.len() > MAX_LEN {
        return None;
    }
    let mut d = dict().lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(&id) = d.ids.get(s) {
        return Some(id);
    }
    if d.strings.len() >= MAX_STRINGS {
        return None;
    }
    let s: Arc<str> = Arc::from(s);
    d.strings.push(Arc::clone(&s));
    let id = d.strings.len() as u32;
    d.ids.insert(s, id);
    Some(id)
}

/// The string of id `id` (`None` for 0 or an unknown id).
pub fn lookup(id: u32) -> Option<Arc<str>> {
    let i = usize::try_from(id.checked_sub(1)?).ok()?;
    dict().lock().unwrap_or_else(PoisonError::into_inner).strings.get(i).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stick_dict_interns_once() {
        let a = intern("srv-a").unwrap();
        let b = intern("srv-b").unwrap();
        assert_ne!(a, b);
        assert_eq!(intern("srv-a"), Some(a));
        assert_eq!(lookup(a).as_deref(), Some("srv-a"));
        assert_eq!(lookup(0), None);
        assert_eq!(intern(&"x".repeat(MAX_LEN + 1)), None);
    }
}
