//! [`Load`]: a steady load of HTTP/1.1 requests counting every failure,
//! for the reload tests: threads on keep-alive connections (a new
//! connection when the proxy answers `Connection: close`) and threads
//! opening one connection per request. Each request carries an `x-key`
//! header from a fixed set, so a table tracking it fills with known keys.
//!
//! What counts as failed: any request without a complete `200` answer,
//! except one case every HTTP client retries (RFC 9112 §9.3.1): a request
//! sent on a kept-alive connection that the proxy closed before any byte
//! of an answer (a close racing with the request). Such a request is sent
//! again on a new connection and counted in `retried`; if that fails too,
//! it is a failure.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// What the load saw.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub ok: u64,
    pub failed: u64,
    pub retried: u64,
    pub errors: Vec<String>, // the first few failures, for the message
}

#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    failed: AtomicU64,
    retried: AtomicU64,
    errors: std::sync::Mutex<Vec<String>>,
}

impl Counts {
    fn fail(&self, why: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let mut e = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        if e.len() < 10 {
            e.push(why);
        }
    }
}

/// A running load; [`Load::finish`] stops it and reports.
pub struct Load {
    stop: Arc<AtomicBool>,
    counts: Arc<Counts>,
    threads: Vec<JoinHandle<()>>,
}

/// The outcome of one exchange.
enum Outcome {
    Ok { close: bool },
    NothingBack, // closed (or reset) before any byte of an answer
    Broken(String),
}

fn exchange(s: &mut TcpStream, key: usize, close: bool) -> Outcome {
    let req = format!(
        "GET / HTTP/1.1\r\nhost: load\r\nx-key: k{key}\r\n{}\r\n",
        if close { "connection: close\r\n" } else { "" }
    );
    if let Err(e) = s.write_all(req.as_bytes()) {
        return Outcome::NothingBack.or_broken(e.kind(), format!("write: {e}"));
    }
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                if !head.starts_with("http/1.1 200") {
                    return Outcome::Broken(format!("answer {:?}", head.lines().next()));
                }
                return Outcome::Ok { close: head.contains("connection: close") };
            }
        }
        match s.read(&mut chunk) {
            Ok(0) if buf.is_empty() => return Outcome::NothingBack,
            Ok(0) => return Outcome::Broken(format!("closed after {} bytes of an answer", buf.len())),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if buf.is_empty() => {
                return Outcome::NothingBack.or_broken(e.kind(), format!("read: {e}"));
            }
            Err(e) => return Outcome::Broken(format!("read after {} bytes: {e}", buf.len())),
        }
    }
}

impl Outcome {
    /// A reset or EOF before any answer byte is "nothing back"; a
    /// timeout is a failure.
    fn or_broken(self, kind: std::io::ErrorKind, why: String) -> Outcome {
        use std::io::ErrorKind as K;
        match kind {
            K::ConnectionReset | K::BrokenPipe | K::UnexpectedEof | K::ConnectionAborted => self,
            _ => Outcome::Broken(why),
        }
    }
}

fn connect(port: u16) -> std::io::Result<TcpStream> {
    let s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.set_nodelay(true)?;
    Ok(s)
}

impl Load {
    /// `keep_alive` threads on kept-alive connections and `fresh` threads
    /// opening a connection per request, to 127.0.0.1:`port`, keys
    /// `k0`..`k{keys-1}`.
    pub fn start(port: u16, keep_alive: usize, fresh: usize, keys: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let counts = Arc::new(Counts::default());
        let mut threads = Vec::new();
        for t in 0..keep_alive + fresh {
            let (stop, counts) = (stop.clone(), counts.clone());
            let ka = t < keep_alive;
            threads.push(std::thread::spawn(move || {
                let mut n = t * 7919;
                let mut conn: Option<(TcpStream, u64)> = None; // connection and requests sent on it
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let key = n % keys;
                    if !ka {
                        match connect(port) {
                            Ok(mut s) => match exchange(&mut s, key, true) {
                                Outcome::Ok { .. } => counts.ok.fetch_add(1, Ordering::Relaxed),
                                Outcome::NothingBack => {
                                    counts.fail("new connection closed without an answer".into());
                                    0
                                }
                                Outcome::Broken(w) => {
                                    counts.fail(format!("new connection: {w}"));
                                    0
                                }
                            },
                            Err(e) => {
                                counts.fail(format!("connect: {e}"));
                                0
                            }
                        };
                        continue;
                    }
                    if conn.is_none() {
                        match connect(port) {
                            Ok(s) => conn = Some((s, 0)),
                            Err(e) => {
                                counts.fail(format!("connect: {e}"));
                                continue;
                            }
                        }
                    }
                    let Some((s, used)) = conn.as_mut() else { continue };
                    match exchange(s, key, false) {
                        Outcome::Ok { close } => {
                            counts.ok.fetch_add(1, Ordering::Relaxed);
                            *used += 1;
                            if close {
                                conn = None;
                            }
                        }
                        Outcome::NothingBack if *used > 0 => {
                            // the close raced with our request: send it again
                            counts.retried.fetch_add(1, Ordering::Relaxed);
                            conn = None;
                            match connect(port).map(|mut s| (exchange(&mut s, key, false), s)) {
                                Ok((Outcome::Ok { close }, s)) => {
                                    counts.ok.fetch_add(1, Ordering::Relaxed);
                                    conn = (!close).then_some((s, 1));
                                }
                                Ok((Outcome::NothingBack, _)) => {
                                    counts.fail("retry: closed without an answer".into())
                                }
                                Ok((Outcome::Broken(w), _)) => counts.fail(format!("retry: {w}")),
                                Err(e) => counts.fail(format!("retry connect: {e}")),
                            }
                        }
                        Outcome::NothingBack => {
                            counts.fail("first request of a connection: closed without an answer".into());
                            conn = None;
                        }
                        Outcome::Broken(w) => {
                            counts.fail(format!("keep-alive: {w}"));
                            conn = None;
                        }
                    }
                }
            }));
        }
        Load { stop, counts, threads }
    }

    /// Requests answered so far.
    pub fn ok(&self) -> u64 {
        self.counts.ok.load(Ordering::Relaxed)
    }

    /// Stops the load and reports.
    pub fn finish(self) -> Report {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            let _ = t.join();
        }
        let c = &self.counts;
        Report {
            ok: c.ok.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            retried: c.retried.load(Ordering::Relaxed),
            errors: c.errors.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        }
    }
}
