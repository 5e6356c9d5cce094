//! `show stat` parsed: the header's field names and one [`StatRow`] per
//! line, looked up by (`pxname`, `svname`) and field name.
//! [`expect_stat`] polls until some fields of one line show exact values
//! (the proxy counts a stream when it ends, a moment after the client saw
//! the response).

use std::collections::HashMap;

use super::cli_client::cli;
use super::client::wait_until;
use super::time::ms;

/// How long [`expect_stat`] waits before failing.
const SETTLE_MS: u64 = 10_000;

/// One CSV line.
#[derive(Clone, Debug)]
pub struct StatRow {
    pub px: String,                      // pxname
    pub sv: String,                      // svname: FRONTEND, BACKEND or a server
    pub fields: HashMap<String, String>, // every field by its header name
    pub raw: String,                     // the line as received
}

/// A whole `show stat` reply.
#[derive(Clone, Debug)]
pub struct Stat {
    pub header: String,     // the first line, as received
    pub names: Vec<String>, // field names from the header (without `# `)
    pub rows: Vec<StatRow>, // in reply order
    pub raw: String,        // the whole reply
}

impl Stat {
    pub fn parse(raw: &str) -> Stat {
        let mut lines = raw.lines();
        let header = lines.next().unwrap_or_default().to_string();
        let names: Vec<String> =
            header.trim_start_matches("# ").trim_end_matches(',').split(',').map(str::to_string).collect();
        let rows = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let vals: Vec<&str> = l.trim_end_matches(',').split(',').collect();
                let fields: HashMap<String, String> =
                    names.iter().cloned().zip(vals.iter().map(|v| v.to_string())).collect();
                StatRow {
                    px: vals.first().copied().unwrap_or_default().to_string(),
                    sv: vals.get(1).copied().unwrap_or_default().to_string(),
                    fields,
                    raw: l.to_string(),
                }
            })
            .collect();
        Stat { header, names, rows, raw: raw.to_string() }
    }

    pub fn row(&self, px: &str, sv: &str) -> Option<&StatRow> {
        self.rows.iter().find(|r| r.px == px && r.sv == sv)
    }

    /// Field `field` of line (`px`, `sv`); panics (showing the reply) if
    /// the line or the field is missing.
    pub fn get(&self, px: &str, sv: &str, field: &str) -> &str {
        let row = self.row(px, sv).unwrap_or_else(|| panic!("no line {px}/{sv} in:\n{}", self.raw));
        row.fields.get(field).map(String::as_str).unwrap_or_else(|| panic!("no field {field} in {}", row.raw))
    }

    /// (pxname, svname) of every line, in order.
    pub fn order(&self) -> Vec<(String, String)> {
        self.rows.iter().map(|r| (r.px.clone(), r.sv.clone())).collect()
    }

    /// `field=value` pairs of `spec` that line (`px`, `sv`) does not show.
    pub fn mismatches(&self, px: &str, sv: &str, spec: &[(&str, &str)]) -> Vec<String> {
        let Some(row) = self.row(px, sv) else { return vec![format!("no line {px}/{sv}")] };
        spec.iter()
            .filter(|(f, v)| row.fields.get(*f).map(String::as_str) != Some(*v))
            .map(|(f, v)| format!("{f}: want {v:?}, got {:?}", row.fields.get(*f)))
            .collect()
    }
}

/// `show stat` (with `args` after it, e.g. `"-1 4 -1"`) parsed.
pub fn show_stat(port: u16, args: &str) -> Stat {
    let cmd = if args.is_empty() { "show stat".to_string() } else { format!("show stat {args}") };
    Stat::parse(&cli(port, &cmd))
}

/// Polls `show stat` until line (`px`, `sv`) shows every `field=value` of
/// `spec`; returns that reply. Panics past a generous deadline with what
/// still differs.
pub fn expect_stat(port: u16, px: &str, sv: &str, spec: &[(&str, &str)], label: &str) -> Stat {
    let mut last = None;
    let ok = wait_until(ms(SETTLE_MS), || {
        let s = show_stat(port, "");
        let done = s.mismatches(px, sv, spec).is_empty();
        last = Some(s);
        done
    });
    let s = last.expect("polled at least once");
    assert!(
        ok,
        "{label}: {px}/{sv} still differs: {:?}\nline: {:?}",
        s.mismatches(px, sv, spec),
        s.row(px, sv).map(|r| &r.raw)
    );
    s
}
