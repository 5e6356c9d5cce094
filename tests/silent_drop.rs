//! `silent-drop` in every `tcp-request` rule set (`connection`, `session`,
//! `content`, in TCP and HTTP mode), as HAProxy 2.6 does it: the client's
//! connection is closed without a word to the client (no FIN, no RST: the
//! socket goes into TCP repair mode first, which needs CAP_NET_ADMIN; the
//! tests run as root, as CI does). The client learns of it only when it
//! sends again (the host then answers with a reset, having no socket).
//! The frontend counts each drop as a denied request (`dreq`), not as a
//! denied connection or session; the stick counters tracked before the
//! drop are released (`conn_cur` back to 0), and a connection dropped
//! before its session does not count a session.
//!
//! Checked against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy cargo test
//! --test silent_drop`).

mod support;

use std::io::Write;
use std::net::{Ipv4Addr, TcpStream};
use support::*;

const A1: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const A2: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const A3: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);
const A4: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 4);
const A5: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 5);
/// The table's `expire 60s`: `exp=` counts down from it.
const EXP: Exp = Exp::Within(60_000);

/// Once the proxy has dropped `s` (its `dreq` reached `dreq`, no session
/// left), the client has heard nothing: no FIN, no reset, no data. Its
/// next bytes find no socket and draw a reset from the host.
fn dropped_unheard(stats: u16, fe: &str, s: &mut TcpStream, dreq: u32, label: &str) {
    let dreq = dreq.to_string();
    expect_stat(stats, fe, "FRONTEND", &[("dreq", &dreq), ("scur", "0")], label);
    let heard = expect_closed_within(s, ms(300));
    assert_eq!(heard, Closed::StillOpen, "{label}: the client must hear nothing of the drop");
    let _ = s.write_all(b"anyone there?\n");
    let later = expect_closed_within(s, ms(5_000));
    assert!(
        matches!(later, Closed::Reset(_)),
        "{label}: a write after the drop draws a reset, got {later:?}"
    );
}

fn connect_ok(src: Ipv4Addr, port: u16) -> TcpStream {
    connect_from(src, port).unwrap_or_else(|e| panic!("connect from {src}: {e}"))
}

/// TCP mode, each rule set in turn: a connection from .2 dropped by a
/// connection rule, one from .3 by a session rule, one from .1 by a
/// content rule on its first bytes; a .1 connection that does not match
/// is served in between. Counters: three `dreq`; the `reject`s beside
/// them (from .4 and .5) count one `dcon` and one `dses`.
#[test]
fn tcp_mode_connection_session_and_content_drops() {
    let echo = Backend::echo();
    let (fe, stats) = (free_port(), free_port());
    let cfg = format!(
        "{head}\
frontend fe
    bind 127.0.0.1:{fe}
    stick-table type ip size 10 expire 60s store conn_cur,conn_cnt,sess_cnt
    tcp-request connection track-sc0 src
    tcp-request connection silent-drop if {{ src 127.0.0.2 }}
    tcp-request connection reject if {{ src 127.0.0.4 }}
    tcp-request session silent-drop if {{ src 127.0.0.3 }}
    tcp-request session reject if {{ src 127.0.0.5 }}
    tcp-request inspect-delay {delay}
    tcp-request content silent-drop if {{ req.payload(0,4) -m str DROP }}
    tcp-request content accept if {{ req.len ge 4 }}
    default_backend be
backend be
    server s1 127.0.0.1:{port}
",
        head = scenario_head(stats, Some("tcp")),
        delay = cfg_time(std::time::Duration::from_secs(5)),
        port = echo.port(),
    );
    let _proxy = Proxy::start(&cfg);

    let mut served = connect_ok(A1, fe);
    let back = round_trip(&mut served, b"PING", ms(5_000)).expect("PING echoed");
    assert_eq!(back, b"PING");
    drop(served);

    let mut c = connect_ok(A2, fe);
    dropped_unheard(stats, "fe", &mut c, 1, "connection rule");
    let mut c = connect_ok(A3, fe);
    dropped_unheard(stats, "fe", &mut c, 2, "session rule");
    let mut c = connect_ok(A1, fe);
    c.write_all(b"DROP").expect("send DROP");
    dropped_unheard(stats, "fe", &mut c, 3, "content rule");

    let spec = [("dcon", "0"), ("dses", "0"), ("conn_tot", "4"), ("stot", "2")];
    expect_stat(stats, "fe", "FRONTEND", &spec, "after the three drops");
    for src in [A4, A5] {
        let how = expect_refused_from(src, fe, ms(5_000));
        assert!(matches!(how, Closed::Eof(_) | Closed::Reset(_)), "reject from {src}: closed, got {how:?}");
    }
    let spec = [("dreq", "3"), ("dcon", "1"), ("dses", "1"), ("conn_tot", "6"), ("stot", "2")];
    expect_stat(stats, "fe", "FRONTEND", &spec, "after the two rejects");
    let label = "after the drops";
    expect_entry(stats, "fe", "127.0.0.1", "use=0 conn_cur=0 conn_cnt=2 sess_cnt=2", EXP, label);
    expect_entry(stats, "fe", "127.0.0.2", "use=0 conn_cur=0 conn_cnt=1 sess_cnt=0", EXP, label);
    expect_entry(stats, "fe", "127.0.0.3", "use=0 conn_cur=0 conn_cnt=1 sess_cnt=0", EXP, label);
    assert_eq!(echo.accepted(), 1, "only the served connection reached the server");
}

/// HTTP mode: `tcp-request content silent-drop` on a request header
/// drops the connection without an answer; a request without it on
/// another connection is served.
#[test]
fn http_mode_content_drop() {
    let backend = HttpBackend::start();
    let (fe, stats) = (free_port(), free_port());
    let cfg = format!(
        "{head}\
frontend fh
    bind 127.0.0.1:{fe}
    tcp-request content silent-drop if {{ req.hdr(x-drop) -m found }}
    default_backend be
backend be
    server s1 127.0.0.1:{port}
",
        head = scenario_head(stats, Some("http")),
        port = backend.port(),
    );
    let _proxy = Proxy::start(&cfg);

    let mut ok = HttpConn::connect(fe);
    let r = ok.request(&get("/")).expect("served");
    assert_eq!(r.status, 200, "{}", r.raw_text());
    drop(ok);

    let mut c = connect_ok(A1, fe);
    c.write_all(&request("GET", "/", &["X-Drop: 1"], b"")).expect("send");
    dropped_unheard(stats, "fh", &mut c, 1, "HTTP content rule");
    expect_stat(stats, "fh", "FRONTEND", &[("dcon", "0"), ("dses", "0")], "after the drop");
}
