//! `log-forward` listeners: a `dgram-bind` socket reads one syslog message
//! per datagram; a `bind` socket accepts TCP clients whose messages come
//! framed as RFC 6587 says (a line starting with `<`, ended by LF or CR
//! LF, or `LEN SP MESSAGE`; anything else closes the connection, as
//! HAProxy's `syslog_io_handler`). Each message is parsed
//! (`message::parse`) and sent to the section's `log` targets with its own
//! header fields. `maxconn` bounds the TCP clients served at once,
//! `timeout client` closes an idle one.

use super::super::logsink::Targets;
use super::message;
use crate::cfg::Config;
use crate::cfg::syslog::LogForwardDef;
use socket2::{Domain, Protocol, Socket, Type};
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::SystemTime;

/// A bound listener of log-forward section `section` (index in
/// `Config::log_forwards`).
pub(super) struct Listener {
    section: usize,
    sock: Sock,
}

enum Sock {
    Udp(UdpSocket),
    Tcp(TcpListener),
}

/// Binds every listener of `f`.
pub(super) fn bind(section: usize, f: &LogForwardDef) -> Result<Vec<Listener>, super::super::StartError> {
    let err = |addr: SocketAddr, err: std::io::Error| super::super::StartError::Bind {
        proxy: f.name.clone(),
        addr: addr.to_string(),
        err,
    };
    let mut out = Vec::new();
    for &addr in &f.dgram_binds {
        let s = socket(addr, Type::DGRAM, Protocol::UDP).map_err(|e| err(addr, e))?;
        s.bind(&addr.into()).map_err(|e| err(addr, e))?;
        out.push(Listener { section, sock: Sock::Udp(s.into()) });
    }
    for &addr in &f.binds {
        let s = socket(addr, Type::STREAM, Protocol::TCP).map_err(|e| err(addr, e))?;
        s.bind(&addr.into()).map_err(|e| err(addr, e))?;
        let backlog = f.backlog.or(f.maxconn).unwrap_or(1024).min(i32::MAX as u32) as i32;
        s.listen(backlog).map_err(|e| err(addr, e))?;
        out.push(Listener { section, sock: Sock::Tcp(s.into()) });
    }
    Ok(out)
}

fn socket(addr: SocketAddr, ty: Type, proto: Protocol) -> std::io::Result<Socket> {
    let s = Socket::new(Domain::for_address(addr), ty, Some(proto))?;
    s.set_reuse_address(true)?;
    Ok(s)
}

/// Starts the thread serving `l`.
pub(super) fn spawn(l: Listener, cfg: Arc<Config>) {
    let name = format!("strata-logfwd-{}", cfg.log_forwards[l.section].name);
    let _ = std::thread::Builder::new().name(name).spawn(move || {
        let targets = Arc::new(Targets::open(&cfg.log_forwards[l.section].logs, &cfg));
        match l.sock {
            Sock::Udp(s) => datagrams(&s, &targets),
            Sock::Tcp(s) => accept(&s, &cfg.log_forwards[l.section], targets),
        }
    });
}

/// Sends one received message on.
fn relay(targets: &Targets, raw: &[u8]) {
    crate::core::ring::note_received();
    let text = String::from_utf8_lossy(raw);
    let p = message::parse(&text);
    targets.emit(p.level, p.facility, &p.meta, p.text, SystemTime::now());
}

fn datagrams(s: &UdpSocket, targets: &Targets) {
    let mut buf = vec![0u8; 65536];
    loop {
        match s.recv_from(&mut buf) {
            Ok((n, _)) => {
                // HAProxy drops the trailing LF or NUL bytes when it sends.
                let mut m = &buf[..n];
                while let [rest @ .., b'\n' | b'\0'] = m {
                    m = rest;
                }
                relay(targets, m);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
        }
    }
}

fn accept(s: &TcpListener, f: &LogForwardDef, targets: Arc<Targets>) {
    let live = Arc::new(AtomicU32::new(0));
    let timeout = f.timeout_client;
    let maxconn = f.maxconn;
    for conn in s.incoming() {
        let Ok(conn) = conn else { continue };
        if maxconn.is_some_and(|m| m > 0 && live.load(Ordering::SeqCst) >= m) {
            continue; // closed at once: the section serves `maxconn` clients at most
        }
        live.fetch_add(1, Ordering::SeqCst);
        let (live, targets) = (live.clone(), targets.clone());
        let _ = std::thread::Builder::new().name("strata-logfwd-conn".into()).spawn(move || {
            let _ = conn.set_read_timeout(timeout);
            client(conn, &targets);
            live.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

/// Reads framed messages until the client closes, stays idle past
/// `timeout client`, or sends something that is no frame.
fn client(mut conn: TcpStream, targets: &Targets) {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 16384];
    loop {
        loop {
            match frame(&buf) {
                Frame::Message(start, end, used) => {
                    relay(targets, &buf[start..end]);
                    buf.drain(..used);
                }
                Frame::Incomplete => break,
                Frame::Invalid => return,
            }
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 1 << 20 {
            return; // no frame this large
        }
    }
}

/// One RFC 6587 frame at the start of `buf`.
#[derive(Debug, PartialEq, Eq)]
enum Frame {
    Message(usize, usize, usize), // message start, end, bytes consumed
    Incomplete,
    Invalid,
}

fn frame(buf: &[u8]) -> Frame {
    match buf.first() {
        None => Frame::Incomplete,
        Some(b'<') => match buf.iter().position(|&b| b == b'\n') {
            Some(lf) => {
                let end = if lf > 0 && buf[lf - 1] == b'\r' { lf - 1 } else { lf };
                Frame::Message(0, end, lf + 1)
            }
            None => Frame::Incomplete,
        },
        Some(b'1'..=b'9') => {
            let Some(sp) = buf.iter().position(|&b| !b.is_ascii_digit()) else { return Frame::Incomplete };
            if buf[sp] != b' ' {
                return Frame::Invalid;
            }
            let Some(len) = std::str::from_utf8(&buf[..sp]).ok().and_then(|n| n.parse::<usize>().ok()) else {
                return Frame::Invalid;
            };
            if len > 1 << 20 {
                return Frame::Invalid;
            }
            if buf.len() < sp + 1 + len {
                return Frame::Incomplete;
            }
            Frame::Message(sp + 1, sp + 1 + len, sp + 1 + len)
        }
        Some(_) => Frame::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_as_rfc_6587_writes_them() {
        assert_eq!(frame(b"<13>hello\nnext"), Frame::Message(0, 9, 10));
        assert_eq!(frame(b"<13>hello\r\n"), Frame::Message(0, 9, 11));
        assert_eq!(frame(b"<13>hel"), Frame::Incomplete);
        assert_eq!(frame(b"9 <13>hello"), Frame::Message(2, 11, 11));
        assert_eq!(frame(b"9 <13>hel"), Frame::Incomplete);
        assert_eq!(frame(b"12"), Frame::Incomplete);
        assert_eq!(frame(b"12x"), Frame::Invalid);
        assert_eq!(frame(b"0 x"), Frame::Invalid);
        assert_eq!(frame(b"hello"), Frame::Invalid);
    }
}
