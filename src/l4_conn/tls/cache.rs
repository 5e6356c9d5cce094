//! The TLS session cache of a bind (`tune.ssl.cachesize` sessions): rustls's
//! in-memory cache, with its lookups and misses counted for `show info`
//! (`SslCacheLookups`, `SslCacheMisses`).

use super::stats;
use rustls::server::{ServerSessionMemoryCache, StoresServerSessions};
use std::sync::Arc;

/// A session cache whose lookups are counted. Shared by every
/// configuration of one bind line.
#[derive(Debug)]
pub struct CountedCache {
    inner: Arc<ServerSessionMemoryCache>,
}

impl CountedCache {
    pub fn new(size: usize) -> CountedCache {
        CountedCache { inner: ServerSessionMemoryCache::new(size) }
    }
}

impl StoresServerSessions for CountedCache {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        self.inner.put(key, value)
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        let found = self.inner.get(key);
        stats::cache_lookup(found.is_some());
        found
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        let found = self.inner.take(key);
        stats::cache_lookup(found.is_some());
        found
    }

    fn can_cache(&self) -> bool {
        self.inner.can_cache()
    }
}
