//! Server addresses written without a host or a port, as HAProxy takes
//! them: no port connects to the port the client connected to, and an
//! empty host (`server s1 :8080`, or `${HOST}:${PORT}` with both unset)
//! is `0.0.0.0`, which connects to the address the client connected to.
//!
//! Validated against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use support::{Proxy, cfg_time, free_port, ms};

/// A server on 127.0.0.2 only (a connection to 0.0.0.0 or 127.0.0.1 on its
/// port is refused) that greets each connection with `hello` and closes.
fn greeter_on_127_0_0_2(hello: &'static [u8]) -> u16 {
    let l = TcpListener::bind("127.0.0.2:0").expect("bind 127.0.0.2");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let _ = s.write_all(hello);
        }
    });
    port
}

fn reply(addr: (&str, u16)) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(ms(10_000))).expect("timeout");
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn a_server_without_host_connects_to_the_clients_destination_address() {
    let srv_port = greeter_on_127_0_0_2(b"from 127.0.0.2\n");
    let fe = free_port();
    let cfg = format!(
        "defaults\n    mode tcp\n    timeout connect {}\n    timeout client {}\n    timeout server {}\n\
         frontend fe\n    bind 127.0.0.2:{fe}\n    default_backend be\n\
         backend be\n    server s1 ${{STRATA_TEST_UNSET_HOST}}:{srv_port}\n",
        cfg_time(ms(1000)),
        cfg_time(ms(5000)),
        cfg_time(ms(5000))
    );
    let _proxy = Proxy::start(&cfg);
    assert_eq!(reply(("127.0.0.2", fe)), "from 127.0.0.2\n");
}

#[test]
fn server_lines_with_empty_parts_are_accepted() {
    let cfg = "global\n    localpeer A\ndefaults\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n\
               backend be\n    server s1 ${STRATA_TEST_UNSET_A}:${STRATA_TEST_UNSET_P}\n    \
               server s2 127.0.0.1:\n    server s3 :8080\n\
               peers p\n    bind 127.0.0.1:1\n    server A\n    server B ${STRATA_TEST_UNSET_A}:${STRATA_TEST_UNSET_P}\n";
    let (code, out, err) = Proxy::check(cfg);
    assert_eq!(code, 0, "{out}{err}");
}
