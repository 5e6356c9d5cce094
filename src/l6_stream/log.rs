//! What a stream tells its owner when it ends: the facts a log line is
//! made of. The stream returns values; formatting and sending belong to
//! the runtime's log sink.

use super::term::TermState;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

/// One ended stream, as HAProxy's log fields describe it.
#[derive(Clone, Debug)]
pub struct StreamRecord {
    pub stream_id: u64,
    pub client: SocketAddr,                        // %ci:%cp
    pub dst: SocketAddr,                           // the address the client connected to
    pub accept_date: SystemTime,                   // %t
    pub frontend: usize,                           // %ft (proxy index)
    pub backend: Option<usize>,                    // %b (proxy index)
    pub server: Option<usize>,                     // %s (server index in the backend)
    pub connect_time: Option<Duration>,            // %Tc, None: never connected (-1)
    pub total_time: Duration,                      // %Tt
    pub bytes_in: u64,                             // client → server
    pub bytes_out: u64,                            // %B: server → client
    pub term: TermState,                           // %ts
    pub retries: u32,                              // %rc
    pub redispatched: bool,                        // %rc printed with a leading '+'
    pub backend_conns: u32,                        // %bc after this stream left
    pub server_conns: u32,                         // %sc after this stream left
    pub status: Option<u16>,                       // %ST (mode http)
    pub response_time: Option<Duration>,           // %Tr, when a response head came from the server
    pub queue_time: Option<Duration>,              // %Tw, when the stream waited in the backend's queue
    pub queue_pos: u32,                            // %bq: waiters served before it left the queue, plus one
    pub http: Option<HttpLogFields>,               // mode http with `option httplog` and a log target
    pub log_level: Option<u32>, // `set-log-level`: syslog severity of the line (8: no line)
    pub ssl: Option<(&'static str, &'static str)>, // client side TLS: (%sslv, %sslc); `%ft` ends with `~`
}

/// The extra facts of HAProxy's HTTP log line.
#[derive(Clone, Debug)]
pub struct HttpLogFields {
    pub request_line: String,            // %r, or `<BADREQ>`
    pub head_time: Option<Duration>,     // %TR: first byte to complete request head
    pub response_time: Option<Duration>, // %Tr: request sent to response head
    pub active_time: Duration,           // %Ta: request start to end
}

impl StreamRecord {
    /// The record of a request the HTTP mux refused before any stream could
    /// carry it (HAProxy still logs it, as `<BADREQ>` with `fe/<NOSRV>`).
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
        with_http_fields: bool,
    ) -> StreamRecord {
        StreamRecord {
            stream_id,
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
            http: with_http_fields.then(|| HttpLogFields {
                request_line: "<BADREQ>".to_owned(),
                head_time: None,
                response_time: None,
                active_time,
            }),
            log_level: None,
            ssl: None,
        }
    }
}
