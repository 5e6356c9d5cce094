//! `fd@N` addresses: a listening socket the parent opened and handed over,
//! as VTest (HAProxy's regression-test driver) starts every proxy it
//! tests: `bind "fd@${fe_1}"`, `stats socket "fd@${cli}"`. strata adopts
//! the socket instead of binding; a number that is not a listening socket
//! is a configuration error naming the file, the line and the number.
//! Also `abns@` (abstract unix) stats sockets.
//!
//! The test opens the sockets, clears their close-on-exec flag so the
//! child inherits them, and passes the numbers in the environment.

mod support;

use socket2::SockRef;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;
use support::{Proxy, cfg_time, ms, under_haproxy};

/// A listening socket on 127.0.0.1 that a child process inherits.
fn inheritable_listener() -> TcpListener {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    SockRef::from(&l).set_cloexec(false).expect("clear FD_CLOEXEC");
    l
}

fn defaults() -> String {
    format!(
        "defaults\n    mode http\n    timeout connect {}\n    timeout client {}\n    timeout server {}\n",
        cfg_time(ms(1000)),
        cfg_time(ms(5000)),
        cfg_time(ms(5000))
    )
}

/// Sends `bytes` on a fresh connection to `port`, reads until the close.
fn exchange(port: u16, bytes: &[u8]) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(ms(10_000))).expect("timeout");
    s.write_all(bytes).expect("send");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn an_inherited_listener_and_stats_socket_serve() {
    let fe = inheritable_listener();
    let cli = inheritable_listener();
    let (fe_port, cli_port) = (fe.local_addr().expect("addr").port(), cli.local_addr().expect("addr").port());
    let cfg = format!(
        "global\n    stats socket \"fd@${{cli}}\" level admin\n{}\
         frontend fe\n    bind \"fd@${{fe_1}}\"\n    \
         http-request return status 200 content-type text/plain string inherited\n",
        defaults()
    );
    let env = [("fe_1", fe.as_raw_fd().to_string()), ("cli", cli.as_raw_fd().to_string())];
    let proxy = Proxy::start_with_env(&cfg, &[], &env);
    // The sockets already listen: connections queue until the proxy accepts.
    let reply = exchange(fe_port, b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(reply.ends_with("\r\n\r\ninherited"), "{reply}");
    let info = exchange(cli_port, b"show info\n");
    assert!(info.contains(&format!("\nPid: {}\n", proxy.pid())), "{info}");
    // Adopted, not re-bound: the proxy owns the very socket the test opened.
    assert!(proxy.is_listening(fe_port) && proxy.is_listening(cli_port));
}

#[test]
fn an_abstract_unix_stats_socket_answers() {
    let name = format!("strata-test-abns-{}", std::process::id());
    let cfg = format!(
        "global\n    stats socket abns@{name} level admin\n{}\
         frontend fe\n    bind 127.0.0.1:{}\n    http-request return status 200\n",
        defaults(),
        support::free_port()
    );
    let _proxy = Proxy::start(&cfg);
    use std::os::linux::net::SocketAddrExt;
    // HAProxy pads abstract names with zeros to the whole address length.
    let mut padded = name.clone().into_bytes();
    padded.resize(107, 0);
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(&padded).expect("abstract name");
    let mut reply = String::new();
    for _ in 0..100 {
        if let Ok(mut s) = UnixStream::connect_addr(&addr) {
            s.set_read_timeout(Some(ms(10_000))).expect("timeout");
            s.write_all(b"show info\n").expect("send");
            let _ = s.read_to_string(&mut reply);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(reply.contains("\nUptime_sec: "), "{reply:?}");
}

/// `-c` on a config whose `bind` names descriptor `fd` (inherited when it
/// is one of the test's sockets without close-on-exec): (exit code, stderr).
fn check_bind_fd(fd: String) -> (i32, String) {
    let cfg =
        format!("{}frontend fe\n    bind \"fd@${{FE}}\"\n    http-request return status 200\n", defaults());
    let (code, _, err) = Proxy::run_once(&["-c", "-f", "x.cfg"], &[("FE", &fd)], &[("x.cfg", &cfg)]);
    (code, err)
}

#[test]
fn a_descriptor_that_is_not_a_listening_socket_is_a_config_error() {
    let alert = |err: &str, msg: &str| {
        assert!(
            err.lines().any(|l| l.starts_with("[ALERT]")
                && l.contains("parsing [x.cfg:7] : 'bind' : ")
                && l.ends_with(msg)),
            "{err}"
        );
    };
    let (code, err) = check_bind_fd("987".into());
    assert_eq!(code, 1, "{err}");
    alert(&err, "cannot use file descriptor '987' : Bad file descriptor.");

    let (code, err) = check_bind_fd("0".into());
    assert_eq!(code, 1, "{err}");
    alert(&err, "cannot use file descriptor '0' : Socket operation on non-socket.");

    let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    SockRef::from(&udp).set_cloexec(false).expect("cloexec");
    let (code, err) = check_bind_fd(udp.as_raw_fd().to_string());
    assert_eq!(code, 1, "{err}");
    alert(&err, &format!("socket on file descriptor '{}' is of the wrong type.", udp.as_raw_fd()));

    let (code, err) = check_bind_fd("abc".into());
    assert_eq!(code, 1, "{err}");
    alert(&err, "file descriptor 'abc' is not a valid integer in 'fd@abc'");

    // Bound but not listening: HAProxy would call listen() on it itself;
    // strata takes only what the issue calls a listening socket.
    if !under_haproxy() {
        let bound = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
        bound.bind(&"127.0.0.1:0".parse::<std::net::SocketAddr>().expect("addr").into()).expect("bind");
        bound.set_cloexec(false).expect("cloexec");
        let (code, err) = check_bind_fd(bound.as_raw_fd().to_string());
        assert_eq!(code, 1, "{err}");
        alert(&err, &format!("socket on file descriptor '{}' is not listening.", bound.as_raw_fd()));
    }
}

#[test]
fn a_listening_descriptor_passes_the_check() {
    let fe = inheritable_listener();
    let (code, err) = check_bind_fd(fe.as_raw_fd().to_string());
    assert_eq!(code, 0, "{err}");
}

#[test]
fn the_same_descriptor_bound_twice_is_refused() {
    // HAProxy accepts this and registers one socket twice; strata refuses:
    // a socket has one owner.
    if under_haproxy() {
        return;
    }
    let fe = inheritable_listener();
    let fd = fe.as_raw_fd().to_string();
    let cfg = format!(
        "{}frontend fe\n    bind \"fd@${{FE}}\"\n    bind \"fd@${{FE}}\"\n    http-request return status 200\n",
        defaults()
    );
    let (code, _, err) = Proxy::run_once(&["-c", "-f", "x.cfg"], &[("FE", &fd)], &[("x.cfg", &cfg)]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("parsing [x.cfg:8] : ") && err.contains("is already bound by frontend 'fe' at x.cfg:7"),
        "{err}"
    );
}

#[test]
fn a_bad_stats_socket_descriptor_is_named() {
    let cfg = format!(
        "global\n    stats socket \"fd@${{CLI}}\" level admin\n{}frontend fe\n    bind 127.0.0.1:{}\n",
        defaults(),
        support::free_port()
    );
    let (code, _, err) = Proxy::run_once(&["-c", "-f", "x.cfg"], &[("CLI", "986")], &[("x.cfg", &cfg)]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("parsing [x.cfg:2] : ")
            && err.contains("'stats socket' : cannot use file descriptor '986' : Bad file descriptor."),
        "{err}"
    );
}
