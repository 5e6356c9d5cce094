//! `mqtt_is_valid` and `mqtt_field_value` on `req.payload(0,0)` /
//! `res.payload(0,0)` in content rules, with the real binary: a CONNECT
//! sent in two parts is waited for and then let through; a PINGREQ (not
//! parsed, so not valid) is rejected; a CONNECT's fields reach the log
//! through variables; a server's invalid CONNACK is dropped by the
//! backend's `tcp-response` rule. The converters did not exist, so such a
//! config did not load.
//!
//! Validated against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::syslog::LogReceiver;
use support::{Backend, Proxy, cfg_time, free_port, ms};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex")).collect()
}

/// MQTT 3.1.1 CONNECT, client id `test_sub`, user `test`, password `passwd`.
const CONNECT: &str = "102200044d51545404c2003c0008746573745f7375620004746573740006706173737764";

/// A server that reads `want` bytes, then answers `reply` and closes.
fn broker(want: usize, reply: &'static str) -> Backend {
    Backend::spawn_closing(move |mut s| {
        let mut buf = vec![0u8; want];
        if s.read_exact(&mut buf).is_ok() {
            let _ = s.write_all(&hex(reply));
        }
    })
}

/// Sends `parts` (80 ms apart), then reads until the close.
fn exchange(port: u16, parts: &[Vec<u8>]) -> Vec<u8> {
    let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    c.set_read_timeout(Some(ms(6000))).expect("timeout");
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(Duration::from_millis(80));
        }
        c.write_all(p).expect("send");
    }
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    out
}

#[test]
fn connect_and_connack_are_validated_and_their_fields_read() {
    let logs = LogReceiver::udp();
    let good = broker(36, "20020000");
    let bad = broker(36, "21020000"); // CONNACK with fixed-header flags: invalid
    let (fe, fe_bad) = (free_port(), free_port());
    let cfg = format!(
        "defaults\n    mode tcp\n    timeout connect {}\n    timeout client {}\n    timeout server {}\n\
         frontend fe\n    bind 127.0.0.1:{fe}\n    log {} local0\n    \
         log-format \"id=%[var(sess.id)] user=%[var(sess.user)] vsn=%[var(sess.vsn)] flags=%[var(sess.flags)]\"\n    \
         tcp-request inspect-delay {}\n    \
         tcp-request content reject unless {{ req.payload(0,0),mqtt_is_valid }}\n    \
         tcp-request content set-var(sess.id) req.payload(0,0),mqtt_field_value(connect,client_identifier)\n    \
         tcp-request content set-var(sess.user) req.payload(0,0),mqtt_field_value(connect,username)\n    \
         tcp-request content set-var(sess.vsn) req.payload(0,0),mqtt_field_value(1,protocol_version)\n    \
         tcp-request content set-var(sess.flags) req.payload(0,0),mqtt_field_value(connect,flags)\n    \
         default_backend good\n\
         frontend fe_bad\n    bind 127.0.0.1:{fe_bad}\n    default_backend bad\n\
         backend good\n    server s 127.0.0.1:{}\n    tcp-response inspect-delay {}\n    \
         tcp-response content reject unless {{ res.payload(0,0),mqtt_is_valid }}\n\
         backend bad\n    server s 127.0.0.1:{}\n    tcp-response inspect-delay {}\n    \
         tcp-response content reject unless {{ res.payload(0,0),mqtt_is_valid }}\n",
        cfg_time(ms(1000)),
        cfg_time(ms(5000)),
        cfg_time(ms(5000)),
        logs.target(),
        cfg_time(ms(3000)),
        good.port(),
        cfg_time(ms(3000)),
        bad.port(),
        cfg_time(ms(3000)),
    );
    let _p = Proxy::start(&cfg);
    let connect = hex(CONNECT);
    // In two parts: the frontend waits for the whole packet.
    let got = exchange(fe, &[connect[..10].to_vec(), connect[10..].to_vec()]);
    assert_eq!(got, hex("20020000"), "a valid CONNECT reaches the broker, its CONNACK comes back");
    let line = logs.expect(ms(5000), "the CONNECT's log line");
    assert!(line.contains("id=test_sub user=test vsn=4 flags=194"), "{line}");
    // A PINGREQ is not a packet the converter parses: rejected.
    assert_eq!(exchange(fe, &[hex("c000")]), b"", "PINGREQ rejected");
    assert_eq!(good.accepted(), 1, "the PINGREQ never reached the broker");
    // The backend drops an invalid CONNACK.
    assert_eq!(exchange(fe_bad, std::slice::from_ref(&connect)), b"", "invalid CONNACK dropped");
    assert_eq!(bad.accepted(), 1, "the CONNECT did reach that broker");
}
