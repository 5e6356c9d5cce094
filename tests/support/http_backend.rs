//! A blocking HTTP/1.1 test server (one thread per connection, keep-alive)
//! that records every request it receives, so a test can assert both what
//! the proxy answered and what reached the server ("nothing at all",
//! "exactly this body").
//!
//! Routes (the path of the request target; any method; HEAD gets the
//! headers of GET without the body):
//!
//! | path | answer |
//! |---|---|
//! | `/` | 200 `hello` |
//! | `/size/N` | 200, `N` bytes of `pattern(BODY_SEED, N)`, Content-Length |
//! | `/chunked/N` | 200, the same bytes chunked, trailer `X-Trailer: done` |
//! | `/text/N` | 200 `text/plain`, `N` bytes of [`text_body`] (compressible), Content-Length |
//! | `/chunked-text/N` | the same text chunked |
//! | `/status/N` | status `N`, empty body (none at all for 1xx/204/304) |
//! | `/304` | 304, no body |
//! | `/delay/MS` | waits `MS` ms (as written: the test scales it), then 200 `hello` |
//! | `/hold`, `/hold/ANY` | waits until the test calls [`HttpBackend::open_gate`] (at most a scaled minute), then 200 `hello` |
//! | `/close`, `/close/N` | 200 without length, `N` (default [`CLOSE_BODY_LEN`]) pattern bytes, then FIN |
//! | `/reset` | reads the request, then RST before any response byte |
//! | `/reset-head` | half a response head, then RST |
//! | `/reset-body` | a head announcing [`RESET_BODY_LEN`] bytes, a tenth of them, then RST |
//! | `/garbage` | a response head that is not HTTP |
//! | `/bad-header` | a 200 head with a header line without a colon ([`BAD_HEADER`]), then FIN |
//! | `/echo` | the request body back, Content-Length or chunked like the request |
//! | `/health` | the status set by [`HttpBackend::set_health`] (200 at start), empty body |
//! | other | 404, empty body |
//!
//! Any request with `Expect: 100-continue` gets `100 Continue` before its
//! body is read. A request with `Connection: Upgrade` and an `Upgrade`
//! header gets `101 Switching Protocols` (`Upgrade: websocket`, and the
//! RFC 6455 `Sec-WebSocket-Accept` for its `Sec-WebSocket-Key`), after
//! which the connection echoes raw bytes until the peer closes. A request
//! asking for it (`Connection: close`, HTTP/1.0 without keep-alive) is
//! answered with `Connection: close`, then FIN.
//!
//! A request header `X-Reply: Name: value` (repeatable) puts that header
//! line in the response, so a test can choose `Cache-Control`,
//! `Set-Cookie`, `Vary`...
//!
//! Every response carries `X-Server: NAME` when the server was started
//! [`HttpBackend::named`], so a test can tell which server answered.
//!
//! With [`HttpBackend::drop_reused`] on, a request arriving on a connection
//! that already served one is read, then the connection is closed without
//! an answer (counted in [`HttpBackend::dropped`]): the race of a server
//! closing an idle keep-alive connection just as a request reuses it.
//!
//! Resets are real RSTs: `SO_LINGER` 0 (through `socket2`, already a
//! dependency of the package) and a close, which is why the server runs on
//! [`Backend::spawn_closing`].
//!
//! A request is recorded once its body is complete (chunked bodies are
//! decoded, trailers kept); a head whose body never completes counts in
//! [`HttpBackend::incomplete`]. Every byte read counts in
//! [`HttpBackend::bytes_received`].

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::backend::Backend;
use super::client::wait_until;
use super::pattern::{Fnv, pattern};
use super::time::ms;
use super::websocket::websocket_accept;

/// Seed of every response body the server generates (`/size`, `/chunked`, `/close`).
pub const BODY_SEED: u64 = 0xB0D7_0001;
/// Body length of `/close` without a size.
pub const CLOSE_BODY_LEN: usize = 100_000;
/// Content-Length announced by `/reset-body` (a tenth is sent before the RST).
pub const RESET_BODY_LEN: usize = 100_000;
/// The bytes `/garbage` answers with.
pub const GARBAGE: &[u8] = b"\x16\x03\x01 this is not HTTP\r\n\r\n";
/// The bytes `/bad-header` answers with: a valid status line, then a
/// header line with no colon (a malformed header, refused by both proxies).
pub const BAD_HEADER: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Bad header without colon\r\n\r\nhello";
/// Request bodies up to this size are kept whole in [`Received::body`].
const KEEP_BODY: usize = 1024 * 1024;
/// A request head larger than this is refused (the proxy never sends one).
const MAX_HEAD: usize = 1024 * 1024;

/// One complete request as the server read it.
#[derive(Clone, Debug)]
pub struct Received {
    pub conn: usize,                     // which connection (0, 1, ... in accept order)
    pub method: String,                  // as sent
    pub target: String,                  // request target as sent (origin or absolute form)
    pub version: String,                 // `HTTP/1.1`
    pub headers: Vec<(String, String)>,  // in order, names as sent, values trimmed
    pub body_len: u64,                   // decoded body length
    pub body_hash: u64,                  // `fingerprint` of the decoded body
    pub body: Vec<u8>,                   // the decoded body if at most 1 MiB, else empty
    pub trailers: Vec<(String, String)>, // chunked trailers
    pub chunked: bool,                   // the body came chunked
}

impl Received {
    /// First header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// First trailer named `name` (case-insensitive).
    pub fn trailer(&self, name: &str) -> Option<&str> {
        find_header(&self.trailers, name)
    }
}

/// What every connection of one server shares.
#[derive(Default)]
struct Record {
    requests: Mutex<Vec<Received>>, // complete requests, in completion order
    incomplete: AtomicUsize,        // heads whose body never completed, and partial heads
    bytes: AtomicU64,               // every byte read from every connection
    conns: AtomicUsize,             // numbering of connections
    name: String,                   // `X-Server` value, none if empty
    health: AtomicU16,              // status of `/health`, 0 meaning 200
    drop_reused: AtomicBool,        // close instead of answering a connection's second request
    dropped: AtomicUsize,           // requests closed on instead of answered
    gate: Mutex<Gate>,              // when `/hold` answers
    gate_moved: Condvar,            // signalled when `gate` changes
    holding: AtomicUsize,           // `/hold` requests waiting at the gate now
    closed: AtomicUsize,            // connections ended (either side closed)
}

/// The `/hold` gate: open, or closed since its `opened`-th opening. A request
/// that arrived before an opening is released by it even if the gate closes
/// again before that request's thread runs, so `open_gate` then `close_gate`
/// releases everything held at `open_gate` however loaded the machine is.
#[derive(Default)]
struct Gate {
    open: bool,  // every `/hold` answers at once
    opened: u64, // how many times the gate has opened
}

impl Record {
    /// Wait (bounded) for the gate to open: the body of `/hold`. Counted in
    /// `holding` under the gate's lock, so an `open_gate` after the test saw
    /// this request held releases it.
    fn wait_gate(&self) {
        let gate = self.gate.lock().unwrap();
        let arrived = gate.opened;
        self.holding.fetch_add(1, Ordering::SeqCst);
        let still_closed = |g: &mut Gate| !g.open && g.opened == arrived;
        let gate = self.gate_moved.wait_timeout_while(gate, ms(60_000), still_closed).unwrap();
        self.holding.fetch_sub(1, Ordering::SeqCst);
        drop(gate);
    }

    fn set_gate(&self, open: bool) {
        let mut gate = self.gate.lock().unwrap();
        if open && !gate.open {
            gate.opened += 1;
        }
        gate.open = open;
        self.gate_moved.notify_all();
    }
}

/// A running HTTP test server; stops on drop.
pub struct HttpBackend {
    backend: Backend,    // accept thread, connection count
    record: Arc<Record>, // what was received
}

impl HttpBackend {
    pub fn start() -> HttpBackend {
        HttpBackend::named_on("", 0)
    }

    /// A server whose responses carry `X-Server: name`.
    pub fn named(name: &str) -> HttpBackend {
        HttpBackend::named_on(name, 0)
    }

    /// [`HttpBackend::named`] listening on `port` (0: ephemeral), e.g. to
    /// come back where a dropped server listened.
    pub fn named_on(name: &str, port: u16) -> HttpBackend {
        let record = Arc::new(Record { name: name.to_string(), ..Record::default() });
        let backend = {
            let record = record.clone();
            Backend::spawn_closing_on(port, move |s| {
                let conn = record.conns.fetch_add(1, Ordering::SeqCst);
                serve(s, conn, &record);
                record.closed.fetch_add(1, Ordering::SeqCst);
            })
        };
        HttpBackend { backend, record }
    }

    /// The status `/health` answers from now on.
    pub fn set_health(&self, status: u16) {
        self.record.health.store(status, Ordering::SeqCst);
    }

    /// Whether to close (without answering) on a connection's second and
    /// later requests, from now on.
    pub fn drop_reused(&self, on: bool) {
        self.record.drop_reused.store(on, Ordering::SeqCst);
    }

    /// Requests closed on instead of answered (see [`HttpBackend::drop_reused`]).
    pub fn dropped(&self) -> usize {
        self.record.dropped.load(Ordering::SeqCst)
    }

    /// Complete requests received so far for `path` (target without query).
    pub fn requests_to(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.target.split('?').next() == Some(path)).count()
    }

    pub fn port(&self) -> u16 {
        self.backend.port()
    }

    /// TCP connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.backend.accepted()
    }

    /// Complete requests received so far.
    pub fn requests(&self) -> Vec<Received> {
        self.record.requests.lock().unwrap().clone()
    }

    /// Wait until at least `n` complete requests arrived; all of them if so.
    pub fn wait_requests(&self, n: usize, within: Duration) -> Option<Vec<Received>> {
        wait_until(within, || self.record.requests.lock().unwrap().len() >= n).then(|| self.requests())
    }

    /// Requests that started (some bytes of a head) but never completed.
    pub fn incomplete(&self) -> usize {
        self.record.incomplete.load(Ordering::SeqCst)
    }

    /// Bytes read from all connections so far.
    pub fn bytes_received(&self) -> u64 {
        self.record.bytes.load(Ordering::SeqCst)
    }

    /// Connections that ended so far.
    pub fn closed(&self) -> usize {
        self.record.closed.load(Ordering::SeqCst)
    }

    /// `/hold` requests waiting for [`HttpBackend::open_gate`] right now.
    pub fn holding(&self) -> usize {
        self.record.holding.load(Ordering::SeqCst)
    }

    /// Wait until exactly `n` `/hold` requests wait at the gate.
    pub fn wait_holding(&self, n: usize, within: Duration) -> bool {
        wait_until(within, || self.holding() == n)
    }

    /// Let every waiting (and future) `/hold` request be answered.
    pub fn open_gate(&self) {
        self.record.set_gate(true);
    }

    /// Make the next `/hold` requests wait again (those held before the
    /// last [`HttpBackend::open_gate`] are answered all the same).
    pub fn close_gate(&self) {
        self.record.set_gate(false);
    }
}

impl Drop for HttpBackend {
    /// Held requests are released so their threads end with the server.
    fn drop(&mut self) {
        self.open_gate();
    }
}

/// A parsed request head.
struct Head {
    method: String,
    target: String,
    version: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Whether a comma-separated header (all occurrences) holds `token`.
    fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    fn path(&self) -> &str {
        let t = self.target.as_str();
        let t = match t.find("://") {
            Some(i) => t[i + 3..].find('/').map_or("/", |j| &t[i + 3 + j..]),
            None => t,
        };
        t.split('?').next().unwrap_or(t)
    }

    /// The connection ends after this exchange.
    fn closes(&self) -> bool {
        self.has_token("connection", "close")
            || (self.version == "HTTP/1.0" && !self.has_token("connection", "keep-alive"))
    }
}

fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Buffered reads that count every byte into the record.
struct Input<'a> {
    s: TcpStream,
    buf: Vec<u8>, // read but not consumed
    record: &'a Record,
}

impl Input<'_> {
    /// Read more; false at EOF or on an error.
    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match self.s.read(&mut chunk) {
                Ok(0) => return false,
                Ok(n) => {
                    self.record.bytes.fetch_add(n as u64, Ordering::SeqCst);
                    self.buf.extend_from_slice(&chunk[..n]);
                    return true;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
    }

    /// The next head (up to and including the blank line); `Ok(None)` on a
    /// clean EOF before any byte of it.
    fn head(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                return Ok(Some(self.buf.drain(..i + 4).collect()));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(io::Error::new(ErrorKind::InvalidData, "head too large"));
            }
            if !self.fill() {
                return match self.buf.is_empty() {
                    true => Ok(None),
                    false => Err(io::Error::new(ErrorKind::UnexpectedEof, "EOF inside a head")),
                };
            }
        }
    }

    /// One CRLF-terminated line, without the CRLF.
    fn line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let mut l: Vec<u8> = self.buf.drain(..i + 2).collect();
                l.truncate(i);
                return Ok(l);
            }
            if self.buf.len() > MAX_HEAD || !self.fill() {
                return Err(io::Error::new(ErrorKind::UnexpectedEof, "no line end"));
            }
        }
    }

    /// Pass exactly `n` bytes to `sink`.
    fn take(&mut self, mut n: u64, sink: &mut Body) -> io::Result<()> {
        while n > 0 {
            if self.buf.is_empty() && !self.fill() {
                return Err(io::Error::new(ErrorKind::UnexpectedEof, "EOF inside a body"));
            }
            let k = (self.buf.len() as u64).min(n) as usize;
            sink.push(&self.buf[..k]);
            self.buf.drain(..k);
            n -= k as u64;
        }
        Ok(())
    }
}

/// A request body being received.
struct Body {
    len: u64,
    hash: Fnv,
    kept: Vec<u8>, // whole body while it is small, or whole anyway for `/echo`
    keep_all: bool,
}

impl Body {
    fn new(keep_all: bool) -> Body {
        Body { len: 0, hash: Fnv::default(), kept: Vec::new(), keep_all }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.len += bytes.len() as u64;
        self.hash.update(bytes);
        if self.keep_all || self.kept.len() + bytes.len() <= KEEP_BODY {
            self.kept.extend_from_slice(bytes);
        } else {
            self.kept = Vec::new();
        }
    }
}

fn parse_head(raw: &[u8]) -> io::Result<Head> {
    let bad = |what: &str| io::Error::new(ErrorKind::InvalidData, format!("bad request head: {what}"));
    let text = std::str::from_utf8(raw).map_err(|_| bad("not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or("").splitn(3, ' ');
    let (Some(method), Some(target), Some(version)) = (first.next(), first.next(), first.next()) else {
        return Err(bad("request line"));
    };
    let mut headers = Vec::new();
    for l in lines.filter(|l| !l.is_empty()) {
        let (n, v) = l.split_once(':').ok_or_else(|| bad("header line"))?;
        headers.push((n.to_string(), v.trim().to_string()));
    }
    Ok(Head { method: method.into(), target: target.into(), version: version.into(), headers })
}

/// Serve one connection: requests one after the other until a close.
fn serve(s: TcpStream, conn: usize, record: &Record) {
    let Ok(mut out) = s.try_clone() else { return };
    let mut input = Input { s, buf: Vec::new(), record };
    let mut served = 0;
    loop {
        let head = match input.head() {
            Ok(Some(raw)) => match parse_head(&raw) {
                Ok(h) => h,
                Err(_) => return incomplete(record),
            },
            Ok(None) => return,
            Err(_) => return incomplete(record),
        };
        if head.has_token("connection", "upgrade") && head.header("upgrade").is_some() {
            record_request(record, conn, &head, Body::new(false), Vec::new());
            let key = head.header("sec-websocket-key").map(str::to_string);
            return upgrade(input, out, key);
        }
        if head.header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
            && out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err()
        {
            return;
        }
        let chunked = head.has_token("transfer-encoding", "chunked");
        let mut body = Body::new(head.path() == "/echo");
        let trailers = match read_body(&mut input, &head, chunked, &mut body) {
            Ok(t) => t,
            Err(_) => return incomplete(record),
        };
        if served > 0 && record.drop_reused.load(Ordering::SeqCst) {
            record.dropped.fetch_add(1, Ordering::SeqCst);
            let _ = out.shutdown(Shutdown::Write);
            let _ = io::copy(&mut input.s, &mut io::sink()); // until the proxy closes too
            return;
        }
        served += 1;
        let echo = body.kept.clone();
        record_request(record, conn, &head, body, trailers);
        if head.path() == "/hold" || head.path().starts_with("/hold/") {
            record.wait_gate();
        }
        match respond(&mut out, &head, chunked, &echo, record) {
            Next::KeepAlive if !head.closes() => {}
            Next::KeepAlive | Next::Close => {
                let _ = out.shutdown(Shutdown::Write);
                let _ = io::copy(&mut input.s, &mut io::sink()); // until the proxy closes too
                return;
            }
            Next::Reset => return reset(&out),
        }
    }
}

fn incomplete(record: &Record) {
    record.incomplete.fetch_add(1, Ordering::SeqCst);
}

fn record_request(record: &Record, conn: usize, head: &Head, body: Body, trailers: Vec<(String, String)>) {
    let chunked = head.has_token("transfer-encoding", "chunked");
    record.requests.lock().unwrap().push(Received {
        conn,
        method: head.method.clone(),
        target: head.target.clone(),
        version: head.version.clone(),
        headers: head.headers.clone(),
        body_len: body.len,
        body_hash: body.hash.value(),
        body: body.kept,
        trailers,
        chunked,
    });
}

/// Reads the body into `body`; the trailers of a chunked body.
fn read_body(
    input: &mut Input,
    head: &Head,
    chunked: bool,
    body: &mut Body,
) -> io::Result<Vec<(String, String)>> {
    let bad = |what: &str| io::Error::new(ErrorKind::InvalidData, what.to_string());
    if !chunked {
        let len = match head.header("content-length") {
            Some(v) => v.parse::<u64>().map_err(|_| bad("content-length"))?,
            None => 0,
        };
        input.take(len, body)?;
        return Ok(Vec::new());
    }
    loop {
        let line = input.line()?;
        let size = String::from_utf8_lossy(&line);
        let size = size.split(';').next().unwrap_or("").trim();
        let size = u64::from_str_radix(size, 16).map_err(|_| bad("chunk size"))?;
        if size == 0 {
            break;
        }
        input.take(size, body)?;
        if !input.line()?.is_empty() {
            return Err(bad("no CRLF after chunk data"));
        }
    }
    let mut trailers = Vec::new();
    loop {
        let line = input.line()?;
        if line.is_empty() {
            return Ok(trailers);
        }
        let line = String::from_utf8_lossy(&line);
        let (n, v) = line.split_once(':').ok_or_else(|| bad("trailer"))?;
        trailers.push((n.to_string(), v.trim().to_string()));
    }
}

pub use super::text::text_body;

fn with_length_hdr(out: &mut TcpStream, status: &str, body: &[u8], hdr: &str, is_head: bool) -> Next {
    let h = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n{hdr}\r\n", body.len());
    let _ = out.write_all(h.as_bytes());
    if !is_head {
        let _ = out.write_all(body);
    }
    Next::KeepAlive
}

/// What the connection does after a response.
enum Next {
    KeepAlive, // unless the request asked to close
    Close,     // FIN after the response (body delimited by the close)
    Reset,     // RST now
}

/// Writes the answer for `head`'s route.
fn respond(out: &mut TcpStream, head: &Head, req_chunked: bool, echo: &[u8], record: &Record) -> Next {
    let path = head.path().to_string();
    let is_head = head.method == "HEAD";
    let conn_hdr = match (head.closes(), head.version == "HTTP/1.0") {
        (true, _) => "Connection: close\r\n",
        (false, true) => "Connection: keep-alive\r\n",
        (false, false) => "",
    };
    let mut conn_hdr = match record.name.as_str() {
        "" => conn_hdr.to_string(),
        name => format!("X-Server: {name}\r\n{conn_hdr}"),
    };
    // `X-Reply: Name: value` asks for that header line in the response.
    for (n, v) in &head.headers {
        if n.eq_ignore_ascii_case("x-reply") {
            conn_hdr = format!("{v}\r\n{conn_hdr}");
        }
    }
    let conn_hdr = &conn_hdr;
    let arg = |prefix: &str| path.strip_prefix(prefix).and_then(|n| n.parse::<usize>().ok());
    let with_length = |out: &mut TcpStream, status: &str, body: &[u8]| {
        let h = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n{conn_hdr}\r\n", body.len());
        let _ = out.write_all(h.as_bytes());
        if !is_head {
            let _ = out.write_all(body);
        }
        Next::KeepAlive
    };
    if path == "/" || path == "/hold" || path.starts_with("/hold/") {
        return with_length(out, "200 OK", b"hello");
    }
    if let Some(n) = arg("/size/") {
        return with_length(out, "200 OK", &pattern(BODY_SEED, n));
    }
    if let Some(n) = arg("/chunked/") {
        return chunked(out, &pattern(BODY_SEED, n), conn_hdr, is_head, true);
    }
    if let Some(n) = arg("/text/") {
        let h = &format!("Content-Type: text/plain\r\n{conn_hdr}");
        return with_length_hdr(out, "200 OK", &text_body(n), h, is_head);
    }
    if let Some(n) = arg("/chunked-text/") {
        let h = &format!("Content-Type: text/plain\r\n{conn_hdr}");
        return chunked(out, &text_body(n), h, is_head, false);
    }
    if path == "/health" {
        let code = match record.health.load(Ordering::SeqCst) {
            0 => 200,
            c => c,
        };
        return with_length(out, &format!("{code} Status"), b"");
    }
    if path == "/304" {
        let _ =
            out.write_all(format!("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n{conn_hdr}\r\n").as_bytes());
        return Next::KeepAlive;
    }
    if let Some(code) = arg("/status/") {
        if code < 200 || code == 204 || code == 304 {
            let _ = out.write_all(format!("HTTP/1.1 {code} Status\r\n{conn_hdr}\r\n").as_bytes());
            return Next::KeepAlive;
        }
        return with_length(out, &format!("{code} Status"), b"");
    }
    if let Some(ms) = arg("/delay/") {
        std::thread::sleep(Duration::from_millis(ms as u64));
        return with_length(out, "200 OK", b"hello");
    }
    if path == "/close" || path.starts_with("/close/") {
        let n = arg("/close/").unwrap_or(CLOSE_BODY_LEN);
        let _ = out.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        if !is_head {
            let _ = out.write_all(&pattern(BODY_SEED, n));
        }
        return Next::Close;
    }
    match path.as_str() {
        "/reset" => Next::Reset,
        "/reset-head" => {
            let _ = out.write_all(b"HTTP/1.1 200 OK\r\nContent-Le");
            Next::Reset
        }
        "/reset-body" => {
            let _ = out
                .write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {RESET_BODY_LEN}\r\n\r\n").as_bytes());
            let _ = out.write_all(&pattern(BODY_SEED, RESET_BODY_LEN / 10));
            std::thread::sleep(Duration::from_millis(50)); // let the partial body leave first
            Next::Reset
        }
        "/garbage" => {
            let _ = out.write_all(GARBAGE);
            Next::Close
        }
        "/bad-header" => {
            let _ = out.write_all(BAD_HEADER);
            Next::Close
        }
        "/echo" if req_chunked => chunked(out, echo, conn_hdr, is_head, false),
        "/echo" => with_length(out, "200 OK", echo),
        _ => with_length(out, "404 Not Found", b""),
    }
}

/// A chunked 200 of `body` in chunks of up to 1000 bytes, optionally with
/// the trailer `X-Trailer: done`.
fn chunked(out: &mut TcpStream, body: &[u8], conn_hdr: &str, is_head: bool, trailer: bool) -> Next {
    let mut msg = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n{conn_hdr}\r\n").into_bytes();
    if !is_head {
        for c in body.chunks(1000) {
            msg.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
            msg.extend_from_slice(c);
            msg.extend_from_slice(b"\r\n");
        }
        msg.extend_from_slice(b"0\r\n");
        if trailer {
            msg.extend_from_slice(b"X-Trailer: done\r\n");
        }
        msg.extend_from_slice(b"\r\n");
    }
    let _ = out.write_all(&msg);
    Next::KeepAlive
}

/// `101 Switching Protocols` (with `Sec-WebSocket-Accept` when the request
/// has a key: HAProxy refuses a WebSocket 101 without it), then raw echo
/// until the peer closes.
fn upgrade(mut input: Input, mut out: TcpStream, key: Option<String>) {
    let accept = key.map_or(String::new(), |k| format!("Sec-WebSocket-Accept: {}\r\n", websocket_accept(&k)));
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n{accept}\r\n"
    );
    if out.write_all(answer.as_bytes()).is_err() || out.write_all(&input.buf).is_err() {
        return;
    }
    let mut buf = [0u8; 16 * 1024];
    loop {
        match input.s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                input.record.bytes.fetch_add(n as u64, Ordering::SeqCst);
                if out.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        }
    }
    let _ = out.shutdown(Shutdown::Write);
}

/// Make the close of `s` (when the handler returns) send an RST:
/// `SO_LINGER` with a zero timeout.
fn reset(s: &TcpStream) {
    let _ = socket2::SockRef::from(s).set_linger(Some(Duration::ZERO));
}
