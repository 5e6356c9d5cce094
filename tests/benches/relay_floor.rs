//! The e2e benchmark's floor (`tests/benches/e2e/run.sh` runs it beside
//! strata and HAProxy): the least work a proxy can do per request. Each
//! client connection gets its own backend connection and every byte read on
//! one side is sent to the other as is: no parsing, no tables, no logs, no
//! timers. What it costs per small request is the kernel's share, so its
//! ratio to HAProxy is the best any proxy making the same socket calls can
//! show on the machine that runs the benchmark.
//!
//! Usage: `relay_floor epoll|uring LISTEN_PORT BACKEND_PORT` (127.0.0.1).
//! `epoll` works as strata and HAProxy do (mio readiness, one `recv` per
//! readiness unless the buffer filled, then a `send`); `uring` queues every
//! `recv`/`send` on an io_uring and enters the kernel once per batch, to
//! show what io_uring would save. A FIN from either side ends the pair
//! (after what came before it is delivered, in `epoll` mode): no
//! half-close, which the benchmark's loads do not use. Bodies are copied
//! through user space (no `splice`), so for large bodies the floor is not
//! a bound on a splicing proxy's cost.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

/// Bytes read at once, as a proxy's buffer.
const BUF: usize = 16384;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port = |i: usize| -> SocketAddr {
        let p = args.get(i).and_then(|a| a.parse().ok()).unwrap_or_else(|| usage());
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, p).into()
    };
    let (listen, backend) = (port(2), port(3));
    let listener = listen_socket(listen);
    match args[1].as_str() {
        "epoll" => epoll::run(listener, backend),
        "uring" => uring::run(listener, backend),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!("usage: relay_floor epoll|uring LISTEN_PORT BACKEND_PORT");
    std::process::exit(2)
}

/// A listener with strata's HTTP listener options (quick ACKs off).
fn listen_socket(addr: SocketAddr) -> std::net::TcpListener {
    use socket2::{Domain, Socket, Type};
    let sock = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    sock.set_reuse_address(true).expect("SO_REUSEADDR");
    sock.bind(&addr.into()).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
    sock.listen(1024).expect("listen");
    sock.set_tcp_quickack(false).expect("TCP_QUICKACK");
    sock.into()
}

mod epoll {
    use super::BUF;
    use mio::net::{TcpListener, TcpStream};
    use mio::{Events, Interest, Poll, Token};
    use std::io::{ErrorKind, Read, Write};
    use std::net::SocketAddr;

    const LISTENER: Token = Token(usize::MAX);

    /// One side of a relayed pair: its socket, what is still to be sent to
    /// it (a send came up short; at most one read's worth, as reading the
    /// other side waits until it is sent), whether reading it waits for
    /// that, and whether it reported or sent its FIN.
    struct Side {
        sock: TcpStream,
        unsent: Vec<u8>,
        held: bool,
        hup: bool,
        eof: bool,
    }

    pub fn run(listener: std::net::TcpListener, backend: SocketAddr) {
        listener.set_nonblocking(true).expect("nonblocking");
        let mut listener = TcpListener::from_std(listener);
        let mut poll = Poll::new().expect("epoll");
        poll.registry().register(&mut listener, LISTENER, Interest::READABLE).expect("register");
        let mut pairs: Vec<Option<[Side; 2]>> = Vec::new();
        let mut free: Vec<usize> = Vec::new();
        let mut events = Events::with_capacity(1024);
        let mut buf = vec![0u8; BUF];
        loop {
            if let Err(e) = poll.poll(&mut events, None) {
                assert_eq!(e.kind(), ErrorKind::Interrupted, "poll: {e}");
                continue;
            }
            for ev in events.iter() {
                if ev.token() == LISTENER {
                    while let Ok((client, _)) = listener.accept() {
                        let Ok(server) = TcpStream::connect(backend) else { continue };
                        let _ = client.set_nodelay(true);
                        let _ = server.set_nodelay(true);
                        let i = free.pop().unwrap_or_else(|| {
                            pairs.push(None);
                            pairs.len() - 1
                        });
                        let mut pair = [client, server].map(|sock| Side {
                            sock,
                            unsent: Vec::new(), // allocated on a short send only
                            held: false,
                            hup: false,
                            eof: false,
                        });
                        for (k, side) in pair.iter_mut().enumerate() {
                            poll.registry()
                                .register(
                                    &mut side.sock,
                                    Token(i * 2 + k),
                                    Interest::READABLE | Interest::WRITABLE,
                                )
                                .expect("register");
                        }
                        pairs[i] = Some(pair);
                    }
                    continue;
                }
                let (i, k) = (ev.token().0 / 2, ev.token().0 % 2);
                let Some(pair) = pairs[i].as_mut() else { continue };
                pair[k].hup |= ev.is_read_closed();
                let mut open = flush(&mut pair[k]);
                // Side k took all it was owed: read the other side again.
                if open && pair[k].unsent.is_empty() && pair[1 - k].held {
                    open = relay(pair, 1 - k, &mut buf);
                }
                if open && (ev.is_readable() || ev.is_read_closed()) {
                    open = relay(pair, k, &mut buf);
                }
                // No half-close: a FIN ends the pair once what came before
                // it is delivered.
                let delivered = |from: usize| pair[from].eof && pair[1 - from].unsent.is_empty();
                if !open || delivered(0) || delivered(1) {
                    for side in pair.iter_mut() {
                        let _ = poll.registry().deregister(&mut side.sock);
                    }
                    pairs[i] = None;
                    free.push(i);
                }
            }
        }
    }

    /// Sends what an earlier send left; false when the socket failed.
    fn flush(side: &mut Side) -> bool {
        if side.unsent.is_empty() {
            return true;
        }
        match side.sock.write(&side.unsent) {
            Ok(n) => {
                side.unsent.drain(..n);
                true
            }
            Err(e) => matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::NotConnected),
        }
    }

    /// Reads side `from` and sends what it read to the other side, until
    /// the socket is empty or the other side has bytes it did not take;
    /// false when a socket failed.
    fn relay(pair: &mut [Side; 2], from: usize, buf: &mut [u8]) -> bool {
        pair[from].held = false;
        loop {
            if !pair[1 - from].unsent.is_empty() {
                pair[from].held = true; // resumed when the other side is writable
                return true;
            }
            let n = match pair[from].sock.read(buf) {
                Ok(0) => {
                    pair[from].eof = true;
                    return true;
                }
                Ok(n) => n,
                Err(e) => return e.kind() == ErrorKind::WouldBlock,
            };
            let to = &mut pair[1 - from];
            match to.sock.write(&buf[..n]) {
                Ok(sent) => to.unsent.extend_from_slice(&buf[sent..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::NotConnected) => {
                    to.unsent.extend_from_slice(&buf[..n])
                }
                Err(_) => return false,
            }
            // A short read emptied the socket: no `recv` that would block,
            // unless the FIN was reported (it is read next, no edge follows).
            if n < buf.len() && !pair[from].hup {
                return true;
            }
        }
    }
}

mod uring {
    use super::BUF;
    use io_uring::{IoUring, opcode, squeue, types};
    use std::net::SocketAddr;
    use std::os::fd::{AsRawFd, IntoRawFd, RawFd};

    /// `user_data` of the accept; the others are `pair << 3 | op`.
    const ACCEPT: u64 = u64::MAX;
    const OP_RECV: u64 = 0; // + side
    const OP_SEND: u64 = 2; // + side whose bytes are sent
    const OP_CONNECT: u64 = 4;

    /// One relayed pair. Boxed: the kernel holds pointers into its buffers
    /// and address while operations are in flight, and it is freed only
    /// when none is.
    struct Pair {
        fd: [RawFd; 2],
        buf: [Box<[u8; BUF]>; 2],
        /// Of `buf[k]`: bytes already sent to the other side, bytes read.
        sent: [(usize, usize); 2],
        addr: socket2::SockAddr,
        in_flight: u32,
        closing: bool,
    }

    pub fn run(listener: std::net::TcpListener, backend: SocketAddr) {
        let mut ring: IoUring = IoUring::builder()
            .setup_single_issuer()
            .setup_defer_taskrun()
            .build(4096)
            .expect("io_uring (kernel 6.1 or later)");
        let lfd = listener.as_raw_fd();
        let mut pairs: Vec<Option<Box<Pair>>> = Vec::new();
        let mut free: Vec<usize> = Vec::new();
        let mut done: Vec<(u64, i32)> = Vec::with_capacity(4096);
        push(&mut ring, accept(lfd));
        loop {
            ring.submit_and_wait(1).expect("io_uring_enter");
            done.clear();
            done.extend(ring.completion().map(|c| (c.user_data(), c.result())));
            for &(data, res) in &done {
                if data == ACCEPT {
                    push(&mut ring, accept(lfd));
                    if res >= 0 {
                        start(&mut ring, &mut pairs, &mut free, res, backend);
                    }
                    continue;
                }
                let i = (data >> 3) as usize;
                let Some(pair) = pairs[i].as_mut() else { continue };
                pair.in_flight -= 1;
                let op = data & 7;
                if res < 0 || (res == 0 && op != OP_CONNECT) || pair.closing {
                    close(pair);
                } else if op == OP_CONNECT {
                    recv(&mut ring, pair, i, 0);
                    recv(&mut ring, pair, i, 1);
                } else if op < OP_SEND {
                    let k = op as usize;
                    pair.sent[k] = (0, res as usize);
                    send(&mut ring, pair, i, k);
                } else {
                    let k = (op - OP_SEND) as usize;
                    pair.sent[k].0 += res as usize;
                    if pair.sent[k].0 < pair.sent[k].1 {
                        send(&mut ring, pair, i, k);
                    } else {
                        recv(&mut ring, pair, i, k);
                    }
                }
                if pair.closing && pair.in_flight == 0 {
                    for fd in pair.fd {
                        // SAFETY: the pair's own descriptors, no operation uses them any more.
                        unsafe { libc::close(fd) };
                    }
                    pairs[i] = None;
                    free.push(i);
                }
            }
        }
    }

    fn accept(lfd: RawFd) -> squeue::Entry {
        opcode::Accept::new(types::Fd(lfd), std::ptr::null_mut(), std::ptr::null_mut())
            .build()
            .user_data(ACCEPT)
    }

    /// A new client: its backend socket, connected through the ring.
    fn start(
        ring: &mut IoUring,
        pairs: &mut Vec<Option<Box<Pair>>>,
        free: &mut Vec<usize>,
        cfd: RawFd,
        to: SocketAddr,
    ) {
        use socket2::{Domain, Socket, Type};
        let Ok(server) = Socket::new(Domain::IPV4, Type::STREAM, None) else {
            // SAFETY: the accepted descriptor is ours and used nowhere else.
            unsafe { libc::close(cfd) };
            return;
        };
        let _ = server.set_tcp_nodelay(true);
        let one: libc::c_int = 1;
        // SAFETY: setsockopt on our descriptor with a valid int of the right size.
        unsafe {
            libc::setsockopt(
                cfd,
                libc::IPPROTO_TCP,
                libc::TCP_NODELAY,
                (&one as *const libc::c_int).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        let i = free.pop().unwrap_or_else(|| {
            pairs.push(None);
            pairs.len() - 1
        });
        let pair = Box::new(Pair {
            fd: [cfd, server.into_raw_fd()],
            buf: [Box::new([0; BUF]), Box::new([0; BUF])],
            sent: [(0, 0); 2],
            addr: to.into(),
            in_flight: 1,
            closing: false,
        });
        let connect = opcode::Connect::new(types::Fd(pair.fd[1]), pair.addr.as_ptr().cast(), pair.addr.len())
            .build()
            .user_data(((i as u64) << 3) | OP_CONNECT);
        push(ring, connect);
        pairs[i] = Some(pair);
    }

    fn recv(ring: &mut IoUring, pair: &mut Pair, i: usize, k: usize) {
        pair.in_flight += 1;
        let e = opcode::Recv::new(types::Fd(pair.fd[k]), pair.buf[k].as_mut_ptr(), BUF as u32)
            .build()
            .user_data(((i as u64) << 3) | (OP_RECV + k as u64));
        push(ring, e);
    }

    /// Sends the unsent part of `buf[k]` to the other side.
    fn send(ring: &mut IoUring, pair: &mut Pair, i: usize, k: usize) {
        pair.in_flight += 1;
        let (from, to) = pair.sent[k];
        let e =
            opcode::Send::new(types::Fd(pair.fd[1 - k]), pair.buf[k][from..].as_ptr(), (to - from) as u32)
                .flags(libc::MSG_NOSIGNAL)
                .build()
                .user_data(((i as u64) << 3) | (OP_SEND + k as u64));
        push(ring, e);
    }

    /// Shuts both sockets down: their pending `recv`s end, then the pair is freed.
    fn close(pair: &mut Pair) {
        if !pair.closing {
            pair.closing = true;
            for fd in pair.fd {
                // SAFETY: plain shutdown of the pair's own descriptors.
                unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
            }
        }
    }

    fn push(ring: &mut IoUring, e: squeue::Entry) {
        // SAFETY: each entry points into a boxed `Pair` (buffers, address)
        // that is freed only after every operation on it completed, and a
        // direction has one operation at a time: `buf[k]` is received into
        // only after the send reading it completed.
        while unsafe { ring.submission().push(&e) }.is_err() {
            ring.submit().expect("io_uring_enter");
        }
    }
}
