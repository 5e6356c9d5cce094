//! Process-wide TLS counters for `show info`: connections now and ever,
//! handshake (key) rates per side, session reuse, session-cache lookups.
//! Updated once per TLS connection (at its start, its handshake and its
//! end), never per request; read by the runtime when `show info` runs.

use crate::stick::rate::FreqCtr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

static CURR: AtomicU64 = AtomicU64::new(0);
static CUM: AtomicU64 = AtomicU64::new(0);
static CACHE_LOOKUPS: AtomicU64 = AtomicU64::new(0);
static CACHE_MISSES: AtomicU64 = AtomicU64::new(0);
static RATES: Mutex<Rates> = Mutex::new(Rates::new());
static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// Per-second counters (HAProxy's freq_ctr over 1 s) and their maxima.
struct Rates {
    sess: FreqCtr,    // TLS connections established (both sides)
    fe_keys: FreqCtr, // full handshakes on the frontend side
    fe_sess: FreqCtr, // handshakes on the frontend side (full or resumed)
    be_keys: FreqCtr, // full handshakes on the backend side
    max_sess: u32,
    max_fe_keys: u32,
    max_be_keys: u32,
}

impl Rates {
    const fn new() -> Rates {
        let z = FreqCtr { curr_tick: 0, curr: 0, prev: 0 };
        Rates { sess: z, fe_keys: z, fe_sess: z, be_keys: z, max_sess: 0, max_fe_keys: 0, max_be_keys: 0 }
    }
}

fn now_ms() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// A TLS connection was created (accepted on an `ssl` bind or connecting
/// to an `ssl` server); [`conn_closed`] must follow exactly once.
pub(super) fn conn_opened() {
    CURR.fetch_add(1, Relaxed);
    CUM.fetch_add(1, Relaxed);
}

pub(super) fn conn_closed() {
    let _ = CURR.fetch_update(Relaxed, Relaxed, |c| c.checked_sub(1));
}

/// A handshake finished on the frontend (`server_side`) or backend side.
pub(super) fn handshake_done(server_side: bool, resumed: bool) {
    let now = now_ms();
    let Ok(mut r) = RATES.lock() else { return };
    let s = r.sess.update(now, 1000, 1);
    r.max_sess = r.max_sess.max(s);
    if server_side {
        r.fe_sess.update(now, 1000, 1);
        if !resumed {
            let k = r.fe_keys.update(now, 1000, 1);
            r.max_fe_keys = r.max_fe_keys.max(k);
        }
    } else if !resumed {
        let k = r.be_keys.update(now, 1000, 1);
        r.max_be_keys = r.max_be_keys.max(k);
    }
}

/// A session-cache lookup (a client offered a session id or a stateful ticket).
pub(super) fn cache_lookup(hit: bool) {
    CACHE_LOOKUPS.fetch_add(1, Relaxed);
    if !hit {
        CACHE_MISSES.fetch_add(1, Relaxed);
    }
}

/// The values `show info` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TlsCounters {
    pub curr_conns: u64,
    pub cum_conns: u64,
    pub rate: u64,
    pub max_rate: u64,
    pub fe_key_rate: u64,
    pub fe_max_key_rate: u64,
    pub fe_reuse_pct: u64,
    pub be_key_rate: u64,
    pub be_max_key_rate: u64,
    pub cache_lookups: u64,
    pub cache_misses: u64,
}

/// Reads every counter now.
pub fn counters() -> TlsCounters {
    let now = now_ms();
    let mut c = TlsCounters {
        curr_conns: CURR.load(Relaxed),
        cum_conns: CUM.load(Relaxed),
        cache_lookups: CACHE_LOOKUPS.load(Relaxed),
        cache_misses: CACHE_MISSES.load(Relaxed),
        ..TlsCounters::default()
    };
    if let Ok(r) = RATES.lock() {
        let fe_sess = u64::from(r.fe_sess.read(now, 1000));
        c.rate = u64::from(r.sess.read(now, 1000));
        c.max_rate = u64::from(r.max_sess);
        c.fe_key_rate = u64::from(r.fe_keys.read(now, 1000));
        c.fe_max_key_rate = u64::from(r.max_fe_keys);
        c.be_key_rate = u64::from(r.be_keys.read(now, 1000));
        c.be_max_key_rate = u64::from(r.max_be_keys);
        // HAProxy: 100 - keys * 100 / sessions, over the last second.
        c.fe_reuse_pct = (c.fe_key_rate * 100).checked_div(fe_sess).map_or(0, |k| 100 - k.min(100));
    }
    c
}
