//! The worker's `show stat` numbers: counting ended streams into the
//! frontend, backend and server counters, and building the CSV lines.

use crate::backend::mux_stats::H1Snapshot;
use crate::backend::{BackendState, Backends, Counters, Health, ServerState, SrvAdmin};
use crate::cfg::{Config, Mode, Proxy};
use crate::cli::stat::{Kind, StatLine};
use crate::core::clock::secs_between;
use crate::l6_stream::StreamRecord;
use crate::l6_stream::term::TermCause;

pub(super) use crate::l6_stream::end_stats::front_verdicts;

/// Counts one ended stream (or refused request) everywhere it belongs:
/// its frontend's line, and its backend's and server's unless the stream
/// counted those when it ended (`StreamRecord::backend_counted`; the
/// caller locks the backends only when a record needs them: `backends`
/// None, it had none or it counted itself).
pub fn count_stream(
    fe: &mut Counters,
    backends: Option<&mut Backends>,
    r: &StreamRecord,
    http: bool,
    now_ms: u64,
) {
    fe.bytes_in += r.bytes_in;
    fe.bytes_out += r.bytes_out;
    if http {
        fe.count_request(now_ms);
        if let Some(s) = r.status {
            fe.count_status(s);
        }
    }
    let (refused, denied_req, denied_resp) = front_verdicts(r);
    if refused {
        fe.failed_req += 1;
    }
    if denied_req {
        fe.denied_req += 1;
    }
    if denied_resp {
        fe.denied_resp += 1;
    }
    if r.term.cause == TermCause::Local {
        fe.intercepted += 1;
    }
    if let (false, Some(backends)) = (r.backend_counted, backends) {
        crate::l6_stream::end_stats::count_on_backend(backends, r, http);
    }
}

/// Everything one `show stat` needs from the worker.
pub struct StatInput<'a> {
    pub cfg: &'a Config,
    pub backends: &'a Backends,
    pub fe_stats: &'a [Counters],
    pub fe_cur: &'a [u32],
    pub fe_max: &'a [u32],
    pub li: &'a [Vec<super::listener_stats::ListenerCounts>], // per proxy, per bind (`option socket-stats`)
    pub now_ms: u64,
}

/// The lines of `show stat`, in HAProxy's order: for each proxy in
/// declaration order its frontend line, its listeners' (`option
/// socket-stats`), then its servers, then its backend line.
pub fn lines(input: &StatInput<'_>) -> Vec<StatLine> {
    let mut out = Vec::new();
    for (i, p) in input.cfg.proxies.iter().enumerate() {
        if p.knobs.disabled {
            continue; // HAProxy 2.6 leaves a disabled proxy out of every statistics view
        }
        let http = p.mode == Mode::Http;
        let iid = p.id;
        if p.cap.frontend {
            let mut l =
                frontend_line(p, iid, &input.fe_stats[i], input.fe_cur[i], input.fe_max[i], input.now_ms);
            h1_fields(&mut l, input.backends.h1.fe(i).snapshot());
            out.push(l);
            super::listener_stats::lines(p, iid, input.li.get(i).map_or(&[], Vec::as_slice), &mut out);
        }
        if let Some(be) = input.backends.get(i) {
            for (_, s) in be.live_servers() {
                out.push(server_line(p, iid, s.id, s, be, input.now_ms));
            }
            let slim = fullconn(input, i);
            let mut l = backend_line(p, iid, be, slim, http, input.now_ms);
            h1_fields(&mut l, input.backends.h1.be(i).snapshot());
            out.push(l);
        }
    }
    out
}

/// The `h1` module's fields (see `backend/mux_stats.rs`).
fn h1_fields(l: &mut StatLine, c: H1Snapshot) {
    l.set("h1_open_connections", c.open_conns);
    l.set("h1_open_streams", c.open_streams);
    l.set("h1_total_connections", c.total_conns);
    l.set("h1_total_streams", c.total_streams);
    l.set("h1_bytes_in", c.bytes_in);
    l.set("h1_bytes_out", c.bytes_out);
    l.set("h1_spliced_bytes_in", c.spliced_in);
    l.set("h1_spliced_bytes_out", c.spliced_out);
}

fn rate(c: &crate::stick::FreqCtr, now_ms: u64) -> u32 {
    c.read(now_ms, crate::backend::stats::RATE_PERIOD)
}

/// Fields every kind fills the same way from its counters.
fn common(l: &mut StatLine, c: &Counters, now_ms: u64) {
    l.set("stot", c.stot);
    l.set("smax", c.smax);
    l.set("bin", c.bytes_in);
    l.set("bout", c.bytes_out);
    l.set("dresp", c.denied_resp);
    l.set("rate", rate(&c.sess_rate, now_ms));
    l.set("rate_max", c.sess_rate_max);
    if !l.get("hrsp_1xx").is_empty() {
        for (i, name) in
            ["hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other"].iter().enumerate()
        {
            l.set(name, c.hrsp[i]);
        }
    }
    if !l.get("req_tot").is_empty() {
        l.set("req_tot", c.req_tot);
    }
}

/// Fields of servers and backends: errors, warnings, times.
fn backend_side(l: &mut StatLine, c: &Counters, now_ms: u64) {
    l.set("econ", c.failed_conns);
    l.set("eresp", c.failed_resp);
    l.set("wretr", c.retries);
    l.set("wredis", c.redispatches);
    l.set("lbtot", c.lbtot);
    l.set("cli_abrt", c.cli_aborts);
    l.set("srv_abrt", c.srv_aborts);
    l.set("lastsess", c.last_sess.map_or(-1, |t| secs_between(t, now_ms) as i64));
    l.set("qtime", c.qtime.avg());
    l.set("ctime", c.ctime.avg());
    l.set("rtime", c.rtime.avg());
    l.set("ttime", c.ttime.avg());
    l.set("qtime_max", c.qtime_max);
    l.set("ctime_max", c.ctime_max);
    l.set("rtime_max", c.rtime_max);
    l.set("ttime_max", c.ttime_max);
}

fn frontend_line(p: &Proxy, iid: u32, c: &Counters, cur: u32, max: u32, now_ms: u64) -> StatLine {
    let mut l = StatLine::new(Kind::Frontend, &p.name, "FRONTEND", iid, 0, p.mode == Mode::Http);
    common(&mut l, c, now_ms);
    l.set("scur", cur);
    l.set("slim", max);
    l.set("rate_lim", p.knobs.rate_limit_sessions);
    l.set("dreq", c.denied_req);
    l.set("ereq", c.failed_req);
    l.set("req_rate", rate(&c.req_rate, now_ms));
    l.set("req_rate_max", c.req_rate_max);
    l.set("req_tot", c.req_tot);
    l.set("conn_rate", rate(&c.conn_rate, now_ms));
    l.set("conn_rate_max", c.conn_rate_max);
    l.set("conn_tot", c.conn_tot);
    l.set("dcon", c.denied_conns);
    l.set("dses", c.denied_sess);
    if !l.get("intercepted").is_empty() {
        l.set("intercepted", c.intercepted);
    }
    l
}

/// HAProxy's server status text (`stats_fill_sv_stats_computestate`):
/// while the health counter is between its ends, `UP n/fall` counts the
/// failed checks of a server going down and `DOWN n/rise` the passed
/// checks of one coming up; `NOLB` after a 404 with `disable-on-404`;
/// `(agent)` when the agent decided.
pub fn server_status(s: &ServerState) -> String {
    let h = s.health.as_ref();
    let at_top = |h: &Health| h.value + 1 >= h.rise + h.fall;
    let going = |h: &Health| format!("{}/{}", (h.value + 1).saturating_sub(h.rise), h.fall);
    if s.resolution_maint {
        return "MAINT (resolution)".into();
    }
    if s.admin == SrvAdmin::Maint {
        return "MAINT".into();
    }
    if s.up && s.nolb {
        return match h {
            Some(h) if !at_top(h) => format!("NOLB {}", going(h)),
            _ => "NOLB".into(),
        };
    }
    if s.up {
        let down_going = h.filter(|h| !at_top(h));
        if s.admin == SrvAdmin::Drain {
            if s.agent.is_some() {
                return "DRAIN (agent)".into();
            }
            return down_going.map_or("DRAIN".into(), |h| format!("DRAIN {}", going(h)));
        }
        return match (h, down_going) {
            (None, _) => "no check".into(),
            (_, Some(h)) => format!("UP {}", going(h)),
            _ => "UP".into(),
        };
    }
    match (s.agent.as_ref(), h) {
        (Some(a), _) if a.value == 0 => "DOWN (agent)".into(),
        (_, Some(h)) if h.value == 0 => "DOWN".into(),
        (_, Some(h)) => format!("DOWN {}/{}", h.value, h.rise),
        (Some(_), None) => "DOWN 0/0".into(),
        (None, None) => "DOWN".into(),
    }
}

fn server_line(p: &Proxy, iid: u32, sid: u32, s: &ServerState, be: &BackendState, now_ms: u64) -> StatLine {
    let mut l = StatLine::new(Kind::Server, &p.name, &s.name, iid, sid, p.mode == Mode::Http);
    common(&mut l, &s.stats, now_ms);
    backend_side(&mut l, &s.stats, now_ms);
    l.set("scur", s.cur_conns);
    if let Some(m) = s.maxconn.filter(|m| *m > 0) {
        l.set("slim", m);
    }
    l.set("status", server_status(s));
    l.set("weight", s.weight);
    l.set("uweight", s.weight);
    l.set("act", u8::from(!s.backup));
    l.set("bck", u8::from(s.backup));
    l.set("lastchg", secs_between(s.history.last_change_ms, now_ms));
    l.set(
        "addr",
        match (s.addr, s.port) {
            (None, _) => String::new(),
            (Some(ip), None) => ip.to_string(),
            (Some(ip), Some(port)) => std::net::SocketAddr::new(ip, port).to_string(),
        },
    );
    l.set("srv_icur", 0);
    l.set("qcur", s.queue.waiting);
    l.set("qmax", s.queue.max_waiting);
    if let Some(m) = s.maxqueue.filter(|m| *m > 0) {
        l.set("qlimit", m);
    }
    if let Some(t) = s.throttle(now_ms) {
        l.set("throttle", t);
    }
    if let Some(c) = &s.cookie {
        l.set("cookie", c);
    }
    let _ = be;
    if let Some(h) = &s.health {
        l.set("chkfail", h.failures);
        l.set("chkdown", s.history.downs);
        l.set("downtime", s.history.downtime(now_ms) / 1000);
        // HAProxy marks a check in progress with `* `.
        l.set("check_status", format!("{}{}", if h.running { "* " } else { "" }, h.status));
        if let Some(code) = h.code {
            l.set("check_code", code);
        }
        if let Some(d) = h.duration_ms {
            l.set("check_duration", d);
        }
        if !h.info.is_empty() {
            l.set("last_chk", &h.info);
        }
        l.set("check_desc", &h.desc);
        l.set("check_rise", h.rise);
        l.set("check_fall", h.fall);
        l.set("check_health", h.value);
    }
    if let Some(a) = &s.agent {
        l.set("agent_status", format!("{}{}", if a.running { "* " } else { "" }, a.status));
        if let Some(code) = a.code {
            l.set("agent_code", code);
        }
        if let Some(d) = a.duration_ms {
            l.set("agent_duration", d);
        }
        if !a.info.is_empty() {
            l.set("last_agt", &a.info);
        }
        l.set("agent_desc", &a.desc);
        l.set("agent_rise", a.rise);
        l.set("agent_fall", a.fall);
        l.set("agent_health", a.value);
    }
    l
}

fn backend_line(p: &Proxy, iid: u32, be: &BackendState, slim: u32, http: bool, now_ms: u64) -> StatLine {
    let mut l = StatLine::new(Kind::Backend, &p.name, "BACKEND", iid, 0, http);
    common(&mut l, &be.stats, now_ms);
    backend_side(&mut l, &be.stats, now_ms);
    l.set("scur", be.cur_conns);
    l.set("slim", slim);
    l.set("qcur", be.queue.waiting);
    l.set("qmax", be.queue.max_waiting);
    let usable = |backup: bool| be.servers.iter().filter(move |s| s.backup == backup && s.usable());
    let weight = be.total_weight();
    l.set("weight", weight);
    l.set("uweight", weight);
    l.set("act", usable(false).count());
    l.set("bck", usable(true).count());
    l.set("status", if be.is_up() || be.servers.is_empty() { "UP" } else { "DOWN" });
    l.set("chkdown", be.history.downs);
    l.set("lastchg", secs_between(be.history.last_change_ms, now_ms));
    l.set("downtime", be.history.downtime(now_ms) / 1000);
    l.set("algo", be.algorithm().name());
    l
}

/// The backend's `fullconn` (`slim` of its line).
fn fullconn(input: &StatInput<'_>, be: usize) -> u32 {
    crate::backend::default_fullconn(input.cfg, be, input.fe_max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(rise: u32, fall: u32) -> ServerState {
        let cfg = crate::cfg::Server {
            name: "s".into(),
            id: 1,
            addr: Some(std::net::Ipv4Addr::LOCALHOST.into()),
            port: Some(80),
            check: true,
            rise,
            fall,
            ..Default::default()
        };
        ServerState::new(&cfg)
    }

    fn with_health(mut s: ServerState, value: u32, up: bool) -> ServerState {
        s.health.as_mut().expect("checked").value = value;
        s.up = up;
        s
    }

    /// The texts HAProxy 2.6 shows along a server's health counter
    /// (rise 2, fall 3: 0..=4), including before the first check.
    #[test]
    fn status_follows_the_health_counter_as_haproxy() {
        let s = checked(2, 3);
        assert_eq!((server_status(&s), s.health.as_ref().map(|h| h.status)), ("UP 1/3".into(), Some("INI")));
        assert_eq!(server_status(&with_health(checked(2, 3), 4, true)), "UP");
        assert_eq!(server_status(&with_health(checked(2, 3), 3, true)), "UP 2/3");
        assert_eq!(server_status(&with_health(checked(2, 3), 0, false)), "DOWN");
        assert_eq!(server_status(&with_health(checked(2, 3), 1, false)), "DOWN 1/2");
        assert_eq!(server_status(&checked(1, 1)), "UP", "rise 1 fall 1: no steps between");
        let mut drain = with_health(checked(2, 3), 3, true);
        drain.admin = SrvAdmin::Drain;
        assert_eq!(server_status(&drain), "DRAIN 2/3");
        let mut unchecked = checked(2, 3);
        unchecked.health = None;
        assert_eq!(server_status(&unchecked), "no check");
    }
}
