//! The proxy, server and table state fetches and converters read from a
//! stream's point of view (`be_conn`, `fe_conn`, `queue`, `avg_queue`,
//! `connslots`, `srv_is_up`, `srv_conn`, `*_id`, `table_*`).

use super::sample::StreamSample;
use crate::acl::{ProxyQuery, Sample};
use crate::l4_conn::track::with_key;
use crate::stick::{DataType, Registry};

/// Answers one [`ProxyQuery`]; None when the named proxy or server does
/// not exist (the fetch then gives no sample).
pub(super) fn proxy_query(s: &StreamSample<'_>, q: ProxyQuery<'_>) -> Option<i64> {
    let backend = |name: Option<&str>| match name {
        Some(n) => s.cfg.proxies.iter().position(|p| p.cap.backend && p.name == n),
        None => s.backend,
    };
    let backends = s.backends.lock();
    let state = |name: Option<&str>| backend(name).and_then(|i| backends.get(i));
    Some(match q {
        ProxyQuery::BeConn(n) => i64::from(state(n)?.cur_conns),
        ProxyQuery::FeConn(n) => {
            let fe = match n {
                Some(n) => s.cfg.proxies.iter().position(|p| p.cap.frontend && p.name == n)?,
                None => s.frontend,
            };
            i64::from(backends.fe_conn(fe))
        }
        ProxyQuery::Queue(n) => i64::from(state(n)?.queue.waiting),
        ProxyQuery::AvgQueue(n) => {
            let b = state(n)?;
            let active = b.servers.iter().filter(|sv| sv.usable()).count() as i64;
            let q = i64::from(b.queue.waiting);
            if active == 0 { q } else { (q + active - 1) / active }
        }
        ProxyQuery::ConnSlots(n) => {
            let b = state(n)?;
            let mut slots: i64 = 0;
            for sv in b.servers.iter().filter(|sv| sv.usable()) {
                match sv.maxconn {
                    None | Some(0) => return Some(-1), // unlimited
                    Some(m) => slots += i64::from(m.saturating_sub(sv.cur_conns)),
                }
            }
            slots
        }
        ProxyQuery::SrvIsUp(b, sv) | ProxyQuery::SrvConn(b, sv) => {
            let bs = state(Some(b))?;
            let server = &bs.servers[bs.find_server(sv)?];
            if matches!(q, ProxyQuery::SrvIsUp(..)) {
                i64::from(server.usable())
            } else {
                i64::from(server.cur_conns)
            }
        }
        ProxyQuery::Timeout { current, tunnel } => {
            // HAProxy reads the frontend's before a backend is chosen, and 0 for none.
            let be = &s.cfg.proxies[s.backend.unwrap_or(s.frontend)].timeouts;
            let t = match (current, tunnel) {
                (false, false) => be.server,
                (false, true) => be.tunnel,
                (true, false) => s.set_timeouts.server(be),
                (true, true) => s.set_timeouts.tunnel(be),
            };
            t.map_or(0, |d| d.as_millis() as i64)
        }
        ProxyQuery::BeId => i64::from(s.cfg.proxies.get(s.backend?)?.id),
        ProxyQuery::FeId => i64::from(s.cfg.proxies.get(s.frontend)?.id),
        ProxyQuery::SrvId => i64::from(backends.get(s.backend?)?.servers.get(s.server?)?.id),
    })
}

/// `table_X(table)`: the value of `what` in `table`'s entry for `key`
/// (looked up, never created); None when absent or not stored.
pub(super) fn table_value(
    tables: &Registry,
    table: &str,
    what: &str,
    key: Sample<'_>,
    now_ms: u64,
) -> Option<i64> {
    let (_, t) = tables.find(table)?;
    with_key(key, t.key_type(), |k| {
        let refs = t.trackers(k)?;
        if what == "trackers" {
            return Some(i64::from(refs));
        }
        t.get(k, DataType::from_name(what)?, now_ms).map(|v| v as i64)
    })
    .flatten()
}
