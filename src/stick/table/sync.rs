//! What a table shared with peers adds: the ordered log of its local
//! updates (HAProxy's update tree), the walks the peers protocol and
//! snapshots make over a table, and the application of values learned from
//! elsewhere.
//!
//! # Update log
//!
//! Every local update (a touch: see the module doc of `table`) gives the
//! entry a new update number from the table's counter (`local`, HAProxy's
//! `localupdate`) and files it in a map ordered by that number, unless the
//! entry is already waiting there to be pushed: an entry changed ten times
//! before the next push is sent once, with its latest values. An entry
//! counts as waiting while its number is above `commit` (HAProxy's
//! `commitupdate`), the highest number any walker has pushed. Each entry
//! is in the map at most once, so the map is bounded by the table's size.
//!
//! Numbers are 64-bit and never wrap here; the protocol carries their low
//! 32 bits.
//!
//! Lock order: shard, then log. The log lock is never held while a shard
//! lock is taken: a walk copies a batch of numbers out of the log first.

use std::collections::BTreeMap;

use super::*;

/// Words an entry of a shared table spends on its update number.
pub(super) const SEQ_WORDS: usize = 2;

/// The local updates of a shared table, in order.
pub(super) struct UpdateLog {
    map: Mutex<BTreeMap<u64, u32>>, // update number -> EntryId
    local: AtomicU64,               // last number handed out (HAProxy's localupdate)
    commit: AtomicU64,              // highest number pushed by a walker (commitupdate)
    seq_off: usize,                 // word offset of the entry's number
}

impl UpdateLog {
    pub(super) fn new(seq_off: usize) -> UpdateLog {
        UpdateLog {
            map: Mutex::new(BTreeMap::new()),
            local: AtomicU64::new(0),
            commit: AtomicU64::new(0),
            seq_off,
        }
    }

    fn seq(&self, w: &[u32]) -> u64 {
        u64::from(w[self.seq_off]) | u64::from(w[self.seq_off + 1]) << 32
    }

    /// A local update of entry `e` (its shard lock is held).
    pub(super) fn note_local(&self, e: &mut EntryMut<'_>) {
        let old = self.seq(e.w);
        if old != 0 && old > self.commit.load(Ordering::Acquire) {
            return; // already waiting to be pushed, with whatever it holds then
        }
        let mut map = lock(&self.map);
        if old != 0 {
            map.remove(&old);
        }
        // numbered under the log lock, so the map only ever grows at its end
        let seq = self.local.fetch_add(1, Ordering::AcqRel) + 1;
        map.insert(seq, e.id.0);
        e.w[self.seq_off] = seq as u32;
        e.w[self.seq_off + 1] = (seq >> 32) as u32;
    }

    /// Entry words `w` are being deleted (shard lock held).
    pub(super) fn forget(&self, w: &[u32]) {
        let seq = self.seq(w);
        if seq != 0 {
            lock(&self.map).remove(&seq);
        }
    }
}

/// Where a [`Table::scan`] goes on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanCursor {
    shard: usize,
    slot: u32,
}

impl ScanCursor {
    /// Whether the scan has visited the whole table.
    pub fn done(&self) -> bool {
        self.shard >= SHARDS
    }
}

impl Table {
    /// Whether the table is shared with peers (keeps an update log).
    pub fn is_shared(&self) -> bool {
        self.sync.is_some()
    }

    /// The number of the latest local update (HAProxy's `localupdate`);
    /// 0 for a table not shared or never updated.
    pub fn local_update(&self) -> u64 {
        self.sync.as_ref().map_or(0, |s| s.local.load(Ordering::Acquire))
    }

    /// The highest update number pushed to some peer (`commitupdate`).
    pub fn commit_update(&self) -> u64 {
        self.sync.as_ref().map_or(0, |s| s.commit.load(Ordering::Acquire))
    }

    /// Counts every update up to `upto` as pushed (`commitupdate`), as a
    /// full lesson that starts sends them all: an entry changed after that
    /// gets a new number, to be pushed again, instead of waiting at its old
    /// one behind the lesson.
    pub fn mark_pushed(&self, upto: u64) {
        if let Some(log) = &self.sync {
            log.commit.fetch_max(upto, Ordering::AcqRel);
        }
    }

    /// Calls `f` with up to `max` entries updated locally after update
    /// `after`, in update order, each under its shard lock, with its number.
    /// Marks each as pushed (`commit`). Returns the last number looked at
    /// (`after` when there was none); an entry deleted or updated again
    /// since it was filed is skipped, to be met at its new number.
    pub fn local_updates(&self, after: u64, max: usize, mut f: impl FnMut(u64, &EntryMut<'_>)) -> u64 {
        let Some(log) = &self.sync else { return after };
        let batch: Vec<(u64, u32)> = {
            let map = lock(&log.map);
            map.range(after + 1..).take(max).map(|(&s, &id)| (s, id)).collect()
        };
        let mut last = after;
        for (seq, id) in batch {
            last = seq;
            let id = EntryId(id);
            let mut guard = lock(&self.shards[id.shard()]);
            let sh = &mut *guard;
            if id.slot() >= sh.next {
                continue;
            }
            let e = self.entry(sh, id.slot());
            if e.w[W_STAMP] == 0 || log.seq(e.w) != seq {
                continue;
            }
            f(seq, &e);
            // under the shard lock: a touch after this sees the entry pushed
            log.commit.fetch_max(seq, Ordering::AcqRel);
        }
        last
    }

    /// Calls `f` with up to `max` entries from `cursor` on, shard by shard
    /// in slot order (each under its shard lock, one shard at a time), and
    /// advances the cursor. Returns the number visited; the scan is over
    /// when `cursor.done()`. Entries created during a scan may be missed.
    pub fn scan(&self, cursor: &mut ScanCursor, max: usize, mut f: impl FnMut(&EntryMut<'_>)) -> usize {
        let mut n = 0;
        while n < max && !cursor.done() {
            let mut guard = lock(&self.shards[cursor.shard]);
            let sh = &mut *guard;
            while n < max && cursor.slot < sh.next {
                let slot = cursor.slot;
                cursor.slot += 1;
                let e = self.entry(sh, slot);
                if e.w[W_STAMP] != 0 {
                    f(&e);
                    n += 1;
                }
            }
            if cursor.slot >= sh.next {
                cursor.shard += 1;
                cursor.slot = 0;
            }
        }
        n
    }

    /// Runs `f` on `key`'s entry if present, without refreshing it.
    pub fn peek<R>(&self, key: &StoredKey, f: impl FnOnce(&EntryMut<'_>) -> R) -> Option<R> {
        self.inspect(key, |e| f(e))
    }

    /// Applies values learned from a peer or a snapshot to `key`'s entry:
    /// finds or creates it (evicting if the table is full), runs `f` on it
    /// and makes it expire `expire_ms` from `now`. Not a local update: it
    /// is not pushed back to peers. `None` when the table refused the key.
    pub fn apply_remote<R>(
        &self,
        key: &StoredKey,
        expire_ms: u64,
        now: u64,
        f: impl FnOnce(&mut EntryMut<'_>) -> R,
    ) -> Option<R> {
        self.set_now(now);
        if key.key_type() != self.key_type {
            return None;
        }
        let kw = self.words_of(key.bytes());
        let exp = now + expire_ms;
        self.with_key_exp(&kw, exp, true, |e| {
            let r = f(e);
            e.set_expire(exp);
            r
        })
        .map(|(_, r)| r)
    }
}
