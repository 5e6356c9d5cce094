//! Stick tables: keyed counters shared by the layers that track clients.
//!
//! This module knows no layer: no sessions, streams, connections or config
//! types. The configuration layer builds a [`TableDef`] from a `stick-table`
//! line; the layers hold [`Tracker`]s; the CLI calls the functions of
//! [`dump`]. Time is always passed in as milliseconds from a clock the caller
//! owns (`now: u64`); nothing here reads the system clock.
//!
//! - [`key`]: key types (`ip`, `ipv6`, `integer`, `string`, `binary`), sample
//!   conversion, CLI parsing and `show table` formatting of keys.
//! - [`rate`]: HAProxy's period frequency counter (`freq_ctr`).
//! - [`data`]: the storable data types, the `store` list and its parser.
//! - [`table`]: the table itself: sharded map, compact entries, expiry queue,
//!   eviction, purge.
//! - [`tracker`]: [`Tracker`], the only holder of an entry "in use".
//! - [`dump`]: `show table` / `set table` / `clear table` texts.
//!
//! The accounting rules (design §2): an entry's reference count is the number
//! of live trackers plus transient users; it is an explicit counter in the
//! entry, never `Arc::strong_count`. Entries with references never expire and
//! are never evicted.

pub mod audit;
pub mod data;
pub mod dict;
pub mod dump;
pub mod key;
pub mod rate;
pub mod registry;
pub mod table;
pub mod tracker;

pub use data::{DataType, Store, StoreError};
pub use key::{Key, KeyType, StoredKey};
pub use rate::FreqCtr;
pub use registry::Registry;
pub use table::{Table, TableDef, Update};
pub use tracker::Tracker;
