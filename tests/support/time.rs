//! One knob for every timeout the tests use: `STRATA_TEST_TIME_SCALE`.
//!
//! A slow machine (CI under load, valgrind, a debug build under `perf`)
//! sets e.g. `STRATA_TEST_TIME_SCALE=5`; every config timeout written by a
//! test and every client-side wait grows by that factor, so the scenarios
//! keep their meaning instead of failing on wall-clock speed.

use std::time::Duration;

/// The factor from `STRATA_TEST_TIME_SCALE` (a positive float), 1 if unset.
/// A malformed value panics: silently ignoring it would hide the mistake.
pub fn scale() -> f64 {
    match std::env::var("STRATA_TEST_TIME_SCALE") {
        Err(_) => 1.0,
        Ok(s) => match s.trim().parse::<f64>() {
            Ok(f) if f.is_finite() && f > 0.0 => f,
            _ => panic!("STRATA_TEST_TIME_SCALE must be a positive number, got {s:?}"),
        },
    }
}

/// `d` multiplied by the time scale.
pub fn scaled(d: Duration) -> Duration {
    d.mul_f64(scale())
}

/// Shorthand: `scaled(Duration::from_millis(ms))`.
pub fn ms(ms: u64) -> Duration {
    scaled(Duration::from_millis(ms))
}

/// `d` scaled, rendered as an HAProxy time value (`"300ms"`), for configs.
/// Never below 1ms (HAProxy reads `0` as "no timeout").
pub fn cfg_time(d: Duration) -> String {
    format!("{}ms", scaled(d).as_millis().max(1))
}
