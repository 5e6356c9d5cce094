//! `http-request use-service prometheus-exporter`: HAProxy 2.6's metrics
//! (text format 0.0.4) from the same numbers as `show info`/`show stat`,
//! with its `scope` (`process`, `frontend`, `backend`, `server`,
//! `sticktable`, `*`) and `no-maint` parameters; then strata's own:
//! `strata_counters_consistent` (1 when the last `debug counters check`
//! audit held) and per-table entry and tracker gauges.

use super::ServiceData;
use super::prom_metrics::{METRICS, Metric, Scope, Src, Ty};
use super::reply::reply;
use super::top_entries::top;
use crate::cli::stat::{Kind, StatLine};
use crate::l6_stream::service::ServiceReply;
use crate::l7_http::txn::{MethodKind, Txn};
use std::fmt::Write;

const SERVER_STATES: [&str; 5] = ["DOWN", "UP", "MAINT", "DRAIN", "NOLB"];
const CHECK_STATES: [&str; 16] = [
    "HANA", "SOCKERR", "L4OK", "L4TOUT", "L4CON", "L6OK", "L6TOUT", "L6RSP", "L7TOUT", "L7RSP", "L7OK",
    "L7OKC", "L7STS", "PROCERR", "PROCTOUT", "PROCOK",
];

/// Which scopes a scrape asks for (`?scope=X&scope=Y`; none: all).
fn scopes(txn: &Txn) -> ([bool; 5], bool) {
    let uri = String::from_utf8_lossy(txn.uri_bytes()).into_owned();
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    let mut asked = None::<[bool; 5]>;
    let mut no_maint = false;
    for kv in query.split('&') {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        match k {
            "scope" => {
                let set = asked.get_or_insert([false; 5]);
                match v {
                    "*" => *set = [true; 5],
                    "global" | "process" => set[0] = true,
                    "frontend" => set[1] = true,
                    "backend" => set[2] = true,
                    "server" => set[3] = true,
                    "sticktable" => set[4] = true,
                    _ => {}
                }
            }
            "no-maint" => no_maint = true,
            _ => {}
        }
    }
    (asked.unwrap_or([true; 5]), no_maint)
}

fn scope_index(s: Scope) -> usize {
    match s {
        Scope::Process => 0,
        Scope::Frontend => 1,
        Scope::Backend => 2,
        Scope::Server => 3,
        Scope::Table => 4,
    }
}

/// The value text of a numeric field, `NaN` when empty.
fn number(v: &str) -> String {
    if v.is_empty() { "NaN".into() } else { v.to_owned() }
}

fn seconds_from_ms(v: &str) -> String {
    v.parse::<f64>().map_or_else(|_| "NaN".into(), |ms| format!("{:.6}", ms / 1000.0))
}

/// A server's state label for `status`.
fn server_state(status: &str) -> &'static str {
    if status.starts_with("MAINT") {
        "MAINT"
    } else if status.starts_with("DRAIN") {
        "DRAIN"
    } else if status.starts_with("NOLB") {
        "NOLB"
    } else if status.starts_with("UP") || status == "no check" {
        "UP"
    } else {
        "DOWN"
    }
}

/// The check status word of a `check_status` field (`* L7OK` in progress).
fn check_state(v: &str) -> &str {
    v.trim_start_matches("* ")
}

struct Out<'a> {
    text: String,
    data: &'a ServiceData<'a>,
    info: String, // `show info` as text, read by the process metrics
}

impl Out<'_> {
    fn family(&mut self, m: &Metric, samples: &[String]) {
        if samples.is_empty() {
            return;
        }
        let ty = if m.ty == Ty::Counter { "counter" } else { "gauge" };
        let _ = write!(self.text, "# HELP {} {}\n# TYPE {} {ty}\n", m.name, m.help, m.name);
        for s in samples {
            self.text.push_str(s);
            self.text.push('\n');
        }
    }

    fn process(&mut self, m: &Metric) {
        let Src::Info(field) = m.src else {
            // The zlib memory fields: strata has no compression.
            return self.family(m, &[format!("{} NaN", m.name)]);
        };
        let value = self.info.lines().find_map(|l| l.strip_prefix(field).and_then(|r| r.strip_prefix(": ")));
        let sample = match (field, value) {
            ("Build info", _) => format!("{}{{version=\"{}\"}} 1", m.name, crate::cli::info::version()),
            (_, Some(v)) if v.parse::<f64>().is_ok() => format!("{} {v}", m.name),
            _ => format!("{} NaN", m.name),
        };
        self.family(m, &[sample]);
    }

    fn objects(&mut self, m: &Metric, kind: Kind, no_maint: bool) {
        let mut samples = Vec::new();
        let lines: Vec<&StatLine> = self
            .data
            .lines
            .iter()
            .filter(|l| l.kind == kind)
            .filter(|l| !(no_maint && kind == Kind::Server && l.get("status").starts_with("MAINT")))
            .collect();
        let labels = |l: &StatLine| match kind {
            Kind::Server => format!("proxy=\"{}\",server=\"{}\"", l.get("pxname"), l.get("svname")),
            _ => format!("proxy=\"{}\"", l.get("pxname")),
        };
        let tcp = |l: &StatLine| l.get("mode") == "tcp";
        match m.src {
            Src::Stat(f) | Src::Millis(f) => {
                for l in &lines {
                    let v = l.get(f);
                    if v.is_empty() && tcp(l) {
                        continue; // an HTTP field of a TCP proxy
                    }
                    let v = if matches!(m.src, Src::Millis(_)) { seconds_from_ms(v) } else { number(v) };
                    samples.push(format!("{}{{{}}} {v}", m.name, labels(l)));
                }
            }
            Src::Status => {
                let states: &[&str] = if kind == Kind::Server { &SERVER_STATES } else { &["DOWN", "UP"] };
                for l in &lines {
                    let cur = match kind {
                        Kind::Server => server_state(l.get("status")),
                        _ if matches!(l.get("status"), "UP" | "OPEN") => "UP",
                        _ => "DOWN",
                    };
                    for s in states {
                        samples.push(format!(
                            "{}{{{},state=\"{s}\"}} {}",
                            m.name,
                            labels(l),
                            u8::from(*s == cur)
                        ));
                    }
                }
            }
            Src::Responses => {
                for (code, f) in [
                    ("1xx", "hrsp_1xx"),
                    ("2xx", "hrsp_2xx"),
                    ("3xx", "hrsp_3xx"),
                    ("4xx", "hrsp_4xx"),
                    ("5xx", "hrsp_5xx"),
                    ("other", "hrsp_other"),
                ] {
                    for l in lines.iter().filter(|l| !l.get(f).is_empty()) {
                        samples.push(format!("{}{{{},code=\"{code}\"}} {}", m.name, labels(l), l.get(f)));
                    }
                }
            }
            Src::CheckStatus | Src::CheckCode | Src::CheckDuration => {
                for l in lines.iter().filter(|l| !l.get("check_status").is_empty()) {
                    match m.src {
                        Src::CheckStatus => {
                            let cur = check_state(l.get("check_status"));
                            for s in CHECK_STATES {
                                samples.push(format!(
                                    "{}{{{},state=\"{s}\"}} {}",
                                    m.name,
                                    labels(l),
                                    u8::from(s == cur)
                                ));
                            }
                        }
                        Src::CheckCode => {
                            let code = l.get("check_code").parse::<u32>().unwrap_or(0);
                            samples.push(format!("{}{{{}}} {code}", m.name, labels(l)));
                        }
                        _ => {
                            let ms = if l.get("check_duration").is_empty() {
                                "0"
                            } else {
                                l.get("check_duration")
                            };
                            samples.push(format!("{}{{{}}} {}", m.name, labels(l), seconds_from_ms(ms)));
                        }
                    }
                }
            }
            Src::AggServer | Src::AggCheck => {
                for l in &lines {
                    let px = l.get("pxname");
                    let servers =
                        self.data.lines.iter().filter(|s| s.kind == Kind::Server && s.get("pxname") == px);
                    let states: &[&str] =
                        if m.src == Src::AggServer { &SERVER_STATES } else { &CHECK_STATES };
                    let mut counts = vec![0u32; states.len()];
                    for s in servers {
                        let cur = if m.src == Src::AggServer {
                            server_state(s.get("status"))
                        } else {
                            check_state(s.get("check_status"))
                        };
                        if let Some(i) = states.iter().position(|x| *x == cur) {
                            counts[i] += 1;
                        }
                    }
                    for (s, n) in states.iter().zip(counts) {
                        samples.push(format!("{}{{{},state=\"{s}\"}} {n}", m.name, labels(l)));
                    }
                }
            }
            Src::Nan => {
                for l in &lines {
                    samples.push(format!("{}{{{}}} NaN", m.name, labels(l)));
                }
            }
            _ => {}
        }
        self.family(m, &samples);
    }

    fn tables(&mut self, m: &Metric) {
        let samples: Vec<String> = self
            .data
            .tables
            .tables()
            .map(|t| {
                let v = if m.src == Src::TableSize { u64::from(t.size()) } else { u64::from(t.used()) };
                format!("{}{{name=\"{}\",type=\"{}\"}} {v}", m.name, t.name(), t.key_type().name())
            })
            .collect();
        self.family(m, &samples);
    }

    /// strata's own metrics.
    fn strata(&mut self, process: bool, tables: bool) {
        if process && let Some(a) = self.data.audit {
            let _ = write!(
                self.text,
                "# HELP strata_counters_consistent 1 when the last 'debug counters check' audit found every stick-table entry's use and conn_cur equal to its live trackers.\n# TYPE strata_counters_consistent gauge\nstrata_counters_consistent {}\n# HELP strata_counters_audited_trackers Live trackers counted by the last audit.\n# TYPE strata_counters_audited_trackers gauge\nstrata_counters_audited_trackers {}\n",
                u8::from(a.consistent),
                a.trackers
            );
        }
        if !tables || self.data.tables.tables().next().is_none() {
            return;
        }
        let tops: Vec<_> = self.data.tables.tables().map(|t| (t, top(t, 0, self.data.now_ms))).collect();
        for (name, help, pick) in [
            ("strata_sticktable_entries", "Entries in this stick table.", 0),
            (
                "strata_sticktable_trackers",
                "References held on this stick table's entries (live trackers and transient users).",
                1,
            ),
        ] {
            let _ = write!(self.text, "# HELP {name} {help}\n# TYPE {name} gauge\n");
            for (t, top) in &tops {
                let v = if pick == 0 { top.entries } else { top.trackers };
                let _ = writeln!(
                    self.text,
                    "{name}{{name=\"{}\",type=\"{}\"}} {v}",
                    t.name(),
                    t.key_type().name()
                );
            }
        }
    }
}

/// Answers one scrape.
pub fn serve(txn: &Txn, data: &ServiceData<'_>) -> ServiceReply {
    let (asked, no_maint) = scopes(txn);
    let info = data.info.render();
    let mut out = Out { text: String::with_capacity(64 * 1024), data, info };
    for m in METRICS {
        if !asked[scope_index(m.scope)] {
            continue;
        }
        match m.scope {
            Scope::Process => out.process(m),
            Scope::Frontend => out.objects(m, Kind::Frontend, no_maint),
            Scope::Backend => out.objects(m, Kind::Backend, no_maint),
            Scope::Server => out.objects(m, Kind::Server, no_maint),
            Scope::Table => out.tables(m),
        }
    }
    out.strata(asked[0], asked[4]);
    reply(200, "text/plain; version=0.0.4", &[], out.text.as_bytes(), txn.method == MethodKind::Head)
}
