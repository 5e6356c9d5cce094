//! The log sink: frames log lines and sends them to each proxy's `log`
//! targets (syslog over UDP or a unix socket, stdout, stderr).
//!
//! Lines: without a log format, one `Connect from A to B (fe/TCP)` line
//! per accepted connection, as HAProxy prints it; with one (`option
//! tcplog|httplog`, `log-format`), the line each stream rendered when it
//! ended ([`StreamRecord::line`], with `log-format-sd`'s structured data
//! for RFC 5424 targets); a failed TLS handshake's line (`error-log-format`
//! or HAProxy's fixed one). `option dontlognull` skips TCP streams that
//! moved no byte.

use super::syslog::message::{Meta, header};
use crate::cfg::{Config, LogAddr, LogFormat, LogTarget};
use crate::core::date::Civil;
use crate::l6_stream::StreamRecord;
use crate::l6_stream::term::TermCause;
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
    Ring(std::sync::Arc<crate::core::ring::Ring>, LogFormat, usize), // `ring@NAME`: its format and `maxlen`
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
    names: Vec<(String, String)>, // per proxy: its `log-tag`, else the global one, else `strata`; and `<name>[pid]`
    hostname: Option<String>,     // `log-send-hostname`
}

impl LogSink {
    pub fn new(cfg: &Config) -> LogSink {
        let open = |t: &LogTarget| open(t, cfg);
        let per_proxy = cfg.proxies.iter().map(|p| p.logs.iter().filter_map(open).collect()).collect();
        let p = &cfg.global.process;
        let names = cfg
            .proxies
            .iter()
            .map(|px| {
                let name = px.knobs.log_tag.clone().or_else(|| p.log_tag.clone());
                let name = name.unwrap_or_else(|| "strata".to_owned());
                let tag = format!("{name}[{}]", std::process::id());
                (name, tag)
            })
            .collect();
        LogSink { per_proxy, names, hostname: p.log_send_hostname.clone() }
    }

    /// HAProxy's line for an accepted connection when the frontend has no
    /// `option tcplog`/`httplog`.
    pub fn connect(&self, cfg: &Config, fe: usize, src: SocketAddr, dst: SocketAddr, wall: SystemTime) {
        let p = &cfg.proxies[fe];
        if p.knobs.log_format.is_some() || self.per_proxy[fe].is_empty() {
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
    /// `error-log-format` replaces the line; `option dontlognull` drops
    /// those that exchanged nothing. `conns`: `%ac`, `%fc`.
    pub fn handshake_failed(
        &self,
        cfg: &Config,
        s: &crate::l5_session::Session,
        failure: crate::l4_conn::HsFailure,
        log: &crate::l6_stream::ProxyLog,
        conns: (u32, u32),
        (wall, now): (SystemTime, std::time::Instant),
    ) {
        let p = &cfg.proxies[s.frontend];
        let formatted = p.knobs.log_format.is_some() || p.knobs.error_log_format.is_some();
        if self.per_proxy[s.frontend].is_empty() || !formatted || (p.options.dontlognull && failure.is_null())
        {
            return;
        }
        let accept = wall.checked_sub(now.saturating_duration_since(s.accepted)).unwrap_or(wall);
        // `error-log-format` when set; HAProxy's fixed line otherwise.
        let line = log.render_error(
            cfg,
            s.frontend,
            (s.src, s.dst),
            accept,
            now.saturating_duration_since(s.accepted),
            *b"PR",
            conns,
        );
        let line = line.unwrap_or_else(|| {
            let date = Civil::from_system(accept).log_date();
            let rank = usize::from(s.bind);
            let luid = p.binds.get(rank).map_or(0, |b| super::listener_stats::luid(b, rank));
            format!("{}:{} [{date}] {}/{}: {}", s.src.ip(), s.src.port(), p.name, luid, failure.message())
        });
        self.send(s.frontend, wall, &line);
    }

    /// An event of proxy `proxy` (health checks, server states) at syslog
    /// level `level`.
    pub fn event(&self, proxy: usize, wall: SystemTime, msg: &str, level: u32) {
        self.send_at(proxy, wall, msg, level);
    }

    /// The log line of an ended stream, rendered by the stream from its
    /// frontend's format (`option httplog`, `log-format`...); `option
    /// dontlognull` drops TCP streams that moved no byte.
    pub fn stream_end(&self, cfg: &Config, r: &StreamRecord, wall: SystemTime) {
        let fe = &cfg.proxies[r.frontend];
        let Some(line) = r.line.as_deref() else { return };
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
        if fe.mode == crate::cfg::Mode::Tcp && fe.options.dontlognull && r.bytes_in == 0 && r.bytes_out == 0 {
            return;
        }
        let default = if err && fe.knobs.log_separate_errors { LEVEL_ERR } else { LEVEL_INFO };
        let level = r.log_level.unwrap_or(default);
        self.send_sd(r.frontend, wall, line, r.sd.as_deref(), level);
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
        self.send_sd(proxy, wall, msg, None, at)
    }

    /// [`LogSink::send_at`] with the structured data of `log-format-sd`
    /// (RFC 5424 targets only; `-` without it).
    fn send_sd(&self, proxy: usize, wall: SystemTime, msg: &str, sd: Option<&str>, at: u32) {
        let (name, tag) = &self.names[proxy];
        let pid = std::process::id().to_string();
        let meta = Meta {
            prio: true,
            host: self.hostname.as_deref(),
            tag: Some(name),
            pid: Some(&pid),
            sd: sd.map(str::trim_end),
            ..Default::default()
        };
        for t in &self.per_proxy[proxy] {
            if at > t.max_level {
                continue;
            }
            let level = at.max(t.min_level);
            let pri = t.facility * 8 + level;
            if let Output::Ring(..) = &t.out {
                write_ring(t, level, t.facility, &meta, msg, wall);
                continue;
            }
            let mut line = match t.format {
                LogFormat::Raw => msg.to_owned(),
                LogFormat::Short => format!("<{level}>{msg}"),
                // `log-send-hostname` adds the host field HAProxy leaves out by default.
                LogFormat::Legacy => match &self.hostname {
                    Some(h) => {
                        format!("<{pri}>{} {h} {}: {msg}", Civil::from_system(wall).syslog_date(), tag)
                    }
                    None => format!("<{pri}>{} {}: {msg}", Civil::from_system(wall).syslog_date(), tag),
                },
                // HAProxy writes `localhost` when `log-send-hostname` is unset.
                LogFormat::Rfc3164 => format!(
                    "<{pri}>{} {} {}: {msg}",
                    Civil::from_system(wall).syslog_date(),
                    self.hostname.as_deref().unwrap_or("localhost"),
                    tag
                ),
                LogFormat::Rfc5424 => {
                    let c = Civil::from_system(wall);
                    let micros =
                        wall.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_micros();
                    format!(
                        "<{pri}>1 {:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{micros:06}+00:00 {} {} {} - {}{msg}",
                        c.year,
                        c.month,
                        c.day,
                        c.hour,
                        c.min,
                        c.sec,
                        self.hostname.as_deref().unwrap_or("-"),
                        name,
                        std::process::id(),
                        sd.unwrap_or("- ")
                    )
                }
                LogFormat::Priority | LogFormat::Timed | LogFormat::Iso => {
                    header(t.format, level, t.facility, &meta, wall) + msg
                }
            };
            truncate_at_char(&mut line, t.maxlen.saturating_sub(1));
            line.push('\n');
            write_out(&t.out, &line);
        }
    }
}

/// Writes one framed line (datagram sockets: one datagram).
fn write_out(out: &Output, line: &str) {
    let _ = match out {
        Output::Stdout => std::io::stdout().lock().write_all(line.as_bytes()),
        Output::Stderr => std::io::stderr().lock().write_all(line.as_bytes()),
        Output::Udp(sock, addr) => sock.send_to(line.as_bytes(), addr).map(|_| ()),
        Output::Unix(sock, path) => sock.send_to(line.as_bytes(), path).map(|_| ()),
        Output::Ring(ring, ..) => {
            ring.write(line.as_bytes());
            Ok(())
        }
    };
}

/// HAProxy's buffer target (`ring@NAME`): the message cut at the target's
/// `len`, then the ring's own header and `maxlen`; no newline.
fn write_ring(t: &OpenTarget, level: u32, facility: u32, meta: &Meta<'_>, msg: &str, wall: SystemTime) {
    let Output::Ring(_, format, maxlen) = &t.out else { return };
    let mut event = header(*format, level, facility, meta, wall);
    let mut body = msg.to_owned();
    truncate_at_char(&mut body, t.maxlen);
    event.push_str(&body);
    truncate_at_char(&mut event, *maxlen);
    write_out(&t.out, &event);
}

/// Opened targets of a `log-forward` section (`log` lines), for [`emit`].
pub(super) struct Targets(Vec<OpenTarget>);

impl Targets {
    pub(super) fn open(targets: &[LogTarget], cfg: &Config) -> Targets {
        Targets(targets.iter().filter_map(|t| open(t, cfg)).collect())
    }

    /// HAProxy's `process_send_log` for a received message: each target
    /// whose level admits it gets it with a header of its format built
    /// from the message's own fields (its facility kept; a message without
    /// a priority takes the target's facility and minimum level).
    pub(super) fn emit(
        &self,
        level: Option<u32>,
        facility: Option<u32>,
        meta: &Meta<'_>,
        text: &str,
        wall: SystemTime,
    ) {
        for t in &self.0 {
            if level.is_some_and(|l| l > t.max_level) {
                continue;
            }
            let lvl = level.map_or(t.min_level, |l| l.max(t.min_level));
            let fac = facility.unwrap_or(t.facility);
            if let Output::Ring(..) = &t.out {
                write_ring(t, lvl, fac, meta, text, wall);
                continue;
            }
            let mut line = header(t.format, lvl, fac, meta, wall);
            line.push_str(text);
            truncate_at_char(&mut line, t.maxlen.saturating_sub(1));
            line.push('\n');
            write_out(&t.out, &line);
        }
    }
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

fn open(t: &LogTarget, cfg: &Config) -> Option<OpenTarget> {
    let out = match &t.addr {
        LogAddr::Ring(name) => {
            let ring = crate::core::ring::rings().find(name)?.clone();
            let (format, maxlen) = match cfg.rings.iter().find(|r| r.name == *name) {
                Some(r) => (r.format, r.maxlen),
                None => (LogFormat::Timed, super::syslog::BUF0_SIZE), // `buf0`
            };
            Output::Ring(ring, format, maxlen)
        }
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
