//! Heap allocations per request in steady state, counted on the proxy's
//! worker thread only by a counting global allocator (this bench binary's,
//! never the shipped binary's). strata runs in-process on a config with
//! `tcp-request connection track-sc0 src` and a stream-level tracker, and
//! four paths are measured, each by one client sending requests one
//! after another on one connection: HTTP/1.1 keep-alive to an HTTP/1.1
//! server; HTTP/2 (prior knowledge, one stream after another) to the same
//! server; HTTP/1.1 to an h2c server (`server ... proto h2`, the stream on
//! the shared HTTP/2 server connection); HTTP/2 to the h2c server (both
//! muxes). The HTTP/2 peers are in `alloc_h2.rs`.
//! `cargo bench --bench alloc_count`; `STRATA_ALLOC_TRACE=N` prints the
//! backtraces of the first N allocations counted on each path (the time
//! this takes lets timers run more often: trust the counts of a run
//! without it).

#[path = "alloc_h2.rs"]
mod alloc_h2;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};

/// Counts allocations made by threads that asked to be counted.
struct Counting;

thread_local! {
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}
static ALLOCS: AtomicU64 = AtomicU64::new(0);
/// How many more counted allocations get their backtrace printed
/// (`STRATA_ALLOC_TRACE=N`, set once the measured requests start).
static TRACE_LEFT: AtomicU64 = AtomicU64::new(0);

/// Counts one allocation; prints where it comes from while `TRACE_LEFT`
/// lasts (the thread stops being counted while the trace allocates).
fn count() {
    if !COUNTED.with(Cell::get) {
        return;
    }
    ALLOCS.fetch_add(1, Ordering::Relaxed);
    if TRACE_LEFT.load(Ordering::Relaxed) > 0 {
        TRACE_LEFT.fetch_sub(1, Ordering::Relaxed);
        COUNTED.with(|c| c.set(false));
        eprintln!("allocation:\n{}", std::backtrace::Backtrace::force_capture());
        COUNTED.with(|c| c.set(true));
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is a relaxed atomic and the thread-local flag needs no allocation
// (const-initialised `Cell<bool>`).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
const REQUEST: &[u8] = b"GET /x HTTP/1.1\r\nHost: bench\r\nx-user: alice\r\n\r\n";

/// A keep-alive backend answering every request head with `RESPONSE`.
fn backend() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind backend");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || serve(s));
        }
    });
    port
}

fn serve(mut s: TcpStream) {
    let mut buf = [0u8; 4096];
    let mut pending = Vec::new();
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            return;
        }
        pending.extend_from_slice(&buf[..n]);
        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            pending.drain(..end + 4);
            if s.write_all(RESPONSE).is_err() {
                return;
            }
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn run_requests(c: &mut TcpStream, n: u64) {
    let mut buf = [0u8; 4096];
    for _ in 0..n {
        c.write_all(REQUEST).expect("send");
        let mut got = 0;
        while got < RESPONSE.len() {
            let k = c.read(&mut buf[got..]).expect("read");
            assert!(k > 0, "proxy closed");
            got += k;
        }
    }
}

fn main() {
    let be = backend();
    let be_h2 = alloc_h2::server();
    let (fe, fe_h2, fe_to_h2, fe_h2_h2) = (free_port(), free_port(), free_port(), free_port());
    let dir = std::env::temp_dir().join(format!("strata-alloc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let cfg = dir.join("bench.cfg");
    // `expire 10m`: longer than the bench. A tracked entry past its
    // expiry stays at the head of the expiry queue and every loop turn
    // purges it again (allocating), which is not a per-request cost.
    let rules = "    tcp-request connection track-sc0 src\n\
                 \x20   http-request track-sc1 req.hdr(x-user) table t_user\n";
    std::fs::write(
        &cfg,
        format!(
            "global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n    http-reuse always\n\
             frontend fe\n    bind 127.0.0.1:{fe}\n{rules}    default_backend be\n\
             \x20   stick-table type ip size 1k expire 10m store conn_cur,conn_cnt,http_req_rate(10s)\n\
             frontend fe_h2\n    bind 127.0.0.1:{fe_h2} proto h2\n{rules}    default_backend be\n\
             \x20   stick-table type ip size 1k expire 10m store conn_cur,conn_cnt,http_req_rate(10s)\n\
             frontend fe_to_h2\n    bind 127.0.0.1:{fe_to_h2}\n{rules}    default_backend be_h2\n\
             \x20   stick-table type ip size 1k expire 10m store conn_cur,conn_cnt,http_req_rate(10s)\n\
             frontend fe_h2_h2\n    bind 127.0.0.1:{fe_h2_h2} proto h2\n{rules}    default_backend be_h2\n\
             \x20   stick-table type ip size 1k expire 10m store conn_cur,conn_cnt,http_req_rate(10s)\n\
             backend be\n    server s1 127.0.0.1:{be}\n\
             backend be_h2\n    server s1 127.0.0.1:{be_h2} proto h2\n\
             backend t_user\n    stick-table type string len 16 size 1k expire 10m store http_req_cnt\n"
        ),
    )
    .expect("write config");
    let (loaded, diags) = strata::runtime::load(&[cfg.display().to_string()]);
    let loaded = loaded.unwrap_or_else(|| panic!("config refused: {:?}", diags.items));
    std::thread::spawn(move || {
        COUNTED.with(|c| c.set(true));
        let _ = strata::runtime::run(loaded, &strata::runtime::StartOptions::default());
    });
    const WARMUP: u64 = 20_000;
    const MEASURED: u64 = 100_000;
    let measure = |what: &str, run: &mut dyn FnMut(u64)| {
        run(WARMUP);
        let trace = std::env::var("STRATA_ALLOC_TRACE").ok().and_then(|n| n.parse().ok()).unwrap_or(0);
        TRACE_LEFT.store(trace, Ordering::Relaxed);
        let before = ALLOCS.load(Ordering::Relaxed);
        run(MEASURED);
        let after = ALLOCS.load(Ordering::Relaxed);
        let per_request = (after - before) as f64 / MEASURED as f64;
        println!(
            "heap allocations per request, {what} (steady state, proxy thread): {per_request:.3} ({} over {MEASURED})",
            after - before
        );
    };
    let mut c = connect(fe);
    measure("HTTP/1.1 keep-alive to an HTTP/1.1 server", &mut |n| run_requests(&mut c, n));
    wait_listening(fe_h2);
    let mut h2 = alloc_h2::Client::connect(fe_h2);
    measure("HTTP/2 client to an HTTP/1.1 server", &mut |n| h2.run(n));
    let mut c = connect(fe_to_h2);
    measure("HTTP/1.1 keep-alive to an h2c server", &mut |n| run_requests(&mut c, n));
    wait_listening(fe_h2_h2);
    let mut h2 = alloc_h2::Client::connect(fe_h2_h2);
    measure("HTTP/2 client to an h2c server", &mut |n| h2.run(n));
    let _ = std::fs::remove_dir_all(&dir);
    std::process::exit(0);
}

/// A connection to `port` once the proxy listens there.
fn connect(port: u16) -> TcpStream {
    wait_listening(port);
    let c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_nodelay(true).expect("nodelay");
    c
}

fn wait_listening(port: u16) {
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
