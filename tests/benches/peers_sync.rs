//! Issue 23's benchmark (not a timed test), strata beside HAProxy 2.6 on
//! loopback, each with `nbthread 1`:
//!
//! - resync: node A holds N entries (`set table`, default 1,000,000);
//!   node B starts empty and learns them all from A over the peers
//!   protocol: the time from B's start until it holds N entries, and the
//!   bytes the peer sessions carried meanwhile, both ways (they pass
//!   through two counting relays);
//! - steady updates: N/2 more updates on A; B's CPU (every thread's run
//!   time, /proc/PID/task/*/schedstat) per 1,000 updates applied;
//! - snapshot (strata only, `stick-table ... snapshot FILE every 1s`):
//!   the time to write N entries and to load them at start (the
//!   process's own log lines), and the request latency (p50, p99, max of
//!   a keep-alive client tracked in the same table) with and without
//!   snapshots being written all along.
//!
//! Usage: `cargo bench --bench peers_sync -- [STRATA_BIN [HAPROXY_BIN [N]]]`
//! (defaults target/release/strata, /usr/sbin/haproxy, 1000000). Every
//! process it starts is stopped by pid.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The next port of `STRATA_BENCH_PORTS` (default 18600: 18600-18899)
/// free to bind: below the ephemeral range, where an outgoing connection
/// can never hold it.
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base: u16 = std::env::var("STRATA_BENCH_PORTS").ok().and_then(|v| v.parse().ok()).unwrap_or(18600);
    loop {
        let p = base + NEXT.fetch_add(1, Ordering::Relaxed) % 300;
        if TcpListener::bind(("127.0.0.1", p)).is_ok() {
            return p;
        }
    }
}

struct Node {
    child: Child,
    log: PathBuf,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(bin: &str, dir: &Path, name: &str, cfg: &str, stats: u16) -> Node {
    let path = dir.join(format!("{name}.cfg"));
    std::fs::write(&path, cfg).unwrap();
    let log = dir.join(format!("{name}.log"));
    let child = Command::new(bin)
        .args(["-db", "-L", name, "-f"])
        .arg(&path)
        .env("RUST_LOG", "runtime=debug")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let n = Node { child, log };
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", stats)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(120), "{name} does not start");
        std::thread::sleep(Duration::from_millis(5));
    }
    n
}

fn cli(port: u16, cmd: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(format!("{cmd}\n").as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// Entries in table `t` (`show table`'s `used:`).
fn used(port: u16) -> u64 {
    let out = cli(port, "show table");
    out.lines()
        .find(|l| l.starts_with("# table: t,"))
        .and_then(|l| l.split("used:").nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn key(i: u64) -> String {
    format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)
}

/// `set table t key K data.gpc0 V` for keys 0..n over one prompt-mode connection.
fn fill(port: u16, n: u64, value: u32) {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let mut buf = String::from("prompt\n");
        for i in 0..n {
            buf.push_str(&format!("set table t key {} data.gpc0 {value}\n", key(i)));
            if buf.len() > 64 * 1024 {
                w.write_all(buf.as_bytes()).unwrap();
                buf.clear();
            }
        }
        buf.push_str("quit\n");
        w.write_all(buf.as_bytes()).unwrap();
    });
    let mut sink = Vec::new();
    let _ = BufReader::new(s).read_to_end(&mut sink);
    writer.join().unwrap();
}

/// CPU time (ms) every thread of `pid` has run (`/proc/PID/task/*/schedstat`, ns).
fn cpu_ms(pid: u32) -> f64 {
    let mut ns = 0u64;
    for t in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap().flatten() {
        let st = std::fs::read_to_string(t.path().join("schedstat")).unwrap_or_default();
        ns += st.split(' ').next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    }
    ns as f64 / 1e6
}

/// A TCP relay on a port of its own to `to`, counting the bytes it
/// forwards each way ([0]: from the connecting side, [1]: towards it):
/// the peer sessions pass through two of them.
struct Relay {
    port: u16,
    bytes: std::sync::Arc<[std::sync::atomic::AtomicU64; 2]>,
}

impl Relay {
    fn start(to: u16) -> Relay {
        use std::sync::atomic::Ordering;
        let port = free_port();
        let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let bytes =
            std::sync::Arc::new([std::sync::atomic::AtomicU64::new(0), std::sync::atomic::AtomicU64::new(0)]);
        let count = bytes.clone();
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                let Ok(s) = TcpStream::connect(("127.0.0.1", to)) else { continue };
                for (way, mut from, mut into) in
                    [(0, c.try_clone().unwrap(), s.try_clone().unwrap()), (1, s, c)]
                {
                    let count = count.clone();
                    std::thread::spawn(move || {
                        let mut buf = vec![0; 64 * 1024];
                        while let Ok(n) = from.read(&mut buf) {
                            if n == 0 || into.write_all(&buf[..n]).is_err() {
                                break;
                            }
                            count[way].fetch_add(n as u64, Ordering::Relaxed);
                        }
                        let _ = into.shutdown(std::net::Shutdown::Write);
                    });
                }
            }
        });
        Relay { port, bytes }
    }

    fn bytes(&self, way: usize) -> u64 {
        self.bytes[way].load(std::sync::atomic::Ordering::Relaxed)
    }
}

fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(t.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A node's configuration: peer a at `pa`, peer b at `pb` (the local
/// one's is where it listens, the other's where it connects: a relay).
fn peer_cfg(stats: u16, pa: u16, pb: u16, n: u64, extra_table: &str, fe: Option<(u16, u16)>) -> String {
    let size = (n * 2).max(1024);
    let mut c = format!(
        "global\n    nbthread 1\n    stats socket ipv4@127.0.0.1:{stats} level admin\n\
         defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
         peers p\n    peer a 127.0.0.1:{pa}\n    peer b 127.0.0.1:{pb}\n\
         backend t\n    stick-table type ip size {size} expire 1h peers p store gpc0{extra_table}\n"
    );
    if let Some((fe, be)) = fe {
        c += &format!(
            "frontend fe\n    bind 127.0.0.1:{fe}\n    http-request track-sc0 src table t\n    default_backend be\n\
             backend be\n    server s1 127.0.0.1:{be}\n"
        );
    }
    c
}

struct Sync {
    fill_s: f64,
    resync_s: f64,
    bytes: (u64, u64), // A to B, B to A
    cpu_per_1000_ms: f64,
}

fn resync(bin: &str, dir: &Path, n: u64) -> Sync {
    let (sa, sb, pa, pb) = (free_port(), free_port(), free_port(), free_port());
    let (to_a, to_b) = (Relay::start(pa), Relay::start(pb));
    let a = start(bin, dir, "a", &peer_cfg(sa, pa, to_b.port, n, "", None), sa);
    let t = Instant::now();
    fill(sa, n, 1);
    wait_for("A's entries", Duration::from_secs(600), || used(sa) == n);
    let fill_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    // A to B: what B's connection to A reads, and what A's connection to B writes
    let a_to_b = || to_a.bytes(1) + to_b.bytes(0);
    let b_to_a = || to_a.bytes(0) + to_b.bytes(1);
    let (ab0, ba0) = (a_to_b(), b_to_a());
    let b = start(bin, dir, "b", &peer_cfg(sb, to_a.port, pb, n, "", None), sb);
    let bpid = b.child.id();
    wait_for("B's resync", Duration::from_secs(600), || used(sb) == n);
    let resync_s = t.elapsed().as_secs_f64();
    let bytes = (a_to_b() - ab0, b_to_a() - ba0);
    let updates = n / 2;
    let cpu0 = cpu_ms(bpid);
    fill(sa, updates, 2);
    let last = key(updates - 1);
    wait_for("B's updates", Duration::from_secs(600), || {
        cli(sb, &format!("show table t key {last}")).contains("gpc0=2")
    });
    let cpu_per_1000_ms = (cpu_ms(bpid) - cpu0) * 1000.0 / updates as f64;
    drop((a, b));
    Sync { fill_s, resync_s, bytes, cpu_per_1000_ms }
}

/// A keep-alive backend answering every request with a small body.
fn backend() -> u16 {
    let port = free_port();
    let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut w = s;
                loop {
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    if w.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// Latencies (µs) of keep-alive requests on `clients` connections for `secs`.
fn latency(fe: u16, clients: usize, secs: f64) -> Vec<u64> {
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            std::thread::spawn(move || {
                let s = TcpStream::connect(("127.0.0.1", fe)).unwrap();
                s.set_nodelay(true).unwrap();
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut w = s;
                let mut lat = Vec::new();
                let t = Instant::now();
                while t.elapsed().as_secs_f64() < secs {
                    let one = Instant::now();
                    w.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
                    let mut len = 0;
                    loop {
                        let mut line = String::new();
                        r.read_line(&mut line).unwrap();
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap();
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0; len];
                    r.read_exact(&mut body).unwrap();
                    lat.push(one.elapsed().as_micros() as u64);
                }
                lat
            })
        })
        .collect();
    let mut all: Vec<u64> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    all.sort_unstable();
    all
}

fn pct(v: &[u64], p: f64) -> u64 {
    v[((v.len() as f64 * p) as usize).min(v.len() - 1)]
}

/// Milliseconds in the log lines containing `what` ("... in N ms").
fn logged_ms(log: &Path, what: &str) -> Vec<u64> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(what))
        .filter_map(|l| l.rsplit(" in ").next()?.strip_suffix(" ms")?.parse().ok())
        .collect()
}

fn snapshot(bin: &str, dir: &Path, n: u64) {
    let be = backend();
    let file = dir.join("t.snap");
    let _ = std::fs::remove_file(&file);
    for with in [false, true] {
        let (stats, fe) = (free_port(), free_port());
        let extra = if with { format!(" snapshot {} every 1s", file.display()) } else { String::new() };
        let cfg = peer_cfg(stats, free_port(), free_port(), n, &extra, Some((fe, be)));
        let node = start(bin, dir, "s", &cfg, stats);
        fill(stats, n, 1);
        wait_for("entries", Duration::from_secs(600), || used(stats) == n);
        if with {
            wait_for("a snapshot", Duration::from_secs(120), || {
                !logged_ms(&node.log, "written to").is_empty()
            });
        }
        let lat = latency(fe, 2, 10.0);
        let writes = logged_ms(&node.log, "written to");
        println!(
            "  snapshot {}: {} requests, p50 {} µs, p99 {} µs, max {} µs{}",
            if with { "every 1 s" } else { "off      " },
            lat.len(),
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            lat[lat.len() - 1],
            if with {
                format!("; {} writes of {n} entries, median {} ms", writes.len(), median(&writes))
            } else {
                String::new()
            }
        );
        drop(node);
        if with {
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            let t = Instant::now();
            let node = start(bin, dir, "s", &cfg, stats);
            wait_for("the load", Duration::from_secs(600), || used(stats) >= n);
            let loaded = logged_ms(&node.log, "loaded from snapshot");
            println!(
                "  load at start: {} ms (log), {:.2} s until all {n} entries are served; file {:.1} MB",
                median(&loaded),
                t.elapsed().as_secs_f64(),
                size as f64 / 1e6
            );
        }
    }
}

fn median(v: &[u64]) -> u64 {
    let mut v = v.to_vec();
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let strata = args.first().cloned().unwrap_or_else(|| "target/release/strata".into());
    let haproxy = args.get(1).cloned().unwrap_or_else(|| "/usr/sbin/haproxy".into());
    let n: u64 = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("strata-peers-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    println!("peers resync of {n} entries (node B learns them from node A), then {} updates", n / 2);
    for (name, bin) in [("strata", &strata), ("haproxy", &haproxy)] {
        let s = resync(bin, &dir, n);
        println!(
            "  {name:<8} fill {:.1} s | resync {:.2} s, A to B {:.1} MB ({:.1} B/entry), B to A {:.2} MB | CPU {:.3} ms per 1,000 updates",
            s.fill_s,
            s.resync_s,
            s.bytes.0 as f64 / 1e6,
            s.bytes.0 as f64 / n as f64,
            s.bytes.1 as f64 / 1e6,
            s.cpu_per_1000_ms
        );
    }
    println!("snapshot of {n} entries (strata)");
    snapshot(&strata, &dir, n);
    let _ = std::fs::remove_dir_all(&dir);
}
