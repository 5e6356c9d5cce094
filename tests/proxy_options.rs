//! Proxy options that were refused as "not supported yet", by what a client
//! sees: `option disable-h2-upgrade` (an HTTP/2 preface on an HTTP/1 bind
//! is a bad HTTP/1 request: 400, where the control switches to HTTP/2),
//! `option idle-close-on-response` (a soft stop leaves an idle keep-alive
//! connection open for one more request, answered with `Connection:
//! close`, where the control closes it at once), and the `-c` output of
//! `option http-no-delay` (accepted silently: obeyed by construction),
//! `option accept-invalid-http-response` and `option transparent` (warned
//! naming file:line) and of a frontend option in a backend (HAProxy's
//! "ignored because ... has no frontend capability"). Every assertion
//! holds for HAProxy 2.6.12 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use support::time::ms;
use support::*;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// What a frontend with `lines` sends back for the HTTP/2 preface.
fn answer_to_preface(lines: &[&str]) -> Vec<u8> {
    let port = free_port();
    let mut cfg =
        HttpCfg::new(port, None).frontend("http-request return status 200 content-type text/plain string ok");
    for l in lines {
        cfg = cfg.frontend(l);
    }
    let _p = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    c.send(PREFACE).expect("send the preface");
    // HTTP/2: the server's SETTINGS frame (9-byte header, type 4) comes at
    // once and the connection stays; HTTP/1: the 400 and the close.
    let (got, _) = c.read_until_closed(ms(1000));
    got
}

#[test]
fn disable_h2_upgrade_answers_the_preface_as_bad_http1() {
    let got = answer_to_preface(&[]);
    assert!(got.len() >= 9 && got[3] == 4, "control: an HTTP/2 SETTINGS frame first: {got:?}");
    let got = answer_to_preface(&["option disable-h2-upgrade"]);
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 400 Bad request\r\n"), "{text}");
    // `no option` in the frontend undoes the defaults' option.
    let port = free_port();
    let cfg = HttpCfg::new(port, None)
        .defaults("option disable-h2-upgrade")
        .frontend("no option disable-h2-upgrade")
        .frontend("http-request return status 200 content-type text/plain string ok");
    let _p = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    c.send(PREFACE).expect("send the preface");
    let (got, _) = c.read_until_closed(ms(1000));
    assert!(got.len() >= 9 && got[3] == 4, "no option: HTTP/2 again: {got:?}");
}

/// One request on a keep-alive connection, then SIGUSR1 while it is idle:
/// whether the proxy closed it by itself, and if it did not, the second
/// request's `Connection` header and whether the connection then closed.
struct AfterSoftStop {
    closed_while_idle: bool,
    second_connection_hdr: Option<String>,
    closed_after_second: bool,
}

fn soft_stop_with_an_idle_connection(option: bool) -> AfterSoftStop {
    let be = HttpBackend::start();
    let port = free_port();
    let mut cfg = HttpCfg::new(port, Some(be.port())).defaults("timeout http-keep-alive 10s");
    if option {
        cfg = cfg.frontend("option idle-close-on-response");
    }
    let mut p = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    let r = c.request(&get("/")).expect("first response");
    assert_eq!(r.status, 200);
    p.signal("USR1");
    let closed_while_idle = matches!(c.expect_closed(ms(800)), Closed::Eof(_) | Closed::Reset(_));
    let mut out =
        AfterSoftStop { closed_while_idle, second_connection_hdr: None, closed_after_second: false };
    if !closed_while_idle {
        let r = c.request(&get("/")).expect("second response");
        assert_eq!(r.status, 200);
        out.second_connection_hdr = r.header("connection").map(str::to_ascii_lowercase);
        out.closed_after_second = matches!(c.expect_closed(ms(2000)), Closed::Eof(_) | Closed::Reset(_));
    }
    assert!(p.wait_exit(ms(5000)).is_some(), "the proxy exits once its last connection closed");
    out
}

#[test]
fn idle_close_on_response_serves_one_more_request_after_a_soft_stop() {
    let control = soft_stop_with_an_idle_connection(false);
    assert!(control.closed_while_idle, "control: the soft stop closes an idle connection");
    let got = soft_stop_with_an_idle_connection(true);
    assert!(!got.closed_while_idle, "the idle connection stays open");
    assert_eq!(got.second_connection_hdr.as_deref(), Some("close"));
    assert!(got.closed_after_second, "closed after the response");
}

/// The `[WARNING]` texts of `-c` on `text` (what follows ` : config : `).
fn warnings(text: &str) -> Vec<String> {
    let (rc, _, err) = Proxy::check(text);
    assert_eq!(rc, 0, "{err}");
    config_warnings(&err).into_iter().map(String::from).collect()
}

#[test]
fn check_output_of_the_options() {
    let port = free_port();
    let quiet = &format!(
        "defaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n\
                 frontend f\n    bind 127.0.0.1:{port}\n    option http-no-delay\n    option disable-h2-upgrade\n\
                 \x20   option idle-close-on-response\n    default_backend b\n\
                 backend b\n    option http-no-delay\n    server s 127.0.0.1:1\n"
    );
    assert_eq!(warnings(quiet), Vec::<String>::new());
    let text = &format!(
        "defaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n\
                frontend f\n    bind 127.0.0.1:{port}\n    default_backend b\n\
                backend b\n    option disable-h2-upgrade\n    option idle-close-on-response\n\
                \x20   option accept-invalid-http-response\n    option transparent\n    server s 127.0.0.1:1\n"
    );
    let got = warnings(text);
    let want = [
        "proxy.cfg:10] : 'disable-h2-upgrade' ignored because backend 'b' has no frontend capability.",
        "proxy.cfg:11] : 'idle-close-on-response' ignored because backend 'b' has no frontend capability.",
    ];
    for w in want {
        assert!(got.iter().any(|g| g.ends_with(w)), "missing {w:?} in {got:#?}");
    }
    if !under_haproxy() {
        // HAProxy applies these two (its build has no strict parser for
        // responses to relax and has TPROXY); strata says it does not.
        for (line, kw) in [(12, "accept-invalid-http-response"), (13, "transparent")] {
            let want = format!("proxy.cfg:{line}] : 'option {kw}' has no effect in strata");
            assert!(got.iter().any(|g| g.contains(&want)), "missing {want:?} in {got:#?}");
        }
    }
}

/// The listen queue length of the socket listening on `port` (`ss -ltn`'s
/// Send-Q), None if `ss` is missing.
fn listen_backlog(port: u16) -> Option<u32> {
    let out = std::process::Command::new("ss").args(["-ltnH", &format!("sport = :{port}")]).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().next()?.split_whitespace().nth(2)?.parse().ok()
}

#[test]
fn proxy_backlog_is_the_listen_queue_of_its_binds() {
    let (a, b) = (free_port(), free_port());
    let cfg = HttpCfg::new(a, None)
        .frontend("backlog 77")
        .frontend(&format!("bind 127.0.0.1:{b} backlog 5"))
        .frontend("http-request return status 200 content-type text/plain string ok");
    let _p = Proxy::start(&cfg.render());
    let Some(got) = listen_backlog(a) else {
        eprintln!("skipped: no `ss` to read the listen queue");
        return;
    };
    assert_eq!(got, 77, "the frontend's backlog");
    assert_eq!(listen_backlog(b), Some(5), "a bind's own backlog wins");
}

#[test]
fn tcp_smart_options_are_accepted_on_their_side_and_the_proxy_serves() {
    let be = HttpBackend::start();
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(be.port()))
        .frontend("option tcp-smart-accept")
        .backend("option tcp-smart-connect");
    let text = cfg.render();
    assert_eq!(warnings(&text), Vec::<String>::new());
    let _p = Proxy::start(&text);
    let r = HttpConn::connect(port).request(&get("/")).expect("response");
    assert_eq!(r.status, 200);
    let port = free_port();
    let wrong = HttpCfg::new(port, Some(be.port()))
        .frontend("option tcp-smart-connect")
        .backend("option tcp-smart-accept")
        .backend("no option tcp-smart-accept");
    let got = warnings(&wrong.render());
    for w in [
        "'tcp-smart-connect' ignored because frontend 'fe' has no backend capability.",
        "'tcp-smart-accept' ignored because backend 'be' has no frontend capability.",
    ] {
        assert!(got.iter().any(|g| g.ends_with(w)), "missing {w:?} in {got:#?}");
    }
}
