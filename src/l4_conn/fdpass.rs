//! Listening sockets handed from an old process to a new one (HAProxy's
//! `-x` and `stats socket ... expose-fd listeners`): the new process sends
//! `_getsocks` on the old one's unix stats socket and receives every
//! listening socket (SCM_RIGHTS), then uses them instead of binding, so no
//! connection waiting in a listen queue is lost while the old process
//! stops.
//!
//! The exchange is HAProxy 2.6's (`_getsocks` in its `cli.c`,
//! `sock_get_old_sockets` in `sock.c`): the old process first sends the
//! number of sockets as a native `int`, then batches of at most 253
//! sockets, each with `[namespace length][namespace][interface
//! length][interface][4 bytes of options]` in the data part (strata sends
//! empty namespace and interface names, and options 0).

use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, recvmsg, sendmsg};
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

/// Sockets per message (HAProxy's MAX_SEND_FD).
const BATCH: usize = 253;
/// Data bytes per socket: two empty names and the options.
const INFO: [u8; 6] = [0, 0, 0, 0, 0, 0];

/// Sockets received and not yet taken by a listener.
static INHERITED: Mutex<Vec<(SocketAddr, OwnedFd)>> = Mutex::new(Vec::new());

/// The socket listening on `addr` that an old process handed over, if any.
pub fn take(addr: SocketAddr) -> Option<OwnedFd> {
    let mut v = INHERITED.lock().unwrap_or_else(PoisonError::into_inner);
    let i = v.iter().position(|(a, _)| *a == addr)?;
    Some(v.swap_remove(i).1)
}

/// Closes the handed-over sockets no listener took (the new configuration
/// no longer binds them). Returns how many.
pub fn drop_unused() -> usize {
    let mut v = INHERITED.lock().unwrap_or_else(PoisonError::into_inner);
    let n = v.len();
    v.clear();
    n
}

fn bound_addr(fd: &OwnedFd) -> Option<SocketAddr> {
    let s = socket2::SockRef::from(fd);
    s.local_addr().ok()?.as_socket()
}

/// The new process's side: asks the old process on unix socket `path`
/// for its listening sockets and keeps them for [`take`]. Returns how
/// many came.
pub fn fetch(path: &Path) -> io::Result<usize> {
    let mut s = UnixStream::connect(path)?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    s.write_all(b"_getsocks\n")?;
    let mut n = [0u8; 4];
    s.read_exact(&mut n)?;
    let total = i32::from_ne_bytes(n);
    let total = usize::try_from(total).map_err(|_| io::Error::other("negative socket count"))?;
    let mut got = Vec::with_capacity(total);
    let mut data = vec![0u8; BATCH * (1 + 255 + 1 + 16 + 4)];
    while got.len() < total {
        let mut iov = [io::IoSliceMut::new(&mut data)];
        let mut space = nix::cmsg_space!([RawFd; BATCH]);
        let msg = recvmsg::<()>(s.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)
            .map_err(io::Error::from)?;
        let mut fds = Vec::new();
        for c in msg.cmsgs().map_err(io::Error::from)? {
            if let ControlMessageOwned::ScmRights(r) = c {
                fds.extend(r);
            }
        }
        if fds.is_empty() {
            return Err(io::Error::other(format!("the old process sent {} of {total} sockets", got.len())));
        }
        for fd in fds {
            // SAFETY: SCM_RIGHTS installed a fresh descriptor in this
            // process for each entry; nothing else owns it.
            got.push(unsafe { OwnedFd::from_raw_fd(fd) });
        }
    }
    let mut v = INHERITED.lock().unwrap_or_else(PoisonError::into_inner);
    let n = got.len();
    for fd in got {
        if let Some(a) = bound_addr(&fd) {
            v.push((a, fd));
        }
    }
    Ok(n)
}

/// The old process's side: sends `fds` on `stream` (the connection that
/// asked `_getsocks`), in HAProxy's format.
pub fn send(stream: RawFd, fds: &[RawFd]) -> io::Result<()> {
    let total = i32::try_from(fds.len()).map_err(|_| io::Error::other("too many sockets"))?;
    let n = total.to_ne_bytes();
    let iov = [io::IoSlice::new(&n)];
    sendmsg::<()>(stream, &iov, &[], MsgFlags::empty(), None).map_err(io::Error::from)?;
    for batch in fds.chunks(BATCH) {
        let info: Vec<u8> = batch.iter().flat_map(|_| INFO).collect();
        let iov = [io::IoSlice::new(&info)];
        let cmsg = [ControlMessage::ScmRights(batch)];
        sendmsg::<()>(stream, &iov, &cmsg, MsgFlags::empty(), None).map_err(io::Error::from)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::os::fd::AsFd;

    #[test]
    fn fdpass_listening_sockets_cross_a_unix_socket() {
        let listeners: Vec<TcpListener> = (0..3).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
        let addrs: Vec<SocketAddr> = listeners.iter().map(|l| l.local_addr().unwrap()).collect();
        let dir = std::env::temp_dir().join(format!("strata-fdpass-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s");
        let server = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let fds: Vec<RawFd> = listeners.iter().map(|l| l.as_fd().as_raw_fd()).collect();
        let t = std::thread::spawn(move || {
            let (c, _) = server.accept().unwrap();
            let mut line = [0u8; 10];
            (&c).read_exact(&mut line).unwrap();
            assert_eq!(&line, b"_getsocks\n");
            send(c.as_raw_fd(), &fds).unwrap();
        });
        assert_eq!(fetch(&path).unwrap(), 3);
        t.join().unwrap();
        // the received socket accepts connections queued on the original
        let fd = take(addrs[1]).expect("socket for the second address");
        let l = TcpListener::from(fd);
        let _c = std::net::TcpStream::connect(addrs[1]).unwrap();
        assert!(l.accept().is_ok());
        assert!(take(addrs[1]).is_none(), "taken once");
        assert_eq!(drop_unused(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
