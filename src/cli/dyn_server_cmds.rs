//! Servers changed at run time from the stats port, as HAProxy 2.6's
//! runtime API: `add server BE/SRV ADDR [options]`, `del server BE/SRV`,
//! `enable|disable health BE/SRV` and `set server BE/SRV addr IP [port P]`.
//! Texts are HAProxy 2.6's.
//!
//! A server added here starts in maintenance (`enable server` puts it in
//! the farm), only in a backend whose algorithm copes with servers coming
//! and going. A deleted server keeps its index in its `BackendState`
//! (streams, idle connections and checks refer to servers by index) but
//! is gone for everything else: it is never chosen, listed or found.

use super::commands::CliData;
use crate::backend::BackendState;
use crate::cfg::AccessLevel;

/// `BE/SRV` split, or HAProxy's complaint.
fn split<'a>(arg: Option<&&'a str>) -> Result<(&'a str, &'a str), &'static str> {
    arg.and_then(|a| a.split_once('/')).filter(|(_, s)| !s.is_empty()).ok_or("Require 'backend/server'.\n")
}

/// The backend named `be` (a proxy with the backend capability).
fn backend<'d>(data: &'d mut dyn CliData, be: &str) -> Option<&'d mut BackendState> {
    let bi = data.config().proxies.iter().position(|p| p.name == be && p.cap.backend)?;
    data.backends_mut().get_mut(bi)
}

/// `add server BE/SRV ADDR[:PORT] [options]`
pub fn add_server(words: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    match add(words, data) {
        Ok(msg) => super::severity::info(out, msg.as_bytes()),
        Err(e) => super::severity::err(out, e.as_bytes()),
    }
}

fn add(words: &[&str], data: &mut dyn CliData) -> Result<String, String> {
    let (be, srv) = split(words.get(2))?;
    let Some(bi) = data.config().proxies.iter().position(|p| p.name == be && p.cap.backend) else {
        return Err("No such backend.\n".into());
    };
    let Some(state) = data.backends_mut().get_mut(bi) else { return Err("No such backend.\n".into()) };
    if !state.dynamic_lb() {
        return Err("Backend must use a dynamic load balancing to support dynamic servers.\n".into());
    }
    let rest: Vec<String> = words.iter().skip(3).map(|w| (*w).to_owned()).collect();
    // The parser's messages end their line; the CLI ends the answer.
    let server = crate::cfg::parser::dynamic_server(srv, &rest).map_err(|e| e + "\n")?;
    if state.find_server(srv).is_some() {
        return Err("Already exists a server with the same name in backend.\n\n".into());
    }
    let clash = server.id_forced.then(|| state.live_servers().find(|(_, s)| s.id == server.id)).flatten();
    if let Some((_, other)) = clash {
        let name = other.name.clone();
        let p = &data.config().proxies[bi];
        let at =
            p.servers.iter().find(|s| *s.name == *name).map(|s| format!(" at {}", s.loc)).unwrap_or_default();
        return Err(format!("'id' : custom id {} already used{at} ('server {name}').\n\n", server.id));
    }
    let Some(state) = data.backends_mut().get_mut(bi) else { return Err("No such backend.\n".into()) };
    state.add_server(&server);
    Ok("New server registered.\n\n".into())
}

/// `del server BE/SRV`: only a server in maintenance, with no stream, no
/// idle connection and nobody waiting in its queue.
pub fn del_server(words: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    match del(words, data) {
        Ok(msg) => super::severity::info(out, msg.as_bytes()),
        Err(e) => super::severity::err(out, e.as_bytes()),
    }
}

fn del(words: &[&str], data: &mut dyn CliData) -> Result<String, String> {
    let (be, srv) = split(words.get(2))?;
    let bi = data.config().proxies.iter().position(|p| p.name == be && p.cap.backend);
    let Some(bi) = bi.filter(|b| data.backends_mut().get_mut(*b).is_some()) else {
        return Err("No such backend.\n".into());
    };
    let Some(si) = data.backends_mut().get_mut(bi).and_then(|b| b.find_server(srv)) else {
        return Err("No such server.\n".into());
    };
    let idle = data.idle_conns(bi, si);
    let Some(s) = data.backends_mut().get_mut(bi).and_then(|b| b.servers.get_mut(si)) else {
        return Err("No such server.\n".into());
    };
    if s.admin != crate::backend::SrvAdmin::Maint {
        return Err("Only servers in maintenance mode can be deleted.\n".into());
    }
    if s.cur_conns > 0 || s.queue.waiting > 0 || idle > 0 {
        return Err("Server still has connections attached to it, cannot remove it.\n".into());
    }
    s.deleted = true;
    Ok("Server deleted.\n".into())
}

/// `enable health BE/SRV`: resumes the server's health checks.
pub fn enable_health(words: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    health(words, data, out, true);
}

/// `disable health BE/SRV`: pauses them; the last result is forgotten and
/// the server counts as UP (unchecked), as in HAProxy.
pub fn disable_health(words: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    health(words, data, out, false);
}

fn health(words: &[&str], data: &mut dyn CliData, out: &mut Vec<u8>, on: bool) {
    let now_ms = data.now_ms();
    let found = split(words.get(2)).map_err(str::to_owned).and_then(|(be, srv)| {
        let state = backend(data, be).ok_or("No such backend.\n\n")?;
        let si = state.find_server(srv).ok_or("No such server.\n\n")?;
        Ok((state, si))
    });
    let (state, si) = match found {
        Ok(f) => f,
        Err(e) => return super::severity::err(out, e.as_bytes()),
    };
    let was_up = state.is_up();
    let s = &mut state.servers[si];
    if on && s.health.is_none() {
        return super::severity::err(
            out,
            b"Health check was not configured on this server, cannot enable.\n\n",
        );
    }
    s.check_enabled = on;
    if !on {
        s.set_up(true, now_ms);
    }
    state.note_state(was_up, now_ms);
    out.push(b'\n');
}

/// `set server BE/SRV addr IP [port PORT]` (called by `set server`).
pub fn set_server_addr(words: &[&str], data: &mut dyn CliData, out: &mut Vec<u8>) {
    match set_addr(words, data) {
        // HAProxy answers a change with a warning (syslog severity 4)
        Ok(msg) => super::severity::message(out, 4, msg.as_bytes()),
        Err(e) => super::severity::err(out, e.as_bytes()),
    }
}

fn set_addr(words: &[&str], data: &mut dyn CliData) -> Result<String, String> {
    const USAGE: &str = "set server <b>/<s> addr requires an address and optionally a port.\n\n";
    let (be, srv) = split(words.get(2)).map_err(|_| "Require 'backend/server'.\n\n")?;
    let state = backend(data, be).ok_or("No such backend.\n\n")?;
    let si = state.find_server(srv).ok_or("No such server.\n\n")?;
    let ip_text = words.get(4).ok_or(USAGE)?;
    let port = match (words.get(5), words.get(6)) {
        (None, _) => None,
        (Some(&"port"), Some(p)) => {
            Some(p.parse::<u16>().map_err(|_| format!("Invalid port '{p}' by 'stats socket command'\n\n"))?)
        }
        _ => return Err(USAGE.into()),
    };
    let s = &mut state.servers[si];
    let Ok(ip) = ip_text.parse::<std::net::IpAddr>() else {
        return Err(format!("Invalid addr '{ip_text}' by 'stats socket command'\n\n"));
    };
    let port_changed = port.is_some_and(|p| Some(p) != s.port);
    let mut msg = String::new();
    if s.addr == Some(ip) {
        msg.push_str("no need to change the addr");
    } else {
        let old = s.addr.map_or_else(|| "(none)".to_owned(), |a| a.to_string());
        msg.push_str(&format!("IP changed from '{old}' to '{ip}'"));
        s.addr = Some(ip);
        s.resolution_maint = false;
    }
    match port {
        Some(p) if port_changed => {
            let old = s.port.map_or_else(|| "(none)".to_owned(), |o| o.to_string());
            msg.push_str(&format!(", port changed from '{old}' to '{p}'"));
            s.port = Some(p);
        }
        Some(_) => msg.push_str(", no need to change the port"),
        None => {}
    }
    msg.push_str(" by 'stats socket command'\n\n");
    Ok(msg)
}
