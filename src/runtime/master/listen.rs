//! The master CLI's listening sockets (`-S <addr>[,<option>,<value>...]`):
//! `fd@N` (a socket the parent bound, as VTest passes it), `unix@PATH`
//! or a path, `abns@NAME`, `ipv4@`/`ipv6@` or a bare `HOST:PORT`; options
//! `level user|operator|admin` (default admin) and `mode OCTAL` for unix
//! sockets. Every socket is close-on-exec: the workers do not inherit it.

use super::mcli;
use super::procs::Procs;
use crate::cfg::AccessLevel;
use std::net::TcpListener;
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::sync::{Arc, Mutex};

/// One bound master CLI socket.
pub enum McliListener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

/// A bound socket, its name for `show cli sockets`, its level.
pub struct Bound {
    pub sock: McliListener,
    pub name: String,
    pub level: AccessLevel,
}

fn cloexec(fd: i32) {
    // SAFETY: fcntl on a descriptor this process owns; no memory involved.
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
}

/// Binds one `-S` argument; the error is HAProxy-style alert text.
pub fn bind(spec: &str) -> Result<Bound, String> {
    let mut parts = spec.split(',');
    let addr = parts.next().unwrap_or("");
    let mut level = AccessLevel::Admin;
    let mut mode = None;
    while let Some(opt) = parts.next() {
        let value = parts.next().unwrap_or("");
        match opt {
            "level" => {
                level = match value {
                    "admin" => AccessLevel::Admin,
                    "operator" => AccessLevel::Operator,
                    "user" => AccessLevel::User,
                    _ => {
                        return Err(format!(
                            "'level' only supports 'user', 'operator', and 'admin' (got '{value}')"
                        ));
                    }
                }
            }
            "mode" => {
                mode = Some(
                    u32::from_str_radix(value, 8)
                        .map_err(|_| format!("'mode' expects an octal value (got '{value}')"))?,
                )
            }
            _ => {
                return Err(format!(
                    "Cannot create the master CLI socket '{spec}': strata's -S knows only 'level' and 'mode', not '{opt}'"
                ));
            }
        }
    }
    let fail = |e: std::io::Error| format!("Cannot create the master CLI socket '{spec}': {e}");
    let sock = if let Some(n) = addr.strip_prefix("fd@") {
        let fd: i32 =
            n.parse().map_err(|_| format!("Cannot create the master CLI socket '{spec}': bad fd"))?;
        // SAFETY: the parent handed this descriptor over to be adopted;
        // nothing else in the master uses it.
        let s = unsafe { socket2::Socket::from_raw_fd(fd) };
        if !s.is_listener().unwrap_or(false) {
            let _ = s.into_raw_fd(); // not ours to close
            return Err(format!(
                "Cannot create the master CLI socket '{spec}': fd {fd} is not a listening socket"
            ));
        }
        cloexec(fd);
        let unix = s.local_addr().map(|a| a.is_unix()).unwrap_or(false);
        let owned: OwnedFd = s.into();
        if unix {
            McliListener::Unix(UnixListener::from(owned))
        } else {
            McliListener::Tcp(TcpListener::from(owned))
        }
    } else if let Some(path) = addr.strip_prefix("unix@").or_else(|| addr.starts_with('/').then_some(addr)) {
        let _ = std::fs::remove_file(path);
        let l = UnixListener::bind(path).map_err(fail)?;
        if let Some(m) = mode {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(m)).map_err(fail)?;
        }
        McliListener::Unix(l)
    } else if let Some(name) = addr.strip_prefix("abns@") {
        use std::os::linux::net::SocketAddrExt;
        let a = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).map_err(fail)?;
        McliListener::Unix(UnixListener::bind_addr(&a).map_err(fail)?)
    } else {
        let hostport = addr.strip_prefix("ipv4@").or_else(|| addr.strip_prefix("ipv6@")).unwrap_or(addr);
        McliListener::Tcp(TcpListener::bind(hostport).map_err(fail)?)
    };
    let name = match &sock {
        McliListener::Tcp(l) => match l.local_addr() {
            Ok(std::net::SocketAddr::V4(a)) => format!("ipv4@{a}"),
            Ok(std::net::SocketAddr::V6(a)) => format!("ipv6@[{}]:{}", a.ip(), a.port()),
            Err(_) => "unknown".into(),
        },
        McliListener::Unix(l) => match l.local_addr() {
            Ok(a) => match a.as_pathname() {
                Some(p) => format!("unix@{}", p.display()),
                None => {
                    use std::os::linux::net::SocketAddrExt;
                    format!("abns@{}", String::from_utf8_lossy(a.as_abstract_name().unwrap_or_default()))
                }
            },
            Err(_) => "unknown".into(),
        },
    };
    Ok(Bound { sock, name, level })
}

/// Accepts on `b` for the master's life, one thread per connection.
pub fn serve(b: Bound, procs: Arc<Mutex<Procs>>) {
    let level = b.level;
    std::thread::spawn(move || {
        loop {
            let p = procs.clone();
            let spawned = match &b.sock {
                McliListener::Tcp(l) => {
                    l.accept().map(|(s, _)| std::thread::spawn(move || mcli::serve(s, level, &p)))
                }
                McliListener::Unix(l) => {
                    l.accept().map(|(s, _)| std::thread::spawn(move || mcli::serve(s, level, &p)))
                }
            };
            if spawned.is_err() {
                std::thread::sleep(std::time::Duration::from_millis(50)); // EMFILE and such: back off
            }
        }
    });
}
