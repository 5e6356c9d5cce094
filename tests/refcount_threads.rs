//! Seeded simulation of one stick table tracked from four threads at once.
//!
//! With `nbthread N` the sessions that track an entry run on every thread:
//! the same entry's refcount (`use=`) and `conn_cur` are raised and lowered
//! by several threads at the same moment, while a purge and `show table`
//! run beside them. A lost update (two threads reading the same count,
//! each writing its own +1) would leave `use=` one short and the entry
//! would expire under a live tracker; a double decrement would wrap
//! `conn_cur`. This test runs the real `Table`/`Tracker` (the ones the
//! workers share) from four threads, each with its own seeded schedule:
//! track a key (some keys hot, shared by every thread), drop one of its
//! trackers, bump counters through a tracker, let time pass. Every
//! `ROUND` operations all threads meet at a barrier; while they stand
//! still, the checker compares every entry's `use=` and `conn_cur` with
//! the trackers the threads hold at that moment (exact), and `conn_cnt`
//! with the tracks made (exact). At the end, with every tracker dropped,
//! every entry shows `use=0 conn_cur=0`. Replay with `SEED=`.

use std::net::Ipv4Addr;
use std::sync::{Arc, Barrier, Mutex};

use strata::stick::{DataType, Key, KeyType, Registry, Store, Table, TableDef, Tracker};

const THREADS: usize = 4;
const ROUNDS: usize = 200;
const ROUND: usize = 500; // operations per thread between two checks
const KEYS: u8 = 12; // keys 0..3 are hot: every thread tracks them

/// splitmix64, one per thread.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn key(k: u8) -> Key<'static> {
    Key::Ip(Ipv4Addr::new(10, 0, 0, k + 1))
}

/// What one thread holds and did, read by the checker at the barrier.
#[derive(Default)]
struct Held {
    trackers: Vec<(u8, Tracker)>,
    tracked: [u64; KEYS as usize], // tracks made per key
}

fn table() -> Arc<Table> {
    let reg = Registry::new([Some(TableDef {
        name: "t".into(),
        key_type: KeyType::Ip,
        size: 64,
        expire: Some(600_000), // longer than the run: conn_cnt keeps every track
        nopurge: false,
        store: Store::parse("conn_cur,conn_cnt,http_req_cnt").expect("store"),
        peers: None,
        snapshot: None,
    })]);
    reg.get(0).expect("table").clone()
}

#[test]
fn one_entry_tracked_from_four_threads_stays_exact() {
    let seed = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos() as u64
    });
    eprintln!("SEED={seed}");
    let t = table();
    let held: Arc<Vec<Mutex<Held>>> = Arc::new((0..THREADS).map(|_| Mutex::new(Held::default())).collect());
    let barrier = Arc::new(Barrier::new(THREADS + 1));
    let workers: Vec<_> = (0..THREADS)
        .map(|n| {
            let (t, held, barrier) = (t.clone(), held.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut rng = Rng(seed ^ (n as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407));
                let mut now = 1_000_000u64;
                for _ in 0..ROUNDS {
                    for _ in 0..ROUND {
                        let mut h = held[n].lock().expect("held");
                        now += rng.below(3);
                        match rng.below(10) {
                            0..=4 => {
                                let k =
                                    if rng.below(2) == 0 { rng.below(4) } else { rng.below(u64::from(KEYS)) }
                                        as u8;
                                // The table has room for every key: a track never fails.
                                let tr = t.track(key(k), now).expect("track");
                                h.tracked[k as usize] += 1;
                                h.trackers.push((k, tr));
                            }
                            5..=7 if !h.trackers.is_empty() => {
                                let i = rng.below(h.trackers.len() as u64) as usize;
                                drop(h.trackers.swap_remove(i));
                            }
                            8 if !h.trackers.is_empty() => {
                                let i = rng.below(h.trackers.len() as u64) as usize;
                                h.trackers[i].1.inc_http_req(now);
                            }
                            _ => {
                                t.purge(now);
                            }
                        }
                    }
                    barrier.wait(); // stop: the checker looks
                    barrier.wait(); // go on
                }
                held[n].lock().expect("held").trackers.clear();
            })
        })
        .collect();
    for round in 0..ROUNDS {
        barrier.wait();
        let now = t.now();
        for k in 0..KEYS {
            let live: u32 = held
                .iter()
                .map(|h| h.lock().expect("held").trackers.iter().filter(|(x, _)| *x == k).count() as u32)
                .sum();
            let made: u64 = held.iter().map(|h| h.lock().expect("held").tracked[k as usize]).sum();
            let refs = t.trackers(key(k));
            if live > 0 {
                assert_eq!(
                    refs,
                    Some(live),
                    "round {round}, key {k}: use= against live trackers (SEED={seed})"
                );
                assert_eq!(
                    t.get(key(k), DataType::ConnCur, now),
                    Some(u64::from(live)),
                    "round {round} key {k} conn_cur"
                );
            }
            if let Some(cnt) = t.get(key(k), DataType::ConnCnt, now) {
                assert_eq!(
                    cnt, made,
                    "round {round}, key {k}: conn_cnt counts every track once (SEED={seed})"
                );
            }
        }
        barrier.wait();
    }
    for w in workers {
        w.join().expect("worker thread");
    }
    for k in 0..KEYS {
        if let Some(refs) = t.trackers(key(k)) {
            assert_eq!(refs, 0, "key {k}: use= after every tracker dropped");
            assert_eq!(t.get(key(k), DataType::ConnCur, t.now()), Some(0), "key {k}: conn_cur");
        }
    }
}
