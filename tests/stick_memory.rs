//! Memory budget of a stick table, measured by a counting global allocator
//! (it cannot lie: every byte the table holds went through it).
//!
//! Budget (design goal): at most 104 bytes per entry, everything included
//! (map slot, key, refcount, expiry, queue item, data) for an `ip` table
//! storing `conn_cur,conn_cnt,http_req_rate(10s)`, with 100k entries.

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicIsize, Ordering};

use strata::stick::{DataType, Key, KeyType, Store, Table, TableDef};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only
// counts the sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const ENTRIES: u32 = 100_000;
const BUDGET: f64 = 104.0;

/// Bytes held per entry by a table of `ENTRIES` ip keys, each created by a
/// tracker (then released) and counted once as an HTTP request.
fn bytes_per_entry() -> f64 {
    let before = LIVE.load(Ordering::SeqCst);
    let table = Table::new(TableDef {
        name: "mem".into(),
        key_type: KeyType::Ip,
        size: 102_400, // `size 100k`
        expire: Some(60_000),
        nopurge: false,
        store: Store::parse("conn_cur,conn_cnt,http_req_rate(10s)").expect("store"),
        peers: None,
        snapshot: None,
    });
    for i in 0..ENTRIES {
        let key = Key::Ip(Ipv4Addr::from(0x0a00_0000 + i));
        let tracker = table.track(key, 1_000).expect("room for every key");
        tracker.inc_http_req(1_000);
    }
    assert_eq!(table.used(), ENTRIES);
    let after = LIVE.load(Ordering::SeqCst);
    let held = (after - before) as f64;
    assert_eq!(table.get(Key::Ip(Ipv4Addr::new(10, 0, 0, 7)), DataType::ConnCnt, 1_000), Some(1));
    drop(table);
    held / f64::from(ENTRIES)
}

#[test]
fn stick_table_fits_the_memory_budget() {
    let per_entry = bytes_per_entry();
    println!(
        "stick table: {per_entry:.1} bytes per entry ({ENTRIES} ip entries, conn_cur,conn_cnt,http_req_rate)"
    );
    assert!(per_entry <= BUDGET, "{per_entry:.1} bytes per entry, budget {BUDGET}");
}
