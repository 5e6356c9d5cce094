//! Blocking client helpers with bounded waits. Every bound here is a safety
//! net (scaled by [`super::time`]), never a speed requirement.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use super::time::ms;

/// Connect to 127.0.0.1:`port` within a generous bound, or panic.
pub fn connect(port: u16) -> TcpStream {
    try_connect(port).unwrap_or_else(|e| panic!("connect to 127.0.0.1:{port}: {e}"))
}

/// Connect to 127.0.0.1:`port` within a generous bound.
pub fn try_connect(port: u16) -> io::Result<TcpStream> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let s = TcpStream::connect_timeout(&addr, ms(5_000))?;
    s.set_nodelay(true)?;
    Ok(s)
}

/// Connect from source address `src` (any port) to 127.0.0.1:`port`: a
/// distinct client address per test thread gives each its own stick-table
/// key. Linux answers on all of 127.0.0.0/8.
pub fn connect_from(src: Ipv4Addr, port: u16) -> io::Result<TcpStream> {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    sock.bind(&SocketAddr::from((src, 0)).into())?;
    sock.connect_timeout(&SocketAddr::from((Ipv4Addr::LOCALHOST, port)).into(), ms(5_000))?;
    let s: TcpStream = sock.into();
    s.set_nodelay(true)?;
    Ok(s)
}

/// Close `s` with an RST instead of a FIN (`SO_LINGER` 0), as an aborting
/// client or a crashed peer does.
pub fn reset(s: TcpStream) {
    let sock = socket2::Socket::from(s);
    let _ = sock.set_linger(Some(Duration::ZERO));
    drop(sock);
}

/// Read exactly `n` bytes within `within`; `TimedOut` if they do not come,
/// `UnexpectedEof` if the peer closes first.
pub fn read_exact_with_timeout(s: &mut TcpStream, n: usize, within: Duration) -> io::Result<Vec<u8>> {
    let deadline = Instant::now() + within;
    let mut out = vec![0u8; n];
    let mut got = 0;
    while got < n {
        set_deadline(s, deadline)?;
        match s.read(&mut out[got..]) {
            Ok(0) => {
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    format!("EOF after {got} of {n} bytes"),
                ));
            }
            Ok(k) => got += k,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => {
                return Err(io::Error::new(
                    ErrorKind::TimedOut,
                    format!("got {got} of {n} bytes before the deadline"),
                ));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Read until EOF within `within`; `TimedOut` (with the byte count) if the
/// peer does not close in time. A reset is returned as an error.
pub fn read_to_end_with_timeout(s: &mut TcpStream, within: Duration) -> io::Result<Vec<u8>> {
    let deadline = Instant::now() + within;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        set_deadline(s, deadline)?;
        match s.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(k) => out.extend_from_slice(&buf[..k]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => {
                return Err(io::Error::new(ErrorKind::TimedOut, format!("no EOF after {} bytes", out.len())));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Write `msg`, read back exactly as many bytes (an echo round trip).
pub fn round_trip(s: &mut TcpStream, msg: &[u8], within: Duration) -> io::Result<Vec<u8>> {
    s.write_all(msg)?;
    read_exact_with_timeout(s, msg.len(), within)
}

/// How a connection ended (or did not) while a test waited on it.
#[derive(Debug, PartialEq, Eq)]
pub enum Closed {
    /// The peer closed cleanly (read returned 0) after this long.
    Eof(Duration),
    /// The peer reset the connection after this long.
    Reset(Duration),
    /// Data arrived instead (the first chunk read).
    Data(Vec<u8>),
    /// Nothing happened within the bound.
    StillOpen,
}

impl Closed {
    /// When the connection ended, if it did (EOF or reset).
    pub fn after(&self) -> Option<Duration> {
        match self {
            Closed::Eof(d) | Closed::Reset(d) => Some(*d),
            _ => None,
        }
    }
}

/// Wait up to `within` for the peer to close `s` without sending data.
/// The durations in the result count from the call.
pub fn expect_closed_within(s: &mut TcpStream, within: Duration) -> Closed {
    let start = Instant::now();
    let deadline = start + within;
    let mut buf = [0u8; 4096];
    loop {
        if set_deadline(s, deadline).is_err() {
            return Closed::StillOpen;
        }
        match s.read(&mut buf) {
            Ok(0) => return Closed::Eof(start.elapsed()),
            Ok(k) => return Closed::Data(buf[..k].to_vec()),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Closed::StillOpen,
            Err(_) => return Closed::Reset(start.elapsed()),
        }
    }
}

/// Wait `dur` and return whatever arrived in that time (empty: silence).
/// EOF or a reset end the wait early and are reported as errors.
pub fn read_for(s: &mut TcpStream, dur: Duration) -> io::Result<Vec<u8>> {
    let deadline = Instant::now() + dur;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if set_deadline(s, deadline).is_err() {
            return Ok(out);
        }
        match s.read(&mut buf) {
            Ok(0) => return Err(io::Error::new(ErrorKind::UnexpectedEof, "peer closed")),
            Ok(k) => out.extend_from_slice(&buf[..k]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Ok(out),
            Err(e) => return Err(e),
        }
    }
}

/// Half-close: no more data from us, keep reading.
pub fn shutdown_write(s: &TcpStream) -> io::Result<()> {
    s.shutdown(Shutdown::Write)
}

/// Poll `cond` every 10ms until it holds or `within` passes; true if it held.
pub fn wait_until(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Set the read timeout to the time left until `deadline`; `TimedOut` if
/// none is left (a zero timeout would mean "block forever").
fn set_deadline(s: &TcpStream, deadline: Instant) -> io::Result<()> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::Error::new(ErrorKind::TimedOut, "deadline passed"));
    }
    s.set_read_timeout(Some(left))
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Connect from `src` to 127.0.0.1:`port` and wait up to `within` for the
/// proxy to close the connection without sending anything (a `reject`).
/// A connect or socket option already failing with a reset counts as
/// `Reset`: a rejected connection may be reset before we look at it.
pub fn expect_refused_from(src: Ipv4Addr, port: u16, within: Duration) -> Closed {
    let start = Instant::now();
    let sock = match socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None) {
        Ok(s) => s,
        Err(e) => panic!("socket: {e}"),
    };
    sock.bind(&SocketAddr::from((src, 0)).into()).unwrap_or_else(|e| panic!("bind {src}: {e}"));
    if let Err(e) = sock.connect_timeout(&SocketAddr::from((Ipv4Addr::LOCALHOST, port)).into(), within) {
        if e.kind() == ErrorKind::ConnectionReset {
            return Closed::Reset(start.elapsed());
        }
        panic!("connect from {src} to port {port}: {e}");
    }
    let mut s: TcpStream = sock.into();
    expect_closed_within(&mut s, within)
}
