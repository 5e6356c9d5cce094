//! HTTP/2 wire formats, knowing nothing of connections or streams:
//! [`hpack`] header compression and [`frame`] headers, types, flags,
//! error codes and settings. The client-side mux (`l5_session::mux::h2`)
//! and the server side use them.

pub mod counters;
pub mod dechunk;
pub mod frame;
pub mod hpack;
pub mod res_fields;
