//! Peers tests: [`Node`] (one process of a mesh: its ports and config)
//! and [`FakePeer`], a hand-driven peer speaking the protocol's bytes
//! (the handshake as text, messages through `strata::peers::wire`).

use super::launcher::Proxy;
use super::ports::free_port;
use super::stick::scenario_head;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// One process of a mesh: its peer name and ports.
#[derive(Clone, Debug)]
pub struct Node {
    pub name: String,
    pub peer_port: u16, // its `peer` line
    pub stats: u16,     // admin stats socket
    pub fe: u16,        // HTTP frontend tracking `src` into table `t`
}

impl Node {
    pub fn new(name: &str) -> Node {
        Node { name: name.into(), peer_port: free_port(), stats: free_port(), fe: free_port() }
    }
}

/// The table every mesh test shares.
pub const TABLE: &str = "stick-table type ip size 1000 expire 60s peers mesh store conn_cur,conn_cnt,http_req_cnt,gpc0,http_req_rate(10s)";

/// The configuration of `me` in a mesh of `all` (same `peers` section
/// for all, as operators are told to write it). `extra_peers`: more
/// `peer` lines (fake peers).
pub fn mesh_cfg(me: &Node, all: &[Node], extra_peers: &[(&str, u16)]) -> String {
    let mut c = scenario_head(me.stats, Some("http"));
    c.push_str("peers mesh\n");
    for n in all {
        c.push_str(&format!("    peer {} 127.0.0.1:{}\n", n.name, n.peer_port));
    }
    for (n, p) in extra_peers {
        c.push_str(&format!("    peer {n} 127.0.0.1:{p}\n"));
    }
    c.push_str(&format!(
        "frontend fe\n    bind 127.0.0.1:{}\n    tcp-request connection track-sc0 src table t\n\
         \x20   http-request return status 200 content-type text/plain string ok\n\
         backend t\n    {TABLE}\n",
        me.fe
    ));
    c
}

/// Starts `me` of mesh `all` (`-L` names it).
pub fn start(me: &Node, all: &[Node], extra_peers: &[(&str, u16)]) -> Proxy {
    Proxy::start_with_args(&mesh_cfg(me, all, extra_peers), &["-L", &me.name])
}

/// A peer driven by the test, byte by byte.
pub struct FakePeer {
    pub s: TcpStream,
    pub got: Vec<u8>,
}

impl FakePeer {
    /// Connects to a node's peer port and sends `hello` as it is.
    pub fn connect(port: u16, hello: &str) -> FakePeer {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the peer port");
        s.set_read_timeout(Some(Duration::from_millis(50))).expect("timeout");
        let mut p = FakePeer { s, got: Vec::new() };
        p.send(hello.as_bytes());
        p
    }

    pub fn send(&mut self, b: &[u8]) {
        let _ = self.s.write_all(b);
    }

    /// Reads for up to `within` or until `done(received)`; returns whether
    /// the connection was closed by the other side.
    pub fn read_until(&mut self, within: Duration, done: impl Fn(&[u8]) -> bool) -> bool {
        let end = Instant::now() + within;
        let mut buf = [0u8; 65536];
        while Instant::now() < end && !done(&self.got) {
            match self.s.read(&mut buf) {
                Ok(0) => return true,
                Ok(n) => self.got.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
                Err(_) => return true,
            }
        }
        false
    }

    /// The status line the node answered (waits up to `within`).
    pub fn status(&mut self, within: Duration) -> String {
        self.read_until(within, |g| g.contains(&b'\n'));
        let end = self.got.iter().position(|&b| b == b'\n').map_or(self.got.len(), |i| i + 1);
        let line: Vec<u8> = self.got.drain(..end).collect();
        String::from_utf8_lossy(&line).trim_end().to_owned()
    }
}
