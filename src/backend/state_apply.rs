//! Applying one line of a server-state file ([`super::state_file`]) to a
//! server at start, with HAProxy 2.6's rules (`srv_state_srv_update`):
//!
//! - every numeric field is validated first; one bad value and nothing is
//!   applied ("server-state application failed for server ...");
//! - the operational state (UP, DOWN, starting, stopping) and the health
//!   counter of a server with `check` come back, so a server that was DOWN
//!   stays DOWN until its checks say otherwise;
//! - the administrative state comes back unless the configuration changed
//!   it: a server put in maintenance on the stats port stays in
//!   maintenance, one made ready though `disabled` stays ready, but a new
//!   or removed `disabled` wins; a forced drain comes back;
//! - the weight set at run time comes back unless the configured weight
//!   changed; so do the time of the last change, the port and the check and
//!   agent addresses and ports;
//! - the address comes back for a server named by host name whose
//!   `init-addr` tries `last` first.
//!
//! Servers without `check` keep HAProxy's outcome without its corner: their
//! operational state follows the administrative one (HAProxy would mark
//! such a server DOWN for good from a hand-written line).

use super::server::{ServerState, SrvAdmin};
use crate::cfg::Server;

const ADM_FMAINT: i64 = 0x01;
const ADM_IMAINT: i64 = 0x02;
const ADM_CMAINT: i64 = 0x04;
const ADM_FDRAIN: i64 = 0x08;
const ADM_IDRAIN: i64 = 0x10;
const ADM_RMAINT: i64 = 0x20;
const ADM_HMAINT: i64 = 0x40;
const UWEIGHT_MAX: i64 = 256; // HAProxy's SRV_UWGHT_MAX
const CHECK_STATUS_SIZE: i64 = 21; // HAProxy's HCHK_STATUS_SIZE
const CHECK_STATE_BITS: i64 = 0x1f; // INPROGRESS|CONFIGURED|ENABLED|PAUSED|AGENT

/// A change worth HAProxy's log line, in the order it happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Down,  // "is DOWN, changed from server-state after a reload"
    Maint, // "is going DOWN for maintenance"
    Ready, // "is UP/READY (leaving forced maintenance)"
    Drain, // "remains in forced drain mode"
}

/// What applying a line did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    pub events: Vec<Event>,
    pub warning: Option<String>, // HAProxy's "server-state ... for server 'BE/SRV', ..." text
    pub check_health: Option<u32>, // the health counter the server's check continues from
    pub check_port: Option<u16>, // the port the server's check connects to now
}

/// C's `strtol` in base 10: blanks, a sign, digits (the rest ignored);
/// None without digits or out of range.
fn strtol(s: &str) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t']);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits = &t[..t.bytes().take_while(u8::is_ascii_digit).count()];
    let v: i64 = digits.parse().ok()?;
    Some(if neg { -v } else { v })
}

/// The validated numeric fields of a line.
struct Fields {
    op: i64,
    admin: i64, // inherited and resolution flags removed
    uweight: i64,
    iweight: i64,
    since_s: i64,
    health: i64,
}

/// Validates the fields HAProxy validates, collecting its complaints.
fn validate(p: &[String], errs: &mut String) -> Option<Fields> {
    let field = |i: usize| p.get(i).map_or("", String::as_str);
    let mut num = |i: usize, name: &str, ok: &dyn Fn(i64) -> bool| match strtol(field(i)).filter(|v| ok(*v)) {
        Some(v) => v,
        None => {
            errs.push_str(&format!(", invalid {name} value '{}'", field(i)));
            0
        }
    };
    let op = num(1, "srv_op_state", &|v| (0..=3).contains(&v));
    let admin = num(2, "srv_admin_state", &|v| {
        let v = v & !(ADM_IDRAIN | ADM_IMAINT | ADM_HMAINT | ADM_RMAINT);
        [0, ADM_FMAINT, ADM_CMAINT, ADM_CMAINT | ADM_FMAINT, ADM_CMAINT | ADM_FDRAIN, ADM_FDRAIN].contains(&v)
    }) & !(ADM_IDRAIN | ADM_IMAINT | ADM_HMAINT | ADM_RMAINT);
    let uweight = num(3, "srv_uweight", &|v| (0..=UWEIGHT_MAX).contains(&v));
    let iweight = num(4, "srv_iweight", &|v| (0..=UWEIGHT_MAX).contains(&v));
    let since_s = num(5, "srv_last_time_change", &|_| true);
    num(6, "srv_check_status", &|v| (0..CHECK_STATUS_SIZE).contains(&v));
    num(7, "srv_check_result", &|v| (0..=4).contains(&v));
    let health = num(8, "srv_check_health", &|_| true);
    num(9, "srv_check_state", &|v| v & !CHECK_STATE_BITS == 0);
    num(10, "srv_agent_state", &|v| v & !CHECK_STATE_BITS == 0);
    num(11, "bk_f_forced_id", &|v| v == 0 || v == 1);
    num(12, "srv_f_forced_id", &|v| v == 0 || v == 1);
    errs.is_empty().then_some(Fields { op, admin, uweight, iweight, since_s, health })
}

/// Applies `params` (the fields from `srv_addr` on) to `srv`, configured
/// as `cfg`, at `now_ms`. `name` is `BE/SRV` for the warning text.
pub fn apply(srv: &mut ServerState, cfg: &Server, params: &[String], name: &str, now_ms: u64) -> Applied {
    let mut out = Applied::default();
    let mut errs = String::new();
    let Some(f) = validate(params, &mut errs) else {
        out.warning = Some(format!("server-state application failed for server '{name}'{errs}"));
        return out;
    };
    let cfg_cmaint = cfg.disabled;
    if cfg.check {
        apply_op_state(srv, cfg, &f, now_ms, &mut out);
    }
    // the administrative state: the configuration wins when it changed
    if (f.admin & ADM_CMAINT != 0) == cfg_cmaint {
        if f.admin & ADM_FMAINT != 0 && !cfg_cmaint && srv.admin != SrvAdmin::Maint {
            srv.admin = SrvAdmin::Maint;
            out.events.push(Event::Maint);
        } else if f.admin & ADM_FMAINT == 0 && cfg_cmaint && srv.admin == SrvAdmin::Maint {
            srv.admin = SrvAdmin::Ready;
            out.events.push(Event::Ready);
        }
    }
    // a drain comes back unless it came from a zero weight that is not zero anymore
    if srv.admin != SrvAdmin::Maint && f.admin & ADM_FDRAIN != 0 && (f.iweight > 0 || cfg.weight == 0) {
        srv.admin = SrvAdmin::Drain;
        out.events.push(Event::Drain);
    }
    let since_ms = u64::try_from(f.since_s).unwrap_or(0).saturating_mul(1000);
    srv.history.last_change_ms = now_ms.saturating_sub(since_ms).max(1);
    if f.iweight == i64::from(cfg.weight) {
        srv.weight = f.uweight as u32;
    }
    let field = |i: usize| params.get(i).map(String::as_str);
    if cfg.init_addr_last
        && cfg.fqdn.is_some()
        && let Some(ip) = field(0).and_then(|a| a.parse().ok())
    {
        srv.addr = Some(ip);
        srv.resolution_maint = false;
    }
    let mut partial = String::new();
    if let Some(p) = field(14) {
        match port(p) {
            Some(n) => srv.port = (n != 0).then_some(n),
            None => partial.push_str(&format!(", invalid srv_port value '{p}'")),
        }
    }
    if let Some(p) = field(17).filter(|p| *p != "0").and_then(port) {
        srv.check_port = Some(p);
        out.check_port = Some(p);
    }
    if let Some(a) = field(18).filter(|a| *a != "-").and_then(|a| a.parse().ok()) {
        srv.check_addr = Some(a);
    }
    if let Some(a) = field(19).filter(|a| *a != "-").and_then(|a| a.parse().ok()) {
        srv.agent_addr = Some(a);
    }
    if let Some(p) = field(20).filter(|p| *p != "0").and_then(port) {
        srv.agent_port = Some(p);
    }
    if !partial.is_empty() {
        out.warning = Some(format!("server-state partially applied for server '{name}'{partial}"));
    }
    out
}

/// `strl2uic`: the leading digits; None above 65535.
fn port(s: &str) -> Option<u16> {
    let d = s
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0u64, |n, b| (n * 10 + u64::from(b - b'0')).min(1 << 20));
    u16::try_from(d).ok()
}

/// The operational state and health counter of a server with checks.
fn apply_op_state(srv: &mut ServerState, cfg: &Server, f: &Fields, now_ms: u64, out: &mut Applied) {
    let (rise, fall) = (i64::from(cfg.rise.max(1)), i64::from(cfg.fall.max(1)));
    let top = rise + fall - 1;
    let (up, health) = match f.op {
        0 => (false, 0),
        1 if rise == 1 => (true, top),
        1 => (true, rise), // starting: the lowest UP value (strata has no throttled-UP state of checks)
        3 if fall == 1 => (false, 0),
        3 if f.health < rise || f.health > rise + fall - 2 => (true, rise),
        3 => (true, f.health),
        _ => (true, top),
    };
    out.check_health = Some(health as u32);
    if let Some(h) = srv.health.as_mut() {
        h.value = health as u32;
    }
    if !up && srv.up {
        srv.set_up(false, now_ms);
        if srv.admin != SrvAdmin::Maint {
            out.events.push(Event::Down);
        }
    } else if up && !srv.up {
        srv.set_up(true, now_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    fn server(check: bool, disabled: bool, weight: u32) -> (Server, ServerState) {
        let cfg = Server {
            name: "s1".into(),
            check,
            disabled,
            weight,
            addr: Some([127, 0, 0, 1].into()),
            ..Server::default()
        };
        let st = ServerState::new(&cfg);
        (cfg, st)
    }

    const NOW: u64 = 2_000_100_000;

    #[test]
    fn weight_and_admin_state_come_back() {
        let (cfg, mut s) = server(false, false, 11);
        let a = apply(&mut s, &cfg, &line("127.0.0.1 2 1 5 11 30 1 0 2 0 0 0 0 - 18101 -"), "bk/s1", NOW);
        assert_eq!((s.weight, s.admin, a.events.as_slice()), (5, SrvAdmin::Maint, &[Event::Maint][..]));
        assert_eq!(s.history.last_change_ms, NOW - 30_000);
        assert_eq!(s.port, Some(18101));
        // a configured weight that changed wins over the saved one
        let (cfg, mut s) = server(false, false, 20);
        apply(&mut s, &cfg, &line("127.0.0.1 2 0 5 11 0 1 0 2 0 0 0 0 - 0 -"), "bk/s1", NOW);
        assert_eq!((s.weight, s.port), (20, None));
    }

    #[test]
    fn the_configuration_wins_when_it_changed() {
        // made ready on the stats port though `disabled`: stays ready
        let (cfg, mut s) = server(false, true, 1);
        let a = apply(&mut s, &cfg, &line("127.0.0.1 2 4 1 1 0 1 0 2 0 0 0 0 - 0 -"), "bk/s1", NOW);
        assert_eq!((s.admin, a.events.as_slice()), (SrvAdmin::Ready, &[Event::Ready][..]));
        // `disabled` added since: maintenance, whatever the file says
        let (cfg, mut s) = server(false, true, 1);
        let a = apply(&mut s, &cfg, &line("127.0.0.1 2 0 1 1 0 1 0 2 0 0 0 0 - 0 -"), "bk/s1", NOW);
        assert_eq!((s.admin, a.events.len()), (SrvAdmin::Maint, 0));
        // `disabled` removed since: ready
        let (cfg, mut s) = server(false, false, 1);
        apply(&mut s, &cfg, &line("127.0.0.1 0 5 1 1 0 1 0 0 8 0 0 0 - 0 -"), "bk/s1", NOW);
        assert_eq!(s.admin, SrvAdmin::Ready);
        // a forced drain comes back
        let (cfg, mut s) = server(false, false, 1);
        let a = apply(&mut s, &cfg, &line("127.0.0.1 2 8 1 1 0 1 0 2 0 0 0 0 - 0 -"), "bk/s1", NOW);
        assert_eq!((s.admin, a.events.as_slice()), (SrvAdmin::Drain, &[Event::Drain][..]));
    }

    #[test]
    fn a_down_server_stays_down_until_its_checks_say_otherwise() {
        let (cfg, mut s) = server(true, false, 1);
        let a = apply(&mut s, &cfg, &line("127.0.0.1 0 0 1 1 0 8 2 0 6 0 0 0 - 0 -"), "bk/s1", NOW);
        assert_eq!((s.up, a.check_health, a.events.as_slice()), (false, Some(0), &[Event::Down][..]));
        let (cfg, mut s) = server(true, false, 1);
        let a = apply(&mut s, &cfg, &line("127.0.0.1 2 0 1 1 0 6 3 4 6 0 0 0 - 0 -"), "bk/s1", NOW);
        assert_eq!((s.up, a.check_health), (true, Some(4)), "rise+fall-1");
    }

    #[test]
    fn a_bad_value_applies_nothing() {
        let (cfg, mut s) = server(true, false, 11);
        let a = apply(&mut s, &cfg, &line("127.0.0.1 7 0 300 11 x 1 0 2 0 0 0 0 - 0 -"), "bk/s1", NOW);
        assert_eq!(
            a.warning.as_deref(),
            Some(
                "server-state application failed for server 'bk/s1', invalid srv_op_state value '7', \
                 invalid srv_uweight value '300', invalid srv_last_time_change value 'x'"
            )
        );
        assert_eq!((s.weight, s.up, a.check_health), (11, true, None));
        let a = apply(&mut s, &cfg, &line("127.0.0.1 2 0 5 11 0 1 0 2 0 0 0 0 - 99999 -"), "bk/s1", NOW);
        assert_eq!(
            a.warning.as_deref(),
            Some("server-state partially applied for server 'bk/s1', invalid srv_port value '99999'")
        );
        assert_eq!(s.weight, 5, "applied before the port");
    }

    #[test]
    fn init_addr_last_takes_the_saved_address() {
        let (mut cfg, mut s) = server(false, false, 1);
        cfg.fqdn = Some("app.example".into());
        let l = line("10.1.2.3 2 0 1 1 0 1 0 2 0 0 0 0 app.example 80 -");
        apply(&mut s, &cfg, &l, "bk/s1", NOW);
        assert_eq!(s.addr, Some([127, 0, 0, 1].into()), "libc first: the address resolved now stays");
        cfg.init_addr_last = true;
        apply(&mut s, &cfg, &l, "bk/s1", NOW);
        assert_eq!(s.addr, Some([10, 1, 2, 3].into()));
    }
}
