//! Event-loop building blocks shared by every layer; knows no layer.
//!
//! - [`slab`]: objects addressed by generation-tagged tokens, so an event for
//!   a closed object whose slot was reused is recognised as stale.
//! - [`clock`]: one `Instant::now()` per loop turn.
//! - [`timer`]: a binary heap of deadlines with lazy re-queue.
//! - [`buffer`]: fixed-size I/O buffers from a per-worker pool, held only
//!   while data is in flight.
//! - [`free_list`]: the bounded per-thread lists such pools keep freed
//!   storage in.
//! - [`features`]: what this build has, in HAProxy's feature names (`-vv`,
//!   `feature()`).
//! - [`inherited`]: `fd@N` listening sockets handed over by the parent.

pub mod buffer;
pub mod clock;
pub mod date;
pub mod features;
pub mod free_list;
pub mod inherited;
pub mod lifecycle;
pub mod os;
pub mod ring;
pub mod slab;
pub mod timer;
