//! Server and limit commands of the stats port: `disable|enable server`,
//! `set server ... state|weight`, `set weight`, `get weight`,
//! `show servers state`, `set maxconn global|frontend`, `clear counters`,
//! `show stat`. Texts are HAProxy 2.6's.

use super::commands::CliData;
use super::stat;
use crate::backend::{BackendState, ServerState, SrvAdmin, admin_log};
use crate::cfg::AccessLevel;

/// Finds `BE/SRV`: the backend's proxy index and the server's index.
fn find(data: &mut dyn CliData, arg: Option<&&str>) -> Result<(usize, usize), &'static str> {
    let (be, srv) = arg.and_then(|a| a.split_once('/')).ok_or("Require 'backend/server'.\n\n")?;
    let cfg = data.config();
    let bi = cfg.proxies.iter().position(|p| p.name == be && p.cap.backend).ok_or("No such backend.\n\n")?;
    let state = data.backends_mut().get_mut(bi).ok_or("No such backend.\n\n")?;
    let si = state.find_server(srv).ok_or("No such server.\n\n")?;
    Ok((bi, si))
}

/// Applies `f` to server `BE/SRV`, keeping the backend's UP/DOWN history.
fn with_server(
    data: &mut dyn CliData,
    arg: Option<&&str>,
    out: &mut Vec<u8>,
    f: impl FnOnce(&mut ServerState) -> Result<(), &'static str>,
) {
    let now_ms = data.now_ms();
    let (bi, si) = match find(data, arg) {
        Ok(found) => found,
        Err(e) => return super::severity::err(out, e.as_bytes()),
    };
    let listen = data.config().proxies[bi].cap.frontend;
    let Some(be) = data.backends_mut().get_mut(bi) else { return };
    let was_up = be.is_up();
    let before = admin_log::Before::of(be, si);
    match f(&mut be.servers[si]) {
        Ok(()) => {
            be.note_state(was_up, now_ms);
            let lines = admin_log::admin_change(be, si, &before, listen);
            let proxy = be.proxy;
            if be.servers[si].admin == SrvAdmin::Maint {
                data.close_idle(bi, si); // as HAProxy, a server in maintenance keeps no idle connection
            }
            lines.iter().for_each(|l| data.server_event(proxy, l));
            out.push(b'\n');
        }
        Err(e) => super::severity::err(out, e.as_bytes()),
    }
}

pub(crate) fn set_admin(s: &mut ServerState, admin: SrvAdmin) {
    s.admin = admin;
}

/// `disable server BE/SRV`
pub fn disable_server(words: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    with_server(data, words.get(2), out, |s| {
        set_admin(s, SrvAdmin::Maint);
        Ok(())
    });
}

/// `enable server BE/SRV`
pub fn enable_server(words: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    with_server(data, words.get(2), out, |s| {
        set_admin(s, SrvAdmin::Ready);
        Ok(())
    });
}

/// `set server BE/SRV state ready|drain|maint` and `set server BE/SRV weight W`.
pub fn set_server(words: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    const USAGE: &str = "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n\n";
    let (what, value) = (words.get(3).copied(), words.get(4).copied());
    if what == Some("addr") {
        return super::dyn_server_cmds::set_server_addr(words, data, out);
    }
    with_server(data, words.get(2), out, |s| match what {
        Some("state") => {
            let admin = match value {
                Some("ready") => SrvAdmin::Ready,
                Some("drain") => SrvAdmin::Drain,
                Some("maint") => SrvAdmin::Maint,
                _ => return Err("'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n"),
            };
            set_admin(s, admin);
            Ok(())
        }
        Some("weight") => set_weight_value(s, value),
        _ => Err(USAGE),
    });
}

/// `set weight BE/SRV W[%]`
pub fn set_weight(words: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    let value = words.get(3).copied();
    with_server(data, words.get(2), out, |s| set_weight_value(s, value));
}

/// HAProxy's weight change (`server_parse_weight_change_request`): an
/// absolute 0..=256, or a percentage of the initial weight, rounded down
/// and capped at 256 (`150%` and `9999%` are accepted); a number read like
/// C's `strtol`, so `-5` is an out-of-range absolute weight and `5x`
/// trailing garbage.
pub(crate) fn set_weight_value(s: &mut ServerState, value: Option<&str>) -> Result<(), &'static str> {
    let v = value.ok_or("Require <weight> or <weight%>.\n\n")?;
    let sign_len = usize::from(v.starts_with(['-', '+']));
    let digits_len = v[sign_len..].bytes().take_while(u8::is_ascii_digit).count();
    if digits_len == 0 {
        return Err("Empty weight string empty or preceded by garbage\n");
    }
    let (num, rest) = v.split_at(sign_len + digits_len);
    // Saturate like strtol; any value past the limits is refused or capped below.
    let n: i64 = num.parse().unwrap_or(if num.starts_with('-') { i64::MIN } else { i64::MAX });
    let w = match rest {
        "%" if n < 0 => return Err("Relative weight must be positive.\n\n"),
        "%" => (u64::from(s.initial_weight) * n.min(25_600) as u64 / 100).min(256) as u32,
        _ if !(0..=256).contains(&n) => {
            return Err("Absolute weight can only be between 0 and 256 inclusive.\n\n");
        }
        "" => n as u32,
        _ => return Err("Trailing garbage in weight string\n"),
    };
    s.weight = w;
    Ok(())
}

/// `get weight BE/SRV`
pub fn get_weight(words: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    match find(data, words.get(2)) {
        Ok((bi, si)) => {
            if let Some(be) = data.backends_mut().get_mut(bi) {
                let s = &be.servers[si];
                out.extend_from_slice(format!("{} (initial {})\n\n", s.weight, s.initial_weight).as_bytes());
            }
        }
        Err(e) => super::severity::err(out, e.as_bytes()),
    }
}

/// `show servers state [BE]`: HAProxy's version-1 state file format.
pub fn show_servers_state(words: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    let now_ms = data.now_ms();
    let only = match words.get(3) {
        Some(name) => match data.config().proxies.iter().position(|p| p.name == *name && p.cap.backend) {
            Some(i) => Some(i),
            None => return super::severity::err(out, b"Can't find backend.\n\n"),
        },
        None => None,
    };
    out.extend_from_slice(b"1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n");
    let ids: Vec<(usize, (u32, bool), String)> = data
        .config()
        .proxies
        .iter()
        .enumerate()
        .filter(|(i, p)| p.cap.backend && only.is_none_or(|o| o == *i))
        .map(|(i, p)| (i, (p.id, p.knobs.custom_id.is_some()), p.name.clone()))
        .collect();
    for (bi, be_id, be_name) in ids {
        let Some(be) = data.backends_mut().get_mut(bi) else { continue };
        for (_, s) in be.live_servers() {
            out.extend_from_slice(state_line(be_id, &be_name, s, be, now_ms).as_bytes());
        }
    }
    out.push(b'\n');
}

fn state_line(
    (be_id, be_forced): (u32, bool),
    be_name: &str,
    s: &ServerState,
    _: &BackendState,
    now_ms: u64,
) -> String {
    let maint = s.admin == SrvAdmin::Maint;
    let op = match (s.up && !s.in_maint(), s.nolb) {
        (true, true) => 3,
        (true, false) => 2,
        (false, _) => 0,
    };
    let mut admin = match s.admin {
        SrvAdmin::Maint => 0x01,
        SrvAdmin::Drain => 0x08,
        SrvAdmin::Ready => 0,
    };
    if s.disabled_in_config {
        admin |= 0x04; // CMAINT stays when the server is made ready
    }
    if s.resolution_maint {
        admin |= 0x20;
    }
    // HAProxy's check state flags: configured 2, enabled 4, paused 8 (a
    // health check in maintenance), in progress 1, agent 16.
    let flags = |h: &crate::backend::Health, agent: bool| {
        let mut f = 6 | u32::from(h.running);
        if agent {
            f |= 16;
        } else if s.in_maint() {
            f |= 8;
        }
        f
    };
    let (status, result, health, state) = match &s.health {
        Some(h) => {
            let result = match h.status {
                "INI" => 0,
                "L7OKC" => 4,
                st if st.ends_with("OK") => 3,
                _ => 2,
            };
            (h.number.max(1), result, h.value, flags(h, false))
        }
        None => (1, 0, if maint { 0 } else { s.rise }, 0),
    };
    let agent_state = s.agent.as_ref().map_or(0, |a| flags(a, true));
    let since = crate::core::clock::secs_between(s.history.last_change_ms, now_ms);
    let dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    format!(
        "{be_id} {be_name} {} {} {} {op} {admin} {} {} {since} {status} {result} {health} {state} {agent_state} {} {} {} {} - 0 {} {} {} {}\n",
        s.id,
        s.name,
        dash(s.addr.map(|a| a.to_string())),
        s.weight,
        s.initial_weight,
        u8::from(be_forced),
        u8::from(s.id_forced),
        dash(s.fqdn.clone()),
        s.port.unwrap_or(0),
        s.check_port.unwrap_or(0),
        dash(s.check_addr.map(|a| a.to_string())),
        dash(s.agent_addr.map(|a| a.to_string())),
        s.agent_port.unwrap_or(0),
    )
}

/// `set maxconn global N` (admin).
pub fn set_maxconn_global(words: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    let Some(v) = words.get(3) else { return super::severity::err(out, b"Expects an integer value.\n\n") };
    data.set_maxconn(None, atoi(v));
    out.push(b'\n');
}

/// `set maxconn frontend FE N` (admin).
pub fn set_maxconn_frontend(words: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    let Some(name) = words.get(3) else {
        return super::severity::err(out, b"A frontend name is expected.\n\n");
    };
    let Some(v) = words.get(4) else { return super::severity::err(out, b"Integer value expected.\n\n") };
    let Some(fe) = data.config().proxies.iter().position(|p| p.name == *name && p.cap.frontend) else {
        return super::severity::err(out, b"No such frontend.\n\n");
    };
    data.set_maxconn(Some(fe), atoi(v));
    out.push(b'\n');
}

/// `set rate-limit connections|sessions|ssl-sessions global N` (admin),
/// with HAProxy 2.6's answers. `http-compression global` (HAProxy's
/// `maxcomprate`) is not among them: strata has no compression rate limit.
pub fn set_rate_limit(words: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    use super::commands::RateLimit;
    let which = match (words.get(2).copied(), words.get(3).copied()) {
        (Some("connections"), Some("global")) => RateLimit::Connections,
        (Some("sessions"), Some("global")) => RateLimit::Sessions,
        (Some("ssl-sessions"), Some("global")) => RateLimit::SslSessions,
        _ => {
            return super::severity::err(
                out,
                b"'set rate-limit' only supports :\n\
                  \x20  - 'connections global' to set the per-process maximum connection rate\n\
                  \x20  - 'sessions global' to set the per-process maximum session rate\n\
                  \x20  - 'ssl-sessions global' to set the per-process maximum SSL session rate\n\n",
            );
        }
    };
    let Some(v) = words.get(4).filter(|v| !v.is_empty()) else {
        return super::severity::err(out, b"Expects an integer value.\n\n");
    };
    if v.starts_with('-') && atoi(&v[1..]) > 0 {
        return super::severity::err(out, b"Value out of range.\n\n");
    }
    data.set_rate_limit(which, atoi(v));
    out.push(b'\n');
}

/// C's `atoi`: leading digits, 0 when there are none.
fn atoi(s: &str) -> u32 {
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or(0)
}

/// `clear counters` (operator: maxima) and `clear counters all` (admin).
pub fn clear_counters(words: &[&str], level: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    let all = words.get(2) == Some(&"all");
    if all && level < AccessLevel::Admin {
        return super::severity::err(out, b"Permission denied\n\n");
    }
    data.clear_counters(all);
    out.push(b'\n');
}

/// `show stat [<iid> <type> <sid>]`
pub fn show_stat(words: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    let lines = data.stat_lines();
    stat::render(&lines, &words[2..], out);
}
