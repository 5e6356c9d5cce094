//! The busiest entries of a stick table, for the stats page and the
//! Prometheus gauges: the top N by `conn_cur` and by `http_req_rate`,
//! and the table's tracker total. One pass over the table under its
//! shard locks (a page view or a scrape, never per request).

use crate::stick::{DataType, Table};

/// One entry as the page shows it; `None`: the table does not store it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryRow {
    pub key: String,
    pub refs: u32,
    pub expire_ms: u64,
    pub conn_cur: Option<u64>,
    pub conn_rate: Option<u64>,
    pub http_req_rate: Option<u64>,
    pub http_req_cnt: Option<u64>,
}

/// A table's two top lists and totals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableTop {
    pub by_conn_cur: Vec<EntryRow>,
    pub by_req_rate: Vec<EntryRow>,
    pub entries: u64,
    pub trackers: u64, // sum of the entries' references (live trackers and transient users)
}

/// The `n` busiest entries of `t` at `now` (ties: by key, for a stable page).
pub fn top(t: &Table, n: usize, now: u64) -> TableTop {
    let mut all = Vec::new();
    let mut trackers = 0u64;
    t.for_each(|e| {
        trackers += u64::from(e.refs());
        all.push(EntryRow {
            key: e.key().to_string(),
            refs: e.refs(),
            expire_ms: e.exp_remaining(now),
            conn_cur: e.get(DataType::ConnCur, now),
            conn_rate: e.get(DataType::ConnRate, now),
            http_req_rate: e.get(DataType::HttpReqRate, now),
            http_req_cnt: e.get(DataType::HttpReqCnt, now),
        });
    });
    let entries = all.len() as u64;
    let pick = |rows: &[EntryRow], by: fn(&EntryRow) -> Option<u64>| -> Vec<EntryRow> {
        if rows.first().is_none_or(|r| by(r).is_none()) {
            return Vec::new(); // not stored by this table
        }
        let mut v: Vec<EntryRow> = rows.to_vec();
        v.sort_by(|a, b| by(b).cmp(&by(a)).then_with(|| a.key.cmp(&b.key)));
        v.truncate(n);
        v
    };
    TableTop {
        by_conn_cur: pick(&all, |r| r.conn_cur),
        by_req_rate: pick(&all, |r| r.http_req_rate),
        entries,
        trackers,
    }
}
