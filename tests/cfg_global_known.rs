//! `global` keywords of HAProxy 2.6 that strata used to refuse as unknown
//! or "not supported yet" (issue 17): obeyed (`master-worker`,
//! `h1-accept-payload-with-any-method`, `thread-group`), or accepted with a
//! warning naming the keyword and file:line where they mean nothing for
//! strata; their refusals are HAProxy 2.6.12's texts
//! (`STRATA_BIN=/usr/sbin/haproxy` runs this file against it).

mod support;

use std::time::Duration;
use support::http_cfg::global_with_answering_frontend;
use support::{Proxy, cli, free_port, read_to_end_with_timeout, under_haproxy};

/// The first line of the answer to raw request `req`.
fn status_line(port: u16, req: &[u8]) -> (String, Vec<u8>) {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(req).expect("send");
    let got = read_to_end_with_timeout(&mut s, Duration::from_secs(10)).unwrap_or_default();
    let text = String::from_utf8_lossy(&got);
    (text.lines().next().unwrap_or_default().to_owned(), got)
}

const GET10_BODY: &[u8] = b"GET / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc";

#[test]
fn http10_get_head_delete_with_a_payload_get_413() {
    let (cfg, fe) = global_with_answering_frontend::<&str>(&[]);
    let _proxy = Proxy::start(&cfg);
    let (line, whole) = status_line(fe, GET10_BODY);
    assert_eq!(line, "HTTP/1.1 413 Payload Too Large");
    // HAProxy's own raw answer, byte for byte
    assert_eq!(
        String::from_utf8_lossy(&whole),
        "HTTP/1.1 413 Payload Too Large\r\nContent-length: 106\r\nCache-Control: no-cache\r\n\
         Content-Type: text/html\r\n\r\n<html><body><h1>413 Payload Too Large</h1>\nThe request entity \
         exceeds the maximum allowed.\n</body></html>\n"
    );
    for m in ["HEAD", "DELETE"] {
        let req = format!("{m} / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc");
        assert_eq!(status_line(fe, req.as_bytes()).0, "HTTP/1.1 413 Payload Too Large", "{m}");
    }
    // other methods, HTTP/1.1, and an empty body pass
    for req in [
        &b"POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc"[..],
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc",
        b"GET / HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
    ] {
        assert!(status_line(fe, req).0.ends_with(" 200 OK"), "{:?}", String::from_utf8_lossy(req));
    }
}

#[test]
fn h1_accept_payload_with_any_method_lets_them_through() {
    let (cfg, fe) = global_with_answering_frontend(&["h1-accept-payload-with-any-method"]);
    let _proxy = Proxy::start(&cfg);
    assert!(status_line(fe, GET10_BODY).0.ends_with(" 200 OK"));
}

#[test]
fn master_worker_keyword_starts_a_master() {
    let stats = free_port();
    let sock = format!("stats socket 127.0.0.1:{stats} level admin");
    // no `bind` line: the listeners would be the worker's, not the started process's
    let cfg = format!("global\n    master-worker\n    {sock}\n");
    let proxy = Proxy::start(&cfg);
    // the stats socket is the worker's: its pid is not the process started
    let pid = cli(stats, "show info")
        .lines()
        .find_map(|l| l.strip_prefix("Pid: ").map(str::to_owned))
        .and_then(|p| p.parse::<u32>().ok());
    assert!(pid.is_some_and(|p| p != proxy.pid()), "show info Pid {pid:?}, master {}", proxy.pid());
}

/// `-c` of `cfg`: (exit code, stderr).
fn check(cfg: &str) -> (i32, String) {
    let (code, _, err) = Proxy::check(cfg);
    (code, err)
}

#[test]
fn thread_group_is_strata_s_one_group() {
    let (ok, _) = global_with_answering_frontend(&["nbthread 2", "thread-group 1 1-2"]);
    assert_eq!(check(&ok).0, 0);
    let (short, _) = global_with_answering_frontend(&["nbthread 2", "thread-group 1 1"]);
    let (code, err) = check(&short);
    assert_ne!(code, 0);
    assert!(err.contains("Remaining unassigned threads found (1) because all groups are in use."), "{err}");
    let (two, _) = global_with_answering_frontend(&["thread-group 2"]);
    let (code, err) = check(&two);
    assert_ne!(code, 0);
    assert!(err.contains("'thread-group' thread-group number must be between 1 and 1 (was 2)"), "{err}");
    let (zero, _) = global_with_answering_frontend(&["thread-group 1 0"]);
    assert!(check(&zero).1.contains(
        "'thread-group 1' passed an unparsable or invalid thread number '0' (valid range is 1 to 64)"
    ));
}

#[test]
fn keywords_without_meaning_for_strata_are_warned() {
    for line in [
        "close-spread-time 5s",
        "cluster-secret s3cret",
        "httpclient.ssl.verify none",
        "httpclient.resolvers.prefer ipv4",
        "maxcomprate 100",
        "maxcompcpuusage 50",
        "maxzlibmem 10",
        "ssl-load-extra-files none",
        "ssl-load-extra-del-ext",
        "ssl-mode-async",
        "ssl-provider default",
        "pp2-never-send-local",
        "tune.vars.check-max-size 100",
    ] {
        let (cfg, _) = global_with_answering_frontend(&[line]);
        let (code, err) = check(&cfg);
        assert_eq!(code, 0, "{line}: {err}");
        if under_haproxy() {
            continue; // HAProxy obeys them silently
        }
        let kw = line.split(' ').next().unwrap_or_default();
        assert!(
            err.lines().any(|l| l.contains("[WARNING]")
                && l.contains("proxy.cfg:2]")
                && l.contains(&format!("'{kw}' has no effect in strata"))),
            "{line}: {err}"
        );
    }
}

#[test]
fn refusals_are_haproxy_s() {
    for (line, want) in [
        ("close-spread-time", "'close-spread-time' expects <time> as argument."),
        ("close-spread-time x", "unexpected character 'x' in argument to <close-spread-time>."),
        ("master-worker foo", "'master-worker' only supports 'no-exit-on-failure' option."),
        ("pp2-never-send-local x", "'pp2-never-send-local' cannot handle unexpected argument 'x'."),
        (
            "h1-accept-payload-with-any-method x",
            "'h1-accept-payload-with-any-method' cannot handle unexpected argument 'x'.",
        ),
        (
            "ssl-load-extra-files bogus",
            "'ssl-load-extra-files' expects one or multiple arguments (none, all, bundle, sctl, ocsp, issuer).",
        ),
        ("httpclient.ssl.verify", "'httpclient.ssl.verify' expects 'none' or 'required' as argument."),
        ("cluster-secret", "expects an ASCII string argument."),
    ] {
        let (cfg, _) = global_with_answering_frontend(&[line]);
        let (code, err) = check(&cfg);
        assert_ne!(code, 0, "{line}: accepted");
        assert!(err.lines().any(|l| l.contains("[ALERT]") && l.contains(want)), "{line}: {err}");
    }
}
