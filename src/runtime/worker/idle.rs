//! `Idle_pct` of `show info`: the share of time the worker waits in `poll`.

/// Share of the last second the worker spent waiting in `poll`.
pub(super) struct IdleMeter {
    window_start: std::time::Instant,
    idle: std::time::Duration,
    pub(super) pct: u32, // of the last complete window
}

impl IdleMeter {
    pub(super) fn new() -> IdleMeter {
        IdleMeter { window_start: std::time::Instant::now(), idle: Default::default(), pct: 100 }
    }

    /// The worker waited from `since` to `until`.
    pub(super) fn record(&mut self, since: std::time::Instant, until: std::time::Instant) {
        self.idle += until.saturating_duration_since(since);
        let elapsed = until.saturating_duration_since(self.window_start);
        if elapsed >= std::time::Duration::from_secs(1) {
            self.pct = (self.idle.as_secs_f64() * 100.0 / elapsed.as_secs_f64()).round().min(100.0) as u32;
            self.window_start = until;
            self.idle = Default::default();
        }
    }
}
