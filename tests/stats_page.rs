//! The HTTP stats page (`stats uri` in listen/frontend/backend): auth and
//! realm (HAProxy's 401 byte for byte), `;csv` with `show stat`'s header
//! and lines, `;json`, `;up`, `;norefresh`, `refresh`, `stats scope` and
//! `?scope=`, the admin form (`stats admin if COND`: 303 to `;st=DONE`,
//! the server really in MAINT; a page without admin rights: `;st=DENY`
//! and nothing changed), HAProxy's row classes, `stats show-modules`'
//! columns, a proxy's `description` over its table, and strata's stick-table section with the client's entry.
//!
//! Tools scrape `/;csv` (prometheus-haproxy-exporter, haproxy-stats) and
//! people open the page; a config with `listen stats` used to be refused.

mod support;

use support::{HttpBackend, HttpConn, Proxy, Response, cli, free_port, get, request, under_haproxy};

struct Lab {
    stats: u16,
    fe: u16,
    admin_page: u16,
    ro_page: u16,
    rules_page: u16,
    _app: HttpBackend,
    _proxy: Proxy,
}

fn start() -> Lab {
    let (stats, fe, admin_page, ro_page, rules_page) =
        (free_port(), free_port(), free_port(), free_port(), free_port());
    let app = HttpBackend::start();
    let cfg = format!(
        "global\n    stats socket ipv4@127.0.0.1:{stats} level admin\n    node lab-node\n\
         defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
         frontend fe_main\n    bind 127.0.0.1:{fe}\n\
         \x20   stick-table type ip size 1k expire 10m store conn_cur,conn_cnt,conn_rate(10s),http_req_rate(10s)\n\
         \x20   tcp-request connection track-sc0 src\n\
         \x20   stats uri /fst\n    default_backend be_app\n\
         backend be_app\n    description The <b>app</b> farm\n    server app1 127.0.0.1:{p}\n    server app2 127.0.0.1:{p}\n\
         listen admin_page\n    bind 127.0.0.1:{admin_page}\n    stats uri /st\n    stats realm Lab\\ Stats\n\
         \x20   stats auth admin:secret\n    stats auth ops:pw\n    stats admin if {{ src 127.0.0.1 }}\n    stats refresh 7s\n\
         listen ro_page\n    bind 127.0.0.1:{ro_page}\n    stats enable\n    stats uri /\n    stats scope be_app\n    stats show-modules\n\
         listen rules_page\n    bind 127.0.0.1:{rules_page}\n    stats uri /\n\
         \x20   stats http-request allow if {{ path_beg /open }}\n    stats http-request deny if {{ path_beg /closed }}\n\
         \x20   stats http-request auth realm Rules if {{ path_beg /login }}\n",
        p = app.port()
    );
    let proxy = Proxy::start(&cfg);
    Lab { stats, fe, admin_page, ro_page, rules_page, _app: app, _proxy: proxy }
}

fn send(port: u16, raw: &[u8]) -> Response {
    HttpConn::connect(port).request(raw).expect("response")
}

fn authed(port: u16, method: &str, path: &str, account: &str, body: &[u8]) -> Response {
    let b64 = base64(account.as_bytes());
    let auth = format!("Authorization: Basic {b64}");
    let len = format!("Content-Length: {}", body.len());
    let mut headers = vec![auth.as_str()];
    if !body.is_empty() {
        headers.push(len.as_str());
        headers.push("Content-Type: application/x-www-form-urlencoded");
    }
    send(port, &request(method, path, &headers, body))
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn body(r: &Response) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

#[test]
fn auth_and_realm_as_haproxy() {
    let lab = start();
    let none = send(lab.admin_page, &get("/st"));
    assert_eq!(
        none.raw_text(),
        "HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nwww-authenticate: Basic realm=\"Lab Stats\"\r\n\r\n<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n"
    );
    assert_eq!(authed(lab.admin_page, "GET", "/st", "admin:wrong", b"").status, 401);
    assert_eq!(authed(lab.admin_page, "GET", "/st", "nobody:secret", b"").status, 401);
    for account in ["admin:secret", "ops:pw"] {
        let ok = authed(lab.admin_page, "GET", "/st", account, b"");
        assert_eq!(ok.status, 200, "{account}");
        assert_eq!(ok.header("content-type"), Some("text/html"));
        assert_eq!(ok.header("cache-control"), Some("no-cache"));
        assert_eq!(ok.header("refresh"), Some("7"));
    }
    // Outside the stats uri the proxy has no backend: HAProxy's 503.
    assert_eq!(send(lab.admin_page, &get("/other")).status, 503);
    let norefresh = authed(lab.admin_page, "GET", "/st;norefresh", "admin:secret", b"");
    assert_eq!((norefresh.status, norefresh.header("refresh")), (200, None));
}

#[test]
fn csv_and_json_are_show_stat() {
    let lab = start();
    let csv = authed(lab.admin_page, "GET", "/st;csv", "admin:secret", b"");
    assert_eq!(csv.header("content-type"), Some("text/plain"));
    let page = body(&csv);
    let cli_csv = cli(lab.stats, "show stat");
    assert_eq!(page.lines().next(), cli_csv.lines().next(), "CSV header");
    let names = |t: &str| -> Vec<String> {
        t.lines()
            .skip(1)
            .filter(|l| !l.is_empty())
            .map(|l| l.splitn(3, ',').take(2).collect::<Vec<_>>().join(","))
            .collect()
    };
    assert_eq!(names(&page), names(&cli_csv));
    // The HTTP page hides server addresses and the algorithm without `stats show-legends`.
    let app1 = page.lines().find(|l| l.starts_with("be_app,app1,")).expect("app1 line");
    assert!(!app1.contains("127.0.0.1"), "{app1}");
    let json = authed(lab.admin_page, "GET", "/st;json", "admin:secret", b"");
    assert_eq!(json.header("content-type"), Some("application/json"));
    let doc: serde_json::Value = serde_json::from_slice(&json.body).expect("valid JSON");
    assert_eq!(doc.as_array().map(Vec::len), Some(names(&cli_csv).len()));
    assert_eq!(doc[0][0]["field"]["name"], "pxname");
}

#[test]
fn admin_form_changes_servers_only_when_allowed() {
    let lab = start();
    let be_iid = cli(lab.stats, "show stat")
        .lines()
        .find(|l| l.starts_with("be_app,BACKEND,"))
        .and_then(|l| l.split(',').nth(27).map(str::to_owned))
        .expect("be_app iid");
    let form = format!("s=app2&action=maint&b=%23{be_iid}");
    let r = authed(lab.admin_page, "POST", "/st", "admin:secret", form.as_bytes());
    assert_eq!((r.status, r.header("location")), (303, Some("/st;st=DONE")));
    let status = |sv: &str| {
        cli(lab.stats, "show stat")
            .lines()
            .find(|l| l.starts_with(&format!("be_app,{sv},")))
            .and_then(|l| l.split(',').nth(17).map(str::to_owned))
            .unwrap_or_default()
    };
    assert_eq!(status("app2"), "MAINT");
    let done = authed(lab.admin_page, "GET", "/st;st=DONE", "admin:secret", b"");
    assert!(body(&done).contains("Action processed successfully."));
    // `;up` hides the server in maintenance.
    let up = body(&authed(lab.admin_page, "GET", "/st;csv;up", "admin:secret", b""));
    assert!(up.contains("be_app,app1,") && !up.contains("be_app,app2,"), "{up}");
    // Back to ready; an unknown server makes it partial.
    let form = format!("s=app2&s=nosuch&action=ready&b=%23{be_iid}");
    let r = authed(lab.admin_page, "POST", "/st", "admin:secret", form.as_bytes());
    assert_eq!(r.header("location"), Some("/st;st=PART"));
    assert_eq!(status("app2"), "no check");
    // A page without `stats admin`: denied, nothing changes.
    let form = format!("s=app1&action=maint&b=%23{be_iid}");
    let r = send(
        lab.ro_page,
        &request("POST", "/", &[&format!("Content-Length: {}", form.len())], form.as_bytes()),
    );
    assert_eq!((r.status, r.header("location")), (303, Some("/;st=DENY")));
    assert_eq!(status("app1"), "no check");
    // Without credentials the form is refused before anything happens.
    let r = send(
        lab.admin_page,
        &request("POST", "/st", &[&format!("Content-Length: {}", form.len())], form.as_bytes()),
    );
    assert_eq!(r.status, 401);
    assert_eq!(status("app1"), "no check");
}

#[test]
fn scope_limits_the_proxies_shown() {
    let lab = start();
    let ro = body(&send(lab.ro_page, &get("/;csv")));
    let proxies: Vec<&str> =
        ro.lines().skip(1).filter(|l| !l.is_empty()).map(|l| l.split(',').next().unwrap_or("")).collect();
    assert!(!proxies.is_empty() && proxies.iter().all(|p| *p == "be_app"), "{ro}");
    let asked = body(&authed(lab.admin_page, "GET", "/st;csv?scope=FE_", "admin:secret", b""));
    let proxies: Vec<&str> =
        asked.lines().skip(1).filter(|l| !l.is_empty()).map(|l| l.split(',').next().unwrap_or("")).collect();
    assert!(!proxies.is_empty() && proxies.iter().all(|p| *p == "fe_main"), "{asked}");
}

#[test]
fn html_page_rows_and_stick_tables() {
    let lab = start();
    // A client request through fe_main leaves a tracked entry; a frontend's own stats uri works too.
    let mut c = HttpConn::connect(lab.fe);
    assert_eq!(c.request(&get("/")).expect("request").status, 200);
    let fst = c.request(&get("/fst")).expect("frontend stats");
    assert_eq!(fst.status, 200);
    assert!(body(&fst).contains("<html>"));
    let page = body(&authed(lab.admin_page, "GET", "/st", "admin:secret", b""));
    for needle in [
        "<a class=px href=\"#fe_main\">fe_main</a>",
        "<a class=px href=\"#be_app\">be_app</a>",
        "<tr class=\"frontend\">",
        "<tr class=\"backend\">",
        "<tr class=\"active_no_check\">",
        "name=\"s\" value=\"app1\"",
        "<select name=action>",
        // a proxy's `description` heads its table, as written (HAProxy
        // keeps an operator's markup); one without it, empty
        "href=\"#be_app\">be_app</a></th><th class=\"desc\" width=\"90%\">The <b>app</b> farm</th>",
        "href=\"#fe_main\">fe_main</a></th><th class=\"empty\" width=\"90%\"></th>",
    ] {
        assert!(page.contains(needle), "{needle} missing");
    }
    assert!(!page.contains("Extra modules"), "modules' columns without stats show-modules");
    // `stats show-modules`: HAProxy's extra columns, the server's ssl counters only.
    let ro = body(&send(lab.ro_page, &get("/")));
    for needle in [
        "<th colspan=9>Server</th><th colspan=3>Extra modules</th></tr>",
        "<th>Thrtle</th>\n<th>ssl</th><th>h2</th><th>h1</th></tr>",
        "<td><u>ssl<div class=tips><table class=det><tr><th>Total number of ssl sessions established</th><td>0</td></tr>",
        "<td><u>h2<div class=tips><table class=det><tr><th>Total number of received HEADERS frames</th>",
        "<th>Total number of failed handshake</th><td>0</td></tr></table></div></u></td><td></td><td></td></tr>",
    ] {
        assert!(ro.contains(needle), "{needle} missing:\n{ro}");
    }
    if !under_haproxy() {
        // strata's stick-table section: the client's entry, with one live tracker.
        assert!(page.contains("table fe_main"), "no stick table section");
        assert!(page.contains("<td class=al>127.0.0.1</td><td>1</td>"), "no entry for the client:\n{page}");
    }
    drop(c);
}

#[test]
fn stats_http_request_rules() {
    let lab = start();
    assert_eq!(send(lab.rules_page, &get("/open")).status, 200);
    let denied = send(lab.rules_page, &get("/closed"));
    assert_eq!(denied.status, 403);
    let login = send(lab.rules_page, &get("/login"));
    assert_eq!((login.status, login.header("www-authenticate")), (401, Some("Basic realm=\"Rules\"")));
    // No rule matched: the page.
    assert_eq!(send(lab.rules_page, &get("/")).status, 200);
}

#[test]
fn bad_stats_lines_are_refused_with_haproxys_words() {
    let head = "defaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nlisten s\n    bind 127.0.0.1:1\n";
    for (line, text) in [
        (
            "stats foo",
            "unknown stats parameter 'foo', expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', \
             'hide-version', 'show-node', 'show-desc' or 'show-legends'.",
        ),
        ("stats uri", "'uri' needs an URI prefix."),
        ("stats admin", "'stats admin' requires either 'if' or 'unless' followed by a condition."),
        ("stats refresh abc", "unexpected character 'a'"),
        ("stats auth", "'auth' needs a user:password account."),
        ("stats realm", "'realm' needs an realm name."),
        ("stats scope", "'scope' needs a proxy name."),
    ] {
        let (code, _, err) = Proxy::check(&format!("{head}    {line}\n"));
        assert_ne!(code, 0, "{line} accepted");
        assert!(err.contains("parsing [") && err.contains(":8]") && err.contains(text), "{line}: {err}");
    }
    let (code, _, err) = Proxy::check(&format!("{head}    stats auth a:b\n    stats http-request deny\n"));
    assert_ne!(code, 0);
    assert!(
        err.contains("proxy 's': stats 'auth'/'realm' and 'http-request' can't be used at the same time."),
        "{err}"
    );
    let (code, _, err) =
        Proxy::check(&format!("{head}    stats enable\n    stats uri /st\n    stats admin if TRUE\n"));
    assert_eq!(code, 0, "{err}");
}
