//! The worker's notion of "now": read once per event-loop turn, so every
//! deadline computed in one turn agrees and no code calls `Instant::now()`
//! on the hot path.

use std::time::{Duration, Instant, SystemTime};

/// Where [`Clock::ticks_ms`] starts (plus the sub-second part of the start
/// date): far from tick 0 in the 32-bit tick range, a whole number of
/// seconds so that second boundaries of ticks are those of the wall clock.
pub const TICK_ORIGIN_MS: u64 = 2_000_000_000;

/// Whole wall-clock seconds from tick `then_ms` (at least the start) to
/// `now_ms`, as HAProxy counts `lastchg`, `lastsess`: seconds-resolution
/// dates subtracted.
pub fn secs_between(then_ms: u64, now_ms: u64) -> u64 {
    let then_ms = if then_ms == 0 { TICK_ORIGIN_MS } else { then_ms }; // 0: nothing since start
    (now_ms / 1000).saturating_sub(then_ms / 1000)
}

/// Time as seen by one worker, refreshed by [`Clock::update`] at the top of
/// each loop turn. Owned by the worker; layers receive `now` by value.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: Instant,       // when the worker started
    now: Instant,         // as of the last update
    wall: SystemTime,     // wall-clock time of the last update (log dates)
    start_subsec_ms: u64, // milliseconds into its second of the start date
    ticks_ms: u64,        // `ticks_ms()` as of the last update
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    pub fn new() -> Clock {
        let now = Instant::now();
        let wall = SystemTime::now();
        let start_subsec_ms =
            wall.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| u64::from(d.subsec_millis()));
        Clock { start: now, now, wall, start_subsec_ms, ticks_ms: TICK_ORIGIN_MS + start_subsec_ms }
    }

    /// Reads the system clock; call once per loop turn.
    pub fn update(&mut self) -> Instant {
        self.now = Instant::now();
        self.wall = SystemTime::now();
        self.ticks_ms = TICK_ORIGIN_MS + self.start_subsec_ms + self.uptime().as_millis() as u64;
        self.now
    }

    /// Wall-clock time as of the last update.
    pub fn wall(&self) -> SystemTime {
        self.wall
    }

    pub fn now(&self) -> Instant {
        self.now
    }

    /// Time since the worker started.
    pub fn uptime(&self) -> Duration {
        self.now - self.start
    }

    /// The millisecond tick of the stick tables: uptime plus
    /// [`TICK_ORIGIN_MS`], so that, as with HAProxy's epoch-based `now_ms`,
    /// a counter's first update is never inside the period starting at tick 0
    /// (each rate period starts at its counter's first event).
    pub fn ticks_ms(&self) -> u64 {
        self.ticks_ms // computed once per update: read many times per turn
    }
}
