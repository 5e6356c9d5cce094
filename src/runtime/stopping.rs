//! The deadlines of a soft stop (SIGUSR1): `grace` keeps the listeners
//! open that long after the signal, `hard-stop-after` ends the process
//! that long after it whatever connections are left.

use std::time::{Duration, Instant};

/// What the worker must do now about a soft stop in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopStep {
    None,
    CloseListeners, // `grace` is over
    HardStop,       // `hard-stop-after` is over
}

/// A soft stop's pending deadlines. Owned by the worker.
#[derive(Debug, Default)]
pub struct StopPlan {
    close_at: Option<Instant>, // end of `grace`, until the listeners are closed
    hard_at: Option<Instant>,  // end of `hard-stop-after`
}

impl StopPlan {
    /// The soft stop starts at `now` (a second signal keeps the first deadlines).
    pub fn begin(&mut self, now: Instant, grace: Option<Duration>, hard: Option<Duration>) {
        if self.close_at.is_none() {
            self.close_at = grace.filter(|g| !g.is_zero()).map(|g| now + g);
        }
        if self.hard_at.is_none() {
            self.hard_at = hard.map(|h| now + h);
        }
    }

    /// The earliest pending deadline (the poll timeout must not pass it).
    pub fn next(&self) -> Option<Instant> {
        match (self.close_at, self.hard_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The step due at `now`, if any; each step is reported once.
    pub fn due(&mut self, now: Instant) -> StopStep {
        if self.hard_at.is_some_and(|t| t <= now) {
            self.hard_at = None;
            return StopStep::HardStop;
        }
        if self.close_at.is_some_and(|t| t <= now) {
            self.close_at = None;
            return StopStep::CloseListeners;
        }
        StopStep::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_then_hard_stop() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut p = StopPlan::default();
        assert_eq!(p.next(), None);
        p.begin(t0, Some(ms(100)), Some(ms(300)));
        p.begin(t0 + ms(50), Some(ms(1)), Some(ms(1))); // a second SIGUSR1 changes nothing
        assert_eq!(p.next(), Some(t0 + ms(100)));
        assert_eq!(p.due(t0 + ms(99)), StopStep::None);
        assert_eq!(p.due(t0 + ms(100)), StopStep::CloseListeners);
        assert_eq!(p.due(t0 + ms(200)), StopStep::None);
        assert_eq!(p.next(), Some(t0 + ms(300)));
        assert_eq!(p.due(t0 + ms(300)), StopStep::HardStop);
        assert_eq!(p.next(), None);
    }
}
