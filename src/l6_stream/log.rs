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
    pub client: SocketAddr,             // %ci:%cp
    pub accept_date: SystemTime,        // %t
    pub frontend: usize,                // %ft (proxy index)
    pub backend: Option<usize>,         // %b (proxy index)
    pub server: Option<usize>,          // %s (server index in the backend)
    pub connect_time: Option<Duration>, // %Tc, None: never connected (-1)
    pub total_time: Duration,           // %Tt
    pub bytes_in: u64,                  // client → server
    pub bytes_out: u64,                 // %B: server → client
    pub term: TermState,                // %ts
    pub retries: u32,                   // %rc
    pub redispatched: bool,             // %rc printed with a leading '+'
    pub backend_conns: u32,             // %bc after this stream left
    pub server_conns: u32,              // %sc after this stream left
    pub status: Option<u16>,            // %ST (mode http)
}
