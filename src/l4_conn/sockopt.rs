//! Socket options strata sets on the connections it accepts and opens:
//! `tune.rcvbuf.*`/`tune.sndbuf.*` (process-wide, set once at start-up)
//! and the per-proxy ones passed by the caller (`option tcpka` family,
//! `option nolinger`, `option tcp-smart-connect`), and `option
//! tcp-smart-accept` on listeners.

use crate::cfg::listen::ConnOpts;
use crate::cfg::process::Tune;
use socket2::{SockRef, TcpKeepalive};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Buffer sizes in bytes; 0: the kernel's default.
static RCVBUF_CLIENT: AtomicU32 = AtomicU32::new(0);
static RCVBUF_SERVER: AtomicU32 = AtomicU32::new(0);
static SNDBUF_CLIENT: AtomicU32 = AtomicU32::new(0);
static SNDBUF_SERVER: AtomicU32 = AtomicU32::new(0);

/// Records the `tune.*buf.*` sizes (start-up).
pub fn set_buffers(t: &Tune) {
    RCVBUF_CLIENT.store(t.rcvbuf_client.unwrap_or(0), Ordering::Relaxed);
    RCVBUF_SERVER.store(t.rcvbuf_server.unwrap_or(0), Ordering::Relaxed);
    SNDBUF_CLIENT.store(t.sndbuf_client.unwrap_or(0), Ordering::Relaxed);
    SNDBUF_SERVER.store(t.sndbuf_server.unwrap_or(0), Ordering::Relaxed);
}

/// Which end of a proxied connection a socket is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// Applies the buffer sizes of `side` and `opts` to `sock`. Failures are
/// ignored, as HAProxy ignores them: the connection works without.
pub fn apply<S: std::os::fd::AsFd>(sock: &S, side: Side, opts: &ConnOpts) {
    let s = SockRef::from(sock);
    let (rcv, snd) = match side {
        Side::Client => (&RCVBUF_CLIENT, &SNDBUF_CLIENT),
        Side::Server => (&RCVBUF_SERVER, &SNDBUF_SERVER),
    };
    match rcv.load(Ordering::Relaxed) {
        0 => {}
        n => drop(s.set_recv_buffer_size(n as usize)),
    }
    match snd.load(Ordering::Relaxed) {
        0 => {}
        n => drop(s.set_send_buffer_size(n as usize)),
    }
    if opts.keepalive {
        let mut ka = TcpKeepalive::new();
        if let Some(d) = opts.keepalive_idle {
            ka = ka.with_time(d);
        }
        if let Some(d) = opts.keepalive_intvl {
            ka = ka.with_interval(d);
        }
        if let Some(n) = opts.keepalive_cnt {
            ka = ka.with_retries(n);
        }
        let _ = s.set_tcp_keepalive(&ka);
    }
    if opts.nolinger {
        let _ = s.set_linger(Some(Duration::ZERO));
    }
    if opts.delayed_ack {
        use std::os::fd::AsRawFd;
        let _ = super::listener::set_int(sock.as_fd().as_raw_fd(), libc::IPPROTO_TCP, libc::TCP_QUICKACK, 0);
    }
}

/// `option tcp-smart-accept` (on by default in `mode http`, as in HAProxy
/// 2.6): TCP_QUICKACK 0 on a listening socket, so that the ACK of a
/// client's first data leaves with the response; 1 when it is off.
pub fn set_smart_accept<S: std::os::fd::AsFd>(listener: &S, on: bool) {
    use std::os::fd::AsRawFd;
    let fd = listener.as_fd().as_raw_fd();
    let _ = super::listener::set_int(fd, libc::IPPROTO_TCP, libc::TCP_QUICKACK, i32::from(!on));
}
