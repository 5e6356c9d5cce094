//! HAProxy's period frequency counter (`struct freq_ctr` with
//! `update_freq_ctr_period()` / `read_freq_ctr_period()`).
//!
//! A counter holds the events of the current period, those of the previous
//! one, and the tick at which the current period started. Ticks are HAProxy's
//! 32-bit wrapping milliseconds: callers pass their `u64` milliseconds and the
//! low 32 bits are used, all differences computed with wrapping arithmetic.
//! The lowest bit of the tick is HAProxy's rotation lock and is always kept
//! clear here, as HAProxy stores it.

/// One frequency counter: 12 bytes, stored as three words in a table entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FreqCtr {
    pub curr_tick: u32, // start of the current period (even)
    pub curr: u32,      // events counted in the current period
    pub prev: u32,      // events counted in the previous period
}

/// The 32-bit tick of a caller's millisecond clock.
pub fn tick(now_ms: u64) -> u32 {
    now_ms as u32
}

impl FreqCtr {
    /// Adds `inc` events at `now` for a counter of period `period` ms
    /// (`period` > 0) and returns the current period's count.
    ///
    /// Rotation as HAProxy: when the current period is over, the current
    /// count becomes the previous one and the period start advances by one
    /// period; if more than one period passed, the previous count is 0 and
    /// the period starts now.
    pub fn update(&mut self, now: u64, period: u32, inc: u32) -> u32 {
        let now = tick(now);
        if now.wrapping_sub(self.curr_tick) < period {
            self.curr = self.curr.wrapping_add(inc);
            return self.curr;
        }
        self.prev = self.curr;
        self.curr = inc;
        let mut curr_tick = self.curr_tick.wrapping_add(period);
        if now.wrapping_sub(curr_tick) >= period {
            // at least two periods missed
            self.prev = 0;
            curr_tick = now;
        }
        self.curr_tick = curr_tick & !1;
        inc
    }

    /// The rate at `now`: `curr + prev * remaining / period`, integer
    /// divided, with HAProxy's low-rate case: when the current count is 0 and
    /// the previous one is 0 or 1, the previous one is returned as is.
    pub fn read(&self, now: u64, period: u32) -> u32 {
        let now = tick(now);
        let (mut curr, mut past) = (self.curr, self.prev);
        let mut remain = self.curr_tick.wrapping_add(period).wrapping_sub(now) as i32 as i64;
        if remain < 0 {
            // past the current period: report a part of it as the past one,
            // or nothing if it is over too
            remain += i64::from(period);
            if remain < 0 {
                return 0;
            }
            past = curr;
            curr = 0;
        }
        if past <= 1 && curr == 0 {
            return past;
        }
        let part = u64::from(past) * remain as u64 / u64::from(period.max(1));
        curr.wrapping_add(part as u32)
    }

    /// `set table ... data.<rate> V`: the current count is V, the previous 0,
    /// and the period starts now; the value reads V for one period, then
    /// fades out.
    pub fn set(&mut self, now: u64, value: u32) {
        self.curr_tick = tick(now) & !1;
        self.prev = 0;
        self.curr = value;
    }

    /// Events over the current and the previous period, the previous one
    /// weighted by the time left in the current one, plus `pend` pending
    /// events, in events x ms (HAProxy's `freq_ctr_total` without the
    /// low-rate correction): divided by `period`, a rate.
    fn total(&self, now: u64, period: u32, pend: u32) -> u64 {
        let now = tick(now);
        let (mut curr, mut past) = (u64::from(self.curr), u64::from(self.prev));
        let mut remain = i64::from(self.curr_tick.wrapping_add(period).wrapping_sub(now) as i32);
        if remain < 0 {
            remain += i64::from(period);
            past = if remain >= 0 { curr } else { 0 };
            curr = 0;
        }
        past * remain.max(0) as u64 + (curr + u64::from(pend)) * u64::from(period)
    }

    /// How many more events may happen now without the rate exceeding
    /// `freq` per `period` (HAProxy's `freq_ctr_remain_period`): 0 when the
    /// limit is reached.
    pub fn remain(&self, now: u64, period: u32, freq: u32, pend: u32) -> u32 {
        let avg = self.total(now, period, pend) / u64::from(period.max(1));
        freq - avg.min(u64::from(freq)) as u32
    }

    /// Milliseconds from `now` until [`FreqCtr::remain`] allows an event
    /// again, if nothing else is counted meanwhile: 0 when one may happen
    /// now. The weighted total only falls as time passes, so the first
    /// such millisecond is found by bisection within two periods (after
    /// which only `pend` counts; `pend >= freq` gives two periods).
    pub fn next_event_delay(&self, now: u64, period: u32, freq: u32, pend: u32) -> u32 {
        if self.remain(now, period, freq, pend) > 0 {
            return 0;
        }
        let (mut lo, mut hi) = (0u32, period.saturating_mul(2));
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.remain(now + u64::from(mid), period, freq, pend) > 0 {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }

    pub(crate) fn from_words(w: &[u32]) -> FreqCtr {
        FreqCtr { curr_tick: w[0], curr: w[1], prev: w[2] }
    }

    pub(crate) fn to_words(self, w: &mut [u32]) {
        w[0] = self.curr_tick;
        w[1] = self.curr;
        w[2] = self.prev;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: u32 = 10_000;

    #[test]
    fn stick_rate_limit_remain_and_delay() {
        // `rate-limit sessions 2` over HAProxy's one-second period
        let mut f = FreqCtr::default();
        let t0 = 1_000_000u64;
        assert_eq!(f.remain(t0, 1000, 2, 0), 2);
        assert_eq!(f.next_event_delay(t0, 1000, 2, 0), 0);
        f.update(t0, 1000, 1);
        f.update(t0, 1000, 1);
        assert_eq!(f.remain(t0, 1000, 2, 0), 0);
        // both are counted for this whole period: the next one may come
        // when the past count, fading over the next period, leaves room
        assert_eq!(f.next_event_delay(t0 + 1, 1000, 2, 0), 1000);
        assert_eq!(f.remain(t0 + 1000, 1000, 2, 0), 0);
        assert_eq!(f.remain(t0 + 1001, 1000, 2, 0), 1); // 2 x 999 / 1000 = 1
        f.update(t0 + 1001, 1000, 1);
        assert_eq!(f.remain(t0 + 1001, 1000, 2, 0), 0);
        // 1 + 2 x remain / 1000 < 2 once remain < 500: at t0 + 1501
        assert_eq!(f.next_event_delay(t0 + 1001, 1000, 2, 0), 500);
        assert_eq!(f.remain(t0 + 1500, 1000, 2, 0), 0);
        assert_eq!(f.remain(t0 + 1501, 1000, 2, 0), 1);
        // the delay is always the first millisecond with room
        for start in [t0 + 1001, t0 + 1200, t0 + 1499] {
            let d = u64::from(f.next_event_delay(start, 1000, 2, 0));
            assert!(f.remain(start + d, 1000, 2, 0) > 0, "{start} {d}");
            assert_eq!(f.remain(start + d - 1, 1000, 2, 0), 0, "{start} {d}");
        }
        assert_eq!(f.next_event_delay(t0 + 1999, 1000, 2, 0), 0);
        // no limit reached when nothing happened for two periods
        assert_eq!(f.remain(t0 + 5000, 1000, 2, 0), 2);
    }

    #[test]
    fn stick_rate_counts_within_a_period() {
        let mut f = FreqCtr::default();
        let t0 = 1_000_000u64;
        assert_eq!(f.update(t0, P, 1), 1); // two periods missed: starts now
        assert_eq!(f.curr_tick, t0 as u32);
        f.update(t0 + 10, P, 1);
        f.update(t0 + 20, P, 1);
        assert_eq!(f.read(t0 + 20, P), 3);
        assert_eq!(f.read(t0 + 9_999, P), 3);
    }

    #[test]
    fn stick_rate_fades_over_the_next_period() {
        let mut f = FreqCtr::default();
        let t0 = 1_000_000u64;
        for _ in 0..10 {
            f.update(t0, P, 1);
        }
        // at t0+P the current period is over: 10 becomes the past count,
        // weighted by the time left in the following period
        assert_eq!(f.read(t0 + 10_000, P), 10);
        assert_eq!(f.read(t0 + 12_500, P), 7); // 10 * 7500 / 10000
        assert_eq!(f.read(t0 + 15_000, P), 5);
        assert_eq!(f.read(t0 + 19_999, P), 0); // 10 * 1 / 10000
        assert_eq!(f.read(t0 + 20_000, P), 0);
        // an event in the next period rotates: prev=10, curr=1
        f.update(t0 + 15_000, P, 1);
        assert_eq!((f.prev, f.curr, f.curr_tick), (10, 1, (t0 + 10_000) as u32));
        assert_eq!(f.read(t0 + 15_000, P), 1 + 5);
        // an event two periods later forgets everything
        f.update(t0 + 40_000, P, 2);
        assert_eq!((f.prev, f.curr, f.curr_tick), (0, 2, (t0 + 40_000) as u32));
    }

    #[test]
    fn stick_rate_low_rates_do_not_flap() {
        let mut f = FreqCtr::default();
        let t0 = 1_000_000u64;
        f.update(t0, P, 1);
        // curr 0 and prev 1 after rotation: 1 for the whole next period
        assert_eq!(f.read(t0 + 10_000, P), 1);
        assert_eq!(f.read(t0 + 19_999, P), 1);
        assert_eq!(f.read(t0 + 20_000, P), 1); // remain 0 is not < 0
        assert_eq!(f.read(t0 + 20_001, P), 0);
    }

    #[test]
    fn stick_rate_set_reads_back_then_fades() {
        let mut f = FreqCtr::default();
        let t0 = 5_000_001u64;
        f.set(t0, 50);
        assert_eq!(f.curr_tick, 5_000_000);
        assert_eq!(f.read(t0, P), 50);
        assert_eq!(f.read(t0 + 9_998, P), 50);
        assert_eq!(f.read(t0 + 14_999, P), 25);
    }

    #[test]
    fn stick_rate_survives_tick_wrap() {
        let mut f = FreqCtr::default();
        let t0 = u64::from(u32::MAX) - 100; // the 32-bit tick wraps soon
        f.update(t0, P, 1);
        f.update(t0 + 200, P, 1);
        assert_eq!(f.read(t0 + 300, P), 2);
        assert_eq!(f.read(t0 + 12_000, P), 1); // 2 * 7999 / 10000
    }
}
