//! Test servers: one accept thread on an ephemeral 127.0.0.1 port, one
//! blocking thread per connection. Dropping a server stops its accept
//! thread and shuts down every connection it still holds.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::client::wait_until;
use super::pattern::pattern;

/// A running test server. Built by the constructors below or by
/// [`Backend::spawn`] with any per-connection handler.
pub struct Backend {
    addr: SocketAddr,                          // where it listens (127.0.0.1:ephemeral)
    accepted: Arc<AtomicUsize>,                // connections accepted so far
    stop: Arc<AtomicBool>,                     // tells the accept thread to return
    open: Arc<Mutex<Vec<(usize, TcpStream)>>>, // (accept number, clone) of held sockets, shut down on drop
    thread: Option<JoinHandle<()>>,            // the accept thread
}

impl Backend {
    /// Listen on 127.0.0.1:0 and run `handler` on its own thread for each
    /// accepted connection. The socket stays open (FIN only if the handler
    /// shut it down) until the backend is dropped, even after `handler`
    /// returns.
    pub fn spawn(handler: impl Fn(TcpStream) + Send + Sync + 'static) -> Backend {
        Backend::spawn_inner(handler, false, 0)
    }

    /// Same as [`Backend::spawn`], but the socket is closed as soon as
    /// `handler` returns (so a handler that set `SO_LINGER` 0 resets it).
    pub fn spawn_closing(handler: impl Fn(TcpStream) + Send + Sync + 'static) -> Backend {
        Backend::spawn_inner(handler, true, 0)
    }

    /// [`Backend::spawn_closing`] on a given port (0: ephemeral), e.g. to
    /// listen again where a dropped backend listened.
    pub fn spawn_closing_on(port: u16, handler: impl Fn(TcpStream) + Send + Sync + 'static) -> Backend {
        Backend::spawn_inner(handler, true, port)
    }

    fn spawn_inner(
        handler: impl Fn(TcpStream) + Send + Sync + 'static,
        close_on_return: bool,
        port: u16,
    ) -> Backend {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).expect("backend bind");
        let addr = listener.local_addr().expect("backend local_addr");
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let open = Arc::new(Mutex::new(Vec::new()));
        let handler = Arc::new(handler);
        let thread = {
            let (accepted, stop, open) = (accepted.clone(), stop.clone(), open.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(conn) = conn else { continue };
                    let n = accepted.fetch_add(1, Ordering::SeqCst);
                    let _ = conn.set_nodelay(true);
                    if let Ok(c) = conn.try_clone() {
                        open.lock().unwrap().push((n, c));
                    }
                    let (handler, open) = (handler.clone(), open.clone());
                    std::thread::spawn(move || {
                        handler(conn);
                        if close_on_return {
                            open.lock().unwrap().retain(|(i, _)| *i != n); // drops the last fd: close
                        }
                    });
                }
            })
        };
        Backend { addr, accepted, stop, open, thread: Some(thread) }
    }

    /// Echoes everything; when the client half-closes, closes its own write
    /// side after echoing everything received.
    pub fn echo() -> Backend {
        Backend::spawn(|mut s| {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match s.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        if s.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => return,
                }
            }
            let _ = s.shutdown(Shutdown::Write);
        })
    }

    /// Sends `greeting` at once, then reads and discards until the client
    /// closes.
    pub fn hello(greeting: &'static [u8]) -> Backend {
        Backend::spawn(move |mut s| {
            if s.write_all(greeting).is_err() {
                return;
            }
            let _ = std::io::copy(&mut s, &mut std::io::sink());
        })
    }

    /// Says nothing until the client half-closes; then sends back everything
    /// it received followed by `trailer`, and closes.
    pub fn collect_then_reply(trailer: &'static [u8]) -> Backend {
        Backend::spawn(move |mut s| {
            let mut got = Vec::new();
            if s.read_to_end(&mut got).is_err() {
                return;
            }
            got.extend_from_slice(trailer);
            if s.write_all(&got).is_ok() {
                let _ = s.shutdown(Shutdown::Write);
            }
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept(); it sees `stop` and returns.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Ok(open) = self.open.lock() {
            for (_, s) in open.iter() {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }
}

/// Seed of the byte stream a [`SinkSource`] sends (see [`pattern`]).
pub const SOURCE_SEED: u64 = 0x5EED_0001;

/// Sends `send` bytes of `pattern(SOURCE_SEED, ..)` then closes its write
/// side, while reading everything the client sends until EOF and recording
/// it. Optionally pauses once it has sent `pause_after` bytes until
/// [`SinkSource::release`] is called (every connection, same gate).
pub struct SinkSource {
    backend: Backend,
    gate: Arc<(Mutex<bool>, Condvar)>,  // true once released
    received: Arc<Mutex<Vec<Vec<u8>>>>, // per finished connection: all bytes read
}

impl SinkSource {
    /// No pause: sends everything at once.
    pub fn start(send: usize) -> SinkSource {
        SinkSource::start_paused(send, None)
    }

    /// Pause after `pause_after` bytes (if `Some`) until released.
    pub fn start_paused(send: usize, pause_after: Option<usize>) -> SinkSource {
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let received = Arc::new(Mutex::new(Vec::new()));
        let data = Arc::new(pattern(SOURCE_SEED, send));
        let backend = {
            let (gate, received) = (gate.clone(), received.clone());
            Backend::spawn(move |mut s| {
                let writer = match s.try_clone() {
                    Ok(w) => w,
                    Err(_) => return,
                };
                let (gate, data) = (gate.clone(), data.clone());
                let wt = std::thread::spawn(move || source(writer, &data, pause_after, &gate));
                let mut got = Vec::new();
                let _ = s.read_to_end(&mut got); // until EOF or error: record what came
                let _ = wt.join();
                received.lock().unwrap().push(got);
            })
        };
        SinkSource { backend, gate, received }
    }

    /// Let every paused connection send the rest.
    pub fn release(&self) {
        let (lock, cv) = &*self.gate;
        *lock.lock().unwrap() = true;
        cv.notify_all();
    }

    pub fn port(&self) -> u16 {
        self.backend.port()
    }

    pub fn accepted(&self) -> usize {
        self.backend.accepted()
    }

    /// Received bytes of every connection finished so far, in finish order.
    pub fn received(&self) -> Vec<Vec<u8>> {
        self.received.lock().unwrap().clone()
    }

    /// Wait until `conns` connections have finished (reader saw EOF or an
    /// error and the writer is done); their received bytes, in finish order.
    pub fn wait_received(&self, conns: usize, within: Duration) -> Option<Vec<Vec<u8>>> {
        let done = wait_until(within, || self.received.lock().unwrap().len() >= conns);
        done.then(|| self.received.lock().unwrap().clone())
    }
}

fn source(mut w: TcpStream, data: &[u8], pause_after: Option<usize>, gate: &(Mutex<bool>, Condvar)) {
    let (first, rest) = data.split_at(pause_after.unwrap_or(data.len()).min(data.len()));
    let send = |w: &mut TcpStream, part: &[u8]| part.chunks(16 * 1024).all(|c| w.write_all(c).is_ok());
    if !send(&mut w, first) {
        return;
    }
    if !rest.is_empty() {
        let (lock, cv) = gate;
        let mut open = lock.lock().unwrap();
        while !*open {
            open = cv.wait(open).unwrap();
        }
        drop(open);
        if !send(&mut w, rest) {
            return;
        }
    }
    let _ = w.shutdown(Shutdown::Write);
}
