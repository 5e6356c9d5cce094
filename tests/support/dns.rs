//! A stand-in DNS server on 127.0.0.1 (UDP): answers A and AAAA
//! questions from a table the test changes while the proxy runs
//! (addresses, NXDOMAIN, REFUSED, silence), counts the questions it got
//! (and the EDNS0 payload size each announced),
//! and [`hello_on`], a TCP server on a chosen loopback address greeting
//! each connection (so a test sees which address a server resolved to).
//! Messages are read and written with `hickory-proto`.

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{RData, Record, RecordType};
use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server says about a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Addrs(Vec<IpAddr>), // NOERROR with the addresses of the asked family (none: an empty answer)
    Nx,
    Refused,
    Silent, // no response at all
}

#[derive(Default)]
struct Table {
    names: HashMap<String, Answer>,
    questions: Vec<(String, RecordType)>,
    payloads: Vec<Option<u16>>, // per question: the EDNS0 payload size announced, if any
}

/// The stand-in DNS server; stops on drop.
pub struct DnsServer {
    port: u16,
    table: Arc<Mutex<Table>>,
    stop: Arc<AtomicBool>,
}

impl DnsServer {
    /// Starts on an ephemeral UDP port of 127.0.0.1. Unknown names get NXDOMAIN.
    pub fn start() -> DnsServer {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind dns");
        sock.set_read_timeout(Some(Duration::from_millis(50))).expect("timeout");
        let port = sock.local_addr().expect("addr").port();
        let table = Arc::new(Mutex::new(Table::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (t, s) = (table.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while !s.load(Ordering::SeqCst) {
                let Ok((n, from)) = sock.recv_from(&mut buf) else { continue };
                if let Some(reply) = answer(&buf[..n], &t) {
                    let _ = sock.send_to(&reply, from);
                }
            }
        });
        DnsServer { port, table, stop }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// What `name` resolves to from now on.
    pub fn set(&self, name: &str, a: Answer) {
        self.table.lock().unwrap().names.insert(name.to_ascii_lowercase(), a);
    }

    /// The questions received so far (name without the final dot, type).
    pub fn questions(&self) -> Vec<(String, RecordType)> {
        self.table.lock().unwrap().questions.clone()
    }

    /// For each question received so far, the UDP payload size its EDNS0
    /// OPT record announced (`None`: the query had no OPT record).
    pub fn payloads(&self) -> Vec<Option<u16>> {
        self.table.lock().unwrap().payloads.clone()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn answer(datagram: &[u8], table: &Mutex<Table>) -> Option<Vec<u8>> {
    let req = Message::from_vec(datagram).ok()?;
    let q = req.queries.first()?.clone();
    let name = q.name().to_ascii().trim_end_matches('.').to_ascii_lowercase();
    let mut t = table.lock().unwrap();
    t.questions.push((name.clone(), q.query_type()));
    t.payloads.push(req.edns.as_ref().map(|e| e.max_payload()));
    let found = t.names.get(&name).cloned().unwrap_or(Answer::Nx);
    drop(t);
    let mut m = Message::response(req.metadata.id, OpCode::Query);
    m.metadata.message_type = MessageType::Response;
    m.metadata.recursion_desired = req.metadata.recursion_desired;
    m.metadata.recursion_available = true;
    m.add_query(q.clone());
    match found {
        Answer::Silent => return None,
        Answer::Nx => m.metadata.response_code = ResponseCode::NXDomain,
        Answer::Refused => m.metadata.response_code = ResponseCode::Refused,
        Answer::Addrs(addrs) => {
            for ip in addrs {
                let data = match (ip, q.query_type()) {
                    (IpAddr::V4(v4), RecordType::A) => RData::A(A(v4)),
                    (IpAddr::V6(v6), RecordType::AAAA) => RData::AAAA(AAAA(v6)),
                    _ => continue,
                };
                m.add_answer(Record::from_rdata(q.name().clone(), 1, data));
            }
        }
    }
    m.to_vec().ok()
}

/// A TCP server on `addr` writing `greeting` to each connection, then
/// closing it; stops when the returned flag is dropped... never: the
/// listener lives as long as the test process (tests are short).
pub fn hello_on(addr: SocketAddr, greeting: &'static [u8]) -> std::io::Result<SocketAddr> {
    let l = TcpListener::bind(addr)?;
    let bound = l.local_addr()?;
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let _ = s.write_all(greeting);
        }
    });
    Ok(bound)
}

/// One port free on both 127.0.0.2 and 127.0.0.3, with a greeting
/// server on each: ("two\n" at .2, "three\n" at .3).
pub fn two_hellos() -> u16 {
    for _ in 0..20 {
        let Ok(a) = hello_on("127.0.0.2:0".parse().unwrap(), b"two\n") else { continue };
        if hello_on(SocketAddr::new("127.0.0.3".parse().unwrap(), a.port()), b"three\n").is_ok() {
            return a.port();
        }
    }
    panic!("no port free on both 127.0.0.2 and 127.0.0.3");
}
