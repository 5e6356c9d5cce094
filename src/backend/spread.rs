//! `spread-checks N`: every health check interval is moved by a random
//! amount of up to N percent either way, as HAProxy does, so checks
//! started together drift apart. (The first checks' spread, bounded by
//! `max-spread-checks`, is `runtime::checks`'.)

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// `spread-checks` percent, set once at start-up.
static PERCENT: AtomicU32 = AtomicU32::new(0);

/// State of the jitter's xorshift generator (any non-zero seed).
static SEED: AtomicU64 = AtomicU64::new(0x9e37_79b9_7f4a_7c15);

/// Sets the `spread-checks` percent (0..=50).
pub fn set_percent(p: u32) {
    PERCENT.store(p.min(50), Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    SEED.store(u64::from(nanos.subsec_nanos()) | 1, Ordering::Relaxed);
}

fn next_random() -> u64 {
    let mut x = SEED.load(Ordering::Relaxed);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    SEED.store(x, Ordering::Relaxed);
    x
}

/// The wait before the next check of an `inter` interval: `inter` moved
/// by up to `spread-checks` percent of it, either way.
pub fn interval(inter: Duration) -> Duration {
    let pct = PERCENT.load(Ordering::Relaxed);
    if pct == 0 {
        return inter;
    }
    let span = inter.as_micros() as u64 * u64::from(pct) / 100; // rv in HAProxy
    let offset = next_random() % (2 * span + 1); // 0..=2rv
    Duration::from_micros((inter.as_micros() as u64 + offset).saturating_sub(span))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_the_percent() {
        let inter = Duration::from_millis(1000);
        assert_eq!(interval(inter), inter);
        set_percent(10);
        let waits: Vec<Duration> = (0..1000).map(|_| interval(inter)).collect();
        assert!(waits.iter().all(|w| (900..=1100).contains(&w.as_millis())), "{waits:?}");
        assert!(waits.iter().any(|w| *w < inter) && waits.iter().any(|w| *w > inter));
        set_percent(0);
    }
}
