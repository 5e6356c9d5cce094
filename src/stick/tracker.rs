//! [`Tracker`]: the only holder of a stick-table entry "in use" (design §2).
//!
//! HAProxy's 2015 bug: a stream copied its session's trackers and both
//! released them, so `conn_cur` went negative. Here a tracker is created only
//! by [`Table::track`] (reference +1; `conn_cur`, `conn_cnt`, `conn_rate` +1
//! where stored) and released only by its `Drop` (`conn_cur` -1 where stored
//! and above 0, expiry refreshed when `conn_cur` is stored, reference -1,
//! deleted if unreferenced and past its expiry). It cannot be cloned, has no
//! `release()`, and `mem::forget` is denied crate-wide, so every start is
//! matched by exactly one end.
//!
//! ```compile_fail
//! fn twice(t: strata::stick::Tracker) -> (strata::stick::Tracker, strata::stick::Tracker) {
//!     (t.clone(), t)
//! }
//! ```

use std::sync::Arc;

use super::data::DataType;
use super::key::StoredKey;
use super::table::{EntryId, Table, Update};

/// One tracking of one table entry (one stick counter slot pointing at it).
#[must_use = "dropping a Tracker releases the entry at once"]
pub struct Tracker {
    table: Arc<Table>, // keeps the table alive while the entry is in use
    id: EntryId,       // the entry; valid while this tracker holds its reference
}

impl std::fmt::Debug for Tracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracker").field("table", &self.table.name()).field("key", &self.key()).finish()
    }
}

impl Tracker {
    /// Only `Table::track` creates trackers, after it took the reference.
    pub(crate) fn new(table: Arc<Table>, id: EntryId) -> Tracker {
        Tracker { table, id }
    }

    /// The tracked table.
    pub fn table(&self) -> &Arc<Table> {
        &self.table
    }

    /// The tracked key (to look it up in another table,
    /// `sc0_conn_cur(othertable)`).
    pub fn key(&self) -> StoredKey {
        self.table.with_id(self.id, |e| e.key())
    }

    /// The entry's reference count (`sc0_trackers`, `use=`).
    pub fn trackers(&self) -> u32 {
        self.table.with_id(self.id, |e| e.refs())
    }

    /// Reads a stored type at `now`; `None` if the table does not store it
    /// (a `sc0_*` fetch on it does not match).
    pub fn get(&self, ty: DataType, now: u64) -> Option<u64> {
        self.table.set_now(now);
        self.table.with_id(self.id, |e| e.get(ty, now))
    }

    /// Counts an event on the entry and refreshes it; see
    /// [`EntryMut::apply`](super::table::EntryMut::apply) for the value
    /// returned.
    pub fn update(&self, upd: Update, now: u64) -> Option<u64> {
        if !self.table.counts(upd) {
            return None; // nothing stored to count: no lock, no refresh
        }
        self.table.set_now(now);
        self.table.with_id(self.id, |e| e.apply(upd, now))
    }

    /// One HTTP request (`http_req_cnt`, `http_req_rate`).
    pub fn inc_http_req(&self, now: u64) {
        self.update(Update::HttpReq, now);
    }

    /// One HTTP error (`http_err_cnt`, `http_err_rate`).
    pub fn inc_http_err(&self, now: u64) {
        self.update(Update::HttpErr, now);
    }

    /// One HTTP failure (`http_fail_cnt`, `http_fail_rate`).
    pub fn inc_http_fail(&self, now: u64) {
        self.update(Update::HttpFail, now);
    }

    /// Bytes from the client (`bytes_in_cnt`, `bytes_in_rate`).
    pub fn add_bytes_in(&self, n: u64, now: u64) {
        self.update(Update::BytesIn(n), now);
    }

    /// Bytes to the client (`bytes_out_cnt`, `bytes_out_rate`).
    pub fn add_bytes_out(&self, n: u64, now: u64) {
        self.update(Update::BytesOut(n), now);
    }

    /// The session was accepted (`sess_cnt`, `sess_rate`): session trackers only.
    pub fn inc_sess(&self, now: u64) {
        self.update(Update::Sess, now);
    }

    /// `sc-inc-gpc0`: returns the new gpc0 if stored.
    pub fn inc_gpc0(&self, now: u64) -> Option<u64> {
        self.update(Update::IncGpc0, now)
    }

    /// `sc0_clr_gpc0`: returns gpc0 before clearing, if stored.
    pub fn clr_gpc0(&self, now: u64) -> Option<u64> {
        self.update(Update::ClrGpc0, now)
    }

    /// `sc-inc-gpc1`: returns the new gpc1 if stored.
    pub fn inc_gpc1(&self, now: u64) -> Option<u64> {
        self.update(Update::IncGpc1, now)
    }

    /// `sc0_clr_gpc1`: returns gpc1 before clearing, if stored.
    pub fn clr_gpc1(&self, now: u64) -> Option<u64> {
        self.update(Update::ClrGpc1, now)
    }

    /// `sc-set-gpt0`.
    pub fn set_gpt0(&self, v: u32, now: u64) {
        self.update(Update::SetGpt0(v), now);
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        self.table.release(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stick::table::tests::{ip, line, table};

    /// A tiny xorshift PRNG: seeded, printed, replayable with `SEED=`.
    fn rng() -> impl FnMut() -> u64 {
        let seed = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        }) | 1;
        println!("SEED={seed}");
        let mut x = seed;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    #[test]
    fn stick_tracker_lifetime_is_exact() {
        let t = table(100, Some(60_000), false, "conn_cur,conn_cnt,conn_rate(10s)");
        let mut next = rng();
        let mut trackers: Vec<Tracker> = (0..50).map(|i| t.track(ip(1), i).unwrap()).collect();
        assert_eq!(t.get(ip(1), DataType::ConnCur, 50), Some(50));
        assert_eq!(t.trackers(ip(1)), Some(50));
        assert_eq!(trackers[0].trackers(), 50);
        while !trackers.is_empty() {
            let i = (next() % trackers.len() as u64) as usize;
            drop(trackers.swap_remove(i));
            let n = trackers.len() as u64;
            assert_eq!(t.get(ip(1), DataType::ConnCur, 60), Some(n));
            assert_eq!(t.trackers(ip(1)), Some(n as u32));
        }
        assert_eq!(t.get(ip(1), DataType::ConnCnt, 60), Some(50));
        assert_eq!(t.get(ip(1), DataType::ConnRate, 60), Some(50));
        assert_eq!(
            line(&t, ip(1), 60).unwrap(),
            "key=127.0.0.1 use=0 exp=60000 conn_cnt=50 conn_rate(10000)=50 conn_cur=0"
        );
    }

    #[test]
    fn stick_tracker_conn_cur_never_wraps() {
        // conn_cur set to 0 by the CLI while two trackers hold the entry:
        // their releases stop at 0, the reference count still goes to 0
        let t = table(100, Some(60_000), false, "conn_cur");
        let a = t.track(ip(1), 0).unwrap();
        let b = t.track(ip(1), 0).unwrap();
        let k = t.key_type().normalize(ip(1)).unwrap();
        t.upsert(&k, 0, |e| e.set(DataType::ConnCur, 0, 0));
        drop(a);
        drop(b);
        assert_eq!(line(&t, ip(1), 0).unwrap(), "key=127.0.0.1 use=0 exp=60000 conn_cur=0");
    }

    #[test]
    fn stick_tracker_count_not_stored_changes_nothing() {
        // As HAProxy: a count whose counter and rate are not stored neither
        // counts nor refreshes the entry; a stored one refreshes it.
        let t = table(100, Some(60_000), false, "conn_cur,http_req_rate(10s)");
        let tr = t.track(ip(1), 0).unwrap();
        tr.add_bytes_out(100, 5_000);
        tr.inc_sess(5_000);
        assert_eq!(
            line(&t, ip(1), 5_000).unwrap(),
            "key=127.0.0.1 use=1 exp=55000 conn_cur=1 http_req_rate(10000)=0"
        );
        tr.inc_http_req(5_000);
        assert_eq!(
            line(&t, ip(1), 5_000).unwrap(),
            "key=127.0.0.1 use=1 exp=60000 conn_cur=1 http_req_rate(10000)=1"
        );
    }

    #[test]
    fn stick_tracker_counters() {
        let t = table(
            100,
            Some(60_000),
            false,
            "gpt0,gpc0,gpc0_rate(10s),conn_cnt,conn_rate(10s),conn_cur,sess_cnt,sess_rate(10s),http_req_cnt,http_req_rate(10s),\
             http_err_cnt,http_err_rate(10s),bytes_in_cnt,bytes_in_rate(10s),bytes_out_cnt,bytes_out_rate(10s),\
             gpc1,gpc1_rate(10s),http_fail_cnt,http_fail_rate(10s)",
        );
        let tr = t.track(ip(1), 0).unwrap();
        tr.inc_sess(0);
        tr.inc_http_req(1);
        tr.inc_http_req(2);
        tr.inc_http_err(2);
        tr.inc_http_fail(2);
        tr.add_bytes_in(41, 3);
        tr.add_bytes_out(139, 3);
        assert_eq!(tr.inc_gpc0(3), Some(1));
        assert_eq!(tr.inc_gpc1(3), Some(1));
        assert_eq!(tr.clr_gpc1(3), Some(1));
        tr.set_gpt0(9, 3);
        assert_eq!(tr.get(DataType::HttpReqRate, 3), Some(2));
        assert_eq!(tr.get(DataType::ServerId, 3), None);
        assert_eq!(tr.key().to_string(), "127.0.0.1");
        assert_eq!(
            line(&t, ip(1), 3).unwrap(),
            "key=127.0.0.1 use=1 exp=60000 gpt0=9 gpc0=1 gpc0_rate(10000)=1 conn_cnt=1 conn_rate(10000)=1 \
             conn_cur=1 sess_cnt=1 sess_rate(10000)=1 http_req_cnt=2 http_req_rate(10000)=2 http_err_cnt=1 \
             http_err_rate(10000)=1 bytes_in_cnt=41 bytes_in_rate(10000)=41 bytes_out_cnt=139 \
             bytes_out_rate(10000)=139 gpc1=0 gpc1_rate(10000)=1 http_fail_cnt=1 http_fail_rate(10000)=1"
        );
        drop(tr);
    }

    #[test]
    fn stick_tracker_rates_over_simulated_time() {
        let t0 = 1_000_000; // far from tick 0, where a fresh counter's first period starts
        let t = table(100, Some(600_000), false, "http_req_rate(10s),conn_rate(10s)");
        let tr = t.track(ip(1), t0).unwrap();
        for i in 0..20 {
            tr.inc_http_req(t0 + i * 100); // 20 requests in 2 s
        }
        assert_eq!(tr.get(DataType::HttpReqRate, t0 + 2_000), Some(20));
        assert_eq!(tr.get(DataType::HttpReqRate, t0 + 10_000), Some(20)); // period just ended
        assert_eq!(tr.get(DataType::HttpReqRate, t0 + 12_500), Some(15)); // 20 * 7500/10000
        assert_eq!(tr.get(DataType::HttpReqRate, t0 + 20_000), Some(0));
        assert_eq!(tr.get(DataType::ConnRate, t0 + 15_000), Some(1)); // one event never flaps
        assert_eq!(tr.get(DataType::ConnRate, t0 + 20_001), Some(0));
        tr.inc_http_req(t0 + 15_000); // rotates: prev 20, curr 1
        assert_eq!(tr.get(DataType::HttpReqRate, t0 + 15_000), Some(1 + 10));
    }

    #[test]
    fn stick_trackers_from_threads_end_at_zero() {
        let t = table(1000, Some(60_000), false, "conn_cur,conn_cnt");
        let threads: Vec<_> = (0..4)
            .map(|n| {
                let t = Arc::clone(&t);
                std::thread::spawn(move || {
                    let mut held = Vec::new();
                    for i in 0..2000u64 {
                        let key = ip((i % 7) as u8 + 1);
                        held.push(t.track(key, i).unwrap());
                        if (i + n) % 3 == 0 {
                            drop(held.swap_remove(((i * 31) % held.len() as u64) as usize));
                        }
                        if held.len() > 50 {
                            held.truncate(10);
                        }
                        if let Some(h) = held.first() {
                            h.inc_http_req(i);
                        }
                    }
                })
            })
            .collect();
        for th in threads {
            th.join().unwrap();
        }
        let mut total = 0;
        for k in 1..=7 {
            assert_eq!(t.get(ip(k), DataType::ConnCur, 2000), Some(0));
            assert_eq!(t.trackers(ip(k)), Some(0));
            total += t.get(ip(k), DataType::ConnCnt, 2000).unwrap();
        }
        assert_eq!(total, 4 * 2000);
    }
}
