//! The locks and atomics a table is built on: std's in every build of the
//! proxy; shuttle's when the library's unit tests are built with
//! `RUSTFLAGS="--cfg strata_shuttle"`, so that the model test in
//! `table/model.rs` explores the interleavings of concurrent track, release,
//! purge, eviction and removal (docs/testing.md says how to run it). Only
//! `table` and its submodules use these names.

#[cfg(not(all(test, strata_shuttle)))]
pub(super) use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
#[cfg(not(all(test, strata_shuttle)))]
pub(super) use std::sync::{Mutex, MutexGuard};

#[cfg(all(test, strata_shuttle))]
pub(super) use shuttle::sync::atomic::{AtomicU32, AtomicU64, Ordering};
#[cfg(all(test, strata_shuttle))]
pub(super) use shuttle::sync::{Mutex, MutexGuard};
