//! The configuration preprocessor and environment variables, as HAProxy
//! 2.6 reads them, observed on a running proxy: `.if/.elif/.else/.endif`
//! decide which lines exist, `.notice/.warning/.alert` print (an `.alert`
//! refuses the file), and `$VAR` works unquoted in addresses (`bind
//! 127.0.0.1:$PORT`, `server s1 $HOST:$PORT`) while elsewhere only
//! double quotes expand (`"${VAR-default}"`).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use support::{Backend, Proxy, cfg_time, free_port, ms};

fn defaults() -> String {
    format!(
        "defaults\n    mode http\n    timeout connect {}\n    timeout client {}\n    timeout server {}\n",
        cfg_time(ms(1000)),
        cfg_time(ms(5000)),
        cfg_time(ms(5000))
    )
}

fn get(port: u16) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(ms(10_000))).expect("timeout");
    s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").expect("send");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The body of the one answer `.if` selected, for `env`.
fn selected(env: &[(&str, String)]) -> String {
    let port = free_port();
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port}\n\
         .if defined(PICK_A) && !defined(PICK_B)\n    \
             http-request return status 200 content-type text/plain string a\n\
         .elif streq(\"$PICK_B\",yes)\n    \
             http-request return status 200 content-type text/plain string b\n\
         .else\n    \
             .if version_atleast(2.5)\n        \
                 http-request return status 200 content-type text/plain string c\n    \
             .endif\n\
         .endif\n",
        defaults()
    );
    let _p = Proxy::start_with_env(&cfg, &[], env);
    let reply = get(port);
    reply.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned()
}

#[test]
fn conditional_blocks_choose_the_lines() {
    assert_eq!(selected(&[("PICK_A", "1".into())]), "a");
    assert_eq!(selected(&[("PICK_B", "yes".into())]), "b");
    assert_eq!(selected(&[("PICK_A", "1".into()), ("PICK_B", "no".into())]), "c");
}

#[test]
fn message_directives() {
    let port = free_port();
    let cfg = format!(
        "global\n.notice \"starting on {port}\"\n.warning \"careful\"\n{}frontend fe\n    bind 127.0.0.1:{port}\n    \
         http-request return status 200\n",
        defaults()
    );
    let (code, _, err) = Proxy::run_once(&["-c", "-f", "x.cfg"], &[], &[("x.cfg", &cfg)]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.lines().any(|l| l.starts_with("[NOTICE]")
            && l.ends_with(&format!("parsing [x.cfg:2]: 'starting on {port}'."))),
        "{err}"
    );
    assert!(
        err.lines().any(|l| l.starts_with("[WARNING]") && l.ends_with("parsing [x.cfg:3]: 'careful'.")),
        "{err}"
    );
    let cfg = format!(".if !defined(NEEDED_VAR)\n.alert \"set NEEDED_VAR\"\n.endif\n{cfg}");
    let (code, _, err) = Proxy::run_once(&["-c", "-f", "x.cfg"], &[], &[("x.cfg", &cfg)]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.lines().any(|l| l.starts_with("[ALERT]") && l.ends_with("parsing [x.cfg:2]: 'set NEEDED_VAR'.")),
        "{err}"
    );
    let (code, _, err) = Proxy::run_once(&["-c", "-f", "x.cfg"], &[("NEEDED_VAR", "1")], &[("x.cfg", &cfg)]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn unquoted_variables_expand_in_addresses() {
    let backend = Backend::hello(b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\nconnection: close\r\n\r\nbackend");
    let (port, port2) = (free_port(), free_port());
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:$PORTX\n    bind [$ADDR]:${{PORTY}}\n    default_backend be\n\
         backend be\n    server s1 $BACKEND_HOST:$BACKEND_PORT\n",
        defaults()
    );
    let env = [
        ("PORTX", port.to_string()),
        ("PORTY", port2.to_string()),
        ("ADDR", "127.0.0.1".to_owned()),
        ("BACKEND_HOST", "127.0.0.1".to_owned()),
        ("BACKEND_PORT", backend.port().to_string()),
    ];
    let p = Proxy::start_with_env(&cfg, &[], &env);
    assert!(
        support::wait_until(ms(10_000), || p.is_listening(port) && p.is_listening(port2)),
        "{}",
        p.stderr_text()
    );
    assert!(get(port).ends_with("\r\n\r\nbackend"));
    assert!(get(port2).ends_with("\r\n\r\nbackend"));
}

#[test]
fn double_quotes_expand_with_defaults_and_single_quotes_do_not() {
    let port = free_port();
    let cfg = format!(
        "{}frontend fe\n    bind 127.0.0.1:{port}\n    \
         http-request return status 200 content-type text/plain string \"${{GREETING-hi}} '$NAME' \"'$NAME'\n",
        defaults()
    );
    let _p = Proxy::start_with_env(&cfg, &[], &[("NAME", "you".into())]);
    let reply = get(port);
    assert!(reply.ends_with("\r\n\r\nhi 'you' $NAME"), "{reply}");
}
