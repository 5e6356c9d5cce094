//! No drift under HTTP/2 load and aborts: the drift test of
//! `tests/refcount_drift.rs` again, with many streams per session.
//!
//! The bug this guards against is the one the session/stream split exists
//! for: with up to 100 streams of one session alive at once, a stream that
//! released its session's tracker would drive `conn_cur` below zero, and a
//! stream tracker left behind on one of the many ways a stream can end
//! (END_STREAM, RST_STREAM from the client, a server that resets its
//! response, the connection lost with streams in flight) would make `use=`
//! creep upwards until a rate limit locks a client out for good.
//!
//! 200 sessions from 4 threads (one client address per thread,
//! 127.0.0.1–127.0.0.4), each opening 1 to 100 streams at once: most ask
//! for `/`, some for a body larger than a window, some for a response the
//! server resets half-way (`/reset-body`) or before its first byte
//! (`/reset`); the client resets some streams right after sending them,
//! and each session either reads everything and closes, or is reset by
//! the client with everything in flight, or half-way through. The session
//! tracks `tcp-request connection track-sc0 src`, each stream `http-request
//! track-sc1` on its `x-user`. During the load strata's `debug counters
//! check` is sampled continuously and must find every entry consistent at
//! every sample; afterwards every entry has `conn_cur=0 use=0`, each
//! address's `conn_cnt` equals its sessions and its `http_req_cnt` lies
//! between the streams answered and the streams sent. The client's choices
//! come from the seed alone: `SEED=` replays a run.

mod support;

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use support::h2_client::*;
use support::*;

const THREADS: usize = 4;
const SESSIONS_PER_THREAD: usize = 50;
const USERS: u64 = 30; // distinct `x-user` keys tracked by streams
const LIMIT: Duration = Duration::from_secs(30);

/// How one session ends once its streams are sent.
#[derive(Clone, Copy, Debug)]
enum Ending {
    ReadAll, // every stream read to its end, then a close
    Abort,   // an RST at once, every stream in flight
    Halfway, // half the streams read, then an RST
}

/// What one thread did.
#[derive(Default)]
struct Made {
    sessions: u64, // connections accepted by the kernel (each one is tracked)
    answered: u64, // streams that got a response head (so went through the rules)
    started: u64,  // streams whose HEADERS were sent
    resets: u64,   // RST_STREAM sent by the client
}

fn one_session(port: u16, src: Ipv4Addr, rng: &mut Rng, made: &mut Made) {
    let sock = connect_from(src, port).expect("connect");
    made.sessions += 1;
    let mut c = H2Conn::over(sock, &[]);
    let streams = 1 + rng.below(100);
    let ending = match rng.below(8) {
        0 => Ending::Abort,
        1 | 2 => Ending::Halfway,
        _ => Ending::ReadAll,
    };
    let mut awaited = Vec::new();
    let mut cancelled = Vec::new();
    for _ in 0..streams {
        let path = match rng.below(20) {
            0 => "/reset",
            1 => "/reset-body",
            2 | 3 => "/size/100000", // more than the 64 KiB initial window
            _ => "/",
        };
        let user = format!("u{}", rng.below(USERS));
        let id = c.request("GET", path, &[("x-user", &user)], true);
        made.started += 1;
        if rng.below(10) == 0 { cancelled.push(id) } else { awaited.push(id) }
    }
    for &id in &cancelled {
        c.rst(id, CANCEL);
        made.resets += 1;
    }
    let read = match ending {
        Ending::Abort => 0,
        Ending::Halfway => awaited.len() / 2,
        Ending::ReadAll => awaited.len(),
    };
    if read > 0 {
        let (res, end) = c.run(&awaited[..read], LIMIT);
        assert!(end.is_none(), "session from {src}: {end:?}");
        made.answered += res.values().filter(|r| r.status.is_some()).count() as u64;
        for (id, r) in &res {
            let ok = r.status == Some(200) || r.status == Some(502) || r.reset.is_some();
            assert!(ok, "stream {id}: {r:?}");
        }
    }
    match ending {
        Ending::ReadAll => drop(c),
        Ending::Abort | Ending::Halfway => reset(c.sock),
    }
}

#[test]
fn h2_drift_none_after_200_sessions_with_resets_and_aborts() {
    let seed = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_nanos() as u64
    });
    eprintln!("SEED={seed}");
    let backend = HttpBackend::start();
    let (port, stats) = (free_port(), free_port());
    let cfg = format!(
        "global\n    maxconn 2000\n    stats socket ipv4@127.0.0.1:{stats} level admin\n\
         defaults\n    mode http\n    timeout connect {t}\n    timeout client {t}\n    timeout server {t}\n\
         frontend fe\n    bind 127.0.0.1:{port} proto h2\n\
         \x20   tcp-request connection track-sc0 src table t_src\n\
         \x20   http-request track-sc1 req.hdr(x-user) table t_user\n\
         \x20   default_backend be\n\
         backend be\n    server s1 127.0.0.1:{be}\n\
         backend t_src\n    stick-table type ip size 1k expire 10m store conn_cur,conn_cnt,http_req_cnt\n\
         backend t_user\n    stick-table type string len 16 size 1k expire 10m store conn_cur,conn_cnt,http_req_cnt\n",
        t = cfg_time(Duration::from_secs(30)),
        be = backend.port(),
    );
    let _proxy = Proxy::start(&cfg);

    // strata's own audit, run between two events of its worker, must find
    // every entry's `use=` and `conn_cur` equal to its live trackers.
    let done = Arc::new(AtomicBool::new(false));
    let auditor = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut samples = 0u32;
            // HAProxy has no such audit: nothing to sample there.
            while !under_haproxy() && !done.load(Ordering::SeqCst) {
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
                for _ in 0..SESSIONS_PER_THREAD {
                    one_session(port, src, &mut rng, &mut made);
                }
                (src, made)
            })
        })
        .collect();
    let made: Vec<(Ipv4Addr, Made)> = threads.into_iter().map(|h| h.join().expect("client thread")).collect();
    done.store(true, Ordering::SeqCst);
    let samples = auditor.join().expect("auditor thread");
    let streams: u64 = made.iter().map(|(_, m)| m.started).sum();
    let resets: u64 = made.iter().map(|(_, m)| m.resets).sum();
    eprintln!("{streams} streams ({resets} reset by the client), audit samples during the load: {samples}");
    assert!(samples > 0 || under_haproxy(), "the audit ran during the load");

    // Every client is gone; the proxy notices each ending.
    assert!(
        wait_until(ms(30_000), || info_u64(stats, "CurrConns") == 0),
        "CurrConns stays at {}",
        info_u64(stats, "CurrConns")
    );
    let settled = wait_until(ms(30_000), || {
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
        assert_eq!(e["conn_cnt"], m.sessions, "{src}: conn_cnt counts every session exactly once");
        // Every answered stream went through the rules; a stream the
        // connection's reset overtook may never have been read.
        let (low, high) = (m.answered, m.started);
        assert!(
            (low..=high).contains(&e["http_req_cnt"]),
            "{src}: http_req_cnt {} outside {low}..={high}",
            e["http_req_cnt"],
        );
    }
    let users = table_entries(stats, "t_user");
    assert!(!users.is_empty(), "streams tracked x-user");
    let mut user_reqs = 0;
    for (key, e) in &users {
        assert_eq!((e["conn_cur"], e["use"]), (0, 0), "t_user {key}: {e:?}");
        user_reqs += e["http_req_cnt"];
    }
    // Each stream that went through the rules tracked its user once: the
    // users' requests are the addresses' requests.
    let src_reqs: u64 = src_table.values().map(|e| e["http_req_cnt"]).sum();
    assert_eq!(user_reqs, src_reqs, "every stream counted once per table");
    if !under_haproxy() {
        // Every client read what it asked for: no response ever waited for window.
        assert_eq!(info_u64(stats, "H2ZeroWindowStalls"), 0);
        // strata's own audit agrees: no tracker left, every entry consistent.
        let reply = cli(stats, "debug counters check");
        assert!(
            reply.ends_with(" entries, 0 trackers\n\n") && reply.starts_with("counters consistent"),
            "{reply}"
        );
    }
    assert_eq!(made.iter().map(|(_, m)| m.sessions).sum::<u64>(), (THREADS * SESSIONS_PER_THREAD) as u64);
}
