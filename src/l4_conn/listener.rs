//! A listening socket of one frontend `bind` line: TCP, bound here or
//! inherited from the parent process (`fd@N`), or a unix stream socket
//! (`unix@PATH`, `abns@NAME`).

use crate::cfg::listen::BindOpts;
use mio::net::{TcpListener, TcpStream};
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

/// One bound address of a frontend. Owned by a worker, which registers it
/// and accepts from it until `WouldBlock`.
///
/// A unix listening socket is held in the same mio type as a TCP one:
/// registering, sharing and handing over a descriptor are the same; only
/// [`Listener::accept`] differs (`unix`).
pub struct Listener {
    pub sock: TcpListener, // non-blocking, SO_REUSEADDR + SO_REUSEPORT
    pub addr: SocketAddr,  // as configured (0.0.0.0:0 for a unix socket)
    pub unix: bool,        // a unix stream socket: its clients have no IP address
    pub proxy: usize,      // index of the frontend in Config::proxies
    pub tls: Option<std::sync::Arc<super::tls::BindTls>>, // `bind ... ssl`: its certificates
    pub luid: u32, // `id`, else the 1-based rank among the frontend's binds (HAProxy's `fe/1` in logs)
    pub bind: usize, // index of its `Bind` in the frontend's binds
}

impl Listener {
    /// A listener of frontend `proxy` on `sock`, without TLS; `luid` and
    /// `bind` are set by the caller that knows its `bind` line.
    pub fn new(sock: TcpListener, addr: SocketAddr, unix: bool, proxy: usize) -> Listener {
        Listener { sock, addr, unix, proxy, tls: None, luid: 0, bind: 0 }
    }

    /// Binds `addr` for frontend `proxy`. SO_REUSEPORT lets each worker
    /// thread bind its own socket on the same address.
    ///
    /// `http`: the frontend answers every request, so, as HAProxy does for
    /// HTTP frontends, quick ACKs are turned off on the listening socket
    /// (its connections inherit it): the client's request is acknowledged
    /// by the response instead of by an empty segment of its own.
    ///
    /// `opts` are the `bind` line's options; `reuse_port` is false with
    /// `noreuseport`; `backlog` is the listen queue (and the fast-open
    /// queue) when the line has no `backlog`.
    pub fn bind(
        addr: SocketAddr,
        proxy: usize,
        http: bool,
        opts: &BindOpts,
        reuse_port: bool,
        backlog: u32,
    ) -> io::Result<Listener> {
        if let Some(fd) = super::fdpass::take(addr) {
            // handed over by the old process (`-x`): already bound, listening, set up
            let l = std::net::TcpListener::from(fd);
            l.set_nonblocking(true)?;
            return Ok(Listener::new(TcpListener::from_std(l), addr, false, proxy));
        }
        let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        sock.set_reuse_address(true)?;
        sock.set_reuse_port(reuse_port)?;
        // `v6only` / `v4v6` set it; otherwise the system's default
        // (net.ipv6.bindv6only), as HAProxy leaves it
        if let (true, Some(only)) = (addr.is_ipv6(), opts.v6only) {
            sock.set_only_v6(only)?;
        }
        if let Some(dev) = &opts.interface {
            match sock.bind_device(Some(dev.as_bytes())) {
                // a device that does not exist: HAProxy warns (the start-up
                // check does, once) and listens on every device
                Err(e) if e.raw_os_error() == Some(libc::ENODEV) => {}
                other => other?,
            }
        }
        sock.set_nonblocking(true)?;
        sock.bind(&addr.into())?;
        if opts.defer_accept {
            // Woken only when the client's first bytes arrive (HAProxy sets 1 second).
            set_int(sock.as_raw_fd(), libc::IPPROTO_TCP, libc::TCP_DEFER_ACCEPT, 1)?;
        }
        if opts.tfo {
            set_int(
                sock.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_FASTOPEN,
                backlog.min(i32::MAX as u32) as i32,
            )?;
        }
        sock.listen(opts.backlog.unwrap_or(backlog).clamp(1, i32::MAX as u32) as i32)?;
        if http {
            sock.set_tcp_quickack(false)?;
        }
        Ok(Listener::new(TcpListener::from_std(sock.into()), addr, false, proxy))
    }

    /// Reads back an integer socket option (tests and `show` commands).
    pub fn int_option(&self, level: i32, name: i32) -> io::Result<i32> {
        get_int(self.sock.as_raw_fd(), level, name)
    }

    /// The listener of one `bind` line's address: the inherited socket for
    /// `fd@N` (adopted as it is, never bound again), else a new socket
    /// bound with [`Listener::bind`].
    pub fn open(
        bind: &crate::cfg::Bind,
        proxy: usize,
        http: bool,
        reuse_port: bool,
        backlog: u32,
    ) -> io::Result<Listener> {
        if let Some(unix) = &bind.unix {
            let sock = super::unix_listen::bind(unix, &bind.opts, backlog)?;
            return Ok(Listener::new(sock, bind.addr, true, proxy));
        }
        let Some(fd) = bind.fd else {
            return Listener::bind(bind.addr, proxy, http, &bind.opts, reuse_port, backlog);
        };
        Listener::adopt(fd, bind.addr, proxy, http)
    }

    /// The inherited listening socket `fd` (`fd@N`, checked at parse time
    /// to be a TCP listener bound to `addr`), adopted as it is.
    pub fn adopt(fd: i32, addr: SocketAddr, proxy: usize, http: bool) -> io::Result<Listener> {
        let sock = crate::core::inherited::adopt(fd)?;
        if http {
            sock.set_tcp_quickack(false)?;
        }
        Ok(Listener::new(TcpListener::from_std(sock.into()), addr, false, proxy))
    }

    /// Accepts one pending connection; `Ok(None)` when none is left.
    /// A unix socket's client gets 0.0.0.0:0 as its address.
    pub fn accept(&self) -> io::Result<Option<(TcpStream, SocketAddr)>> {
        let accepted = if self.unix { super::unix_listen::accept(&self.sock) } else { self.sock.accept() };
        match accepted {
            Ok(pair) => Ok(Some(pair)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// `setsockopt` with an integer value, for the options socket2 lacks.
pub(in crate::l4_conn) fn set_int(fd: i32, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: the caller's descriptor is open for the duration of the call, the value pointer
    // and its length describe a live i32.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// `getsockopt` of an integer option.
fn get_int(fd: i32, level: i32, name: i32) -> io::Result<i32> {
    let mut value: i32 = 0;
    let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
    // SAFETY: `fd` is open for the duration of the call; value/len point to live locals of the
    // sizes passed.
    let rc = unsafe { libc::getsockopt(fd, level, name, (&mut value as *mut i32).cast(), &mut len) };
    if rc == 0 { Ok(value) } else { Err(io::Error::last_os_error()) }
}
