//! Where log lines go and when: `log` targets in `global` used through
//! `log global` (syslog over UDP and over a unix datagram socket), each
//! framing HAProxy 2.6 writes (default, `rfc3164`, `rfc5424`, `short`,
//! `raw`), PRI from facility and level, level filtering; TCP mode
//! (`option tcplog` field by field, `Connect from` without it);
//! `option dontlognull` in TCP and HTTP mode; one line per stream, written
//! when that stream ends.
//!
//! The test is the syslog server: a datagram socket it bound, one datagram
//! per line. Every expectation was checked against HAProxy 2.6
//! (`STRATA_BIN=/usr/sbin/haproxy`); only the program tag differs
//! (`haproxy` / `strata`), so the tag is matched loosely.

mod support;

use std::io::Write;
use std::time::Duration;

use support::*;

/// Generous bound for a line that must come.
fn arrive() -> Duration {
    ms(5_000)
}

/// How long a line that must not come is given to show up anyway, after
/// a line sent later (or at the same time) has arrived.
fn grace() -> Duration {
    ms(300)
}

/// The program tag: HAProxy's or strata's name.
fn assert_tag(f: &Framed, proxy: &Proxy) {
    assert!(["haproxy", "strata"].contains(&f.tag.as_str()), "tag {:?}", f.tag);
    assert_eq!(f.pid, Some(proxy.pid()), "pid in the header");
}

/// `unframe` or panic with the line.
fn framed(line: &str, framing: Framing) -> Framed {
    unframe(line, framing).unwrap_or_else(|e| panic!("{framing:?} line {line:?}: {e}"))
}

// ---------------------------------------------------------------- framing

#[test]
fn global_targets_frame_one_datagram_per_request_as_haproxy_does() {
    let backend = HttpBackend::start();
    let port = free_port();
    let legacy = LogReceiver::udp();
    let rfc3164 = LogReceiver::udp();
    let rfc5424 = LogReceiver::udp();
    let short = LogReceiver::udp();
    let raw = LogReceiver::udp();
    let notice = LogReceiver::udp();
    let debug = LogReceiver::udp();
    let cfg = HttpCfg::new(port, Some(backend.port()))
        .global(&format!("log {} local0", legacy.target()))
        .global(&format!("log udp@{} format rfc3164 local0 info", rfc3164.target()))
        .global(&format!("log {} format rfc5424 local0", rfc5424.target()))
        .global(&format!("log {} format short local1 info", short.target()))
        .global(&format!("log {} format raw local0", raw.target()))
        .global(&format!("log {} local0 notice", notice.target()))
        .global(&format!("log {} local2 debug debug", debug.target()))
        .defaults("log global")
        .defaults("option httplog");
    let proxy = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    let client_port = c.stream().local_addr().expect("local addr").port();
    let r = c.request(&get("/size/10")).expect("response");
    assert_eq!(r.status, 200);

    let msg = framed(&raw.expect(arrive(), "raw target"), Framing::Raw).msg;
    assert!(msg.starts_with(&format!("127.0.0.1:{client_port} [")), "{msg:?}");
    assert!(msg.ends_with(" \"GET /size/10 HTTP/1.1\""), "{msg:?}");

    // local0.info = 16 * 8 + 6
    let f = framed(&legacy.expect(arrive(), "default-format target"), Framing::Legacy);
    assert_eq!((f.pri, f.msg.as_str()), (Some(134), msg.as_str()));
    assert_tag(&f, &proxy);

    let f = framed(&rfc3164.expect(arrive(), "rfc3164 target"), Framing::Rfc3164);
    assert_eq!((f.pri, f.msg.as_str()), (Some(134), msg.as_str()));
    assert_tag(&f, &proxy);

    let f = framed(&rfc5424.expect(arrive(), "rfc5424 target"), Framing::Rfc5424);
    assert_eq!((f.pri, f.msg.as_str()), (Some(134), msg.as_str()));
    assert_tag(&f, &proxy);

    // `short` carries the level only, not the facility.
    let f = framed(&short.expect(arrive(), "short target"), Framing::Short);
    assert_eq!((f.pri, f.msg.as_str()), (Some(6), msg.as_str()));

    // `debug debug`: the minimum level raises info to debug: local2.debug = 18 * 8 + 7.
    let f = framed(&debug.expect(arrive(), "debug/debug target"), Framing::Legacy);
    assert_eq!((f.pri, f.msg.as_str()), (Some(151), msg.as_str()));

    // Level notice drops the info-level access log.
    assert_eq!(notice.drain_for(grace()), Vec::<String>::new(), "notice target gets no info line");
    for (name, r) in [("legacy", &legacy), ("rfc3164", &rfc3164), ("rfc5424", &rfc5424), ("raw", &raw)] {
        assert_eq!(r.drain_for(grace()), Vec::<String>::new(), "{name}: one datagram only");
    }
}

#[test]
fn unix_datagram_target_receives_the_line() {
    let log = LogReceiver::unix();
    let backend = Backend::echo();
    let (port, proxy) =
        tcp_proxy(&[&format!("log {} local0", log.target())], &["option tcplog"], backend.port());
    let mut c = connect(port);
    let client_port = c.local_addr().expect("local addr").port();
    c.write_all(b"hello").expect("send");
    assert_eq!(read_exact_with_timeout(&mut c, 5, arrive()).expect("echo"), b"hello");
    drop(c);
    let f = framed(&log.expect(arrive(), "unix socket target"), Framing::Legacy);
    assert_eq!(f.pri, Some(134));
    assert_tag(&f, &proxy);
    assert!(f.msg.starts_with(&format!("127.0.0.1:{client_port} [")), "{:?}", f.msg);
    assert_eq!(log.drain_for(grace()), Vec::<String>::new(), "one line per connection");
}

// ---------------------------------------------------------------- TCP mode

/// A TCP-mode proxy `fe` → `be`/`s1` on `server_port`: `global` holds
/// `global_lines`, `defaults` holds `log global` and the timeouts, `fe`
/// holds `fe_lines`. Returns the frontend port and the running proxy.
fn tcp_proxy(global_lines: &[&str], fe_lines: &[&str], server_port: u16) -> (u16, Proxy) {
    let port = free_port();
    let mut cfg = String::from("global\n    maxconn 100\n");
    for l in global_lines {
        cfg.push_str(&format!("    {l}\n"));
    }
    cfg.push_str(&format!(
        "defaults\n    mode tcp\n    log global\n    timeout connect {}\n    timeout client {}\n    timeout server {}\n",
        cfg_time(Duration::from_secs(1)),
        cfg_time(Duration::from_secs(5)),
        cfg_time(Duration::from_secs(5)),
    ));
    cfg.push_str(&format!("frontend fe\n    bind 127.0.0.1:{port}\n    default_backend be\n"));
    for l in fe_lines {
        cfg.push_str(&format!("    {l}\n"));
    }
    cfg.push_str(&format!("backend be\n    server s1 127.0.0.1:{server_port}\n"));
    (port, Proxy::start(&cfg))
}

/// One `option tcplog` line (the date's shape checked, not kept):
/// `127.0.0.1:PORT [DD/Mon/YYYY:HH:MM:SS.mmm] fe be/s1 Tw/Tc/Tt BYTES -- 1/1/1/1/0 0/0`.
#[derive(Debug)]
struct TcpLogLine {
    client: String,   // `127.0.0.1:PORT`
    frontend: String, // `fe`
    backend: String,  // `be`
    server: String,   // `s1`
    timers: [i64; 3], // Tw/Tc/Tt, -1 for a phase that never happened
    bytes: u64,       // bytes sent to the client
    term: String,     // two characters, `--`
    conns: [u64; 5],  // actconn/feconn/beconn/srv_conn/retries
    queues: [u64; 2], // srv_queue/backend_queue
}

fn parse_tcplog(line: &str) -> Result<TcpLogLine, String> {
    let f: Vec<&str> = line.split(' ').collect();
    if f.len() != 9 {
        return Err(format!("{} space-separated fields, not 9", f.len()));
    }
    let date = f[1].strip_prefix('[').and_then(|d| d.strip_suffix(']')).ok_or("date not in brackets")?;
    let log_date_ok = date.len() == 24 && date.as_bytes()[2] == b'/' && date.as_bytes()[20] == b'.';
    if !log_date_ok {
        return Err(format!("date {date:?}"));
    }
    let (backend, server) = f[3].split_once('/').ok_or("backend/server")?;
    if f[6].len() != 2 {
        return Err(format!("termination state {:?}", f[6]));
    }
    Ok(TcpLogLine {
        client: f[0].to_string(),
        frontend: f[2].to_string(),
        backend: backend.to_string(),
        server: server.to_string(),
        timers: numbers::<i64, 3>(f[4], "timers")?,
        bytes: f[5].parse().map_err(|_| format!("bytes {:?}", f[5]))?,
        term: f[6].to_string(),
        conns: numbers::<u64, 5>(f[7], "connection counts")?,
        queues: numbers::<u64, 2>(f[8], "queues")?,
    })
}

/// `N` numbers separated by `/`.
fn numbers<T: std::str::FromStr + Copy + Default, const N: usize>(
    s: &str,
    what: &str,
) -> Result<[T; N], String> {
    let parts: Vec<&str> = s.split('/').collect();
    if parts.len() != N {
        return Err(format!("{what} {s:?}: {} parts, not {N}", parts.len()));
    }
    let mut out = [T::default(); N];
    for (o, p) in out.iter_mut().zip(parts) {
        *o = p.parse().map_err(|_| format!("{what} {s:?}: {p:?} is not a number"))?;
    }
    Ok(out)
}

/// The message of a raw-format datagram, parsed as a tcplog line.
fn tcplog(datagram: &str) -> TcpLogLine {
    let msg = framed(datagram, Framing::Raw).msg;
    parse_tcplog(&msg).unwrap_or_else(|e| panic!("tcplog line {msg:?}: {e}"))
}

#[test]
fn tcplog_line_is_written_when_the_connection_ends_field_by_field() {
    let log = LogReceiver::udp();
    let backend = Backend::echo();
    let (port, _proxy) =
        tcp_proxy(&[&format!("log {} format raw local0", log.target())], &["option tcplog"], backend.port());
    let mut c = connect(port);
    let client_port = c.local_addr().expect("local addr").port();
    c.write_all(b"hello world").expect("send");
    assert_eq!(read_exact_with_timeout(&mut c, 11, arrive()).expect("echo"), b"hello world");
    assert_eq!(log.drain_for(grace()), Vec::<String>::new(), "nothing logged while the connection lives");
    drop(c);
    let l = tcplog(&log.expect(arrive(), "tcplog line after the close"));
    assert_eq!(l.client, format!("127.0.0.1:{client_port}"));
    assert_eq!((l.frontend.as_str(), l.backend.as_str(), l.server.as_str()), ("fe", "be", "s1"));
    assert!(l.timers[0] >= 0 && l.timers[1] >= 0, "queued and connected: {:?}", l.timers);
    assert!(l.timers[2] >= l.timers[1], "Tt covers Tc: {:?}", l.timers);
    assert_eq!(l.bytes, 11, "bytes sent to the client");
    assert_eq!(l.term, "--", "normal end");
    assert!(l.conns[0] >= 1 && l.conns[1] >= 1, "this connection counts: {:?}", l.conns);
    assert!(l.conns[2] <= 1 && l.conns[3] <= 1, "at most this connection at be/s1: {:?}", l.conns);
    assert_eq!(l.conns[4], 0, "no retries");
    assert_eq!(l.queues, [0, 0]);
    assert_eq!(log.drain_for(grace()), Vec::<String>::new(), "one line per connection");
}

#[test]
fn tcplog_refused_server_logs_sc_and_no_connect_time() {
    let log = LogReceiver::udp();
    let (port, _proxy) =
        tcp_proxy(&[&format!("log {} format raw local0", log.target())], &["option tcplog"], closed_port());
    let mut c = connect(port);
    let _ = read_to_end_with_timeout(&mut c, arrive());
    let l = tcplog(&log.expect(arrive(), "tcplog line for a refused server"));
    assert_eq!((l.backend.as_str(), l.server.as_str()), ("be", "s1"));
    assert_eq!(l.timers[1], -1, "never connected: {:?}", l.timers);
    assert_eq!(l.bytes, 0);
    assert_eq!(l.term, "SC");
    assert_eq!(l.conns[4], 3, "the default 3 retries");
}

#[test]
fn without_tcplog_each_connection_logs_connect_from() {
    let log = LogReceiver::udp();
    let backend = Backend::echo();
    let (port, _proxy) =
        tcp_proxy(&[&format!("log {} format raw local0", log.target())], &[], backend.port());
    let c = connect(port);
    let client_port = c.local_addr().expect("local addr").port();
    let msg = framed(&log.expect(arrive(), "Connect from line"), Framing::Raw).msg;
    assert_eq!(msg, format!("Connect from 127.0.0.1:{client_port} to 127.0.0.1:{port} (fe/TCP)"));
    drop(c);
    assert_eq!(log.drain_for(grace()), Vec::<String>::new(), "nothing more at the close");
}

// ---------------------------------------------------------------- dontlognull

/// Open a connection that sends nothing and close it, then one that sends
/// `data` (reading `answer` bytes back). Lines received until the second
/// connection's line and a grace period after it, and the second client port.
fn null_then_data(port: u16, log: &LogReceiver, data: &[u8], answer: usize) -> (Vec<String>, u16) {
    let null = connect(port);
    drop(null);
    let mut c = connect(port);
    let client_port = c.local_addr().expect("local addr").port();
    c.write_all(data).expect("send");
    read_exact_with_timeout(&mut c, answer, arrive()).expect("answer");
    drop(c);
    let marker = format!("127.0.0.1:{client_port} [");
    let mut lines = Vec::new();
    while !lines.iter().any(|l: &String| l.starts_with(&marker)) {
        lines.push(log.expect(arrive(), "the data connection's line"));
    }
    lines.extend(log.drain_for(grace()));
    (lines, client_port)
}

#[test]
fn dontlognull_skips_an_empty_tcp_connection() {
    for dontlognull in [true, false] {
        let log = LogReceiver::udp();
        let backend = Backend::echo();
        let mut fe = vec!["option tcplog"];
        if dontlognull {
            fe.push("option dontlognull");
        }
        let (port, _proxy) =
            tcp_proxy(&[&format!("log {} format raw local0", log.target())], &fe, backend.port());
        let (lines, client_port) = null_then_data(port, &log, b"ping", 4);
        let data_line =
            lines.iter().find(|l| l.starts_with(&format!("127.0.0.1:{client_port} "))).expect("line");
        assert_eq!(tcplog(data_line).bytes, 4);
        if dontlognull {
            assert_eq!(lines.len(), 1, "only the data connection is logged: {lines:#?}");
        } else {
            // The control: the empty connection is logged otherwise (0 bytes, normal end).
            assert_eq!(lines.len(), 2, "both connections are logged: {lines:#?}");
            let null =
                lines.iter().map(|l| tcplog(l)).find(|l| l.client != format!("127.0.0.1:{client_port}"));
            let null = null.expect("the empty connection's line");
            assert_eq!((null.bytes, null.term.as_str()), (0, "--"));
        }
    }
}

#[test]
fn dontlognull_skips_an_empty_http_connection() {
    for dontlognull in [true, false] {
        let log = LogReceiver::udp();
        let backend = HttpBackend::start();
        let port = free_port();
        let mut cfg = HttpCfg::new(port, Some(backend.port()))
            .global(&format!("log {} format raw local0", log.target()))
            .defaults("log global")
            .defaults("option httplog");
        if dontlognull {
            cfg = cfg.defaults("option dontlognull");
        }
        let _proxy = Proxy::start(&cfg.render());
        let request = request("GET", "/size/3", &["Connection: close"], b"");
        let answer = {
            // The whole response: head plus a 3-byte body, read by length below.
            let mut c = connect(port);
            c.write_all(&request).expect("send");
            read_to_end_with_timeout(&mut c, arrive()).expect("response then close").len()
        };
        // That first exchange was logged too: take its line out.
        assert!(log.expect(arrive(), "first request").ends_with("\"GET /size/3 HTTP/1.1\"\n"));
        let (lines, client_port) = null_then_data(port, &log, &request, answer);
        let mine = format!("127.0.0.1:{client_port} [");
        assert!(lines.iter().any(|l| l.starts_with(&mine) && l.ends_with("\"GET /size/3 HTTP/1.1\"\n")));
        if dontlognull {
            assert_eq!(lines.len(), 1, "only the request is logged: {lines:#?}");
        } else {
            // The control: HAProxy logs the empty connection as a client-closed bad request.
            assert_eq!(lines.len(), 2, "both connections are logged: {lines:#?}");
            let null = lines.iter().find(|l| !l.starts_with(&mine)).expect("the empty connection's line");
            assert!(null.contains(" 400 0 - - CR-- ") && null.ends_with("\"<BADREQ>\"\n"), "{null:?}");
        }
    }
}

// ---------------------------------------------------------------- one line per stream

#[test]
fn keep_alive_requests_log_one_line_each_when_each_ends() {
    let log = LogReceiver::udp();
    let backend = HttpBackend::start();
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(backend.port()))
        .global(&format!("log {} format raw local0", log.target()))
        .defaults("log global")
        .defaults("option httplog");
    let _proxy = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    let client_port = c.stream().local_addr().expect("local addr").port();
    for i in 0..5 {
        let path = format!("/size/{}", 10 + i);
        assert_eq!(c.request(&get(&path)).expect("response").status, 200);
        // Logged while the connection is still open, before the next request.
        let line = log.expect(arrive(), &format!("line of request {i}"));
        assert!(line.starts_with(&format!("127.0.0.1:{client_port} [")), "{line:?}");
        assert!(line.ends_with(&format!(" \"GET {path} HTTP/1.1\"\n")), "request {i}: {line:?}");
        assert!(line.contains(" fe be/s1 ") && line.contains(" 200 "), "{line:?}");
    }
    drop(c);
    assert_eq!(log.drain_for(grace()), Vec::<String>::new(), "no line for the connection itself");
}

#[test]
fn http_mode_without_httplog_logs_connect_from_per_request() {
    let log = LogReceiver::udp();
    let backend = HttpBackend::start();
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(backend.port()))
        .global(&format!("log {} format raw local0", log.target()))
        .defaults("log global");
    let _proxy = Proxy::start(&cfg.render());
    // An empty connection: no request, no line.
    drop(connect(port));
    let mut c = HttpConn::connect(port);
    let client_port = c.stream().local_addr().expect("local addr").port();
    let expected = format!("Connect from 127.0.0.1:{client_port} to 127.0.0.1:{port} (fe/HTTP)\n");
    for i in 0..2 {
        assert_eq!(c.request(&get("/size/3")).expect("response").status, 200);
        let line = log.expect(arrive(), &format!("line of request {i}"));
        assert_eq!(framed(&line, Framing::Raw).msg + "\n", expected, "request {i}");
    }
    drop(c);
    assert_eq!(
        log.drain_for(grace()),
        Vec::<String>::new(),
        "one line per request, none for the empty connection"
    );
}
