//! Issue 21's benchmark (not a timed test): strata against HAProxy 2.6 on
//! the same configuration, in interleaved rounds (A B A B ...), each proxy
//! pinned to nothing, on loopback:
//!
//! - gzip: a 100 KiB text answer compressed (level 1 on both sides, as
//!   HAProxy's default `tune.comp.maxlevel`), fetched over keep-alive;
//!   reported as proxy CPU per response (utime + stime of the proxy
//!   process) and MB/s of uncompressed input;
//! - cache: a 1 KiB answer served from `cache` (`cache-use`/`cache-store`),
//!   fetched by two keep-alive clients; reported as hits per second and
//!   proxy CPU per hit.
//!
//! Both proxies run one thread (`nbthread 1`): HAProxy's default is one
//! per CPU, which on this 2-CPU machine let it use both against strata's
//! one and made the ratios compare different things.
//!
//! Usage: `cargo bench --bench http_features -- STRATA_BIN [HAPROXY_BIN]`
//! (defaults: target/release/strata, /usr/sbin/haproxy; `STRATA_BENCH_PORT=N`
//! puts the proxies on N, N+1...). Figures are
//! ratios from the same run (see docs/performance.md for why).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROUNDS: usize = 5;
const GZIP_REQUESTS: usize = 300;
const CACHE_SECS: f64 = 3.0;

#[path = "../support/text.rs"]
mod text;
use text::text_body as text;

/// A thread-per-connection backend: `/big` 100 KiB of text, `/small` 1 KiB,
/// both cacheable.
fn backend() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let big = std::sync::Arc::new(text(100 * 1024));
    let small = std::sync::Arc::new(text(1024));
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let (big, small) = (big.clone(), small.clone());
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut w = s;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = line.split(' ').nth(1).unwrap_or("/").to_owned();
                    loop {
                        let mut h = String::new();
                        if r.read_line(&mut h).unwrap_or(0) == 0 {
                            return;
                        }
                        if h == "\r\n" {
                            break;
                        }
                    }
                    let body: &[u8] = if path.starts_with("/big") { &big } else { &small };
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: max-age=600\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    );
                    if w.write_all(head.as_bytes()).and_then(|()| w.write_all(body)).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// A port for a proxy: the next one from `STRATA_BENCH_PORT` (a base the
/// caller owns, e.g. a helper's range) when set, else one the kernel picks.
fn free_port() -> u16 {
    static NEXT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);
    match std::env::var("STRATA_BENCH_PORT").ok().and_then(|b| b.parse::<u16>().ok()) {
        Some(base) => base + NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        None => TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port(),
    }
}

fn config(gz: u16, cache: u16, be: u16) -> String {
    format!(
        "global\n    nbthread 1\n    maxconn 1000\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
         frontend gz\n    bind 127.0.0.1:{gz}\n    default_backend b_gz\n\
         frontend fcache\n    bind 127.0.0.1:{cache}\n    default_backend b_cache\n\
         backend b_gz\n    compression algo gzip\n    compression type text/plain\n    server s1 127.0.0.1:{be}\n\
         backend b_cache\n    http-request cache-use c\n    http-response cache-store c\n    server s1 127.0.0.1:{be}\n\
         cache c\n    total-max-size 16\n    max-age 600\n"
    )
}

struct Running {
    child: Child,
    gz: u16,
    cache: u16,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(bin: &str, be: u16, dir: &std::path::Path) -> Running {
    let (gz, cache) = (free_port(), free_port());
    let path = dir.join(format!("{}.cfg", std::path::Path::new(bin).file_name().unwrap().to_string_lossy()));
    std::fs::write(&path, config(gz, cache, be)).unwrap();
    let child = Command::new(bin)
        .arg("-f")
        .arg(&path)
        .arg("-db")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{bin}: {e}"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", cache)).is_err() || TcpStream::connect(("127.0.0.1", gz)).is_err()
    {
        assert!(Instant::now() < deadline, "{bin} did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Running { child, gz, cache }
}

/// utime + stime of `pid`, in seconds.
fn cpu(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let f: Vec<&str> = after.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0 // fields 14 and 15 of stat, in clock ticks (100 Hz)
}

/// One keep-alive response: its head and body bytes read by Content-Length
/// or chunks; returns the body length as received.
fn read_response(r: &mut BufReader<TcpStream>) -> usize {
    let (mut len, mut chunked) = (0usize, false);
    loop {
        let mut h = String::new();
        r.read_line(&mut h).unwrap();
        if h == "\r\n" {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
    }
    if !chunked {
        let mut b = vec![0; len];
        r.read_exact(&mut b).unwrap();
        return len;
    }
    let mut total = 0;
    loop {
        let mut size = String::new();
        r.read_line(&mut size).unwrap();
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        let mut b = vec![0; n + 2];
        r.read_exact(&mut b).unwrap();
        total += n;
        if n == 0 {
            return total;
        }
    }
}

fn gzip_round(p: &Running) -> (f64, f64, usize) {
    let s = TcpStream::connect(("127.0.0.1", p.gz)).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let req = b"GET /big HTTP/1.1\r\nHost: b\r\nAccept-Encoding: gzip\r\n\r\n";
    let (c0, t0) = (cpu(p.child.id()), Instant::now());
    let mut wire = 0;
    for _ in 0..GZIP_REQUESTS {
        w.write_all(req).unwrap();
        wire += read_response(&mut r);
    }
    (cpu(p.child.id()) - c0, t0.elapsed().as_secs_f64(), wire / GZIP_REQUESTS)
}

fn cache_round(p: &Running) -> (f64, usize) {
    let c0 = cpu(p.child.id());
    let port = p.cache;
    let threads: Vec<_> = (0..2)
        .map(|_| {
            std::thread::spawn(move || {
                let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                let mut w = s.try_clone().unwrap();
                let mut r = BufReader::new(s);
                let start = Instant::now();
                let mut n = 0;
                while start.elapsed().as_secs_f64() < CACHE_SECS {
                    w.write_all(b"GET /small HTTP/1.1\r\nHost: c\r\n\r\n").unwrap();
                    read_response(&mut r);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let n: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    (cpu(p.child.id()) - c0, n)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let strata = args.first().cloned().unwrap_or_else(|| "target/release/strata".into());
    let haproxy = args.get(1).cloned().unwrap_or_else(|| "/usr/sbin/haproxy".into());
    let dir = std::env::temp_dir().join(format!("strata-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let be = backend();
    let procs = [("strata", start(&strata, be, &dir)), ("haproxy", start(&haproxy, be, &dir))];
    for (_, p) in &procs {
        // Warm: the cache entry, and one compressed answer.
        let s = TcpStream::connect(("127.0.0.1", p.cache)).unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        w.write_all(b"GET /small HTTP/1.1\r\nHost: c\r\n\r\n").unwrap();
        read_response(&mut r);
        gzip_round(p);
    }
    let mut gz = [(0.0f64, 0.0f64, 0usize); 2];
    let mut cache = [(0.0f64, 0usize); 2];
    for round in 0..ROUNDS {
        for (i, (name, p)) in procs.iter().enumerate() {
            let (c, t, wire) = gzip_round(p);
            let (cc, hits) = cache_round(p);
            println!(
                "round {round} {name:<8} gzip: {:.1} µs CPU/response, {:.1} MB/s, {wire} B on the wire | cache: {:.0} hits/s, {:.1} µs CPU/hit",
                c * 1e6 / GZIP_REQUESTS as f64,
                (GZIP_REQUESTS * 100 * 1024) as f64 / t / 1e6,
                hits as f64 / CACHE_SECS,
                cc * 1e6 / hits as f64
            );
            gz[i].0 += c;
            gz[i].1 += t;
            gz[i].2 = wire;
            cache[i].0 += cc;
            cache[i].1 += hits;
        }
    }
    let per = |c: f64| c * 1e6 / (GZIP_REQUESTS * ROUNDS) as f64;
    println!(
        "gzip CPU per response: strata {:.1} µs, haproxy {:.1} µs, ratio {:.2}; MB/s ratio {:.2}",
        per(gz[0].0),
        per(gz[1].0),
        gz[0].0 / gz[1].0,
        gz[1].1 / gz[0].1
    );
    println!(
        "cache hits/s: strata {:.0}, haproxy {:.0}, ratio {:.2}; CPU per hit ratio {:.2}",
        cache[0].1 as f64 / (CACHE_SECS * ROUNDS as f64),
        cache[1].1 as f64 / (CACHE_SECS * ROUNDS as f64),
        cache[0].1 as f64 / cache[1].1 as f64,
        (cache[0].0 / cache[0].1 as f64) / (cache[1].0 / cache[1].1 as f64)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
