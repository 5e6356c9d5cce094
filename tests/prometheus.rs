//! `http-request use-service prometheus-exporter`: every metric family
//! HAProxy 2.6.12 prints on the same configuration (name, label names,
//! `# HELP` and `# TYPE` lines; recorded in
//! `tests/golden/prometheus/families.txt`) is in strata's output, counters
//! move with traffic, `scope` limits the families, and strata's own
//! `strata_counters_consistent` and table gauges are there.
//! `tests/scripts/promtool_check.sh` validates the text with `promtool`.
//!
//! Record again: `STRATA_RECORD=1 STRATA_BIN=/usr/sbin/haproxy cargo test --test prometheus`.

mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;
use support::{HttpBackend, HttpConn, Proxy, free_port, get, under_haproxy, wait_until};

struct Lab {
    fe: u16,
    _app: HttpBackend,
    _proxy: Proxy,
}

fn start() -> Lab {
    let (fe, ft) = (free_port(), free_port());
    let app = HttpBackend::start();
    let cfg = format!(
        "defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
         frontend fe_main\n    bind 127.0.0.1:{fe}\n\
         \x20   stick-table type ip size 1k expire 10m store conn_cur,http_req_rate(10s)\n\
         \x20   tcp-request connection track-sc0 src\n\
         \x20   http-request use-service prometheus-exporter if {{ path /metrics }}\n    default_backend be_app\n\
         backend be_app\n    option httpchk GET /health\n    server app1 127.0.0.1:{p} check inter 100ms\n    server app2 127.0.0.1:{p} disabled\n\
         frontend fe_tcp\n    mode tcp\n    bind 127.0.0.1:{ft}\n    default_backend be_tcp\n\
         backend be_tcp\n    mode tcp\n    server t1 127.0.0.1:{p}\n",
        p = app.port()
    );
    let proxy = Proxy::start(&cfg);
    Lab { fe, _app: app, _proxy: proxy }
}

fn scrape(port: u16, path: &str) -> String {
    let r = HttpConn::connect(port).request(&get(path)).expect("scrape");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; version=0.0.4"));
    String::from_utf8(r.body).expect("utf8")
}

/// `name{label,names}` of every sample, plus the HELP and TYPE lines.
fn families(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            out.insert(line.to_owned());
            continue;
        }
        let Some((series, _)) = line.rsplit_once(' ') else { continue };
        let (name, labels) = series.split_once('{').unwrap_or((series, ""));
        let names: Vec<&str> =
            labels.split(',').filter_map(|kv| kv.split_once('=').map(|(k, _)| k)).collect();
        out.insert(format!("{name}{{{}}}", names.join(",")));
    }
    out
}

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')).and_then(|v| v.parse().ok()))
}

#[test]
fn haproxys_metric_families_are_all_there() {
    let lab = start();
    // Let the first check pass, then some traffic.
    std::thread::sleep(Duration::from_millis(400));
    for _ in 0..3 {
        assert_eq!(HttpConn::connect(lab.fe).request(&get("/")).expect("request").status, 200);
    }
    let text = scrape(lab.fe, "/metrics");
    let got = families(&text);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/prometheus/families.txt");
    if std::env::var_os("STRATA_RECORD").is_some() {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        let list: Vec<&str> = got.iter().map(String::as_str).filter(|l| !l.contains("strata_")).collect();
        std::fs::write(&path, list.join("\n") + "\n").expect("record");
        return;
    }
    let want = std::fs::read_to_string(&path).expect("golden families");
    let missing: Vec<&str> = want.lines().filter(|l| !got.contains(*l)).collect();
    assert!(missing.is_empty(), "{} of HAProxy's families missing:\n{}", missing.len(), missing.join("\n"));
    // Counters move with traffic.
    let total = "haproxy_frontend_http_requests_total{proxy=\"fe_main\"}";
    let before = value(&text, total).expect("requests total");
    assert!(before >= 3.0, "{before}");
    assert_eq!(HttpConn::connect(lab.fe).request(&get("/")).expect("request").status, 200);
    let after = value(&scrape(lab.fe, "/metrics"), total).expect("requests total");
    assert!(after >= before + 1.0, "{before} -> {after}");
    assert_eq!(
        value(&text, "haproxy_server_status{proxy=\"be_app\",server=\"app2\",state=\"MAINT\"}"),
        Some(1.0)
    );
    assert_eq!(
        value(&text, "haproxy_server_check_status{proxy=\"be_app\",server=\"app1\",state=\"L7OK\"}"),
        Some(1.0)
    );
}

#[test]
fn scope_limits_the_families() {
    let lab = start();
    let only_fe = scrape(lab.fe, "/metrics?scope=frontend");
    let names: BTreeSet<&str> =
        only_fe.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split(['{', ' ']).next()).collect();
    assert!(!names.is_empty() && names.iter().all(|n| n.starts_with("haproxy_frontend_")), "{names:?}");
    let tables = scrape(lab.fe, "/metrics?scope=sticktable");
    assert!(tables.contains("haproxy_sticktable_size{name=\"fe_main\",type=\"ip\"} 1024"), "{tables}");
    assert!(!tables.contains("haproxy_frontend_"));
    let two = scrape(lab.fe, "/metrics?scope=backend&scope=server");
    assert!(
        two.contains("haproxy_backend_")
            && two.contains("haproxy_server_")
            && !two.contains("haproxy_process_")
    );
}

#[test]
fn strata_counters_consistent_and_table_gauges() {
    if under_haproxy() {
        return; // strata's own metrics
    }
    let lab = start();
    // Two held connections are two trackers on the client's entry.
    let mut held = [HttpConn::connect(lab.fe), HttpConn::connect(lab.fe)];
    for c in &mut held {
        assert_eq!(c.request(&get("/")).expect("request").status, 200);
    }
    let mut text = String::new();
    let audited = wait_until(Duration::from_secs(5), || {
        text = scrape(lab.fe, "/metrics");
        value(&text, "strata_counters_consistent") == Some(1.0)
    });
    assert!(audited, "no audit:\n{text}");
    assert_eq!(value(&text, "strata_sticktable_entries{name=\"fe_main\",type=\"ip\"}"), Some(1.0));
    // The two held connections and the scraping one.
    assert_eq!(value(&text, "strata_sticktable_trackers{name=\"fe_main\",type=\"ip\"}"), Some(3.0), "{text}");
}
