//! Log line formats, by the lines the proxy writes: `log-format` with
//! HAProxy 2.6's variables and flags (`%ci`, `%HP`, `%{+Q}r`, `%rt`,
//! `%lc`, `%{+X}cp`, `%{+Q,+E}[var(...)]`...), `option httplog clf`,
//! `option tcplog` with `option logasap` (the line before the end, its
//! times and byte counts marked `+`), `log-format-sd` on an RFC 5424
//! target with the proxy's `log-tag`, `error-log-format` for a failed TLS
//! handshake, and the configuration errors and warnings HAProxy gives.
//! Every assertion holds for HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::io::{Read, Write};
use std::time::Duration;

use support::syslog::LogReceiver;
use support::time::{cfg_time, ms};
use support::tls::Pki;
use support::*;

/// Waits until the proxy's stdout holds `n` lines; those lines.
fn stdout_lines(p: &Proxy, n: usize) -> Vec<String> {
    let lines = || p.stdout_text().lines().map(str::to_string).collect::<Vec<_>>();
    wait_until(ms(5000), || lines().len() >= n);
    std::thread::sleep(ms(100)); // a line too many would show now
    lines()
}

#[test]
fn log_format_variables_render_as_haproxys() {
    let be = HttpBackend::start();
    let port = free_port();
    let fmt =
        "%ci|%f|%b|%s|%ST|%HM|%HP|%HPO|%HQ|%HU|%HV|%{+Q}r|%rt|%lc|%{+Q,+E}[var(txn.x)]|%fp|%bc|%ac|%{+X}cp";
    let cfg = HttpCfg::new(port, Some(be.port()))
        .global("log stdout format raw local0")
        .defaults("log global")
        .frontend(&format!("log-format \"{fmt}\""))
        .frontend("http-request set-var(txn.x) req.hdr(x-v)");
    let p = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    let cport = c.stream().local_addr().expect("local").port();
    let r = c.request(b"GET /status/404?x=1 HTTP/1.1\r\nhost: h\r\nx-v: a\"b]c\r\n\r\n").expect("first");
    assert_eq!(r.status, 404);
    assert_eq!(c.request(&get("/")).expect("second").status, 200);
    let lines = stdout_lines(&p, 2);
    let hex = format!("{cport:04X}");
    assert_eq!(
        lines,
        [
            format!(
                "127.0.0.1|fe|be|s1|404|GET|/status/404|/status/404|?x=1|/status/404?x=1|HTTP/1.1|\
                 \"GET /status/404?x=1 HTTP/1.1\"|0|0|\"a\\\"b\\]c\"|{port}|0|1|{hex}"
            ),
            format!(
                "127.0.0.1|fe|be|s1|200|GET|/|/||/|HTTP/1.1|\"GET / HTTP/1.1\"|1|1|\"\"|{port}|0|1|{hex}"
            ),
        ]
    );
}

/// `tune.http.logurilen N`: logs keep the first N bytes of the request
/// line, and `%HU`/`%HV`... read the cut line as HAProxy's do (a line cut
/// in its URI has no version: HTTP/0.9; one cut in its method has no
/// parts: <BADREQ>). The request itself goes on whole.
#[test]
fn tune_http_logurilen_cuts_the_logged_request_line() {
    let be = HttpBackend::start();
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(be.port()))
        .global("log stdout format raw local0")
        .global("tune.http.logurilen 20")
        .defaults("log global")
        // `%ts` too: HAProxy 2.6.12 logs a request-only format twice
        .frontend("log-format \"%{+Q}r|%HM|%HU|%HV|%ts\"");
    let p = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    let long = "/abcdefghijklmnopqrstuvwxyz";
    // the test server answers 404 to these paths: any answer will do
    c.request(&get(long)).expect("long");
    c.request(&get("/a")).expect("short");
    c.request(&get("/abcdefghijklm")).expect("to the version");
    let method = "ABCDEFGHIJKLMNOPQRSTUVWXY"; // a token longer than 20: a valid, unknown method
    c.request(format!("{method} / HTTP/1.1\r\nhost: h\r\n\r\n").as_bytes()).expect("method");
    assert_eq!(be.requests().first().map(|r| r.target.clone()), Some(long.to_string()), "sent whole");
    assert_eq!(
        stdout_lines(&p, 4),
        [
            "\"GET /abcdefghijklmno\"|GET|/abcdefghijklmno|HTTP/0.9|--",
            "\"GET /a HTTP/1.1\"|GET|/a|HTTP/1.1|--",
            "\"GET /abcdefghijklm H\"|GET|/abcdefghijklm|H|--",
            "\"ABCDEFGHIJKLMNOPQRST\"|<BADREQ>|<BADREQ>|<BADREQ>|--",
        ]
    );
}

#[test]
fn httplog_clf_is_the_common_log_format_with_haproxys_fields() {
    let be = HttpBackend::start();
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(be.port()))
        .global("log stdout format raw local0")
        .defaults("log global")
        .frontend("option httplog clf");
    let p = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    let cport = c.stream().local_addr().expect("local").port();
    let r = c.request(&get("/size/10?q")).expect("response");
    let lines = stdout_lines(&p, 1);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let line = &lines[0];
    // 127.0.0.1 - - [06/Dec/2026:22:58:19 +0000] "GET /q HTTP/1.1" 200 N "" "" PORT MS "fe" "be" "s1" TR Tw Tc Tr Ta ---- ac fc bc sc rc sq bq "" "" (a blank last)
    let (head, rest) = line.split_once(" [").expect("date");
    assert_eq!(head, "127.0.0.1 - -");
    let (date, rest) = rest.split_once("] ").expect("date end");
    assert!(date.ends_with(" +0000") && date.len() == 26, "{date}");
    let rest = rest.strip_prefix("\"GET /size/10?q HTTP/1.1\" 200 ").expect("request and status");
    let f: Vec<&str> = rest.split(' ').collect();
    assert!(f[0].parse::<usize>().expect("bytes") >= r.body.len());
    assert_eq!((f[1], f[2], f[3]), ("\"\"", "\"\"", cport.to_string().as_str()), "{line}");
    assert!(f[4].len() == 3 && f[4].bytes().all(|b| b.is_ascii_digit()), "%ms: {line}");
    assert_eq!(&f[5..8], ["\"fe\"", "\"be\"", "\"s1\""], "{line}");
    assert!(f[8..13].iter().all(|t| t.parse::<i64>().is_ok_and(|t| t >= 0)), "timers: {line}");
    assert_eq!(&f[13..], ["----", "1", "1", "0", "0", "0", "0", "0", "\"\"", "\"\"", ""], "{line}");
}

#[test]
fn tcp_logasap_logs_once_connected_with_partial_counts() {
    let echo = Backend::echo();
    let port = free_port();
    let rx = LogReceiver::udp();
    let cfg = format!(
        "global\n    maxconn 100\ndefaults\n    mode tcp\n    timeout connect 1s\n    timeout client {t}\n    timeout server {t}\n\
         frontend ft\n    bind 127.0.0.1:{port}\n    log {} format rfc5424 local0\n    option tcplog\n    option logasap\n\
         \x20   log-tag edge\n    log-format-sd \"[ex@1 fe=\\\"%f\\\"]\"\n    default_backend bt\n\
         backend bt\n    server s1 127.0.0.1:{}\n",
        rx.target(),
        echo.port(),
        t = cfg_time(Duration::from_secs(5)),
    );
    let _p = Proxy::start(&cfg);
    let mut c = connect(port);
    c.write_all(b"ping").expect("send");
    let mut buf = [0u8; 4];
    c.read_exact(&mut buf).expect("echo");
    // The connection is still open: the line came when the server answered the connect.
    let line = rx.expect(ms(3000), "the logasap line");
    assert!(line.starts_with("<134>1 ") && line.contains(" edge "), "RFC 5424 with the proxy's tag: {line}");
    let (_, msg) =
        line.split_once(" - [ex@1 fe=\"ft\"] ").unwrap_or_else(|| panic!("structured data: {line}"));
    let f: Vec<&str> = msg.split(' ').collect();
    assert_eq!(f[2], "ft");
    assert_eq!(f[3], "bt/s1");
    let timers: Vec<&str> = f[4].split('/').collect();
    assert!(timers[2].starts_with('+'), "%Tt marked partial: {msg}");
    assert!(f[5].starts_with('+'), "%B marked partial: {msg}");
    assert_eq!(f[6], "--", "{msg}");
    drop(c);
    let more = rx.drain_for(ms(600));
    assert!(more.is_empty(), "logasap logs once, not again at the end: {more:?}");
}

#[test]
fn error_log_format_replaces_the_handshake_failure_line() {
    let pki = Pki::new("Test CA");
    let crt = pki.server("site.pem", &["localhost"]);
    let be = HttpBackend::start();
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(be.port()))
        .global("log stdout format raw local0")
        .defaults("log global")
        .frontend("option httplog")
        .frontend("error-log-format \"%ci|%f|%ft|%ts|%b|%s|%ST|%ac|%fc|%tsc\"")
        .render()
        .replace(
            &format!("bind 127.0.0.1:{port}"),
            &format!("bind 127.0.0.1:{port} ssl crt {}", crt.path.display()),
        );
    let p = Proxy::start(&cfg);
    let mut plain = connect(port);
    plain.write_all(&get("/")).expect("send");
    let mut out = Vec::new();
    let _ = plain.set_read_timeout(Some(ms(5000)));
    let _ = plain.read_to_end(&mut out);
    let lines = stdout_lines(&p, 1);
    assert_eq!(lines, ["127.0.0.1|fe|fe~|PR|fe|<NOSRV>|0|1|1|PR--"]);
}

#[test]
fn format_errors_name_the_line_and_warnings_follow_haproxy() {
    let check = |fe_lines: &str| {
        let cfg = format!(
            "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n\
             frontend fe\n    bind 127.0.0.1:{}\n    log stdout local0\n{fe_lines}    default_backend be\n\
             backend be\n    log-format \"%ci\"\n    server s1 127.0.0.1:1\n",
            free_port()
        );
        let (code, out, err) = Proxy::check(&cfg);
        (code, format!("{out}{err}"))
    };
    let (code, out) = check("    log-format \"%ci %zz\"\n");
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("proxy.cfg:9]") && out.contains("no such format variable 'zz'"), "{out}");
    let (code, out) = check("    log-format \"%{+Q}[path]\"\n");
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("needs 'HTTP request headers' which is not available here"), "{out}");
    let (code, out) = check("    log-format \"%ci %[var(txn.a)] %ST %HM\"\n");
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("proxy.cfg:12") && out.contains("'log-format' directive is ignored in backends"),
        "HAProxy warns a format in a backend: {out}"
    );
}
