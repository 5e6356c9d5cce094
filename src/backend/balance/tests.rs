//! The algorithms on hand-built server sets: weights, backups, fullness,
//! avoidance, and HAProxy's choice order where it is deterministic.

use super::*;
use crate::backend::server::SrvAdmin;
use crate::cfg::{HashFn, UriHash};
use std::net::Ipv4Addr;

fn srv(id: u32, weight: u32) -> ServerState {
    let mut s = ServerState::new(&crate::cfg::Server {
        name: format!("s{id}"),
        id,
        addr: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        port: Some(1),
        weight,
        ..Default::default()
    });
    s.admin = SrvAdmin::Ready;
    s
}

fn servers(weights: &[u32]) -> Vec<ServerState> {
    weights.iter().enumerate().map(|(i, &w)| srv(i as u32 + 1, w)).collect()
}

fn picker(balance: Balance, servers: &[ServerState]) -> Picker {
    let weights: Vec<u32> = servers.iter().map(|s| s.weight).collect();
    Picker::with(balance, &weights)
}

/// A request for the pickers.
#[derive(Default)]
struct Req {
    src: Option<IpAddr>,
    uri: Option<&'static [u8]>,
    headers: Vec<(&'static str, &'static [u8])>,
    payload: &'static [u8],
}

impl LbInput for Req {
    fn src(&self) -> IpAddr {
        self.src.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }
    fn uri(&self) -> Option<&[u8]> {
        self.uri
    }
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }
    fn post_body(&self) -> Option<&[u8]> {
        None
    }
    fn payload(&self) -> &[u8] {
        self.payload
    }
}

fn server_of(p: Pick) -> Option<usize> {
    match p {
        Pick::Server(s) => Some(s),
        _ => None,
    }
}

#[test]
fn roundrobin_respects_weights_interleaved() {
    let s = servers(&[3, 1]);
    let mut p = picker(Balance::RoundRobin, &s);
    let picks: Vec<_> = (0..8).map(|_| server_of(p.pick(&s, &Req::default(), None, 0))).collect();
    assert_eq!(picks.iter().filter(|&&i| i == Some(0)).count(), 6);
    assert_eq!(picks.iter().filter(|&&i| i == Some(1)).count(), 2);
    let s = servers(&[1, 1, 1, 1]);
    let mut p = picker(Balance::RoundRobin, &s);
    let picks: Vec<_> = (0..5).filter_map(|_| server_of(p.pick(&s, &Req::default(), None, 0))).collect();
    assert_eq!(picks, [0, 1, 2, 3, 0], "HAProxy's order for equal weights");
}

#[test]
fn only_the_first_backup_unless_allbackups() {
    let mut s = servers(&[1, 1, 1]);
    s[0].up = false;
    s[1].backup = true;
    s[2].backup = true;
    let mut p = picker(Balance::RoundRobin, &s);
    let picks: Vec<_> = (0..4).filter_map(|_| server_of(p.pick(&s, &Req::default(), None, 0))).collect();
    assert_eq!(picks, [1, 1, 1, 1], "HAProxy uses the first backup server only");
    p.all_backups = true;
    let picks: Vec<_> = (0..4).filter_map(|_| server_of(p.pick(&s, &Req::default(), None, 0))).collect();
    assert_eq!(picks, [1, 2, 1, 2], "option allbackups");
}

#[test]
fn uri_hash_lands_where_haproxy_sends_it() {
    // balance-uri.vtc: /url1 -> s2, /url2 -> s3, /url3 -> s4, /url4 -> s1.
    let s = servers(&[1, 1, 1, 1]);
    let mut p = picker(Balance::Uri(UriHash::default()), &s);
    let pick = |p: &mut Picker, uri: &'static [u8]| {
        server_of(p.pick(&s, &Req { uri: Some(uri), ..Req::default() }, None, 0))
    };
    assert_eq!(pick(&mut p, b"/url1"), Some(1));
    assert_eq!(pick(&mut p, b"/url1?ignore=this-arg"), Some(1));
    assert_eq!(pick(&mut p, b"/url2"), Some(2));
    assert_eq!(pick(&mut p, b"/url3"), Some(3));
    assert_eq!(pick(&mut p, b"/url4"), Some(0));
}

#[test]
fn a_hash_pins_to_a_full_server_and_falls_back_without_a_key() {
    let mut s = servers(&[1, 1]);
    s[1].maxconn = Some(1);
    s[1].cur_conns = 1;
    let mut p = picker(Balance::Hdr { name: "x-user".into(), use_domain_only: false }, &s);
    // Find a value that hashes to the full server.
    let full = [&b"a"[..], b"b", b"c", b"d"]
        .into_iter()
        .find(|v| hash::hash(&HashType::default(), v) % 2 == 1)
        .expect("one of them");
    let req = Req { uri: Some(b"/"), headers: vec![("X-User", full)], ..Req::default() };
    assert_eq!(p.pick(&s, &req, None, 0), Pick::Full(1), "wait in s2's queue");
    let no_key = Req { uri: Some(b"/"), ..Req::default() };
    assert_eq!(p.pick(&s, &no_key, None, 0), Pick::Server(0), "round robin skips the full one");
}

#[test]
fn source_hash_xors_the_address_words() {
    let s = servers(&[1, 1, 1]);
    let mut p = picker(Balance::Source, &s);
    let from = |ip: &str| Req { src: Some(ip.parse().expect("ip")), ..Req::default() };
    // 10.0.0.1 = 0x0a000001 -> 167772161 % 3 = 2
    assert_eq!(server_of(p.pick(&s, &from("10.0.0.1"), None, 0)), Some(2));
    assert_eq!(server_of(p.pick(&s, &from("10.0.0.2"), None, 0)), Some(0));
}

#[test]
fn consistent_hashing_keeps_keys_when_a_server_leaves() {
    let mut s = servers(&[1, 1, 1]);
    let mut p = picker(Balance::Uri(UriHash::default()), &s);
    p.hash = HashType { consistent: true, function: HashFn::Sdbm, avalanche: true };
    let uris: Vec<&'static [u8]> = vec![b"/a", b"/b", b"/c", b"/d", b"/e", b"/f", b"/g", b"/h", b"/i", b"/j"];
    let before: Vec<_> = uris
        .iter()
        .map(|u| server_of(p.pick(&s, &Req { uri: Some(u), ..Req::default() }, None, 0)))
        .collect();
    s[1].up = false;
    for (u, b) in uris.iter().zip(&before) {
        let now = server_of(p.pick(&s, &Req { uri: Some(u), ..Req::default() }, None, 0));
        if *b != Some(1) {
            assert_eq!(now, *b, "{u:?} moved");
        }
        assert_ne!(now, Some(1));
    }
}

#[test]
fn leastconn_first_and_random() {
    let mut s = servers(&[1, 1, 1]);
    s[0].cur_conns = 2;
    let mut p = picker(Balance::LeastConn, &s);
    let a = server_of(p.pick(&s, &Req::default(), None, 0)).expect("a server");
    p.moved(a);
    let b = server_of(p.pick(&s, &Req::default(), None, 0)).expect("a server");
    assert!(a != 0 && b != 0 && a != b, "idle ones, in turn");

    let mut s = servers(&[1, 1, 1]);
    s[0].id = 7; // `first` goes by id
    let mut f = picker(Balance::First, &s);
    assert_eq!(f.pick(&s, &Req::default(), None, 0), Pick::Server(1));
    s[1].maxconn = Some(1);
    s[1].cur_conns = 1;
    assert_eq!(f.pick(&s, &Req::default(), None, 0), Pick::Server(2), "s2 is full");
    assert_eq!(f.pick(&s, &Req::default(), Some(2), 0), Pick::Server(0), "avoided");

    let s = servers(&[1, 1, 1]);
    let mut r = picker(Balance::Random { draws: 2 }, &s);
    let mut seen = [0; 3];
    for _ in 0..300 {
        if let Some(i) = server_of(r.pick(&s, &Req::default(), None, 0)) {
            seen[i] += 1;
        }
    }
    assert!(seen.iter().all(|&n| n > 30), "every server drawn: {seen:?}");
}

#[test]
fn slowstart_ramps_the_weight() {
    let mut s = srv(1, 10);
    s.slowstart_s = 10;
    s.maxconn = Some(100);
    s.up = false;
    s.set_up(true, 5_000);
    assert_eq!(s.lb_weight(5_000), 10, "1/16 of the weight at first");
    assert_eq!(s.lb_weight(10_000), 90, "(16*5+10)/10 = 9 sixteenths");
    assert_eq!(s.lb_weight(15_000), 160, "done");
    assert_eq!(s.dyn_maxconn(10_000), Some(50));
    assert_eq!(s.throttle(10_000), Some(50));
    assert_eq!(s.throttle(16_000), None);
}
