//! Limits on what a client may do to one connection, each a leaky bucket:
//! every suspicious frame adds one, the bucket drains at a steady rate,
//! and a full bucket ends the connection with GOAWAY(ENHANCE_YOUR_CALM),
//! a log line and a count in `show info`. The rates let a real client
//! (a browser cancelling streams, curl acknowledging data) far below the
//! limits, while a flood (CVE-2023-44487's thousands of resets per
//! second, PING or SETTINGS floods, empty DATA frames, 1-byte
//! WINDOW_UPDATEs) reaches them within a second.

use crate::l7_http::h2::counters::Abuse as Kind;
use std::time::Instant;

/// A bucket's capacity and drain rate (events per second).
fn limits(kind: Kind) -> (u32, u32) {
    match kind {
        Kind::RapidReset => (200, 100),
        Kind::SettingsFlood => (32, 4),
        Kind::PingFlood => (64, 16),
        Kind::EmptyDataFlood => (64, 32),
        Kind::WindowUpdateFlood => (256, 128),
        Kind::ClosedStream => (64, 32),
        Kind::HpackBomb => (4, 1),
        _ => (1, 1),
    }
}

/// Header block limits: CONTINUATION frames per block.
pub const MAX_CONTINUATIONS: u32 = 64;

/// WINDOW_UPDATE increments below this count toward the flood limit.
pub const TINY_WINDOW_UPDATE: u32 = 1024;

#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    level: u32,   // events, scaled by 1000
    last_ms: u64, // when it last drained, ms since the connection started
}

/// One connection's buckets. Owned by its mux.
#[derive(Debug)]
pub struct Abuse {
    start: Instant,
    buckets: [Bucket; Kind::ALL.len()],
}

impl Abuse {
    pub fn new(now: Instant) -> Abuse {
        Abuse { start: now, buckets: [Bucket::default(); Kind::ALL.len()] }
    }

    /// One event of `kind` at `now`: true when the bucket overflows.
    pub fn hit(&mut self, kind: Kind, now: Instant) -> bool {
        let (cap, rate) = limits(kind);
        let ms = now.saturating_duration_since(self.start).as_millis() as u64;
        let b = &mut self.buckets[kind as usize];
        let drained = (ms.saturating_sub(b.last_ms)).saturating_mul(rate as u64);
        b.level = (b.level as u64).saturating_sub(drained).min(u32::MAX as u64) as u32;
        b.last_ms = ms;
        b.level = b.level.saturating_add(1000);
        b.level > cap.saturating_mul(1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_flood_overflows_and_a_steady_rate_does_not() {
        let t0 = Instant::now();
        let mut a = Abuse::new(t0);
        assert!(!(0..32).any(|_| a.hit(Kind::SettingsFlood, t0)));
        assert!(a.hit(Kind::SettingsFlood, t0), "the 33rd at once overflows");
        let mut a = Abuse::new(t0);
        // Two a second for a minute: drained faster than filled.
        assert!(!(0..120).any(|i| a.hit(Kind::SettingsFlood, t0 + Duration::from_millis(500 * i))));
    }
}
