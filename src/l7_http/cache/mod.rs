//! The small object cache (`cache NAME` sections, `http-request
//! cache-use`, `http-response cache-store`): [`store`] holds the objects
//! (shared by the workers, bounded, LRU), [`policy`] decides as HAProxy
//! 2.6 does what may be served and stored, [`vary`] which variant. The stream
//! (`l6_stream/http_cache.rs`) looks up, serves and fills.

pub mod policy;
pub mod store;
pub mod vary;

pub use store::{Cache, Caches, Entry, Primary, StoredHead};
