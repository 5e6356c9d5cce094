//! `server-state-file` / `load-server-state-from-file` at start, before
//! any traffic, as HAProxy 2.6's `apply_server_state`: the global file is
//! read once for every backend with `global`; a backend with `local` reads
//! its own file (`server-state-file-name`, else its name), relative names
//! under `server-state-base`. A missing or refused file is a warning and
//! the servers keep their configured state: a bad file never stops the
//! proxy. What a line changes is `backend::state_apply`.

use crate::backend::Backends;
use crate::backend::state_apply::{self, Event};
use crate::backend::state_file::{self, ForBackend, Refused, StateFile};
use crate::cfg::Config;
use crate::cfg::knobs::LoadServerState;

/// `[WARNING]  (PID) : config : MSG`, as HAProxy prints these at start.
fn warn(msg: &str) {
    eprintln!("[WARNING]  ({}) : config : {msg}", std::process::id());
    log::warn!(target: "runtime", "{msg}");
}

/// A file name under `server-state-base` unless absolute.
fn path_of(cfg: &Config, name: &str) -> String {
    match &cfg.global.process.server_state_base {
        Some(base) if !name.starts_with('/') => {
            format!("{base}{}{name}", if base.ends_with('/') { "" } else { "/" })
        }
        _ => name.to_string(),
    }
}

/// The global file, or None (with HAProxy's warning) when it cannot be used.
fn global_file(cfg: &Config) -> Option<StateFile> {
    let path = path_of(cfg, cfg.global.process.server_state_file.as_deref()?);
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) => {
            warn(&format!("config: Can't open global server state file '{path}': {}", io_text(&e)));
            return None;
        }
    };
    match state_file::parse(&text, None, &mut Vec::new()) {
        Ok(f) => Some(f),
        Err(Refused::Version) => {
            warn(&format!("config: Can't get version of the global server state file '{path}'."));
            None
        }
        Err(Refused::Corrupt(line)) => {
            warn(&format!("config: corrupted global server state file '{path}' at line {line}."));
            None
        }
    }
}

/// C's `strerror` text for an I/O error (without Rust's "(os error N)").
fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_string()
}

/// A backend's local file, or None (with HAProxy's warning).
fn local_file(cfg: &Config, bi: usize) -> Option<StateFile> {
    let p = &cfg.proxies[bi];
    let path = path_of(cfg, p.knobs.server_state_file_name.as_deref().unwrap_or(&p.name));
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) => {
            warn(&format!("Proxy '{}': Can't open server state file '{path}': {}.", p.name, io_text(&e)));
            return None;
        }
    };
    let mut notes = Vec::new();
    // the id strata shows in `show servers state` for this backend
    let res = state_file::parse(&text, Some(&ForBackend { name: &p.name, id: p.id }), &mut notes);
    notes.iter().for_each(|n| warn(n));
    match res {
        Ok(f) => Some(f),
        Err(Refused::Version) => {
            warn(&format!("Proxy '{}': Can't get version of the server state file '{path}'.", p.name));
            None
        }
        Err(Refused::Corrupt(line)) => {
            warn(&format!("Proxy '{}': corrupted server state file '{path}' at line {line}.", p.name));
            None
        }
    }
}

/// What the checks of the servers must continue from: (backend, server,
/// health counter, check port).
pub type CheckUpdate = (usize, usize, Option<u32>, Option<u16>);

/// Applies every configured state file to `backends` at `now_ms`.
/// Returns what the health checks must take over.
pub fn apply_all(cfg: &Config, backends: &mut Backends, now_ms: u64) -> Vec<CheckUpdate> {
    let mut updates = Vec::new();
    let wants = |m| cfg.proxies.iter().any(|p| p.cap.backend && p.knobs.load_server_state == m);
    let mut global = if wants(LoadServerState::Global) { global_file(cfg) } else { None };
    for (bi, p) in cfg.proxies.iter().enumerate() {
        if !p.cap.backend || p.knobs.disabled || p.servers.is_empty() {
            continue;
        }
        let mut local = match p.knobs.load_server_state {
            LoadServerState::None => continue,
            LoadServerState::Global => None,
            LoadServerState::Local => match local_file(cfg, bi) {
                Some(f) => Some(f),
                None => continue,
            },
        };
        let Some(file) = local.as_mut().or(global.as_mut()) else { continue };
        let Some(be) = backends.get_mut(bi) else { continue };
        for (si, scfg) in p.servers.iter().enumerate() {
            let Some(line) = file.lines.remove(&(p.name.clone(), scfg.name.clone())) else { continue };
            let name = format!("{}/{}", p.name, scfg.name);
            let was_up = be.is_up();
            let a = state_apply::apply(&mut be.servers[si], scfg, &line.params, &name, now_ms);
            be.note_state(was_up, now_ms);
            for e in &a.events {
                warn(&event_line(be, si, &name, *e));
            }
            if let Some(w) = &a.warning {
                warn(w);
            }
            if a.check_health.is_some() || a.check_port.is_some() {
                updates.push((bi, si, a.check_health, a.check_port));
            }
        }
        if let Some(f) = local {
            for (_, srv) in f.lines.keys() {
                warn(&format!("Proxy '{}': can't find server '{srv}' in backend '{}'", p.name, p.name));
            }
        }
    }
    updates
}

/// HAProxy's line for a state change made by the file.
fn event_line(be: &crate::backend::BackendState, si: usize, name: &str, e: Event) -> String {
    let active = be.servers.iter().filter(|s| !s.backup && s.usable()).count();
    let backup = be.servers.iter().filter(|s| s.backup && s.usable()).count();
    let cur = be.servers[si].cur_conns;
    let left = format!(
        "{active} active and {backup} backup servers left. {cur} sessions active, 0 requeued, 0 remaining in queue."
    );
    match e {
        Event::Down => format!("Server {name} is DOWN, changed from server-state after a reload. {left}"),
        Event::Maint => format!("Server {name} is going DOWN for maintenance. {left}"),
        Event::Ready => format!("Server {name} is UP/READY (leaving forced maintenance)."),
        Event::Drain => format!("Server {name} remains in forced drain mode."),
    }
}
