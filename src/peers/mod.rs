//! HAProxy's peers protocol, version 2.1: stick tables replicated between
//! processes over TCP (`doc/peers-v2.0.txt` of HAProxy, and its
//! `src/peers.c` for what the document leaves out).
//!
//! Below the layers: this module knows tables ([`crate::stick`]), not
//! sessions or streams. Pieces, lowest first:
//! - [`varint`]: the protocol's variable-length integers;
//! - [`wire`]: message framing (class, type, length, payload);
//! - [`schema`]: key and data types on the wire, table definitions;
//! - [`update`]: entry updates and the `server_key` dictionary caches.

pub mod schema;
pub mod update;
pub mod varint;
pub mod wire;
