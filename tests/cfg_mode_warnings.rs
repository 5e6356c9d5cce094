//! `-c` warns, in HAProxy 2.6's words and order, about HTTP-only settings
//! of a proxy that is not in `mode http`, and strata drops them as
//! HAProxy does (a TCP listen with `option forwardfor` forwards the
//! client's bytes untouched); the HTTP rules of a TCP proxy are still
//! checked (a bad one is refused); check rules written before a check
//! option are dropped as HAProxy drops them.
//!
//! The bug story: strata accepted these lines silently, so an operator
//! who forgot `mode http` was not told that the rules they wrote do
//! nothing. Validated against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use support::*;

const TCP_LISTEN: &str = "    mode tcp\n    option forwardfor\n    option originalto\n    option checkcache\n\
    \x20   option http-ignore-probes\n    option http-pretend-keepalive\n\
    \x20   http-request deny if { src 1.2.3.4 }\n    http-response del-header x\n\
    \x20   http-after-response del-header x\n    stats enable\n    cookie SRV insert\n    monitor-uri /m\n\
    \x20   option http-buffer-request\n";

#[test]
fn http_only_settings_of_a_tcp_proxy_are_warned_in_haproxys_order() {
    let cfg = format!(
        "defaults\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n\
         listen l\n    bind 127.0.0.1:{}\n{TCP_LISTEN}    server s1 127.0.0.1:80 cookie abc\n",
        free_port()
    );
    let (rc, out, err) = Proxy::check(&cfg);
    assert_eq!(rc, 0, "{err}");
    assert_eq!(out, "Warnings were found.\nConfiguration file is valid\n");
    let got = config_warnings(&err);
    let want = [
        "cookie will be ignored for proxy 'l' (needs 'mode http').",
        "monitor-uri will be ignored for proxy 'l' (needs 'mode http').",
        "'stats' statement ignored for proxy 'l' as it requires HTTP mode.",
        "'http-request' rules ignored for proxy 'l' as they require HTTP mode.",
        "'http-response' rules ignored for proxy 'l' as they require HTTP mode.",
        "'http-after-response' rules ignored for proxy 'l' as they require HTTP mode.",
        "'option forwardfor' ignored for proxy 'l' as it requires HTTP mode.",
        "'option originalto' ignored for proxy 'l' as it requires HTTP mode.",
        "'option checkcache' ignored for proxy 'l' as it requires HTTP mode.",
        "'option http-buffer-request' ignored for proxy 'l' as it requires HTTP mode.",
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

/// The bug story: strata set a TCP proxy's `http-request` and
/// `http-response` lines aside with the mode warning without reading
/// them, so a misspelt action (`set-hdr`) or an unknown ACL passed `-c`
/// and only failed the day the proxy went to `mode http`. HAProxy reads
/// every rule whatever the mode and refuses a bad one (exit 1); a good
/// one gets the warning only. Same codes on HAProxy 2.6.12.
#[test]
fn a_tcp_proxys_http_rules_are_still_checked() {
    let cfg = |rule: &str| {
        format!(
            "defaults\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n\
             listen l\n    mode tcp\n    bind 127.0.0.1:{}\n    {rule}\n    server s1 127.0.0.1:80\n",
            free_port()
        )
    };
    for bad in
        ["http-request set-hdr x y", "http-response del-header x if no_such_acl", "http-after-response frob"]
    {
        let (rc, _, err) = Proxy::check(&cfg(bad));
        assert_eq!(rc, 1, "{bad}: {err}");
        assert!(err.contains("[ALERT]") && err.contains("parsing ["), "{bad}: {err}");
    }
    let (rc, _, err) = Proxy::check(&cfg("http-request set-header x y"));
    assert_eq!(rc, 0, "{err}");
    assert!(err.contains("'http-request' rules ignored for proxy 'l' as they require HTTP mode."), "{err}");
}

/// A check option drops the check rules written before it, as HAProxy
/// 2.6 does (`option tcp-check` only the http-check ones): only rules
/// written after it are warned as ignored. strata warned about the rules
/// `option httpchk` had set when an `option redis-check` followed it.
#[test]
fn check_rules_before_a_check_option_are_dropped_and_those_after_it_warned() {
    let backend = |name: &str, lines: &[&str]| {
        let mut s = format!("backend {name}\n");
        for l in lines {
            s.push_str(&format!("    {l}\n"));
        }
        s + "    server s 127.0.0.1:9 check\n"
    };
    let cfg = format!(
        "defaults\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n\
         frontend f\n    bind 127.0.0.1:{}\n{}{}{}{}{}",
        free_port(),
        backend("a", &["option httpchk", "http-check expect status 200", "option redis-check"]),
        backend("b", &["tcp-check connect port 80", "option ssl-hello-chk"]),
        backend("c", &["option httpchk", "http-check expect status 200", "option tcp-check"]),
        backend("d", &["option redis-check", "tcp-check connect port 80"]),
        backend("e", &["option redis-check", "http-check expect status 200"]),
    );
    let (rc, _, err) = Proxy::check(&cfg);
    assert_eq!(rc, 0, "{err}");
    let got = config_warnings(&err);
    assert_eq!(
        got,
        [
            "backend 'd' uses tcp-check rules without 'option tcp-check', so the rules are ignored.",
            "backend 'e' uses http-check rules without 'option httpchk', so the rules are ignored.",
        ],
        "{err}"
    );
}
