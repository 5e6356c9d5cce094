//! The HTTP/2 halves of `alloc_count`: a client speaking HTTP/2 with prior
//! knowledge (one stream after another on one connection) and an h2c
//! server answering every stream, both written with hand-made frames so
//! that they cost the proxy nothing it would not see from a real peer.
//! Header blocks use HPACK's static table and literals only (no dynamic
//! table), which every decoder accepts.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const DATA: u8 = 0;
const HEADERS: u8 = 1;
const SETTINGS: u8 = 4;
const PING: u8 = 6;
const GOAWAY: u8 = 7;
const WINDOW_UPDATE: u8 = 8;
const END_STREAM: u8 = 1;
const END_HEADERS: u8 = 4;
const ACK: u8 = 1;

fn frame(out: &mut Vec<u8>, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
    let len = (payload.len() as u32).to_be_bytes();
    out.extend_from_slice(&[len[1], len[2], len[3], kind, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
}

/// Reads one frame: (kind, flags, stream, payload).
fn read_frame(s: &mut TcpStream, payload: &mut Vec<u8>) -> Option<(u8, u8, u32)> {
    let mut h = [0u8; 9];
    s.read_exact(&mut h).ok()?;
    let len = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
    payload.resize(len, 0);
    s.read_exact(payload).ok()?;
    Some((h[3], h[4], u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff))
}

/// A literal field without indexing whose name is static-table entry `idx`.
fn literal(block: &mut Vec<u8>, idx: u8, value: &[u8]) {
    block.push(idx); // 0000 + 4-bit index (all used here are < 15)
    block.push(value.len() as u8);
    block.extend_from_slice(value);
}

/// A literal field without indexing with a new name.
fn literal_new(block: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    block.push(0);
    block.push(name.len() as u8);
    block.extend_from_slice(name);
    block.push(value.len() as u8);
    block.extend_from_slice(value);
}

/// An HTTP/2 client with prior knowledge on `port`, ready for requests.
pub struct Client {
    s: TcpStream,
    next_id: u32,
    block: Vec<u8>,   // the request's header block, the same for every stream
    out: Vec<u8>,     // frames to send
    payload: Vec<u8>, // last frame read
    unacked: u32,     // DATA bytes received not yet given back
}

impl Client {
    pub fn connect(port: u16) -> Client {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the proxy");
        s.set_nodelay(true).expect("nodelay");
        let mut block = vec![0x82, 0x86]; // :method GET, :scheme http
        literal(&mut block, 4, b"/x"); // :path
        literal(&mut block, 1, b"bench"); // :authority
        literal_new(&mut block, b"x-user", b"alice");
        let mut c = Client { s, next_id: 1, block, out: Vec::new(), payload: Vec::new(), unacked: 0 };
        c.out.extend_from_slice(PREFACE);
        frame(&mut c.out, SETTINGS, 0, 0, &[]);
        c.flush();
        c
    }

    fn flush(&mut self) {
        self.s.write_all(&self.out).expect("send");
        self.out.clear();
    }

    /// `n` requests, one stream at a time, each read to its END_STREAM.
    pub fn run(&mut self, n: u64) {
        for _ in 0..n {
            let id = self.next_id;
            self.next_id += 2;
            let block = std::mem::take(&mut self.block);
            frame(&mut self.out, HEADERS, END_HEADERS | END_STREAM, id, &block);
            self.block = block;
            self.flush();
            loop {
                let (kind, flags, stream) =
                    read_frame(&mut self.s, &mut self.payload).expect("the proxy closed");
                match kind {
                    SETTINGS if flags & ACK == 0 => frame(&mut self.out, SETTINGS, ACK, 0, &[]),
                    PING if flags & ACK == 0 => {
                        let p = std::mem::take(&mut self.payload);
                        frame(&mut self.out, PING, ACK, 0, &p);
                        self.payload = p;
                    }
                    GOAWAY => panic!("GOAWAY from the proxy"),
                    DATA => self.unacked += self.payload.len() as u32,
                    _ => {}
                }
                if stream == id && flags & END_STREAM != 0 && (kind == DATA || kind == HEADERS) {
                    break;
                }
            }
            if self.unacked >= 16_384 {
                frame(&mut self.out, WINDOW_UPDATE, 0, 0, &self.unacked.to_be_bytes());
                self.unacked = 0;
            }
        }
    }
}

/// An h2c server answering every stream with a 200 and `hello`; returns
/// its port.
pub fn server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind the h2 backend");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            std::thread::spawn(move || serve(s));
        }
    });
    port
}

fn serve(mut s: TcpStream) {
    s.set_nodelay(true).ok();
    let mut preface = [0u8; 24];
    if s.read_exact(&mut preface).is_err() || preface != PREFACE {
        return;
    }
    // :status 200, then content-length (static entry 28: the 4-bit prefix
    // full, 15, then 13) literal "5".
    let head = [0x88, 0x0f, 28 - 15, 1, b'5'];
    let mut out = Vec::new();
    frame(&mut out, SETTINGS, 0, 0, &[]);
    let mut payload = Vec::new();
    let mut unacked = 0u32;
    loop {
        if !out.is_empty() {
            if s.write_all(&out).is_err() {
                return;
            }
            out.clear();
        }
        let Some((kind, flags, stream)) = read_frame(&mut s, &mut payload) else { return };
        match kind {
            SETTINGS if flags & ACK == 0 => frame(&mut out, SETTINGS, ACK, 0, &[]),
            PING if flags & ACK == 0 => {
                let p = payload.clone();
                frame(&mut out, PING, ACK, 0, &p);
            }
            DATA => unacked += payload.len() as u32,
            _ => {}
        }
        if flags & END_STREAM != 0 && (kind == HEADERS || kind == DATA) {
            frame(&mut out, HEADERS, END_HEADERS, stream, &head);
            frame(&mut out, DATA, END_STREAM, stream, b"hello");
        }
        if unacked >= 16_384 {
            frame(&mut out, WINDOW_UPDATE, 0, 0, &unacked.to_be_bytes());
            unacked = 0;
        }
    }
}
