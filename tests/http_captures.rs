//! Captures (issue 17 item 5): `capture request|response header NAME len
//! N` take the last occurrence of a header, whole and cut to N; `declare
//! capture` and `http-request capture ... len|id` / `http-response capture
//! ... id` fill numbered slots; `capture cookie` gives `%CC`/`%CS`; all of
//! them show in `%hr`/`%hs` (`{a|b}`), `%hrl`/`%hsl` and the
//! `capture.req.hdr(N)`/`capture.res.hdr(N)` fetches, a backend's rule
//! filling the frontend's slot. A rule naming a slot its frontend lacks
//! is refused. Every assertion holds for HAProxy 2.6
//! (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use support::time::ms;
use support::*;

/// Waits until the proxy's stdout holds `n` lines; those lines.
fn stdout_lines(p: &Proxy, n: usize) -> Vec<String> {
    let lines = || p.stdout_text().lines().map(str::to_string).collect::<Vec<_>>();
    wait_until(ms(5000), || lines().len() >= n);
    std::thread::sleep(ms(100));
    lines()
}

#[test]
fn header_captures_and_capture_rules_in_the_log() {
    let be = HttpBackend::start();
    let port = free_port();
    let cfg = HttpCfg::new(port, Some(be.port()))
        .global("log stdout format raw local0")
        .defaults("log global")
        .frontend("capture request header Host len 4")
        .frontend("declare capture request len 8")
        .frontend("capture request header X-A len 20")
        .frontend("http-request capture req.hdr(x-b) len 3")
        .frontend("capture response header X-S len 5")
        .frontend("declare capture response len 10")
        .frontend("capture cookie SESS len 9")
        .frontend("http-response capture res.hdr(x-t) id 1")
        .frontend(
            "log-format \"%hr %hs [%hrl] [%hsl] %CC %CS %[capture.req.hdr(2)] %[capture.res.hdr(0)] %[capture.req.method] %[capture.req.uri] %[capture.req.ver]\"",
        )
        .backend("http-request capture req.hdr(x-c) id 1")
        .backend("http-response set-header x-seen %[capture.req.hdr(3)]");
    let p = Proxy::start(&cfg.render());
    let mut c = HttpConn::connect(port);
    let r = c
        .request(&request(
            "GET",
            "/?q=1",
            &[
                "X-A: first",
                "X-A: second, last",
                "X-B: abcdef",
                "X-C: from-backend-rule",
                "Cookie: a=1; SESSID=0123456789",
                "X-Reply: X-S: server-value",
                "X-Reply: X-T: t",
                "X-Reply: Set-Cookie: SESS=s1; Path=/",
            ],
            b"",
        ))
        .expect("request");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-seen"), Some("abc"), "capture.req.hdr reads a rule's slot");
    // A second request without the headers: the captures are per request.
    assert_eq!(c.request(&get("/")).expect("second").status, 200);
    let lines = stdout_lines(&p, 2);
    assert_eq!(
        lines,
        [
            "{test|from-bac|second, last|abc} {serve|t} [test from-bac second, last abc] [serve t] \
             SESSID=01 SESS=s1 second, last serve GET /?q=1 HTTP/1.1",
            "{test|||} {|} [test - - -] [- -] - - - - GET / HTTP/1.1",
        ]
    );
}

#[test]
fn capture_rules_refused_as_haproxy_does() {
    let port = free_port();
    let (code, _, err) =
        Proxy::check(&HttpCfg::new(port, None).frontend("http-request capture req.hdr(x) id 0").render());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("unable to find capture id '0' referenced by http-request capture rule"), "{err}");
    let (code, _, err) =
        Proxy::check(&HttpCfg::new(port, None).backend("http-request capture req.hdr(x) len 3").render());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("proxy 'be' has no frontend capability"), "{err}");
    let (code, _, err) =
        Proxy::check(&HttpCfg::new(port, None).frontend("declare capture request len 0").render());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("length must be > 0"), "{err}");
    let (code, _, err) =
        Proxy::check(&HttpCfg::new(port, None).frontend("capture request header X").render());
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("'capture request' expects 'header' <header_name> 'len' <len>."), "{err}");
}
