//! `show errors`: the last invalid request of a frontend and the last
//! invalid response of a backend, in HAProxy 2.6's layout (header line,
//! who and from where, the error position, the escaped dump), `request`/
//! `response` and proxy filters, `No such proxy.`.

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use support::{HttpConn, Proxy, cli, free_port, get};

#[test]
fn invalid_request_and_response_are_captured() {
    let (stats, fe) = (free_port(), free_port());
    // A server answering an invalid status line to every request.
    let bad = TcpListener::bind("127.0.0.1:0").expect("bind");
    let bad_port = bad.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in bad.incoming().flatten().take(4) {
            let mut conn = conn;
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"HTTP/1.1 2x0 Broken\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let cfg = format!(
        "global\n    stats socket ipv4@127.0.0.1:{stats} level admin\n\
         defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
         frontend fe_main\n    bind 127.0.0.1:{fe}\n    default_backend be_bad\n\
         backend be_bad\n    server s1 127.0.0.1:{bad_port}\n"
    );
    let _proxy = Proxy::start(&cfg);
    let empty = cli(stats, "show errors");
    assert!(empty.starts_with("Total events captured on [") && empty.ends_with("] : 0\n\n"), "{empty:?}");
    let mut c = HttpConn::connect(fe);
    let r = c.request(b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n").expect("400");
    assert_eq!(r.status, 400);
    let r = HttpConn::connect(fe).request(&get("/")).expect("502");
    assert_eq!(r.status, 502);
    let all = cli(stats, "show errors");
    assert!(all.contains("] : 2\n"), "{all}");
    assert!(
        all.contains(
            "] frontend fe_main (#2): invalid request\n  backend <NONE> (#-1), server <NONE> (#-1), event #"
        ),
        "{all}"
    );
    assert!(all.contains(", error at position 28\n"), "{all}");
    assert!(all.contains("  00025  Bad Header\\r\\n\n"), "{all}");
    assert!(all.contains("] backend be_bad (#3): invalid response\n"), "{all}");
    assert!(all.contains("server s1 (#1)"), "{all}");
    assert!(all.contains("  00000  HTTP/1.1 2x0 Broken\\r\\n\n"), "{all}");
    let requests = cli(stats, "show errors fe_main request");
    assert!(requests.contains("invalid request") && !requests.contains("invalid response"), "{requests}");
    let responses = cli(stats, "show errors -1 response");
    assert!(!responses.contains("invalid request") && responses.contains("invalid response"), "{responses}");
    assert_eq!(cli(stats, "show errors nosuch"), "No such proxy.\n\n");
    assert_eq!(cli(stats, "show errors response"), "No such proxy.\n\n"); // the first word is the proxy
}
