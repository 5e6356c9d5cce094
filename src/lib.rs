//! strata: an HAProxy-style layered proxy with exact connection accounting.
//!
//! One object per layer, each with one owner (see `docs/architecture.md`):
//!
//! ```text
//!  accept()                                                     connect()
//!     |                                                             |
//!  [L4 Conn] --bytes--> [mux: pt | h1 | h2] --requests--> [L6 Stream] --bytes--> [L4 Conn (server)]
//!                            |                             |     \
//!                       [L5 Session]  <-- read/update ----+   [L7 Txn]  (mode http only)
//!                   owns session trackers              owns its own trackers
//! ```
//!
//! Modules, lowest first; a module imports only from modules above it in
//! this list (checked by `tests/architecture.rs`):
//! - [`core`]: event loop pieces (token slab, clock, timers, buffer pool)
//! - [`stick`]: stick tables: keys, counters, expiry, [`stick::Tracker`]
//! - [`cfg`]: the configuration language → immutable [`cfg::Config`]
//! - [`acl`]: sample fetches, matchers and `if`/`unless` conditions
//! - [`backend`]: servers and load-balancing algorithms
//! - [`l4_conn`]: listeners and connections (sockets, buffers, deadlines)
//! - [`l6_stream`]: streams: one forwarding between a client and a server
//! - [`l5_session`]: sessions: an accepted client connection, its mux and streams
//! - [`cli`]: the stats port (runtime API)
//! - [`service`]: internal services: stats page, Prometheus, static files
//! - [`runtime`]: workers: wires listeners, sessions and signals together

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod acl;
pub mod backend;
pub mod cfg;
pub mod cli;
pub mod core;
pub mod l4_conn;
pub mod l5_session;
pub mod l6_stream;
pub mod l7_http;
pub mod peers;
pub mod runtime;
pub mod service;
pub mod stick;
