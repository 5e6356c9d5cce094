//! Muxes: how a session's client bytes become streams. `Pt` (pass-through,
//! TCP mode) carries exactly one stream; `H1` (HTTP/1, later) one at a
//! time; `H2` (later) many at once.

mod pt;

pub use pt::Pt;
