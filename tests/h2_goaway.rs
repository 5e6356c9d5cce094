//! Graceful GOAWAY (RFC 9113 §6.8): on a soft stop (SIGUSR1) an HTTP/2
//! connection says GOAWAY NO_ERROR naming the last stream it took, lets
//! that stream finish, then closes; an idle connection says the same when
//! `timeout http-keep-alive` passes. A client that reads GOAWAY knows
//! which requests it may retry elsewhere, instead of seeing a bare close.
//! Both hold for HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::time::Duration;
use support::h2_client::*;
use support::*;

const LIMIT: Duration = Duration::from_secs(10);

/// The last-stream-id of the first GOAWAY received.
fn last_stream(c: &H2Conn) -> Option<u32> {
    let f = c.frames.iter().find(|f| f.kind == GOAWAY)?;
    let p = f.payload.get(..4)?;
    Some(u32::from_be_bytes([p[0], p[1], p[2], p[3]]) & 0x7fff_ffff)
}

#[test]
fn soft_stop_says_goaway_and_lets_the_open_stream_finish() {
    let backend = HttpBackend::start();
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(backend.port()))
        .frontend(&format!("bind 127.0.0.1:{} proto h2", free_port()));
    let mut proxy = Proxy::start(&cfg.render());
    let mut c = H2Conn::connect(port);
    let id = c.get("/hold");
    assert!(backend.wait_holding(1, ms(5000)), "the request reached the server");
    proxy.signal("USR1");
    assert_eq!(c.expect_goaway(LIMIT), Some(NO_ERROR), "a graceful GOAWAY");
    // HAProxy's first GOAWAY names 2^31-1 (RFC 9113 §6.8's two-step
    // shutdown); strata names the last stream it took at once, so the
    // client knows right away which requests will be served.
    let want = if under_haproxy() { 0x7fff_ffff } else { id };
    assert_eq!(last_stream(&c), Some(want), "it names the stream in flight: {:?}", c.frames);
    backend.open_gate();
    let (res, end) = c.run(&[id], LIMIT);
    assert!(end.is_none(), "{end:?}");
    assert_eq!((res[&id].status, res[&id].body.as_slice()), (Some(200), &b"hello"[..]));
    assert!(c.closed_within(LIMIT), "the connection closes once its stream is done");
    assert!(proxy.wait_exit(LIMIT).is_some(), "the soft-stopped process exits");
}

#[test]
fn an_idle_connection_says_goaway_at_keep_alive_timeout() {
    let backend = HttpBackend::start();
    let port = free_port();
    let ka = format!("timeout http-keep-alive {}", cfg_time(ms(300)));
    let cfg = HttpCfg::new(port, Some(backend.port())).defaults(&ka);
    let _proxy = Proxy::start(&cfg.render());
    let mut c = H2Conn::connect(port);
    let id = c.get("/");
    let (res, end) = c.run(&[id], LIMIT);
    assert!(end.is_none(), "{end:?}");
    assert_eq!(res[&id].status, Some(200));
    assert_eq!(c.expect_goaway(LIMIT), Some(NO_ERROR), "GOAWAY once idle past the keep-alive timeout");
    assert_eq!(last_stream(&c), Some(id));
    assert!(c.closed_within(LIMIT), "then the connection closes");
}
