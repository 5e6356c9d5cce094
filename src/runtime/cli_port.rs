//! The stats port's sockets: `stats socket` listeners (TCP or unix) and
//! their connections, each running a [`Conversation`]. Connections live in
//! their own slab (token socket number [`CLI_SUB`]).

use crate::cfg::listen::UnixAddr;
use crate::cfg::{AccessLevel, ListenAddr, SeverityOutput, StatsSocket};
use crate::cli::{CliData, Conversation, Flow};
use crate::core::slab::{Key, TokenSlab};
use crate::core::timer::TimerSlot;
use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use mio::{Interest, Registry, Token};
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

/// Socket number marking a token as a runtime API connection's.
pub const CLI_SUB: u8 = 253;

/// Longest command line accepted (HAProxy's is its buffer size).
const MAX_LINE: usize = 16384;

/// Longest PROXY header waited for (v2 with TLVs included).
const MAX_PROXY_HDR: usize = 4096;

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

/// One `stats socket` line, bound: its socket and what its connections
/// start with. Owned by the first worker.
pub struct CliListener {
    sock: ListenSock,
    level: AccessLevel,
    severity: SeverityOutput, // `severity-output`: how message answers are prefixed
    expose_fd: bool,          // `expose-fd listeners`: answers `_getsocks` (unix sockets)
    accept_proxy: bool,       // `accept-proxy`: connections start with a PROXY header
    maxconn: u32,             // `maxconn` (else `stats maxconn`): live connections at most
    index: usize,             // its place among the `stats socket` lines
}

impl CliListener {
    /// Binds the socket of `stats socket` line number `index` with the
    /// `bind` options it carries (`backlog`, `defer-accept`, `tfo`,
    /// `interface`, `v6only` on TCP; `mode`, `uid`, `gid`, `backlog` on a
    /// unix path, a stale socket file replaced).
    /// `stats_maxconn` (`stats maxconn`) is the live connections of a line
    /// without `maxconn`, and its listen backlog without `backlog`, as HAProxy.
    pub fn bind(spec: &StatsSocket, index: usize, stats_maxconn: u32) -> io::Result<CliListener> {
        let opts = &spec.opts;
        let maxconn = opts.maxconn.filter(|n| *n > 0).unwrap_or(stats_maxconn);
        let unix = |addr: &UnixAddr| -> io::Result<ListenSock> {
            let fd = std::os::fd::OwnedFd::from(crate::l4_conn::unix_listen::bind(addr, opts, maxconn)?);
            Ok(ListenSock::Unix(UnixListener::from_std(fd.into())))
        };
        let sock = match &spec.addr {
            ListenAddr::Tcp(addr) => ListenSock::Tcp(
                crate::l4_conn::Listener::bind(*addr, usize::MAX, false, opts, true, maxconn)?.sock,
            ),
            ListenAddr::Unix(path) => unix(&UnixAddr::Path(path.clone()))?,
            ListenAddr::Abns(name) => unix(&UnixAddr::Abstract(name.clone()))?,
            ListenAddr::Fd(fd) => {
                let sock = crate::core::inherited::adopt(*fd)?;
                if sock.domain()? == socket2::Domain::UNIX {
                    ListenSock::Unix(UnixListener::from_std(sock.into()))
                } else {
                    ListenSock::Tcp(TcpListener::from_std(sock.into()))
                }
            }
        };
        Ok(CliListener {
            sock,
            level: spec.level,
            severity: spec.severity,
            expose_fd: spec.expose_fd,
            accept_proxy: opts.accept_proxy,
            maxconn,
            index,
        })
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
    out: Vec<u8>,           // reply bytes not yet written
    closing: bool,          // close once `out` is written
    expose_fd: bool,        // a unix socket with `expose-fd listeners`, nothing received yet
    proxy: Option<Vec<u8>>, // `accept-proxy`: the bytes received before the whole PROXY header
    listener: usize,        // index of the listener that accepted it
    pub deadline: Instant,  // `stats timeout` from the last activity
    pub timer: TimerSlot,
}

/// All runtime API connections of a worker.
#[derive(Default)]
pub struct CliConns {
    slab: TokenSlab<CliConn>,
    live: Vec<u32>, // live connections per listener index (`maxconn`)
    resume: bool,   // a connection of a listener at its `maxconn` closed
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
        if self.live.len() <= listener.index {
            self.live.resize(listener.index + 1, 0);
        }
        // At `maxconn`, connections wait in the backlog until one closes
        // (the worker then calls this again, as HAProxy resumes a full listener).
        while self.live[listener.index] < listener.maxconn
            && let Ok(Some(mut stream)) = listener.accept()
        {
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
                conv: Conversation::new(listener.level, listener.severity, MAX_LINE),
                out: Vec::new(),
                closing: false,
                expose_fd,
                proxy: listener.accept_proxy.then(Vec::new),
                listener: listener.index,
                deadline: now + idle,
                timer: TimerSlot::default(),
            });
            self.live[listener.index] += 1;
            keys.push(key);
        }
        keys
    }

    fn remove(&mut self, key: Key, registry: &Registry, listeners: &[CliListener]) {
        if let Some(mut c) = self.slab.remove(key) {
            let _ = registry.deregister(c.stream.source());
            if let Some(n) = self.live.get_mut(c.listener) {
                self.resume |= listeners.get(c.listener).is_some_and(|l| *n >= l.maxconn);
                *n -= 1;
            }
        }
    }

    /// Whether a listener stopped at its `maxconn` has a free slot again
    /// since the last call (the worker then accepts on it: edge-triggered
    /// polling will not report the connections waiting in its backlog).
    pub fn take_resume(&mut self) -> bool {
        std::mem::take(&mut self.resume)
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
        listeners: &[CliListener],
        data: &mut dyn CliData,
        now: Instant,
        idle: Duration,
    ) -> bool {
        let Some(c) = self.slab.get_mut(key) else { return false };
        let alive = c.drive(data, now, idle);
        if !alive {
            self.remove(key, registry, listeners);
        }
        alive
    }

    /// Closes a connection whose `stats timeout` passed.
    pub fn expire(&mut self, key: Key, registry: &Registry, listeners: &[CliListener], now: Instant) -> bool {
        let expired = self.slab.get_mut(key).is_some_and(|c| c.deadline <= now);
        if expired {
            self.remove(key, registry, listeners);
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
                Ok(0) if self.proxy.is_some() => return false,
                Ok(0) => {
                    self.conv.finish(data, &mut self.out);
                    self.closing = true;
                }
                Ok(n) if self.proxy.is_some() => {
                    // `accept-proxy`: nothing is a command before the whole header
                    let Some(pending) = self.proxy.as_mut() else { return false };
                    pending.extend_from_slice(&buf[..n]);
                    match crate::l4_conn::proxy_proto::decode(pending) {
                        Ok(None) if pending.len() < MAX_PROXY_HDR => {}
                        Ok(Some(hdr)) => {
                            let rest = pending.split_off(hdr.len);
                            self.proxy = None;
                            self.expose_fd = false;
                            self.deadline = now + idle;
                            if !rest.is_empty() && self.conv.feed(&rest, data, &mut self.out) == Flow::Close {
                                self.closing = true;
                            }
                        }
                        // not a PROXY header: HAProxy closes at once
                        _ => return false,
                    }
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
