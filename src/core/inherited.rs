//! Listening sockets handed over by the parent process as `fd@N`: HAProxy's
//! way for a supervisor (VTest, systemd-like launchers, a reloading
//! master) to open a socket itself and pass it in.
//!
//! The configuration checks a descriptor with [`inspect`] while it is
//! parsed (so `-c` reports a bad one, naming it); the worker takes
//! ownership with [`adopt`] when it starts. Between the two nothing else
//! in the process may use the number: the configuration refuses the same
//! `fd@N` twice.

use socket2::{Domain, SockRef, Socket, Type};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd};
use std::path::PathBuf;

/// What an inherited listening socket is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bound {
    Inet(SocketAddr),      // TCP over IPv4 or IPv6
    Unix(Option<PathBuf>), // unix stream socket (None: unnamed or abstract)
}

/// Checks that descriptor `fd` is open, a stream socket, and listening.
/// The error is a sentence in HAProxy's words (`cannot use file
/// descriptor '9' : Bad file descriptor.`, `socket on file descriptor '3'
/// is of the wrong type.`).
pub fn inspect(fd: i32) -> Result<Bound, String> {
    let os = |e: io::Error| {
        let text = e.to_string();
        let text = text.split(" (os error").next().unwrap_or_default().to_owned();
        format!("cannot use file descriptor '{fd}' : {text}.")
    };
    if fd < 0 {
        return Err(os(io::Error::from_raw_os_error(libc::EBADF)));
    }
    // SAFETY: fcntl(F_GETFD) only reads the descriptor's flags; it is
    // valid for any integer and tells whether the descriptor is open.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(os(io::Error::last_os_error()));
    }
    // SAFETY: `fd` was just seen open, and nothing closes it while this
    // function borrows it: start-up is single-threaded and the borrow
    // ends before we return.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let sock = SockRef::from(&borrowed);
    let ty = sock.r#type().map_err(os)?;
    if ty != Type::STREAM {
        return Err(format!("socket on file descriptor '{fd}' is of the wrong type."));
    }
    if !sock.is_listener().map_err(os)? {
        return Err(format!("socket on file descriptor '{fd}' is not listening."));
    }
    let local = sock.local_addr().map_err(os)?;
    match sock.domain().map_err(os)? {
        Domain::IPV4 | Domain::IPV6 => local
            .as_socket()
            .map(Bound::Inet)
            .ok_or_else(|| format!("socket on file descriptor '{fd}' has no address.")),
        Domain::UNIX => Ok(Bound::Unix(local.as_pathname().map(PathBuf::from))),
        _ => Err(format!("socket on file descriptor '{fd}' is of an unsupported family.")),
    }
}

/// Takes ownership of inherited listening socket `fd`, non-blocking. Call
/// once per descriptor, after [`inspect`] accepted it.
pub fn adopt(fd: i32) -> io::Result<Socket> {
    inspect(fd).map_err(io::Error::other)?;
    // SAFETY: `inspect` just found `fd` open and listening. It was
    // inherited from the parent, so no object of this process owns it,
    // and the configuration names each `fd@N` once, so this is its only
    // adoption: the returned socket becomes its single owner.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let sock = Socket::from(owned);
    sock.set_nonblocking(true)?;
    sock.set_cloexec(true)?;
    Ok(sock)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{AsRawFd, IntoRawFd};

    #[test]
    fn closed_and_non_socket_descriptors_are_refused() {
        assert_eq!(inspect(-1), Err("cannot use file descriptor '-1' : Bad file descriptor.".into()));
        let file = std::fs::File::open("/dev/null").map(IntoRawFd::into_raw_fd).unwrap_or(-1);
        assert_eq!(
            inspect(file),
            Err(format!("cannot use file descriptor '{file}' : Socket operation on non-socket."))
        );
        // SAFETY: `file` was just opened by this test and is owned by nothing else.
        drop(unsafe { OwnedFd::from_raw_fd(file) });
        assert!(inspect(file).is_err_and(|e| e.contains("Bad file descriptor")));
    }

    #[test]
    fn listening_tcp_is_adopted_and_others_refused() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = l.local_addr().expect("local addr");
        assert_eq!(inspect(l.as_raw_fd()), Ok(Bound::Inet(addr)));
        let bound = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        bound.bind(&"127.0.0.1:0".parse::<SocketAddr>().expect("addr").into()).expect("bind");
        assert!(inspect(bound.as_raw_fd()).is_err_and(|e| e.ends_with("is not listening.")));
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
        assert!(inspect(udp.as_raw_fd()).is_err_and(|e| e.ends_with("is of the wrong type.")));
        let adopted = adopt(l.into_raw_fd()).expect("adopt");
        assert_eq!(adopted.local_addr().ok().and_then(|a| a.as_socket()), Some(addr));
    }
}
