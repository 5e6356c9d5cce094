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
//! the column (HAProxy forwards exactly one request / answers that status /
//! closes silently), so the column stays true.
//!
//! A few rows are not refusals for strata either (the `strata` field):
//! an empty `Host` in HTTP/1.1 is valid (RFC 9112 §3.2) and forwarded as
//! is; a chunked body cut by the client's FIN is truncated, not ambiguous,
//! and is aborted silently as HAProxy does. A head cut by a FIN gets the
//! raw 400, as in HAProxy.
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
    Closes,       // closes without an answer; the server may read part of it, never all
}

/// What strata does with a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Strata {
    Rejects,                // the raw 400, close, no byte at the server
    Forwards(&'static str), // exactly one request reaches the server, with this `Host` value
    Aborts,                 // closes without an answer; the server may have read part of it, never all
}

/// One row of the table.
struct Case {
    name: &'static str,
    level: Level,
    haproxy: HaProxy, // observed with HAProxy 2.6.12
    strata: Strata,   // what strata must do
    raw: Vec<u8>,     // the request as sent
    half_close: bool, // the client shuts its side down after sending `raw`
}

fn case(name: &'static str, level: Level, haproxy: HaProxy, raw: &[u8]) -> Case {
    Case { name, level, haproxy, strata: Strata::Rejects, raw: raw.to_vec(), half_close: false }
}

impl Case {
    /// strata accepts this one too (it is valid HTTP).
    fn forwarded_with_host(mut self, host: &'static str) -> Case {
        self.strata = Strata::Forwards(host);
        self
    }

    /// The client half-closes after sending: an incomplete request, then FIN.
    fn then_half_close(mut self) -> Case {
        self.half_close = true;
        self
    }

    /// strata forwarded the head already and aborts the request silently.
    fn aborted(mut self) -> Case {
        self.strata = Strata::Aborts;
        self
    }

    /// The binary under test is expected to forward this request.
    fn accepted_here(&self, haproxy: bool) -> bool {
        if haproxy { self.haproxy == HaProxy::Accepts } else { matches!(self.strata, Strata::Forwards(_)) }
    }
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
        // Added with the backend-faults work: the remaining classic vectors.
        case("Content-Length: 5, 6", Head, Rejects, b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 5, 6\r\n\r\nhello!"),
        case("Content-Length: 5,5 (no space)", Head, Accepts, b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 5,5\r\n\r\nhello"),
        case(
            "Content-Length: 0 then Transfer-Encoding in HTTP/1.0",
            Head,
            Accepts,
            b"POST / HTTP/1.0\r\nHost: test\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ),
        case(
            "Transfer-Encoding: identity, chunked",
            Head,
            Answers(422),
            b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n",
        ),
        case(
            "Transfer-Encoding: chunked, chunked",
            Head,
            Rejects,
            b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
        ),
        case(
            "two Transfer-Encoding: chunked headers",
            Head,
            Rejects,
            b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ),
        case(
            "chunk size of 17 hex digits",
            Body,
            Rejects,
            b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n",
        ),
        // Not ambiguous, truncated: the head is valid and strata streams it
        // to the server before the body ends; the FIN then aborts the
        // request (`CD`) and the server connection is closed on it, so the
        // server never completes it. HAProxy does the same (or, when it
        // reads the FIN together with the head, never connects).
        case(
            "last chunk without its final CRLF, then close",
            Body,
            Closes,
            b"POST / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n",
        )
        .then_half_close()
        .aborted(),
        case("head without its empty line, then close", Head, Rejects, b"GET / HTTP/1.1\r\nHost: test\r\n")
            .then_half_close(),
        case("NUL in a header name", Head, Rejects, b"GET / HTTP/1.1\r\nHost: test\r\nX-N\0ul: a\r\n\r\n"),
        case("CR in a header name", Head, Rejects, b"GET / HTTP/1.1\r\nHost: test\r\nX-C\rr: a\r\n\r\n"),
        case("LF in a header name", Head, Rejects, b"GET / HTTP/1.1\r\nHost: test\r\nX-L\nf: a\r\n\r\n"),
        case("NUL in the URI", Head, Rejects, b"GET /a\0b HTTP/1.1\r\nHost: test\r\n\r\n"),
        case("control character in the URI", Head, Rejects, b"GET /a\x01b HTTP/1.1\r\nHost: test\r\n\r\n"),
        case("DEL in the URI", Head, Accepts, b"GET /a\x7fb HTTP/1.1\r\nHost: test\r\n\r\n"),
        case("version HTTP/1.2", Head, Accepts, b"GET / HTTP/1.2\r\nHost: test\r\n\r\n"),
        case("version HTTP/1", Head, Rejects, b"GET / HTTP/1\r\nHost: test\r\n\r\n"),
        case("no version (HTTP/0.9 form)", Head, Rejects, b"GET /\r\nHost: test\r\n\r\n"),
        case("empty Host in HTTP/1.1", Head, Accepts, b"GET / HTTP/1.1\r\nHost:\r\n\r\n").forwarded_with_host(""),
    ]
}

/// What one case produced.
struct Outcome {
    got: Vec<u8>,             // everything the client received
    end: Closed,              // how its connection ended
    server_bytes: u64,        // bytes the server read during the case
    forwarded: Vec<Received>, // complete requests the server received during the case
    server_incomplete: usize, // requests the server saw cut by a close during the case
}

impl Outcome {
    fn describe(&self) -> String {
        format!(
            "client got {:?}, then {:?}; server read {} bytes, {} complete requests {:?}, {} cut",
            String::from_utf8_lossy(&self.got[..self.got.len().min(120)]),
            self.end,
            self.server_bytes,
            self.forwarded.len(),
            self.forwarded.iter().map(|r| (&r.method, &r.target, &r.headers)).collect::<Vec<_>>(),
            self.server_incomplete
        )
    }
}

/// Every case on its own client connection, through one proxy and one
/// server. A refusal comes at once and ends with a close; a case the
/// binary under test accepts is read as one response (the connection
/// stays open for the next request).
fn run_all(cases: &[Case]) -> Vec<Outcome> {
    let haproxy = under_haproxy();
    let backend = HttpBackend::start();
    let port = free_port();
    let _proxy = Proxy::start(&HttpCfg::new(port, Some(backend.port())).render());
    cases
        .iter()
        .map(|c| {
            let (bytes0, reqs0, inc0) =
                (backend.bytes_received(), backend.requests().len(), backend.incomplete());
            let mut conn = HttpConn::connect(port);
            let _ = conn.send(&c.raw); // the proxy may close before reading it all
            if c.half_close {
                let _ = shutdown_write(conn.stream());
            }
            let (got, end) = if c.accepted_here(haproxy) {
                match conn.read_response_within(false, ms(3_000)) {
                    Ok(r) => (r.raw, Closed::StillOpen),
                    Err(e) => (format!("no response: {e}").into_bytes(), Closed::StillOpen),
                }
            } else {
                let (got, end) = conn.read_until_closed(ms(3_000));
                std::thread::sleep(ms(100)); // let anything forwarded by mistake reach the server
                if c.half_close && backend.bytes_received() > bytes0 {
                    // The server must see its connection end mid-request.
                    wait_until(ms(3_000), || backend.incomplete() > inc0);
                }
                (got, end)
            };
            Outcome {
                got,
                end,
                server_bytes: backend.bytes_received() - bytes0,
                forwarded: backend.requests()[reqs0..].to_vec(),
                server_incomplete: backend.incomplete() - inc0,
            }
        })
        .collect()
}

/// Why `o` does not show the request refused as strata must refuse it; `None` if it does.
fn refusal_problem(o: &Outcome) -> Option<String> {
    let closed = matches!(o.end, Closed::Eof(_) | Closed::Reset(_));
    // Both levels: a request sent whole is refused before anything is forwarded.
    let ok = o.got == BAD_REQUEST_400 && closed && o.server_bytes == 0 && o.forwarded.is_empty();
    (!ok).then(|| o.describe())
}

/// Why `o` does not show a silent close with the request never complete at
/// the server (its connection cut if it read anything); `None` if it does.
fn aborted_problem(o: &Outcome) -> Option<String> {
    let closed = matches!(o.end, Closed::Eof(_) | Closed::Reset(_));
    let cut = o.server_bytes == 0 || o.server_incomplete == 1;
    let ok = o.got.is_empty() && closed && o.forwarded.is_empty() && cut;
    (!ok).then(|| format!("must close silently, the server never completing it: {}", o.describe()))
}

/// Why `o` does not show `c` handled as strata must handle it; `None` if it does.
fn strata_problem(c: &Case, o: &Outcome) -> Option<String> {
    match c.strata {
        Strata::Rejects => refusal_problem(o),
        Strata::Forwards(host) => {
            let ok = o.got.starts_with(b"HTTP/1.1 200 ")
                && o.forwarded.len() == 1
                && o.forwarded[0].header("host") == Some(host);
            (!ok).then(|| format!("must forward one request with Host {host:?}: {}", o.describe()))
        }
        Strata::Aborts => aborted_problem(o),
    }
}

/// Why `o` contradicts the table's `haproxy` column for `c`; `None` if it
/// matches (only meaningful under `STRATA_BIN=haproxy`).
fn haproxy_column_problem(c: &Case, o: &Outcome) -> Option<String> {
    let ok = match c.haproxy {
        HaProxy::Rejects => return refusal_problem(o),
        // The answer is the server's (a 404 for a path it does not know).
        HaProxy::Accepts => {
            o.forwarded.len() == 1 && o.got.starts_with(b"HTTP/1.1 ") && o.got != BAD_REQUEST_400
        }
        HaProxy::Answers(code) => {
            o.got.starts_with(format!("HTTP/1.1 {code} ").as_bytes()) && o.server_bytes == 0
        }
        HaProxy::Closes => return aborted_problem(o),
    };
    (!ok).then(|| format!("table says HAProxy {:?}, but: {}", c.haproxy, o.describe()))
}

#[test]
fn malformed_requests_get_haproxys_400_and_never_reach_the_server() {
    let cases = cases();
    assert!(cases.len() >= 40);
    let outcomes = run_all(&cases);
    let haproxy = under_haproxy();
    let failures: Vec<String> = cases
        .iter()
        .zip(&outcomes)
        .filter_map(|(c, o)| {
            // Under HAProxy, check the column instead: strata is stricter.
            let problem = if haproxy { haproxy_column_problem(c, o) } else { strata_problem(c, o) };
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
