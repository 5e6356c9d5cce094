//! Socket options the proxy sets on its own sockets, read from the kernel
//! (`/proc/net/tcp`), not from strata's word:
//! - `option clitcpka` + `clitcpka-idle`: the client-side socket has a
//!   keep-alive timer armed at the configured idle time; without the
//!   option it has none;
//! - `option srvtcpka` + `srvtcpka-idle`: the same on the server side;
//!   `option tcpka` sets the side of the section it is in;
//! - `bind ... defer-accept`: a connection that sends nothing is not
//!   accepted (the frontend's `stot` stays 0) until its first bytes arrive;
//! - an IPv6 bind without `v6only`/`v4v6` keeps the system's dual-stack
//!   default (`net.ipv6.bindv6only`): a v4-mapped address binds and serves
//!   IPv4 clients; `v6only` refuses it, `v4v6` forces dual stack.
//!
//! The bug story: these keywords came from real configs (7 of 60 used
//! `option tcpka`/`clitcpka`); a parsed and ignored keep-alive leaves
//! idle connections through a stateful firewall to be dropped silently.
//! Same on HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use support::*;

/// The kernel's timer on the TCP socket from local port `local` to remote
/// port `remote` (127.0.0.1 on both ends): (`tr`, `tm->when` in clock
/// ticks), from `/proc/net/tcp`.
fn socket_timer(local: u16, remote: u16) -> Option<(u8, u64)> {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let want = (format!("0100007F:{local:04X}"), format!("0100007F:{remote:04X}"));
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 6 || (f[1], f[2]) != (want.0.as_str(), want.1.as_str()) || f[3] != "01" {
            return None;
        }
        let (tr, when) = f[5].split_once(':')?;
        Some((u8::from_str_radix(tr, 16).ok()?, u64::from_str_radix(when, 16).ok()?))
    })
}

/// The timer of that socket once it is there (the proxy accepts or
/// connects on its own schedule).
fn timer_of(local: u16, remote: u16) -> (u8, u64) {
    let mut seen = None;
    assert!(
        wait_until(ms(5_000), || {
            seen = socket_timer(local, remote);
            seen.is_some()
        }),
        "no established socket {local} -> {remote} in /proc/net/tcp"
    );
    seen.unwrap_or_default()
}

const KEEPALIVE_TIMER: u8 = 2; // /proc/net/tcp's `tr` of a keep-alive timer

/// A TCP proxy to an echo server with `fe_lines` in the frontend and
/// `be_lines` in the backend; one client that made one round trip.
struct Relay {
    fe: u16,
    echo: Backend,
    client: TcpStream,
    _proxy: Proxy,
}

impl Relay {
    fn start(fe_lines: &str, be_lines: &str) -> Relay {
        let echo = Backend::echo();
        let fe = free_port();
        let cfg = format!(
            "{}frontend fe\n    bind 127.0.0.1:{fe}\n{fe_lines}    default_backend be\n\
             backend be\n{be_lines}    server s1 127.0.0.1:{}\n",
            tcp_defaults(100, Duration::from_secs(5), Duration::from_secs(60), Duration::from_secs(60)),
            echo.port()
        );
        let proxy = Proxy::start(&cfg);
        let mut client = connect(fe);
        round_trip(&mut client, b"ping", ms(10_000)).expect("echo");
        Relay { fe, echo, client, _proxy: proxy }
    }

    fn client_port(&self) -> u16 {
        self.client.local_addr().expect("client address").port()
    }

    /// The proxy's socket towards the echo server (the only connection to it).
    fn server_side_timer(&self) -> (u8, u64) {
        let mut seen = None;
        let table = || std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
        let want = format!("0100007F:{:04X}", self.echo.port());
        assert!(
            wait_until(ms(5_000), || {
                seen = table().lines().find_map(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    let local = f.get(1)?.rsplit_once(':')?.1;
                    (f.get(2) == Some(&want.as_str()) && f.get(3) == Some(&"01"))
                        .then(|| u16::from_str_radix(local, 16).ok())
                        .flatten()
                });
                seen.is_some()
            }),
            "no proxy socket towards the server"
        );
        timer_of(seen.unwrap_or_default(), self.echo.port())
    }
}

#[test]
fn clitcpka_arms_a_keepalive_timer_at_clitcpka_idle() {
    let r = Relay::start("    option clitcpka\n    clitcpka-idle 7s\n", "");
    let (tr, when) = timer_of(r.fe, r.client_port());
    assert_eq!(tr, KEEPALIVE_TIMER, "keep-alive timer on the client side");
    // clock ticks (USER_HZ 100): at most 7 s, far below the kernel's 7200 s default
    assert!(when > 0 && when <= 700, "timer in {when} ticks, not clitcpka-idle's 7 s");
    // the server side was not asked for one
    assert_eq!(r.server_side_timer().0, 0, "no timer on the server side");

    let plain = Relay::start("", "");
    assert_eq!(timer_of(plain.fe, plain.client_port()).0, 0, "no keep-alive without the option");
}

#[test]
fn srvtcpka_arms_a_keepalive_timer_at_srvtcpka_idle() {
    let r = Relay::start("", "    option srvtcpka\n    srvtcpka-idle 9s\n");
    let (tr, when) = r.server_side_timer();
    assert_eq!(tr, KEEPALIVE_TIMER, "keep-alive timer on the server side");
    assert!(when > 700 && when <= 900, "timer in {when} ticks, not srvtcpka-idle's 9 s");
    assert_eq!(timer_of(r.fe, r.client_port()).0, 0, "no timer on the client side");
}

#[test]
fn defer_accept_waits_for_the_first_bytes() {
    let echo = Backend::echo();
    let (fe, stats) = (free_port(), free_port());
    let cfg = format!(
        "global\n    stats socket 127.0.0.1:{stats} level admin\n\
         defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 60s\n    timeout server 60s\n\
         frontend fe\n    bind 127.0.0.1:{fe} defer-accept\n    default_backend be\n\
         backend be\n    server s1 127.0.0.1:{}\n",
        echo.port()
    );
    let _proxy = Proxy::start(&cfg);
    let mut c = connect(fe);
    // Linux holds the connection (up to a SYN-ACK retransmission, 1 s)
    // until data comes: the proxy has nothing to accept yet.
    std::thread::sleep(Duration::from_millis(300));
    let sessions = || show_stat(stats, "").get("fe", "FRONTEND", "stot").to_string();
    assert_eq!(sessions(), "0", "accepted before any byte came");
    c.write_all(b"ping").expect("send");
    assert!(wait_until(ms(5_000), || sessions() == "1"), "accepted once data came");
    let echoed = read_exact_with_timeout(&mut c, 4, ms(10_000)).expect("echo after the deferred accept");
    assert_eq!(echoed, b"ping");
}

/// Whether the system makes IPv6 sockets v6-only by default.
fn system_v6only() -> bool {
    std::fs::read_to_string("/proc/sys/net/ipv6/bindv6only").is_ok_and(|s| s.trim() == "1")
}

#[test]
fn ipv6_binds_keep_the_systems_dual_stack_default() {
    let echo = Backend::echo();
    for (opt, dual) in [("", !system_v6only()), (" v4v6", true), (" v6only", false)] {
        let fe = free_port();
        let cfg = format!(
            "{}frontend fe\n    bind ::ffff:127.0.0.1:{fe}{opt}\n    default_backend be\n\
             backend be\n    server s1 127.0.0.1:{}\n",
            tcp_defaults(100, Duration::from_secs(5), Duration::from_secs(60), Duration::from_secs(60)),
            echo.port()
        );
        if dual {
            let _proxy = Proxy::start(&cfg);
            let mut c = connect(fe);
            round_trip(&mut c, b"ping", ms(10_000)).expect("an IPv4 client through a v4-mapped bind");
        } else {
            // a v6-only socket cannot take a v4-mapped address
            let err = refused_start(&cfg).unwrap_or_else(|| panic!("bind{opt} started"));
            assert!(err.contains(&format!("{fe}")), "the refusal names the bind: {err}");
        }
    }
}

/// Starts the binary on `cfg`: its stderr if it exits (it refused to
/// start) within a generous deadline, None (after stopping it) if it runs.
fn refused_start(cfg: &str) -> Option<String> {
    let dir = std::env::temp_dir().join(format!("strata-sockopt-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("proxy.cfg"), cfg).expect("cfg");
    let mut child = std::process::Command::new(binary())
        .args(["-db", "-f"])
        .arg(dir.join("proxy.cfg"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let exited = wait_until(ms(10_000), || child.try_wait().ok().flatten().is_some());
    if !exited {
        let _ = child.kill();
        let _ = child.wait();
    }
    let mut err = String::new();
    let _ = std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err);
    let _ = std::fs::remove_dir_all(&dir);
    exited.then_some(err)
}

#[test]
fn tcpka_arms_keepalive_timers_on_both_sides() {
    let r = Relay::start("    option tcpka\n", "");
    // `option tcpka` in a frontend sets the client side; its backend's
    // server side comes with it only when the backend says so too
    assert_eq!(timer_of(r.fe, r.client_port()).0, KEEPALIVE_TIMER, "client side");
    let r = Relay::start("", "    option tcpka\n");
    assert_eq!(r.server_side_timer().0, KEEPALIVE_TIMER, "server side");
    assert_eq!(timer_of(r.fe, r.client_port()).0, 0, "a backend's tcpka leaves the client side alone");
}

/// `bind ... interface IF` (SO_BINDTODEVICE): bound to `lo`, loopback
/// clients are served; a device that does not exist draws HAProxy's
/// warning naming the line, and the listener serves on every device.
#[test]
fn bind_interface_binds_to_the_device() {
    let echo = Backend::echo();
    for (dev, known) in [("lo", true), ("strata-nodev0", false)] {
        let fe = free_port();
        let cfg = format!(
            "{}frontend fe\n    bind 127.0.0.1:{fe} interface {dev}\n    default_backend be\n\
             backend be\n    server s1 127.0.0.1:{}\n",
            tcp_defaults(100, Duration::from_secs(5), Duration::from_secs(60), Duration::from_secs(60)),
            echo.port()
        );
        let proxy = Proxy::start(&cfg);
        let mut c = connect(fe);
        round_trip(&mut c, b"ping", ms(10_000)).expect("served");
        let warned = proxy.stderr_text().contains(&format!(
            "cannot bind receiver to device '{dev}' (No such device) for [127.0.0.1:{fe}]"
        ));
        assert_eq!(warned, !known, "interface {dev}: {}", proxy.stderr_text());
    }
}
