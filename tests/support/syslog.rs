//! Log receivers for `log <target>` lines: a UDP socket ([`LogReceiver::udp`],
//! for `log 127.0.0.1:PORT ...`) or a unix datagram socket
//! ([`LogReceiver::unix`], for `log /path ...`), one datagram per log line;
//! and the syslog framings HAProxy 2.6 writes around a message
//! ([`Framing`], [`unframe`]).

use std::net::{Ipv4Addr, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A bound datagram socket collecting log lines.
pub struct LogReceiver {
    sock: Sock,
    path: Option<PathBuf>, // unix socket file, removed on drop
}

enum Sock {
    Udp(UdpSocket),
    Unix(UnixDatagram),
}

impl LogReceiver {
    /// A UDP socket on 127.0.0.1, ephemeral port ([`LogReceiver::target`]).
    pub fn udp() -> LogReceiver {
        let s = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind udp 127.0.0.1:0");
        LogReceiver { sock: Sock::Udp(s), path: None }
    }

    /// A unix datagram socket at a fresh path in the temp dir.
    pub fn unix() -> LogReceiver {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("strata-log-{}-{n}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let s = UnixDatagram::bind(&path).unwrap_or_else(|e| panic!("bind {}: {e}", path.display()));
        LogReceiver { sock: Sock::Unix(s), path: Some(path) }
    }

    /// What to write after `log`: `127.0.0.1:PORT` or the socket path.
    pub fn target(&self) -> String {
        match (&self.sock, &self.path) {
            (Sock::Udp(s), _) => format!("127.0.0.1:{}", s.local_addr().expect("local addr").port()),
            (Sock::Unix(_), Some(p)) => p.display().to_string(),
            (Sock::Unix(_), None) => unreachable!("a unix receiver has a path"),
        }
    }

    /// The next datagram, waiting up to `within`; `None` if none came.
    pub fn recv_within(&self, within: Duration) -> Option<String> {
        let deadline = Instant::now() + within;
        let mut buf = vec![0u8; 65536];
        loop {
            let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
            let got = match &self.sock {
                Sock::Udp(s) => s.set_read_timeout(Some(left)).and_then(|_| s.recv(&mut buf)),
                Sock::Unix(s) => s.set_read_timeout(Some(left)).and_then(|_| s.recv(&mut buf)),
            };
            match got {
                Ok(n) => return Some(String::from_utf8_lossy(&buf[..n]).into_owned()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) if Instant::now() >= deadline => return None,
                Err(e)
                    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                Err(e) => panic!("log receiver: {e}"),
            }
        }
    }

    /// The next datagram within `within`, or panic saying what was awaited.
    pub fn expect(&self, within: Duration, what: &str) -> String {
        self.recv_within(within).unwrap_or_else(|| panic!("no log datagram within {within:?}: {what}"))
    }

    /// Every datagram arriving within `within` (all of them, not a count).
    pub fn drain_for(&self, within: Duration) -> Vec<String> {
        let deadline = Instant::now() + within;
        let mut out = Vec::new();
        while let Some(d) = self.recv_within(deadline.saturating_duration_since(Instant::now())) {
            out.push(d);
        }
        out
    }
}

impl Drop for LogReceiver {
    fn drop(&mut self) {
        if let Some(p) = &self.path {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// How HAProxy 2.6 frames a log message for `log <target> [format F]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No `format`: `<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG\n`.
    Legacy,
    /// `format rfc3164`: `<PRI>Mmm dd hh:mm:ss localhost TAG[PID]: MSG\n`.
    Rfc3164,
    /// `format rfc5424`: `<PRI>1 YYYY-MM-DDThh:mm:ss.uuuuuu+hh:mm - TAG PID - - MSG\n`.
    Rfc5424,
    /// `format short`: `<LEVEL>MSG\n`.
    Short,
    /// `format raw`: `MSG\n`.
    Raw,
}

/// The parts of a framed line that vary.
#[derive(Debug, PartialEq, Eq)]
pub struct Framed {
    pub pri: Option<u32>, // `<PRI>`, none in raw
    pub tag: String,      // program name (`haproxy`, `strata`), empty when absent
    pub pid: Option<u32>, // process id, when framed
    pub msg: String,      // the message, without the final `\n`
}

/// Split `line` by `framing`; an error says which part does not match.
pub fn unframe(line: &str, framing: Framing) -> Result<Framed, String> {
    let body = line.strip_suffix('\n').ok_or("no final \\n")?;
    if framing == Framing::Raw {
        return Ok(Framed { pri: None, tag: String::new(), pid: None, msg: body.to_string() });
    }
    let rest = body.strip_prefix('<').ok_or("no <PRI>")?;
    let (pri, rest) = rest.split_once('>').ok_or("<PRI> not closed")?;
    let pri = Some(pri.parse::<u32>().map_err(|_| format!("PRI {pri:?}"))?);
    match framing {
        Framing::Short => Ok(Framed { pri, tag: String::new(), pid: None, msg: rest.to_string() }),
        Framing::Legacy | Framing::Rfc3164 => {
            let date = rest.get(..15).ok_or("short line")?;
            check_3164_date(date)?;
            let mut rest = rest.get(15..).and_then(|r| r.strip_prefix(' ')).ok_or("no space after date")?;
            if framing == Framing::Rfc3164 {
                rest = rest.strip_prefix("localhost ").ok_or("no `localhost ` host field")?;
            }
            let (tag, rest) = rest.split_once('[').ok_or("no TAG[")?;
            let (pid, msg) = rest.split_once("]: ").ok_or("no ]: after the pid")?;
            let pid = Some(pid.parse().map_err(|_| format!("pid {pid:?}"))?);
            Ok(Framed { pri, tag: tag.to_string(), pid, msg: msg.to_string() })
        }
        Framing::Rfc5424 => {
            let rest = rest.strip_prefix("1 ").ok_or("no version 1")?;
            let (date, rest) = rest.split_once(' ').ok_or("no date")?;
            check_5424_date(date)?;
            let rest = rest.strip_prefix("- ").ok_or("host is not `-`")?;
            let (tag, rest) = rest.split_once(' ').ok_or("no tag")?;
            let (pid, rest) = rest.split_once(' ').ok_or("no pid")?;
            let pid = Some(pid.parse().map_err(|_| format!("pid {pid:?}"))?);
            let msg = rest.strip_prefix("- - ").ok_or("msgid and structured data are not `- -`")?;
            Ok(Framed { pri, tag: tag.to_string(), pid, msg: msg.to_string() })
        }
        Framing::Raw => unreachable!("handled above"),
    }
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// `Mmm dd hh:mm:ss`, the day space-padded.
fn check_3164_date(d: &str) -> Result<(), String> {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    if !d.is_ascii() {
        return Err(format!("rfc3164 date {d:?}"));
    }
    let b = d.as_bytes();
    let day = d[4..6].trim_start();
    let ok = MONTHS.contains(&&d[..3])
        && b[3] == b' '
        && !day.is_empty()
        && day.bytes().all(|c| c.is_ascii_digit())
        && b[6] == b' '
        && time_ok(&d[7..]);
    ok.then_some(()).ok_or_else(|| format!("rfc3164 date {d:?}"))
}

/// `hh:mm:ss`.
fn time_ok(t: &str) -> bool {
    let p: Vec<&str> = t.split(':').collect();
    p.len() == 3 && p.iter().all(|x| digits(x, 2))
}

/// `YYYY-MM-DDThh:mm:ss.uuuuuu+hh:mm` (microseconds, numeric offset).
fn check_5424_date(d: &str) -> Result<(), String> {
    let bad = || format!("rfc5424 date {d:?}");
    let (date, time) = d.split_once('T').ok_or_else(bad)?;
    let dp: Vec<&str> = date.split('-').collect();
    let date_ok = dp.len() == 3 && digits(dp[0], 4) && digits(dp[1], 2) && digits(dp[2], 2);
    let (hms, frac) = time.split_once('.').ok_or_else(bad)?;
    if !frac.is_ascii() {
        return Err(bad());
    }
    let (micros, offset) = frac.split_at(frac.len().min(6));
    let off_ok = offset.len() == 6
        && (offset.starts_with('+') || offset.starts_with('-'))
        && digits(&offset[1..3], 2)
        && &offset[3..4] == ":"
        && digits(&offset[4..], 2);
    (date_ok && time_ok(hms) && digits(micros, 6) && off_ok).then_some(()).ok_or_else(bad)
}
