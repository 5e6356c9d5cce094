//! L5: sessions. A session is born when an accepted client connection
//! passes the `tcp-request connection` rules; it owns that connection, the
//! mux that turns its bytes into streams, and the streams themselves. It
//! ends after all its streams ended.

pub mod mux;
pub mod rules;
mod session;

pub use session::{Refusal, Session, SessionStatus, StartError};
