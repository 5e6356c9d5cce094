//! What HAProxy 2.6 logs when a server's administrative state changes
//! (`disable server`, `enable server`, `set server ... state`): `Server
//! be/s is going DOWN for maintenance. ...` (alert), `... was DOWN and now
//! enters maintenance`, `... is UP/READY (leaving forced maintenance)`,
//! `... enters drain state. ...`, `... is UP (leaving forced drain)`
//! (notices), and `backend be has no server available!` (emerg) when the
//! change took the backend's last server. Texts are `_srv_update_status`'s.
//!
//! The caller snapshots the server with [`Before::of`], applies the change,
//! then asks [`admin_change`] for the lines; it sends them to the
//! backend's log targets and stderr.

use super::{BackendState, ServerState, SrvAdmin};

/// Syslog levels used here.
const EMERG: u32 = 0;
const ALERT: u32 = 1;
const NOTICE: u32 = 5;

/// One line for the backend's log targets and stderr.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminLog {
    pub level: u32,     // syslog level
    pub text: String,   // the log line (without the final newline)
    pub stderr: String, // what stderr shows after `[WARNING]`/`[ALERT]`
    pub alert: bool,    // `[ALERT]` on stderr, else `[WARNING]`
}

/// The server and its backend before the change.
#[derive(Clone, Copy, Debug)]
pub struct Before {
    maint: bool,
    drain: bool,
    running: bool,  // not DOWN by its checks
    stopping: bool, // NOLB (`disable-on-404`)
    usable: usize,  // usable servers of the backend
}

impl Before {
    pub fn of(be: &BackendState, server: usize) -> Before {
        let s = &be.servers[server];
        Before {
            maint: s.in_maint(),
            drain: s.admin == SrvAdmin::Drain,
            running: s.up,
            stopping: s.nolb,
            usable: be.servers.iter().filter(|x| x.usable()).count(),
        }
    }
}

/// The lines HAProxy logs for the change of `server` since `before`.
/// `listen`: the backend is also a frontend (HAProxy calls it `proxy`).
pub fn admin_change(be: &BackendState, server: usize, before: &Before, listen: bool) -> Vec<AdminLog> {
    let s = &be.servers[server];
    let who = format!("{}Server {}/{}", if s.backup { "Backup " } else { "" }, be.name, s.name);
    let notice = |text: String| AdminLog { level: NOTICE, stderr: text.clone(), text, alert: false };
    let mut out = Vec::new();
    let (maint, drain) = (s.in_maint(), s.admin == SrvAdmin::Drain);
    if maint && !before.maint {
        if !before.running {
            out.push(notice(format!("{who} was DOWN and now enters maintenance.")));
        } else {
            let text = format!("{who} is going DOWN for maintenance{}.", counts(be, s, true));
            let level = if before.stopping { NOTICE } else { ALERT };
            out.push(AdminLog { level, stderr: text.clone(), text, alert: false });
        }
    } else if !maint && before.maint {
        let state = if s.up { "UP" } else { "DOWN" };
        let admin = if drain { "DRAIN" } else { "READY" };
        out.push(notice(format!("{who} is {state}/{admin} (leaving forced maintenance).")));
    }
    if !maint && drain && !before.drain {
        out.push(notice(format!("{who} enters drain state{}.", counts(be, s, false))));
    } else if !maint && !drain && before.drain && !before.maint {
        out.push(notice(format!("{who} is {} (leaving forced drain).", if s.up { "UP" } else { "DOWN" })));
    }
    let usable = be.servers.iter().filter(|x| x.usable()).count();
    if before.usable > 0 && usable == 0 {
        let kind = if listen { "proxy" } else { "backend" };
        out.push(AdminLog {
            level: EMERG,
            text: format!("{kind} {} has no server available!", be.name),
            stderr: format!("{kind} '{}' has no server available!", be.name),
            alert: true,
        });
    }
    out
}

/// `srv_append_status` without a check: the backend's usable servers,
/// then the server's sessions and queue. `stopped`: the server no longer
/// takes traffic at all (`left`, else `online`). strata moves no queued
/// stream to another server here: 0 requeued.
fn counts(be: &BackendState, s: &ServerState, stopped: bool) -> String {
    let act = be.servers.iter().filter(|x| !x.backup && x.usable()).count();
    let bck = be.servers.iter().filter(|x| x.backup && x.usable()).count();
    let on_backup = if bck > 0 && act == 0 { " Running on backup." } else { "" };
    let queue = s.queue.waiting;
    if stopped {
        format!(
            ". {act} active and {bck} backup servers left.{on_backup} {} sessions active, 0 requeued, {queue} remaining in queue",
            s.cur_conns
        )
    } else {
        format!(
            ". {act} active and {bck} backup servers online.{on_backup} 0 sessions requeued, {queue} total in queue"
        )
    }
}
