//! Health checks under faults: server `b` flaps on one port between
//! serving, refusing connections (nothing listens), stalling at connect
//! (a listen socket whose accept queue is full: SYNs are dropped) and
//! accepting but never answering (an HTTP check gets no status line).
//! Each fault takes `b` DOWN after `fall` failed checks with HAProxy's
//! check status (`L4CON`, `L4TOUT`, `L7TOUT`), `chkdown` counting the
//! transitions and `show servers state` showing it stopped; once DOWN,
//! load balancing never picks it (`lbtot` stays put) and every request
//! goes to `a`; `rise` passed checks bring it back. Every `status` shown
//! on the way is one of HAProxy's (`UP 1/2` going down, `DOWN 1/2` coming
//! up).
//!
//! The bug story: a check that waits forever on a server that accepted and
//! went silent (no `timeout check`, or a connect never timed out) leaves
//! the server UP forever, and every request sent to it is lost; a refused
//! connect that is not retried elsewhere loses requests that `retries` +
//! `option redispatch` could have saved. And the counters must say what
//! happened: strata once counted an immediate redispatch as a retry
//! (`wretr`) of the backend and credited `wredis` to the server the stream
//! ended on, where HAProxy counts `wredis` on the server left.
//!
//! A client sends a steady stream of `GET /` on fresh connections while
//! `b` flaps, and every one of them must get a 200: a refused or timed-out
//! connect is redispatched to `a`. How many requests meet `b` while it is
//! failing but still UP depends on timing; what is asserted holds for any
//! number: each pick of `b` was answered by `b` or redispatched. The one
//! fault no proxy can hide — a request already sent to a server that
//! accepted it and never answers — is why the stream pauses while the
//! silent `b` is still UP (those requests could only end in a 504;
//! `retry-on` is not in scope).
//!
//! The test changes `b`'s mode between two requests of the stream, never
//! during one: a listener closed with a request in flight would lose that
//! request through the test's own doing. Checks run every 100 ms (scaled);
//! no assertion depends on how fast anything is: each phase polls `show
//! stat` under a generous deadline. Validated against HAProxy 2.6
//! (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use support::*;

/// How long a phase may take to show its effect: a safety net.
const PHASE_MS: u64 = 30_000;
/// Requests sent once `b` is DOWN, all of which must go to `a`.
const DRAINED: usize = 20;
/// `fall` of `b`'s check: each DOWN follows at least this many counted failures.
const FALL: u64 = 2;

/// What listens (or not) on `b`'s port.
enum Mode {
    /// Answers everything, `X-Server: b`.
    Serving { _server: HttpBackend },
    /// Nothing listens: connects are refused.
    Refusing,
    /// Listen backlog 0, and the one connection its accept queue holds.
    Stalled { _listener: socket2::Socket, _filler: Option<TcpStream> },
    /// Accepts, reads, never writes a byte.
    Silent { _server: Backend },
}

/// Server `b`: one port, changing modes.
struct Flapper {
    port: u16,
    mode: Mode,
}

impl Flapper {
    fn serving() -> Flapper {
        let b = HttpBackend::named("b");
        Flapper { port: b.port(), mode: Mode::Serving { _server: b } }
    }

    /// Drops the current mode first: its listener closes before the next binds.
    fn set(&mut self, next: impl FnOnce(u16) -> Mode) {
        self.mode = Mode::Refusing;
        self.mode = next(self.port);
    }

    fn serve(&mut self) {
        self.set(|port| Mode::Serving { _server: HttpBackend::named_on("b", port) });
    }

    fn refuse(&mut self) {
        self.set(|_| Mode::Refusing);
    }

    /// A listen socket with backlog 0 holding one connection it never
    /// accepts: Linux's accept queue is then full and further SYNs are
    /// dropped, so a connect neither succeeds nor fails until its timeout.
    fn stall(&mut self) {
        self.set(|port| {
            use socket2::{Domain, Socket, Type};
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            let l = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
            l.set_reuse_address(true).expect("SO_REUSEADDR");
            l.bind(&addr.into()).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
            l.listen(0).expect("listen");
            // A health check may have taken the one place first: then this
            // connect times out, and the queue is full all the same.
            let filler = TcpStream::connect_timeout(&addr, ms(1_000)).ok();
            Mode::Stalled { _listener: l, _filler: filler }
        });
    }

    fn go_silent(&mut self) {
        self.set(|port| {
            let server = Backend::spawn_closing_on(port, |mut s| {
                let _ = std::io::copy(&mut s, &mut std::io::sink());
            });
            Mode::Silent { _server: server }
        });
    }
}

/// The proxy: `be` balances `a` and `b` round robin, `retries 3` with
/// `option redispatch`, `timeout connect 200ms`, `timeout check 300ms`,
/// both servers checked every 100ms with `rise 2 fall 2`; `be_lines` are
/// added to `be`.
fn start(a: &HttpBackend, b: &Flapper, be_lines: &[&str]) -> (Proxy, u16, u16) {
    let (port, stats) = (free_port(), free_port());
    let check = |name: &str, p: u16| {
        format!(
            "server {name} 127.0.0.1:{p} check inter {} rise 2 fall {FALL}",
            cfg_time(Duration::from_millis(100))
        )
    };
    let mut cfg = HttpCfg::new(port, None)
        .global(&format!("stats socket ipv4@127.0.0.1:{stats} level admin"))
        .global(&format!("stats timeout {}", cfg_time(Duration::from_secs(30))))
        .backend("balance roundrobin")
        .backend("retries 3")
        .backend("option redispatch")
        .backend(&format!("timeout connect {}", cfg_time(Duration::from_millis(200))))
        .backend(&format!("timeout check {}", cfg_time(Duration::from_millis(300))));
    for l in be_lines {
        cfg = cfg.backend(l);
    }
    let cfg = cfg.backend(&check("a", a.port())).backend(&check("b", b.port));
    (Proxy::start(&cfg.render()), port, stats)
}

/// The client's steady stream of requests, and what answered each.
struct Stream {
    port: u16,                            // the frontend
    stats: u16,                           // the stats socket
    answers: Vec<(&'static str, String)>, // (phase, `a`/`b` for a 200, else what came)
    phase: &'static str,
    statuses: Vec<String>, // every `status` of be/b seen while polling, in order, repeats removed
}

impl Stream {
    /// One `GET /` on a fresh connection: the `X-Server` of a 200, else
    /// `status N` or the error.
    fn request(&mut self) -> String {
        let who = match HttpConn::connect(self.port).request(&get("/")) {
            Ok(r) if r.status == 200 => r.header("x-server").unwrap_or("200 without X-Server").to_string(),
            Ok(r) => format!("status {}", r.status),
            Err(e) => format!("error {e}"),
        };
        self.answers.push((self.phase, who.clone()));
        who
    }

    /// Requests, one after another, until `show stat` shows `be/b` with
    /// every field of `want`; that reply. Panics past the deadline.
    fn until_b_shows(&mut self, want: &[(&str, &str)]) -> Stat {
        let deadline = Instant::now() + ms(PHASE_MS);
        loop {
            self.request();
            let s = show_stat(self.stats, "");
            let status = s.get("be", "b", "status");
            if self.statuses.last().is_none_or(|l| l != status) {
                self.statuses.push(status.to_string());
            }
            let off = s.mismatches("be", "b", want);
            if off.is_empty() {
                return s;
            }
            assert!(Instant::now() < deadline, "{}: be/b never showed {want:?}: {off:?}", self.phase);
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Requests until one is answered by `who`.
    fn until_served_by(&mut self, who: &str) {
        let deadline = Instant::now() + ms(PHASE_MS);
        while self.request() != who {
            assert!(Instant::now() < deadline, "{}: {who} never answered", self.phase);
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `DRAINED` more requests while `b` is DOWN: who answered them, and
    /// how many times load balancing picked `b` meanwhile.
    fn while_down(&mut self) -> (Vec<String>, u64) {
        let lbtot = |s: &Stat| s.get("be", "b", "lbtot").parse::<u64>().expect("lbtot");
        let before = lbtot(&show_stat(self.stats, ""));
        let who = (0..DRAINED).map(|_| self.request()).collect();
        let after = show_stat(self.stats, "");
        assert_eq!(after.get("be", "b", "status"), "DOWN", "{}: b stayed DOWN meanwhile", self.phase);
        (who, lbtot(&after) - before)
    }

    /// Every answer that was not a 200 from a server.
    fn lost(&self) -> Vec<&(&'static str, String)> {
        self.answers.iter().filter(|(_, w)| w != "a" && w != "b").collect()
    }
}

/// `show servers state be`: (srv_op_state, srv_check_health) of `b`.
fn b_state(stats: u16) -> (String, String) {
    let reply = cli(stats, "show servers state be");
    let line = reply
        .lines()
        .map(|l| l.split(' ').collect::<Vec<_>>())
        .find(|f| f.len() > 12 && f[3] == "b")
        .unwrap_or_else(|| panic!("no line for b in {reply:?}"));
    (line[5].to_string(), line[12].to_string())
}

/// What one DOWN phase showed.
struct Down {
    check_status: String, // `check_status` once DOWN
    chkdown: u64,         // `chkdown` once DOWN
    op_state: String,     // `show servers state` srv_op_state once DOWN (0: stopped)
    drained: Vec<String>, // who answered the DRAINED requests then
    b_picked: u64,        // times load balancing picked b meanwhile
}

impl Stream {
    /// Waits for `b` DOWN with `check_status` (requests keep flowing if
    /// `stream`), then checks the drain.
    fn down(&mut self, phase: &'static str, check_status: &str, stream: bool) -> Down {
        self.phase = phase;
        let want = [("status", "DOWN"), ("check_status", check_status)];
        let s =
            if stream { self.until_b_shows(&want) } else { expect_stat(self.stats, "be", "b", &want, phase) };
        let chkdown = s.get("be", "b", "chkdown").parse().expect("chkdown");
        let (op_state, _) = b_state(self.stats);
        let (drained, b_picked) = self.while_down();
        Down {
            check_status: s.get("be", "b", "check_status").to_string(),
            chkdown,
            op_state,
            drained,
            b_picked,
        }
    }

    /// Waits for `b` UP again, then for a request answered by it.
    fn up(&mut self, phase: &'static str, check_status: &str) -> String {
        self.phase = phase;
        self.until_b_shows(&[("status", "UP"), ("check_status", check_status)]);
        self.until_served_by("b");
        b_state(self.stats).0
    }
}

fn assert_down(d: &Down, status: &str, downs: u64) {
    assert_eq!(d.check_status, status);
    assert_eq!(d.chkdown, downs, "chkdown counts every UP→DOWN transition");
    assert_eq!(d.op_state, "0", "show servers state: b stopped");
    assert!(d.drained.iter().all(|w| w == "a"), "while b is DOWN only a answers: {:?}", d.drained);
    assert_eq!(d.b_picked, 0, "load balancing never picks b while it is DOWN");
}

/// The whole stream: every request got a 200 from a server.
fn assert_nothing_lost(s: &Stream) {
    let lost = s.lost();
    assert!(lost.is_empty(), "{} of {} requests not answered 200: {lost:?}", lost.len(), s.answers.len());
}

/// Where the stream's requests went, from `show stat` once it is over.
#[derive(Debug)]
struct Picks {
    b_lbtot: u64,    // times load balancing picked b
    b_answered: u64, // requests b answered
    b_wredis: u64,   // redispatches away from b
    be_wredis: u64,  // redispatches in the backend
    wretr: u64,      // retries on b plus retries in the backend (same server)
}

fn picks(s: &Stream) -> Picks {
    let st = show_stat(s.stats, "");
    let n = |sv: &str, f: &str| st.get("be", sv, f).parse::<u64>().unwrap_or_else(|_| panic!("{sv} {f}"));
    Picks {
        b_lbtot: n("b", "lbtot"),
        b_answered: s.answers.iter().filter(|(_, w)| w == "b").count() as u64,
        b_wredis: n("b", "wredis"),
        be_wredis: n("BACKEND", "wredis"),
        wretr: n("b", "wretr") + n("BACKEND", "wretr"),
    }
}

/// Every time load balancing picked `b`, either `b` answered or the
/// request was redispatched to `a` at once (`a` is UP and the algorithm
/// is round robin: no retry on `b` first, no `wretr`), counted as
/// HAProxy counts it: `wredis` on the server left and on the backend.
fn assert_every_pick_of_b_answered_or_redispatched(s: &Stream) {
    let p = picks(s);
    eprintln!("{p:?}");
    assert_eq!(p.b_lbtot, p.b_answered + p.b_wredis, "b's picks: answered or redispatched: {p:?}");
    assert_eq!(p.be_wredis, p.b_wredis, "every redispatch left b: {p:?}");
    assert_eq!(p.wretr, 0, "a redispatch is not a retry: {p:?}");
}

/// Every `status` seen is one of HAProxy's texts for rise 2, fall 2:
/// `UP 1/2` is a server UP with one failed check (or none run yet),
/// `DOWN 1/2` one DOWN with one passed check.
fn assert_statuses_as_haproxy(s: &Stream) {
    let known = ["UP", "UP 1/2", "DOWN", "DOWN 1/2"];
    let odd: Vec<&String> = s.statuses.iter().filter(|st| !known.contains(&st.as_str())).collect();
    assert!(odd.is_empty(), "statuses {odd:?} among {:?}", s.statuses);
}

fn chkfail(stats: u16) -> u64 {
    show_stat(stats, "").get("be", "b", "chkfail").parse().expect("chkfail")
}

/// TCP checks: `b` refuses (`L4CON`), serves, stalls at connect
/// (`L4TOUT`, through `timeout connect`), serves again. The client's
/// stream runs the whole time and loses nothing.
#[test]
fn tcp_checks_follow_a_server_that_refuses_then_stalls() {
    let a = HttpBackend::named("a");
    let mut b = Flapper::serving();
    let (_proxy, port, stats) = start(&a, &b, &[]);
    let mut s = Stream { port, stats, answers: Vec::new(), phase: "start", statuses: Vec::new() };
    assert_eq!(s.up("start", "L4OK"), "2", "b running at first");
    s.until_served_by("a");

    b.refuse();
    let refused = s.down("refusing", "L4CON", true);
    assert_down(&refused, "L4CON", 1);

    b.serve();
    assert_eq!(s.up("serving again", "L4OK"), "2", "b running again");

    b.stall();
    let stalled = s.down("stalled at connect", "L4TOUT", true);
    assert_down(&stalled, "L4TOUT", 2);

    b.serve();
    assert_eq!(s.up("serving at last", "L4OK"), "2", "b running again");
    assert!(chkfail(stats) >= 2 * FALL, "chkfail counts at least `fall` failures per DOWN");
    assert_nothing_lost(&s);
    assert_every_pick_of_b_answered_or_redispatched(&s);
    assert_statuses_as_haproxy(&s);
}

/// HTTP checks (`option httpchk GET /health`): `b` accepts and never
/// answers, the check ends at `timeout check` (`L7TOUT`) and `b` goes
/// DOWN; it refuses (`L4CON`) then serves again. The stream pauses only
/// while the silent `b` is still UP (see the file's head).
#[test]
fn http_checks_follow_a_server_that_accepts_and_never_answers() {
    let a = HttpBackend::named("a");
    let mut b = Flapper::serving();
    let (_proxy, port, stats) =
        start(&a, &b, &["option httpchk GET /health", "http-check expect status 200"]);
    let mut s = Stream { port, stats, answers: Vec::new(), phase: "start", statuses: Vec::new() };
    assert_eq!(s.up("start", "L7OK"), "2", "b running at first");

    b.go_silent();
    let silent = s.down("silent", "L7TOUT", false);
    assert_down(&silent, "L7TOUT", 1);

    b.serve();
    assert_eq!(s.up("serving again", "L7OK"), "2", "b running again");

    b.refuse();
    let refused = s.down("refusing", "L4CON", true);
    assert_down(&refused, "L4CON", 2);

    b.serve();
    assert_eq!(s.up("serving at last", "L7OK"), "2", "b running again");
    assert!(chkfail(stats) >= 2 * FALL, "chkfail counts at least `fall` failures per DOWN");
    assert_nothing_lost(&s);
    assert_every_pick_of_b_answered_or_redispatched(&s);
    assert_statuses_as_haproxy(&s);
}
