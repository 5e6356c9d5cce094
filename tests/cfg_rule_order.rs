//! `-c` warnings about rule order, in HAProxy 2.6.12's words and order: a
//! rule written after one of a later stage (`tcp-request` after
//! `http-request`, `http-request` after `use_backend` or `redirect`,
//! `redirect` after `use_backend`...: it still runs first) and an HTTP rule
//! after a final one without a condition (it never runs). The
//! configuration stays valid. Passes on HAProxy 2.6.12 too
//! (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use support::*;

const CFG: &str = "\
defaults
    mode http
    timeout client 1s
    timeout server 1s
    timeout connect 1s
frontend f
    bind 127.0.0.1:PORT1
    http-request deny
    http-request allow
    tcp-request content accept
    tcp-request connection accept
    use_backend b if TRUE
    http-request set-header x y
    redirect location /x if FALSE
    http-request set-header x z
    default_backend b
frontend g
    bind 127.0.0.1:PORT2
    tcp-request content accept
    tcp-request inspect-delay 1s
    http-request redirect location /a
    http-request deny if TRUE
    http-response deny
    http-response set-header a b
    http-after-response set-header a b
    http-request redirect location /b if TRUE
    http-request set-header c d
    default_backend b
backend b
    http-request return status 200
    http-request deny
    use-server s1 if TRUE
    http-request set-header e f
    server s1 127.0.0.1:1
";

#[test]
fn rule_order_warnings_as_haproxy() {
    let text = CFG.replace("PORT1", &free_port().to_string()).replace("PORT2", &free_port().to_string());
    let (rc, _, err) = Proxy::check(&text);
    assert_eq!(rc, 0, "{err}");
    let got: Vec<&str> = config_warnings(&err)
        .into_iter()
        .filter(|l| l.contains("rule placed after") || l.contains("NOOP"))
        .map(|l| &l[l.find("proxy.cfg").unwrap_or(0)..])
        .collect();
    let want = [
        "proxy.cfg:9]: previous 'http-request' action is final and has no condition attached, further entries are NOOP.",
        "proxy.cfg:10] : a 'tcp-request' rule placed after an 'http-request' rule will still be processed before.",
        "proxy.cfg:11] : a 'tcp-request' rule placed after a 'tcp-request content' rule will still be processed before.",
        "proxy.cfg:13]: previous 'http-request' action is final and has no condition attached, further entries are NOOP.",
        "proxy.cfg:13] : a 'http-request' rule placed after a 'use_backend' rule will still be processed before.",
        "proxy.cfg:14] : a 'redirect' rule placed after a 'use_backend' rule will still be processed before.",
        "proxy.cfg:15] : a 'http-request' rule placed after a 'redirect' rule will still be processed before.",
        "proxy.cfg:22]: previous 'http-request' action is final and has no condition attached, further entries are NOOP.",
        "proxy.cfg:24]: previous 'http-response' action is final and has no condition attached, further entries are NOOP.",
        "proxy.cfg:31]: previous 'http-request' action is final and has no condition attached, further entries are NOOP.",
        "proxy.cfg:33]: previous 'http-request' action is final and has no condition attached, further entries are NOOP.",
        "proxy.cfg:33] : a 'http-request' rule placed after a 'use-server' rule will still be processed before.",
    ];
    assert_eq!(got, want, "{err}");
}
