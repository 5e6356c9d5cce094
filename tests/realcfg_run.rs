//! The real-world configurations of `../shared/realcfg/` run, not only
//! checked: each one `strata -c` accepts is started with its binds moved
//! to loopback ports and its servers to one test server, and a `GET /`
//! goes to each of its frontends (over TLS on an `ssl` bind, after a
//! PROXY header on an `accept-proxy` one; in `mode tcp` it crosses the
//! tunnel to the test server, which answers HTTP and echoes anything
//! else). Each answer must be the one HAProxy 2.6 gives ([`ANSWERS`]).
//! What the operator's file says about users, chroot, daemon mode, pid
//! files and stats sockets is dropped (the test runs in the foreground; a
//! global `maxconn` above 4000 is lowered to it, within the file
//! descriptor limit), and so are the servers' health checks and TLS (the
//! test server is plain and checks would take servers down): the rest is
//! the config as published.
//!
//! Skipped, with a message, when `../shared` is absent. Validated with
//! `STRATA_BIN=/usr/sbin/haproxy cargo test --test realcfg_run`.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::tls::{ClientOpts, TlsClient};
use support::*;

/// `../shared/realcfg` from the project root (or from a worktree one level deeper).
fn corpus() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [root.join("../shared/realcfg"), root.join("../../shared/realcfg")]
        .into_iter()
        .find(|p| p.join("run.sh").is_file())
}

/// A frontend (or listen section) of a rewritten config: where its first
/// bind now listens and how to talk to it.
#[derive(Debug)]
struct Front {
    name: String,
    port: u16,
    tls: bool,
    accept_proxy: bool,            // the bind wants a PROXY protocol header first
    mode: Option<String>,          // its own `mode` line, if any
    defaults_mode: Option<String>, // the mode of the `defaults` before it
    disabled: bool,
}

impl Front {
    fn http(&self) -> bool {
        self.mode.as_ref().or(self.defaults_mode.as_ref()).is_some_and(|m| m == "http")
    }
}

/// What HAProxy 2.6 answers on each frontend of the rewritten configs
/// (`STRATA_BIN=/usr/sbin/haproxy`): config (without `.cfg`), frontend,
/// status of the answer to `GET /` (in `mode tcp`, the test server's
/// answer through the tunnel). strata must answer the same.
const ANSWERS: &[(&str, &str, u16)] = &[
    ("02-rabbitmq-cluster-docker-haproxy", "stats", 200),
    ("02-rabbitmq-cluster-docker-haproxy", "rabbitmq", 200),
    ("02-rabbitmq-cluster-docker-haproxy", "mgmt", 200),
    ("02-rabbitmq-cluster-docker-haproxy", "mqtt", 200),
    ("04-kazoo-configs-haproxy-haproxy", "couchdb-data", 200),
    ("04-kazoo-configs-haproxy-haproxy", "couchdb-mgr", 200),
    ("04-kazoo-configs-haproxy-haproxy", "stats", 200),
    ("06-realtime-gateway-reference-haproxy", "ws_frontend", 200),
    ("08-HAProxy-Setup-with-Rate-Limiting-CORS-an-haproxy", "https_front", 200),
    ("10-k3s-setup-haproxy", "k3s-frontend", 200),
    ("12-billeterie-haproxy", "mysql_frontend", 200),
    ("14-test-patroni-haproxy", "stats", 200),
    ("14-test-patroni-haproxy", "postgres", 200),
    ("16-haproxy-htx-buffer-request-expect-header-haproxy", "ssl_offload", 200),
    ("16-haproxy-htx-buffer-request-expect-header-haproxy", "http-in", 200),
    ("18-project-redis-haproxy", "redis_front", 200),
    ("20-HAProxy-configs-mysql", "stats", 401),
    ("20-HAProxy-configs-mysql", "mysql", 200),
    ("22-HAProxy-configs-kubernetes-master-apiserver", "stats", 401),
    ("22-HAProxy-configs-kubernetes-master-apiserver", "kube-apiserver", 200),
    ("24-docker-haproxy-certbot-haproxy", "http", 301),
    ("24-docker-haproxy-certbot-haproxy", "https", 200),
    ("26-postgresql-ha-medium-haproxy", "stats", 200),
    ("26-postgresql-ha-medium-haproxy", "postgres_write", 200),
    ("26-postgresql-ha-medium-haproxy", "postgres_read", 200),
    ("28-prometheus-up-and-running-2e-haproxy", "nginx_frontend", 200),
    ("28-prometheus-up-and-running-2e-haproxy", "galera_haproxy", 200),
    ("30-Cerberus-haproxy", "ft_tor_public", 200),
    ("30-Cerberus-haproxy", "ft_tor_passport", 403),
    ("30-Cerberus-haproxy", "ft_admin", 503),
    ("32-radixdlt-haproxy-haproxy", "gossip_in", 200),
    ("32-radixdlt-haproxy-haproxy", "stats", 401),
    ("34-webinar-2025-02-19-mastering-mysql-high--haproxy", "haproxy-monitoring", 401),
    ("34-webinar-2025-02-19-mastering-mysql-high--haproxy", "haproxy", 200),
    ("36-go-haproxy-auth-request-haproxy", "http", 302),
    ("38-patroni-docker-haproxy", "stats", 200),
    ("38-patroni-docker-haproxy", "patroni-postgresql-primary", 200),
    ("38-patroni-docker-haproxy", "patroni-postgresql-standbys", 200),
    ("40-tz-haproxy-haproxy", "stats", 503),
    ("40-tz-haproxy-haproxy", "www", 200),
    ("42-haproxy-docker-haproxy", "stats", 200),
    ("42-haproxy-docker-haproxy", "ingress", 200),
    ("44-haproxy-basic-config-edge", "stats", 200),
    ("44-haproxy-basic-config-edge", "pub1", 301),
    ("46-docker-clamav-haproxy-haproxy", "stats", 401),
    ("46-docker-clamav-haproxy-haproxy", "clamd", 200),
    ("48-irods-public-haproxy", "irods", 200),
    ("48-irods-public-haproxy", "irods_ctrl", 200),
    ("48-irods-public-haproxy", "irods_reconn", 200),
    ("48-irods-public-haproxy", "metalnx_rmd", 200),
    ("50-haproxy-acmesh-alpn-haproxy", "http", 301),
    ("50-haproxy-acmesh-alpn-haproxy", "fe_alpn", 200),
    ("50-haproxy-acmesh-alpn-haproxy", "fe_https", 503),
    ("52-patroni-compose-haproxy", "ft_postgresql", 200),
    ("54-vernemq-cluster-and-haproxy-haproxy", "mqtt_frontend", 200),
    ("54-vernemq-cluster-and-haproxy-haproxy", "stats", 503),
    ("56-galeriadb-haproxy", "stats", 503),
    ("56-galeriadb-haproxy", "galera-write", 200),
    ("58-patroni-haproxy", "stats", 200),
    ("58-patroni-haproxy", "batman", 200),
    ("60-haproxy-quick-test", "p", 200),
];

/// Frontends that answer nothing, as in HAProxy, and why.
const SILENT: &[(&str, &str, &str)] = &[(
    "12-billeterie-haproxy",
    "stats",
    "a `mode tcp` listen with only `stats` keywords (HTTP-only, warned) and no server: the connection is closed",
)];

/// Global keywords about the process's identity and life the test cannot
/// honour unprivileged in the foreground.
const GLOBAL_DROPPED: &[&str] =
    &["user", "group", "uid", "gid", "chroot", "daemon", "pidfile", "master-worker", "stats"];

/// Server options dropped, and how many arguments each takes.
const SERVER_DROPPED: &[(&str, usize)] = &[
    ("check", 0),
    ("check-ssl", 0),
    ("ssl", 0),
    ("send-proxy", 0),
    ("send-proxy-v2", 0),
    ("check-send-proxy", 0),
    ("agent-check", 0),
    ("verify", 1),
    ("ca-file", 1),
    ("crt", 1),
    ("sni", 1),
    ("alpn", 1),
    ("check-sni", 1),
    ("agent-port", 1),
];

/// Bind options about interfaces and namespaces the loopback test cannot
/// keep, and how many arguments each takes.
const BIND_DROPPED: &[(&str, usize)] = &[("interface", 1), ("namespace", 1), ("v4v6", 0), ("v6only", 0)];

fn drop_options(words: &[&str], dropped: &[(&str, usize)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        match dropped.iter().find(|(k, _)| *k == words[i]) {
            Some((_, args)) => i += 1 + args,
            None => {
                out.push(words[i].to_string());
                i += 1;
            }
        }
    }
    out
}

/// The config with its binds on fresh loopback ports and its servers on
/// `server`; the frontends found.
fn rewrite(text: &str, server: u16, dir: &Path) -> (String, Vec<Front>) {
    let mut out = String::new();
    let mut fronts: Vec<Front> = Vec::new();
    let mut section = String::new();
    let mut defaults_mode: Option<String> = None;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(&kw) = words.first() else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let indent = &line[..line.len() - line.trim_start().len()];
        match kw {
            "global" | "defaults" | "frontend" | "listen" | "backend" | "peers" | "resolvers"
            | "userlist" | "mailers" | "cache" | "program" | "http-errors" | "ring" => {
                section = kw.to_string();
                if matches!(kw, "frontend" | "listen") {
                    fronts.push(Front {
                        name: words.get(1).unwrap_or(&"").to_string(),
                        port: 0,
                        tls: false,
                        accept_proxy: false,
                        mode: None,
                        defaults_mode: defaults_mode.clone(),
                        disabled: false,
                    });
                }
                out.push_str(line);
                out.push('\n');
                continue;
            }
            _ => {}
        }
        let rewritten = match (section.as_str(), kw) {
            ("global", k) if GLOBAL_DROPPED.contains(&k) => None,
            // Within the test's file descriptor limit (HAProxy refuses to
            // start when it cannot raise it for the configured maxconn).
            ("global", "maxconn")
                if words.get(1).and_then(|n| n.parse::<u32>().ok()).is_some_and(|n| n > 4000) =>
            {
                Some(format!("{indent}maxconn 4000"))
            }
            // The config is started from another directory: relative
            // certificate names are made absolute instead (below).
            ("global", "default-path") => None,
            ("defaults", "mode") => {
                defaults_mode = words.get(1).map(|m| m.to_string());
                Some(line.to_string())
            }
            ("frontend" | "listen", "mode") => {
                if let Some(f) = fronts.last_mut() {
                    f.mode = words.get(1).map(|m| m.to_string());
                }
                Some(line.to_string())
            }
            ("frontend" | "listen", "disabled") => {
                if let Some(f) = fronts.last_mut() {
                    f.disabled = true;
                }
                Some(line.to_string())
            }
            // QUIC is out of scope (and inside `.if feature(QUIC)` where it appears).
            ("frontend" | "listen", "bind") if words.get(1).is_some_and(|a| a.starts_with("quic")) => None,
            ("frontend" | "listen", "bind") => {
                let port = free_port();
                let mut opts = drop_options(&words[2..], BIND_DROPPED);
                for i in 1..opts.len() {
                    if opts[i - 1] == "crt" && !opts[i].starts_with('/') {
                        opts[i] = format!("{}/{}", dir.display(), opts[i]);
                    }
                }
                if let Some(f) = fronts.last_mut().filter(|f| f.port == 0) {
                    f.port = port;
                    f.tls = opts.iter().any(|o| o == "ssl");
                    f.accept_proxy = opts.iter().any(|o| o == "accept-proxy");
                }
                Some(format!("{indent}bind 127.0.0.1:{port} {}", opts.join(" ")))
            }
            ("peers", "peer") | ("peers", "bind") => {
                let port = free_port();
                let at = if kw == "peer" { 2 } else { 1 };
                let mut w: Vec<String> = words.iter().map(|w| w.to_string()).collect();
                if let Some(a) = w.get_mut(at) {
                    *a = format!("127.0.0.1:{port}");
                }
                Some(format!("{indent}{}", w.join(" ")))
            }
            ("backend" | "listen", "server") | ("backend" | "listen", "server-template") => {
                let at = if kw == "server" { 2 } else { 3 };
                let mut w: Vec<String> = words[..at.min(words.len())].iter().map(|w| w.to_string()).collect();
                w.push(format!("127.0.0.1:{server}"));
                w.extend(drop_options(words.get(at + 1..).unwrap_or(&[]), SERVER_DROPPED));
                Some(format!("{indent}{}", w.join(" ")))
            }
            ("defaults" | "backend" | "listen", "default-server") => {
                let opts = drop_options(&words[1..], SERVER_DROPPED);
                Some(format!("{indent}default-server {}", opts.join(" ")))
            }
            _ => Some(line.to_string()),
        };
        if let Some(l) = rewritten {
            out.push_str(&l);
            out.push('\n');
        }
    }
    fronts.retain(|f| f.port != 0 && !f.disabled);
    (out, fronts)
}

/// The test server every server line points to: an HTTP request gets a
/// 200 (and the connection closed), anything else is echoed back.
fn sniffing_server() -> Backend {
    Backend::spawn_closing(|mut s| {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            buf.extend_from_slice(&chunk[..n]);
            let http =
                buf.split(|&b| b == b'\n').next().is_some_and(|l| l.windows(6).any(|w| w == b"HTTP/1"));
            if !http {
                if s.write_all(&buf).is_err() {
                    return;
                }
                buf.clear();
                continue;
            }
            if buf.windows(4).any(|w| w == b"\r\n\r\n") {
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
                return;
            }
        }
    })
}

/// A client connection, plain or TLS.
trait Io: Read + Write {}
impl<T: Read + Write> Io for T {}

/// What one frontend answered: `HTTP <status>`.
fn ask(f: &Front) -> Result<String, String> {
    let mut tcp = TcpStream::connect(("127.0.0.1", f.port)).map_err(|e| format!("connect: {e}"))?;
    tcp.set_read_timeout(Some(ms(10_000))).map_err(|e| format!("timeout: {e}"))?;
    if f.accept_proxy {
        let header = format!("PROXY TCP4 127.0.0.1 127.0.0.1 40000 {}\r\n", f.port);
        tcp.write_all(header.as_bytes()).map_err(|e| format!("PROXY header: {e}"))?;
    }
    let mut io: Box<dyn Io> = if f.tls {
        let alpn = if f.http() { vec!["http/1.1"] } else { vec![] };
        let client = TlsClient::new(ClientOpts { sni: Some("localhost".into()), alpn, ..Default::default() });
        let conn = client.raw_connection().map_err(|e| format!("TLS: {e}"))?;
        let mut s = rustls::StreamOwned::new(conn, tcp);
        while s.conn.is_handshaking() {
            s.conn.complete_io(&mut s.sock).map_err(|e| format!("TLS handshake: {e}"))?;
        }
        Box::new(s)
    } else {
        Box::new(tcp)
    };
    // In `mode tcp` too: the bytes reach the test server as they are (or
    // an HTTP backend takes them), and its answer comes back.
    io.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: realcfg\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut head = Vec::new();
    let mut chunk = [0u8; 1024];
    while !head.contains(&b'\n') {
        match io.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let status = text
        .strip_prefix("HTTP/1.")
        .and_then(|r| r.get(2..5))
        .ok_or_else(|| format!("no HTTP answer: {:?}", &text[..text.len().min(80)]))?;
    Ok(format!("HTTP {status}"))
}

#[test]
fn accepted_real_configs_serve_a_request_on_each_frontend() {
    let Some(corpus) = corpus() else {
        eprintln!("skipped: ../shared/realcfg is absent (no acceptance material in this checkout)");
        return;
    };
    let work = std::env::temp_dir().join(format!("strata-realcfg-run-{}", std::process::id()));
    let files = work.join("files");
    let made =
        Command::new("bash").arg(corpus.join("make-files.sh")).arg(&files).status().expect("make-files.sh");
    assert!(made.success(), "make-files.sh failed (is openssl installed?)");
    std::fs::copy(files.join("ssl/dummy.pem"), work.join("pub1.pem")).expect("pub1.pem");
    let env: Vec<(&str, String)> = [
        ("RADIX_CORE_HOST", "127.0.0.1"),
        ("RADIX_CORE_PORT", "30001"),
        ("STATS_PORT", "18404"),
        ("STATS_USERNAME", "admin"),
        ("STATS_PASSWORD", "admin"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_string()))
    .collect();
    let server = sniffing_server();
    let mut configs: Vec<PathBuf> =
        std::fs::read_dir(corpus.join("configs")).expect("configs").flatten().map(|e| e.path()).collect();
    configs.sort();
    let (mut started, mut served, mut failures) = (0, 0, Vec::new());
    let mut asked: Vec<(String, String)> = Vec::new(); // (config, frontend) of the configs started
    for path in configs.iter().filter(|p| p.extension().is_some_and(|e| e == "cfg")) {
        let file = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).expect("read config");
        let text = text.replace("@FILES@", &files.display().to_string());
        let (cfg, fronts) = rewrite(&text, server.port(), &work);
        let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (code, _, err) = Proxy::run_once(&["-c", "-f", "proxy.cfg"], &env_refs, &[("proxy.cfg", &cfg)]);
        if code != 0 {
            eprintln!("{file}: not accepted, not run (tests/realcfg.rs says why):\n{err}");
            continue;
        }
        started += 1;
        let proxy = Proxy::start_with_env(&cfg, &[], &env);
        let stem = file.trim_end_matches(".cfg");
        for f in &fronts {
            asked.push((stem.to_string(), f.name.clone()));
            let want = ANSWERS.iter().find(|(c, n, _)| *c == stem && *n == f.name).map(|a| a.2);
            let silent = SILENT.iter().find(|(c, n, _)| *c == stem && *n == f.name);
            match (ask(f), want, silent) {
                (Ok(answer), Some(w), _) if answer == format!("HTTP {w}") => served += 1,
                (Ok(answer), None, None) => {
                    served += 1;
                    eprintln!("{file}: {}: {answer} (not in ANSWERS: add it once HAProxy agrees)", f.name);
                }
                (Ok(answer), w, _) => {
                    failures.push(format!("{file}: frontend {}: {answer}, HAProxy: {w:?}", f.name))
                }
                (Err(e), _, Some((_, _, why))) => eprintln!("{file}: {}: {e}: expected, {why}", f.name),
                (Err(e), _, None) => failures.push(format!("{file}: frontend {}: {e}", f.name)),
            }
        }
        drop(proxy);
    }
    let _ = std::fs::remove_dir_all(&work);
    eprintln!("{started} configs started, {served} frontends served");
    assert!(started > 0, "no config was accepted");
    let started_configs: Vec<&str> = asked.iter().map(|(c, _)| c.as_str()).collect();
    for (c, n, _) in ANSWERS.iter().filter(|(c, _, _)| started_configs.contains(c)) {
        assert!(asked.iter().any(|(ac, an)| ac == c && an == n), "{c}: frontend {n} was not found to ask");
    }
    assert!(failures.is_empty(), "frontends that did not serve:\n{}", failures.join("\n"));
}
