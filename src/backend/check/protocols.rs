//! The rule sets of HAProxy 2.6's built-in protocol checks, rule for rule
//! as its `proxy_parse_*_check_opt` write them: `redis-check`,
//! `ssl-hello-chk`, `smtpchk`, `pgsql-check`, `mysql-check`, `ldap-check`,
//! `spop-check` (its frames are `spop.rs`'s).

use crate::cfg::checks::{
    CheckAction, CheckKind, CheckMsg, CheckRule, CheckStatus, ConnectRule, Custom, ExpectKind, ExpectRule,
};

/// The rules of a protocol check kind.
pub fn rules(kind: &CheckKind) -> Vec<CheckRule> {
    let mut r = Rules::default();
    match kind {
        CheckKind::Redis => {
            r.send(b"*1\r\n$4\r\nPING\r\n".to_vec());
            r.expect(ExpectRule {
                error_status: Some(CheckStatus::L7Sts),
                on_error: Some(payload(0, false)),
                on_success: Some(CheckMsg::Text("Redis server is ok".into())),
                ..plain(ExpectKind::String(b"+PONG\r\n".to_vec()))
            });
        }
        CheckKind::SslHello => {
            r.send(ssl_client_hello());
            r.expect(ExpectRule {
                min_recv: Some(5),
                ok_status: Some(CheckStatus::L6Ok),
                error_status: Some(CheckStatus::L6Rsp),
                timeout_status: Some(CheckStatus::L6Tout),
                ..plain(ExpectKind::Rbinary("^1[56]".into()))
            });
        }
        CheckKind::Smtp { hello } => {
            r.connect_linger();
            r.expect(ExpectRule {
                min_recv: Some(4),
                error_status: Some(CheckStatus::L7Rsp),
                on_error: Some(payload(0, false)),
                ..plain(ExpectKind::Rstring("^[0-9]{3}[ \r]".into()))
            });
            r.expect(ExpectRule {
                min_recv: Some(4),
                error_status: Some(CheckStatus::L7Sts),
                on_error: Some(payload(4, true)),
                status_code: Some(CheckMsg::PayloadNumber { from: 0, len: 3 }),
                ..plain(ExpectKind::Rstring("^2[0-9]{2}[ \r]".into()))
            });
            r.send(format!("{hello}\r\n").into_bytes());
            // A multi-line EHLO reply: every `250-` line, then `250 `.
            r.expect(ExpectRule {
                min_recv: Some(4),
                error_status: Some(CheckStatus::L7Sts),
                on_error: Some(payload(4, true)),
                on_success: Some(payload(4, true)),
                status_code: Some(CheckMsg::PayloadNumber { from: 0, len: 3 }),
                ..plain(ExpectKind::Rstring("^(2[0-9]{2}-[^\r]*\r\n)*2[0-9]{2}[ \r]".into()))
            });
            // HAProxy 2.6.12 ends the transaction cleanly.
            r.send(b"QUIT\r\n".to_vec());
            r.expect(ExpectRule {
                min_recv: Some(4),
                error_status: Some(CheckStatus::L7Sts),
                on_error: Some(payload(4, true)),
                on_success: Some(payload(4, true)),
                status_code: Some(CheckMsg::PayloadNumber { from: 0, len: 3 }),
                ..plain(ExpectKind::Rstring("^2[0-9]{2}[- \r]".into()))
            });
        }
        CheckKind::Pgsql { user } => {
            r.connect_linger();
            let mut pkt = ((15 + user.len()) as u32).to_be_bytes().to_vec();
            pkt.extend_from_slice(&[0, 3, 0, 0]);
            pkt.extend_from_slice(b"user\0");
            pkt.extend_from_slice(user.as_bytes());
            pkt.extend_from_slice(&[0, 0]);
            r.send(pkt);
            r.expect(ExpectRule {
                negate: true,
                min_recv: Some(5),
                error_status: Some(CheckStatus::L7Rsp),
                on_error: Some(CheckMsg::Payload { from: 6, trim_spaces: false, cut_crlf: false }),
                ..plain(ExpectKind::Rstring("^E".into()))
            });
            r.expect(ExpectRule {
                min_recv: Some(9),
                error_status: Some(CheckStatus::L7Sts),
                on_success: Some(CheckMsg::Text("PostgreSQL server is ok".into())),
                on_error: Some(CheckMsg::Text("PostgreSQL unknown error".into())),
                ..plain(ExpectKind::Rbinary("^52000000(08|0A|0C)000000(00|02|03|04|05|06)".into()))
            });
        }
        CheckKind::Mysql { user, post41 } => {
            r.connect_linger();
            if let Some(u) = user {
                r.send(mysql_auth(u, *post41));
            }
            r.expect(plain(ExpectKind::Custom(Custom::MysqlHandshake)));
            if user.is_some() {
                r.expect(plain(ExpectKind::Custom(Custom::MysqlOk)));
            }
        }
        CheckKind::Ldap => {
            // A simple anonymous bind request (LDAPv3).
            r.send(vec![0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07, 0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00]);
            r.expect(ExpectRule {
                min_recv: Some(14),
                on_error: Some(CheckMsg::Text("Not LDAPv3 protocol".into())),
                ..plain(ExpectKind::Rbinary("^30".into()))
            });
            r.expect(plain(ExpectKind::Custom(Custom::LdapBind)));
        }
        CheckKind::Spop => {
            r.send(super::spop::hello_frame());
            r.expect(ExpectRule { min_recv: Some(4), ..plain(ExpectKind::Custom(Custom::SpopHello)) });
        }
        CheckKind::Connect | CheckKind::Tcp | CheckKind::Http => {}
    }
    r.0
}

/// Rules numbered as they are added.
#[derive(Default)]
struct Rules(Vec<CheckRule>);

impl Rules {
    fn push(&mut self, action: CheckAction) {
        let index = self.0.len();
        self.0.push(CheckRule { action, index, comment: None });
    }

    fn connect_linger(&mut self) {
        self.push(CheckAction::Connect(ConnectRule {
            default: true,
            linger: true,
            ..ConnectRule::default()
        }));
    }

    fn send(&mut self, bytes: Vec<u8>) {
        self.push(CheckAction::Send(bytes));
    }

    fn expect(&mut self, e: ExpectRule) {
        self.push(CheckAction::Expect(e));
    }
}

/// An expect with no option.
fn plain(kind: ExpectKind) -> ExpectRule {
    ExpectRule {
        kind,
        negate: false,
        min_recv: None,
        ok_status: None,
        error_status: None,
        timeout_status: None,
        on_success: None,
        on_error: None,
        status_code: None,
    }
}

/// HAProxy's `%[res.payload(FROM,0)(,ltrim(' '))(,cut_crlf)]`.
fn payload(from: usize, trim_spaces: bool) -> CheckMsg {
    CheckMsg::Payload { from, trim_spaces, cut_crlf: true }
}

/// Where the Unix time goes in [`ssl_client_hello`] (filled in at send).
pub const HELLO_DATE_AT: usize = 11;

/// HAProxy's SSLv3 CLIENT HELLO (RFC 2246 A.3/A.4): 39 common cipher
/// suites, no session id, the time at [`HELLO_DATE_AT`].
pub fn ssl_client_hello() -> Vec<u8> {
    let mut h = vec![0x16, 0x03, 0x00, 0x00, 0x79, 0x01, 0x00, 0x00, 0x75, 0x03, 0x00];
    h.extend_from_slice(&[0; 4]); // Unix time
    h.extend_from_slice(b"HAPROXYSSLCHK\nHAPROXYSSLCHK\n"); // 28 random bytes
    h.push(0x00); // session id length
    h.extend_from_slice(&[0x00, 0x4e]); // cipher suites length: 78
    for c in (0x01..=0x1b).chain(0x2f..=0x3a) {
        h.extend_from_slice(&[0x00, c]);
    }
    h.extend_from_slice(&[0x01, 0x00]); // one compression method: none
    h
}

/// MySQL's client authentication packet (4.1 or older), then `COM_QUIT`.
fn mysql_auth(user: &str, post41: bool) -> Vec<u8> {
    let mut body = Vec::new();
    if post41 {
        body.extend_from_slice(&[0x00, 0x82, 0x00, 0x00]); // client capabilities
        body.extend_from_slice(&[0x00, 0x80, 0x00, 0x01]); // max packet
        body.push(0x21); // charset utf-8
        body.extend_from_slice(&[0; 23]);
    } else {
        body.extend_from_slice(&[0x00, 0x80]);
        body.extend_from_slice(&[0x00, 0x00, 0x01]);
    }
    body.extend_from_slice(user.as_bytes());
    body.push(0); // end of user name
    body.push(0); // filler
    let len = body.len() as u32;
    let mut pkt = vec![(len & 0xff) as u8, ((len >> 8) & 0xff) as u8, ((len >> 16) & 0xff) as u8, 1];
    pkt.extend_from_slice(&body);
    pkt.extend_from_slice(&[0x01, 0x00, 0x00, 0x00, 0x01]); // COM_QUIT
    pkt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_have_haproxys_lengths() {
        let h = ssl_client_hello();
        assert_eq!(h.len(), 5 + 0x79);
        let m = mysql_auth("haproxy", true);
        assert_eq!(&m[..4], &[7 + 7 + 27, 0, 0, 1]);
        assert_eq!(m.len(), 4 + 41 + 5);
        assert_eq!(&mysql_auth("haproxy", false)[..4], &[14, 0, 0, 1]);
        let p = rules(&CheckKind::Pgsql { user: "bob".into() });
        assert!(
            matches!(&p[1].action, CheckAction::Send(b) if b[..4] == 18u32.to_be_bytes() && b.len() == 18)
        );
    }
}
