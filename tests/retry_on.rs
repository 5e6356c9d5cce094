//! `retry-on` with `retries`, as HAProxy 2.6.12 retries, by how many times
//! the server saw the request and what the client got: `empty-response`
//! (the server resets before answering), `junk-response` (it answers
//! garbage), `response-timeout` (`timeout server` passes first), a listed
//! status (`503`), each sent again `retries` times then answered as
//! without the option; `retry-on none` leaves a failed connect unretried
//! (503 where the default `conn-failure` redispatches); `-c` messages.
//! Each with its control; every assertion holds for HAProxy 2.6.12
//! (`STRATA_BIN=/usr/sbin/haproxy`) but the one about a request with a
//! body, which strata does not send again (it keeps no copy of it).

mod support;

use support::time::{cfg_time, ms};
use support::*;

/// The status the client gets for `path` and how many times the one
/// server saw it, with `be_lines` in the backend.
fn through(be_lines: &[&str], path: &str, body: Option<&[u8]>) -> (u16, usize) {
    let be = HttpBackend::start();
    let port = free_port();
    let mut cfg = HttpCfg::new(port, Some(be.port()));
    for l in be_lines {
        cfg = cfg.backend(l);
    }
    let _p = Proxy::start(&cfg.render());
    let raw = match body {
        None => get(path),
        Some(b) => request("POST", path, &[&format!("Content-Length: {}", b.len())], b),
    };
    let status = HttpConn::connect(port).request(&raw).map_or(0, |r| r.status);
    std::thread::sleep(ms(200));
    (status, be.requests_to(path) + be.incomplete())
}

#[test]
fn empty_response_is_retried() {
    assert_eq!(through(&["retries 2"], "/reset", None), (502, 1), "control");
    assert_eq!(through(&["retries 2", "retry-on empty-response"], "/reset", None), (502, 3));
    assert_eq!(through(&["retries 2", "retry-on all-retryable-errors"], "/reset", None), (502, 3));
}

#[test]
fn junk_response_is_retried() {
    assert_eq!(through(&["retries 1"], "/garbage", None), (502, 1), "control");
    assert_eq!(through(&["retries 1", "retry-on junk-response"], "/garbage", None), (502, 2));
}

#[test]
fn response_timeout_is_retried() {
    let t = format!("timeout server {}", cfg_time(ms(300)));
    assert_eq!(through(&[&t, "retries 1"], "/delay/1500", None), (504, 1), "control");
    assert_eq!(through(&[&t, "retries 1", "retry-on response-timeout"], "/delay/1500", None), (504, 2));
}

#[test]
fn a_listed_status_is_retried() {
    assert_eq!(through(&["retries 2"], "/status/503", None), (503, 1), "control");
    assert_eq!(through(&["retries 2", "retry-on 503"], "/status/503", None), (503, 3));
    assert_eq!(through(&["retries 2", "retry-on 502 504"], "/status/503", None), (503, 1), "not listed");
    assert_eq!(through(&["retries 2", "retry-on 503"], "/", None), (200, 1), "a good answer");
}

#[test]
fn a_request_with_a_body_is_not_sent_again() {
    if under_haproxy() {
        return; // HAProxy sends it again when it is whole in its buffer
    }
    assert_eq!(through(&["retries 2", "retry-on 503"], "/status/503", Some(b"body")), (503, 1));
}

#[test]
fn retry_on_none_leaves_a_failed_connect_alone() {
    let s2 = HttpBackend::named("s2");
    let run = |extra: &str| {
        let port = free_port();
        let mut cfg = HttpCfg::new(port, None)
            .backend("balance first")
            .backend("option redispatch")
            .backend("retries 1")
            .backend(&format!("server s1 127.0.0.1:{} id 1", closed_port()))
            .backend(&format!("server s2 127.0.0.1:{} id 2", s2.port()));
        if !extra.is_empty() {
            cfg = cfg.backend(extra);
        }
        let _p = Proxy::start(&cfg.render());
        HttpConn::connect(port).request(&get("/")).map_or(0, |r| r.status)
    };
    assert_eq!(run(""), 200, "control: conn-failure by default, redispatched to s2");
    assert_eq!(run("retry-on none"), 503);
    assert_eq!(run("retry-on 503"), 503, "a list without conn-failure");
    assert_eq!(run("retry-on conn-failure 503"), 200);
}

#[test]
fn check_messages() {
    let check = |line: &str, in_frontend: bool| {
        let port = free_port();
        let (fe, be) = if in_frontend { (line, "") } else { ("", line) };
        let text = format!(
            "defaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n\
             frontend f\n    bind 127.0.0.1:{port}\n    {fe}\n    default_backend b\n\
             backend b\n    {be}\n    server s1 127.0.0.1:1\n"
        );
        let (rc, _, err) = Proxy::check(&text);
        (rc, err)
    };
    for (line, want) in [
        ("retry-on", "'retry-on' needs at least one keyword to specify when to retry"),
        ("retry-on 418", "'retry-on': unknown keyword '418'"),
        ("retry-on none 503", "'retry-on' 'none' keyworld only usable alone"),
    ] {
        let (rc, err) = check(line, false);
        assert!(rc != 0 && err.contains(want), "{line}: {err}");
    }
    let (rc, err) = check("retry-on 503", true);
    assert!(rc != 0 && err.contains("'retry-on' only available in backend or listen section"), "{err}");
    let (rc, err) = check(
        "retry-on conn-failure empty-response junk-response response-timeout 401 403 404 408 425 500 501 502 503 504",
        false,
    );
    assert_eq!(rc, 0, "{err}");
    assert!(!err.contains("WARNING"), "{err}");
}
