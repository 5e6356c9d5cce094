//! The objects of one `cache` section, shared by every worker: entries by
//! primary key (SHA-1 of Host and URI) with their Vary variants, memory
//! bounded by `total-max-size` (each entry counted with its headers,
//! body and bookkeeping), least recently used evicted first.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use hashbrown::HashMap;
use sha1::Digest;

use crate::cfg::CacheDef;
use crate::l7_http::head::{ConnOpts, Framing, HeaderSpan, Headers, ResponseHead, Span, Version};

/// Bytes charged per entry beyond its headers and body.
const ENTRY_OVERHEAD: usize = 128;

/// A cache key: SHA-1 of the request's Host and URI.
pub type Primary = [u8; 20];

/// One stored response. Immutable once stored; shared with the streams
/// sending it.
#[derive(Debug)]
pub struct Entry {
    pub primary: Primary,
    pub secondary: Box<[u8]>, // the Vary'd request headers, normalized (empty: no Vary)
    pub head: Box<[u8]>, // status line and headers as stored (no Age, no hop-by-hop), with the final CRLF
    pub parsed: StoredHead, // `head` as parsed when it was stored
    pub body: Box<[u8]>, // the body bytes as they were sent (chunked framing kept)
    pub stored_at: u64,  // Unix seconds (its `Age` grows from here)
    pub age: u64,        // the `Age` it arrived with
    pub expire: u64,     // Unix seconds
    pub etag: Option<Box<[u8]>>,
    pub last_modified: i64, // Unix seconds: Last-Modified, else Date, else the storing time
}

/// A stored head as it was parsed once, when it was stored: its spans
/// index [`Entry::head`]. A hit rebuilds its [`ResponseHead`] from it
/// instead of parsing the head again. Part of its entry, immutable.
#[derive(Debug)]
pub struct StoredHead {
    pub status: u16,
    pub reason: Span,
    pub version: Version,
    pub framing: Framing,
    pub conn: ConnOpts,
    pub headers: Box<[HeaderSpan]>,
}

impl StoredHead {
    /// What is kept of `h`, a head parsed from the entry's `head`.
    pub fn of(h: &ResponseHead) -> StoredHead {
        StoredHead {
            status: h.status,
            reason: h.reason,
            version: h.version,
            framing: h.framing,
            conn: h.conn,
            headers: h.headers.iter().copied().collect(),
        }
    }

    /// The head of an answer whose bytes are the entry's head without its
    /// blank line, `extra` lines after it (spans into those bytes), then
    /// the blank line: `len` bytes in all.
    pub fn response(&self, extra: &[HeaderSpan], len: usize) -> ResponseHead {
        let mut headers = Headers::take();
        for h in self.headers.iter().chain(extra) {
            headers.push(*h);
        }
        ResponseHead {
            status: self.status,
            reason: self.reason,
            version: self.version,
            headers,
            len,
            framing: self.framing,
            conn: self.conn,
        }
    }
}

impl Entry {
    fn size(&self) -> usize {
        self.head.len() + self.body.len() + self.secondary.len() + ENTRY_OVERHEAD
    }

    /// The `Age` to send at `now`.
    pub fn age_at(&self, now: u64) -> u64 {
        now.saturating_sub(self.stored_at) + self.age
    }
}

/// One cache: its settings and its objects. Shared by every worker
/// (`Arc`), one lock taken per lookup or store.
#[derive(Debug)]
pub struct Cache {
    pub def: CacheDef,
    pub name: Arc<str>, // `def.name`, shared with the answers it gives (`res.cache_name`)
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_key: HashMap<Primary, Vec<u64>>, // primary → entry ids (Vary variants)
    entries: HashMap<u64, (Arc<Entry>, u64)>, // id → entry, its last-use tick
    lru: BTreeMap<u64, u64>,            // tick → id, oldest first
    used: usize,                        // bytes charged
    next_id: u64,
    tick: u64,
}

impl Inner {
    fn remove(&mut self, id: u64) {
        if let Some((e, tick)) = self.entries.remove(&id) {
            self.lru.remove(&tick);
            self.used -= e.size();
            if let Some(ids) = self.by_key.get_mut(&e.primary) {
                ids.retain(|i| *i != id);
                if ids.is_empty() {
                    self.by_key.remove(&e.primary);
                }
            }
        }
    }

    fn touch(&mut self, id: u64) {
        self.tick += 1;
        let tick = self.tick;
        if let Some((_, t)) = self.entries.get_mut(&id) {
            self.lru.remove(t);
            *t = tick;
            self.lru.insert(tick, id);
        }
    }
}

impl Cache {
    pub fn new(def: CacheDef) -> Cache {
        Cache { name: Arc::from(def.name.as_str()), def, inner: Mutex::new(Inner::default()) }
    }

    /// The largest object stored (`max-object-size`, else a 256th of the cache).
    pub fn max_object_size(&self) -> usize {
        self.def.max_object_size.unwrap_or(self.def.total_max_size / 256) as usize
    }

    /// A fresh entry for `primary` whose variant matches: `secondary`
    /// computes the request's secondary key for the Vary of a stored
    /// variant (its `head`). Expired entries met on the way are dropped.
    pub fn lookup(
        &self,
        primary: &Primary,
        now: u64,
        secondary: impl Fn(&Entry) -> Vec<u8>,
    ) -> Option<Arc<Entry>> {
        let mut g = self.inner.lock().ok()?;
        let mut expired: smallvec::SmallVec<[u64; 4]> = smallvec::SmallVec::new();
        let mut found = None;
        for &id in g.by_key.get(primary)? {
            let Some((e, _)) = g.entries.get(&id) else { continue };
            if e.expire <= now {
                expired.push(id);
                continue;
            }
            if found.is_none() && *e.secondary == *secondary(e) {
                found = Some((id, Arc::clone(e)));
            }
        }
        for id in expired {
            g.remove(id);
        }
        let (id, e) = found?;
        g.touch(id);
        Some(e)
    }

    /// Stores `e`, replacing the variant with the same secondary key;
    /// evicts least recently used entries to stay within `total-max-size`,
    /// and the oldest variant beyond `max-secondary-entries`.
    pub fn store(&self, e: Entry) -> bool {
        let size = e.size();
        if size > self.def.total_max_size as usize {
            return false;
        }
        let Ok(mut g) = self.inner.lock() else { return false };
        let same: Vec<u64> = g
            .by_key
            .get(&e.primary)
            .map(|ids| {
                ids.iter()
                    .copied()
                    .filter(|id| g.entries.get(id).is_some_and(|(x, _)| x.secondary == e.secondary))
                    .collect()
            })
            .unwrap_or_default();
        for id in same {
            g.remove(id);
        }
        let variants = g.by_key.get(&e.primary).map_or(0, Vec::len);
        if variants >= self.def.max_secondary_entries as usize
            && let Some(&oldest) = g.by_key.get(&e.primary).and_then(|v| v.first())
        {
            g.remove(oldest);
        }
        while g.used + size > self.def.total_max_size as usize {
            let Some((_, &id)) = g.lru.iter().next() else { break };
            g.remove(id);
        }
        g.next_id += 1;
        let id = g.next_id;
        g.used += size;
        g.by_key.entry(e.primary).or_default().push(id);
        g.entries.insert(id, (Arc::new(e), 0));
        g.touch(id);
        true
    }

    /// Drops every variant of `primary` (a successful unsafe request on it).
    pub fn invalidate(&self, primary: &Primary) {
        if let Ok(mut g) = self.inner.lock()
            && let Some(ids) = g.by_key.get(primary).cloned()
        {
            for id in ids {
                g.remove(id);
            }
        }
    }

    /// `show cache`: the cache line, then one line per entry.
    pub fn dump(&self, now: u64, out: &mut String) {
        use std::fmt::Write;
        let Ok(g) = self.inner.lock() else { return };
        let blocks_total = self.def.total_max_size / 1024;
        let used_blocks = g.used.div_ceil(1024);
        let _ = writeln!(
            out,
            "{:p}: {} (shctx:{:p}, available blocks:{})",
            self,
            self.def.name,
            &self.inner,
            blocks_total.saturating_sub(used_blocks as u64)
        );
        let mut ids: Vec<&u64> = g.entries.keys().collect();
        ids.sort();
        for id in ids {
            let (e, _) = &g.entries[id];
            if e.expire <= now {
                continue;
            }
            let hash = u32::from_le_bytes([e.primary[0], e.primary[1], e.primary[2], e.primary[3]]);
            let vary: [u8; 20] =
                if e.secondary.is_empty() { [0; 20] } else { sha1::Sha1::digest(&e.secondary).into() };
            let _ = write!(out, "{:p} hash:{hash} vary:0x", Arc::as_ptr(e));
            for b in vary {
                let _ = write!(out, "{b:02x}");
            }
            let _ = writeln!(
                out,
                " size:{} ({} blocks), refcount:{}, expire:{}",
                e.size(),
                e.size().div_ceil(1024),
                Arc::strong_count(e) - 1,
                e.expire - now
            );
        }
    }

    /// Bytes charged now (tests, `show cache`).
    pub fn used(&self) -> usize {
        self.inner.lock().map_or(0, |g| g.used)
    }
}

/// Every cache section, by name. Built at start-up, shared by the workers.
#[derive(Debug, Default)]
pub struct Caches {
    list: Vec<Arc<Cache>>,
}

impl Caches {
    pub fn new(defs: &[CacheDef]) -> Caches {
        Caches { list: defs.iter().cloned().map(|d| Arc::new(Cache::new(d))).collect() }
    }

    pub fn find(&self, name: &str) -> Option<&Arc<Cache>> {
        self.list.iter().find(|c| c.def.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Cache>> {
        self.list.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(total: u64) -> CacheDef {
        CacheDef {
            name: "c".into(),
            loc: Default::default(),
            total_max_size: total,
            max_object_size: None,
            max_age: 60,
            process_vary: false,
            max_secondary_entries: 2,
        }
    }

    fn entry(k: u8, body: usize, secondary: &[u8]) -> Entry {
        Entry {
            primary: [k; 20],
            secondary: secondary.into(),
            head: b"HTTP/1.1 200 OK\r\n\r\n"[..].into(),
            parsed: StoredHead {
                status: 200,
                reason: Span::default(),
                version: Version::Http11,
                framing: Framing::None,
                conn: ConnOpts::default(),
                headers: Box::new([]),
            },
            body: vec![0; body].into(),
            stored_at: 100,
            age: 0,
            expire: 200,
            etag: None,
            last_modified: 0,
        }
    }

    #[test]
    fn memory_stays_bounded_and_the_least_recently_used_goes_first() {
        let c = Cache::new(def(3000));
        assert!(c.store(entry(1, 1000, b"")));
        assert!(c.store(entry(2, 1000, b"")));
        assert!(c.lookup(&[1; 20], 150, |_| Vec::new()).is_some()); // 1 is now the most recent
        assert!(c.store(entry(3, 1000, b"")));
        assert!(c.used() <= 3000);
        assert!(c.lookup(&[2; 20], 150, |_| Vec::new()).is_none(), "2 was the least recently used");
        assert!(c.lookup(&[1; 20], 150, |_| Vec::new()).is_some());
        assert!(c.lookup(&[3; 20], 150, |_| Vec::new()).is_some());
        assert!(!c.store(entry(4, 5000, b"")), "larger than the cache");
        assert!(c.lookup(&[1; 20], 250, |_| Vec::new()).is_none(), "expired");
    }

    #[test]
    fn variants_by_secondary_key() {
        let c = Cache::new(def(100_000));
        c.store(entry(1, 10, b"gzip"));
        c.store(entry(1, 10, b"br"));
        assert!(c.lookup(&[1; 20], 150, |_| b"br".to_vec()).is_some());
        assert!(c.lookup(&[1; 20], 150, |_| b"zstd".to_vec()).is_none());
        c.store(entry(1, 10, b"zstd")); // the third variant pushes out the oldest
        assert!(c.lookup(&[1; 20], 150, |_| b"gzip".to_vec()).is_none());
        c.invalidate(&[1; 20]);
        assert_eq!(c.used(), 0);
    }
}
