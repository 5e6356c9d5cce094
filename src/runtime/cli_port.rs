//! The stats port's sockets: `stats socket` listeners (TCP or unix) and
//! their connections, each running a [`Conversation`]. Connections live in
//! their own slab (token socket number [`CLI_SUB`]).

use crate::cfg::{AccessLevel, ListenAddr, StatsSocket};
use crate::cli::{CliData, Conversation, Flow};
use crate::core::slab::{Key, TokenSlab};
use crate::core::timer::TimerSlot;
use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::{Interest, Registry, Token};
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

/// Socket number marking a token as a runtime API connection's.
pub const CLI_SUB: u8 = 253;

/// Bytes of an abstract unix name (`sun_path` less its leading zero).
const ABNS_LEN: usize = 107;

/// Longest command line accepted (HAProxy's is its buffer size).
const MAX_LINE: usize = 16384;

/// Most bytes read and dropped from a connection being closed.
const MAX_DISCARD: usize = 4 * MAX_LINE;

enum ListenSock {
    Tcp(TcpListener),
    Unix(UnixListener),
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn source(&mut self) -> &mut dyn mio::event::Source {
        match self {
            Stream::Tcp(s) => s,
            Stream::Unix(s) => s,
        }
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }
}

/// One `stats socket` line, bound.
pub struct CliListener {
    sock: ListenSock,
    level: AccessLevel,
    expose_fd: bool, // `expose-fd listeners`: answers `_getsocks` (unix sockets)
}

impl CliListener {
    /// Binds the socket of a `stats socket` line (a stale unix socket file
    /// is replaced, with the `mode` applied).
    pub fn bind(spec: &StatsSocket) -> io::Result<CliListener> {
        let sock = match &spec.addr {
            ListenAddr::Tcp(addr) => ListenSock::Tcp(
                crate::l4_conn::Listener::bind(*addr, usize::MAX, false, &Default::default(), true, 1024)?
                    .sock,
            ),
            ListenAddr::Unix(path) => {
                let _ = std::fs::remove_file(path);
                let l = UnixListener::bind(path)?;
                if let Some(mode) = spec.mode {
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
                }
                if spec.uid.is_some() || spec.gid.is_some() {
                    std::os::unix::fs::chown(path, spec.uid, spec.gid)?;
                }
                ListenSock::Unix(l)
            }
            ListenAddr::Abns(name) => {
                use std::os::linux::net::SocketAddrExt;
                // As HAProxy: the name fills the whole address, padded with zeros.
                let mut padded = name.as_bytes().to_vec();
                padded.resize(ABNS_LEN.max(padded.len()), 0);
                let addr = std::os::unix::net::SocketAddr::from_abstract_name(&padded)?;
                let l = std::os::unix::net::UnixListener::bind_addr(&addr)?;
                l.set_nonblocking(true)?;
                ListenSock::Unix(UnixListener::from_std(l))
            }
            ListenAddr::Fd(fd) => {
                let sock = crate::core::inherited::adopt(*fd)?;
                if sock.domain()? == socket2::Domain::UNIX {
                    ListenSock::Unix(UnixListener::from_std(sock.into()))
                } else {
                    ListenSock::Tcp(TcpListener::from_std(sock.into()))
                }
            }
        };
        Ok(CliListener { sock, level: spec.level, expose_fd: spec.expose_fd })
    }

    pub fn register(&mut self, registry: &Registry, token: Token) -> io::Result<()> {
        match &mut self.sock {
            ListenSock::Tcp(l) => registry.register(l, token, Interest::READABLE),
            ListenSock::Unix(l) => registry.register(l, token, Interest::READABLE),
        }
    }

    fn accept(&self) -> io::Result<Option<Stream>> {
        let r = match &self.sock {
            ListenSock::Tcp(l) => l.accept().map(|(s, _)| Stream::Tcp(s)),
            ListenSock::Unix(l) => l.accept().map(|(s, _)| Stream::Unix(s)),
        };
        match r {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// One runtime API connection.
pub struct CliConn {
    stream: Stream,
    conv: Conversation,
    out: Vec<u8>,          // reply bytes not yet written
    closing: bool,         // close once `out` is written
    expose_fd: bool,       // a unix socket with `expose-fd listeners`, nothing received yet
    pub deadline: Instant, // `stats timeout` from the last activity
    pub timer: TimerSlot,
}

/// All runtime API connections of a worker.
#[derive(Default)]
pub struct CliConns {
    slab: TokenSlab<CliConn>,
}

impl CliConns {
    /// Accepts every pending connection of `listener`; returns the keys of
    /// the new connections (the worker counts and arms them).
    pub fn accept_all(
        &mut self,
        listener: &CliListener,
        registry: &Registry,
        now: Instant,
        idle: Duration,
    ) -> Vec<Key> {
        let mut keys = Vec::new();
        while let Ok(Some(mut stream)) = listener.accept() {
            let key = self.slab.vacant_key();
            let expose_fd = listener.expose_fd && matches!(stream, Stream::Unix(_));
            if registry
                .register(stream.source(), key.token(CLI_SUB), Interest::READABLE | Interest::WRITABLE)
                .is_err()
            {
                continue;
            }
            self.slab.insert(CliConn {
                stream,
                conv: Conversation::new(listener.level, MAX_LINE),
                out: Vec::new(),
                closing: false,
                expose_fd,
                deadline: now + idle,
                timer: TimerSlot::default(),
            });
            keys.push(key);
        }
        keys
    }

    pub fn get_mut(&mut self, key: Key) -> Option<&mut CliConn> {
        self.slab.get_mut(key)
    }

    /// Reads, answers and writes as far as possible. Returns false when the
    /// connection is finished (it is then removed and closed).
    pub fn drive(
        &mut self,
        key: Key,
        registry: &Registry,
        data: &mut dyn CliData,
        now: Instant,
        idle: Duration,
    ) -> bool {
        let Some(c) = self.slab.get_mut(key) else { return false };
        let alive = c.drive(data, now, idle);
        if !alive && let Some(mut c) = self.slab.remove(key) {
            let _ = registry.deregister(c.stream.source());
        }
        alive
    }

    /// Closes a connection whose `stats timeout` passed.
    pub fn expire(&mut self, key: Key, registry: &Registry, now: Instant) -> bool {
        let expired = self.slab.get_mut(key).is_some_and(|c| c.deadline <= now);
        if expired && let Some(mut c) = self.slab.remove(key) {
            let _ = registry.deregister(c.stream.source());
        }
        expired
    }

    /// Open runtime API connections.
    pub fn count(&self) -> usize {
        self.slab.len()
    }
}

impl CliConn {
    fn drive(&mut self, data: &mut dyn CliData, now: Instant, idle: Duration) -> bool {
        let mut buf = [0u8; 4096];
        while !self.closing {
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    self.conv.finish(data, &mut self.out);
                    self.closing = true;
                }
                Ok(n) if self.expose_fd && buf[..n].starts_with(b"_getsocks") => {
                    // a new process (`-x`) takes the listening sockets
                    if let Stream::Unix(u) = &self.stream {
                        use std::os::fd::AsRawFd;
                        let fds = data.listener_fds();
                        match crate::l4_conn::fdpass::send(u.as_raw_fd(), &fds) {
                            Ok(()) => {
                                log::info!(target: "runtime", "{} listening sockets handed over (_getsocks)", fds.len())
                            }
                            Err(e) => log::warn!(target: "runtime", "_getsocks: {e}"),
                        }
                    }
                    self.closing = true;
                }
                Ok(n) => {
                    self.expose_fd = false;
                    self.deadline = now + idle;
                    if self.conv.feed(&buf[..n], data, &mut self.out) == Flow::Close {
                        self.closing = true;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        while !self.out.is_empty() {
            match self.stream.write(&self.out) {
                Ok(0) => return false,
                Ok(n) => {
                    self.out.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        if self.closing {
            // Discard what is left unread so closing sends FIN, not RST
            // (which could destroy the reply in flight); but at most
            // MAX_DISCARD bytes: a client streaming without end (an
            // endless line) must not keep the worker reading it.
            let mut left = MAX_DISCARD;
            while left > 0
                && let Ok(n) = self.stream.read(&mut buf)
                && n > 0
            {
                left -= n.min(left);
            }
        }
        !self.closing
    }
}
