//! Soak with fault injection: many connections, every way of ending them,
//! every backend fault, trackers at all four rule layers; afterwards the
//! proxy must hold nothing.
//!
//! The bug story: a tracker, a session or a file descriptor kept by one
//! rare path (a client leaving mid-body while the server is being retried,
//! a server resetting mid-response on a keep-alive connection) costs
//! nothing per connection and everything after a week: `conn_cur` creeps
//! until a rate limit locks a client out, fds run out, memory grows.
//! Single-fault tests cannot see it; volume mixed with every fault can.
//!
//! The workload: client threads (8; 16 in the soak profile), each with
//! its own source address (its key in the connection and session tables),
//! make N connections between them (seeded: `SEED=` replays a run), to
//! two frontends:
//! - `fe_http` (`mode http`): keep-alive sequences of 0..=`MAX_REQUESTS`
//!   requests, each to a clean route (`/`, `/size/N`, `/chunked/N`, a
//!   `POST /echo`, a backend whose first server refuses connections
//!   (`option redispatch`), a server closing kept-alive connections) or a
//!   fault the proxy answers, after which the connection goes on as in
//!   HAProxy (a refused server after `retries`: 503; a response slower
//!   than `timeout server`: 504; a reset before the response, an invalid
//!   response head, a header line without a colon: 502), or a server
//!   reset mid-body, which cuts the 200 and the connection;
//! - `fe_tcp` (`mode tcp`): the same HTTP bytes tunnelled to a backend
//!   whose first server refuses (retries, redispatch), with the server's
//!   resets and garbage passed through raw.
//!
//! Then each connection ends one way: a FIN or an RST after its last
//! response (or before sending anything), in the middle of a request head,
//! in the middle of a request body, after a request before its response,
//! or in the middle of a response.
//!
//! Trackers: `tcp-request connection track-sc0 src` (`t_conn`) and
//! `tcp-request session track-sc1 src` (`t_sess`) on both frontends;
//! `tcp-request content track-sc2` on `x-user` (`t_hcont`) for requests
//! marked `x-track: content` and `http-request track-sc2` on `x-user`
//! (`t_http`) for the others (a stream rule on a slot already held is a
//! no-op: first tracker wins) in `fe_http`; `tcp-request content
//! track-sc2 src` (`t_tcont`) in `fe_tcp`.
//!
//! Asserted: during the load, `debug counters check` sampled every ~50 ms
//! always reports consistency; afterwards it reports 0 trackers, every
//! entry of every table shows `conn_cur=0 use=0`, `CurrConns` is 0 and
//! `show sess` lists no stream, `conn_cnt` (and `sess_cnt`) per source
//! address equal the connections its thread made (`t_tcont`: its TCP
//! connections), the per-request tables lie between the requests answered
//! and the requests sent, the proxy's fds are back to their start-up
//! baseline (plus idle server connections and pooled pipes, both bounded),
//! and its RSS is within a bound of its baseline. Every response a client
//! reads is checked too (HAProxy's exact 502/503/504 bytes, bodies byte
//! for byte).
//!
//! `soak_short` runs in the default `cargo test`; `soak_200k` is the soak
//! profile (`cargo test --release --test soak -- --ignored`); see
//! docs/testing.md for the timings measured.

mod support;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Shutdown};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use support::http_answers::{BAD_GATEWAY_502, GATEWAY_TIMEOUT_504, SERVICE_UNAVAILABLE_503};
use support::http_backend::GARBAGE;
use support::*;

/// Longest keep-alive sequence of one connection.
const MAX_REQUESTS: u64 = 4;
/// Distinct `x-user` keys per thread (the per-request tables' keys).
const USERS: u64 = 6;
/// The `/size` a client leaves in the middle of (larger than the socket
/// buffers, so the proxy is still sending when the client goes).
const BIG: usize = 256 * 1024;
/// How long a client waits for the proxy to close a connection it
/// half-closed, or to end a response (a safety net only).
const CLOSE_WAIT_MS: u64 = 10_000;

/// xorshift64* seeded through splitmix64 (a zero state would stay zero).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// One of `choices`, with probability proportional to its weight.
    fn pick<T: Copy>(&mut self, choices: &[(u64, T)]) -> T {
        let total: u64 = choices.iter().map(|&(w, _)| w).sum();
        let mut r = self.below(total);
        for &(w, c) in choices {
            if r < w {
                return c;
            }
            r -= w;
        }
        unreachable!("r < total")
    }
}

/// One request of a keep-alive sequence: where it goes and what it meets.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Hello,          // `/`: 200 `hello`
    Size(usize),    // `/size/N`: N pattern bytes
    Chunked(usize), // `/chunked/N`: the same, chunked
    Echo(usize),    // `POST /echo` with N bytes: them back
    Redispatch,     // `be_redispatch`: first server refuses, redispatched: 200
    Reused,         // `be_reused`: the server closes kept-alive connections
    Refused,        // `be_refused`: its only server refuses, `retries 1`: 503
    Slow,           // `be_slow`: slower than `timeout server`: 504
    Reset,          // `/reset`: RST before the response: 502
    Garbage,        // `/garbage`: not HTTP: 502
    BadHeader,      // `/bad-header`: a header line without a colon: 502
    ResetBody,      // `/reset-body`: a 200 head, a tenth of the body, RST
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Hello => "hello",
            Kind::Size(_) => "size",
            Kind::Chunked(_) => "chunked",
            Kind::Echo(_) => "echo",
            Kind::Redispatch => "redispatch",
            Kind::Reused => "reused",
            Kind::Refused => "refused",
            Kind::Slow => "slow",
            Kind::Reset => "reset",
            Kind::Garbage => "garbage",
            Kind::BadHeader => "bad-header",
            Kind::ResetBody => "reset-body",
        }
    }
}

/// How a connection ends after its sequence; `rst`: with an RST, else a
/// FIN (then, if a request was started, the client waits for the proxy to
/// close: it must, after answering what it can).
#[derive(Clone, Copy, Debug)]
enum Ending {
    Close { rst: bool },        // after the last response (or before any byte)
    MidHead { rst: bool },      // half a request head
    MidBody { rst: bool },      // a whole head, half of its body
    AfterRequest { rst: bool }, // a whole request, before its response
    MidResponse { rst: bool },  // a few bytes of a large response
}

/// Whether a connection goes on after a request.
enum Next {
    Open,       // a clean answer: ready for the next request
    AfterFault, // the proxy's 502/503/504: it keeps the connection open too
    Over,       // the connection ended with the fault
}

/// Which per-request table a request of `fe_http` is tracked in.
#[derive(Clone, Copy)]
enum Track {
    Content, // `x-track: content`: `tcp-request content track-sc2` (`t_hcont`)
    Http,    // `http-request track-sc2` (`t_http`)
}

/// Bounds on a per-request entry's `conn_cnt`: requests that certainly
/// reached the rules (a response byte came back) and requests that may
/// have (their whole head was sent).
#[derive(Clone, Copy, Default, Debug)]
struct Bounds {
    low: u64,
    high: u64,
}

/// What one client thread did.
#[derive(Default)]
struct Made {
    http_conns: u64,                              // connections to `fe_http`
    tcp_conns: u64,                               // connections to `fe_tcp`
    requests: BTreeMap<(String, String), Bounds>, // (table, key) → bounds
    outcomes: BTreeMap<String, u64>,              // what happened, for the report
}

impl Made {
    fn saw(&mut self, what: &str) {
        *self.outcomes.entry(what.to_string()).or_default() += 1;
    }
}

/// One client thread's connection-making state.
struct Client {
    thread: usize,
    src: Ipv4Addr,
    http: u16, // `fe_http`
    tcp: u16,  // `fe_tcp`
    rng: Rng,
    made: Made,
}

/// A request head (and body) for `fe_http` or `fe_tcp`.
fn request_bytes(
    method: &str,
    path: &str,
    user: &str,
    track: Track,
    be: Option<&str>,
    body: &[u8],
) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: soak\r\nx-user: {user}\r\n");
    if let Track::Content = track {
        r.push_str("x-track: content\r\n");
    }
    if let Some(be) = be {
        r.push_str(&format!("x-be: {be}\r\n"));
    }
    if method == "POST" {
        r.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    r.push_str("\r\n");
    let mut r = r.into_bytes();
    r.extend_from_slice(body);
    r
}

/// The client address of `c`, to find a connection in the proxy's log.
fn local(c: &HttpConn) -> String {
    c.stream().local_addr().map_or_else(|e| e.to_string(), |a| a.to_string())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(300)]).into_owned()
}

impl Client {
    fn user(&mut self) -> String {
        format!("t{}-u{}", self.thread, self.rng.below(USERS))
    }

    fn track(&mut self) -> Track {
        if self.rng.below(2) == 0 { Track::Content } else { Track::Http }
    }

    /// Counts a request of `fe_http` with a whole head sent; `answered`:
    /// a response byte came back.
    fn tracked(&mut self, user: &str, track: Track, answered: bool) {
        let table = match track {
            Track::Content => "t_hcont",
            Track::Http => "t_http",
        };
        let b = self.made.requests.entry((table.to_string(), user.to_string())).or_default();
        b.high += 1;
        b.low += u64::from(answered);
    }

    fn kind(&mut self, tcp: bool) -> Kind {
        let size = 1 + self.rng.below(64 * 1024) as usize;
        let echo = 1 + self.rng.below(8 * 1024) as usize;
        let clean: &[(u64, Kind)] = &[
            (30, Kind::Hello),
            (10, Kind::Size(size)),
            (5, Kind::Chunked(size)),
            (8, Kind::Echo(echo)),
            (3, Kind::Reset),
            (2, Kind::Garbage),
            (3, Kind::ResetBody),
        ];
        if tcp {
            return self.rng.pick(clean);
        }
        let http_only: &[(u64, Kind)] = &[
            (8, Kind::Redispatch),
            (8, Kind::Reused),
            (2, Kind::Refused),
            (1, Kind::Slow),
            (2, Kind::BadHeader),
        ];
        let all: Vec<(u64, Kind)> = clean.iter().chain(http_only).copied().collect();
        self.rng.pick(&all)
    }

    /// One connection: a sequence, then an ending.
    fn connection(&mut self) {
        let tcp = self.rng.below(4) == 0;
        let port = if tcp { self.tcp } else { self.http };
        let s = connect_from(self.src, port).unwrap_or_else(|e| panic!("connect from {}: {e}", self.src));
        if tcp {
            self.made.tcp_conns += 1;
        } else {
            self.made.http_conns += 1;
        }
        let mut c = HttpConn::from_stream(s);
        let requests = self.rng.below(MAX_REQUESTS + 1);
        let mut fault_before = None; // the last fault answered on this connection
        for _ in 0..requests {
            let kind = self.kind(tcp);
            let next = if tcp { self.tcp_request(&mut c, kind) } else { self.http_request(&mut c, kind) };
            if let (Some(f), Next::Open | Next::AfterFault) = (fault_before, &next) {
                self.made.saw(&format!("answered after a {f} on the same connection"));
            }
            match next {
                Next::Open => {}
                Next::AfterFault => fault_before = Some(kind.label()),
                Next::Over => {
                    self.made.saw("connection ended by its fault");
                    return;
                }
            }
        }
        let rst = self.rng.below(2) == 0;
        let ending = self.rng.pick(&[
            (40, Ending::Close { rst }),
            (12, Ending::MidHead { rst }),
            (12, Ending::MidBody { rst }),
            (12, Ending::AfterRequest { rst }),
            (12, Ending::MidResponse { rst }),
        ]);
        self.made.saw(&format!("{} {ending:?}", if tcp { "tcp" } else { "http" }));
        self.end(c, ending, tcp);
    }

    /// One request to `fe_http` and its checked answer; whether the
    /// connection goes on.
    fn http_request(&mut self, c: &mut HttpConn, kind: Kind) -> Next {
        let (user, track) = (self.user(), self.track());
        let req = |path: &str, be: Option<&str>| request_bytes("GET", path, &user, track, be, b"");
        let slow = format!("/delay/{}", scaled(Duration::from_secs(3)).as_millis());
        let (raw, body) = match kind {
            Kind::Hello | Kind::Reset | Kind::Garbage | Kind::BadHeader | Kind::ResetBody => {
                let path = match kind {
                    Kind::Reset => "/reset",
                    Kind::Garbage => "/garbage",
                    Kind::BadHeader => "/bad-header",
                    Kind::ResetBody => "/reset-body",
                    _ => "/",
                };
                (req(path, None), Vec::new())
            }
            Kind::Size(n) => (req(&format!("/size/{n}"), None), pattern(BODY_SEED, n)),
            Kind::Chunked(n) => (req(&format!("/chunked/{n}"), None), pattern(BODY_SEED, n)),
            Kind::Echo(n) => {
                let body = pattern(self.rng.next(), n);
                (request_bytes("POST", "/echo", &user, track, None, &body), body)
            }
            Kind::Redispatch => (req("/", Some("redispatch")), Vec::new()),
            Kind::Reused => (req("/", Some("reused")), Vec::new()),
            Kind::Refused => (req("/", Some("refused")), Vec::new()),
            Kind::Slow => (req(&slow, Some("slow")), Vec::new()),
        };
        c.send(&raw).expect("send a request on an open connection");
        let label = format!("http {}", kind.label());
        let what = format!("{label} (client {})", local(c));
        if let Kind::ResetBody = kind {
            let (got, end) = c.read_until_closed(ms(CLOSE_WAIT_MS));
            assert!(got.starts_with(b"HTTP/1.1 200 "), "{what}: the head is forwarded: {}", text(&got));
            assert!(got.len() < RESET_BODY_LEN, "{what}: the body is cut ({} bytes)", got.len());
            assert!(end != Closed::StillOpen, "{what}: then the connection ends");
            self.tracked(&user, track, true);
            self.made.saw(&label);
            return Next::Over;
        }
        let r = match c.read_response(false) {
            Ok(r) => r,
            Err(e) if matches!(kind, Kind::Reused | Kind::Reset) && under_haproxy() => {
                // HAProxy 2.6 closes the client connection when a reused
                // server connection closes or resets on the request (no
                // `retry-on`); strata replays the GET on a new connection
                // (tests/http_reuse.rs).
                let (rest, end) = c.read_until_closed(ms(CLOSE_WAIT_MS));
                assert!(rest.is_empty() && end != Closed::StillOpen, "{what}: {e}");
                self.tracked(&user, track, false);
                self.made.saw(&format!("{label}: closed without an answer (HAProxy)"));
                return Next::Over;
            }
            Err(e) => panic!("{what}: no response: {e}"),
        };
        self.tracked(&user, track, true);
        let fault = match kind {
            Kind::Refused => Some(SERVICE_UNAVAILABLE_503),
            Kind::Reset | Kind::Garbage | Kind::BadHeader => Some(BAD_GATEWAY_502),
            // Unless the machine stalled for the whole delay: then the
            // server's answer may come first. Either is correct.
            Kind::Slow if r.status != 200 => Some(GATEWAY_TIMEOUT_504),
            _ => None,
        };
        if let Some(answer) = fault {
            // The connection stays open for the next request, as HAProxy's does.
            assert_eq!(text(&r.raw), text(answer), "{what}: HAProxy's answer, byte for byte");
            self.made.saw(&format!("{label}: {}", r.status));
            return Next::AfterFault;
        }
        assert_eq!(r.status, 200, "{what}: {}", r.raw_text());
        if let Kind::Slow = kind {
            self.made.saw("http slow: 200 (the machine stalled longer than the delay)");
        }
        let want: &[u8] = if body.is_empty() { b"hello" } else { &body };
        assert!(
            first_difference(&r.body, want).is_none(),
            "{what}: body differs at {:?}",
            first_difference(&r.body, want)
        );
        if let Kind::Chunked(_) = kind {
            assert!(r.chunked && r.trailer("x-trailer") == Some("done"), "{what}: chunked with its trailer");
        }
        self.made.saw(&label);
        Next::Open
    }

    /// One request tunnelled through `fe_tcp`: the server's bytes arrive
    /// as they are. Whether the connection goes on.
    fn tcp_request(&mut self, c: &mut HttpConn, kind: Kind) -> Next {
        let user = self.user();
        let req = |path: &str| request_bytes("GET", path, &user, Track::Http, None, b"");
        let label = format!("tcp {}", kind.label());
        let what = format!("{label} (client {})", local(c));
        let (raw, body) = match kind {
            Kind::Hello => (req("/"), b"hello".to_vec()),
            Kind::Size(n) => (req(&format!("/size/{n}")), pattern(BODY_SEED, n)),
            Kind::Chunked(n) => (req(&format!("/chunked/{n}")), pattern(BODY_SEED, n)),
            Kind::Echo(n) => {
                let body = pattern(self.rng.next(), n);
                (request_bytes("POST", "/echo", &user, Track::Http, None, &body), body)
            }
            Kind::Reset | Kind::Garbage | Kind::ResetBody => {
                let path = match kind {
                    Kind::Reset => "/reset",
                    Kind::Garbage => "/garbage",
                    _ => "/reset-body",
                };
                c.send(&req(path)).expect("send a request on an open connection");
                let (got, end) = c.read_until_closed(ms(CLOSE_WAIT_MS));
                assert!(end != Closed::StillOpen, "{what}: the server's close reaches the client");
                match kind {
                    Kind::Reset => assert!(got.is_empty(), "{what}: {}", text(&got)),
                    Kind::Garbage => assert_eq!(got, GARBAGE, "{what}"),
                    _ => assert!(
                        got.starts_with(b"HTTP/1.1 200 OK\r\n") && got.len() < RESET_BODY_LEN,
                        "{what}: {} bytes: {}",
                        got.len(),
                        text(&got)
                    ),
                }
                self.made.saw(&label);
                return Next::Over;
            }
            other => unreachable!("{other:?} is not a TCP-mode kind"),
        };
        let r = c.request(&raw).unwrap_or_else(|e| panic!("{what}: no response: {e}"));
        assert_eq!(r.status, 200, "{what}: {}", r.raw_text());
        assert!(
            first_difference(&r.body, &body).is_none(),
            "{what}: body differs at {:?}",
            first_difference(&r.body, &body)
        );
        self.made.saw(&label);
        Next::Open
    }

    /// Ends the connection as `ending` says. `fe_http` requests whose head
    /// went out whole are counted for the per-request tables.
    fn end(&mut self, c: HttpConn, ending: Ending, tcp: bool) {
        let (user, track) = (self.user(), self.track());
        let after_delay = format!("/delay/{}", 1 + self.rng.below(20));
        let mut c = c;
        let (rst, head_sent) = match ending {
            Ending::Close { rst } => {
                if rst {
                    c.reset();
                } else {
                    drop(c);
                }
                return;
            }
            Ending::MidHead { rst } => {
                let head = request_bytes("GET", "/", &user, track, None, b"");
                c.send(&head[..head.len() / 2]).expect("send half a head");
                (rst, false)
            }
            Ending::MidBody { rst } => {
                let body = pattern(self.rng.next(), 4096);
                let req = request_bytes("POST", "/echo", &user, track, None, &body);
                c.send(&req[..req.len() - body.len() / 2]).expect("send a head and half its body");
                (rst, true)
            }
            Ending::AfterRequest { rst } => {
                c.send(&request_bytes("GET", &after_delay, &user, track, None, b"")).expect("send a request");
                (rst, true)
            }
            Ending::MidResponse { rst } => {
                c.send(&request_bytes("GET", &format!("/size/{BIG}"), &user, track, None, b""))
                    .expect("send a request");
                let mut s = c.into_stream();
                let got = read_exact_with_timeout(&mut s, 100, ms(CLOSE_WAIT_MS));
                assert!(got.is_ok(), "the response starts: {got:?}");
                if !tcp {
                    self.tracked(&user, track, true);
                }
                if !rst {
                    // A FIN first; the close with unread data that
                    // follows is a reset anyway.
                    let _ = s.shutdown(Shutdown::Write);
                }
                reset(s);
                return;
            }
        };
        let s = c.into_stream();
        if rst {
            if head_sent && !tcp {
                self.tracked(&user, track, false);
            }
            reset(s);
            return;
        }
        // FIN: the proxy must close its side (after answering what it can).
        let _ = s.shutdown(Shutdown::Write);
        let mut s = s;
        let got = read_to_end_with_timeout(&mut s, ms(CLOSE_WAIT_MS));
        if let Err(e) = &got {
            assert!(
                e.kind() != std::io::ErrorKind::TimedOut,
                "{ending:?} (tcp: {tcp}): the proxy never closes: {e}"
            );
        }
        if head_sent && !tcp {
            let answered = got.as_ref().is_ok_and(|b| !b.is_empty());
            self.tracked(&user, track, answered);
        }
    }
}

// The run, its assertions and the tests (a child module: it sees the
// workload's private items).
#[path = "soak/run.rs"]
mod run;
