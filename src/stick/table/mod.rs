//! One stick table: a map from keys to compact entries, an expiry queue, and
//! the accounting rules of design §2.
//!
//! # Storage
//!
//! The map is split in [`SHARDS`] shards, each behind its own `Mutex`; a key
//! goes to the shard chosen by bits of its hash. A shard stores its entries in
//! fixed-size chunks of 32-bit words that never move (so an entry's address
//! is stable and printed by `show table`, as HAProxy prints its pointer) and
//! indexes them with a `hashbrown::HashTable<u32>` of slot numbers. One entry
//! is `[refcount, queue stamp, expire lo, expire hi, key words.., data
//! words..]`; the data block holds only the stored types (see
//! `data::Layout`).
//!
//! # Expiry queue
//!
//! As in HAProxy, an entry is queued once at creation with its expiry date as
//! key; later refreshes only change the entry's date, and whoever walks the
//! queue (the purge or an eviction) re-queues an entry whose date moved
//! instead of removing it. The queue is one binary heap for the whole table
//! (eviction must find the table's oldest entries, not a shard's), behind its
//! own lock. Each queued item carries the stamp the entry was given when
//! queued; an item whose stamp no longer matches (the entry was deleted, the
//! slot maybe reused) is stale and dropped when met.
//!
//! Lock order: queue, then one shard at a time. Code holding a shard lock
//! never takes the queue lock.
//!
//! # Time
//!
//! Every operation takes `now` (ms, caller's clock) and the table remembers
//! the latest it was given ([`Table::set_now`]); a [`Tracker`] released by
//! `Drop` uses that remembered time. The runtime calls `set_now` once per
//! loop turn so releases are at most one turn stale.
//!
//! # What refreshes an entry ("touch")
//!
//! Following HAProxy 2.6's source (`stktable_touch_local()` after each data
//! update): creation, the start of a tracker, every counter update (by
//! tracker or by key), `set table`, and a release when the table stores
//! `conn_cur`. Reads (`get`, `show table`) do not. A connection that stays
//! idle does not refresh its entry. (Golden S5 part A suggests 2.6.12 did not
//! refresh on an HTTP request there, while S1 shows refreshes around
//! requests; `exp=` is not asserted precisely by the golden README, and a
//! referenced entry never expires either way.)

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::BuildHasher;
use std::sync::{Arc, PoisonError};

use hashbrown::{DefaultHashBuilder, HashTable};
use smallvec::SmallVec;

use super::data::{DataType, Layout, Store, Width};
use super::key::{Key, KeyBytes, KeyType, StoredKey, fmt_key};
use super::rate::FreqCtr;
use super::tracker::Tracker;
use locks::{AtomicU32, AtomicU64, Mutex, MutexGuard, Ordering};

mod entry;
mod expiry;
mod locks;
#[cfg(test)]
mod model;
mod raw;
mod sync;
#[cfg(test)]
pub(crate) mod tests;

pub use entry::EntryMut;
pub use raw::Raw;
pub use sync::ScanCursor;

/// A table as declared by `stick-table` (built by the config layer).
#[derive(Clone, Debug)]
pub struct TableDef {
    pub name: String,                   // the section's name
    pub key_type: KeyType,              // `type ... [len n]`
    pub size: u32,                      // maximum number of entries
    pub expire: Option<u32>,            // `expire` in ms; None: entries never expire
    pub nopurge: bool,                  // full table refuses new keys instead of evicting
    pub store: Store,                   // stored data types
    pub peers: Option<String>, // `peers NAME`: the table keeps a log of its local updates for that section
    pub snapshot: Option<SnapshotSpec>, // strata's `snapshot` extension
}

/// strata's `snapshot <file> [every <time>]` on a `stick-table` line: the
/// table is written to `path` every `every_ms` and at stop, and read back
/// at start (the runtime does it; the table only holds the settings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotSpec {
    pub path: std::path::PathBuf,
    pub every_ms: u32,
}

/// Number of shards of a table's map.
pub const SHARDS: usize = 16;
const SHARD_SHIFT: u32 = 28; // entry id = shard << 28 | slot
const SLOT_MASK: u32 = (1 << SHARD_SHIFT) - 1;
const CHUNK_SLOTS_MAX: usize = 256;

// entry header words
const W_REF: usize = 0; // reference count: live trackers + transient users
const W_STAMP: usize = 1; // stamp of the entry's queue item; 0 = free slot
const W_EXP_LO: usize = 2; // expiry date (ms), low half
const W_EXP_HI: usize = 3; // expiry date (ms), high half
const HDR: usize = 4;

type KeyWords = SmallVec<[u32; 8]>;

/// Identifies a live entry: its shard and slot. Only valid while the entry
/// is referenced (a [`Tracker`] holds one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EntryId(u32);

impl EntryId {
    fn new(shard: usize, slot: u32) -> EntryId {
        EntryId((shard as u32) << SHARD_SHIFT | slot)
    }
    fn shard(self) -> usize {
        (self.0 >> SHARD_SHIFT) as usize
    }
    fn slot(self) -> u32 {
        self.0 & SLOT_MASK
    }
}

/// An event counted on an entry (by a tracker or by key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Update {
    HttpReq,           // http_req_cnt, http_req_rate +1
    HttpErr,           // http_err_cnt, http_err_rate +1
    HttpFail,          // http_fail_cnt, http_fail_rate +1
    BytesIn(u64),      // bytes_in_cnt, bytes_in_rate +n
    BytesOut(u64),     // bytes_out_cnt, bytes_out_rate +n
    Sess,              // sess_cnt, sess_rate +1 (session accepted)
    IncGpc0,           // gpc0, gpc0_rate +1
    ClrGpc0,           // gpc0 := 0
    IncGpc1,           // gpc1, gpc1_rate +1
    ClrGpc1,           // gpc1 := 0
    SetGpt0(u32),      // gpt0 := v
    SetServerId(i32),  // server_id := v
    SetServerKey(u32), // server_key := v (an id of `stick::dict`)
}

impl Update {
    /// For a count: the counter, its rate and the increment. None for the
    /// updates that clear or set a value.
    pub(crate) fn counted(self) -> Option<(DataType, DataType, u64)> {
        use DataType as T;
        Some(match self {
            Update::HttpReq => (T::HttpReqCnt, T::HttpReqRate, 1),
            Update::HttpErr => (T::HttpErrCnt, T::HttpErrRate, 1),
            Update::HttpFail => (T::HttpFailCnt, T::HttpFailRate, 1),
            Update::BytesIn(n) => (T::BytesInCnt, T::BytesInRate, n),
            Update::BytesOut(n) => (T::BytesOutCnt, T::BytesOutRate, n),
            Update::Sess => (T::SessCnt, T::SessRate, 1),
            Update::IncGpc0 => (T::Gpc0, T::Gpc0Rate, 1),
            Update::IncGpc1 => (T::Gpc1, T::Gpc1Rate, 1),
            Update::ClrGpc0
            | Update::ClrGpc1
            | Update::SetGpt0(_)
            | Update::SetServerId(_)
            | Update::SetServerKey(_) => return None,
        })
    }
}

/// The entry's reference count is not zero (`clear table ... key`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InUse;

struct Shard {
    idx: usize,              // this shard's number
    index: HashTable<u32>,   // slot numbers, hashed by key
    chunks: Vec<Box<[u32]>>, // slot storage, `chunk_slots` slots each, never moved
    next: u32,               // slots handed out so far
    free: Vec<u32>,          // slots freed for reuse
}

/// A queued expiry: ordered by date, then by queueing order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct QItem {
    exp: u64,   // the entry's expiry date when queued
    stamp: u32, // must equal the entry's W_STAMP, else the item is stale
    id: u32,    // EntryId
}

/// A stick table. `Send + Sync`; shared as `Arc<Table>` by every user.
pub struct Table {
    name: String,
    key_type: KeyType,
    size: u32,
    expire: Option<u32>,
    nopurge: bool,
    store: Store,
    layout: Layout,     // offsets of stored types in the data block
    key_words: usize,   // words of a stored key
    stride: usize,      // words of one entry
    chunk_slots: usize, // entries per storage chunk
    hasher: DefaultHashBuilder,
    used: AtomicU32,   // entries present (the `used:` of `show table`)
    stamps: AtomicU32, // next queue stamp
    now: AtomicU64,    // latest `now` given by a caller
    shards: Box<[Mutex<Shard>]>,
    queue: Mutex<BinaryHeap<Reverse<QItem>>>,
    sync: Option<sync::UpdateLog>, // tables shared with peers: their local updates in order
}

impl std::fmt::Debug for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Table")
            .field("name", &self.name)
            .field("type", &self.key_type)
            .field("size", &self.size)
            .field("used", &self.used())
            .finish_non_exhaustive()
    }
}

// Out of line so that `tests/benches/threads/callgrind.sh` counts each lock taken.
#[inline(never)]
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // a panic while holding a table lock leaves the counters as they were
    // at that point; keep serving rather than cascading the panic
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn slot_words(chunks: &[Box<[u32]>], chunk_slots: usize, stride: usize, slot: u32) -> &[u32] {
    let s = slot as usize;
    let start = (s % chunk_slots) * stride;
    &chunks[s / chunk_slots][start..start + stride]
}

fn slot_words_mut(chunks: &mut [Box<[u32]>], chunk_slots: usize, stride: usize, slot: u32) -> &mut [u32] {
    let s = slot as usize;
    let start = (s % chunk_slots) * stride;
    &mut chunks[s / chunk_slots][start..start + stride]
}

impl Table {
    pub fn new(def: TableDef) -> Arc<Table> {
        let layout = Layout::new(&def.store);
        let key_words = def.key_type.key_size().div_ceil(4);
        let per_shard = (def.size as usize).div_ceil(SHARDS).next_power_of_two();
        let data_end = HDR + key_words + layout.words();
        let sync = def.peers.is_some().then(|| sync::UpdateLog::new(data_end));
        Arc::new(Table {
            name: def.name,
            key_type: def.key_type,
            size: def.size,
            expire: def.expire,
            nopurge: def.nopurge,
            stride: data_end + if sync.is_some() { sync::SEQ_WORDS } else { 0 },
            layout,
            store: def.store,
            key_words,
            chunk_slots: per_shard.clamp(4, CHUNK_SLOTS_MAX),
            hasher: DefaultHashBuilder::default(),
            used: AtomicU32::new(0),
            stamps: AtomicU32::new(1),
            now: AtomicU64::new(0),
            shards: (0..SHARDS)
                .map(|idx| {
                    Mutex::new(Shard {
                        idx,
                        index: HashTable::new(),
                        chunks: Vec::new(),
                        next: 0,
                        free: Vec::new(),
                    })
                })
                .collect(),
            queue: Mutex::new(BinaryHeap::new()),
            sync,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }
    pub fn size(&self) -> u32 {
        self.size
    }
    pub fn expire(&self) -> Option<u32> {
        self.expire
    }
    pub fn nopurge(&self) -> bool {
        self.nopurge
    }
    pub fn store(&self) -> &Store {
        &self.store
    }
    /// Whether `ty` is stored (a fetch on a type not stored does not match).
    pub fn stores(&self, ty: DataType) -> bool {
        self.layout.off(ty).is_some()
    }

    /// Whether `upd` would change anything stored here: a count whose
    /// counter and rate are both absent changes nothing and, as in HAProxy,
    /// does not refresh the entry either.
    pub fn counts(&self, upd: Update) -> bool {
        upd.counted().is_none_or(|(cnt, rate, _)| self.stores(cnt) || self.stores(rate))
    }

    /// Entries present.
    pub fn used(&self) -> u32 {
        self.used.load(Ordering::Acquire)
    }

    /// Records the caller's time; the table's notion of now only moves
    /// forward. Releases by `Drop` use the latest value.
    pub fn set_now(&self, now: u64) {
        self.now.fetch_max(now, Ordering::AcqRel);
    }

    /// The latest time a caller gave.
    pub fn now(&self) -> u64 {
        self.now.load(Ordering::Acquire)
    }

    // ----- tracking ---------------------------------------------------

    /// Starts tracking `key`: finds or creates its entry (evicting as in
    /// HAProxy if the table is full), takes a reference, and counts
    /// `conn_cnt`, `conn_cur`, `conn_rate` where stored; refreshes the
    /// entry's expiry. `None` when the key cannot be a key of this table or
    /// the table refused it (full with `nopurge`, or nothing evictable): the
    /// caller goes on untracked.
    pub fn track(self: &Arc<Self>, key: Key<'_>, now: u64) -> Option<Tracker> {
        self.set_now(now);
        let sk = self.key_type.normalize(key)?;
        let kw = self.words_of(sk.bytes());
        let (id, ()) = self.with_key(&kw, now, true, |e| e.start_tracking(now))?;
        Some(Tracker::new(Arc::clone(self), id))
    }

    /// Releases one reference (called only by `Tracker::drop`): `conn_cur`
    /// -1 if stored and above 0, and then the expiry is refreshed (HAProxy
    /// touches the entry when it stores `conn_cur`); the reference is
    /// dropped; an unreferenced entry past its expiry is deleted at once.
    pub(crate) fn release(&self, id: EntryId) {
        let now = self.now();
        let mut guard = lock(&self.shards[id.shard()]);
        let sh = &mut *guard;
        let mut e = self.entry(sh, id.slot());
        if let Some(o) = self.layout.off(DataType::ConnCur) {
            let d = e.data_mut();
            if d[o] > 0 {
                d[o] -= 1;
            }
            e.touch(now);
        }
        let refs = match e.w[W_REF].checked_sub(1) {
            Some(r) => r,
            None => {
                // unreachable by construction: a Tracker holds a reference
                log::error!(target: "stick", "table {}: release of an unreferenced entry", self.name);
                0
            }
        };
        e.w[W_REF] = refs;
        if refs == 0 && self.expire.is_some() && now >= e.expire() {
            self.remove_slot(sh, id.slot());
        }
    }

    /// Runs `f` on a referenced entry under its shard lock.
    pub(crate) fn with_id<R>(&self, id: EntryId, f: impl FnOnce(&mut EntryMut<'_>) -> R) -> R {
        let mut guard = lock(&self.shards[id.shard()]);
        let mut e = self.entry(&mut guard, id.slot());
        f(&mut e)
    }

    // ----- by key -----------------------------------------------------

    /// Reads `ty` of `key`'s entry without creating it or refreshing it.
    /// `None` if the entry is absent or `ty` not stored (`src_*` fetches
    /// turn an absent entry into 0 themselves).
    pub fn get(&self, key: Key<'_>, ty: DataType, now: u64) -> Option<u64> {
        self.set_now(now);
        let kw = self.words_of(self.key_type.normalize(key)?.bytes());
        self.with_key(&kw, now, false, |e| e.get(ty, now)).and_then(|(_, v)| v)
    }

    /// The `server_key` of `key`'s entry (an id of `stick::dict`), if the
    /// table stores one and it is set; read like [`Table::get`].
    pub fn get_server_key(&self, key: Key<'_>, now: u64) -> Option<u32> {
        self.set_now(now);
        let kw = self.words_of(self.key_type.normalize(key)?.bytes());
        match self.with_key(&kw, now, false, |e| e.raw(DataType::ServerKey)) {
            Some((_, Some(Raw::Dict(id)))) if id != 0 => Some(id),
            _ => None,
        }
    }

    /// The number of references of `key`'s entry (`use=`), if present.
    pub fn trackers(&self, key: Key<'_>) -> Option<u32> {
        let kw = self.words_of(self.key_type.normalize(key)?.bytes());
        self.with_key(&kw, 0, false, |e| e.refs()).map(|(_, r)| r)
    }

    /// Counts `upd` on `key`'s entry, creating it if needed (as
    /// `src_inc_gpc0` does), and refreshes its expiry. Returns what
    /// [`EntryMut::apply`] returns; `None` also when the key was refused.
    pub fn update(&self, key: Key<'_>, upd: Update, now: u64) -> Option<u64> {
        self.set_now(now);
        let kw = self.words_of(self.key_type.normalize(key)?.bytes());
        self.with_key(&kw, now, true, |e| e.apply(upd, now)).and_then(|(_, v)| v)
    }

    /// Finds or creates the entry of a stored key and runs `f` on it, then
    /// refreshes it (`set table`). `None` if the table refused the key.
    pub(crate) fn upsert<R>(
        &self,
        key: &StoredKey,
        now: u64,
        f: impl FnOnce(&mut EntryMut<'_>) -> R,
    ) -> Option<R> {
        self.set_now(now);
        let kw = self.words_of(key.bytes());
        self.with_key(&kw, now, true, |e| {
            let r = f(e);
            e.touch(now);
            r
        })
        .map(|(_, r)| r)
    }

    /// Runs `f` on the entry of a stored key if present, without refreshing.
    pub(crate) fn inspect<R>(&self, key: &StoredKey, f: impl FnOnce(&mut EntryMut<'_>) -> R) -> Option<R> {
        let kw = self.words_of(key.bytes());
        self.with_key(&kw, 0, false, f).map(|(_, r)| r)
    }

    /// Deletes `key`'s entry unless it is referenced. `Ok(false)`: absent.
    pub fn remove(&self, key: &StoredKey) -> Result<bool, InUse> {
        let kw = self.words_of(key.bytes());
        let hash = self.hash_words(&kw);
        let si = self.shard_of(hash);
        let mut guard = lock(&self.shards[si]);
        let sh = &mut *guard;
        let Some(slot) = self.find_slot(sh, hash, &kw) else { return Ok(false) };
        if self.entry(sh, slot).refs() > 0 {
            return Err(InUse);
        }
        self.remove_slot(sh, slot);
        Ok(true)
    }

    /// Deletes every unreferenced entry for which `pred` holds; returns how
    /// many. Referenced entries are kept whatever `pred` says.
    pub(crate) fn remove_unreferenced(&self, mut pred: impl FnMut(&EntryMut<'_>) -> bool) -> usize {
        let mut n = 0;
        for shard in self.shards.iter() {
            let mut guard = lock(shard);
            let sh = &mut *guard;
            let slots: Vec<u32> = sh.index.iter().copied().collect();
            for slot in slots {
                let e = self.entry(sh, slot);
                if e.refs() == 0 && pred(&e) {
                    self.remove_slot(sh, slot);
                    n += 1;
                }
            }
        }
        n
    }

    /// Calls `f` for every entry, shard by shard (in no particular order),
    /// each under its shard lock.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&EntryMut<'_>)) {
        for shard in self.shards.iter() {
            let mut guard = lock(shard);
            let sh = &mut *guard;
            let slots: Vec<u32> = sh.index.iter().copied().collect();
            for slot in slots {
                f(&self.entry(sh, slot));
            }
        }
    }

    // ----- internals --------------------------------------------------

    fn words_of(&self, bytes: &[u8]) -> KeyWords {
        let mut w = KeyWords::new();
        for c in bytes.chunks(4) {
            let mut b = [0u8; 4];
            b[..c.len()].copy_from_slice(c);
            w.push(u32::from_ne_bytes(b));
        }
        w.resize(self.key_words, 0);
        w
    }

    fn hash_words(&self, kw: &[u32]) -> u64 {
        self.hasher.hash_one(kw)
    }

    /// Bits 40..44 of the hash: hashbrown uses the low bits for the bucket
    /// and the top 7 for its control byte, keep both independent of the shard.
    fn shard_of(&self, hash: u64) -> usize {
        ((hash >> 40) as usize) % SHARDS
    }

    fn next_stamp(&self) -> u32 {
        loop {
            let s = self.stamps.fetch_add(1, Ordering::Relaxed);
            if s != 0 {
                return s;
            }
        }
    }

    fn reserve(&self) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| (u < self.size).then_some(u + 1))
            .is_ok()
    }

    fn entry<'a>(&'a self, sh: &'a mut Shard, slot: u32) -> EntryMut<'a> {
        let id = EntryId::new(sh.idx, slot);
        EntryMut { t: self, w: slot_words_mut(&mut sh.chunks, self.chunk_slots, self.stride, slot), id }
    }

    /// The expiry date of an entry created or refreshed at `now`.
    fn fresh_exp(&self, now: u64) -> u64 {
        now + u64::from(self.expire.unwrap_or(0))
    }

    fn find_slot(&self, sh: &Shard, hash: u64, kw: &[u32]) -> Option<u32> {
        let (cs, st) = (self.chunk_slots, self.stride);
        sh.index.find(hash, |&s| slot_words(&sh.chunks, cs, st, s)[HDR..HDR + self.key_words] == *kw).copied()
    }

    fn is_current(&self, sh: &Shard, slot: u32, stamp: u32) -> bool {
        slot < sh.next && slot_words(&sh.chunks, self.chunk_slots, self.stride, slot)[W_STAMP] == stamp
    }

    /// Finds the entry of `kw`, creating it if `create` (reserving room,
    /// evicting once if the table is full and not `nopurge`; a new entry
    /// expires at `now + expire`), and runs `f` on it under the shard lock.
    fn with_key<R>(
        &self,
        kw: &[u32],
        now: u64,
        create: bool,
        f: impl FnOnce(&mut EntryMut<'_>) -> R,
    ) -> Option<(EntryId, R)> {
        self.with_key_exp(kw, self.fresh_exp(now), create, f)
    }

    /// [`with_key`](Self::with_key) with the expiry date of a new entry given.
    fn with_key_exp<R>(
        &self,
        kw: &[u32],
        new_exp: u64,
        create: bool,
        f: impl FnOnce(&mut EntryMut<'_>) -> R,
    ) -> Option<(EntryId, R)> {
        let hash = self.hash_words(kw);
        let si = self.shard_of(hash);
        let mut f = Some(f);
        for attempt in 0..2 {
            let mut guard = lock(&self.shards[si]);
            let sh = &mut *guard;
            if let Some(slot) = self.find_slot(sh, hash, kw) {
                let r = (f.take()?)(&mut self.entry(sh, slot));
                return Some((EntryId::new(si, slot), r));
            }
            if !create {
                return None;
            }
            if self.reserve() {
                let (slot, item) = self.insert_slot(sh, hash, kw, new_exp);
                let id = EntryId::new(si, slot);
                let r = (f.take()?)(&mut self.entry(sh, slot));
                drop(guard);
                let mut q = lock(&self.queue);
                q.push(Reverse(QItem { id: id.0, ..item }));
                if q.len() > 2 * self.used() as usize + 1024 {
                    self.compact_queue(&mut q);
                }
                return Some((id, r));
            }
            drop(guard);
            if attempt > 0 || self.nopurge || self.evict() == 0 {
                return None;
            }
        }
        None
    }

    /// Stores a new entry (room already reserved): zeroed data, no
    /// reference, expiry date `exp`. Returns its slot and queue item.
    fn insert_slot(&self, sh: &mut Shard, hash: u64, kw: &[u32], exp: u64) -> (u32, QItem) {
        let (cs, st) = (self.chunk_slots, self.stride);
        let slot = match sh.free.pop() {
            Some(s) => s,
            None => {
                let s = sh.next;
                sh.next += 1;
                if s as usize / cs >= sh.chunks.len() {
                    sh.chunks.push(vec![0u32; cs * st].into_boxed_slice());
                }
                s
            }
        };
        let stamp = self.next_stamp();
        let w = slot_words_mut(&mut sh.chunks, cs, st, slot);
        w.fill(0);
        w[W_STAMP] = stamp;
        w[W_EXP_LO] = exp as u32;
        w[W_EXP_HI] = (exp >> 32) as u32;
        w[HDR..HDR + self.key_words].copy_from_slice(kw);
        let Shard { index, chunks, .. } = sh;
        index.insert_unique(hash, slot, |&s| {
            self.hash_words(&slot_words(chunks, cs, st, s)[HDR..HDR + self.key_words])
        });
        (slot, QItem { exp, stamp, id: 0 })
    }

    /// Deletes the entry in `slot`: out of the index, slot freed (its queue
    /// item becomes stale), one less entry used.
    fn remove_slot(&self, sh: &mut Shard, slot: u32) {
        let (cs, st) = (self.chunk_slots, self.stride);
        let w = slot_words_mut(&mut sh.chunks, cs, st, slot);
        let hash = self.hash_words(&w[HDR..HDR + self.key_words]);
        if let Some(log) = &self.sync {
            log.forget(w);
        }
        w.fill(0);
        if let Ok(found) = sh.index.find_entry(hash, |&s| s == slot) {
            found.remove();
        }
        sh.free.push(slot);
        self.used.fetch_sub(1, Ordering::AcqRel);
    }
}
