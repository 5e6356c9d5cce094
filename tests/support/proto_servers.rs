//! Stand-in servers speaking just enough of a protocol for its health
//! check: Redis (`PING`), MySQL (handshake, authentication reply), PostgreSQL
//! (startup reply), LDAP (bind response), SMTP (banner, `HELO` reply), an
//! SSL server hello, an agent (one reply line) and a generic
//! read-then-answer server. Each answers every connection the same way
//! and closes it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::backend::Backend;

/// Reads what the check sends: one read (checks send each message in
/// one write), waiting a moment at most; `_enough` documents the size
/// expected.
fn read_some(s: &mut TcpStream, _enough: usize) -> Vec<u8> {
    let _ = s.set_read_timeout(Some(Duration::from_millis(300)));
    let mut buf = [0u8; 4096];
    match s.read(&mut buf) {
        Ok(n) => buf[..n].to_vec(),
        Err(_) => Vec::new(),
    }
}

/// Reads `enough` bytes (or what came), then answers `reply`.
pub fn answer_after(enough: usize, reply: &'static [u8]) -> Backend {
    Backend::spawn_closing(move |mut s| {
        read_some(&mut s, enough);
        let _ = s.write_all(reply);
    })
}

/// Sends `greeting` first, then, after `enough` bytes, `reply` (if any).
pub fn greet_then(greeting: &'static [u8], enough: usize, reply: &'static [u8]) -> Backend {
    Backend::spawn_closing(move |mut s| {
        let _ = s.write_all(greeting);
        if !reply.is_empty() {
            read_some(&mut s, enough);
            let _ = s.write_all(reply);
        }
        read_some(&mut s, 1);
    })
}

/// Redis: `+PONG` to the check's PING, or an error reply.
pub fn redis(pong: bool) -> Backend {
    answer_after(14, if pong { b"+PONG\r\n" } else { b"-LOADING Redis is loading the dataset\r\n" })
}

/// A MySQL 8.0.19 initial handshake packet (from HAProxy's `mysql-check.vtc`).
pub const MYSQL_HANDSHAKE: &[u8] = &[
    0x4a, 0x00, 0x00, 0x00, 0x0a, 0x38, 0x2e, 0x30, 0x2e, 0x31, 0x39, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x6f,
    0x3c, 0x02, 0x5e, 0x62, 0x49, 0x41, 0x0d, 0x00, 0xff, 0xff, 0xff, 0x02, 0x00, 0xff, 0xc7, 0x15, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7c, 0x18, 0x21, 0x59, 0x10, 0x6e, 0x27, 0x61,
    0x14, 0x43, 0x22, 0x20, 0x00, 0x63, 0x61, 0x63, 0x68, 0x69, 0x6e, 0x67, 0x5f, 0x73, 0x68, 0x61, 0x32,
    0x5f, 0x70, 0x61, 0x73, 0x73, 0x77, 0x6f, 0x72, 0x64, 0x00,
];

/// A MySQL OK packet (sequence 2).
pub const MYSQL_OK: &[u8] = &[0x07, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00];

/// MySQL error 1251 ("Client does not support authentication protocol...").
pub const MYSQL_ERR_1251: &[u8] = b"\x67\x00\x00\x02\xff\xe3\x04Client does not support authentication protocol requested by server; consider upgrading MySQL client";

/// MySQL: the handshake, then (after the client's packet) `reply`.
pub fn mysql(reply: &'static [u8]) -> Backend {
    greet_then(MYSQL_HANDSHAKE, 20, reply)
}

/// PostgreSQL: `AuthenticationOk` (or an `ErrorResponse`) to the startup packet.
pub fn pgsql(ok: bool) -> Backend {
    answer_after(
        8,
        if ok {
            b"R\x00\x00\x00\x08\x00\x00\x00\x00"
        } else {
            b"E\x00\x00\x00\x22SFATAL\x00C28000\x00Mno such role\x00\x00"
        },
    )
}

/// LDAP: a bind response with result `code` (0: success).
pub fn ldap(code: u8) -> Backend {
    let reply: &'static [u8] = match code {
        0 => &[0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00],
        _ => &[0x30, 0x0c, 0x02, 0x01, 0x01, 0x61, 0x07, 0x0a, 0x01, 0x31, 0x04, 0x00, 0x04, 0x00],
    };
    answer_after(14, reply)
}

/// SMTP: `banner`, then `hello_reply` to `HELO`/`EHLO`, then `221` to `QUIT`.
pub fn smtp(banner: &'static [u8], hello_reply: &'static [u8]) -> Backend {
    Backend::spawn_closing(move |mut s| {
        let _ = s.write_all(banner);
        if hello_reply.is_empty() {
            return;
        }
        read_some(&mut s, 5);
        let _ = s.write_all(hello_reply);
        if read_some(&mut s, 5).starts_with(b"QUIT") {
            let _ = s.write_all(b"221 2.0.0 Bye\r\n");
        }
    })
}

/// An SSL server hello record header (enough for `ssl-hello-chk`).
pub fn ssl_server_hello() -> Backend {
    answer_after(10, &[0x16, 0x03, 0x01, 0x00, 0x2a, 0x02, 0x00, 0x00, 0x26, 0x03, 0x01])
}

/// An agent: after `agent-send` (or at once), one reply line.
pub fn agent(line: &'static [u8]) -> Backend {
    Backend::spawn_closing(move |mut s| {
        read_some(&mut s, 1);
        let _ = s.write_all(line);
    })
}
