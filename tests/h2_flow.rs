//! HTTP/2 flow control: 10 MiB each way through 64 KiB windows, byte for
//! byte. The client announces a 64 KiB stream window and gives it back
//! only as it reads, the proxy announces 64 KiB (`tune.h2.initial-window-size
//! 65536`) and gives it back only as the server takes the body: neither
//! side may send past the other's window (the client asserts the proxy
//! never does), and nothing is lost or reordered.

mod support;

use std::time::Duration;
use support::h2_client::*;
use support::*;

const TEN_MIB: usize = 10 * 1024 * 1024;
const LIMIT: Duration = Duration::from_secs(60);

fn setup() -> (HttpBackend, Proxy, u16) {
    let backend = HttpBackend::start();
    let (port, h2port) = (free_port(), free_port());
    let cfg = HttpCfg::new(port, Some(backend.port()))
        .global("tune.h2.initial-window-size 65536")
        .frontend(&format!("bind 127.0.0.1:{h2port} proto h2"));
    (backend, Proxy::start(&cfg.render()), h2port)
}

#[test]
fn ten_mib_download_through_a_64k_window() {
    let (_backend, _proxy, port) = setup();
    let mut c = H2Conn::connect_with(port, &[(0x4, 65_536)]);
    let id = c.get(&format!("/size/{TEN_MIB}"));
    let (res, end) = c.run(&[id], LIMIT);
    assert!(end.is_none(), "{end:?}");
    let r = &res[&id];
    assert_eq!((r.status, r.body.len()), (Some(200), TEN_MIB));
    assert!(
        r.body == pattern(BODY_SEED, TEN_MIB),
        "first difference at {:?}",
        first_difference(&r.body, &pattern(BODY_SEED, TEN_MIB))
    );
    // The proxy never sent a DATA frame past the window it was given.
    let mut window: i64 = 65_536;
    for f in c.frames.iter().filter(|f| f.stream == id) {
        if f.kind == DATA {
            window -= f.payload.len() as i64;
            assert!(window >= 0, "DATA past the stream window");
            window += f.payload.len() as i64; // the client gave it back at once
        }
    }
    assert!(
        c.frames.iter().all(|f| f.kind != DATA || f.payload.len() <= 16_384),
        "frames within the default max size"
    );
}

#[test]
fn ten_mib_upload_through_a_64k_window() {
    let (backend, _proxy, port) = setup();
    let mut c = H2Conn::connect(port);
    assert!(c.server_settings.contains(&(0x4, 65_536)), "{:?}", c.server_settings);
    let body = pattern(11, TEN_MIB);
    let id = c.request("POST", "/echo", &[("content-length", &TEN_MIB.to_string())], false);
    c.data(id, &body, true);
    let (res, end) = c.run(&[id], LIMIT);
    assert!(end.is_none(), "{end:?}");
    let r = &res[&id];
    assert_eq!((r.status, r.body.len()), (Some(200), TEN_MIB));
    assert!(r.body == body, "first difference at {:?}", first_difference(&r.body, &body));
    let got = backend.wait_requests(1, ms(5000)).expect("the request at the server");
    assert_eq!(got[0].body_len, TEN_MIB as u64);
    assert_eq!(got[0].body_hash, fingerprint(&body));
}

#[test]
fn a_client_sending_past_its_window_gets_a_flow_control_error() {
    let backend = HttpBackend::start();
    let (port, h2port) = (free_port(), free_port());
    let cfg = HttpCfg::new(port, Some(backend.port()))
        .global("tune.h2.initial-window-size 1000")
        .frontend(&format!("bind 127.0.0.1:{h2port} proto h2"));
    let _proxy = Proxy::start(&cfg.render());
    let mut c = H2Conn::connect(h2port);
    c.respect_windows = false;
    let id = c.request("POST", "/echo", &[], false);
    c.send(DATA, 0, id, &[0u8; 2000]); // 1000 allowed
    let (res, _) = c.run(&[id], Duration::from_secs(10));
    assert_eq!(res[&id].reset, Some(FLOW_CONTROL_ERROR));
    // The connection goes on.
    let id = c.get("/");
    assert_eq!(c.run(&[id], Duration::from_secs(10)).0[&id].status, Some(200));
}
