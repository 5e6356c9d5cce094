//! HPACK's indexing tables (RFC 7541 §2.3): the static table (Appendix A)
//! and one direction's dynamic table.
//!
//! The dynamic table keeps its entries' bytes in one `Vec` (name then
//! value, oldest first) and their lengths in a ring of spans, so an insert
//! copies the bytes once and allocates nothing once the storage has grown
//! to twice the table size: when the end is reached, the live bytes move
//! to the front.

use std::collections::VecDeque;

/// RFC 7541 §4.1: each entry counts 32 bytes beyond its name and value.
pub const ENTRY_OVERHEAD: usize = 32;

/// The static table, index 1 first.
#[rustfmt::skip]
pub static STATIC: [(&[u8], &[u8]); 61] = [
    (b":authority", b""), (b":method", b"GET"), (b":method", b"POST"), (b":path", b"/"),
    (b":path", b"/index.html"), (b":scheme", b"http"), (b":scheme", b"https"), (b":status", b"200"),
    (b":status", b"204"), (b":status", b"206"), (b":status", b"304"), (b":status", b"400"),
    (b":status", b"404"), (b":status", b"500"), (b"accept-charset", b""),
    (b"accept-encoding", b"gzip, deflate"), (b"accept-language", b""), (b"accept-ranges", b""),
    (b"accept", b""), (b"access-control-allow-origin", b""), (b"age", b""), (b"allow", b""),
    (b"authorization", b""), (b"cache-control", b""), (b"content-disposition", b""),
    (b"content-encoding", b""), (b"content-language", b""), (b"content-length", b""),
    (b"content-location", b""), (b"content-range", b""), (b"content-type", b""), (b"cookie", b""),
    (b"date", b""), (b"etag", b""), (b"expect", b""), (b"expires", b""), (b"from", b""), (b"host", b""),
    (b"if-match", b""), (b"if-modified-since", b""), (b"if-none-match", b""), (b"if-range", b""),
    (b"if-unmodified-since", b""), (b"last-modified", b""), (b"link", b""), (b"location", b""),
    (b"max-forwards", b""), (b"proxy-authenticate", b""), (b"proxy-authorization", b""), (b"range", b""),
    (b"referer", b""), (b"refresh", b""), (b"retry-after", b""), (b"server", b""), (b"set-cookie", b""),
    (b"strict-transport-security", b""), (b"transfer-encoding", b""), (b"user-agent", b""), (b"vary", b""),
    (b"via", b""), (b"www-authenticate", b""),
];

/// The static index (1-based) of the first entry named `name`, if any:
/// the name's length picks the few candidates, compared whole.
pub fn static_name_index(name: &[u8]) -> Option<usize> {
    let candidates: &[(&[u8], usize)] = match name.len() {
        3 => &[(b"age", 21), (b"via", 60)],
        4 => &[(b"date", 33), (b"etag", 34), (b"from", 37), (b"host", 38), (b"link", 45), (b"vary", 59)],
        5 => &[(b":path", 4), (b"allow", 22), (b"range", 50)],
        6 => &[(b"accept", 19), (b"cookie", 32), (b"expect", 35), (b"server", 54)],
        7 => &[
            (b":method", 2),
            (b":scheme", 6),
            (b":status", 8),
            (b"expires", 36),
            (b"referer", 51),
            (b"refresh", 52),
        ],
        8 => &[(b"if-match", 39), (b"if-range", 42), (b"location", 46)],
        10 => &[(b":authority", 1), (b"set-cookie", 55), (b"user-agent", 58)],
        11 => &[(b"retry-after", 53)],
        12 => &[(b"content-type", 31), (b"max-forwards", 47)],
        13 => &[
            (b"accept-ranges", 18),
            (b"authorization", 23),
            (b"cache-control", 24),
            (b"content-range", 30),
            (b"if-none-match", 41),
            (b"last-modified", 44),
        ],
        14 => &[(b"accept-charset", 15), (b"content-length", 28)],
        15 => &[(b"accept-encoding", 16), (b"accept-language", 17)],
        16 => &[
            (b"content-encoding", 26),
            (b"content-language", 27),
            (b"content-location", 29),
            (b"www-authenticate", 61),
        ],
        17 => &[(b"if-modified-since", 40), (b"transfer-encoding", 57)],
        18 => &[(b"proxy-authenticate", 48)],
        19 => &[(b"content-disposition", 25), (b"if-unmodified-since", 43), (b"proxy-authorization", 49)],
        25 => &[(b"strict-transport-security", 56)],
        27 => &[(b"access-control-allow-origin", 20)],
        _ => &[],
    };
    candidates.iter().find(|(n, _)| *n == name).map(|&(_, i)| i)
}

/// Where one entry's bytes are in [`DynTable::bytes`].
#[derive(Clone, Copy, Debug)]
struct Span {
    start: u32,
    name: u32,
    value: u32,
}

/// One direction's dynamic table. Owned by that direction's decoder (or
/// encoder); the peer's size updates and our SETTINGS bound it.
#[derive(Debug, Default)]
pub struct DynTable {
    bytes: Vec<u8>,          // entries' names and values; live from the oldest entry's start
    entries: VecDeque<Span>, // oldest at the front, newest at the back
    size: usize,             // RFC size: names + values + 32 per entry
    max: usize,              // current maximum size
}

impl DynTable {
    pub fn new(max: usize) -> DynTable {
        DynTable { bytes: Vec::new(), entries: VecDeque::new(), size: 0, max }
    }

    /// Entries in the table.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The RFC size of the table now.
    pub fn size(&self) -> usize {
        self.size
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// Entry `i`, 0 being the newest (HPACK index 62).
    pub fn get(&self, i: usize) -> Option<(&[u8], &[u8])> {
        let n = self.entries.len();
        let span = self.entries.get(n.checked_sub(i + 1)?)?;
        let start = span.start as usize;
        let mid = start + span.name as usize;
        let end = mid + span.value as usize;
        Some((&self.bytes[start..mid], &self.bytes[mid..end]))
    }

    /// A new maximum size (a size update): evicts down to it.
    pub fn set_max(&mut self, max: usize) {
        self.max = max;
        self.evict_to(max);
    }

    fn evict_to(&mut self, limit: usize) {
        while self.size > limit {
            let Some(old) = self.entries.pop_front() else { break };
            self.size -= old.name as usize + old.value as usize + ENTRY_OVERHEAD;
        }
        if self.entries.is_empty() {
            self.bytes.clear();
        }
    }

    /// Adds an entry (RFC 7541 §4.4): older entries are evicted to make
    /// room; an entry larger than the table empties it and is not added.
    pub fn insert(&mut self, name: &[u8], value: &[u8]) {
        let size = name.len() + value.len() + ENTRY_OVERHEAD;
        if size > self.max {
            self.evict_to(0);
            return;
        }
        self.evict_to(self.max - size);
        let len = name.len() + value.len();
        if self.bytes.len() + len > self.bytes.capacity()
            && let Some(front) = self.entries.front().map(|s| s.start as usize)
        {
            // Move the live bytes to the front rather than grow.
            self.bytes.drain(..front);
            for span in self.entries.iter_mut() {
                span.start -= front as u32;
            }
        }
        if self.bytes.capacity() < 2 * self.max {
            self.bytes.reserve(2 * self.max - self.bytes.len());
        }
        let start = self.bytes.len() as u32;
        self.bytes.extend_from_slice(name);
        self.bytes.extend_from_slice(value);
        self.entries.push_back(Span { start, name: name.len() as u32, value: value.len() as u32 });
        self.size += size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_index_is_the_first_entry_of_that_name() {
        for (i, (name, _)) in STATIC.iter().enumerate() {
            let first = STATIC.iter().position(|(n, _)| n == name).unwrap() + 1;
            assert_eq!(static_name_index(name), Some(first), "entry {}", i + 1);
        }
        for name in [&b""[..], b"x", b"ages", b"Host", b":status2", b"content-lengtH", b"x-forwarded-for"] {
            assert_eq!(static_name_index(name), None);
        }
    }

    #[test]
    fn entries_are_evicted_oldest_first_and_bytes_are_reused() {
        let mut t = DynTable::new(100);
        t.insert(b"aaaa", b"1111"); // 40
        t.insert(b"bbbb", b"2222"); // 80
        assert_eq!(t.get(0), Some((&b"bbbb"[..], &b"2222"[..])));
        assert_eq!(t.get(1), Some((&b"aaaa"[..], &b"1111"[..])));
        assert_eq!(t.get(2), None);
        t.insert(b"cccc", b"3333"); // evicts aaaa
        assert_eq!((t.len(), t.size()), (2, 80));
        assert_eq!(t.get(1), Some((&b"bbbb"[..], &b"2222"[..])));
        let cap = t.bytes.capacity();
        for i in 0..1000u32 {
            let v = i.to_string();
            t.insert(b"name", v.as_bytes());
            assert_eq!(t.get(0), Some((&b"name"[..], v.as_bytes())));
        }
        assert_eq!(t.bytes.capacity(), cap, "storage is reused, never grown");
        // Too large for the table: it empties.
        t.insert(&[b'x'; 80], b"");
        assert!(t.is_empty());
        t.insert(b"a", b"b");
        t.set_max(0);
        assert_eq!((t.len(), t.size()), (0, 0));
    }
}
