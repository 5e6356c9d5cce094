//! TCP/HTTP rules in named `defaults` sections (HAProxy 2.6): a proxy
//! built `from` such a section runs its rules first, as one list with its
//! own (an `accept` there skips the proxy's `reject`, `tcp-response` ones
//! too), with the section's
//! own ACLs; HAProxy's restrictions are refused with file:line (HAProxy's
//! `startup/default_rules.vtc` and `tcp-rules/default_rules.vtc`). Every
//! assertion holds for HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::time::Duration;

use support::*;

/// `defaults common` with the timeouts, then `rest` (the sections under test).
fn cfg(rest: &str) -> String {
    format!(
        "defaults common\n    mode http\n    timeout connect {}\n    timeout client {}\n    timeout server {}\n{rest}",
        cfg_time(Duration::from_secs(1)),
        cfg_time(Duration::from_secs(5)),
        cfg_time(Duration::from_secs(5)),
    )
}

fn get(port: u16, path: &str) -> Response {
    let mut c = HttpConn::connect(port);
    c.send(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes()).expect("request");
    c.read_response(false).expect("response")
}

#[test]
fn a_proxy_runs_its_defaults_rules_first() {
    let be = HttpBackend::start();
    let port = free_port();
    let text = cfg(&format!(
        "defaults def_front from common
    tcp-request connection accept
    tcp-request session accept
    tcp-request inspect-delay 5s
    tcp-request content set-var(txn.test1) str(def_front)
    tcp-request content accept
    acl blocked path_beg /blocked
    http-request deny if blocked
    http-request set-var(txn.order) str(def)
defaults def_back from common
    http-request set-header x-back-first %[var(txn.order)]
    tcp-response inspect-delay 5s
    tcp-response content set-var(txn.test2) str(def_back)
    tcp-response content accept
frontend fe from def_front
    bind 127.0.0.1:{port}
    tcp-request connection reject
    tcp-request session reject
    tcp-request content reject
    acl blocked path_beg /other
    http-request set-header x-test1 %[var(txn.test1)]
    http-request set-header x-order %[var(txn.order)]-fe
    default_backend be
backend be from def_back
    http-request set-var(txn.order) str(be)
    tcp-response content reject
    http-response set-header x-test2 %[var(txn.test2)]
    server s1 127.0.0.1:{}
",
        be.port()
    ));
    let _p = Proxy::start(&text);
    let r = get(port, "/x");
    assert_eq!(r.status, 404, "the defaults' accepts end the frontend's rejects: forwarded");
    assert_eq!(
        r.header("x-test2"),
        Some("def_back"),
        "the defaults' tcp-response accept ends the backend's reject"
    );
    let got = be.requests();
    assert_eq!(got[0].header("x-test1"), Some("def_front"));
    assert_eq!(got[0].header("x-order"), Some("def-fe"), "the defaults' rule ran before the frontend's");
    assert_eq!(got[0].header("x-back-first"), Some("def"), "the backend's defaults rule before its own");
    assert_eq!(get(port, "/blocked").status, 403, "the defaults' own ACL");
    assert_eq!(get(port, "/other").status, 404, "not the frontend's ACL of the same name");
}

#[test]
fn an_allow_in_the_defaults_skips_the_proxys_rules() {
    let be = HttpBackend::start();
    let port = free_port();
    let text = cfg(&format!(
        "defaults d from common
    http-request allow if {{ path /ok }}
frontend fe from d
    bind 127.0.0.1:{port}
    http-request deny
    default_backend be
backend be from common
    server s1 127.0.0.1:{}
",
        be.port()
    ));
    let _p = Proxy::start(&text);
    assert_eq!(get(port, "/ok").status, 404);
    assert_eq!(get(port, "/no").status, 403);
}

/// `-c` on `text`: its exit code and output.
fn check(text: &str) -> (i32, String) {
    let (code, out, err) = Proxy::check(text);
    (code, format!("{out}{err}"))
}

#[test]
fn misuses_are_refused_with_haproxys_messages() {
    let refused = |text: &str, want: &str| {
        let (code, out) = check(text);
        assert_ne!(code, 0, "refused:\n{text}");
        assert!(out.contains(want), "{want}\n---\n{out}");
        if !under_haproxy() {
            assert!(out.contains("parsing ["), "file:line: {out}");
        }
    };
    for kw in ["http-request set-header X-Hdr 1", "http-response set-header X-Hdr 1", "acl a always_true"] {
        let first = kw.split(' ').next().unwrap_or_default();
        refused(
            &format!("defaults\n    {kw}\n"),
            &format!("'{first}' not allowed in anonymous 'defaults' section"),
        );
    }
    refused(
        "defaults\n    tcp-request content accept\n",
        "tcp-request content is not allowed in anonymous 'defaults' sections",
    );
    refused(
        "defaults\n    tcp-response content accept\n",
        "tcp-response content is only allowed in 'backend' sections or 'defaults' section with a name",
    );
    refused(
        &format!(
            "defaults invalid\n    mode tcp\n    tcp-response inspect-delay 5s\n    tcp-response content accept\nfrontend fe from invalid\n    bind 127.0.0.1:{}\n",
            free_port()
        ),
        "a frontend section cannot inherit from a defaults section defining 'tcp-response content' rules",
    );
    let rules =
        "defaults invalid\n    mode tcp\n    tcp-request inspect-delay 5s\n    tcp-request content accept\n";
    refused(
        &format!("{rules}defaults from invalid\n    mode tcp\n"),
        "a defaults section cannot inherit from a defaults section defining TCP/HTTP rules",
    );
    refused(
        &format!(
            "{rules}listen li from invalid\n    bind 127.0.0.1:{}\n    server www 127.0.0.1:80\n",
            free_port()
        ),
        "a listen section cannot inherit from a defaults section defining TCP/HTTP rules",
    );
    refused(
        &format!(
            "{rules}frontend fe from invalid\n    bind 127.0.0.1:{}\n    default_backend be\nbackend be from invalid\n    server www 127.0.0.1:80\n",
            free_port()
        ),
        "frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules",
    );
    refused(
        "defaults invalid\n    mode tcp\n    tcp-request connection accept\nbackend be from invalid\n    server www 127.0.0.1:80\n",
        "a backend section cannot inherit from a defaults section defining 'tcp-request connection' or 'tcp-request session' rules",
    );
    refused(
        "defaults invalid\n    mode http\n    http-request set-header x-test \"%[srv_conn(www)]\"\nbackend be from invalid\n    server www 127.0.0.1:80\n",
        "backend name must be set in arg 1",
    );
    refused(
        "defaults invalid\n    mode http\n    http-request track-sc0 src\nbackend be from invalid\n    stick-table type ip size 1k store http_req_rate(10s)\n    server www 127.0.0.1:80\n",
        "unable to find table 'invalid'",
    );
    // Explicit names are fine.
    let (code, out) = check(&cfg(&format!(
        "defaults def_back from common\n    http-request track-sc0 src table be\n    http-request set-header x-t \"%[srv_conn(be/www)]\"\nfrontend fe from common\n    bind 127.0.0.1:{}\n    default_backend be\nbackend be from def_back\n    stick-table type ip size 1k store http_req_rate(10s)\n    server www 127.0.0.1:{}\n",
        free_port(),
        free_port()
    )));
    assert_eq!(code, 0, "{out}");
}
