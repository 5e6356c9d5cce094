//! Seeded simulation of stick-table reference counting across sessions and
//! streams.
//!
//! The bug it guards against: in HAProxy 1.6 the session/stream split made
//! every new stream copy its session's trackers. The copy also took a
//! reference (Aug 2015, commit 827752e), then the stream released the entry
//! when it ended and the session released it again when it ended: each
//! decremented `conn_cur` and the refcount, so `conn_cur` went negative
//! (wrapped) and `use=` drifted. The fix (a68f7629d) made the copy
//! reference-free and made the stream skip, at release, every slot its
//! session also holds; strata makes the double release unrepresentable
//! instead (`Tracker` is not `Clone`, a stream only sees its session's
//! trackers through `InheritedSlots<'_>`, see `docs/stick-tables.md`).
//!
//! Types prevent the copy; this test checks the counts that result. It
//! drives random schedules through the real library types: `Table` and
//! `Tracker` (through a `Registry`), the real `StreamSlots` / `ScSlot` /
//! `InheritedSlots` of a stream, and, for the session, the same
//! `[Option<Tracker>; 3]` array `l5_session::Session` owns (a real `Session`
//! needs a socket and a full configuration). The operations: accept a
//! connection, track at connection/session level (before the first stream;
//! a track on an occupied slot does nothing), establish the session (counts
//! `sess_cnt`), start streams (HTTP/1-like: one after another; HTTP/2-like:
//! several at once) which inherit the session's slots, stream-level tracks
//! (a no-op on an `Inherited` or `Own` slot), counter updates through the
//! slots, stream end, session abort at any phase (with its live streams,
//! which end first, as in `Session`), time passing with purges, `clear
//! table` by key and whole, `set table` and `src_inc_gpc0`-like updates by
//! key, on three small tables (one `nopurge`, one without `conn_cur`) so
//! tables fill up and evict.
//!
//! A shadow model keeps, per (table, key), whether the entry exists, its
//! live trackers (every one of them counted `conn_cur` where the table
//! stores it), the counters and the expiry date. After every step the real
//! tables must match it exactly: `use=` and `Table::trackers` equal the live
//! trackers, `conn_cur` equals them (so it never goes negative or wraps),
//! `conn_cnt`/`http_req_cnt`/`gpc0`/... and `exp=` are as predicted, purges
//! delete exactly the expired unreferenced entries, an eviction frees exactly
//! one unreferenced entry and never a referenced one, a full `nopurge` table
//! refuses new keys, and `clear table` refuses referenced entries. At the end,
//! with every session closed, every entry shows `conn_cur=0 use=0`.
//!
//! Replay a failure with `SEED=<n> cargo test --test refcount_simulation`
//! (the seed is printed first; the failure message also lists the last
//! operations).

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use strata::l4_conn::track::{SLOTS, TrackSlots};
use strata::l6_stream::slots::{InheritedSlots, StreamSlots};
use strata::stick::{DataType, Key, KeyType, Registry, Store, Table, TableDef, Tracker, Update, dump};

/// Seeds per `cargo test` run (each derived from the printed one).
const RUNS: u64 = 4;
/// Operations per run.
const STEPS: usize = 4_000;
/// Key values per table (more than any table's size: tables fill up).
const KEYS: usize = 6;
const MAX_SESSIONS: usize = 5;
const MAX_H2_STREAMS: usize = 4;

/// One simulated table.
struct Spec {
    name: &'static str,
    key_type: KeyType,
    size: u32,
    expire: Option<u32>,
    nopurge: bool,
    store: &'static str,
}

const SPECS: [Spec; 3] = [
    Spec {
        name: "t_ip",
        key_type: KeyType::Ip,
        size: 4,
        expire: Some(2_000),
        nopurge: false,
        store: "conn_cur,conn_cnt,sess_cnt,http_req_cnt,bytes_in_cnt,gpc0",
    },
    Spec {
        name: "t_int",
        key_type: KeyType::Integer,
        size: 3,
        expire: Some(1_500),
        nopurge: true,
        store: "conn_cur,conn_cnt,http_req_cnt,gpc0",
    },
    // no conn_cur: a release does not refresh the entry, so an expired one
    // goes at once when its last tracker does
    Spec {
        name: "t_str",
        key_type: KeyType::String { len: 8 },
        size: 3,
        expire: Some(1_000),
        nopurge: false,
        store: "conn_cnt,http_req_cnt,gpc0",
    },
];

/// Counters the model predicts (compared where the table stores them).
const COUNTED: [DataType; 5] =
    [DataType::ConnCnt, DataType::SessCnt, DataType::HttpReqCnt, DataType::BytesInCnt, DataType::Gpc0];
const C_CONN: usize = 0;
const C_SESS: usize = 1;
const C_REQ: usize = 2;
const C_BYTES: usize = 3;
const C_GPC0: usize = 4;

const STR_KEYS: [&[u8]; KEYS] = [b"k0", b"k1", b"k2", b"k3", b"k4", b"k5"];

/// Key number `k` of table `ti`.
fn key(ti: usize, k: usize) -> Key<'static> {
    match ti {
        0 => Key::Ip(Ipv4Addr::new(10, 0, 0, k as u8 + 1)),
        1 => Key::Integer(100 + k as u32),
        _ => Key::Str(STR_KEYS[k]),
    }
}

/// The same key as typed on the CLI.
fn key_text(ti: usize, k: usize) -> String {
    match ti {
        0 => format!("10.0.0.{}", k + 1),
        1 => format!("{}", 100 + k),
        _ => format!("k{k}"),
    }
}

/// splitmix64: small, seedable, good enough to pick operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// The model of one slot of a stream (what `ScSlot` should hold).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shadow {
    Empty,
    Inherited,
    Own(usize, usize), // (table, key) of the stream's own tracker
}

/// A stream: the real slots plus what the model says they hold.
struct SimStream {
    slots: StreamSlots,
    shadow: [Shadow; SLOTS],
}

/// A session as `l5_session::Session` holds its trackers: streams declared
/// first, so they drop first.
struct SimSession {
    streams: Vec<SimStream>,                 // live streams (one at most for HTTP/1)
    trackers: [Option<Tracker>; SLOTS],      // the session's own trackers
    shadow: [Option<(usize, usize)>; SLOTS], // (table, key) of each
    src: usize,                              // the client's key number
    h2: bool,                                // many concurrent streams
    established: bool,                       // session rules done: no more session tracks, streams may start
}

/// What the model knows of one (table, key) entry.
#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    exists: bool,
    live: u32,                      // live trackers; each counted conn_cur where stored
    counters: [u64; COUNTED.len()], // since the entry was created
    exp: u64,                       // expiry date (ms)
}

/// How often each interesting thing happened (the run must reach them).
#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    tracks: u64,
    noop_tracks: u64,
    refused: u64,
    evicted: u64,
    purged: u64,
    clear_in_use: u64,
    aborts_with_streams: u64,
    max_streams: usize,
}

impl Stats {
    fn add(&mut self, o: Stats) {
        self.tracks += o.tracks;
        self.noop_tracks += o.noop_tracks;
        self.refused += o.refused;
        self.evicted += o.evicted;
        self.purged += o.purged;
        self.clear_in_use += o.clear_in_use;
        self.aborts_with_streams += o.aborts_with_streams;
        self.max_streams = self.max_streams.max(o.max_streams);
    }
}

struct Sim {
    rng: Rng,
    now: u64,
    reg: Registry,
    model: Vec<[Entry; KEYS]>,
    sessions: Vec<SimSession>,
    log: VecDeque<String>, // the last operations, for failure messages
    stats: Stats,
}

type Check = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)*) => {
        if !$cond {
            return Err(format!($($fmt)*));
        }
    };
}

// After `ensure!`: macros are visible to modules declared below them.
#[path = "refcount_simulation/operations.rs"]
mod operations;

impl Sim {
    fn new(seed: u64) -> Sim {
        let reg = Registry::new(SPECS.iter().map(|s| {
            Some(TableDef {
                name: s.name.into(),
                key_type: s.key_type,
                size: s.size,
                expire: s.expire,
                nopurge: s.nopurge,
                store: Store::parse(s.store).expect("valid store list"),
                peers: None,
                snapshot: None,
            })
        }));
        Sim {
            rng: Rng(seed),
            now: 1_000_000,
            reg,
            model: vec![[Entry::default(); KEYS]; SPECS.len()],
            sessions: Vec::new(),
            log: VecDeque::new(),
            stats: Stats::default(),
        }
    }

    fn table(&self, ti: usize) -> &std::sync::Arc<Table> {
        self.reg.get(ti).expect("table")
    }

    fn note(&mut self, s: String) {
        if self.log.len() == 40 {
            self.log.pop_front();
        }
        self.log.push_back(s);
    }

    // ----- the model's rules --------------------------------------------

    /// The entry was refreshed (HAProxy's touch).
    fn touch(&mut self, ti: usize, k: usize) {
        self.model[ti][k].exp = self.now + u64::from(SPECS[ti].expire.unwrap_or(0));
    }

    /// Before an operation that finds or creates `(ti, k)`: whether the
    /// table is full.
    fn full(&self, ti: usize) -> bool {
        self.model[ti].iter().filter(|e| e.exists).count() as u32 == SPECS[ti].size
    }

    /// After an operation that finds or creates `(ti, k)` (`ok`: it got an
    /// entry): checks refusal and eviction against the rules, and creates
    /// the entry in the model.
    fn created(&mut self, ti: usize, k: usize, was_full: bool, ok: bool) -> Check {
        let name = SPECS[ti].name;
        if self.model[ti][k].exists {
            ensure!(ok, "{name}: existing key {} refused", key_text(ti, k));
            return Ok(());
        }
        if !ok {
            ensure!(was_full, "{name}: new key {} refused by a table that is not full", key_text(ti, k));
            self.stats.refused += 1;
            return Ok(());
        }
        ensure!(
            !(was_full && SPECS[ti].nopurge),
            "{name}: nopurge table full but accepted new key {}",
            key_text(ti, k)
        );
        // A full table frees exactly one unreferenced entry (size/256 + 1).
        let mut evicted = 0;
        for other in 0..KEYS {
            let e = self.model[ti][other];
            if e.exists && other != k && self.table(ti).trackers(key(ti, other)).is_none() {
                ensure!(
                    e.live == 0,
                    "{name}: referenced key {} (use={}) evicted",
                    key_text(ti, other),
                    e.live
                );
                self.model[ti][other] = Entry::default();
                evicted += 1;
            }
        }
        ensure!(
            evicted == usize::from(was_full),
            "{name}: {evicted} entries evicted to make room for {} (table full: {was_full})",
            key_text(ti, k)
        );
        self.stats.evicted += evicted as u64;
        self.model[ti][k] = Entry { exists: true, ..Entry::default() };
        self.touch(ti, k);
        Ok(())
    }

    /// A tracker on `(ti, k)` was dropped.
    fn released(&mut self, ti: usize, k: usize) -> Check {
        let name = SPECS[ti].name;
        let e = &mut self.model[ti][k];
        ensure!(e.exists && e.live > 0, "model: release of {name} {} without tracker", key_text(ti, k));
        e.live -= 1;
        if self.table(ti).stores(DataType::ConnCur) {
            self.touch(ti, k);
        }
        let e = &mut self.model[ti][k];
        if e.live == 0 && SPECS[ti].expire.is_some() && self.now >= e.exp {
            *e = Entry::default(); // expired and unreferenced: deleted at once
        }
        Ok(())
    }

    /// An update through a tracker or by key. As in HAProxy, a count
    /// refreshes the entry only when the table stores that counter (the
    /// specs store no rates); a tracker starting always does.
    fn counted(&mut self, ti: usize, k: usize, c: usize, n: u64) {
        self.model[ti][k].counters[c] += n;
        if c == C_CONN || SPECS[ti].store.split(',').any(|s| s == COUNTED[c].name()) {
            self.touch(ti, k);
        }
    }

    /// The model of a stream being dropped, then of its own trackers.
    fn stream_released(&mut self, shadow: [Shadow; SLOTS]) -> Check {
        for s in shadow {
            if let Shadow::Own(ti, k) = s {
                self.released(ti, k)?;
            }
        }
        Ok(())
    }

    // ----- the invariants -----------------------------------------------

    /// The real tables equal the model.
    fn check(&self) -> Check {
        let now = self.now;
        for (ti, spec) in SPECS.iter().enumerate() {
            let t = self.table(ti);
            let mut present = 0;
            for k in 0..KEYS {
                let m = self.model[ti][k];
                let kt = key_text(ti, k);
                let refs = t.trackers(key(ti, k));
                match (m.exists, refs) {
                    (false, None) => continue,
                    (false, Some(r)) => {
                        return Err(format!("{}: {kt} present (use={r}), expected gone", spec.name));
                    }
                    (true, None) => {
                        return Err(format!(
                            "{}: {kt} gone, expected present with {} trackers",
                            spec.name, m.live
                        ));
                    }
                    (true, Some(r)) => {
                        ensure!(r == m.live, "{}: {kt} use={r}, {} live trackers", spec.name, m.live);
                    }
                }
                present += 1;
                let cur = t.get(key(ti, k), DataType::ConnCur, now);
                let want = t.stores(DataType::ConnCur).then_some(u64::from(m.live));
                ensure!(
                    cur == want,
                    "{}: {kt} conn_cur={cur:?}, {} live trackers counted it",
                    spec.name,
                    m.live
                );
                // the rest from `show table T key K` (one lookup for all)
                let text = dump::show(t, &["key", &kt], now).map_err(|e| e.to_string())?;
                let fields: Vec<(&str, &str)> =
                    text.lines().nth(1).unwrap_or("").split(' ').filter_map(|w| w.split_once('=')).collect();
                let field = |name: &str| -> Option<u64> {
                    fields.iter().find(|(n, _)| *n == name).and_then(|(_, v)| v.parse().ok())
                };
                ensure!(
                    field("use") == Some(u64::from(m.live)),
                    "{}: show table says {text:?}, {} live",
                    spec.name,
                    m.live
                );
                for (c, ty) in COUNTED.iter().enumerate() {
                    if t.stores(*ty) {
                        let v = field(ty.name());
                        ensure!(
                            v == Some(m.counters[c]),
                            "{}: {kt} {}={v:?}, expected {}",
                            spec.name,
                            ty.name(),
                            m.counters[c]
                        );
                    }
                }
                let exp = m.exp.saturating_sub(now);
                ensure!(
                    field("exp") == Some(exp),
                    "{}: show table says {text:?}, expected exp={exp}",
                    spec.name
                );
            }
            ensure!(t.used() == present, "{}: used={} but {present} keys present", spec.name, t.used());
            ensure!(t.used() <= t.size(), "{}: used={} above size {}", spec.name, t.used(), t.size());
        }
        Ok(())
    }
}

/// Runs one seeded schedule of `steps` operations, checking after each.
fn simulate(seed: u64, steps: usize) -> Result<Stats, String> {
    let mut sim = Sim::new(seed);
    sim.reg.set_now(sim.now);
    let fail = |sim: &Sim, step: usize, e: String| {
        let ops: Vec<&str> = sim.log.iter().map(String::as_str).collect();
        format!("seed {seed:#x}, step {step}: {e}\nlast operations:\n  {}", ops.join("\n  "))
    };
    for step in 0..steps {
        if let Err(e) = sim.step().and_then(|()| sim.check()) {
            return Err(fail(&sim, step, e));
        }
    }
    if let Err(e) = sim.close_all() {
        return Err(fail(&sim, steps, e));
    }
    Ok(sim.stats)
}

/// The printed seed: `SEED` if set (decimal or 0x-hex), else from the clock.
fn base_seed() -> u64 {
    let parse = |s: &str| match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    };
    std::env::var("SEED").ok().and_then(|s| parse(s.trim())).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    })
}

#[test]
fn refcount_simulation_matches_the_model() {
    let seed = base_seed();
    eprintln!("SEED={seed}");
    let mut seeds = Rng(seed);
    let mut total = Stats::default();
    for _ in 0..RUNS {
        let run_seed = seeds.next();
        match simulate(run_seed, STEPS) {
            Ok(stats) => total.add(stats),
            Err(e) => panic!("SEED={seed}: {e}"),
        }
    }
    eprintln!("{} steps: {total:?}", RUNS as usize * STEPS);
    // the schedules must reach the interesting states, or they prove little
    assert!(total.tracks > 500, "{total:?}");
    assert!(total.noop_tracks > 100, "{total:?}");
    assert!(total.refused > 0 && total.evicted > 0 && total.purged > 0, "{total:?}");
    assert!(total.clear_in_use > 0 && total.aborts_with_streams > 0 && total.max_streams > 1, "{total:?}");
}
