//! HAProxy's health-check messages, word for word: `option
//! log-health-checks` lines (`Health check for server be/s succeeded,
//! reason: ..., status: 1/1 UP.`), server state changes (`Server be/s is
//! DOWN, reason: ... 0 active and 0 backup servers left. ...`) and
//! `backend be has no server available!`. Each goes to the backend's log
//! targets at HAProxy's level and to stderr.

use crate::backend::check::status::Verdict;
use crate::backend::check::{Check, Finished};
use crate::backend::{BackendState, ServerState};
use crate::cfg::Proxy;

/// Syslog levels used here.
const EMERG: u32 = 0;
const ALERT: u32 = 1;
const NOTICE: u32 = 5;

/// One message for a backend's log targets (and stderr).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    pub proxy: usize,   // the backend's proxy index
    pub level: u32,     // syslog level
    pub text: String,   // the log line
    pub stderr: String, // what stderr shows (`[WARNING]`/`[ALERT]` added by the writer)
    pub alert: bool,    // `[ALERT]` on stderr, else `[WARNING]`
}

/// What HAProxy calls a backend-side proxy in messages.
fn kind(p: &Proxy) -> &'static str {
    if p.cap.frontend { "proxy" } else { "backend" }
}

/// `, reason: DESC, code: N, info: "TEXT", check duration: Nms` of a run.
fn reason(f: &Finished) -> String {
    format!(", reason: {}, check duration: {}ms", f.outcome.reason(), f.duration.as_millis())
}

/// `option log-health-checks`: a run that changed the status or moved the counter.
pub fn health_line(p: &Proxy, srv: &ServerState, check: &Check, f: &Finished) -> LogLine {
    let verdict = f.outcome.status.verdict();
    let spec = &check.spec;
    let (rise, fall, h) = (spec.rise, spec.fall, check.health);
    let up = h >= rise;
    let state = match (up, srv.weight > 0) {
        (true, true) => "UP",
        (true, false) => "DRAIN",
        (false, _) => "DOWN",
    };
    let text = format!(
        "{} check for {}server {}/{} {}{}{}, status: {}/{} {state}.",
        if spec.agent { "Agent" } else { "Health" },
        if srv.backup { "backup " } else { "" },
        p.name,
        srv.name,
        if verdict == Verdict::CondPass { "conditionally " } else { "" },
        if matches!(verdict, Verdict::Passed | Verdict::CondPass) { "succeeded" } else { "failed" },
        reason(f),
        if up { h - rise + 1 } else { h },
        if up { fall } else { rise },
    );
    LogLine { proxy: spec.backend, level: NOTICE, stderr: text.clone(), text, alert: false }
}

/// The server's new state (`is UP`, `is DOWN`, `is stopping`). `run`: the
/// run that decided it, told as the reason unless `log-health-checks`
/// already did; `stopping_before`: it was in NOLB or DRAIN (a DOWN is then
/// only a notice).
pub fn state_line(
    p: &Proxy,
    be: &BackendState,
    server: usize,
    run: Option<&Finished>,
    stopping_before: bool,
) -> LogLine {
    let s = &be.servers[server];
    let act = be.servers.iter().filter(|x| !x.backup && x.usable()).count();
    let bck = be.servers.iter().filter(|x| x.backup && x.usable()).count();
    let on_backup = if bck > 0 && act == 0 { " Running on backup." } else { "" };
    let why = run.map(reason).unwrap_or_default();
    let who = format!("{}Server {}/{}", if s.backup { "Backup " } else { "" }, p.name, s.name);
    let queue = s.queue.waiting;
    let (text, level) = if s.up && !s.nolb {
        let t = format!(
            "{who} is UP{why}. {act} active and {bck} backup servers online.{on_backup} 0 sessions requeued, {queue} total in queue."
        );
        (t, NOTICE)
    } else {
        let what = if s.up { "is stopping" } else { "is DOWN" };
        let t = format!(
            "{who} {what}{why}. {act} active and {bck} backup servers left.{on_backup} {} sessions active, 0 requeued, {queue} remaining in queue.",
            s.cur_conns
        );
        (t, if s.up || stopping_before { NOTICE } else { ALERT })
    };
    LogLine { proxy: be.proxy, level, stderr: text.clone(), text, alert: false }
}

/// `backend be has no server available!`: the backend lost its last server.
pub fn no_server(p: &Proxy, index: usize) -> LogLine {
    LogLine {
        proxy: index,
        level: EMERG,
        text: format!("{} {} has no server available!", kind(p), p.name),
        stderr: format!("{} '{}' has no server available!", kind(p), p.name),
        alert: true,
    }
}
