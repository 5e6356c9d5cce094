//! `show sess` (HAProxy's one-line format), `show sess all`, and strata's
//! own `show sess tree` and `debug counters check`, which show who holds
//! which stick-table entry and prove the counts exact.

use super::commands::CliData;
use crate::cfg::{AccessLevel, Config};
use crate::l5_session::Session;
use crate::l6_stream::Stream;
use crate::l6_stream::slots::ScSlot;
use crate::stick::audit;
use crate::stick::{StoredKey, Tracker};
use hashbrown::HashMap;
use std::fmt::Write;
use std::net::SocketAddr;

fn proto(a: SocketAddr) -> &'static str {
    if a.is_ipv4() { "tcpv4" } else { "tcpv6" }
}

fn be_name(cfg: &Config, s: &Stream) -> String {
    s.backend().map_or_else(|| "<NONE>".to_owned(), |b| cfg.proxies[b].name.clone())
}

fn srv_name(cfg: &Config, s: &Stream) -> String {
    match (s.backend(), s.server()) {
        (Some(b), Some(i)) => cfg.proxies[b].servers.get(i).map_or("<none>", |v| v.name.as_str()).to_owned(),
        _ => "<none>".to_owned(),
    }
}

/// `show sess`: one line per live stream, HAProxy's short format (fields
/// strata has no notion of print as HAProxy's idle values).
pub fn show_sess(words: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    let (cfg, now) = (data.config(), data.now());
    let mut text = String::new();
    let all = words.get(2) == Some(&"all");
    data.for_each_session(&mut |sess: &Session| {
        for s in sess.streams() {
            let age = now.saturating_duration_since(s.started).as_secs();
            let fe = &cfg.proxies[s.frontend()].name;
            let srv_fd = s.server_fd().unwrap_or(-1);
            if all {
                let _ = writeln!(
                    text,
                    "0x{:x}: id={} proto={} source={}\n  flags=0x0, conn_retries=0, srv_conn=(nil), pend_pos=(nil) waiting=0 epoch=0\n  frontend={} (id={} mode={})\n  backend={} (id={})\n  server={}\n  task=0x{:x} (state=0x00 nice=0 calls=0 rate=0 exp=<NEVER> tmask=0x{:x} age={}s)\n  scf=[fd={}] scb=[fd={}]",
                    s.id,
                    s.id,
                    proto(s.src()),
                    s.src(),
                    fe,
                    cfg.proxies[s.frontend()].id,
                    if s.http.is_some() { "http" } else { "tcp" },
                    be_name(cfg, s),
                    s.backend().map_or(-1, |b| i64::from(cfg.proxies[b].id)),
                    srv_name(cfg, s),
                    s.id,
                    1u64 << (sess.thread % 64),
                    age,
                    sess.client_fd(),
                    srv_fd,
                );
            } else {
                let _ = writeln!(
                    text,
                    "0x{:x}: proto={} src={} fe={} be={} srv={} ts=00 epoch=0 age={}s calls=0 rate=0 cpu=0 lat=0 rq[f=0h,i=0,an=00h,rx=,wx=,ax=] rp[f=0h,i=0,an=00h,rx=,wx=,ax=] scf=[8,0h,fd={}] scb=[8,0h,fd={}] exp= rc=0 c_exp=",
                    s.id,
                    proto(s.src()),
                    s.src(),
                    fe,
                    be_name(cfg, s),
                    srv_name(cfg, s),
                    age,
                    sess.client_fd(),
                    srv_fd,
                );
            }
        }
    });
    out.extend_from_slice(text.as_bytes());
    out.push(b'\n');
}

fn describe(t: &Tracker) -> String {
    format!("table={} key={} use={}", t.table().name(), t.key(), t.trackers())
}

/// `show sess tree`: every session, the trackers it holds, and its streams
/// nested under it with each slot (own or inherited).
pub fn show_sess_tree(_: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    let (cfg, now) = (data.config(), data.now());
    let mut text = String::new();
    data.for_each_session(&mut |sess: &Session| {
        let age = now.saturating_duration_since(sess.accepted).as_secs();
        let _ = writeln!(
            text,
            "sess#{} fe={} src={} age={}s streams={}",
            sess.id,
            cfg.proxies[sess.frontend].name,
            sess.src,
            age,
            sess.streams().count()
        );
        let inherited = sess.inherited();
        for n in 0..crate::l4_conn::track::SLOTS {
            if let Some(t) = inherited.get(n) {
                let _ = writeln!(text, "  sc{n} session {}", describe(t));
            }
        }
        for s in sess.streams() {
            let _ = writeln!(
                text,
                "  s#{} be={} srv={} age={}s",
                s.id,
                be_name(cfg, s),
                srv_name(cfg, s),
                now.saturating_duration_since(s.started).as_secs()
            );
            for n in 0..crate::l4_conn::track::SLOTS {
                match s.slots().get(n) {
                    Some(ScSlot::Own(t)) => {
                        let _ = writeln!(text, "    sc{n} own {}", describe(t));
                    }
                    Some(ScSlot::Inherited) => {
                        if let Some(t) = inherited.get(n) {
                            let _ = writeln!(text, "    sc{n} inherited {}", describe(t));
                        }
                    }
                    _ => {}
                }
            }
        }
    });
    out.extend_from_slice(text.as_bytes());
    out.push(b'\n');
}

/// `debug counters check`: walks every live session and stream, counts the
/// trackers on each (table, key), and compares with every table's entries.
pub fn debug_counters_check(_: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    let report = counters_audit(data);
    let mut text = report.mismatches.join("");
    if report.mismatches.is_empty() {
        let _ =
            writeln!(text, "counters consistent: {} entries, {} trackers", report.entries, report.trackers);
    } else {
        let _ =
            writeln!(text, "counters INCONSISTENT: {} entries, {} trackers", report.entries, report.trackers);
    }
    out.extend_from_slice(text.as_bytes());
    out.push(b'\n');
}

/// What `debug counters check` found: entries and live trackers seen, one
/// `MISMATCH ...` line per inconsistent entry.
pub struct AuditReport {
    pub entries: usize,
    pub trackers: u64,
    pub mismatches: Vec<String>,
}

/// Compares every stick-table entry's `use`/`conn_cur` with the trackers
/// live sessions and streams hold (`debug counters check`, and the
/// runtime's periodic audit behind `strata_counters_consistent`).
pub fn counters_audit(data: &dyn CliData) -> AuditReport {
    let now_ms = data.now_ms();
    let mut live: HashMap<String, HashMap<StoredKey, u32>> = HashMap::new();
    let mut trackers = 0u64;
    let mut count = |t: &Tracker| {
        trackers += 1;
        *live.entry(t.table().name().to_owned()).or_default().entry(t.key()).or_insert(0) += 1;
    };
    data.for_each_session(&mut |sess: &Session| {
        let inherited = sess.inherited();
        inherited.each(&mut count);
        for s in sess.streams() {
            for n in 0..crate::l4_conn::track::SLOTS {
                if let Some(ScSlot::Own(t)) = s.slots().get(n) {
                    count(t);
                }
            }
        }
    });
    let empty = HashMap::new();
    let (mut entries, mut mismatches) = (0usize, Vec::new());
    for t in data.tables().tables() {
        let (seen, bad) = audit::check(t, live.get(t.name()).unwrap_or(&empty), now_ms);
        entries += seen;
        for m in bad {
            let conn_cur = m.conn_cur.map_or_else(|| "-".to_owned(), |c| c.to_string());
            mismatches.push(format!(
                "MISMATCH table={} key={} use={} conn_cur={} live_trackers={}\n",
                t.name(),
                m.key,
                m.refs,
                conn_cur,
                m.live
            ));
        }
    }
    AuditReport { entries, trackers, mismatches }
}
