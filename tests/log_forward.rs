//! `ring` and `log-forward` sections (HAProxy 2.6), the chain of
//! HAProxy's `reg-tests/log/log_forward.vtc`: a frontend logs over UDP to
//! a `log-forward` that writes into a ring (`log ring@NAME`), the ring's
//! `server` sends its events over TCP to a second `log-forward`, which
//! sends them to a syslog receiver; each hop keeps the message's own date,
//! host, tag and pid. Also: octet-counted forwarding (`log-proto
//! octet-count`), the TCP relay's two RFC 6587 framings, `show events`
//! (the sinks, a ring's events) and the config errors. Validated with
//! `STRATA_BIN=/usr/sbin/haproxy`.
//!
//! The bug story: strata refused both sections ("section 'ring' is not
//! supported by strata yet"), so a config relaying logs through HAProxy
//! did not start.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use support::*;

fn defaults() -> String {
    format!(
        "defaults\n    mode http\n    option httplog\n    timeout connect {t}\n    timeout client {t}\n    timeout server {t}\n",
        t = cfg_time(Duration::from_secs(5))
    )
}

#[test]
fn logs_go_through_a_ring_and_two_relays_keeping_their_header() {
    let logs = LogReceiver::udp();
    let app = HttpBackend::start();
    let (fe, udp, tcp, stats) = (free_port(), free_port(), free_port(), free_port());
    let cfg = format!(
        "global\n    stats socket 127.0.0.1:{stats} level admin\n{}\
         frontend fe1\n    bind 127.0.0.1:{fe}\n    log 127.0.0.1:{udp} local0\n    default_backend be\n\
         backend be\n    server app1 127.0.0.1:{}\n\
         ring myring\n    description \"My local buffer\"\n    format rfc5424\n    maxlen 1200\n    size 32764\n\
         \x20   timeout connect 5s\n    timeout server 10s\n    server mysyslogsrv 127.0.0.1:{tcp}\n\
         log-forward syslog2tcp\n    dgram-bind 127.0.0.1:{udp}\n    log ring@myring local0\n\
         log-forward syslog2local\n    bind 127.0.0.1:{tcp}\n    log {} local0\n",
        defaults(),
        app.port(),
        logs.target(),
    );
    let p = Proxy::start(&cfg);
    let mut c = HttpConn::connect(fe);
    let r = c.request(&get("/size/10")).expect("response");
    assert_eq!(r.status, 200);
    let line = logs.expect(ms(10_000), "the relayed access log");
    // The frontend's line has no host: the first relay reads its tag as
    // the host; the rfc5424 ring keeps it; the last relay, without a
    // format, writes rfc5424 again (a host and an ISO date).
    assert!(line.starts_with("<134>1 "), "{line}");
    let pid = format!("[{}]: - - - - ", p.pid());
    assert!(line.contains(&pid), "the sender's pid survives every hop: {line}");
    assert!(line.trim_end().ends_with("\"GET /size/10 HTTP/1.1\""), "{line}");

    let list = cli(stats, "show events");
    assert!(
        list.starts_with("Supported events sinks are listed below. Add -w(wait), -n(new). Any key to stop\n")
    );
    assert!(list.contains("    buf0       : type=buffer, 0 dropped, in-memory ring buffer\n"), "{list}");
    assert!(list.contains("    myring     : type=buffer, 0 dropped, My local buffer\n"), "{list}");
    let events = cli(stats, "show events myring");
    let first = events.lines().next().unwrap_or_default();
    assert!(first.starts_with("<134>1 ") && first.contains("GET /size/10"), "{events}");
    assert_eq!(cli(stats, "show events myring -n"), "\n");
    assert_eq!(cli(stats, "show events nosuch"), "No such event sink\n");
    assert_eq!(cli(stats, "show events stdout"), "Nothing to report for this sink\n");
    assert_eq!(cli(stats, "show events myring -x"), "unknown option\n");
    assert!(cli(stats, "show info").contains("\nCumRecvLogs: 2\n"), "two messages relayed (UDP, then TCP)");
}

/// A TCP server that collects everything its first client sends.
fn collector() -> (u16, std::sync::mpsc::Receiver<Vec<u8>>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = l.accept() else { return };
        let mut buf = [0u8; 4096];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                return;
            }
        }
    });
    (port, rx)
}

#[test]
fn a_ring_server_with_octet_counting_gets_length_prefixed_events() {
    let (port, rx) = collector();
    let (fe, stats) = (free_port(), free_port());
    let cfg = format!(
        "global\n    stats socket 127.0.0.1:{stats} level admin\n{}\
         frontend fe1\n    bind 127.0.0.1:{fe}\n    log ring@r local0\n    http-request return status 200\n\
         ring r\n    format rfc3164\n    server s 127.0.0.1:{port} log-proto octet-count\n",
        defaults(),
    );
    let _p = Proxy::start(&cfg);
    let mut c = HttpConn::connect(fe);
    assert_eq!(c.request(&get("/oc")).expect("response").status, 200);
    let mut got = Vec::new();
    wait_until(ms(10_000), || {
        while let Ok(b) = rx.try_recv() {
            got.extend(b);
        }
        got.ends_with(b"\"GET /oc HTTP/1.1\"")
    });
    let text = String::from_utf8_lossy(&got).to_string();
    let (len, event) = text.split_once(' ').unwrap_or_else(|| panic!("an octet-counted frame: {text:?}"));
    assert_eq!(len.parse::<usize>().ok(), Some(event.len()), "{text:?}");
    assert!(event.starts_with("<134>") && event.contains(" localhost "), "rfc3164 with its host: {event:?}");
    assert!(event.ends_with("\"GET /oc HTTP/1.1\""), "{event:?}");
}

#[test]
fn the_tcp_relay_reads_both_rfc_6587_framings() {
    let logs = LogReceiver::udp();
    let tcp = free_port();
    let cfg = format!(
        "{}log-forward lf\n    bind 127.0.0.1:{tcp}\n    log {} format rfc3164 local0\n    timeout client 5s\n",
        defaults(),
        logs.target(),
    );
    let _p = Proxy::start(&cfg);
    let mut s = TcpStream::connect(("127.0.0.1", tcp)).expect("connect");
    let msg = "<13>Dec  7 07:18:29 h1 app[7]: octet counted";
    s.write_all(format!("<29>Dec  7 07:18:29 h1 app[7]: by line\r\n{} {msg}", msg.len()).as_bytes())
        .expect("send");
    let a = logs.expect(ms(5000), "the line-framed message");
    let b = logs.expect(ms(5000), "the octet-counted message");
    assert_eq!(a, "<29>Dec  7 07:18:29 h1 app[7]: by line\n");
    assert_eq!(b, format!("{msg}\n"));
}

#[test]
fn ring_and_log_forward_errors_name_the_line() {
    let bad = [
        ("ring r\n    colour red\n", "unknown statement 'colour'"),
        ("ring r\n    format bogus\n", "unknown format 'bogus'"),
        ("ring r\nring r\n", "sink named 'r' already exists"),
        (
            "log-forward lf\n    dgram-bind 127.0.0.1:1\n    bogus 1\n",
            "unknown keyword 'bogus' in log-forward section",
        ),
    ];
    for (body, want) in bad {
        let (code, _, err) = Proxy::check(&format!("{}{body}", defaults()));
        assert_eq!(code, 1, "{body}: {err}");
        assert!(err.contains("[ALERT]") && err.contains(want), "{body}: {err}");
    }
    // An unknown ring: HAProxy finds it only when starting (`-c` passes);
    // strata refuses it at `-c` too, with HAProxy's words.
    let body =
        format!("{}frontend f\n    bind 127.0.0.1:{}\n    log ring@nosuch local0\n", defaults(), free_port());
    let want = "log server declared in proxy section 'f' in file";
    if under_haproxy() {
        let (code, _, err) = Proxy::run_once(&["-db", "-f", "cfg"], &[], &[("cfg", &body)]);
        assert!(code != 0 && err.contains(want) && err.contains("uses unknown ring named 'nosuch'"), "{err}");
    } else {
        let (code, _, err) = Proxy::check(&body);
        assert!(code == 1 && err.contains(want) && err.contains("uses unknown ring named 'nosuch'"), "{err}");
    }
}
