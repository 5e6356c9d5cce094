//! The worker's notion of "now": read once per event-loop turn, so every
//! deadline computed in one turn agrees and no code calls `Instant::now()`
//! on the hot path.

use std::time::{Duration, Instant, SystemTime};

/// Where [`Clock::ticks_ms`] starts: half the 32-bit tick range away from 0.
pub const TICK_ORIGIN_MS: u64 = 1 << 31;

/// Time as seen by one worker, refreshed by [`Clock::update`] at the top of
/// each loop turn. Owned by the worker; layers receive `now` by value.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    start: Instant,   // when the worker started
    now: Instant,     // as of the last update
    wall: SystemTime, // wall-clock time of the last update (log dates)
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    pub fn new() -> Clock {
        let now = Instant::now();
        Clock { start: now, now, wall: SystemTime::now() }
    }

    /// Reads the system clock; call once per loop turn.
    pub fn update(&mut self) -> Instant {
        self.now = Instant::now();
        self.wall = SystemTime::now();
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
        TICK_ORIGIN_MS + self.uptime().as_millis() as u64
    }
}
