//! Model test of the table under concurrent track, release, purge, eviction
//! and removal (issue 22's tracker rule across threads).
//!
//! Three threads share one small table (room for 2 entries, 10 ms expiry,
//! shared with peers so the update log takes part; once storing `conn_cur`,
//! once not): two track and release
//! the same key at different dates, the third purges at a later date,
//! removes that key (`clear table ... key`) and tracks a third key, which
//! may evict. While a thread holds a tracker, its entry must exist and its
//! `conn_cur` must equal its `use=` (here every reference is a tracker).
//! Once all are released, no entry is referenced or counts a connection,
//! `used` matches the entries present, and a purge far in the future empties
//! the table (every entry is in the expiry queue).
//!
//! In a plain `cargo test` the body runs on OS threads a few hundred times
//! (a stress test). Built with `RUSTFLAGS="--cfg strata_shuttle"`, the
//! table's locks and atomics are shuttle's (`table/locks.rs`) and shuttle
//! schedules the threads: random schedules and PCT with depth 3 explore the
//! interleavings at every lock and atomic operation.

use super::tests::ip;
use super::*;

#[cfg(strata_shuttle)]
use shuttle::thread;
#[cfg(not(strata_shuttle))]
use std::thread;

fn shared_table(store: &str) -> Arc<Table> {
    Table::new(TableDef {
        name: "t".into(),
        key_type: KeyType::Ip,
        size: 2,
        expire: Some(10),
        nopurge: false,
        store: Store::parse(store).unwrap(),
        peers: Some("p".into()), // every touch files an update in the log
        snapshot: None,
    })
}

/// A held tracker's entry is present and counts as many connections as it
/// has references.
fn check_held(t: &Table, tr: &Tracker, now: u64) {
    let seen = t.inspect(&tr.key(), |e| (e.refs(), e.get(DataType::ConnCur, now)));
    let (refs, cur) = seen.expect("a tracked entry was deleted");
    assert!(refs >= 1, "a tracked entry has use={refs}");
    if t.stores(DataType::ConnCur) {
        assert_eq!(cur, Some(u64::from(refs)), "conn_cur differs from use= on a tracked entry");
    }
}

fn track_and_release(t: &Arc<Table>, key: Key<'static>, now: u64) {
    if let Some(tr) = t.track(key, now) {
        check_held(t, &tr, now);
        tr.update(Update::IncGpc0, now);
        check_held(t, &tr, now);
    }
}

/// Both kinds of table: with `conn_cur` a release refreshes the entry, so
/// only the purge, eviction and removal delete; without it a release past
/// the expiry date deletes the entry at once.
fn body() {
    run_on(shared_table("conn_cur,conn_cnt,gpc0"));
    run_on(shared_table("conn_cnt,gpc0"));
}

fn run_on(t: Arc<Table>) {
    let (t1, t2, t3) = (Arc::clone(&t), Arc::clone(&t), Arc::clone(&t));
    let a = thread::spawn(move || track_and_release(&t1, ip(1), 0));
    let b = thread::spawn(move || {
        track_and_release(&t2, ip(1), 5);
        track_and_release(&t2, ip(2), 5);
    });
    let c = thread::spawn(move || {
        t3.purge(100);
        let _ = t3.remove(&t3.key_type().normalize(ip(1)).unwrap());
        track_and_release(&t3, ip(3), 100);
    });
    for h in [a, b, c] {
        h.join().unwrap();
    }
    let mut present = 0;
    t.for_each(|e| {
        present += 1;
        assert_eq!(e.refs(), 0, "an entry still referenced after every release");
        assert!(matches!(e.get(DataType::ConnCur, 100), Some(0) | None), "conn_cur left above 0");
    });
    assert_eq!(t.used(), present, "used= differs from the entries present");
    t.purge(1_000_000);
    assert_eq!(t.used(), 0, "an unreferenced expired entry escaped the purge");
}

#[cfg(not(strata_shuttle))]
#[test]
fn concurrent_track_release_purge_evict_stay_exact() {
    for _ in 0..300 {
        body();
    }
}

#[cfg(strata_shuttle)]
#[test]
fn concurrent_track_release_purge_evict_stay_exact_random_schedules() {
    shuttle::check_random(body, 3000);
}

#[cfg(strata_shuttle)]
#[test]
fn concurrent_track_release_purge_evict_stay_exact_pct() {
    shuttle::check_pct(body, 3000, 3);
}
