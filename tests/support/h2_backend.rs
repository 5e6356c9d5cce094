//! A hand-written HTTP/2 test server (h2c, prior knowledge): one thread
//! per connection reading frames, one per request answering, responses
//! compressed by `loona-hpack`, requests decoded by strata's HPACK decoder
//! (checked against `loona-hpack` in `tests/hpack_differential.rs`). It
//! obeys the proxy's flow-control windows and records every request with
//! the connection it came on, and how many streams were open at once.
//!
//! | path | answer |
//! |---|---|
//! | `/hold` | waits until [`H2Backend::open_gate`], then 200 `hello` |
//! | `/size/N` | N bytes of `pattern(BODY_SEED)` with content-length |
//! | `/nolen/N` | the same without content-length |
//! | `/echo` | the request body back |
//! | `/rst` | RST_STREAM(INTERNAL_ERROR) |
//! | anything else | 200 `hello` |

use super::http_backend::BODY_SEED;
use super::pattern::pattern;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use strata::l7_http::h2::hpack::Decoder;

/// One request as the server saw it.
#[derive(Clone, Debug, Default)]
pub struct H2Req {
    pub conn: usize,
    pub stream: u32,
    pub fields: Vec<(String, String)>, // pseudo-headers included, in order
    pub body: Vec<u8>,
}

impl H2Req {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    requests: Mutex<Vec<H2Req>>,
    conns: AtomicUsize,
    open: AtomicUsize,     // streams open now (all connections)
    max_open: AtomicUsize, // most open at once
    gate: Mutex<bool>,
    gate_cv: Condvar,
    holding: AtomicUsize,
    closed: AtomicUsize, // connections ended (either side closed)
}

/// Flow control and writing, shared by a connection's threads.
struct Writer {
    sock: TcpStream,
    enc: loona_hpack::Encoder<'static>,
    conn_window: i64,
    windows: HashMap<u32, i64>,
    initial: i64,
}

type Shared = Arc<(Mutex<Writer>, Condvar)>;

/// The server; stops accepting when dropped.
pub struct H2Backend {
    port: u16,
    state: Arc<State>,
}

impl H2Backend {
    pub fn start() -> H2Backend {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind the h2 backend");
        let port = l.local_addr().expect("addr").port();
        let state = Arc::new(State::default());
        let st = state.clone();
        std::thread::spawn(move || {
            for sock in l.incoming().flatten() {
                let n = st.conns.fetch_add(1, Ordering::SeqCst) + 1;
                let st = st.clone();
                std::thread::spawn(move || {
                    serve(sock, n, st.clone());
                    st.closed.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        H2Backend { port, state }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.conns.load(Ordering::SeqCst)
    }

    /// Connections that ended so far.
    pub fn closed(&self) -> usize {
        self.state.closed.load(Ordering::SeqCst)
    }

    /// Most streams open at once.
    pub fn max_open(&self) -> usize {
        self.state.max_open.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<H2Req> {
        self.state.requests.lock().expect("lock").clone()
    }

    pub fn holding(&self) -> usize {
        self.state.holding.load(Ordering::SeqCst)
    }

    pub fn wait_holding(&self, n: usize, within: Duration) -> bool {
        super::client::wait_until(within, || self.holding() >= n)
    }

    pub fn open_gate(&self) {
        *self.state.gate.lock().expect("lock") = true;
        self.state.gate_cv.notify_all();
    }
}

impl Drop for H2Backend {
    fn drop(&mut self) {
        self.open_gate();
    }
}

fn read_exact(s: &mut TcpStream, n: usize) -> Option<Vec<u8>> {
    let mut b = vec![0u8; n];
    s.read_exact(&mut b).ok()?;
    Some(b)
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let l = (payload.len() as u32).to_be_bytes();
    let mut f = vec![l[1], l[2], l[3], kind, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn serve(mut sock: TcpStream, conn: usize, st: Arc<State>) {
    if read_exact(&mut sock, 24).as_deref() != Some(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") {
        return;
    }
    let Ok(wsock) = sock.try_clone() else { return };
    let w: Shared = Arc::new((
        Mutex::new(Writer {
            sock: wsock,
            enc: loona_hpack::Encoder::new(),
            conn_window: 65_535,
            windows: HashMap::new(),
            initial: 65_535,
        }),
        Condvar::new(),
    ));
    let settings = frame(4, 0, 0, &[0, 3, 0, 0, 0, 100]);
    if w.0.lock().expect("lock").sock.write_all(&settings).is_err() {
        return;
    }
    let mut dec = Decoder::new(4096);
    let mut pending: HashMap<u32, H2Req> = HashMap::new();
    let mut block: Vec<u8> = Vec::new();
    while let Some(h) = read_exact(&mut sock, 9) {
        let len = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
        let (kind, flags) = (h[3], h[4]);
        let id = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
        let Some(p) = read_exact(&mut sock, len) else { break };
        match kind {
            0 => {
                let r = pending.entry(id).or_default();
                r.body.extend_from_slice(&p);
                if !p.is_empty() {
                    let inc = (p.len() as u32).to_be_bytes();
                    let mut g = w.0.lock().expect("lock");
                    let _ = g.sock.write_all(&frame(8, 0, 0, &inc));
                    if flags & 1 == 0 {
                        let _ = g.sock.write_all(&frame(8, 0, id, &inc));
                    }
                }
                if flags & 1 != 0 {
                    start(pending.remove(&id), &w, &st);
                }
            }
            1 | 9 => {
                block.extend_from_slice(&p);
                if flags & 4 == 0 {
                    continue;
                }
                let mut fields = Vec::new();
                let ok = dec.decode(&block, usize::MAX, |n, v| {
                    fields.push((
                        String::from_utf8_lossy(n).into_owned(),
                        String::from_utf8_lossy(v).into_owned(),
                    ))
                });
                block.clear();
                if ok.is_err() {
                    break;
                }
                st.open.fetch_add(1, Ordering::SeqCst);
                st.max_open.fetch_max(st.open.load(Ordering::SeqCst), Ordering::SeqCst);
                let r = H2Req { conn, stream: id, fields, body: Vec::new() };
                if flags & 1 != 0 {
                    start(Some(r), &w, &st);
                } else {
                    pending.insert(id, r);
                }
            }
            3 if pending.remove(&id).is_some() => {
                st.open.fetch_sub(1, Ordering::SeqCst);
            }
            4 if flags & 1 == 0 => {
                let mut g = w.0.lock().expect("lock");
                for s in p.chunks_exact(6) {
                    if u16::from_be_bytes([s[0], s[1]]) == 4 {
                        let v = u32::from_be_bytes([s[2], s[3], s[4], s[5]]) as i64;
                        let delta = v - g.initial;
                        g.initial = v;
                        for x in g.windows.values_mut() {
                            *x += delta;
                        }
                    }
                }
                let _ = g.sock.write_all(&frame(4, 1, 0, &[]));
                w.1.notify_all();
            }
            6 if flags & 1 == 0 => {
                let _ = w.0.lock().expect("lock").sock.write_all(&frame(6, 1, 0, &p));
            }
            8 if p.len() == 4 => {
                let inc = (u32::from_be_bytes([p[0], p[1], p[2], p[3]]) & 0x7fff_ffff) as i64;
                let mut g = w.0.lock().expect("lock");
                if id == 0 {
                    g.conn_window += inc;
                } else {
                    let initial = g.initial;
                    *g.windows.entry(id).or_insert(initial) += inc;
                }
                w.1.notify_all();
            }
            7 => break,
            _ => {}
        }
    }
    w.1.notify_all();
}

/// Answers a complete request on its own thread.
fn start(req: Option<H2Req>, w: &Shared, st: &Arc<State>) {
    let Some(req) = req else { return };
    let (w, st) = (w.clone(), st.clone());
    std::thread::spawn(move || {
        let path = req.field(":path").unwrap_or("/").to_owned();
        let id = req.stream;
        st.requests.lock().expect("lock").push(req.clone());
        if path.starts_with("/hold") {
            st.holding.fetch_add(1, Ordering::SeqCst);
            let g = st.gate.lock().expect("lock");
            let _g = st.gate_cv.wait_timeout_while(g, Duration::from_secs(60), |open| !*open);
            st.holding.fetch_sub(1, Ordering::SeqCst);
        }
        let (body, length) = if let Some(n) = path.strip_prefix("/size/") {
            (pattern(BODY_SEED, n.parse().unwrap_or(0)), true)
        } else if let Some(n) = path.strip_prefix("/nolen/") {
            (pattern(BODY_SEED, n.parse().unwrap_or(0)), false)
        } else if path == "/echo" {
            (req.body.clone(), true)
        } else {
            (b"hello".to_vec(), true)
        };
        if path == "/rst" {
            let _ = w.0.lock().expect("lock").sock.write_all(&frame(3, 0, id, &2u32.to_be_bytes()));
            st.open.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        let len = body.len().to_string();
        let mut fields: Vec<(&[u8], &[u8])> = vec![(b":status", b"200"), (b"x-h2-backend", b"1")];
        if length {
            fields.push((b"content-length", len.as_bytes()));
        }
        {
            let mut g = w.0.lock().expect("lock");
            let hb = g.enc.encode(fields);
            let f = frame(1, 4 | if body.is_empty() { 1 } else { 0 }, id, &hb);
            let _ = g.sock.write_all(&f);
        }
        let mut at = 0;
        while at < body.len() {
            let (lock, cv) = &*w;
            let mut g = lock.lock().expect("lock");
            let initial = g.initial;
            loop {
                let sw = *g.windows.entry(id).or_insert(initial);
                if sw > 0 && g.conn_window > 0 {
                    break;
                }
                let (ng, t) = cv.wait_timeout(g, Duration::from_secs(30)).expect("wait");
                g = ng;
                if t.timed_out() {
                    return;
                }
            }
            let sw = g.windows[&id];
            let n = (body.len() - at).min(16_384).min(sw as usize).min(g.conn_window as usize);
            let end = at + n == body.len();
            let f = frame(0, if end { 1 } else { 0 }, id, &body[at..at + n]);
            if g.sock.write_all(&f).is_err() {
                return;
            }
            g.conn_window -= n as i64;
            *g.windows.get_mut(&id).expect("window") -= n as i64;
            at += n;
        }
        st.open.fetch_sub(1, Ordering::SeqCst);
    });
}
