//! `-c` warns, in HAProxy 2.6's words and order, about HTTP-only settings
//! of a proxy that is not in `mode http`, and strata drops them as
//! HAProxy does (a TCP listen with `option forwardfor` forwards the
//! client's bytes untouched).
//!
//! The bug story: strata accepted these lines silently, so an operator
//! who forgot `mode http` was not told that the rules they wrote do
//! nothing. Validated against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use support::*;

const TCP_LISTEN: &str = "    mode tcp\n    option forwardfor\n    option originalto\n    option checkcache\n\
    \x20   option http-ignore-probes\n    option http-pretend-keepalive\n\
    \x20   http-request deny if { src 1.2.3.4 }\n    http-response del-header x\n\
    \x20   http-after-response del-header x\n    stats enable\n";

#[test]
fn http_only_settings_of_a_tcp_proxy_are_warned_in_haproxys_order() {
    let cfg = format!(
        "defaults\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n\
         listen l\n    bind 127.0.0.1:{}\n{TCP_LISTEN}    server s1 127.0.0.1:80 cookie abc\n",
        free_port()
    );
    let (rc, _, err) = Proxy::check(&cfg);
    assert_eq!(rc, 0, "{err}");
    let got: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("[WARNING]"))
        .filter_map(|l| l.split(" : config : ").nth(1))
        .collect();
    let want = [
        "'stats' statement ignored for proxy 'l' as it requires HTTP mode.",
        "'http-request' rules ignored for proxy 'l' as they require HTTP mode.",
        "'http-response' rules ignored for proxy 'l' as they require HTTP mode.",
        "'http-after-response' rules ignored for proxy 'l' as they require HTTP mode.",
        "'option forwardfor' ignored for proxy 'l' as it requires HTTP mode.",
        "'option originalto' ignored for proxy 'l' as it requires HTTP mode.",
        "'option checkcache' ignored for proxy 'l' as it requires HTTP mode.",
        "'option http-ignore-probes' ignored for proxy 'l' as it requires HTTP mode.",
        "'option http-pretend-keepalive' ignored for proxy 'l' as it requires HTTP mode.",
        "proxy 'l' : ignoring cookie for server 's1' as HTTP mode is disabled.",
    ];
    assert_eq!(got, want, "{err}");
}

#[test]
fn a_tcp_listen_with_http_rules_forwards_the_bytes_untouched() {
    let be = Backend::echo();
    let fe = free_port();
    let cfg = format!(
        "defaults\n    timeout client 5s\n    timeout server 5s\n    timeout connect 1s\n\
         listen l\n    bind 127.0.0.1:{fe}\n{TCP_LISTEN}    http-request set-header X-Added 1\n\
         \x20   server s1 127.0.0.1:{}\n",
        be.port()
    );
    let _p = Proxy::start(&cfg);
    let req = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let mut s = connect(fe);
    let got = round_trip(&mut s, req, ms(5000)).expect("echo");
    assert_eq!(got, req.to_vec(), "no X-Forwarded-For, no rule applied");
}

#[test]
fn a_tcp_frontend_that_switches_to_http_keeps_its_http_settings() {
    // `tcp-request content switch-mode http` upgrades the frontend's streams:
    // its HTTP rules run after the switch (tests/tcp_switch_mode.rs), so no warning.
    let cfg = format!(
        "defaults\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n\
         frontend f\n    mode tcp\n    bind 127.0.0.1:{}\n    tcp-request inspect-delay 1s\n\
         \x20   tcp-request content switch-mode http if HTTP\n    option forwardfor\n\
         \x20   http-request set-header x-a 1\n    default_backend b\n\
         backend b\n    mode http\n    server s1 127.0.0.1:80\n",
        free_port()
    );
    let (rc, _, err) = Proxy::check(&cfg);
    assert_eq!(rc, 0, "{err}");
    assert!(!err.contains("requires HTTP mode") && !err.contains("require HTTP mode"), "{err}");
}
