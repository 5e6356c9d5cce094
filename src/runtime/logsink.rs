//! The log sink: formats HAProxy's TCP log lines and sends them to each
//! proxy's `log` targets (syslog over UDP or a unix socket, stdout, stderr).
//!
//! Formats: without `option tcplog`, one `Connect from A to B (fe/TCP)` line
//! per accepted connection, as HAProxy prints it; with `option tcplog`,
//! HAProxy's TCP log line when the stream ends:
//! `%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq`.
//! `option dontlognull` skips streams that moved no byte.

use crate::cfg::{Config, LogAddr, LogFormat, LogTarget};
use crate::core::date::Civil;
use crate::l6_stream::term::TermCause;
use crate::l6_stream::{HttpLogFields, StreamRecord};
use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::time::SystemTime;

/// Syslog severity "info", the level of traffic logs.
const LEVEL_INFO: u32 = 6;

/// Syslog severity "err": streams with an error under `option log-separate-errors`.
const LEVEL_ERR: u32 = 3;

/// Syslog levels, most severe first (code = index).
const LEVELS: [&str; 8] = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];

/// Facility names in syslog code order.
const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2", "ftp", "ntp",
    "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4", "local5", "local6",
    "local7",
];

/// A socket a target's lines are written to.
enum Output {
    Stdout,
    Stderr,
    Udp(UdpSocket, SocketAddr),
    Unix(UnixDatagram, std::path::PathBuf),
}

/// One target, opened.
struct OpenTarget {
    out: Output,
    format: LogFormat,
    maxlen: usize,  // longest line, `\n` included
    facility: u32,  // syslog facility code
    max_level: u32, // `level`: less severe messages are dropped (debug if unset)
    min_level: u32, // `minlevel`: more severe messages are raised to it (emerg if unset)
}

/// Open log targets per proxy (index as `Config::proxies`). Owned by a worker.
pub struct LogSink {
    per_proxy: Vec<Vec<OpenTarget>>,
    name: String,             // `log-tag`, else `strata`
    tag: String,              // `<name>[pid]`
    hostname: Option<String>, // `log-send-hostname`
}

impl LogSink {
    pub fn new(cfg: &Config) -> LogSink {
        let per_proxy = cfg.proxies.iter().map(|p| p.logs.iter().filter_map(open).collect()).collect();
        let p = &cfg.global.process;
        let name = p.log_tag.clone().unwrap_or_else(|| "strata".to_owned());
        let tag = format!("{name}[{}]", std::process::id());
        LogSink { per_proxy, name, tag, hostname: p.log_send_hostname.clone() }
    }

    /// HAProxy's line for an accepted connection when the frontend has no
    /// `option tcplog`/`httplog`.
    pub fn connect(&self, cfg: &Config, fe: usize, src: SocketAddr, dst: SocketAddr, wall: SystemTime) {
        let p = &cfg.proxies[fe];
        if p.options.tcplog || p.options.httplog || self.per_proxy[fe].is_empty() {
            return;
        }
        let mode = match p.mode {
            crate::cfg::Mode::Tcp => "TCP",
            crate::cfg::Mode::Http => "HTTP",
        };
        self.send(fe, wall, &format!("Connect from {src} to {dst} ({}/{mode})", p.name));
    }

    /// HAProxy's line for a connection whose TLS handshake failed (its
    /// embryonic session's log): `ip:port [accept date] fe/luid: reason`.
    /// Only with a log format (`option httplog`/`tcplog`), as HAProxy;
    /// `option dontlognull` drops those that exchanged nothing.
    pub fn handshake_failed(
        &self,
        cfg: &Config,
        s: &crate::l5_session::Session,
        failure: crate::l4_conn::HsFailure,
        (wall, now): (SystemTime, std::time::Instant),
    ) {
        let p = &cfg.proxies[s.frontend];
        let formatted = p.options.httplog || p.options.tcplog;
        if self.per_proxy[s.frontend].is_empty() || !formatted || (p.options.dontlognull && failure.is_null())
        {
            return;
        }
        let accept = wall.checked_sub(now.saturating_duration_since(s.accepted)).unwrap_or(wall);
        let date = Civil::from_system(accept).log_date();
        let line =
            format!("{}:{} [{date}] {}/{}: {}", s.src.ip(), s.src.port(), p.name, s.luid, failure.message());
        self.send(s.frontend, wall, &line);
    }

    /// The log line of an ended stream: HAProxy's HTTP log line for
    /// `option httplog` frontends in mode http, its TCP log line for
    /// `option tcplog` ones.
    pub fn stream_end(&self, cfg: &Config, r: &StreamRecord, actconn: u32, feconn: u32, wall: SystemTime) {
        let fe = &cfg.proxies[r.frontend];
        if self.per_proxy[r.frontend].is_empty() || r.log_level == Some(crate::l7_http::actions::LOG_SILENT) {
            return;
        }
        // HAProxy's error test (`sess_log`): a redispatch, an end cause other
        // than none or local, retries, or a 5xx status.
        let err = r.redispatched
            || !matches!(r.term.cause, TermCause::None | TermCause::Local)
            || r.retries > 0
            || r.status.is_some_and(|s| s >= 500);
        if fe.knobs.dontlog_normal && !err {
            return;
        }
        let default = if err && fe.knobs.log_separate_errors { LEVEL_ERR } else { LEVEL_INFO };
        let level = r.log_level.unwrap_or(default);
        if let Some(h) = r.http.as_ref() {
            let line = http_line(cfg, r, h, actconn, feconn);
            return self.send_at(r.frontend, wall, &line, level);
        }
        if !fe.options.tcplog {
            return;
        }
        if fe.options.dontlognull && r.bytes_in == 0 && r.bytes_out == 0 {
            return;
        }
        let (be_name, srv_name) = names(cfg, r);
        let tc = r.connect_time.map_or(-1, |d| d.as_millis() as i64);
        let line = format!(
            "{} [{}] {} {}/{} {}/{}/{} {} {} {}/{}/{}/{}/{}{} 0/{}",
            r.client,
            Civil::from_system(r.accept_date).log_date(),
            frontend_transport(cfg, r),
            be_name,
            srv_name,
            r.queue_time.map_or(0, |d| d.as_millis() as i64),
            tc,
            r.total_time.as_millis(),
            r.bytes_out,
            r.term,
            actconn,
            feconn,
            r.backend_conns,
            r.server_conns,
            if r.redispatched { "+" } else { "" },
            r.retries,
            r.queue_pos,
        );
        self.send_at(r.frontend, wall, &line, level);
    }

    /// Frame `msg` for each target of `proxy` and write it, as HAProxy 2.6
    /// does: traffic logs are level info, dropped by a target whose level
    /// is more severe (`log ... local0 notice`), raised to its minimum
    /// level if that is less severe; every line ends with `\n`, datagrams
    /// included.
    fn send(&self, proxy: usize, wall: SystemTime, msg: &str) {
        self.send_at(proxy, wall, msg, LEVEL_INFO)
    }

    /// [`LogSink::send`] at syslog level `at` (`set-log-level`).
    fn send_at(&self, proxy: usize, wall: SystemTime, msg: &str, at: u32) {
        for t in &self.per_proxy[proxy] {
            if at > t.max_level {
                continue;
            }
            let level = at.max(t.min_level);
            let pri = t.facility * 8 + level;
            let mut line = match t.format {
                LogFormat::Raw => msg.to_owned(),
                LogFormat::Short => format!("<{level}>{msg}"),
                // `log-send-hostname` adds the host field HAProxy leaves out by default.
                LogFormat::Legacy => match &self.hostname {
                    Some(h) => {
                        format!("<{pri}>{} {h} {}: {msg}", Civil::from_system(wall).syslog_date(), self.tag)
                    }
                    None => format!("<{pri}>{} {}: {msg}", Civil::from_system(wall).syslog_date(), self.tag),
                },
                // HAProxy writes `localhost` when `log-send-hostname` is unset.
                LogFormat::Rfc3164 => format!(
                    "<{pri}>{} {} {}: {msg}",
                    Civil::from_system(wall).syslog_date(),
                    self.hostname.as_deref().unwrap_or("localhost"),
                    self.tag
                ),
                LogFormat::Rfc5424 => {
                    let c = Civil::from_system(wall);
                    let micros =
                        wall.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_micros();
                    format!(
                        "<{pri}>1 {:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{micros:06}+00:00 {} {} {} - - {msg}",
                        c.year,
                        c.month,
                        c.day,
                        c.hour,
                        c.min,
                        c.sec,
                        self.hostname.as_deref().unwrap_or("-"),
                        self.name,
                        std::process::id()
                    )
                }
            };
            truncate_at_char(&mut line, t.maxlen.saturating_sub(1));
            line.push('\n');
            let _ = match &t.out {
                Output::Stdout => std::io::stdout().lock().write_all(line.as_bytes()),
                Output::Stderr => std::io::stderr().lock().write_all(line.as_bytes()),
                Output::Udp(sock, addr) => sock.send_to(line.as_bytes(), addr).map(|_| ()),
                Output::Unix(sock, path) => sock.send_to(line.as_bytes(), path).map(|_| ()),
            };
        }
    }
}

/// `%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc
/// %ac/%fc/%bc/%sc/%rc %sq/%bq "%r"` (no captures configured).
fn http_line(cfg: &Config, r: &StreamRecord, h: &HttpLogFields, actconn: u32, feconn: u32) -> String {
    let ms = |d: Option<std::time::Duration>| d.map_or(-1, |d| d.as_millis() as i64);
    let (be_name, srv_name) = names(cfg, r);
    let queued = queue_ms(r);
    format!(
        "{} [{}] {} {}/{} {}/{}/{}/{}/{} {} {} - - {}-- {}/{}/{}/{}/{}{} 0/{} \"{}\"",
        r.client,
        Civil::from_system(r.accept_date).log_date(),
        frontend_transport(cfg, r),
        be_name,
        srv_name,
        ms(h.head_time),
        queued,
        ms(r.connect_time),
        ms(h.response_time),
        h.active_time.as_millis(),
        r.status.map_or(-1, i64::from),
        r.bytes_out,
        r.term,
        actconn,
        feconn,
        r.backend_conns,
        r.server_conns,
        if r.redispatched { "+" } else { "" },
        r.retries,
        r.queue_pos,
        h.request_line,
    )
}

/// `%Tw`: time spent in the backend's queue; 0 for a stream that got a
/// server without waiting, -1 for one that never reached a server.
fn queue_ms(r: &StreamRecord) -> i64 {
    match r.queue_time {
        Some(d) => d.as_millis() as i64,
        None if r.server.is_some() => 0,
        None => -1,
    }
}

/// `%ft`: the frontend's name, with `~` when the client connection is TLS.
fn frontend_transport(cfg: &Config, r: &StreamRecord) -> String {
    let name = &cfg.proxies[r.frontend].name;
    if r.ssl.is_some() { format!("{name}~") } else { name.clone() }
}

fn names<'a>(cfg: &'a Config, r: &StreamRecord) -> (&'a str, &'a str) {
    let Some(be) = r.backend else { return (cfg.proxies[r.frontend].name.as_str(), "<NOSRV>") };
    let p = &cfg.proxies[be];
    let srv = r.server.and_then(|s| p.servers.get(s)).map_or("<NOSRV>", |s| s.name.as_str());
    (p.name.as_str(), srv)
}

fn truncate_at_char(line: &mut String, max: usize) {
    if line.len() > max {
        let mut cut = max;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
    }
}

fn open(t: &LogTarget) -> Option<OpenTarget> {
    let out = match &t.addr {
        LogAddr::Stdout => Output::Stdout,
        LogAddr::Stderr => Output::Stderr,
        LogAddr::Udp(addr) => {
            let bind: SocketAddr =
                if addr.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
            let sock = UdpSocket::bind(bind).ok()?;
            sock.set_nonblocking(true).ok()?;
            Output::Udp(sock, *addr)
        }
        LogAddr::Unix(path) => {
            let sock = UnixDatagram::unbound().ok()?;
            sock.set_nonblocking(true).ok()?;
            Output::Unix(sock, path.clone())
        }
    };
    let facility = FACILITIES.iter().position(|f| *f == t.facility).unwrap_or(16) as u32;
    let level = |l: &Option<String>, default: u32| {
        l.as_deref().and_then(|l| LEVELS.iter().position(|x| *x == l)).map_or(default, |i| i as u32)
    };
    Some(OpenTarget {
        out,
        format: t.format,
        maxlen: t.maxlen.max(80),
        facility,
        max_level: level(&t.level, 7),
        min_level: level(&t.minlevel, 0),
    })
}
