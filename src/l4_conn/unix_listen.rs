//! Unix stream sockets of `bind` and `server` lines (`unix@PATH`,
//! `/PATH`, `abns@NAME`). Their descriptors are held in mio's TCP types
//! (see [`super::Listener`] and [`super::Conn`]): reading, writing,
//! shutting down and polling a stream socket do not depend on its family;
//! what does (binding, accepting, connecting) is here. A unix peer has
//! no IP address: strata gives it 0.0.0.0:0 ([`NO_INET_ADDR`]); with
//! `accept-proxy` the PROXY header sets the client's address as usual.

use crate::cfg::listen::{BindOpts, UnixAddr};
use mio::net::{TcpListener, TcpStream};
use socket2::{Domain, SockAddr, Socket, Type};
use std::io;
use std::net::SocketAddr;
use std::os::fd::OwnedFd;

/// The address a unix socket's peer is given (it has no IP address).
pub const NO_INET_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0);

/// Binds and listens on `addr`. A path is bound as HAProxy binds it: under
/// a temporary name (`PATH.PID.tmp`), given its `mode`, owner and group,
/// then renamed over `PATH`, so a socket left by a previous process is
/// replaced at once and clients never see a file with the wrong rights.
pub fn bind(addr: &UnixAddr, opts: &BindOpts, backlog: u32) -> io::Result<TcpListener> {
    let backlog = opts.backlog.unwrap_or(backlog).clamp(1, i32::MAX as u32) as i32;
    let listen = |sa: &SockAddr| -> io::Result<Socket> {
        let sock = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        sock.set_nonblocking(true)?;
        sock.bind(sa)?;
        sock.listen(backlog)?;
        Ok(sock)
    };
    let sock = match addr {
        UnixAddr::Abstract(_) => listen(&sockaddr(addr)?)?,
        UnixAddr::Path(path) => {
            let mut tmp = path.clone().into_os_string();
            tmp.push(format!(".{}.tmp", std::process::id()));
            let tmp = std::path::PathBuf::from(tmp);
            let _ = std::fs::remove_file(&tmp);
            let sock = listen(&SockAddr::unix(&tmp)?)?;
            let placed = (|| {
                if let Some(mode) = opts.mode {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))?;
                }
                if opts.uid.is_some() || opts.gid.is_some() {
                    std::os::unix::fs::chown(&tmp, opts.uid, opts.gid)?;
                }
                std::fs::rename(&tmp, path)
            })();
            if let Err(e) = placed {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
            sock
        }
    };
    Ok(TcpListener::from(OwnedFd::from(sock)))
}

/// The `sockaddr_un` of `addr`; an abstract name is padded with zeros to
/// the whole `sun_path`, as HAProxy's, so the two reach each other's sockets.
fn sockaddr(addr: &UnixAddr) -> io::Result<SockAddr> {
    match addr {
        UnixAddr::Path(p) => SockAddr::unix(p),
        UnixAddr::Abstract(name) => {
            let mut path = vec![0u8];
            path.extend_from_slice(name.as_bytes());
            path.resize(path.len().max(SUN_PATH_LEN), 0);
            use std::os::unix::ffi::OsStrExt;
            SockAddr::unix(std::ffi::OsStr::from_bytes(&path))
        }
    }
}

/// Length of `sun_path` in `sockaddr_un`.
const SUN_PATH_LEN: usize = 108;

/// Accepts one connection from a unix listening socket (mio's TCP accept
/// would refuse its peer's address); the peer gets [`NO_INET_ADDR`].
pub fn accept(listener: &TcpListener) -> io::Result<(TcpStream, SocketAddr)> {
    let (sock, _) = socket2::SockRef::from(listener).accept()?;
    sock.set_nonblocking(true)?;
    Ok((TcpStream::from(OwnedFd::from(sock)), NO_INET_ADDR))
}

/// Starts a non-blocking connect to a unix server socket; a full listen
/// queue (`EAGAIN`) is a failed connect, as HAProxy counts it.
pub fn connect(addr: &UnixAddr) -> io::Result<TcpStream> {
    let sock = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    sock.set_nonblocking(true)?;
    match sock.connect(&sockaddr(addr)?) {
        Err(e) if e.raw_os_error() != Some(libc::EINPROGRESS) => return Err(e),
        _ => {}
    }
    Ok(TcpStream::from(OwnedFd::from(sock)))
}
