//! A `disabled` proxy (frontend, backend or listen) is left out of every
//! statistics view, as HAProxy 2.6.12 leaves it out (its stats dump skips
//! proxies flagged disabled): `show stat`, the stats page's CSV and the
//! Prometheus exporter list only the enabled ones. Passes on HAProxy
//! 2.6.12 too (`STRATA_BIN=/usr/sbin/haproxy`).

mod support;

use std::collections::BTreeSet;

use support::*;

struct Lab {
    cli: u16,
    web: u16,
    _proxy: Proxy,
}

fn start(disabled: bool) -> Lab {
    let (cli, web, off, lst) = (free_port(), free_port(), free_port(), free_port());
    let d = if disabled { "disabled" } else { "" };
    // A disabled proxy's bind is written as a one-port range so that the
    // launcher does not wait for a listener that is not there.
    let cfg = format!(
        "global\n    stats socket ipv4@127.0.0.1:{cli} level admin\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         frontend f\n    bind 127.0.0.1:{off}-{off}\n    {d}\n    default_backend b\n\
         frontend g\n    bind 127.0.0.1:{web}\n\
         \x20   http-request use-service prometheus-exporter if {{ path /metrics }}\n\
         \x20   stats enable\n    stats uri /stats\n    default_backend b\n\
         backend b\n    server s1 127.0.0.1:1\n\
         backend c\n    {d}\n    server s1 127.0.0.1:1\n\
         listen l\n    bind 127.0.0.1:{lst}-{lst}\n    {d}\n    server s1 127.0.0.1:1\n"
    );
    Lab { cli, web, _proxy: Proxy::start(&cfg) }
}

/// `pxname,svname` of every line of a CSV statistics dump.
fn csv_lines(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let mut f = l.split(',');
            Some(format!("{},{}", f.next()?, f.next()?))
        })
        .collect()
}

/// The `proxy="..."` labels of the exporter's proxy and server samples.
fn prom_proxies(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| {
            l.starts_with("haproxy_frontend_")
                || l.starts_with("haproxy_backend_")
                || l.starts_with("haproxy_server_")
        })
        .filter_map(|l| l.split("proxy=\"").nth(1)?.split('"').next().map(String::from))
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn disabled_proxies_are_left_out_of_the_statistics() {
    let lab = start(false);
    let all = [
        "f,FRONTEND",
        "g,FRONTEND",
        "b,s1",
        "b,BACKEND",
        "c,s1",
        "c,BACKEND",
        "l,FRONTEND",
        "l,s1",
        "l,BACKEND",
    ];
    assert_eq!(csv_lines(&cli(lab.cli, "show stat")), set(&all), "control: every proxy");
    let lab = start(true);
    let enabled = set(&["g,FRONTEND", "b,s1", "b,BACKEND"]);
    assert_eq!(csv_lines(&cli(lab.cli, "show stat")), enabled, "show stat");
    let page = HttpConn::connect(lab.web).request(&get("/stats;csv")).expect("stats page");
    assert_eq!(csv_lines(&String::from_utf8_lossy(&page.body)), enabled, "the stats page's CSV");
    let prom = HttpConn::connect(lab.web).request(&get("/metrics")).expect("metrics");
    assert_eq!(prom_proxies(&String::from_utf8_lossy(&prom.body)), set(&["b", "g"]), "prometheus");
}
