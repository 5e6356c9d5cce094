//! Hostile HTTP/2 clients: each attack gets the RFC 9113 frame it calls
//! for (GOAWAY or RST_STREAM with its code), a count in `show info`
//! (strata's `H2*` lines after HAProxy's fields) and a warning line on
//! stderr; the proxy keeps serving other clients and memory stays bounded.

mod support;

use std::time::Duration;
use support::h2_client::*;
use support::*;

const LIMIT: Duration = Duration::from_secs(10);

struct Lab {
    _backend: HttpBackend,
    proxy: Proxy,
    port: u16,
    stats: u16,
}

fn lab_with(global: &[&str], defaults: &[&str]) -> Lab {
    let backend = HttpBackend::start();
    let (port, h2port, stats) = (free_port(), free_port(), free_port());
    let mut cfg = HttpCfg::new(port, Some(backend.port()))
        .global(&format!("stats socket ipv4@127.0.0.1:{stats} level admin"))
        .frontend(&format!("bind 127.0.0.1:{h2port} proto h2"));
    for g in global {
        cfg = cfg.global(g);
    }
    for d in defaults {
        cfg = cfg.defaults(d);
    }
    Lab { _backend: backend, proxy: Proxy::start(&cfg.render()), port: h2port, stats }
}

fn lab() -> Lab {
    lab_with(&[], &[])
}

impl Lab {
    fn counter(&self, name: &str) -> u64 {
        info(self.stats)
            .get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in show info"))
    }

    /// The counter reaches 1, a warning names it, and a new client is served.
    fn assert_mitigated(&self, name: &str) {
        assert!(wait_until(ms(5000), || self.counter(name) == 1), "{name} = {}", self.counter(name));
        assert!(wait_until(ms(5000), || self.proxy.stderr_text().contains(name)), "a warning naming {name}");
        let mut c = H2Conn::connect(self.port);
        let id = c.get("/");
        assert_eq!(c.run(&[id], LIMIT).0[&id].status, Some(200), "another client is still served");
    }
}

#[test]
fn rapid_reset_gets_enhance_your_calm() {
    let lab = lab();
    let mut c = H2Conn::connect(lab.port);
    for _ in 0..1000 {
        let id = c.get("/hold");
        c.rst(id, CANCEL);
    }
    assert_eq!(c.expect_goaway(LIMIT), Some(ENHANCE_YOUR_CALM));
    lab.assert_mitigated("H2RapidResets");
}

#[test]
fn continuation_flood_gets_enhance_your_calm() {
    let lab = lab();
    let mut c = H2Conn::connect(lab.port);
    let block = c.block(&[(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "/")]);
    c.send(HEADERS, END_STREAM, 1, &block[..2]);
    for _ in 0..200 {
        c.send(CONTINUATION, 0, 1, &[]);
    }
    assert_eq!(c.expect_goaway(LIMIT), Some(ENHANCE_YOUR_CALM));
    lab.assert_mitigated("H2ContinuationFloods");
}

#[test]
fn a_header_block_that_never_ends_is_bounded() {
    let lab = lab();
    let mut c = H2Conn::connect(lab.port);
    let block = c.block(&[(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "/")]);
    c.send(HEADERS, END_STREAM, 1, &block);
    // 60 CONTINUATION frames of 16 KiB each: under the frame count, over the size.
    for _ in 0..60 {
        c.send(CONTINUATION, 0, 1, &[0x82; 16_384]);
    }
    assert_eq!(c.expect_goaway(LIMIT), Some(ENHANCE_YOUR_CALM));
    lab.assert_mitigated("H2ContinuationFloods");
}

#[test]
fn settings_flood() {
    let lab = lab();
    let mut c = H2Conn::connect(lab.port);
    for _ in 0..200 {
        c.send(SETTINGS, 0, 0, &[]);
    }
    assert_eq!(c.expect_goaway(LIMIT), Some(ENHANCE_YOUR_CALM));
    lab.assert_mitigated("H2SettingsFloods");
}

#[test]
fn ping_flood() {
    let lab = lab();
    let mut c = H2Conn::connect(lab.port);
    for i in 0..500u64 {
        c.send(PING, 0, 0, &i.to_be_bytes());
    }
    assert_eq!(c.expect_goaway(LIMIT), Some(ENHANCE_YOUR_CALM));
    lab.assert_mitigated("H2PingFloods");
}

#[test]
fn empty_data_flood() {
    let lab = lab();
    let mut c = H2Conn::connect(lab.port);
    let id = c.request("POST", "/echo", &[], false);
    for _ in 0..500 {
        c.send(DATA, 0, id, &[]);
    }
    assert_eq!(c.expect_goaway(LIMIT), Some(ENHANCE_YOUR_CALM));
    lab.assert_mitigated("H2EmptyDataFloods");
}

#[test]
fn window_update_flood() {
    let lab = lab();
    let mut c = H2Conn::connect(lab.port);
    for _ in 0..2000 {
        c.window_update(0, 1);
    }
    assert_eq!(c.expect_goaway(LIMIT), Some(ENHANCE_YOUR_CALM));
    lab.assert_mitigated("H2WindowUpdateFloods");
}

#[test]
fn frames_on_closed_streams() {
    let lab = lab();
    let mut c = H2Conn::connect(lab.port);
    let id = c.get("/");
    let (res, _) = c.run(&[id], LIMIT);
    assert_eq!(res[&id].status, Some(200));
    c.send(DATA, 0, id, b"late");
    let f = (0..5).find_map(|_| c.read_frame(LIMIT).filter(|f| f.kind == RST_STREAM)).expect("RST_STREAM");
    assert_eq!((f.stream, f.error_code()), (id, Some(STREAM_CLOSED)));
    for _ in 0..200 {
        c.send(DATA, 0, id, b"late");
    }
    assert_eq!(c.expect_goaway(LIMIT), Some(ENHANCE_YOUR_CALM));
    lab.assert_mitigated("H2ClosedStreamFrames");
}

#[test]
fn stream_id_reuse_going_down_or_even() {
    let lab = lab();
    // Stream 5 again once it is over: STREAM_CLOSED (RFC 9113 §5.1,
    // closed); 3 after 5 (never used) and an even id: PROTOCOL_ERROR.
    for (first, second, code) in [(5u32, 5u32, STREAM_CLOSED), (5, 3, PROTOCOL_ERROR), (2, 2, PROTOCOL_ERROR)]
    {
        let mut c = H2Conn::connect(lab.port);
        let block = c.block(&[(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "/")]);
        c.send(HEADERS, END_HEADERS | END_STREAM, first, &block);
        if first % 2 == 1 {
            // The first stream is over (answered) before its id comes again.
            let (res, _) = c.run(&[first], LIMIT);
            assert_eq!(res[&first].status, Some(200));
        }
        let block = c.block(&[(":method", "GET"), (":scheme", "http"), (":authority", "a"), (":path", "/")]);
        c.send(HEADERS, END_HEADERS | END_STREAM, second, &block);
        assert_eq!(c.expect_goaway(LIMIT), Some(code), "{first} then {second}");
    }
    assert!(wait_until(ms(5000), || lab.counter("H2StreamIdErrors") == 3));
}

/// Frames after the client's own RST_STREAM get RST_STREAM STREAM_CLOSED
/// (RFC 9113 §5.1, closed), whether the stream is still draining or gone;
/// a trailer section with a pseudo-header is malformed (§8.1): PROTOCOL_ERROR.
#[test]
fn frames_after_the_clients_reset_and_pseudo_header_trailers() {
    let lab = lab();
    let mut c = H2Conn::connect(lab.port);
    let reset_of = |c: &mut H2Conn, id: u32| {
        (0..10).find_map(|_| c.read_frame(LIMIT).filter(|f| f.kind == RST_STREAM && f.stream == id))
    };
    let id = c.request("POST", "/echo", &[], false);
    c.rst(id, CANCEL);
    c.data(id, b"test", true);
    let f = reset_of(&mut c, id).expect("RST_STREAM for DATA after the client's reset");
    assert_eq!(f.error_code(), Some(STREAM_CLOSED));
    let id = c.request("POST", "/echo", &[], false);
    c.rst(id, CANCEL);
    let block = c.block(&[("x-trailer", "1")]);
    c.send(HEADERS, END_HEADERS | END_STREAM, id, &block);
    let f = reset_of(&mut c, id).expect("RST_STREAM for HEADERS after the client's reset");
    assert_eq!(f.error_code(), Some(STREAM_CLOSED));
    let id = c.request("POST", "/echo", &[], false);
    c.data(id, b"test", false);
    let block = c.block(&[(":method", "POST")]);
    c.send(HEADERS, END_HEADERS | END_STREAM, id, &block);
    let f = reset_of(&mut c, id).expect("RST_STREAM for a pseudo-header in the trailers");
    assert_eq!(f.error_code(), Some(PROTOCOL_ERROR));
    // The connection still serves.
    let id = c.get("/");
    assert_eq!(c.run(&[id], LIMIT).0[&id].status, Some(200));
}

#[test]
fn oversized_frame_gets_frame_size_error() {
    let lab = lab();
    let mut c = H2Conn::connect(lab.port);
    let id = c.request("POST", "/echo", &[], false);
    c.send(DATA, 0, id, &vec![0u8; 16_385]);
    assert_eq!(c.expect_goaway(LIMIT), Some(FRAME_SIZE_ERROR));
    lab.assert_mitigated("H2OversizedFrames");
}

#[test]
fn hpack_bomb_is_refused_without_decoding_it_whole() {
    let lab = lab();
    let mut c = H2Conn::connect(lab.port);
    // One 4000-byte entry, then 2000 one-byte references to it: 8 MB decoded.
    let mut block = vec![0x82, 0x86, 0x84, 0x41, 0x01, b'a', 0x40, 0x01, b'x', 0x7f, 0xa1, 0x1e];
    block.extend(std::iter::repeat_n(b'v', 4000));
    block.extend(std::iter::repeat_n(0xbe, 2000));
    c.send(HEADERS, END_HEADERS | END_STREAM, 1, &block);
    let (res, _) = c.run(&[1], LIMIT);
    assert_eq!(res[&1].reset, Some(REFUSED_STREAM));
    lab.assert_mitigated("H2HpackBombs");
    let before = vm_rss_kib(lab.proxy.pid()).unwrap_or(0);
    for i in 0..50 {
        let id = 3 + 2 * i;
        c.send(HEADERS, END_HEADERS | END_STREAM, id, &block[12 + 4000..]);
    }
    assert!(c.expect_goaway(LIMIT) == Some(ENHANCE_YOUR_CALM), "repeated bombs end the connection");
    let after = vm_rss_kib(lab.proxy.pid()).unwrap_or(0);
    assert!(after < before + 8 * 1024, "RSS {before} -> {after} KiB");
}

#[test]
fn zero_window_stall_is_bounded_by_timeout_client() {
    let lab = lab_with(&[], &["timeout client 1s"]);
    // The client announces a window of 0 and never opens it.
    let mut c = H2Conn::connect_with(lab.port, &[(0x4, 0)]);
    c.auto_window = false;
    let id = c.get("/size/100000");
    let (res, end) = c.run(&[id], Duration::from_secs(8));
    assert!(end.is_none(), "{end:?}");
    assert_eq!((res[&id].status, res[&id].body.len(), res[&id].reset), (Some(200), 0, Some(CANCEL)));
    lab.assert_mitigated("H2ZeroWindowStalls");
}
