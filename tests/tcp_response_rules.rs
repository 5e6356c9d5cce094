//! `tcp-response inspect-delay` and `tcp-response content` rules, as
//! HAProxy 2.6 runs them in a backend: the server's response is held while
//! a rule reads bytes that have not come yet (`res.len`, `res.payload`),
//! the client's bytes flow meanwhile; `reject` drops the response and the
//! client connection, `close` ends the server connection but delivers what
//! it sent; in HTTP mode the rules run on the response before the
//! `http-response` rules, and `last_rule_file`/`last_rule_line` name the
//! final rule in the log. strata first refused every `tcp-response` line
//! ("not supported yet"), so HAProxy's regtests log/last_rule and
//! converter/mqtt could not start.
//!
//! Validated against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::syslog::LogReceiver;
use support::{Backend, Proxy, cfg_time, free_port, ms};

fn tcp_cfg(fe: u16, be_port: u16, rules: &str) -> String {
    format!(
        "defaults\n    mode tcp\n    timeout connect {}\n    timeout client {}\n    timeout server {}\n\
         frontend fe\n    bind 127.0.0.1:{fe}\n    default_backend be\n\
         backend be\n    server s1 127.0.0.1:{be_port}\n{rules}",
        cfg_time(ms(1000)),
        cfg_time(ms(8000)),
        cfg_time(ms(8000)),
    )
}

/// A server that reads one line from the client, then sends the parts
/// the line names, 200 ms apart: `a|b|c` sends `a`, `b`, `c`; a trailing
/// `.` closes after the last part, else the connection stays open.
fn scripted_server() -> Backend {
    Backend::spawn(|s| {
        let mut r = BufReader::new(s.try_clone().expect("clone"));
        let mut line = String::new();
        if r.read_line(&mut line).is_err() {
            return;
        }
        let line = line.trim_end();
        let (line, close) = match line.strip_suffix('.') {
            Some(l) => (l, true),
            None => (line, false),
        };
        let mut w = s;
        for (i, part) in line.split('|').enumerate() {
            if i > 0 {
                std::thread::sleep(Duration::from_millis(200));
            }
            if w.write_all(part.as_bytes()).is_err() {
                return;
            }
        }
        if close {
            let _ = w.shutdown(std::net::Shutdown::Write);
        }
    })
}

/// Sends `line`, then reads what comes until the close (or `within`).
fn exchange(port: u16, line: &str, within: Duration) -> (Vec<u8>, Duration) {
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(within)).expect("timeout");
    let start = Instant::now();
    c.write_all(format!("{line}\n").as_bytes()).expect("send");
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    (out, start.elapsed())
}

#[test]
fn a_rule_waits_for_the_bytes_it_reads_then_lets_the_response_through() {
    let srv = scripted_server();
    let fe = free_port();
    let rules = format!(
        "    tcp-response inspect-delay {}\n    tcp-response content accept if {{ res.len ge 6 }}\n    \
         tcp-response content reject\n",
        cfg_time(ms(4000))
    );
    let _p = Proxy::start(&tcp_cfg(fe, srv.port(), &rules));
    // Three bytes, then three more: the accept waited for them.
    let (got, _) = exchange(fe, "abc|def|ghi.", ms(6000));
    assert_eq!(got, b"abcdefghi", "held until res.len reached 6, then everything forwarded");
    // Three bytes and the server's close: no more can come, so the last
    // pass runs with 3 and the reject drops them.
    let (got, _) = exchange(fe, "abc.", ms(6000));
    assert_eq!(got, b"", "rejected: nothing of the response reaches the client");
}

#[test]
fn res_payload_is_matched_and_the_delay_ends_the_wait() {
    let srv = scripted_server();
    let fe = free_port();
    let rules = format!(
        "    tcp-response inspect-delay {}\n    \
         tcp-response content reject unless {{ res.payload(0,3) -m bin 4f4b21 }}\n",
        cfg_time(ms(600))
    );
    let _p = Proxy::start(&tcp_cfg(fe, srv.port(), &rules));
    let (got, _) = exchange(fe, "OK!rest.", ms(6000));
    assert_eq!(got, b"OK!rest", "the payload matched");
    let (got, _) = exchange(fe, "NO!rest.", ms(6000));
    assert_eq!(got, b"", "the payload did not match: rejected");
    // Two bytes and the server silent: the rule cannot be judged before
    // the delay ends; then it is judged on what came (no match: reject).
    let (got, took) = exchange(fe, "OK", ms(6000));
    assert_eq!(got, b"", "judged at the end of the delay on the two bytes");
    assert!(took >= ms(500), "the response waited for the inspect delay ({took:?})");
}

#[test]
fn close_ends_the_server_connection_but_delivers_what_it_sent() {
    let srv = scripted_server();
    let fe = free_port();
    let rules = format!(
        "    tcp-response inspect-delay {}\n    \
         tcp-response content close if {{ res.payload(0,3) -m str BYE }}\n",
        cfg_time(ms(2000))
    );
    let _p = Proxy::start(&tcp_cfg(fe, srv.port(), &rules));
    // The server keeps its connection open; the rule closes it.
    let (got, took) = exchange(fe, "BYE now", ms(6000));
    assert_eq!(got, b"BYE now", "what the server sent reaches the client");
    assert!(took < ms(4000), "the client's connection ended with the server's ({took:?})");
}

#[test]
fn http_mode_rules_run_before_http_response_rules_and_name_the_last_rule() {
    let logs = LogReceiver::udp();
    let srv = Backend::spawn(|s| {
        let mut r = BufReader::new(s.try_clone().expect("clone"));
        let mut w = s;
        loop {
            let mut first = String::new();
            if r.read_line(&mut first).unwrap_or(0) == 0 {
                return;
            }
            let mut l = String::new();
            while r.read_line(&mut l).unwrap_or(0) > 2 {
                l.clear();
            }
            let status = if first.contains("/bad") { "500 Internal Server Error" } else { "200 OK" };
            let res = format!("HTTP/1.1 {status}\r\ncontent-length: 2\r\n\r\nok");
            if w.write_all(res.as_bytes()).is_err() {
                return;
            }
        }
    });
    let fe = free_port();
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect {}\n    timeout client {}\n    timeout server {}\n\
         frontend fe\n    bind 127.0.0.1:{fe}\n    log {} local0\n    \
         log-format \"lr=%[last_rule_file]:%[last_rule_line] path=%HP\"\n    default_backend be\n\
         backend be\n    server s1 127.0.0.1:{}\n    tcp-response inspect-delay {}\n    \
         tcp-response content set-var(txn.seen) str(yes)\n    \
         tcp-response content reject if {{ status 500 }}\n    \
         http-response set-header x-seen %[var(txn.seen)]\n",
        cfg_time(ms(1000)),
        cfg_time(ms(5000)),
        cfg_time(ms(5000)),
        logs.target(),
        srv.port(),
        cfg_time(ms(5000)),
    );
    let p = Proxy::start(&cfg);
    let mut c = TcpStream::connect(("127.0.0.1", fe)).expect("connect");
    c.set_read_timeout(Some(ms(5000))).expect("timeout");
    c.write_all(b"GET /good HTTP/1.1\r\nhost: x\r\n\r\n").expect("send");
    let mut buf = [0u8; 4096];
    let n = c.read(&mut buf).expect("response");
    let res = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
    assert!(res.starts_with("http/1.1 200"), "{res}");
    assert!(res.contains("x-seen: yes"), "the tcp-response variable reached http-response: {res}");
    let line = logs.expect(ms(5000), "log line of /good");
    assert!(line.contains("lr=-:- path=/good"), "no final rule fired: {line}");
    // A 500: rejected by the tcp-response rule, no answer, closed.
    c.write_all(b"GET /bad HTTP/1.1\r\nhost: x\r\n\r\n").expect("send");
    let mut rest = Vec::new();
    let _ = c.read_to_end(&mut rest);
    assert_eq!(rest, b"", "rejected: the client gets nothing");
    let line = logs.expect(ms(5000), "log line of /bad");
    let cfg_file = p.dir().join("proxy.cfg");
    let want = format!("lr={}:", cfg_file.display());
    assert!(line.contains(&want) && line.contains(" path=/bad"), "want {want}: {line}");
}

#[test]
fn tcp_response_lines_are_checked_as_haproxy_checks_them() {
    let head =
        "defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n";
    let (code, _, err) = Proxy::check(&format!(
        "{head}frontend fe\n    bind 127.0.0.1:{}\n    tcp-response content accept\n    default_backend be\n\
         backend be\n    server s 127.0.0.1:1\n",
        free_port()
    ));
    assert_ne!(code, 0, "a frontend has no tcp-response rules");
    assert!(err.contains("tcp-response content is only allowed in 'backend' sections"), "{err}");
    let (code, _, err) =
        Proxy::check(&format!("{head}backend be\n    server s 127.0.0.1:1\n    tcp-response content foo\n"));
    assert_ne!(code, 0, "unknown action");
    assert!(err.contains("'tcp-response content' expects 'accept', 'close', 'reject'"), "{err}");
    assert!(err.contains("(got 'foo')"), "{err}");
    let (code, _, err) = Proxy::check(&format!(
        "{head}backend be\n    server s 127.0.0.1:1\n    tcp-response connection accept\n"
    ));
    assert_ne!(code, 0, "no connection rule set on the response side");
    assert!(err.contains("'tcp-response' expects 'inspect-delay' or 'content'"), "{err}");
    let (code, _, err) = Proxy::check(&format!(
        "{head}frontend fe\n    bind 127.0.0.1:{}\n    default_backend be\n\
         backend be\n    server s 127.0.0.1:1\n    tcp-response inspect-delay 2s\n    \
         tcp-response content accept if {{ res.len gt 0 }}\n    tcp-response content close\n",
        free_port()
    ));
    assert_eq!(code, 0, "{err}");
}
