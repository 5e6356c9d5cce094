//! `debug counters check`: compares what a table's entries say about their
//! users (`use=`, `conn_cur`) with the trackers that are actually alive.

use super::data::DataType;
use super::key::StoredKey;
use super::table::Table;
use hashbrown::HashMap;

/// One entry that disagrees with the live trackers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub key: StoredKey,
    pub refs: u32,             // `use=` as stored
    pub conn_cur: Option<u64>, // as stored, if the table stores it
    pub live: u32,             // live trackers found on the entry
}

/// Checks every entry of `t` against `live` (key → live trackers on it).
/// Returns the number of entries checked and the mismatches: an entry
/// whose reference count differs from its live trackers, or whose
/// `conn_cur` (when stored) differs from them. A key in `live` that has no
/// entry is a mismatch too (refs 0).
pub fn check(t: &Table, live: &HashMap<StoredKey, u32>, now: u64) -> (usize, Vec<Mismatch>) {
    let mut seen = 0;
    let mut bad = Vec::new();
    let mut found: HashMap<StoredKey, ()> = HashMap::new();
    t.for_each(|e| {
        seen += 1;
        let key = e.key();
        let n = live.get(&key).copied().unwrap_or(0);
        let conn_cur = e.get(DataType::ConnCur, now);
        if e.refs() != n || conn_cur.is_some_and(|c| c != u64::from(n)) {
            bad.push(Mismatch { key: key.clone(), refs: e.refs(), conn_cur, live: n });
        }
        found.insert(key, ());
    });
    for (key, n) in live {
        if !found.contains_key(key) {
            bad.push(Mismatch { key: key.clone(), refs: 0, conn_cur: None, live: *n });
        }
    }
    bad.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    (seen, bad)
}
