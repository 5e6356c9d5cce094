//! What a stream tells its owner when it ends: the facts the counters are
//! made of, and its log line already rendered from the frontend's format
//! (the samples a format reads exist only while the stream does). Sending
//! belongs to the runtime's log sink.

use super::term::TermState;
use crate::acl::SampleSource;
use crate::cfg::Config;
use crate::cfg::knobs::LogFormatKind;
use crate::cfg::{Diag, Diagnostics};
use crate::l7_http::logformat::{CLF_LOG, HTTP_LOG, LogFacts, LogFormat, LogSource, TCP_LOG, Usage};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// One ended stream, as HAProxy's log fields describe it.
#[derive(Clone, Debug)]
pub struct StreamRecord {
    pub stream_id: u64,
    pub listener: u16, // the bind index of the listener its connection came in on (`option socket-stats`)
    pub client: SocketAddr, // %ci:%cp
    pub dst: SocketAddr, // the address the client connected to
    pub accept_date: SystemTime, // %t
    pub frontend: usize, // %ft (proxy index)
    pub backend: Option<usize>, // %b (proxy index)
    pub server: Option<usize>, // %s (server index in the backend)
    pub connect_time: Option<Duration>, // %Tc, None: never connected (-1)
    pub total_time: Duration, // %Tt
    pub bytes_in: u64, // client → server
    pub bytes_out: u64, // %B: server → client
    pub term: TermState, // %ts
    pub retries: u32,  // %rc
    pub redispatched: bool, // %rc printed with a leading '+'
    pub backend_conns: u32, // %bc after this stream left
    pub server_conns: u32, // %sc after this stream left
    pub status: Option<u16>, // %ST (mode http)
    pub response_time: Option<Duration>, // %Tr, when a response head came from the server
    pub queue_time: Option<Duration>, // %Tw, when the stream waited in the backend's queue
    pub queue_pos: u32, // %bq: waiters served before it left the queue, plus one
    pub log_level: Option<u32>, // `set-log-level`: syslog severity of the line (8: no line)
    pub line: Option<Box<str>>, // the rendered log line (a format and a target exist; not yet logged)
    pub sd: Option<Box<str>>, // the rendered `log-format-sd`, for RFC 5424 targets
    pub ssl: Option<(&'static str, &'static str)>, // client side TLS: (%sslv, %sslc); `%ft` ends with `~`
    pub early: bool,   // `option logasap`'s line, sent before the stream ended: log only
    pub backend_counted: bool, // its backend's and server's `show stat` counters already counted (by the ending stream)
}

impl StreamRecord {
    /// The record of a request the HTTP mux refused before any stream could
    /// carry it (HAProxy still logs it, as `<BADREQ>` with `fe/<NOSRV>`).
    /// The caller renders its line with [`StreamRecord::render_alone`].
    #[allow(clippy::too_many_arguments)]
    pub fn refused_request(
        stream_id: u64,
        client: SocketAddr,
        dst: SocketAddr,
        accept_date: SystemTime,
        frontend: usize,
        status: u16,
        term: TermState,
        active_time: Duration,
    ) -> StreamRecord {
        StreamRecord {
            stream_id,
            listener: 0,
            client,
            dst,
            accept_date,
            frontend,
            backend: None,
            server: None,
            connect_time: None,
            total_time: active_time,
            bytes_in: 0,
            bytes_out: 0,
            term,
            retries: 0,
            redispatched: false,
            backend_conns: 0,
            server_conns: 0,
            status: Some(status),
            response_time: None,
            queue_time: None,
            queue_pos: 0,
            log_level: None,
            ssl: None,
            line: None,
            sd: None,
            early: false,
            backend_counted: false,
        }
    }

    /// Renders the line of a record no stream carried (a refused request),
    /// from the record's own facts; `actconn`/`feconn` as now.
    pub fn render_alone(&mut self, cfg: &Config, log: &ProxyLog, actconn: u32, feconn: u32) {
        if cfg.proxies[self.frontend].logs.is_empty() || log.format.is_none() {
            return;
        }
        let facts = LogFacts {
            accept_date: self.accept_date,
            total_ms: self.total_time.as_millis() as i64,
            status: self.status.map_or(-1, i64::from),
            term: self.term.letters(),
            actconn,
            feconn,
            req_counter: self.stream_id.saturating_sub(1),
            log_count: log.count.load(Ordering::Relaxed),
            tls_frontend: self.ssl.is_some(),
            http: true,
            ..LogFacts::NONE
        };
        let src = RecordSource { client: self.client, dst: self.dst, frontend: self.frontend, cfg, facts };
        let (line, sd) = log.render(&src);
        (self.line, self.sd) = (line, sd);
    }
}

/// A frontend's compiled log formats and its line counter (`%lc`). Part
/// of its [`super::rules::ProxyRules`]; only the counter changes, by the
/// streams that log.
#[derive(Default, Debug)]
pub struct ProxyLog {
    pub format: Option<LogFormat>, // the log line (`log-format`, `option httplog`...)
    pub sd: Option<LogFormat>,     // `log-format-sd`
    pub error: Option<LogFormat>,  // `error-log-format`: connection errors
    pub count: AtomicU64,          // lines rendered so far (`%lc`)
    pub reads_server_conn: bool,   // a format reads %si/%bi... (the server socket's addresses)
}

impl ProxyLog {
    /// Compiles proxy `p`'s formats; errors in HAProxy's words.
    pub fn compile(p: &crate::cfg::Proxy, diags: &mut Diagnostics) -> ProxyLog {
        let usage = Usage::Log { http: p.mode == crate::cfg::Mode::Http };
        let k = &p.knobs;
        let mut one = |what: &str, text: &str, loc: &crate::cfg::Loc| match LogFormat::parse_for(text, usage)
        {
            Ok(f) => Some(f),
            Err(e) => {
                diags.push(Diag::alert_global(format!("Parsing [{loc}]: failed to parse {what} : {e}.")));
                None
            }
        };
        let format = k.log_format.as_ref().and_then(|f| {
            let text = match &f.kind {
                LogFormatKind::Http => HTTP_LOG,
                LogFormatKind::HttpClf => CLF_LOG,
                LogFormatKind::Tcp => TCP_LOG,
                LogFormatKind::Custom(s) => s.as_str(),
            };
            one("log-format", text, &f.loc)
        });
        let sd = k.log_format_sd.as_ref().and_then(|f| one("log-format-sd", &f.kind, &f.loc));
        let error = k.error_log_format.as_ref().and_then(|f| one("error-log-format", &f.kind, &f.loc));
        let reads_server_conn = [&format, &sd].into_iter().flatten().any(LogFormat::reads_server_conn);
        ProxyLog { format, sd, error, count: AtomicU64::new(0), reads_server_conn }
    }

    /// The `error-log-format` line of a connection that failed before any
    /// stream (a TLS handshake), None without that format. `term`: the
    /// two termination letters (HAProxy's `PR` for every such connection).
    #[allow(clippy::too_many_arguments)]
    pub fn render_error(
        &self,
        cfg: &Config,
        frontend: usize,
        (client, dst): (SocketAddr, SocketAddr),
        accept_date: SystemTime,
        handshake: Duration,
        term: [u8; 2],
        (actconn, feconn): (u32, u32),
    ) -> Option<String> {
        let fmt = self.error.as_ref()?;
        let ms = handshake.as_millis() as i64;
        let facts = LogFacts {
            accept_date,
            handshake_ms: ms,
            total_ms: ms,
            term,
            actconn,
            feconn,
            log_count: self.count.fetch_add(1, Ordering::Relaxed),
            status: 0,
            tls_frontend: true,
            ..LogFacts::NONE
        };
        Some(fmt.render(&RecordSource { client, dst, frontend, cfg, facts }))
    }

    /// The line and structured data for `src`; an empty line is no line,
    /// as in HAProxy. Counts the line (`%lc`).
    pub fn render(&self, src: &dyn LogSource) -> (Option<Box<str>>, Option<Box<str>>) {
        let Some(fmt) = &self.format else { return (None, None) };
        let line = fmt.render(src);
        if line.is_empty() {
            return (None, None);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let sd = self.sd.as_ref().map(|f| f.render(src)).filter(|s| !s.is_empty()).map(|mut s| {
            s.push(' ');
            s.into_boxed_str()
        });
        (Some(line.into_boxed_str()), sd)
    }
}

/// What a format reads where no stream is (a refused request, a failed
/// handshake): the addresses, the frontend and the facts given.
struct RecordSource<'a> {
    client: SocketAddr,
    dst: SocketAddr,
    frontend: usize,
    cfg: &'a Config,
    facts: LogFacts,
}

impl SampleSource for RecordSource<'_> {
    fn src(&self) -> Option<SocketAddr> {
        Some(self.client)
    }
    fn dst(&self) -> Option<SocketAddr> {
        Some(self.dst)
    }
    fn frontend_name(&self) -> &str {
        &self.cfg.proxies[self.frontend].name
    }
}

impl LogSource for RecordSource<'_> {
    fn log_facts(&self) -> Option<&LogFacts> {
        Some(&self.facts)
    }
}
