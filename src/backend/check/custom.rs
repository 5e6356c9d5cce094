//! The protocol parsers of the built-in checks (HAProxy's custom expect
//! functions): MySQL's handshake and OK packets, LDAP's bind response.

use super::expect::{Eval, error_message};
use super::program::{Expect, Proto, Step};
use super::status::{Outcome, Status};
use crate::cfg::checks::Custom;

/// Runs parser `c` over `data`.
pub fn eval(c: Custom, step: &Step, e: &Expect, data: &[u8], last_read: bool, is_last: bool) -> Eval {
    match c {
        Custom::MysqlHandshake => mysql_packet(step, e, data, 0, last_read, is_last),
        Custom::MysqlOk => {
            let first = data.get(..3).map_or(0, le24);
            mysql_packet(step, e, data, 4 + first, last_read, is_last)
        }
        Custom::LdapBind => ldap_bind(step, e, data, last_read),
        Custom::SpopHello => super::spop::agent_hello(step, e, data, last_read),
    }
}

fn le24(b: &[u8]) -> usize {
    b[0] as usize | (b[1] as usize) << 8 | (b[2] as usize) << 16
}

/// A MySQL packet at `offset`: an error packet (`0xff`) fails with its
/// code and message; otherwise the check goes on, or, at the last rule,
/// passes with the server version of the handshake as information.
fn mysql_packet(step: &Step, e: &Expect, data: &[u8], offset: usize, last_read: bool, is_last: bool) -> Eval {
    let fail = |status: Status, code: Option<u32>, desc: &str| {
        Eval::Stop(Outcome {
            code,
            ..Outcome::new(status, error_message(step, e, data, false, desc, Proto::Protocol))
        })
    };
    let truncated = |last_read: bool| if last_read { fail(Status::L7Rsp, None, "") } else { Eval::Wait };
    let Some(len) = data.get(offset..offset + 3).map(le24) else { return truncated(last_read) };
    if data.len() < offset + len + 4 {
        return truncated(last_read);
    }
    if data.get(offset + 4) == Some(&0xff) {
        let code = data.get(offset + 5..offset + 7).map(|c| u32::from(c[0]) | u32::from(c[1]) << 8);
        let desc = String::from_utf8_lossy(data.get(offset + 7..).unwrap_or_default()).into_owned();
        return fail(Status::L7Sts, code, &desc);
    }
    if !is_last {
        return Eval::Continue;
    }
    let version = data.get(5..).unwrap_or_default();
    let version = &version[..version.iter().position(|&b| b == 0).unwrap_or(version.len())];
    let status = e.ok_status.map_or(Status::L7Ok, Status::from_cfg);
    // HAProxy's last rule then ends the check again, clearing the text.
    Eval::Passed(Outcome { info_logged_only: true, ..Outcome::new(status, String::from_utf8_lossy(version)) })
}

/// LDAP's bind response (RFC 4511): a `LDAPMessage` with message id 1
/// and a `bindResponse` whose result code is 0.
fn ldap_bind(step: &Step, e: &Expect, data: &[u8], last_read: bool) -> Eval {
    let fail = |status: Status, code: Option<u32>, desc: &str| {
        Eval::Stop(Outcome {
            code,
            ..Outcome::new(status, error_message(step, e, data, false, desc, Proto::Protocol))
        })
    };
    let too_short = || if last_read { fail(Status::L7Rsp, None, "") } else { Eval::Wait };
    let not_ldap = || fail(Status::L7Rsp, None, "Not LDAPv3 protocol");
    let Some(&size) = data.get(1) else { return too_short() };
    let (msglen, nbytes) = if size & 0x80 != 0 {
        let n = (size & 0x7f) as usize;
        let Some(b) = data.get(2..2 + n) else { return too_short() };
        match n {
            4 => (u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize, 4),
            2 => (u16::from_be_bytes([b[0], b[1]]) as usize, 2),
            _ => return not_ldap(),
        }
    } else {
        (size as usize, 0)
    };
    if data.len() < 2 + nbytes + msglen {
        return too_short();
    }
    let mut p = 2 + nbytes;
    if data.get(p..p + 4) != Some(&[0x02, 0x01, 0x01, 0x61][..]) {
        return not_ldap();
    }
    p += 4;
    let skip = data.get(p).map_or(0, |b| if b & 0x80 != 0 { (b & 0x7f) as usize } else { 0 });
    p += 1 + skip;
    if data.get(p..p + 2) != Some(&[0x0a, 0x01][..]) {
        return not_ldap();
    }
    p += 2;
    let Some(&code) = data.get(p) else { return too_short() };
    if code != 0 {
        return fail(
            Status::L7Sts,
            Some(u32::from(code)),
            "See RFC: http://tools.ietf.org/html/rfc4511#section-4.1.9",
        );
    }
    let status = e.ok_status.map_or(Status::L7Ok, Status::from_cfg);
    Eval::Passed(Outcome { code: Some(0), info_logged_only: true, ..Outcome::new(status, "Success") })
}
