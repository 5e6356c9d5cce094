//! Stick tables as the stats port shows them, for the `refcount_*` tests
//! (HAProxy's golden scenarios S1..S8 replayed from Rust).
//!
//! - [`scenario_head`]: the `global` + `defaults` every scenario shares
//!   (admin stats socket, HAProxy's timeouts, scaled).
//! - [`show_table`] parses `show table NAME` into a [`Dump`]: header
//!   (`size:`, `used:`) and [`Entry`] lines; the entry address is dropped.
//! - [`expect_entry`] / [`expect_used`] poll the stats port until the table
//!   shows the expected values, then return; past a generous (scaled)
//!   deadline they panic with the last reply. Polling is only a way to
//!   wait for the proxy to process a close: every expected value is exact.
//!
//! Expected values are written as in `observed.txt`:
//! `"use=1 conn_cnt=1 conn_cur=1 sess_cnt=1 http_req_rate(10000)=2"`; only
//! the fields named are compared (byte counters are left out on purpose:
//! strata counts wire bytes). `exp=` is checked through [`Exp`].

use std::time::Duration;

use super::cli_client::cli;
use super::client::wait_until;
use super::time::{cfg_time, ms};

/// How long [`expect_entry`] and [`expect_used`] wait before failing.
const SETTLE_MS: u64 = 10_000;

/// `global` with an admin stats socket on 127.0.0.1:`stats`, and
/// `defaults` with the scenarios' timeouts (scaled) and `mode` if given.
pub fn scenario_head(stats: u16, mode: Option<&str>) -> String {
    let mode = mode.map(|m| format!("    mode {m}\n")).unwrap_or_default();
    format!(
        "global\n    stats socket ipv4@127.0.0.1:{stats} level admin\n    stats timeout {}\n\
         defaults\n{mode}    timeout connect {}\n    timeout client {}\n    timeout server {}\n\
         \x20   timeout http-keep-alive {}\n",
        cfg_time(Duration::from_secs(30)),
        cfg_time(Duration::from_secs(5)),
        cfg_time(Duration::from_secs(30)),
        cfg_time(Duration::from_secs(30)),
        cfg_time(Duration::from_secs(30)),
    )
}

/// One entry line of `show table NAME`, without its address.
#[derive(Clone, Debug)]
pub struct Entry {
    pub key: String,                // `127.0.0.1`
    pub fields: Vec<(String, u64)>, // `use`, `exp`, then the stored types in display order
}

impl Entry {
    /// Parse `0x55..: key=K use=U exp=E name=value ...`.
    pub fn parse(line: &str) -> Option<Entry> {
        let (_, rest) = line.split_once(": ")?;
        let mut words = rest.split_whitespace();
        let key = words.next()?.strip_prefix("key=")?.to_string();
        let fields = words
            .map(|w| {
                let (n, v) = w.rsplit_once('=')?;
                Some((n.to_string(), v.parse().ok()?))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Entry { key, fields })
    }

    /// The value of `name` (`use`, `exp`, `conn_cur`, `http_req_rate(10000)`).
    pub fn get(&self, name: &str) -> Option<u64> {
        self.fields.iter().find(|(n, _)| n == name).map(|&(_, v)| v)
    }

    /// The fields of `spec` (`"use=1 conn_cur=1"`) that differ, as
    /// `name: want W, got G` (or `absent`).
    pub fn mismatches(&self, spec: &str) -> Vec<String> {
        spec.split_whitespace()
            .filter_map(|w| {
                let (n, v) = w.rsplit_once('=').unwrap_or_else(|| panic!("bad spec word {w:?}"));
                let want: u64 = v.parse().unwrap_or_else(|_| panic!("bad spec value {w:?}"));
                match self.get(n) {
                    Some(got) if got == want => None,
                    Some(got) => Some(format!("{n}: want {want}, got {got}")),
                    None => Some(format!("{n}: want {want}, absent")),
                }
            })
            .collect()
    }
}

/// What `exp=` must be.
#[derive(Clone, Copy, Debug)]
pub enum Exp {
    /// `exp=0`: no `expire` on the table, or expired while in use.
    Zero,
    /// `0 < exp <= ms`: counting down from a refresh within `expire`.
    Within(u64),
    /// `exp <= ms`, 0 included: within `expire`, or already past it on a
    /// slow machine (used where the reference cannot promise more).
    AtMost(u64),
}

impl Exp {
    fn holds(self, exp: Option<u64>) -> bool {
        match (self, exp) {
            (Exp::Zero, Some(0)) => true,
            (Exp::Within(max), Some(e)) => 0 < e && e <= max,
            (Exp::AtMost(max), Some(e)) => e <= max,
            _ => false,
        }
    }
}

/// `show table NAME`, parsed.
#[derive(Clone, Debug)]
pub struct Dump {
    pub raw: String,            // the reply as received
    pub size: Option<u64>,      // `size:` of the header
    pub used: Option<u64>,      // `used:` of the header
    pub entries: Vec<Entry>,    // entry lines in order
    pub bad_lines: Vec<String>, // lines that are neither header, entry nor empty
}

impl Dump {
    pub fn parse(raw: &str) -> Dump {
        let mut d =
            Dump { raw: raw.to_string(), size: None, used: None, entries: Vec::new(), bad_lines: Vec::new() };
        for line in raw.lines().filter(|l| !l.is_empty()) {
            if let Some(h) = line.strip_prefix("# table: ") {
                for part in h.split(", ") {
                    if let Some(v) = part.strip_prefix("size:") {
                        d.size = v.parse().ok();
                    } else if let Some(v) = part.strip_prefix("used:") {
                        d.used = v.parse().ok();
                    }
                }
            } else if let Some(e) = Entry::parse(line) {
                d.entries.push(e);
            } else {
                d.bad_lines.push(line.to_string());
            }
        }
        d
    }

    /// The entry for `key`, if listed.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// The keys listed, in order.
    pub fn keys(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.key.as_str()).collect()
    }
}

/// `show table NAME` on the stats port `stats`, parsed.
pub fn show_table(stats: u16, table: &str) -> Dump {
    Dump::parse(&cli(stats, &format!("show table {table}")))
}

/// Why `dump` does not show `key` with `spec` and `exp` (None if it does).
fn entry_problem(dump: &Dump, key: &str, spec: &str, exp: Exp) -> Option<String> {
    if !dump.bad_lines.is_empty() {
        return Some(format!("unparsable lines {:?}", dump.bad_lines));
    }
    let Some(e) = dump.entry(key) else { return Some(format!("no entry for key {key}")) };
    let mut bad = e.mismatches(spec);
    if !exp.holds(e.get("exp")) {
        bad.push(format!("exp: want {exp:?}, got {:?}", e.get("exp")));
    }
    (!bad.is_empty()).then(|| bad.join("; "))
}

/// Poll `show table TABLE` until the entry `key` shows every value of
/// `spec` and an `exp=` satisfying `exp`; return that entry. Panics with
/// `label` and the last reply after a generous deadline.
pub fn expect_entry(stats: u16, table: &str, key: &str, spec: &str, exp: Exp, label: &str) -> Entry {
    let mut last = None;
    let ok = wait_until(ms(SETTLE_MS), || {
        let d = show_table(stats, table);
        let done = entry_problem(&d, key, spec, exp).is_none();
        last = Some(d);
        done
    });
    let d = last.expect("polled at least once");
    if !ok {
        panic!(
            "{label}: table {table}, key {key}: {}\nwanted: {spec} exp {exp:?}\nlast reply:\n{}",
            entry_problem(&d, key, spec, exp).unwrap_or_default(),
            d.raw
        );
    }
    d.entry(key).cloned().expect("matched entry")
}

/// Poll `show table TABLE` until its header says `used:N` and it lists
/// exactly `keys` (in that order); return the dump. Panics after a
/// generous deadline.
pub fn expect_keys(stats: u16, table: &str, keys: &[&str], label: &str) -> Dump {
    let mut last = None;
    let ok = wait_until(ms(SETTLE_MS), || {
        let d = show_table(stats, table);
        let done = d.used == Some(keys.len() as u64) && d.keys() == keys && d.bad_lines.is_empty();
        last = Some(d);
        done
    });
    let d = last.expect("polled at least once");
    assert!(ok, "{label}: table {table}: want used:{} keys {keys:?}; last reply:\n{}", keys.len(), d.raw);
    d
}

/// Assert, without waiting, that the entry `key` shows `spec` and `exp`
/// now (for values that must have stayed put).
pub fn assert_entry_now(stats: u16, table: &str, key: &str, spec: &str, exp: Exp, label: &str) -> Entry {
    let d = show_table(stats, table);
    if let Some(problem) = entry_problem(&d, key, spec, exp) {
        panic!("{label}: table {table}, key {key}: {problem}\nwanted: {spec} exp {exp:?}\nreply:\n{}", d.raw);
    }
    d.entry(key).cloned().expect("checked entry")
}

/// A table's expire as written by a test (`cfg_time(d)`), in ms, as
/// `show table` bounds `exp=` with it.
pub fn expire_ms(d: Duration) -> u64 {
    super::time::scaled(d).as_millis().max(1) as u64
}

/// The headers named in `spec` (`"x-a=1 x-b= x-c=-"`), out of `headers`
/// (a [`Response`](super::http_client::Response)'s or a
/// [`Received`](super::http_backend::Received)'s), written back in the
/// same form: `name=value`, `name=` for an empty value (a failing fetch in
/// `set-header X %[fetch]`), `name=-` when absent (a header set only `if`
/// a condition that did not match). Names compare case-insensitively.
pub fn header_values(headers: &[(String, String)], spec: &str) -> String {
    spec.split_whitespace()
        .map(|w| {
            let name = w.split_once('=').map_or(w, |(n, _)| n);
            let v = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
            format!("{name}={}", v.unwrap_or("-"))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Assert that `headers` carry exactly the values of `spec` (see
/// [`header_values`]); the message lists every header.
pub fn assert_headers(headers: &[(String, String)], spec: &str, label: &str) {
    let want = spec.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(header_values(headers, spec), want, "{label}; headers: {headers:?}");
}

/// `show table NAME`'s entries as key → (field → value), every field but
/// `key` numeric (the seeded drift tests compare them all).
pub fn table_entries(
    stats: u16,
    table: &str,
) -> std::collections::HashMap<String, std::collections::HashMap<String, u64>> {
    cli(stats, &format!("show table {table}"))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let mut fields = std::collections::HashMap::new();
            let mut key = String::new();
            for word in l.split_whitespace().skip(1) {
                let (k, v) = word.split_once('=').expect("field=value");
                if k == "key" {
                    key = v.to_owned();
                } else {
                    fields.insert(k.to_owned(), v.parse().expect("numeric field"));
                }
            }
            (key, fields)
        })
        .collect()
}
