//! Unix stream sockets on `bind` and `server` lines, as HAProxy 2.6 binds
//! and reaches them: `unix@PATH` (and `/PATH`) with `unix-bind`'s prefix,
//! mode, owner and group (a `bind` line's own `mode`/`uid`/`gid` win), a
//! stale socket file replaced; `abns@NAME` in Linux's abstract namespace
//! (realcfg 16: a TCP `listen` chained to an HTTP frontend through it);
//! a server on a unix socket, its health checks included.
//!
//! The bug story: strata refused every unix address ("only TCP addresses
//! are supported by strata yet") and ignored `unix-bind` with a warning.
//! Validated against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use support::unix::{SockDir, UnixEcho};
use support::*;

const DEFAULTS: &str = "defaults\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n";

/// One `Connection: close` GET over a unix socket: the whole response.
fn get_over_unix(path: &std::path::Path) -> String {
    let mut s = UnixStream::connect(path).unwrap_or_else(|e| panic!("connect {}: {e}", path.display()));
    s.set_read_timeout(Some(scaled(Duration::from_secs(5)))).expect("timeout");
    s.write_all(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").expect("send");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn abstract_sockets_chain_a_listen_to_an_http_frontend() {
    let app = HttpBackend::start();
    let port = free_port();
    let name = format!("strata-test-{}-chain", std::process::id());
    let cfg = format!(
        "{DEFAULTS}    mode http\n\
         listen offload\n    bind 127.0.0.1:{port}\n    server s abns@{name} send-proxy\n\
         frontend http-in\n    bind abns@{name} accept-proxy\n    option forwardfor\n    default_backend app\n\
         backend app\n    server app 127.0.0.1:{}\n",
        app.port()
    );
    let _p = Proxy::start(&cfg);
    let mut c = HttpConn::connect(port);
    let r = c.request(&get("/")).expect("response");
    assert_eq!(r.status, 200, "{}", r.raw_text());
    let got = app.requests();
    assert_eq!(got.len(), 1);
    // The PROXY header carried the TCP client's address over the unix socket.
    assert_eq!(got[0].header("x-forwarded-for"), Some("127.0.0.1"));
}

#[test]
fn unix_paths_take_the_unix_bind_prefix_and_modes() {
    let app = HttpBackend::start();
    let dir = SockDir::new("bind");
    // A socket file left by a previous process is replaced.
    drop(std::os::unix::net::UnixListener::bind(dir.path("fe.sock")).expect("stale socket"));
    let port = free_port();
    let cfg = format!(
        "global\n    unix-bind prefix {}/ mode 640\n{DEFAULTS}\
         frontend f\n    mode http\n    bind 127.0.0.1:{port}\n    bind unix@fe.sock\n\
         \x20   bind unix@fe2.sock mode 600\n    default_backend app\n\
         backend app\n    mode http\n    server app 127.0.0.1:{}\n",
        dir.path("").display().to_string().trim_end_matches('/'),
        app.port()
    );
    let _p = Proxy::start(&cfg);
    for (file, mode) in [("fe.sock", 0o640), ("fe2.sock", 0o600)] {
        let path = dir.path(file);
        let meta = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(meta.file_type().is_socket(), "{file} is a socket");
        assert_eq!(meta.permissions().mode() & 0o7777, mode, "{file}'s mode");
        let reply = get_over_unix(&path);
        assert!(reply.starts_with("HTTP/1.1 200"), "{file}: {reply}");
    }
    assert_eq!(app.requests().len(), 2, "both went through");
}

#[test]
fn a_server_on_a_unix_socket_is_checked_and_used() {
    let dir = SockDir::new("srv");
    let echo = UnixEcho::start(&dir.path("echo.sock"));
    let port = free_port();
    let inter = cfg_time(Duration::from_millis(200));
    let cfg = format!(
        "{DEFAULTS}listen l\n    mode tcp\n    bind 127.0.0.1:{port}\n\
         \x20   server s unix@{} check inter {inter}\n",
        dir.path("echo.sock").display()
    );
    let _p = Proxy::start(&cfg);
    assert!(
        wait_until(scaled(Duration::from_secs(5)), || echo.accepted() >= 1),
        "the health check connects there"
    );
    let mut s = connect(port);
    let got = round_trip(&mut s, b"over a unix socket", scaled(Duration::from_secs(5))).expect("echo");
    assert_eq!(got, b"over a unix socket");
}

#[test]
fn a_bind_on_a_path_strata_cannot_create_is_refused_at_start() {
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend f\n    mode tcp\n    bind 127.0.0.1:{port}\n\
         \x20   bind unix@/nonexistent-dir-strata/x.sock\n    default_backend b\n\
         backend b\n    server s 127.0.0.1:1\n"
    );
    let (rc, out, err) = Proxy::run_once(&["-db", "-f", "proxy.cfg"], &[], &[("proxy.cfg", &cfg)]);
    assert_ne!(rc, 0, "{out}{err}");
    assert!(err.contains("/nonexistent-dir-strata/x.sock"), "the error names the socket: {err}");
}
