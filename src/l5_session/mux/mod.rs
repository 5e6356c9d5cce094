//! Muxes: how a session's client bytes become streams. `Pt` (pass-through,
//! TCP mode) carries exactly one stream; `H1` (HTTP/1) one at a time; `H2`
//! (HTTP/2) many at once.

mod h1;
mod h2;
mod pt;
mod refused;

pub use h1::{H1, H1Status, StreamSeed};
pub use h2::{H2, H2Status};
pub use pt::{Pt, PtStatus};
