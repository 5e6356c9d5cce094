//! Heap allocations per request in steady state, counted on the proxy's
//! worker thread only by a counting global allocator (this bench binary's,
//! never the shipped binary's). strata runs in-process on a config with
//! `tcp-request connection track-sc0 src` and a stream-level tracker; a
//! keep-alive client sends requests through it to a tiny backend.
//! `cargo bench --bench alloc_count`

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

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is a relaxed atomic and the thread-local flag needs no allocation
// (const-initialised `Cell<bool>`).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTED.with(Cell::get) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTED.with(Cell::get) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
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
    let fe = free_port();
    let dir = std::env::temp_dir().join(format!("strata-alloc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let cfg = dir.join("bench.cfg");
    std::fs::write(
        &cfg,
        format!(
            "global\n    maxconn 100\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
             frontend fe\n    bind 127.0.0.1:{fe}\n    tcp-request connection track-sc0 src\n\
             \x20   http-request track-sc1 req.hdr(x-user) table t_user\n    default_backend be\n\
             \x20   stick-table type ip size 1k expire 60s store conn_cur,conn_cnt,http_req_rate(10s)\n\
             backend be\n    server s1 127.0.0.1:{be}\n\
             backend t_user\n    stick-table type string len 16 size 1k expire 60s store http_req_cnt\n"
        ),
    )
    .expect("write config");
    let (loaded, diags) = strata::runtime::load(&[cfg.display().to_string()]);
    let loaded = loaded.unwrap_or_else(|| panic!("config refused: {:?}", diags.items));
    std::thread::spawn(move || {
        COUNTED.with(|c| c.set(true));
        let _ = strata::runtime::run(loaded, &strata::runtime::StartOptions::default());
    });
    let mut c = loop {
        if let Ok(c) = TcpStream::connect(("127.0.0.1", fe)) {
            break c;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    c.set_nodelay(true).expect("nodelay");
    const WARMUP: u64 = 20_000;
    const MEASURED: u64 = 100_000;
    run_requests(&mut c, WARMUP);
    let before = ALLOCS.load(Ordering::Relaxed);
    run_requests(&mut c, MEASURED);
    let after = ALLOCS.load(Ordering::Relaxed);
    let per_request = (after - before) as f64 / MEASURED as f64;
    println!(
        "heap allocations per keep-alive request (steady state, proxy thread): {per_request:.3} ({} over {MEASURED})",
        after - before
    );
    let _ = std::fs::remove_dir_all(&dir);
    std::process::exit(0);
}
