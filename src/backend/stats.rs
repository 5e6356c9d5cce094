//! Activity counters of one proxy side (frontend or backend) or one server:
//! what `show stat` prints. Plain numbers, updated by the worker that owns
//! them when a session starts or a stream ends; `clear counters` resets
//! them (all, or only the maxima).

use crate::stick::FreqCtr;

/// Samples HAProxy averages `qtime/ctime/rtime/ttime` over.
const TIME_SAMPLES: u64 = 1024;

/// A sliding average as HAProxy's `swrate_add`/`swrate_avg`: the sum of the
/// last samples, decayed by one sample's share at each new one.
#[derive(Clone, Copy, Debug, Default)]
pub struct SlidingAvg {
    sum: u64,
    samples: u64, // up to TIME_SAMPLES
}

impl SlidingAvg {
    pub fn add(&mut self, v: u64) {
        self.samples = (self.samples + 1).min(TIME_SAMPLES);
        self.sum = self.sum - self.sum.div_ceil(TIME_SAMPLES).min(self.sum) + v;
    }

    /// The average, over the samples seen when fewer than the window.
    pub fn avg(&self) -> u64 {
        if self.samples == 0 { 0 } else { self.sum.div_ceil(self.samples.min(TIME_SAMPLES)) }
    }
}

/// One `show stat` line's activity numbers. Owned by the worker (frontend
/// side) or by the `BackendState` / `ServerState` it describes.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    pub smax: u32,              // most concurrent sessions seen
    pub stot: u64,              // sessions (frontend) or streams (backend, server) ever
    pub bytes_in: u64,          // client → server
    pub bytes_out: u64,         // server → client
    pub denied_req: u64,        // dreq
    pub denied_resp: u64,       // dresp
    pub failed_req: u64,        // ereq: invalid, timed out or abandoned requests
    pub failed_conns: u64,      // econ
    pub failed_resp: u64,       // eresp
    pub retries: u64,           // wretr
    pub redispatches: u64,      // wredis
    pub hrsp: [u64; 6],         // 1xx..5xx, other
    pub req_tot: u64,           // HTTP requests
    pub cli_aborts: u64,        // cli_abrt
    pub srv_aborts: u64,        // srv_abrt
    pub intercepted: u64,       // answered by the proxy itself (return, redirect, errors)
    pub lbtot: u64,             // times chosen by load balancing
    pub conn_tot: u64,          // connections accepted (frontend)
    pub denied_conns: u64,      // dcon: `tcp-request connection reject`
    pub denied_sess: u64,       // dses: `tcp-request session reject`
    pub sess_rate: FreqCtr,     // rate (1 s)
    pub sess_rate_max: u32,     // rate_max
    pub req_rate: FreqCtr,      // req_rate (1 s)
    pub req_rate_max: u32,      // req_rate_max
    pub conn_rate: FreqCtr,     // conn_rate (1 s)
    pub conn_rate_max: u32,     // conn_rate_max
    pub last_sess: Option<u64>, // ms tick of the last session or stream
    pub qtime: SlidingAvg,
    pub ctime: SlidingAvg,
    pub rtime: SlidingAvg,
    pub ttime: SlidingAvg,
    pub qtime_max: u64,
    pub ctime_max: u64,
    pub rtime_max: u64,
    pub ttime_max: u64,
}

/// UP/DOWN history of a server or backend: `lastchg`, `downtime`,
/// `chkdown`. Owned by the state it describes.
#[derive(Clone, Copy, Debug, Default)]
pub struct UpDown {
    pub last_change_ms: u64,        // ms tick of the last change (0: none since start)
    pub down_since_ms: Option<u64>, // while DOWN
    pub downtime_ms: u64,           // DOWN time before down_since_ms
    pub downs: u64,                 // UP -> DOWN transitions
}

impl UpDown {
    /// Records a change to `up` at `now_ms`.
    pub fn change(&mut self, up: bool, now_ms: u64) {
        self.last_change_ms = now_ms;
        if up {
            if let Some(since) = self.down_since_ms.take() {
                self.downtime_ms += now_ms.saturating_sub(since);
            }
        } else {
            self.down_since_ms = Some(now_ms);
            self.downs += 1;
        }
    }

    /// Total DOWN time until `now_ms`.
    pub fn downtime(&self, now_ms: u64) -> u64 {
        self.downtime_ms + self.down_since_ms.map_or(0, |s| now_ms.saturating_sub(s))
    }
}

/// Period of the `show stat` rates, in ms.
pub const RATE_PERIOD: u32 = 1000;

impl Counters {
    /// A new session (frontend) or stream assigned here (backend, server) at `now_ms`.
    pub fn count_session(&mut self, now_ms: u64, current: u32) {
        self.stot += 1;
        self.smax = self.smax.max(current);
        self.last_sess = Some(now_ms);
        let r = self.sess_rate.update(now_ms, RATE_PERIOD, 1);
        self.sess_rate_max = self.sess_rate_max.max(r);
    }

    /// A connection accepted by a frontend.
    pub fn count_connection(&mut self, now_ms: u64) {
        self.conn_tot += 1;
        let r = self.conn_rate.update(now_ms, RATE_PERIOD, 1);
        self.conn_rate_max = self.conn_rate_max.max(r);
    }

    /// An HTTP request received by a frontend.
    pub fn count_request(&mut self, now_ms: u64) {
        self.req_tot += 1;
        let r = self.req_rate.update(now_ms, RATE_PERIOD, 1);
        self.req_rate_max = self.req_rate_max.max(r);
    }

    /// One HTTP response status.
    pub fn count_status(&mut self, status: u16) {
        let class = match status {
            100..=599 => usize::from(status / 100) - 1,
            _ => 5,
        };
        self.hrsp[class] += 1;
    }

    /// Times of one stream (ms): queue, connect, response head, total. As
    /// in HAProxy, the queue time counts for streams that connected only.
    pub fn count_times(&mut self, queue: u64, connect: Option<u64>, response: Option<u64>, total: u64) {
        if let Some(c) = connect {
            self.qtime.add(queue);
            self.qtime_max = self.qtime_max.max(queue);
            self.ctime.add(c);
            self.ctime_max = self.ctime_max.max(c);
        }
        if let Some(r) = response {
            self.rtime.add(r);
            self.rtime_max = self.rtime_max.max(r);
        }
        self.ttime.add(total);
        self.ttime_max = self.ttime_max.max(total);
    }

    /// `clear counters`: the maxima only.
    pub fn clear_max(&mut self) {
        self.smax = 0;
        self.sess_rate_max = 0;
        self.req_rate_max = 0;
        self.conn_rate_max = 0;
        self.qtime_max = 0;
        self.ctime_max = 0;
        self.rtime_max = 0;
        self.ttime_max = 0;
    }

    /// `clear counters all`.
    pub fn clear_all(&mut self) {
        *self = Counters::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_average_follows_haproxy_for_few_samples() {
        let mut a = SlidingAvg::default();
        a.add(100);
        a.add(200);
        assert_eq!(a.avg(), 150);
        assert_eq!(SlidingAvg::default().avg(), 0);
    }

    #[test]
    fn status_classes() {
        let mut c = Counters::default();
        for s in [101, 200, 204, 302, 404, 503, 700] {
            c.count_status(s);
        }
        assert_eq!(c.hrsp, [1, 2, 1, 1, 1, 1]);
    }
}
