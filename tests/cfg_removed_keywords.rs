//! Keywords HAProxy removed before 2.6 (issue 17): strata refuses them with
//! HAProxy 2.6.12's own sentence naming what replaced them, never "unknown
//! keyword" (`STRATA_BIN=/usr/sbin/haproxy` runs this file against it).

mod support;

use support::Proxy;

/// The `[ALERT]` lines of `-c` on a `listen` section holding `line` (line 7).
fn alerts(section: &str, line: &str) -> Vec<String> {
    // three timeout lines, so that `line` is line 7 (a frontend has no server side)
    let timeouts = if section.starts_with("frontend") {
        "timeout client 5s\n    timeout http-request 5s\n    timeout http-keep-alive 5s"
    } else {
        "timeout client 5s\n    timeout server 5s\n    timeout connect 5s"
    };
    let cfg = format!("{section}\n    mode http\n    bind 127.0.0.1:1\n    {timeouts}\n    {line}\n");
    let (code, _, err) = Proxy::check(&cfg);
    assert_ne!(code, 0, "{line}: accepted");
    err.lines()
        .filter(|l| l.contains("[ALERT]"))
        .map(|l| l.split_once(" : config : ").map_or(l, |x| x.1).to_owned())
        .collect()
}

/// Asserts that the first alert is `parsing [proxy.cfg:LINE]SEP TEXT`.
fn refused(section: &str, line: &str, sep: &str, text: &str) {
    let a = alerts(section, line);
    let first = a.first().cloned().unwrap_or_default();
    let want = format!("proxy.cfg:7]{sep} {text}");
    assert!(first.ends_with(&want), "{line}:\n got  {first:?}\n want ...{want:?}");
}

#[test]
fn header_rewriting_directives_of_haproxy_1() {
    for (line, text) in [
        (
            "reqadd X-A:\\ b",
            "The 'reqadd' directive is not supported anymore since HAProxy 2.1. Use 'http-request add-header' instead.",
        ),
        (
            "reqdel ^X-A",
            "The 'reqdel' directive is not supported anymore since HAProxy 2.1. Use 'http-request del-header' instead.",
        ),
        (
            "reqrep ^a b",
            "The 'reqrep' directive is not supported anymore since HAProxy 2.1. Use 'http-request replace-path', 'http-request replace-uri' or 'http-request replace-header' instead.",
        ),
        (
            "reqirep ^a b",
            "The 'reqirep' directive is not supported anymore since HAProxy 2.1. Use 'http-request replace-header' instead.",
        ),
        (
            "reqdeny ^a",
            "The 'reqdeny' not supported anymore since HAProxy 2.1. Use 'http-request deny' instead.",
        ),
        ("reqpass ^a", "The 'reqpass' not supported anymore since HAProxy 2.1."),
        (
            "reqallow ^a",
            "The 'reqallow' directive is not supported anymore since HAProxy 2.1. Use 'http-request allow' instead.",
        ),
        (
            "reqtarpit ^a",
            "The 'reqtarpit' directive is not supported anymore since HAProxy 2.1. Use 'http-request tarpit' instead.",
        ),
        (
            "rspadd X-A:\\ b",
            "The 'rspadd' directive is not supported anymore since HAProxy 2.1. Use 'http-response add-header' instead.",
        ),
        (
            "rspdel ^X-A",
            "The 'rspdel' directive is not supported anymore since HAProxy 2.1. Use 'http-response del-header' .",
        ),
        (
            "rsprep ^a b",
            "The 'rsprep' directive is not supported anymore since HAProxy 2.1. Use 'http-response replace-header' instead.",
        ),
        (
            "rspideny ^a",
            "The 'rspideny' directive is not supported anymore since HAProxy 2.1. Use 'http-response deny' instead.",
        ),
    ] {
        refused("listen l", line, " :", text);
    }
}

#[test]
fn other_removed_proxy_keywords() {
    for (line, text) in [
        (
            "block if TRUE",
            "The 'block' directive is not supported anymore since HAProxy 2.1. Use 'http-request deny' which uses the exact same syntax.",
        ),
        (
            "redispatch",
            "keyword 'redispatch' directive is not supported anymore since HAProxy 2.1. Use 'option redispatch'.",
        ),
        (
            "appsession JSESSIONID len 52 timeout 3h",
            "'appsession' is not supported anymore since HAProxy 1.6.",
        ),
        (
            "clitimeout 5s",
            "the 'clitimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout client'.",
        ),
        (
            "contimeout 5s",
            "the 'contimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout connect'.",
        ),
        (
            "srvtimeout 5s",
            "the 'srvtimeout' directive is not supported anymore since HAProxy 2.1. Use 'timeout server'.",
        ),
        (
            "monitor-net 10.0.0.0/8",
            "'monitor-net' doesn't exist anymore. Please use 'http-request return status 200 if { src 10.0.0.0/8 }' instead.",
        ),
    ] {
        refused("listen l", line, " :", text);
    }
    refused(
        "frontend f",
        "reqadd X-A:\\ b",
        " :",
        "The 'reqadd' directive is not supported anymore since HAProxy 2.1. Use 'http-request add-header' instead.",
    );
}

#[test]
fn removed_options() {
    for (line, text) in [
        (
            "option forceclose",
            "option 'forceclose' is not supported any more since HAProxy 2.0, please just remove it, or use 'option httpclose' if absolutely needed.",
        ),
        (
            "option http-tunnel",
            "option 'http-tunnel' is not supported any more since HAProxy 2.1, please just remove it, it shouldn't be needed.",
        ),
        (
            "option http_proxy",
            "option 'http_proxy' is not supported any more since HAProxy 2.5. This option stopped working in HAProxy 1.9 and usually had nasty side effects. It can be more reliably implemented with combinations of 'http-request set-dst' and 'http-request set-uri', and even 'http-request do-resolve' if DNS resolution is desired.",
        ),
    ] {
        refused("listen l", line, ":", text);
    }
}

#[test]
fn removed_global_keywords() {
    let (code, _, err) = Proxy::check("global\n    nbproc 2\n");
    assert_ne!(code, 0);
    assert!(
        err.contains("proxy.cfg:2] : nbproc is not supported any more since HAProxy 2.5. Threads will automatically be used on multi-processor machines if available."),
        "{err}"
    );
    let (_, _, err) = Proxy::check("global\n    tune.chksize 100\n");
    assert!(
        err.contains(
            "proxy.cfg:2]: option 'tune.chksize' is not supported any more (tune.bufsize is used instead)."
        ),
        "{err}"
    );
}
