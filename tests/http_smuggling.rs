//! HTTP mode, malformed and ambiguous requests (request smuggling vectors):
//! each must be refused with HAProxy's raw 400, the connection closed, and
//! nothing of it may reach the server.
//!
//! strata is deliberately stricter than HAProxy 2.6, which repairs some of
//! these (merges identical Content-Lengths, unfolds obs-fold, accepts a
//! missing Host, drops Content-Length next to Transfer-Encoding, ...). The
//! `haproxy` column of [`cases`] records what HAProxy 2.6.12 does with each
//! (the same 400, accepts and forwards, or another answer: 422 for
//! `gzip, chunked`). Under `STRATA_BIN=haproxy` the cases it rejects are
//! asserted exactly like for strata, and the others are checked against
//! the column (HAProxy forwards exactly one request / answers that status),
//! so the column stays true.
//!
//! Two levels of error:
//! - [`Level::Head`]: the request head itself is bad. Asserted: exactly the
//!   raw 400, then the connection closed, and the server received **no
//!   byte at all**.
//! - [`Level::Body`]: the head is fine, the chunked body is not. strata
//!   checks the body bytes that arrive together with the head before it
//!   forwards anything (`l5_session/mux/h1.rs`), so a request sent whole —
//!   as here — is refused like a bad head. (Body bytes arriving later are
//!   checked while they are forwarded; the server may then hold the head.)
//!   Asserted as for a bad head: exactly the raw 400, the connection
//!   closed, and no byte at the server.

mod support;

use support::http_answers::BAD_REQUEST_400;
use support::*;

/// Where the request is broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Head, // refused before anything is forwarded
    Body, // chunked body framing: the head may have been forwarded
}

/// What HAProxy 2.6.12 was observed to do with a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HaProxy {
    Rejects,      // the same raw 400 and close as strata
    Accepts,      // repairs or tolerates it and forwards a request
    Answers(u16), // refuses it with another status, forwarding nothing
}

/// One row of the table.
struct Case {
    name: &'static str,
    level: Level,
    haproxy: HaProxy, // observed with HAProxy 2.6.12
    raw: Vec<u8>,     // the request as sent
}

fn case(name: &'static str, level: Level, haproxy: HaProxy, raw: &[u8]) -> Case {
    Case { name, level, haproxy, raw: raw.to_vec() }
}

/// The table.
fn cases() -> Vec<Case> {
    use HaProxy::*;
    use Level::*;
    let long_line = format!("GET /{} HTTP/1.1\r\nHost: test\r\n\r\n", "a".repeat(17 * 1024));
    let many_headers = {
        let mut r = String::from("GET / HTTP/1.1\r\nHost: test\r\n");
        for i in 0..200 {
            r.push_str(&format!("X-H{i}: v\r\n"));
        }
        r + "\r\n"
    };
    vec![
        case(
            "Content-Length then Transfer-Encoding",
            Head,
            Accepts,
            b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ),
        case(
            "Transfer-Encoding then Content-Length",
            Head,
            Accepts,
            b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
        ),
        case(
            "two different Content-Lengths",
            Head,
            Rejects,
            b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        ),
        case(
            "two identical Content-Lengths",
            Head,
            Accepts,
            b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        ),
        case("Content-Length: 3, 3", Head, Accepts, b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 3, 3\r\n\r\nabc"),
        case("Content-Length: +3", Head, Rejects, b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: +3\r\n\r\nabc"),
        case("Content-Length: -1", Head, Rejects, b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: -1\r\n\r\n"),
        case("Content-Length: abc", Head, Rejects, b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: abc\r\n\r\n"),
        case(
            "Transfer-Encoding: chunked, identity",
            Head,
            Rejects,
            b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
        ),
        case(
            "Transfer-Encoding: xchunked",
            Head,
            Rejects,
            b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
        ),
        case(
            "Transfer-Encoding: gzip, chunked",
            Head,
            Answers(422),
            b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        ),
        case(
            "Transfer-Encoding in HTTP/1.0",
            Head,
            Accepts,
            b"POST / HTTP/1.0\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ),
        case("obs-fold", Head, Accepts, b"GET / HTTP/1.1\r\nHost: test\r\nX-Folded: a\r\n b\r\n\r\n"),
        case("whitespace before the colon", Head, Rejects, b"GET / HTTP/1.1\r\nHost: test\r\nX-Spaced : a\r\n\r\n"),
        case("NUL in a header value", Head, Accepts, b"GET / HTTP/1.1\r\nHost: test\r\nX-Nul: a\0b\r\n\r\n"),
        case("bare CR in a header value", Head, Rejects, b"GET / HTTP/1.1\r\nHost: test\r\nX-Cr: a\rb\r\n\r\n"),
        case("HTTP/1.1 without Host", Head, Accepts, b"GET / HTTP/1.1\r\n\r\n"),
        case("two Host headers", Head, Rejects, b"GET / HTTP/1.1\r\nHost: test\r\nHost: other\r\n\r\n"),
        case(
            "absolute-form URI with a different Host",
            Head,
            Rejects,
            b"GET http://other.example/ HTTP/1.1\r\nHost: test\r\n\r\n",
        ),
        case("invalid character in the method", Head, Rejects, b"G(ET / HTTP/1.1\r\nHost: test\r\n\r\n"),
        case("version HTTP/2.0", Head, Accepts, b"GET / HTTP/2.0\r\nHost: test\r\n\r\n"),
        case("version FTP/1.1", Head, Rejects, b"GET / FTP/1.1\r\nHost: test\r\n\r\n"),
        case("space in the URI", Head, Rejects, b"GET /a b HTTP/1.1\r\nHost: test\r\n\r\n"),
        case("request line longer than the 16 KiB buffer", Head, Rejects, long_line.as_bytes()),
        case("200 headers", Head, Rejects, many_headers.as_bytes()),
        case(
            "non-hex chunk size",
            Body,
            Rejects,
            b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        ),
        case(
            "chunk size overflow",
            Body,
            Rejects,
            b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\nhello\r\n0\r\n\r\n",
        ),
        case(
            "no CRLF after chunk data",
            Body,
            Rejects,
            b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
        ),
    ]
}

/// What one case produced.
struct Outcome {
    got: Vec<u8>,           // everything the client received
    end: Closed,            // how its connection ended
    server_bytes: u64,      // bytes the server read during the case
    server_requests: usize, // complete requests the server received during the case
}

impl Outcome {
    fn describe(&self) -> String {
        format!(
            "client got {:?}, then {:?}; server read {} bytes, {} complete requests",
            String::from_utf8_lossy(&self.got[..self.got.len().min(120)]),
            self.end,
            self.server_bytes,
            self.server_requests
        )
    }
}

/// Every case on its own client connection, through one proxy and one
/// server. A refusal comes at once; a case HAProxy accepts leaves the
/// connection open, so under HAProxy those are given less time.
fn run_all(cases: &[Case]) -> Vec<Outcome> {
    let haproxy = under_haproxy();
    let backend = HttpBackend::start();
    let port = free_port();
    let _proxy = Proxy::start(&HttpCfg::new(port, Some(backend.port())).render());
    cases
        .iter()
        .map(|c| {
            let (bytes0, reqs0) = (backend.bytes_received(), backend.requests().len());
            let mut conn = HttpConn::connect(port);
            let _ = conn.send(&c.raw); // the proxy may close before reading it all
            let accepted = haproxy && c.haproxy == HaProxy::Accepts;
            let (got, end) = conn.read_until_closed(ms(if accepted { 500 } else { 3_000 }));
            std::thread::sleep(ms(100)); // let anything forwarded reach the server
            Outcome {
                got,
                end,
                server_bytes: backend.bytes_received() - bytes0,
                server_requests: backend.requests().len() - reqs0,
            }
        })
        .collect()
}

/// Why `o` does not show the request refused as strata must refuse it; `None` if it does.
fn refusal_problem(o: &Outcome) -> Option<String> {
    let closed = matches!(o.end, Closed::Eof(_) | Closed::Reset(_));
    // Both levels: a request sent whole is refused before anything is forwarded.
    let ok = o.got == BAD_REQUEST_400 && closed && o.server_bytes == 0 && o.server_requests == 0;
    (!ok).then(|| o.describe())
}

/// Why `o` contradicts the table's `haproxy` column for `c`; `None` if it
/// matches (only meaningful under `STRATA_BIN=haproxy`).
fn haproxy_column_problem(c: &Case, o: &Outcome) -> Option<String> {
    let ok = match c.haproxy {
        HaProxy::Rejects => return refusal_problem(o),
        HaProxy::Accepts => o.server_requests == 1 && !o.got.starts_with(b"HTTP/1.1 4"),
        HaProxy::Answers(code) => {
            o.got.starts_with(format!("HTTP/1.1 {code} ").as_bytes()) && o.server_bytes == 0
        }
    };
    (!ok).then(|| format!("table says HAProxy {:?}, but: {}", c.haproxy, o.describe()))
}

#[test]
fn malformed_requests_get_haproxys_400_and_never_reach_the_server() {
    let cases = cases();
    assert!(cases.len() >= 25);
    let outcomes = run_all(&cases);
    let haproxy = under_haproxy();
    let failures: Vec<String> = cases
        .iter()
        .zip(&outcomes)
        .filter_map(|(c, o)| {
            // Under HAProxy, check the column instead: strata is stricter.
            let problem = if haproxy { haproxy_column_problem(c, o) } else { refusal_problem(o) };
            problem.map(|p| format!("{} ({:?} level): {p}", c.name, c.level))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
