//! L4: listening sockets and connections (client and server side).
//!
//! A [`Conn`] owns its socket, its receive buffer (only while bytes are in
//! flight), its readiness and its shutdown state. It knows nothing of
//! sessions or streams: higher layers call it and read its state.

pub mod conn;
pub mod fdpass;
pub mod listener;
pub mod pool;
pub mod proxy_proto;
pub mod sendfile;
pub mod sockopt;
pub mod splice;
pub mod tls;
pub mod track;
pub mod unix_listen;
pub mod wire;

pub use conn::{Conn, IoStep};
pub use listener::Listener;
pub use pool::{IDLE_SUB, IdlePool, ServerId};
pub use splice::Pipe;
pub use tls::{HsFailure, TlsSet};
pub use wire::WireBytes;
