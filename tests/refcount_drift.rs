//! No drift under load and aborts.
//!
//! The bug this guards against: in HAProxy's history a stream copied its
//! session's trackers and both released them, so `conn_cur` went negative;
//! the mirror-image bug (a tracker never released on some abort path) makes
//! `conn_cur` and `use=` creep upwards until a rate limit locks a client out
//! for good. Either shows only under volume and unusual endings, so this
//! test makes 20,000 connections from 8 threads (one client address per
//! thread, 127.0.0.1–127.0.0.8) with random keep-alive lengths and random
//! endings: a clean close, an RST or a FIN in the middle of a request head,
//! an RST before any byte, a client leaving in the middle of a response.
//! Entries are tracked at the connection layer (`tcp-request connection
//! track-sc0 src`) and at the stream layer (`http-request track-sc1` on a
//! header). Afterwards every entry must show `conn_cur=0 use=0`, each
//! address's `conn_cnt` must equal the connections its thread made, and its
//! `http_req_cnt` must lie between the requests answered and the requests
//! started (a connection closed before its first byte counting as one, as
//! in HAProxy). During the load, strata's `debug counters check` is sampled
//! continuously and must report every entry consistent with its live
//! trackers at every sample. Replay a run with `SEED=`.
//!
//! The same load runs again with `nbthread 4`: the tracks of one address
//! then come from sessions on every thread at once (each thread accepts
//! from its own socket), so one entry's `use=` and `conn_cur` are updated
//! by four threads; the audit parks the other threads and counts every
//! thread's trackers, and the counts afterwards are the same exact ones.

mod support;

use std::io::Write;
use std::net::{Ipv4Addr, Shutdown};
use std::time::Duration;
use support::*;

const THREADS: usize = 8;
const CONNS_PER_THREAD: usize = 2_500;
const USERS: u64 = 40; // distinct `x-user` keys tracked by streams

/// How one connection ends after its complete requests.
#[derive(Clone, Copy, Debug)]
enum Ending {
    Close,          // FIN after the last response
    Reset,          // RST after the last response (or before any byte)
    FinMidRequest,  // half a request head, then FIN
    RstMidRequest,  // half a request head, then RST
    RstMidResponse, // a large response requested, a few bytes read, then RST
}

/// What one thread did.
#[derive(Default)]
struct Made {
    conns: u64,    // connections accepted by the kernel (each one is tracked)
    answered: u64, // requests whose full response arrived
    started: u64,  // requests of which at least one byte was sent
    silent: u64,   // connections closed before sending a byte: a refused request each (HAProxy)
}

fn request(path: &str, user: u64) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: drift\r\nx-user: u{user}\r\n\r\n").into_bytes()
}

fn one_connection(port: u16, src: Ipv4Addr, rng: &mut Rng, made: &mut Made) {
    let s = connect_from(src, port).expect("connect");
    made.conns += 1;
    let mut c = HttpConn::from_stream(s);
    let ending = match rng.below(10) {
        0..=4 => Ending::Close,
        5 => Ending::Reset,
        6 => Ending::FinMidRequest,
        7 => Ending::RstMidRequest,
        _ => Ending::RstMidResponse,
    };
    let requests = rng.below(5);
    if requests == 0 && matches!(ending, Ending::Close | Ending::Reset) {
        made.silent += 1;
    }
    for _ in 0..requests {
        let path = if rng.below(3) == 0 { "/local" } else { "/" };
        made.started += 1;
        let r = c.request(&request(path, rng.below(USERS))).expect("response on a healthy connection");
        assert_eq!(r.status, 200, "{path}");
        made.answered += 1;
    }
    match ending {
        Ending::Close => drop(c),
        Ending::Reset => reset(c.into_stream()),
        Ending::FinMidRequest | Ending::RstMidRequest => {
            let head = request("/", rng.below(USERS));
            c.send(&head[..head.len() / 2]).expect("send half a head");
            made.started += 1;
            let s = c.into_stream();
            if matches!(ending, Ending::FinMidRequest) {
                let _ = s.shutdown(Shutdown::Write);
                let mut s = s;
                // The proxy closes a connection whose request can never complete.
                let _ = read_to_end_with_timeout(&mut s, ms(10_000));
            } else {
                reset(s);
            }
        }
        Ending::RstMidResponse => {
            made.started += 1;
            let mut s = c.into_stream();
            s.write_all(&request("/size/262144", rng.below(USERS))).expect("send");
            let _ = read_exact_with_timeout(&mut s, 100, ms(10_000));
            reset(s);
        }
    }
}

#[test]
fn drift_none_after_20000_connections_with_aborts() {
    drift(1);
}

#[test]
fn drift_none_with_nbthread_4() {
    drift(4);
}

fn drift(nbthread: u32) {
    let seed = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos() as u64
    });
    eprintln!("SEED={seed}");
    let backend = HttpBackend::start();
    let (port, stats) = (free_port(), free_port());
    let cfg = format!(
        "global\n    nbthread {nbthread}\n    maxconn 1000\n    stats socket ipv4@127.0.0.1:{stats} level admin\n\
         defaults\n    mode http\n    timeout connect {t}\n    timeout client {t}\n    timeout server {t}\n\
         frontend fe\n    bind 127.0.0.1:{port}\n\
         \x20   tcp-request connection track-sc0 src table t_src\n\
         \x20   http-request track-sc1 req.hdr(x-user) table t_user if {{ req.hdr(x-user) -m found }}\n\
         \x20   http-request return status 200 content-type text/plain string local if {{ path /local }}\n\
         \x20   default_backend be\n\
         backend be\n    server s1 127.0.0.1:{be}\n\
         backend t_src\n    stick-table type ip size 1k expire 10m store conn_cur,conn_cnt,http_req_cnt\n\
         backend t_user\n    stick-table type string len 16 size 1k expire 10m store conn_cur,conn_cnt,http_req_cnt\n",
        t = cfg_time(Duration::from_secs(30)),
        be = backend.port(),
    );
    let _proxy = Proxy::start(&cfg);

    // While the load runs, the proxy's own audit (`debug counters check`,
    // run between two events, the other threads parked) must find every entry's
    // `use=` and `conn_cur` equal to its live trackers, at every sample.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let auditor = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut samples = 0u32;
            // HAProxy has no such audit: nothing to sample there.
            while !under_haproxy() && !done.load(std::sync::atomic::Ordering::SeqCst) {
                let reply = cli(stats, "debug counters check");
                assert!(reply.starts_with("counters consistent: "), "audit during load: {reply}");
                samples += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            samples
        })
    };
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::spawn(move || {
                let src = Ipv4Addr::new(127, 0, 0, 1 + t as u8);
                let mut rng = Rng(seed ^ (t as u64).wrapping_mul(0x1234_5678_9ABC_DEF1));
                let mut made = Made::default();
                for _ in 0..CONNS_PER_THREAD {
                    one_connection(port, src, &mut rng, &mut made);
                }
                (src, made)
            })
        })
        .collect();
    let made: Vec<(Ipv4Addr, Made)> = threads.into_iter().map(|h| h.join().expect("client thread")).collect();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let samples = auditor.join().expect("auditor thread");
    eprintln!("audit samples during the load: {samples}");
    assert!(samples > 0 || under_haproxy(), "the audit ran during the load");

    // Every client is gone; the proxy notices each ending within its timeouts.
    assert!(
        wait_until(ms(30_000), || info_u64(stats, "CurrConns") == 0),
        "CurrConns stays at {}",
        info_u64(stats, "CurrConns")
    );
    let settled = wait_until(ms(10_000), || {
        table_entries(stats, "t_src")
            .values()
            .chain(table_entries(stats, "t_user").values())
            .all(|e| e["use"] == 0)
    });
    assert!(settled, "entries still in use:\n{}", cli(stats, "show table t_src; show table t_user"));

    let src_table = table_entries(stats, "t_src");
    assert_eq!(src_table.len(), THREADS, "one entry per client address");
    for (src, m) in &made {
        let e = &src_table[&src.to_string()];
        assert_eq!((e["conn_cur"], e["use"]), (0, 0), "{src}: {e:?}");
        assert_eq!(e["conn_cnt"], m.conns, "{src}: conn_cnt counts every connection exactly once");
        // A connection closed before its first request counts as one
        // (refused) request, as in HAProxy; an idle keep-alive close does not.
        let (low, high) = (m.answered + m.silent, m.started + m.silent);
        assert!(
            (low..=high).contains(&e["http_req_cnt"]),
            "{src}: http_req_cnt {} outside {low}..={high}",
            e["http_req_cnt"],
        );
    }
    let users = table_entries(stats, "t_user");
    assert!(!users.is_empty(), "streams tracked x-user");
    for (key, e) in &users {
        assert_eq!((e["conn_cur"], e["use"]), (0, 0), "t_user {key}: {e:?}");
    }
    if !under_haproxy() {
        // strata's own audit agrees: no tracker left, every entry consistent.
        let reply = cli(stats, "debug counters check");
        assert!(
            reply.ends_with(" entries, 0 trackers\n\n") && reply.starts_with("counters consistent"),
            "{reply}"
        );
    }
    let total: u64 = made.iter().map(|(_, m)| m.conns).sum();
    assert_eq!(total, (THREADS * CONNS_PER_THREAD) as u64);
}
