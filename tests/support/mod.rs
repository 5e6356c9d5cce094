//! Shared support for the integration tests (`mod support;` in each file).
//!
//! - [`launcher`]: [`Proxy`] runs the binary under test (`$STRATA_BIN`, else
//!   cargo's `strata`) on a config text in a fresh temp dir, waits until its
//!   `bind` ports listen, captures stderr (`stderr_text()`), sends signals,
//!   waits for exit, kills on drop; [`Proxy::check`] runs `-c`.
//!   [`under_haproxy`] tells strata-only assertions (debug log) to skip.
//! - [`ports`]: [`free_port`] / [`closed_port`] on 127.0.0.1.
//! - [`backend`]: threaded test servers on ephemeral ports: [`Backend::echo`],
//!   [`Backend::hello`], [`Backend::collect_then_reply`], [`SinkSource`]
//!   (sends a deterministic stream, optionally pausing midway, records what
//!   it receives); all count accepted connections and stop on drop.
//! - [`pattern`]: deterministic byte streams and [`first_difference`].
//! - [`rng`]: [`Rng`], splitmix64 for seeded schedules.
//! - [`client`]: connect, bounded reads, [`expect_closed_within`],
//!   [`wait_until`], [`expect_refused_from`] (a connection the proxy rejects).
//! - [`time`]: `STRATA_TEST_TIME_SCALE` scales every timeout: [`scaled`],
//!   [`ms`], and [`cfg_time`] to write a scaled timeout into a config.
//! - [`http_cfg`]: [`HttpCfg`], an HTTP-mode config `fe` → `be` (`s1`) with
//!   extra lines per section and extra sections.
//! - [`http_answers`]: HAProxy's built-in 400/403/408/429/502/503/504, byte for byte.
//! - [`http_backend`]: [`HttpBackend`], an HTTP/1.1 test server with routes
//!   (`/size/N`, `/chunked/N`, `/text/N`, `/echo`, `/reset-body`, `/hold` behind a
//!   gate the test opens, ...) that records every request it received;
//!   optionally named (`X-Server`), with a settable `/health` status, or
//!   dropping reused connections.
//! - [`http_client`]: [`HttpConn`], a raw HTTP/1.1 client reading responses
//!   by their framing (keep-alive, pipelining, `expect_closed`).
//! - [`proc`]: [`vm_rss_kib`], [`fd_count`], [`pipe_fd_count`] and [`tcp_conns_to`] (sockets
//!   connected to a given port) of a process.
//! - [`cli_client`]: [`cli`] sends one runtime API command ([`assert_still_answers`]: `show info` still answers); [`info`] reads
//!   `show info` into a map; [`cli_raw`] sends any bytes and reads until
//!   the close; [`CliSession`] holds a `prompt` conversation;
//!   [`stats_sockets`] declares admin/operator/user sockets.
//! - [`stat`]: `show stat` parsed into lines keyed by (pxname, svname) and
//!   field name ([`Stat`]); [`expect_stat`] polls until a line shows exact
//!   values.
//! - [`stick`]: `show table` parsed ([`show_table`], [`Entry`]), and
//!   [`expect_entry`]/[`expect_keys`] polling the stats port until a table
//!   shows exact counters; [`scenario_head`] for the golden-scenario configs;
//!   [`assert_headers`] compares response headers set from `%[fetch]`.
//! - [`syslog`]: [`LogReceiver`], a UDP or unix datagram socket receiving
//!   `log` lines; [`unframe`] splits a line by HAProxy's [`Framing`]
//!   (legacy, rfc3164, rfc5424, short, raw).
//!
//! - [`load`]: [`Load`], steady keep-alive and new-connection HTTP load
//!   counting every failed request (reload tests).
//! - [`peers`]: mesh nodes ([`Node`], [`mesh_cfg`]) and [`FakePeer`], a
//!   peer driven byte by byte.
//! - [`h2_client`]: [`H2Conn`], a hand-written HTTP/2 client (frames by
//!   hand, requests compressed by `loona-hpack`): requests, DATA, resets,
//!   raw frames, and [`H2Conn::run`] collecting each stream's response.
//! - [`h2_backend`]: [`H2Backend`], a hand-written h2c test server obeying
//!   windows, recording requests with their connection and the most
//!   streams open at once (`/hold`, `/size/N`, `/nolen/N`, `/echo`, `/rst`).
//! - [`text`]: [`text_body`](text::text_body), compressible text bodies.
//! - [`dns`]: [`dns::DnsServer`], a stand-in UDP DNS server answering from a
//!   table the test changes (addresses, NXDOMAIN, REFUSED, silence), and
//!   [`dns::two_hellos`], greeting servers on 127.0.0.2 and 127.0.0.3.
//!
//! - [`websocket`]: the RFC 6455 accept value the test server answers with.
//! - [`tls`]: [`tls::Pki`] (a test CA issuing server and client
//!   certificates with rcgen), [`tls::TlsClient`] (a blocking rustls
//!   client: SNI, ALPN, version, client certificate, session resumption)
//!   and [`tls::TlsBackend`] (a TLS HTTP server reporting what it saw).
//!
//! Bounds are safety nets, never speed requirements: a lower bound is
//! asserted loosely, an upper bound generously.
//!
//! Each test binary uses a subset of these helpers, hence the allows.
#![allow(dead_code, unused_imports)]

pub mod backend;
pub mod cli_client;
pub mod client;
pub mod dns;
pub mod h2_backend;
pub mod h2_client;
pub mod http_answers;
pub mod http_backend;
pub mod http_cfg;
pub mod http_client;
pub mod launcher;
pub mod load;
pub mod pattern;
pub mod peers;
pub mod ports;
pub mod proc;
pub mod proto_servers;
pub mod rng;
pub mod stat;
pub mod stick;
pub mod syslog;
pub mod text;
pub mod time;
pub mod tls;
pub mod unix;
pub mod websocket;

pub use backend::{Backend, SOURCE_SEED, SinkSource};
pub use cli_client::{CliSession, assert_still_answers, cli, cli_raw, info, info_u64, stats_sockets};
pub use client::{
    Closed, connect, connect_from, expect_closed_within, expect_refused_from, read_exact_with_timeout,
    read_for, read_to_end_with_timeout, reset, round_trip, shutdown_write, try_connect, wait_until,
};
pub use h2_backend::{H2Backend, H2Req};
pub use h2_client::{H2Conn, H2End, H2Response};
pub use http_backend::{BODY_SEED, CLOSE_BODY_LEN, HttpBackend, RESET_BODY_LEN, Received};
pub use http_cfg::HttpCfg;
pub use http_client::{HttpConn, Response, chunk_body, get, request};
pub use launcher::{Proxy, binary, bind_ports, config_warnings, under_haproxy};
pub use pattern::{Fnv, fingerprint, first_difference, pattern};
pub use ports::{closed_port, free_port};
pub use proc::{fd_count, pipe_fd_count, tcp_conns_to, vm_rss_kib};
pub use rng::Rng;
pub use stat::{Stat, StatRow, expect_stat, show_stat};
pub use stick::{
    Dump, Entry, Exp, assert_entry_now, assert_headers, expect_entry, expect_keys, expire_ms, header_values,
    scenario_head, show_table, table_entries,
};
pub use syslog::{Framed, Framing, LogReceiver, unframe};
pub use time::{cfg_time, ms, scaled};

/// The common head of a TCP-mode test config: `global` with `maxconn`,
/// `defaults` in `mode tcp` with the three timeouts (scaled here).
pub fn tcp_defaults(
    global_maxconn: u32,
    connect: std::time::Duration,
    client: std::time::Duration,
    server: std::time::Duration,
) -> String {
    format!(
        "global\n    maxconn {global_maxconn}\n\
         defaults\n    mode tcp\n    timeout connect {}\n    timeout client {}\n    timeout server {}\n",
        cfg_time(connect),
        cfg_time(client),
        cfg_time(server)
    )
}
