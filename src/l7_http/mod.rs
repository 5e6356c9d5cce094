//! L7: HTTP/1 transactions in `mode http`: message heads parsed as ranges
//! into the buffer, body framing, HAProxy's built-in answers.

pub mod actions;
pub mod auth;
pub mod authority;
pub mod body;
pub mod cache;
pub mod capture;
pub mod captured;
pub mod compress;
pub mod custom_errors;
pub mod errors;
pub mod h2;
pub mod hdr_names;
pub mod head;
pub mod header_list;
pub mod logformat;
pub mod parse;
pub mod persist;
pub mod reason;
pub mod redirect;
pub mod reply;
pub mod rewrite;
pub mod rules;
pub mod service_rules;
pub mod txn;
pub mod websocket;
