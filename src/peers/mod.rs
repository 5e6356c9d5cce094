//! HAProxy's peers protocol, version 2.1: stick tables replicated between
//! processes over TCP (`doc/peers-v2.0.txt` of HAProxy, and its
//! `src/peers.c` for what the document leaves out).
//!
//! Below the layers: this module knows tables ([`crate::stick`]), not
//! sessions or streams. Pieces, lowest first:
//! - [`varint`]: the protocol's variable-length integers;
//! - [`wire`]: message framing (class, type, length, payload);
//! - [`schema`]: key and data types on the wire, table definitions;
//! - [`update`]: entry updates and the `server_key` dictionary caches;
//! - [`hello`]: the handshake lines and status codes;
//! - [`state`]: what a section and its peers remember across connections;
//! - [`proto`]: one connection's protocol, without I/O.

pub mod hello;
pub mod net;
pub mod proto;
pub mod schema;
pub mod show;
pub mod snapshot;
pub mod state;
pub mod task;
#[cfg(test)]
mod tests;
pub mod update;
pub mod varint;
pub mod wire;
