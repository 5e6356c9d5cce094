//! One run of a check program, step by step, as HAProxy 2.6's
//! `tcpcheck_main`: connect (a new connection per connect step), send,
//! read and match, until a step fails, a timeout strikes, or every step
//! passed; then HAProxy's status and information text.
//!
//! Timeouts follow HAProxy: the whole run must end within `inter`; with
//! `timeout check`, a connect gets at most `timeout connect`, and each
//! established connection restarts the clock at `timeout check`.

use super::expect::{self, Eval};
use super::http;
use super::program::{Action, Matcher, Program, Proto, Step};
use super::status::{Outcome, Status};
use crate::l4_conn::{Conn, IoStep};
use mio::{Registry, Token};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// What a run needs from its check for one call.
pub struct Env<'a> {
    pub registry: &'a Registry,
    pub token: Token,
    pub now: Instant,
    pub program: &'a Program,
    pub ip: IpAddr, // where connects go unless a rule says otherwise (`addr`, else the server's)
    pub port: u16,  // likewise (`port`, else the server's port)
    pub tls: Option<&'a (std::sync::Arc<crate::l4_conn::tls::ServerTls>, Option<String>)>, // `check-ssl`
    pub unix: Option<&'a crate::cfg::listen::UnixAddr>, // a unix server's socket (no `addr`/`port`)
    pub proxy_header: Option<crate::cfg::ProxyVersion>, // a PROXY header to send first on a default connect
    pub server_up: bool, // for `http-check disable-on-404`
    pub server_state: Option<&'a str>, // `http-check send-state`: the header's value, for this run's HTTP sends
    pub timeout_check: Option<Duration>,
}

/// A run in progress. Owned by its `Check`.
pub struct Run {
    at: usize,              // the step to evaluate next
    current: Option<usize>, // the last step evaluated (HAProxy's `current_step`)
    conn: Option<Conn>,
    opened_at: Option<usize>, // the connect step `conn` belongs to
    connected: bool,
    tls: bool,            // `conn` speaks TLS
    sent: usize,          // bytes of the current send step written
    out: Option<Vec<u8>>, // the current send step's bytes when built for this run (`send-state`)
    code: Option<u32>,    // the last HTTP status received
    pub started: Instant,
    pub deadline: Instant,
}

impl Run {
    /// A run starting now; `connect_timeout` is MIN(inter, timeout
    /// connect) when `timeout check` is set, else `inter`.
    pub fn start(now: Instant, inter: Duration, connect_timeout: Option<Duration>) -> Run {
        let deadline = now + connect_timeout.map_or(inter, |c| c.min(inter));
        Run {
            at: 0,
            current: None,
            conn: None,
            opened_at: None,
            connected: false,
            tls: false,
            sent: 0,
            out: None,
            code: None,
            started: now,
            deadline,
        }
    }

    pub fn on_event(&mut self, ev: &mio::event::Event) {
        if let Some(c) = self.conn.as_mut() {
            c.on_event(ev);
        }
    }

    /// Ends the run's connection (a reset unless the connect step asked to linger).
    pub fn close(&mut self, registry: &Registry, program: &Program) {
        if let Some(mut c) = self.conn.take() {
            let linger = self
                .opened_at
                .and_then(|i| program.steps.get(i))
                .is_some_and(|s| matches!(&s.action, Action::Connect(r) if r.linger));
            if !linger {
                c.reset_on_close();
            }
            c.deregister(registry);
            c.close();
        }
    }

    /// Goes as far as the connection allows. Some(outcome) when the run ended.
    pub fn advance(&mut self, env: &Env<'_>) -> Option<Outcome> {
        let steps = &env.program.steps;
        let mut must_read = true;
        let mut last_read = false;
        if env.now >= self.deadline {
            return Some(self.failure(env, None, true));
        }
        loop {
            let Some(step) = steps.get(self.at) else { return Some(self.finish(env)) };
            match &step.action {
                Action::Connect(rule) => {
                    self.current = Some(self.at);
                    if self.opened_at != Some(self.at) {
                        if let Some(o) = self.open(env, rule) {
                            return Some(o);
                        }
                        must_read = true;
                    }
                    if !self.connected {
                        let conn = self.conn.as_mut()?;
                        match conn.finish_connect(env.now) {
                            Ok(true) => {
                                self.connected = true;
                                if let Some(t) = env.timeout_check {
                                    self.deadline = env.now + t;
                                }
                                if let (Some(v), true) = (env.proxy_header, rule.default || rule.send_proxy)
                                    && let h = check_proxy_header(v, conn)
                                    && !matches!(conn.send_bytes(&h, env.now), IoStep::Moved(n) if n == h.len())
                                {
                                    return Some(self.failure(env, Some("Broken pipe"), false));
                                }
                            }
                            Ok(false) => return None,
                            Err(e) => return Some(self.failure(env, Some(errno_text(&e)), false)),
                        }
                    }
                    self.at += 1;
                }
                Action::Send(bytes) => {
                    self.current = Some(self.at);
                    let conn = self.conn.as_mut()?;
                    if self.sent == 0 {
                        conn.rx = None; // a new send forgets what came before
                        let size = crate::core::buffer::size();
                        if bytes.len() >= size {
                            let msg = format!(
                                "tcp-check send : string too large ({}) for buffer size ({size}) at step {}",
                                bytes.len(),
                                step.id()
                            );
                            return Some(Outcome::new(Status::L7Rsp, msg));
                        }
                    }
                    if self.sent == 0 {
                        self.out = match (step.state_at, env.server_state) {
                            (Some(at), Some(state)) if env.program.send_state => {
                                Some(with_state(bytes, at, state))
                            }
                            _ => None,
                        };
                    }
                    let mut data = std::borrow::Cow::Borrowed(self.out.as_deref().unwrap_or(bytes));
                    if env.program.hello_date_at.is_some_and(|_| self.sent == 0) {
                        data = std::borrow::Cow::Owned(with_date(bytes, env.program.hello_date_at));
                    }
                    match conn.send_bytes(&data[self.sent..], env.now) {
                        IoStep::Moved(n) => self.sent += n,
                        IoStep::Failed => {
                            let errno = conn_errno(conn);
                            return Some(self.failure(env, errno, false));
                        }
                        IoStep::Blocked | IoStep::Eof => {}
                    }
                    if self.sent < data.len() {
                        return None;
                    }
                    self.sent = 0;
                    must_read = true;
                    self.at += 1;
                }
                Action::Expect(e) => {
                    self.current = Some(self.at);
                    if must_read {
                        match self.recv(env, step) {
                            Recv::Wait => return None,
                            Recv::Stop(o) => return Some(o),
                            Recv::Got(last) => last_read = last,
                        }
                        must_read = false;
                    }
                    let conn = self.conn.as_ref()?;
                    let data = conn.rx.as_ref().map_or(&[][..], |b| b.data());
                    let is_last = steps[self.at + 1..].is_empty();
                    let eval = if env.program.proto == Proto::Http {
                        match http::parse(data, false, last_read) {
                            Ok(Some(r)) => {
                                self.code = Some(u32::from(r.status));
                                expect::http(
                                    step,
                                    e,
                                    &r,
                                    last_read || conn.rx_full(),
                                    env.program.disable_on_404,
                                    env.server_up,
                                )
                            }
                            Ok(None) if !last_read && !conn.rx_full() => Eval::Wait,
                            _ => Eval::Stop(Outcome::new(
                                Status::L7Rsp,
                                expect::error_message(step, e, data, false, "", Proto::Http),
                            )),
                        }
                    } else if matches!(e.matcher, Matcher::Agent) {
                        match super::agent::parse(data, last_read || conn.rx_full()) {
                            None => Eval::Wait,
                            Some(reply) => Eval::Passed(reply.outcome()),
                        }
                    } else {
                        expect::tcp(step, e, data, last_read || conn.rx_full(), env.program.proto, is_last)
                    };
                    match eval {
                        Eval::Continue => self.at += 1,
                        Eval::Wait => {
                            self.at = step.head;
                            return None;
                        }
                        Eval::Stop(o) | Eval::Passed(o) => return Some(o),
                    }
                }
            }
        }
    }

    /// The agent's reply line, once the run ended on it.
    pub fn agent_reply(&self) -> Option<super::agent::Reply> {
        let data = self.conn.as_ref()?.rx.as_ref()?.data();
        super::agent::parse(data, true)
    }

    /// Opens the connection of connect step `rule` (closing the previous one).
    fn open(&mut self, env: &Env<'_>, rule: &crate::cfg::checks::ConnectRule) -> Option<Outcome> {
        if let Some(mut c) = self.conn.take() {
            c.deregister(env.registry);
            c.close();
        }
        self.opened_at = Some(self.at);
        self.connected = false;
        self.sent = 0;
        let ip = rule.addr.map_or(env.ip, |a| a.ip());
        let port = rule.port.or(rule.addr.map(|a| a.port()).filter(|p| *p > 0)).unwrap_or(env.port);
        let tls = if rule.default { env.tls } else { None };
        let opened = match env.unix.filter(|_| rule.addr.is_none() && rule.port.is_none()) {
            Some(unix) => Conn::connect_unix(unix, env.now),
            None => Conn::connect(SocketAddr::new(ip, port), env.now),
        };
        let opened = opened.and_then(|mut c| {
            if let Some((t, sni)) = tls {
                c.start_tls_client(t, sni.as_deref())?;
            }
            c.register(env.registry, env.token).map(|()| c)
        });
        self.tls = tls.is_some();
        match opened {
            Ok(c) => {
                self.conn = Some(c);
                None
            }
            Err(e) => {
                Some(Outcome::new(Status::SockErr, format!("{}{}", errno_text(&e), self.step_info(env))))
            }
        }
    }

    /// Reads what arrived for an expect step (HAProxy's `tcpcheck_eval_recv`).
    fn recv(&mut self, env: &Env<'_>, step: &Step) -> Recv {
        let Some(conn) = self.conn.as_mut() else { return Recv::Stop(Outcome::new(Status::SockErr, "")) };
        let before = conn.pending();
        let io = conn.fill(env.now);
        let got = conn.pending() - before;
        let failed = matches!(io, IoStep::Failed);
        let eos = conn.read_closed;
        let empty = conn.pending() == 0;
        if empty && failed {
            let errno = conn_errno(conn);
            return Recv::Stop(self.failure(env, errno, false));
        }
        if got == 0 {
            if !eos && !failed {
                return Recv::Wait;
            }
            if empty {
                let mut msg = format!("TCPCHK got an empty response at step {}", step.id());
                if let Some(c) = &step.comment {
                    msg.push_str(&format!(" comment: '{c}'"));
                }
                let status = match &step.action {
                    Action::Expect(e) => e.error_status.map_or(Status::L7Rsp, Status::from_cfg),
                    _ => Status::L7Rsp,
                };
                return Recv::Stop(Outcome::new(status, msg));
            }
        }
        Recv::Got(eos || failed)
    }

    /// Every step passed: HAProxy's final status from the last step.
    fn finish(&self, env: &Env<'_>) -> Outcome {
        let steps = &env.program.steps;
        if env.program.disable_on_404 && env.server_up && self.code == Some(404) {
            return Outcome { code: self.code, ..Outcome::new(Status::L7OkC, "") };
        }
        let Some(step) = self.current.and_then(|i| steps.get(i)) else {
            return Outcome::new(Status::L7Ok, "(tcp-check)");
        };
        match &step.action {
            Action::Expect(e) => {
                let data = self.conn.as_ref().and_then(|c| c.rx.as_ref()).map_or(&[][..], |b| b.data());
                let status = e.ok_status.map_or(Status::L7Ok, Status::from_cfg);
                let code = self.code.or_else(|| expect::status_code(e, data));
                Outcome { code, ..Outcome::new(status, expect::success_message(e, data, env.program.proto)) }
            }
            Action::Connect(rule) => {
                let status = if self.tls { Status::L6Ok } else { Status::L4Ok };
                Outcome::new(status, if rule.implicit { "" } else { "(tcp-check)" })
            }
            Action::Send(_) => Outcome::new(Status::L7Ok, "(tcp-check)"),
        }
    }

    /// A connection problem or a timeout (HAProxy's `chk_report_conn_err`):
    /// the layer it happened at, `errno`'s text and, for `tcp-check`, the step.
    fn failure(&self, env: &Env<'_>, errno: Option<&str>, expired: bool) -> Outcome {
        let info = format!("{}{}", errno.unwrap_or(""), self.step_info(env));
        let Some(conn) = self.conn.as_ref() else { return Outcome::new(Status::SockErr, info) };
        if let Some(f) = conn.tls_failure() {
            return Outcome::new(Status::L6Rsp, f.message());
        }
        if conn.connecting {
            return Outcome::new(if expired { Status::L4Tout } else { Status::L4Con }, info);
        }
        if !self.connected {
            return Outcome::new(if expired { Status::L6Tout } else { Status::L6Rsp }, info);
        }
        if !expired {
            return Outcome::new(Status::SockErr, info);
        }
        let tout = self
            .current
            .and_then(|i| env.program.steps.get(i))
            .and_then(|s| match &s.action {
                Action::Expect(e) => e.timeout_status,
                _ => None,
            })
            .map_or(Status::L7Tout, Status::from_cfg);
        Outcome::new(tout, info)
    }

    /// HAProxy's step information of `tcp-check` errors: ` at initial
    /// connection step of tcp-check`, ` at step 2 of tcp-check (expect
    /// string 'PONG')`...
    fn step_info(&self, env: &Env<'_>) -> String {
        if env.program.proto != Proto::Tcp {
            return String::new();
        }
        let step = self.current.and_then(|i| env.program.steps.get(i));
        let id = step.map_or(1, Step::id);
        if id == 0 {
            return " at initial connection step of tcp-check".into();
        }
        let mut s = format!(" at step {id} of tcp-check");
        if let Some(step) = step {
            match &step.action {
                Action::Connect(r) => match r.port {
                    Some(p) => s.push_str(&format!(" (connect port {p})")),
                    None => s.push_str(" (connect)"),
                },
                Action::Send(_) => s.push_str(" (send)"),
                Action::Expect(e) => s.push_str(&match &e.matcher {
                    Matcher::String(p) => format!(" (expect string '{}')", String::from_utf8_lossy(p)),
                    Matcher::Binary(p) => format!(" (expect binary '{}')", String::from_utf8_lossy(p)),
                    Matcher::Rstring(_) => " (expect regex)".into(),
                    Matcher::Rbinary(_) => " (expect binary regex)".into(),
                    Matcher::Status(_) => " (expect HTTP status codes)".into(),
                    Matcher::Rstatus(_) => " (expect HTTP status regex)".into(),
                    Matcher::Body(p) => {
                        format!(" (expect HTTP body content '{}')", String::from_utf8_lossy(p))
                    }
                    Matcher::Rbody(_) => " (expect HTTP body regex)".into(),
                    Matcher::Custom(_) | Matcher::Agent => " (expect custom function)".into(),
                }),
            }
            if let Some(c) = &step.comment {
                s.push_str(&format!(" comment: '{c}'"));
            }
        }
        s
    }
}

/// What reading for an expect gave.
enum Recv {
    Wait,
    Stop(Outcome),
    Got(bool), // data; true: no more will come
}

/// `bytes` with the current Unix time, big-endian, at `at` (the SSLv3 hello).
/// An HTTP check request with `http-check send-state`'s header line
/// inserted at `at` (after the configured headers, as HAProxy's output).
fn with_state(bytes: &[u8], at: usize, state: &str) -> Vec<u8> {
    let at = at.min(bytes.len());
    let line = format!("x-haproxy-server-state: {state}\r\n");
    let mut out = Vec::with_capacity(bytes.len() + line.len());
    out.extend_from_slice(&bytes[..at]);
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(&bytes[at..]);
    out
}

fn with_date(bytes: &[u8], at: Option<usize>) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if let Some(at) = at.filter(|a| a + 4 <= out.len()) {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as u32);
        out[at..at + 4].copy_from_slice(&secs.to_be_bytes());
    }
    out
}

/// The error a connection recorded, as `strerror` words it.
fn conn_errno(conn: &Conn) -> Option<&'static str> {
    conn.error.map(|k| errno_text(&std::io::Error::from(k)))
}

/// `strerror` for the errors connects and I/O meet.
fn errno_text(e: &std::io::Error) -> &'static str {
    use std::io::ErrorKind as K;
    match e.raw_os_error() {
        Some(libc::ECONNREFUSED) => return "Connection refused",
        Some(libc::ECONNRESET) => return "Connection reset by peer",
        Some(libc::ETIMEDOUT) => return "Connection timed out",
        Some(libc::EHOSTUNREACH) => return "No route to host",
        Some(libc::ENETUNREACH) => return "Network is unreachable",
        Some(libc::EPIPE) => return "Broken pipe",
        Some(libc::EADDRNOTAVAIL) => return "Cannot assign requested address",
        _ => {}
    }
    match e.kind() {
        K::ConnectionRefused => "Connection refused",
        K::ConnectionReset => "Connection reset by peer",
        K::TimedOut => "Connection timed out",
        K::BrokenPipe => "Broken pipe",
        _ => "Connection error",
    }
}

/// The PROXY header a check sends first, as HAProxy 2.6 writes it: v1
/// names the check connection's own addresses (`PROXY TCP4 <its local
/// address> <the server's> ...`), v2 is the LOCAL command; v1 says
/// `UNKNOWN` where the addresses cannot be read (a unix socket).
fn check_proxy_header(v: crate::cfg::ProxyVersion, conn: &Conn) -> Vec<u8> {
    use crate::l4_conn::proxy_proto;
    match (v, conn.local_addr(), conn.peer_addr()) {
        (crate::cfg::ProxyVersion::V1, Ok(src), Ok(dst)) => proxy_proto::encode(v, src, dst),
        _ => proxy_proto::local(v),
    }
}
