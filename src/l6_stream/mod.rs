//! L6: streams. A stream is one forwarding between the client and one
//! server: one per connection in TCP mode, one per request in HTTP mode.
//!
//! The stream owns its server connection, its backend/server choice, its
//! retry state and its termination state. It borrows the client
//! connection from its session for the duration of each call and never
//! keeps it.

mod after_response;
mod body_wait;
mod capture;
pub mod chan;
pub mod client;
mod connect;
pub mod end_stats;
mod forward;
pub mod h2srv;
pub mod http;
mod http_actions;
mod http_cache;
mod http_checks;
mod http_comp;
mod http_restrict;
mod http_rules;
mod inspect;
pub mod intercept;
mod last_rule;
mod lb_input;
pub mod log;
mod log_facts;
mod persist;
pub mod pooled;
mod queue;
mod request_flow;
pub mod response_inspect;
pub mod route;
pub mod rules;
mod sample;
mod sample_state;
mod server_down;
pub mod service;
mod service_send;
pub mod slots;
pub mod srv_conn;
mod stream;
pub mod term;
mod timeouts;
mod tls_connect;
mod upgrade;

pub use chan::MuxChan;
pub use client::ClientSide;
pub use log::{ProxyLog, StreamRecord};
pub use pooled::PooledStream;
pub use stream::{Stream, StreamCtx, StreamStatus};
pub use term::TermState;
pub use upgrade::Upgraded;
