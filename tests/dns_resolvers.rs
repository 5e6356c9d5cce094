//! `resolvers` sections and servers resolved at run time: a server whose
//! name's address changes follows it live (traffic, `show servers state`,
//! `show stat`), a `server-template` spreads over the answered addresses
//! without sharing one, NXDOMAIN held past `hold nx` puts the server in
//! `MAINT (resolution)`, so do REFUSED past `hold refused` and silence
//! past `hold timeout`, queries announce `accepted_payload_size`,
//! `show resolvers` counts each name server's
//! answers, and the section's refusals use HAProxy's words.
//!
//! The bug story: strata refused every `resolvers` section (7 of 60 real
//! configs: Docker and Kubernetes setups whose backends' addresses change
//! when a container restarts), so those operators could not start it.
//! Validated against HAProxy 2.6 (`STRATA_BIN=/usr/sbin/haproxy`), with
//! the stand-in DNS server of tests/support/dns.rs.

mod support;

use std::time::Duration;
use support::dns::{Answer, DnsServer, two_hellos};
use support::*;

const SETTLE_MS: u64 = 20_000;

fn config(stats: u16, fe: u16, dns: u16, servers: &str) -> String {
    format!(
        "global\n    stats socket 127.0.0.1:{stats} level admin\n\
         resolvers dns\n    nameserver ns1 127.0.0.1:{dns}\n    hold valid {}\n    hold nx {}\n\
         \x20   timeout resolve {}\n    timeout retry {}\n    resolve_retries 2\n\
         defaults\n    mode tcp\n    timeout connect {}\n    timeout client {}\n    timeout server {}\n\
         frontend fe\n    bind 127.0.0.1:{fe}\n    default_backend b\n\
         backend b\n{servers}",
        cfg_time(Duration::from_millis(100)),
        cfg_time(Duration::from_millis(300)),
        cfg_time(Duration::from_millis(100)),
        cfg_time(Duration::from_millis(200)),
        cfg_time(Duration::from_secs(2)),
        cfg_time(Duration::from_secs(5)),
        cfg_time(Duration::from_secs(5)),
    )
}

/// (srv_name, srv_addr) of every `show servers state` line of backend b.
fn addrs(stats: u16) -> Vec<(String, String)> {
    cli(stats, "show servers state b")
        .lines()
        .skip(2)
        .filter_map(|l| {
            let w: Vec<&str> = l.split(' ').collect();
            Some((w.get(3)?.to_string(), w.get(4)?.to_string()))
        })
        .collect()
}

fn wait_addr(stats: u16, srv: &str, addr: &str) {
    let ok = wait_until(ms(SETTLE_MS), || addrs(stats).iter().any(|(s, a)| s == srv && a == addr));
    assert!(ok, "{srv} never got {addr}: {:?}", addrs(stats));
}

/// What one connection through the frontend is greeted with.
fn greeting(fe: u16) -> String {
    let mut s = connect(fe);
    let got = read_to_end_with_timeout(&mut s, ms(5000)).unwrap_or_default();
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn a_server_follows_its_name_as_the_answers_change() {
    let port = two_hellos();
    let dns = DnsServer::start();
    dns.set("web.test", Answer::Addrs(vec!["127.0.0.2".parse().unwrap()]));
    let (stats, fe) = (free_port(), free_port());
    let servers = format!("    server s1 web.test:{port} resolvers dns init-addr none\n");
    let p = Proxy::start(&config(stats, fe, dns.port(), &servers));

    wait_addr(stats, "s1", "127.0.0.2");
    assert_eq!(greeting(fe), "two\n");
    dns.set("web.test", Answer::Addrs(vec!["127.0.0.3".parse().unwrap()]));
    wait_addr(stats, "s1", "127.0.0.3");
    assert_eq!(greeting(fe), "three\n");
    let st = show_stat(stats, "");
    assert_eq!(st.get("b", "s1", "addr"), format!("127.0.0.3:{port}"));
    assert_eq!(st.get("b", "s1", "status"), "no check");
    // AAAA first (resolve-prefer ipv6 is the default), then A when it has none.
    let qs = dns.questions();
    assert_eq!(qs.first().map(|q| q.1.to_string()), Some("AAAA".into()), "{qs:?}");
    assert!(qs.iter().any(|q| q.0 == "web.test" && q.1.to_string() == "A"), "{qs:?}");

    // NXDOMAIN for longer than `hold nx`: no address, no traffic.
    dns.set("web.test", Answer::Nx);
    expect_stat(stats, "b", "s1", &[("status", "MAINT (resolution)")], "after NX");
    let ok = wait_until(ms(SETTLE_MS), || addrs(stats).iter().any(|(s, a)| s == "s1" && a == "-"));
    assert!(ok, "{:?}", addrs(stats));
    // And back.
    dns.set("web.test", Answer::Addrs(vec!["127.0.0.2".parse().unwrap()]));
    wait_addr(stats, "s1", "127.0.0.2");
    expect_stat(stats, "b", "s1", &[("status", "no check")], "resolves again");
    assert_eq!(greeting(fe), "two\n");

    let text = cli(stats, "show resolvers dns");
    let count = |k: &str| -> u64 {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{k}:")).map(|v| v.trim().parse().unwrap_or(0)))
            .unwrap_or(0)
    };
    assert!(text.starts_with("Resolvers section dns\n nameserver ns1:\n  sent:"), "{text}");
    assert!(count("valid") >= 3, "{text}");
    assert!(count("update") >= 3, "{text}");
    assert!(count("any_err") >= 1, "empty AAAA answers: {text}");
    assert!(count("nx") >= 1, "{text}");
    assert!(count("sent") >= count("valid") + count("any_err") + count("nx"), "{text}");

    let err = p.stderr_text();
    for line in [
        "b/s1 changed its IP from (none) to 127.0.0.2 by dns/ns1.",
        "b/s1 changed its IP from 127.0.0.2 to 127.0.0.3 by dns/ns1.",
        "Server b/s1 is going DOWN for maintenance (DNS NX status).",
        "Server b/s1 ('web.test') is UP/READY (resolves again).",
    ] {
        assert!(err.contains(line), "no {line:?} in:\n{err}");
    }
}

/// `hold refused` and `hold timeout`: a name server that answers REFUSED,
/// or stops answering, for longer than its hold puts the server in
/// maintenance with HAProxy's reason, and a valid answer brings it back;
/// every query announces `accepted_payload_size` in its EDNS0 OPT record.
/// HAProxy 2.6.12 on the same configuration prints the same lines and
/// announces the same payload size (checked with a stand-in name server).
#[test]
fn refused_and_silent_name_servers_are_held_then_the_server_goes_to_maintenance() {
    let port = two_hellos();
    let dns = DnsServer::start();
    dns.set("web.test", Answer::Addrs(vec!["127.0.0.2".parse().unwrap()]));
    let (stats, fe) = (free_port(), free_port());
    let t = |n| cfg_time(Duration::from_millis(n));
    let cfg = format!(
        "global\n    stats socket 127.0.0.1:{stats} level admin\n\
         resolvers dns\n    nameserver ns1 127.0.0.1:{}\n    accepted_payload_size 1232\n\
         \x20   resolve_retries 2\n    timeout retry {}\n    timeout resolve {}\n\
         \x20   hold valid {}\n    hold refused {}\n    hold timeout {}\n\
         defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{fe}\n    default_backend b\n\
         backend b\n    server s1 web.test:{port} resolvers dns init-addr none resolve-prefer ipv4\n",
        dns.port(),
        t(100),
        t(100),
        t(100),
        t(300),
        t(300),
    );
    let p = Proxy::start(&cfg);
    wait_addr(stats, "s1", "127.0.0.2");
    assert_eq!(greeting(fe), "two\n");

    dns.set("web.test", Answer::Refused);
    expect_stat(stats, "b", "s1", &[("status", "MAINT (resolution)")], "REFUSED past hold refused");
    dns.set("web.test", Answer::Addrs(vec!["127.0.0.2".parse().unwrap()]));
    expect_stat(stats, "b", "s1", &[("status", "no check")], "valid again");
    assert_eq!(greeting(fe), "two\n");

    dns.set("web.test", Answer::Silent);
    expect_stat(stats, "b", "s1", &[("status", "MAINT (resolution)")], "silent past hold timeout");
    dns.set("web.test", Answer::Addrs(vec!["127.0.0.2".parse().unwrap()]));
    expect_stat(stats, "b", "s1", &[("status", "no check")], "valid after silence");

    let err = p.stderr_text();
    for line in [
        "Server b/s1 is going DOWN for maintenance (DNS refused status).",
        "Server b/s1 is going DOWN for maintenance (DNS timeout status).",
        "Server b/s1 administratively READY thanks to valid DNS answer.",
    ] {
        assert!(err.contains(line), "no {line:?} in:\n{err}");
    }
    let payloads = dns.payloads();
    assert!(!payloads.is_empty());
    assert!(payloads.iter().all(|p| *p == Some(1232)), "{payloads:?}");
}

#[test]
fn a_server_template_spreads_over_the_answers_without_sharing_one() {
    let port = two_hellos();
    let dns = DnsServer::start();
    let both = vec!["127.0.0.2".parse().unwrap(), "127.0.0.3".parse().unwrap()];
    dns.set("farm.test", Answer::Addrs(both));
    let (stats, fe) = (free_port(), free_port());
    let servers = format!(
        "    balance roundrobin\n    server-template w 3 farm.test:{port} resolvers dns init-addr none\n"
    );
    let _p = Proxy::start(&config(stats, fe, dns.port(), &servers));
    wait_addr(stats, "w1", "127.0.0.2");
    wait_addr(stats, "w2", "127.0.0.3");
    let st = show_stat(stats, "");
    assert_eq!(st.get("b", "w3", "status"), "MAINT (resolution)", "no third address");
    let mut seen: Vec<String> = (0..4).map(|_| greeting(fe)).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen, ["three\n", "two\n"]);
}

#[test]
fn show_resolvers_prints_every_counter_of_every_name_server() {
    let (stats, fe) = (free_port(), free_port());
    let cfg = format!(
        "global\n    stats socket 127.0.0.1:{stats} level admin\n\
         resolvers quiet\n    nameserver q1 127.0.0.1:{}\n    nameserver q2 127.0.0.1:{}\n\
         defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n\
         listen l\n    bind 127.0.0.1:{fe}\n    server s 127.0.0.1:{}\n",
        closed_port(),
        closed_port(),
        closed_port()
    );
    let _p = Proxy::start(&cfg);
    let zeros = "  sent:        0\n  snd_error:   0\n  valid:       0\n  update:      0\n  cname:       0\n  \
                 cname_error: 0\n  any_err:     0\n  nx:          0\n  timeout:     0\n  refused:     0\n  \
                 other:       0\n  invalid:     0\n  too_big:     0\n  truncated:   0\n  outdated:    0\n";
    let want = format!("Resolvers section quiet\n nameserver q1:\n{zeros} nameserver q2:\n{zeros}\n");
    assert_eq!(cli(stats, "show resolvers quiet"), want);
    assert_eq!(cli(stats, "show resolvers nope"), "Can't find that resolvers section\n\n");
}

/// `parse-resolv-conf`: each `nameserver` line of `/etc/resolv.conf`
/// becomes a name server of the section, named by its address as HAProxy
/// names it, beside the section's own. No server uses the section, so
/// nothing is sent to those (non-loopback) addresses.
#[test]
fn parse_resolv_conf_adds_the_systems_name_servers() {
    let system: Vec<String> = std::fs::read_to_string("/etc/resolv.conf")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("nameserver").and_then(|r| r.split_whitespace().next()))
        .filter(|a| a.parse::<std::net::IpAddr>().is_ok())
        .map(str::to_owned)
        .collect();
    if system.is_empty() {
        eprintln!("skipped: /etc/resolv.conf names no name server");
        return;
    }
    let (stats, fe) = (free_port(), free_port());
    let cfg = format!(
        "global\n    stats socket 127.0.0.1:{stats} level admin\n\
         resolvers sys\n    nameserver own 127.0.0.1:{}\n    parse-resolv-conf\n\
         defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\n\
         listen l\n    bind 127.0.0.1:{fe}\n    server s 127.0.0.1:{}\n",
        closed_port(),
        closed_port()
    );
    let _p = Proxy::start(&cfg);
    let text = cli(stats, "show resolvers sys");
    let names: Vec<&str> =
        text.lines().filter_map(|l| l.strip_prefix(" nameserver ")?.strip_suffix(':')).collect();
    let mut want = vec!["own".to_string()];
    want.extend(system);
    want.dedup();
    assert_eq!(names, want, "{text}");
}

#[test]
fn resolvers_refusals_use_haproxys_words() {
    let cfg = "resolvers dns\n  nameserver ns1 127.0.0.1\n  hold bogus 10s\n  hold valid\n  timeout foo 1s\n\
               \x20 timeout retry 1x\n  accepted_payload_size 10\n  resolve_retries\n  frobnicate\n\
               \x20 resolution_pool_size 3\n  hold nx 5y\n  timeout resolve\n\
               defaults\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n\
               backend b\n  server s1 foo.invalid:80 resolvers nope init-addr none\n";
    let (rc, _, err) = Proxy::check(cfg);
    assert_ne!(rc, 0);
    for want in [
        "proxy.cfg:2] : 'nameserver ns1' : missing port specification in '127.0.0.1'",
        "proxy.cfg:3] : 'hold' unknown <event>: 'bogus', expects either 'nx', 'timeout', 'valid', 'obsolete' or 'other'.",
        "proxy.cfg:4] : 'hold' expects an <event> and a <time> as arguments.",
        "<event> can be either 'valid', 'nx', 'refused', 'timeout', or 'other'",
        "proxy.cfg:5] : 'timeout' expects 'retry' or 'resolve' and <time> as arguments got 'foo'.",
        "proxy.cfg:6]: unexpected character 'x' in argument to <timeout retry>.",
        "proxy.cfg:7] : 'accepted_payload_size' must be between 12 and 65535 inclusive (was 10).",
        "proxy.cfg:8] : 'resolve_retries' expects <nb> as argument.",
        "proxy.cfg:9] : unknown keyword 'frobnicate' in 'resolvers' section",
        "proxy.cfg:10] : 'resolution_pool_size' directive is not supported anymore (it never appeared in a stable release).",
        "proxy.cfg:11]: unexpected character 'y' in argument to <hold>.",
        "proxy.cfg:12] : 'timeout resolve' expects <time> as argument.",
    ] {
        assert!(err.contains(want), "no {want:?} in:\n{err}");
    }

    let cfg = "resolvers empty\ndefaults\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n\
               backend b\n  server s1 foo.invalid:80 resolvers nope init-addr none\n";
    let (rc, _, err) = Proxy::check(cfg);
    assert_ne!(rc, 0);
    assert!(err.contains("backend 'b', server 's1': unable to find required resolvers 'nope'"), "{err}");
    let cfg = "resolvers empty\ndefaults\n  timeout client 1s\n  timeout server 1s\n  timeout connect 1s\n\
               backend b\n  server s1 127.0.0.1:80 resolvers empty\n";
    let (_, _, err) = Proxy::check(cfg);
    assert!(
        err.contains("[WARNING]") && err.contains("proxy.cfg:1] has no nameservers configured!"),
        "{err}"
    );
}

/// With `nbthread 4` one thread resolves, and every thread connects to the
/// address it set: the kernel spreads the connections over the threads'
/// listening sockets, so a thread still holding the old address would
/// answer "two" here.
#[test]
fn every_thread_follows_the_resolved_address() {
    let port = two_hellos();
    let dns = DnsServer::start();
    dns.set("web.test", Answer::Addrs(vec!["127.0.0.2".parse().unwrap()]));
    let (stats, fe) = (free_port(), free_port());
    let servers = format!("    server s1 web.test:{port} resolvers dns init-addr none\n");
    let cfg = config(stats, fe, dns.port(), &servers).replacen("global\n", "global\n    nbthread 4\n", 1);
    let _p = Proxy::start(&cfg);
    wait_addr(stats, "s1", "127.0.0.2");
    assert_eq!(greeting(fe), "two\n");
    dns.set("web.test", Answer::Addrs(vec!["127.0.0.3".parse().unwrap()]));
    wait_addr(stats, "s1", "127.0.0.3");
    let seen: Vec<String> = (0..16).map(|_| greeting(fe)).collect();
    assert!(seen.iter().all(|g| g == "three\n"), "{seen:?}");
    let st = show_stat(stats, "");
    assert_eq!(st.get("b", "s1", "addr"), format!("127.0.0.3:{port}"));
}
