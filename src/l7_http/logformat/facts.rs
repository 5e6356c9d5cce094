//! What the log-format variables read about a stream beyond its samples:
//! dates, timers, counters and states, as plain values. The stream layer
//! fills a [`LogFacts`] (at the end for its log line, or as they stand
//! for a rule's value) and [`LogSource::log_facts`] hands it out.

use crate::acl::SampleSource;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

/// A stream's log facts. Times are in milliseconds, `-1` meaning "never
/// happened" as in HAProxy's log lines.
#[derive(Clone, Copy, Debug)]
pub struct LogFacts {
    pub accept_date: SystemTime, // %t: the connection's accept (keep-alive: the end of the previous request)
    pub handshake_ms: i64,       // %Th
    pub idle_ms: i64,            // %Ti: accept (after the handshake) to the request's first byte
    pub head_ms: i64,            // %TR: first byte to a complete request head (-1: none)
    pub queue_ms: i64,           // %Tw (-1: never reached a server)
    pub connect_ms: i64,         // %Tc (-1: never connected)
    pub response_ms: i64,        // %Tr: request sent to response head (-1: no response head)
    pub total_ms: i64,           // %Tt: accept to the end (to the log with `option logasap`)
    pub bytes_in: u64,           // %U
    pub bytes_out: u64,          // %B
    pub final_counts: bool,      // false under `option logasap`: %Tt, %B... printed with a leading `+`
    pub status: i64,             // %ST (-1: no status; 0 in TCP mode)
    pub term: [u8; 2],           // %ts
    pub cookie_flags: [u8; 2],   // the two %tsc letters after %ts (`--` without cookie persistence)
    pub actconn: u32,            // %ac
    pub feconn: u32,             // %fc
    pub beconn: u32,             // %bc
    pub srvconn: u32,            // %sc
    pub retries: u32,            // %rc
    pub redispatched: bool,      // %rc's `+`
    pub srv_queue: u32,          // %sq
    pub be_queue: u32,           // %bq
    pub req_counter: u64,        // %rt
    pub log_count: u64,          // %lc
    pub tls_frontend: bool,      // %ft's `~`
    pub http: bool,              // the frontend is in mode http (%Td's base)
    pub server_addr: Option<SocketAddr>, // %si:%sp, when the server connection is known
    pub backend_src: Option<SocketAddr>, // %bi:%bp
}

impl Default for LogFacts {
    fn default() -> Self {
        LogFacts::NONE
    }
}

impl LogFacts {
    /// Nothing happened yet (what a value renders without a stream).
    pub const NONE: LogFacts = LogFacts {
        accept_date: SystemTime::UNIX_EPOCH,
        handshake_ms: 0,
        idle_ms: 0,
        head_ms: -1,
        queue_ms: -1,
        connect_ms: -1,
        response_ms: -1,
        total_ms: 0,
        bytes_in: 0,
        bytes_out: 0,
        final_counts: true,
        status: -1,
        term: *b"--",
        cookie_flags: *b"--",
        actconn: 0,
        feconn: 0,
        beconn: 0,
        srvconn: 0,
        retries: 0,
        redispatched: false,
        srv_queue: 0,
        be_queue: 0,
        req_counter: 0,
        log_count: 0,
        tls_frontend: false,
        http: false,
        server_addr: None,
        backend_src: None,
    };

    /// %Tq: handshake, idle and request head times (-1 without a head).
    pub fn tq(&self) -> i64 {
        if self.head_ms < 0 { -1 } else { self.handshake_ms + self.idle_ms + self.head_ms }
    }

    /// %Ta: the total time without handshake and idle time.
    pub fn ta(&self) -> i64 {
        self.total_ms - self.idle_ms - self.handshake_ms
    }

    /// %Td: the data transfer time (after the response head in HTTP, after
    /// the connect in TCP).
    pub fn td(&self) -> i64 {
        let tq = self.tq().max(0);
        let tw = self.queue_ms.max(0);
        if self.connect_ms < 0 || (self.http && self.response_ms < 0) {
            return -1;
        }
        let before = tq + tw + self.connect_ms + if self.http { self.response_ms } else { 0 };
        self.total_ms - before
    }

    /// The request date: the accept date plus handshake and idle time.
    pub fn request_date(&self) -> SystemTime {
        let after = (self.handshake_ms + self.idle_ms).max(0) as u64;
        self.accept_date + Duration::from_millis(after)
    }
}

/// A sample source that also knows what log-format variables read: the
/// stream's [`LogFacts`], the request line as received, the captured
/// headers. Implemented by the stream layer's samples.
pub trait LogSource: SampleSource {
    /// The stream's facts; None where there is no stream (everything
    /// reads as absent).
    fn log_facts(&self) -> Option<&LogFacts> {
        None
    }
    /// `%ac %fc %bc %sc`: live connections of the process, the frontend,
    /// the backend and the server. A source may read them only when a
    /// format asks (a stream's rules then take no lock for them).
    fn conn_counts(&self) -> [u32; 4] {
        self.log_facts().map_or([0; 4], |f| [f.actconn, f.feconn, f.beconn, f.srvconn])
    }
    /// Method, URI and version as received (`%r`), in mode http.
    fn request_line(&self) -> Option<[&[u8]; 3]> {
        None
    }
    /// The captured request (or response) headers, one slot per
    /// `capture ... header` / `declare capture` of the frontend; None
    /// when the frontend captures none.
    fn captures(&self, response: bool) -> Option<&[Option<Box<[u8]>>]> {
        let _ = response;
        None
    }
    /// The captured request (or response) cookie (`capture cookie`).
    fn captured_cookie(&self, response: bool) -> Option<&[u8]> {
        let _ = response;
        None
    }
}

/// The sample source where there is no connection and no request: the
/// configuration (`global set-var`) and the runtime API (`set var`).
/// Every fetch that needs a stream gives nothing.
pub struct NoStream;

impl SampleSource for NoStream {
    fn src(&self) -> Option<SocketAddr> {
        None
    }
    fn dst(&self) -> Option<SocketAddr> {
        None
    }
    fn frontend_name(&self) -> &str {
        ""
    }
}

impl LogSource for NoStream {}
