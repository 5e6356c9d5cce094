//! Health checks: one per server with `check`, run by the worker.
//!
//! Every `inter`, a check connects to the server (a TCP check), or with
//! `option httpchk` sends a request and reads the status line. Results
//! move the server's health counter exactly as HAProxy 2.6 does
//! (`check->health` in `src/check.c`): it runs from 0 to rise+fall-1, the
//! server is UP while it is at least `rise`; a success that reaches `rise`
//! jumps to the top, a failure that drops below `rise` falls to 0.

use crate::core::buffer::Buffer;
use crate::l4_conn::{Conn, IoStep};
use mio::{Registry, Token};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// What to check and how often. Built from the configuration.
#[derive(Clone, Debug)]
pub struct CheckSpec {
    pub backend: usize,              // proxy index
    pub server: usize,               // server index in the backend
    pub port: u16,                   // where to connect: `port`, else the server's port
    pub inter: Duration,             // interval between checks while fully UP
    pub fastinter: Option<Duration>, // while transitionally UP or DOWN (`inter` if unset)
    pub downinter: Option<Duration>, // while fully DOWN (`inter` if unset)
    pub rise: u32,
    pub fall: u32,
    pub connect_timeout: Duration, // MIN(timeout connect, inter)
    pub read_timeout: Duration,    // `timeout check`, else inter
    pub http: Option<HttpProbe>,   // `option httpchk`
    pub tls: Option<(std::sync::Arc<crate::l4_conn::tls::ServerTls>, Option<String>)>, // `check-ssl`: settings and `check-sni`
}

/// An HTTP check: the request to send and the statuses that pass.
#[derive(Clone, Debug)]
pub struct HttpProbe {
    pub request: Vec<u8>,           // e.g. `OPTIONS / HTTP/1.0\r\n\r\n`
    pub expect_status: Option<u16>, // None: any 2xx or 3xx passes
}

/// Outcome of one check, with HAProxy's reason texts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckResult {
    Passed(String), // e.g. "Layer4 check passed", "Layer7 check passed, code: 200"
    Failed(String), // e.g. "Layer4 connection problem, info: \"Connection refused\""
}

/// A health-state change worth logging.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub up: bool,           // new state
    pub reason: String,     // what the last check said
    pub duration: Duration, // how long the last check took
}

enum Phase {
    Waiting { next: Instant },
    Connecting { started: Instant },
    Exchanging { started: Instant, out: Option<Buffer>, deadline: Instant },
}

/// One server's health check. Owned by the worker (in its own slab); the
/// worker applies returned transitions to the server's state.
pub struct Check {
    pub spec: CheckSpec,
    pub health: u32,                           // HAProxy's counter, 0..=rise+fall-1
    pub last: Option<(CheckResult, Duration)>, // the last completed check and its duration
    pub failures: u64,                         // failed checks that lowered the health counter (chkfail)
    phase: Phase,
    conn: Option<Conn>,
    pub timer: crate::core::timer::TimerSlot,
}

impl Check {
    /// A check that starts with the server UP (health = rise, as HAProxy),
    /// its first probe after a spread-out delay `first_in`.
    pub fn new(spec: CheckSpec, now: Instant, first_in: Duration) -> Check {
        let health = spec.rise;
        Check {
            spec,
            health,
            last: None,
            failures: 0,
            phase: Phase::Waiting { next: now + first_in },
            conn: None,
            timer: Default::default(),
        }
    }

    pub fn is_up(&self) -> bool {
        self.health >= self.spec.rise
    }

    /// The delay before the next check, as HAProxy's `srv_getinter`:
    /// `inter` while fully UP, `downinter` while fully DOWN, `fastinter`
    /// in between (each falls back to `inter`).
    pub fn interval(&self) -> Duration {
        let spec = &self.spec;
        if self.health + 1 >= spec.rise + spec.fall {
            return spec.inter;
        }
        if self.health == 0 {
            return spec.downinter.unwrap_or(spec.inter);
        }
        spec.fastinter.unwrap_or(spec.inter)
    }

    pub fn next_deadline(&self) -> Instant {
        match &self.phase {
            Phase::Waiting { next } => *next,
            Phase::Connecting { started } => *started + self.spec.connect_timeout,
            Phase::Exchanging { deadline, .. } => *deadline,
        }
    }

    pub fn on_event(&mut self, ev: &mio::event::Event) {
        if let Some(c) = self.conn.as_mut() {
            c.on_event(ev);
        }
    }

    /// Advances the check after an event or its timer. Returns a transition
    /// when the server changed state. `target`: the address to check now
    /// (`addr`, else the server's); None pauses the checks (the server is
    /// in maintenance or has no address yet).
    pub fn run(
        &mut self,
        registry: &Registry,
        token: Token,
        now: Instant,
        target: Option<IpAddr>,
    ) -> Option<Transition> {
        let result = match &mut self.phase {
            Phase::Waiting { next } if *next <= now => {
                match target {
                    Some(ip) => self.start(registry, token, now, SocketAddr::new(ip, self.spec.port)),
                    None => self.phase = Phase::Waiting { next: now + self.interval() },
                }
                None
            }
            Phase::Waiting { .. } => None,
            Phase::Connecting { started } => {
                let started = *started;
                self.step_connect(now, started)
            }
            Phase::Exchanging { .. } => self.step_exchange(now),
        };
        let (result, started) = result?;
        if let Some(mut c) = self.conn.take() {
            c.deregister(registry);
        }
        let duration = now.saturating_duration_since(started);
        self.last = Some((result.clone(), duration));
        let transition = self.apply(result, duration);
        self.phase = Phase::Waiting { next: now + super::spread::interval(self.interval()) };
        transition
    }

    fn start(&mut self, registry: &Registry, token: Token, now: Instant, addr: SocketAddr) {
        let registered = Conn::connect(addr, now).and_then(|mut c| {
            if let Some((tls, sni)) = &self.spec.tls {
                c.start_tls_client(tls, sni.as_deref())?;
            }
            c.register(registry, token).map(|()| c)
        });
        // An immediate local failure leaves no connection; it is counted at once.
        self.conn = registered.ok();
        self.phase = Phase::Connecting { started: now };
    }

    fn step_connect(&mut self, now: Instant, started: Instant) -> Option<(CheckResult, Instant)> {
        let Some(conn) = self.conn.as_mut() else {
            return Some((CheckResult::Failed("Layer4 connection problem".into()), started));
        };
        match conn.finish_connect(now) {
            Ok(true) => match &self.spec.http {
                None => Some((CheckResult::Passed("Layer4 check passed".into()), started)),
                Some(probe) => {
                    let mut out = Buffer::take();
                    out.push(&probe.request);
                    let deadline = now + self.spec.read_timeout;
                    self.phase = Phase::Exchanging { started, out: Some(out), deadline };
                    self.step_exchange(now)
                }
            },
            Ok(false) if now >= started + self.spec.connect_timeout => {
                // Connected but still handshaking: HAProxy's layer 6.
                let layer = if conn.connecting { "Layer4" } else { "Layer6" };
                Some((CheckResult::Failed(format!("{layer} timeout")), started))
            }
            Ok(false) => None,
            Err(_) if conn.tls_failure().is_some() => Some((
                CheckResult::Failed(format!(
                    "Layer6 invalid response, info: \"{}\"",
                    conn.tls_failure().map_or("", |f| f.message())
                )),
                started,
            )),
            Err(e) => Some((
                CheckResult::Failed(format!("Layer4 connection problem, info: \"{}\"", l4_info(&e))),
                started,
            )),
        }
    }

    fn step_exchange(&mut self, now: Instant) -> Option<(CheckResult, Instant)> {
        let Phase::Exchanging { started, out, deadline } = &mut self.phase else { return None };
        let started = *started;
        let conn = self.conn.as_mut()?;
        if out.is_some()
            && let IoStep::Failed = conn.send_from(out, now)
        {
            return Some((
                CheckResult::Failed("Layer7 invalid response, info: \"Connection error\"".into()),
                started,
            ));
        }
        let step = conn.fill(now);
        let line = conn.rx.as_ref().and_then(|rx| {
            let end = rx.data().windows(2).position(|w| w == b"\r\n")?;
            Some(rx.data()[..end].to_vec())
        });
        if let Some(line) = line {
            return Some((self.judge_status_line(&line), started));
        }
        if matches!(step, IoStep::Eof | IoStep::Failed) || conn.rx_full() {
            return Some((
                CheckResult::Failed("Layer7 invalid response, info: \"Connection closed\"".into()),
                started,
            ));
        }
        if now >= *deadline {
            return Some((CheckResult::Failed("Layer7 timeout".into()), started));
        }
        None
    }

    fn judge_status_line(&self, line: &[u8]) -> CheckResult {
        let text = String::from_utf8_lossy(line);
        let code = text.split(' ').nth(1).and_then(|c| c.parse::<u16>().ok());
        let Some(code) = code.filter(|_| text.starts_with("HTTP/")) else {
            return CheckResult::Failed("Layer7 invalid response".into());
        };
        let expect = self.spec.http.as_ref().and_then(|p| p.expect_status);
        let ok = match expect {
            Some(want) => code == want,
            None => (200..400).contains(&code),
        };
        let reason = text.splitn(3, ' ').nth(2).unwrap_or("").to_owned();
        if ok {
            CheckResult::Passed(format!("Layer7 check passed, code: {code}, info: \"{reason}\""))
        } else {
            CheckResult::Failed(format!("Layer7 wrong status, code: {code}, info: \"{reason}\""))
        }
    }

    /// HAProxy's health arithmetic; returns a transition on state change.
    fn apply(&mut self, result: CheckResult, duration: Duration) -> Option<Transition> {
        let was_up = self.is_up();
        let (rise, fall) = (self.spec.rise, self.spec.fall);
        let reason = match result {
            CheckResult::Passed(r) => {
                if self.health < rise + fall - 1 {
                    self.health += 1;
                    if self.health >= rise {
                        self.health = rise + fall - 1;
                    }
                }
                r
            }
            CheckResult::Failed(r) => {
                // HAProxy's chkfail counts the failures that move the
                // counter: while UP, and while DOWN but part way up.
                if self.health > 0 {
                    self.failures += 1;
                    self.health -= 1;
                    if self.health < rise {
                        self.health = 0;
                    }
                }
                r
            }
        };
        let up = self.is_up();
        (up != was_up).then_some(Transition { up, reason, duration })
    }
}

impl CheckResult {
    /// HAProxy's short check status (`show stat` `check_status`), the HTTP
    /// code if any, the description and the extra information, split from
    /// the reason text.
    pub fn parts(&self) -> (&'static str, Option<u16>, &str, &str) {
        let (passed, text) = match self {
            CheckResult::Passed(t) => (true, t.as_str()),
            CheckResult::Failed(t) => (false, t.as_str()),
        };
        let desc = text.split(", ").next().unwrap_or(text);
        let code =
            text.split(", code: ").nth(1).and_then(|c| c.split(',').next()).and_then(|c| c.parse().ok());
        let info = text.split("info: \"").nth(1).map_or("", |i| i.trim_end_matches('"'));
        let status = match (passed, desc) {
            (true, d) if d.starts_with("Layer7") => "L7OK",
            (true, _) => "L4OK",
            (false, "Layer4 timeout") => "L4TOUT",
            (false, "Layer4 connection problem") => "L4CON",
            (false, "Layer6 timeout") => "L6TOUT",
            (false, "Layer6 invalid response") => "L6RSP",
            (false, "Layer7 timeout") => "L7TOUT",
            (false, "Layer7 wrong status") => "L7STS",
            (false, _) => "L7RSP",
        };
        (status, code, desc, info)
    }
}

fn l4_info(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "Connection refused",
        std::io::ErrorKind::ConnectionReset => "Connection reset by peer",
        std::io::ErrorKind::TimedOut => "Connection timed out",
        _ => "Connection error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(rise: u32, fall: u32) -> Check {
        let spec = CheckSpec {
            backend: 0,
            server: 0,
            port: 1,
            inter: Duration::from_secs(2),
            fastinter: None,
            downinter: None,
            rise,
            fall,
            connect_timeout: Duration::from_secs(1),
            read_timeout: Duration::from_secs(2),
            http: None,
            tls: None,
        };
        Check::new(spec, Instant::now(), Duration::ZERO)
    }

    fn pass() -> CheckResult {
        CheckResult::Passed("ok".into())
    }

    fn fail() -> CheckResult {
        CheckResult::Failed("ko".into())
    }

    #[test]
    fn starts_up_and_first_failure_takes_it_down_as_haproxy() {
        let mut c = check(2, 3);
        assert!(c.is_up());
        let t = c.apply(fail(), Duration::ZERO).expect("down");
        assert!(!t.up);
        assert_eq!(c.health, 0);
    }

    #[test]
    fn rise_successes_bring_it_up_and_fall_failures_down() {
        let mut c = check(2, 3);
        c.apply(fail(), Duration::ZERO);
        assert_eq!(c.apply(pass(), Duration::ZERO), None, "1 of 2");
        assert!(c.apply(pass(), Duration::ZERO).expect("up").up);
        assert_eq!(c.health, 4);
        assert_eq!(c.apply(fail(), Duration::ZERO), None);
        assert_eq!(c.apply(fail(), Duration::ZERO), None);
        assert!(!c.apply(fail(), Duration::ZERO).expect("down after 3").up);
        assert_eq!(c.apply(fail(), Duration::ZERO), None, "stays down");
    }

    /// chkfail counts a failure whenever the health counter is above 0, as
    /// HAProxy's `set_server_check_status` does: a server coming back up
    /// (DOWN, 1 of 2 passes) that fails again counts it; failures of a
    /// server already at 0 do not.
    #[test]
    fn chkfail_counts_failures_while_health_is_above_zero() {
        let mut c = check(2, 2);
        c.apply(pass(), Duration::ZERO);
        assert_eq!(c.health, 3, "fully UP");
        c.apply(fail(), Duration::ZERO);
        c.apply(fail(), Duration::ZERO);
        assert_eq!((c.is_up(), c.failures), (false, 2), "DOWN after fall 2");
        c.apply(fail(), Duration::ZERO);
        assert_eq!(c.failures, 2, "a failure at health 0 is not counted");
        c.apply(pass(), Duration::ZERO);
        assert_eq!((c.is_up(), c.health), (false, 1), "DOWN, 1 of rise 2");
        c.apply(fail(), Duration::ZERO);
        assert_eq!((c.health, c.failures), (0, 3), "a failure while part way up is counted");
    }

    #[test]
    fn intervals_follow_the_health_counter() {
        let mut c = check(2, 3);
        c.spec.fastinter = Some(Duration::from_millis(100));
        c.spec.downinter = Some(Duration::from_secs(10));
        assert_eq!(c.interval(), Duration::from_millis(100), "not yet checked: fastinter");
        c.health = 4;
        assert_eq!(c.interval(), Duration::from_secs(2), "fully up");
        c.health = 3;
        assert_eq!(c.interval(), Duration::from_millis(100), "going down");
        c.health = 0;
        assert_eq!(c.interval(), Duration::from_secs(10), "fully down");
        c.spec.downinter = None;
        assert_eq!(c.interval(), Duration::from_secs(2));
    }

    #[test]
    fn http_status_judgement() {
        let mut c = check(2, 3);
        c.spec.http =
            Some(HttpProbe { request: b"OPTIONS / HTTP/1.0\r\n\r\n".to_vec(), expect_status: None });
        assert!(matches!(c.judge_status_line(b"HTTP/1.1 200 OK"), CheckResult::Passed(_)));
        assert!(matches!(c.judge_status_line(b"HTTP/1.1 302 Found"), CheckResult::Passed(_)));
        assert!(matches!(c.judge_status_line(b"HTTP/1.1 500 Oops"), CheckResult::Failed(_)));
        c.spec.http = Some(HttpProbe { request: Vec::new(), expect_status: Some(204) });
        assert!(matches!(c.judge_status_line(b"HTTP/1.1 200 OK"), CheckResult::Failed(_)));
        assert!(matches!(c.judge_status_line(b"garbage"), CheckResult::Failed(_)));
    }
}
