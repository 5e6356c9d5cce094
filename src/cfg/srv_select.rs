//! How a backend picks and names its server beyond load balancing:
//! `use-server` rules, `http-send-name-header`, `option
//! prefer-last-server` with `max-keep-alive-queue`, and when it tries
//! again (`retry-on`).
//!
//! Filled by `src/cfg/parser/srv_select.rs`, kept in
//! [`crate::cfg::knobs::Knobs::srv`]; read by `l6_stream` (`persist.rs`
//! for the rules, `connect.rs` for the preference, `http/request.rs` for
//! the header).

use super::model::{Cond, Loc};

/// `use-server NAME if|unless COND`: the stream goes to server NAME when
/// COND holds (and the server may take it), before persistence by stick
/// rules and load balancing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UseServer {
    pub server: String, // the server's name, resolved when the rules are compiled
    pub cond: Cond,
    pub loc: Loc,
}

/// The backend-side server selection settings of one proxy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SrvSelect {
    pub use_servers: Vec<UseServer>, // in declaration order; the first that holds wins (not inherited)
    pub send_name_header: Option<String>, // `http-send-name-header NAME` (lower case; not inherited, as in HAProxy)
    pub prefer_last: bool, // `option prefer-last-server`: a session's next request goes to the server it holds a connection to
    pub max_ka_queue: Option<u32>, // `max-keep-alive-queue N`: that preference only while the server's queue is under N
    pub retry_on: RetryOn,         // `retry-on`: the failures `retries` applies to (default: conn-failure)
    pub source: Option<Source>, // `source ADDR[:PORT] [interface NAME]`: where server connections come from
}

/// `source ADDR[:PORT] [usesrc ...] [interface NAME]` of a backend: the
/// local address (and port, 0: any) and device its server connections
/// are bound to before they connect. `usesrc` (transparent proxying) is
/// warned and not kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub addr: std::net::SocketAddr,
    pub interface: Option<String>,
}

/// `retry-on` conditions, HAProxy 2.6's: a failed connect, and the L7
/// ones, after the request was sent: the server closed or timed out
/// before a response, sent an invalid one, or answered one of the listed
/// statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryOn(pub u32);

impl RetryOn {
    pub const CONN_FAILURE: u32 = 1 << 0; // `conn-failure`
    pub const EMPTY_RESPONSE: u32 = 1 << 1; // `empty-response`: closed before a response
    pub const JUNK_RESPONSE: u32 = 1 << 2; // `junk-response`: an invalid response head
    pub const RESPONSE_TIMEOUT: u32 = 1 << 3; // `response-timeout`: `timeout server` before a response
    pub const ZERO_RTT: u32 = 1 << 4; // `0rtt-rejected`: never happens (strata accepts no early data)
    /// The statuses `retry-on` may name, each with its bit (from bit 5).
    pub const STATUSES: [u16; 10] = [401, 403, 404, 408, 425, 500, 501, 502, 503, 504];
    /// `all-retryable-errors`.
    pub const ALL_RETRYABLE: u32 = Self::CONN_FAILURE
        | Self::EMPTY_RESPONSE
        | Self::JUNK_RESPONSE
        | Self::RESPONSE_TIMEOUT
        | Self::ZERO_RTT
        | Self::status_bit(500)
        | Self::status_bit(502)
        | Self::status_bit(503)
        | Self::status_bit(504);

    /// The bit of status `code` (0 for a status `retry-on` cannot name).
    pub const fn status_bit(code: u16) -> u32 {
        let mut i = 0;
        while i < Self::STATUSES.len() {
            if Self::STATUSES[i] == code {
                return 1 << (5 + i);
            }
            i += 1;
        }
        0
    }

    /// Whether any of `bits` is set.
    pub fn has(self, bits: u32) -> bool {
        self.0 & bits != 0
    }
}

impl Default for RetryOn {
    fn default() -> RetryOn {
        RetryOn(RetryOn::CONN_FAILURE)
    }
}
