//! HAProxy 2.6's `h1` statistics module: the `h1_*` fields of `show
//! stat` on FRONTEND and BACKEND lines (servers have none), counting the
//! HTTP/1 connections of each proxy side — client connections on the
//! frontend, server connections on the backend — their streams, and the
//! bytes they moved, those moved by `splice(2)` apart as well.
//!
//! [`H1Stats`] is shared by every worker thread without a lock (atomic
//! counters; `SharedBackends::h1` and `Backends::h1` reach the same one):
//! the HTTP/1 mux counts its connections and streams, a stream its server
//! connection and what it spliced (`l6_stream/http/h1_tally.rs`), the idle
//! pool's closes are counted by the next stream turn, and `show stat`
//! reads them (`runtime/stats.rs`).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// One proxy side's `h1` counters. Owned by [`H1Stats`].
#[derive(Debug, Default)]
pub struct H1Counters {
    open_conns: AtomicU64,    // h1_open_connections
    open_streams: AtomicU64,  // h1_open_streams
    total_conns: AtomicU64,   // h1_total_connections
    total_streams: AtomicU64, // h1_total_streams
    bytes_in: AtomicU64,      // h1_bytes_in: received, spliced ones included
    bytes_out: AtomicU64,     // h1_bytes_out: sent, spliced ones included
    spliced_in: AtomicU64,    // h1_spliced_bytes_in
    spliced_out: AtomicU64,   // h1_spliced_bytes_out
}

/// What `show stat` prints of one [`H1Counters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct H1Snapshot {
    pub open_conns: u64,
    pub open_streams: u64,
    pub total_conns: u64,
    pub total_streams: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub spliced_in: u64,
    pub spliced_out: u64,
}

/// A gauge goes down, never below 0 (HAProxy's can; strata's cannot).
fn down(g: &AtomicU64) {
    let _ = g.fetch_update(Relaxed, Relaxed, |v| v.checked_sub(1));
}

impl H1Counters {
    const fn new() -> H1Counters {
        H1Counters {
            open_conns: AtomicU64::new(0),
            open_streams: AtomicU64::new(0),
            total_conns: AtomicU64::new(0),
            total_streams: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            spliced_in: AtomicU64::new(0),
            spliced_out: AtomicU64::new(0),
        }
    }

    pub fn conn_opened(&self) {
        self.open_conns.fetch_add(1, Relaxed);
        self.total_conns.fetch_add(1, Relaxed);
    }

    pub fn conn_closed(&self) {
        down(&self.open_conns);
    }

    pub fn stream_opened(&self) {
        self.open_streams.fetch_add(1, Relaxed);
        self.total_streams.fetch_add(1, Relaxed);
    }

    pub fn stream_closed(&self) {
        down(&self.open_streams);
    }

    /// Bytes a connection moved (`Conn::take_wire`).
    pub fn moved(&self, w: crate::l4_conn::WireBytes) {
        if w.rx > 0 {
            self.bytes_in.fetch_add(u64::from(w.rx), Relaxed);
        }
        if w.tx > 0 {
            self.bytes_out.fetch_add(u64::from(w.tx), Relaxed);
        }
    }

    /// Bytes spliced in from this side's peer and out to it.
    pub fn spliced(&self, rx: u64, tx: u64) {
        if rx > 0 {
            self.spliced_in.fetch_add(rx, Relaxed);
        }
        if tx > 0 {
            self.spliced_out.fetch_add(tx, Relaxed);
        }
    }

    pub fn snapshot(&self) -> H1Snapshot {
        H1Snapshot {
            open_conns: self.open_conns.load(Relaxed),
            open_streams: self.open_streams.load(Relaxed),
            total_conns: self.total_conns.load(Relaxed),
            total_streams: self.total_streams.load(Relaxed),
            bytes_in: self.bytes_in.load(Relaxed),
            bytes_out: self.bytes_out.load(Relaxed),
            spliced_in: self.spliced_in.load(Relaxed),
            spliced_out: self.spliced_out.load(Relaxed),
        }
    }

    /// `clear counters`: the totals restart, the gauges stay.
    fn clear(&self) {
        for c in [
            &self.total_conns,
            &self.total_streams,
            &self.bytes_in,
            &self.bytes_out,
            &self.spliced_in,
            &self.spliced_out,
        ] {
            c.store(0, Relaxed);
        }
    }
}

/// Counts of a proxy index no side has (a config changed under a
/// `Backends` built without it): they go nowhere.
static NOWHERE: H1Counters = H1Counters::new();

/// Both sides of every proxy, indexed like `Config::proxies`.
#[derive(Debug, Default)]
pub struct H1Stats {
    fe: Box<[H1Counters]>,
    be: Box<[H1Counters]>,
}

impl H1Stats {
    pub fn new(proxies: usize) -> H1Stats {
        let side = || (0..proxies).map(|_| H1Counters::new()).collect();
        H1Stats { fe: side(), be: side() }
    }

    /// The client side of proxy `p` (its FRONTEND line).
    pub fn fe(&self, p: usize) -> &H1Counters {
        self.fe.get(p).unwrap_or(&NOWHERE)
    }

    /// The server side of proxy `p` (its BACKEND line).
    pub fn be(&self, p: usize) -> &H1Counters {
        self.be.get(p).unwrap_or(&NOWHERE)
    }

    /// `clear counters` (HAProxy's `h1` module is clearable: both forms).
    pub fn clear(&self) {
        self.fe.iter().chain(self.be.iter()).for_each(H1Counters::clear);
    }
}
