//! A listening TCP socket of one frontend `bind` line.

use mio::net::{TcpListener, TcpStream};
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;

/// One bound address of a frontend. Owned by a worker, which registers it
/// and accepts from it until `WouldBlock`.
pub struct Listener {
    pub sock: TcpListener, // non-blocking, SO_REUSEADDR + SO_REUSEPORT
    pub addr: SocketAddr,  // as configured
    pub proxy: usize,      // index of the frontend in Config::proxies
}

impl Listener {
    /// Binds `addr` for frontend `proxy`. SO_REUSEPORT lets each worker
    /// thread bind its own socket on the same address.
    ///
    /// `http`: the frontend answers every request, so, as HAProxy does for
    /// HTTP frontends, quick ACKs are turned off on the listening socket
    /// (its connections inherit it): the client's request is acknowledged
    /// by the response instead of by an empty segment of its own.
    pub fn bind(addr: SocketAddr, proxy: usize, http: bool) -> io::Result<Listener> {
        let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        sock.set_reuse_address(true)?;
        sock.set_reuse_port(true)?;
        if addr.is_ipv6() {
            sock.set_only_v6(true)?;
        }
        sock.set_nonblocking(true)?;
        sock.bind(&addr.into())?;
        sock.listen(1024)?;
        if http {
            sock.set_tcp_quickack(false)?;
        }
        Ok(Listener { sock: TcpListener::from_std(sock.into()), addr, proxy })
    }

    /// Accepts one pending connection; `Ok(None)` when none is left.
    pub fn accept(&self) -> io::Result<Option<(TcpStream, SocketAddr)>> {
        match self.sock.accept() {
            Ok(pair) => Ok(Some(pair)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }
}
