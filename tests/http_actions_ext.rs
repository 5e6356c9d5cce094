//! The `http-request` / `http-response` actions beyond header edits, as
//! the server and the client see them: URI, query and method rewrites,
//! `replace-value`, `set-status`, `early-hint` (103), `normalize-uri`,
//! `set-src`, `tarpit` (held, then 500), `silent-drop` (reset, nothing
//! sent), `reject` (closed, nothing sent), `allow`, `auth` (401) with a
//! `userlist`, `set-log-level silent`.

mod support;

use std::time::{Duration, Instant};

use support::*;

struct Setup {
    backend: HttpBackend,
    port: u16,
    proxy: Proxy,
}

fn setup(cfg: impl FnOnce(HttpCfg) -> HttpCfg) -> Setup {
    let backend = HttpBackend::named("s1");
    let port = free_port();
    let proxy = Proxy::start(&cfg(HttpCfg::new(port, Some(backend.port()))).render());
    Setup { backend, port, proxy }
}

impl Setup {
    fn ask(&self, raw: &[u8]) -> Response {
        HttpConn::connect(self.port).request(raw).unwrap_or_else(|e| panic!("response: {e}"))
    }

    /// The request as the server received it.
    fn forwarded(&self, raw: &[u8]) -> Received {
        let before = self.backend.requests().len();
        let r = self.ask(raw);
        assert_eq!(r.header("x-server"), Some("s1"), "answered by the server: {}", r.raw_text());
        self.backend.requests().into_iter().nth(before).expect("the server recorded the request")
    }
}

#[test]
fn uri_and_method_rewrites_reach_the_server() {
    let s = setup(|c| {
        c.frontend("http-request set-path /new%[path] if { path_beg /p/ }")
            .frontend("http-request set-query a=%[url_param(b)] if { path_beg /q }")
            .frontend("http-request set-uri /fixed?x=1 if { path /u }")
            .frontend("http-request replace-path /r/(.*) /rewritten/\\1 if { path_beg /r/ }")
            .frontend("http-request replace-uri ^/ru/(.*)$ /other/\\1")
            .frontend("http-request set-method POST if { path /m }")
            .frontend("http-request set-header x-seen %[path] if { path_beg /new/ }")
            .frontend("http-request replace-value x-list ^a$ z")
    });
    assert_eq!(s.forwarded(&get("/p/x?k=v")).target, "/new/p/x?k=v");
    let r = s.forwarded(&get("/p/y"));
    assert_eq!(r.header("x-seen"), Some("/new/p/y"), "a later rule sees the rewritten path");
    assert_eq!(s.forwarded(&get("/q?b=7")).target, "/q?a=7");
    assert_eq!(s.forwarded(&get("/u")).target, "/fixed?x=1");
    assert_eq!(s.forwarded(&get("/r/a/b?z")).target, "/rewritten/a/b?z");
    assert_eq!(s.forwarded(&get("/ru/k?x")).target, "/other/k?x");
    let m = s.forwarded(&request("GET", "/m", &["Content-Length: 0"], b""));
    assert_eq!(m.method, "POST");
    let v = s.forwarded(&request("GET", "/v", &["X-List: a, b,a ,c"], b""));
    assert_eq!(v.header("x-list"), Some("z, b,z,c"), "each value trimmed at its end, as HAProxy");
}

#[test]
fn response_status_and_values() {
    let s = setup(|c| {
        c.frontend("http-response set-status 202 if { status 200 }")
            .frontend("http-response set-status 299 reason Fine if { status 404 }")
            .frontend("http-response replace-header x-server ^s(.*)$ server-\\1")
            .frontend("http-response set-var(txn.st) status")
            .frontend("http-response set-header x-st %[var(txn.st)]")
    });
    let r = s.ask(&get("/"));
    assert_eq!((r.status, r.reason.as_str()), (202, "Accepted"));
    assert_eq!(r.header("x-st"), Some("202"), "later rules read the new status");
    let n = s.ask(&get("/nothing-here"));
    assert_eq!((n.status, n.reason.as_str()), (299, "Fine"));
    assert_eq!(n.header("x-server"), Some("server-1"), "replace-header on the response");
}

#[test]
fn early_hints_come_before_the_answer() {
    let s = setup(|c| {
        c.frontend("http-request early-hint Link \"</style.css>; rel=preload\" if { path /eh }")
            .frontend("http-request early-hint Link \"</app.js>; rel=preload\" if { path /eh }")
    });
    let mut c = HttpConn::connect(s.port);
    c.send(&get("/eh")).unwrap();
    let hint = c.read_response(false).unwrap();
    assert_eq!(hint.status, 103);
    let links: Vec<&str> = hint
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("link"))
        .map(|(_, v)| v.as_str())
        .collect();
    let mut links: Vec<String> = links.into_iter().map(str::to_owned).collect();
    let mut r = c.read_response(false).unwrap();
    while r.status == 103 {
        links
            .extend(r.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("link")).map(|(_, v)| v.clone()));
        r = c.read_response(false).unwrap();
    }
    assert_eq!(links, ["</style.css>; rel=preload", "</app.js>; rel=preload"]);
    assert_eq!(r.header("x-server"), Some("s1"), "then the server's answer");
    assert_eq!(s.ask(&get("/")).status, 200, "no hint without the rule");
}

#[test]
fn normalize_uri_before_routing() {
    let s = setup(|c| {
        c.global("expose-experimental-directives")
            .frontend("http-request normalize-uri path-merge-slashes")
            .frontend("http-request normalize-uri path-strip-dotdot")
            .frontend("http-request normalize-uri percent-decode-unreserved")
            .frontend("http-request normalize-uri query-sort-by-name")
            .frontend("http-request normalize-uri percent-to-uppercase strict")
    });
    assert_eq!(s.forwarded(&get("//a//b/../c?z=1&a=2")).target, "/a/c?a=2&z=1");
    assert_eq!(s.forwarded(&get("/%61dmin/%3f")).target, "/admin/%3F");
    let bad = s.ask(&get("/%zz"));
    assert_eq!(bad.status, 400, "strict refuses a bad escape: {}", bad.raw_text());
}

#[test]
fn tarpit_silent_drop_reject_and_allow() {
    let s = setup(|c| {
        c.defaults(&format!("timeout tarpit {}", cfg_time(Duration::from_millis(400))))
            .frontend("http-request allow if { path /allowed }")
            .frontend("http-request tarpit if { path_beg /tar }")
            .frontend("http-request silent-drop if { path /drop }")
            .frontend("http-request reject if { path /reject }")
            .frontend("http-request deny if { path_beg /allowed }")
            .frontend("http-request deny if { path /denied }")
    });
    assert_eq!(
        s.ask(&get("/allowed")).header("x-server"),
        Some("s1"),
        "allow stops the rules before the deny"
    );
    assert_eq!(s.ask(&get("/denied")).status, 403);
    let start = Instant::now();
    let t = s.ask(&get("/tar"));
    assert_eq!(t.status, 500);
    assert!(start.elapsed() >= Duration::from_millis(350), "held for the tarpit timeout");
    let mut c = HttpConn::connect(s.port);
    c.send(&get("/drop")).unwrap();
    let closed = c.expect_closed(scaled(Duration::from_secs(5)));
    // The RST leaves with a TTL of 1: on loopback it does not even arrive.
    assert!(matches!(closed, Closed::Reset(_) | Closed::StillOpen), "silent-drop sends nothing: {closed:?}");
    let mut c = HttpConn::connect(s.port);
    c.send(&get("/reject")).unwrap();
    assert!(matches!(c.expect_closed(scaled(Duration::from_secs(5))), Closed::Eof(_) | Closed::Reset(_)));
    assert_eq!(
        s.backend.requests_to("/tar") + s.backend.requests_to("/drop") + s.backend.requests_to("/reject"),
        0
    );
}

#[test]
fn set_src_changes_what_rules_and_balancing_see() {
    let s = setup(|c| {
        c.frontend("http-request set-src hdr(x-real-ip)")
            .frontend("http-request set-header x-src %[src]")
            .frontend("http-request deny if { src 10.9.9.9 }")
    });
    assert_eq!(
        s.forwarded(&request("GET", "/", &["X-Real-IP: 192.0.2.7"], b"")).header("x-src"),
        Some("192.0.2.7")
    );
    assert_eq!(s.ask(&request("GET", "/", &["X-Real-IP: 10.9.9.9"], b"")).status, 403);
}

#[test]
fn auth_asks_for_credentials_from_a_userlist() {
    let s = setup(|c| {
        c.section(
            "userlist admins",
            &[
                "group ops",
                "user alice insecure-password secret groups ops",
                // openssl passwd -6 -salt saltsalt hunter2
                "user bob password $6$saltsalt$8iYtNHxjWRl.NF6oNZ5tF.iKFlQREaXBLlSmZKP6dy9l5z3vsooWNW0/GZ6Nej73/TFug6pIPSqbJoCT6dfnj.",
                "user carol password $5$saltsalt$OIdfjX.u4Y3SJ4I2bX8w5BMf1VAUhHABNUirScDzZi3",
                "user dave password $1$saltsalt$ZliGyAN3DciDHEkDboonh/",
            ],
        )
        .frontend("acl ok http_auth(admins)")
        .frontend("acl ops http_auth_group(admins) ops")
        .frontend("http-request auth realm Private unless ok")
        .frontend("http-request deny if { path /ops } !ops")
    });
    let r = s.ask(&get("/"));
    assert_eq!(
        r.raw_text(),
        "HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nwww-authenticate: Basic realm=\"Private\"\r\n\r\n<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n"
    );
    let basic = |user: &str, pw: &str| {
        use std::io::Write;
        let mut t = Vec::new();
        let _ = write!(t, "{user}:{pw}");
        format!("Authorization: Basic {}", b64(&t))
    };
    for (user, pw) in [("alice", "secret"), ("bob", "hunter2"), ("carol", "hunter2"), ("dave", "hunter2")] {
        assert_eq!(
            s.ask(&request("GET", "/", &[&basic(user, pw)], b"")).header("x-server"),
            Some("s1"),
            "{user}"
        );
    }
    for (user, pw) in [("alice", "Secret"), ("bob", "hunter3"), ("nobody", "x")] {
        assert_eq!(s.ask(&request("GET", "/", &[&basic(user, pw)], b"")).status, 401, "{user}");
    }
    for bad in [
        "Authorization: Basic !!!",
        "Authorization: Basic",
        "Authorization: Bearer abc",
        "Authorization: Basic Ym9i",
    ] {
        assert_eq!(s.ask(&request("GET", "/", &[bad], b"")).status, 401, "{bad}");
    }
    assert_eq!(
        s.ask(&request("GET", "/ops", &[&basic("alice", "secret")], b"")).header("x-server"),
        Some("s1")
    );
    assert_eq!(s.ask(&request("GET", "/ops", &[&basic("bob", "hunter2")], b"")).status, 403);
    let _ = &s.proxy;
}

#[test]
fn set_log_level_silent_drops_the_line() {
    let s = setup(|c| c.httplog().frontend("http-request set-log-level silent if { path /quiet }"));
    s.ask(&get("/quiet"));
    s.ask(&get("/loud"));
    assert!(wait_until(scaled(Duration::from_secs(5)), || s.proxy.stdout_text().contains("/loud")), "logged");
    let out = s.proxy.stdout_text();
    assert!(!out.contains("/quiet"), "{out}");
}

fn b64(b: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn set_priority_class_orders_the_queue() {
    let backend = HttpBackend::named("s1");
    let port = free_port();
    let cfg = HttpCfg::new(port, None)
        .defaults(&format!("timeout queue {}", cfg_time(Duration::from_secs(20))))
        .frontend("http-request set-priority-class req.hdr(x-prio),add(0) if { req.hdr(x-prio) -m found }")
        .backend(&format!("server s1 127.0.0.1:{} maxconn 1", backend.port()));
    let _proxy = Proxy::start(&cfg.render());
    let mut holder = HttpConn::connect(port);
    holder.send(&get("/hold")).unwrap();
    assert!(backend.wait_holding(1, scaled(Duration::from_secs(5))), "the only slot is taken");
    let mut waiting = Vec::new();
    for (path, prio) in [("/p5", "5"), ("/p1", "1"), ("/p3", "3"), ("/p1b", "1")] {
        let mut c = HttpConn::connect(port);
        c.send(&request("GET", path, &[&format!("X-Prio: {prio}")], b"")).unwrap();
        waiting.push(c);
        std::thread::sleep(Duration::from_millis(100)); // each is queued before the next arrives
    }
    backend.open_gate();
    for mut c in waiting {
        c.read_response(false).unwrap();
    }
    let order: Vec<String> = backend.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(
        order,
        ["/hold", "/p1", "/p1b", "/p3", "/p5"],
        "lower classes first, arrival order among equals"
    );
}

#[test]
fn global_set_var_sets_proc_variables_at_load() {
    // reg-tests/sample_fetches/vars.vtc's global lines: evaluated once, in
    // order, an unset variable read with its default.
    let s = setup(|c| {
        c.global("set-var proc.int12 int(12)")
            .global("set-var proc.int5 var(proc.str60,60),div(proc.int12)")
            .global("set-var proc.str1 str(\"this is\")")
            .global("set-var-fmt proc.str \"%[var(proc.str1)] a string\"")
            .frontend("http-request set-header x-vars %[var(proc.int5)]/%[var(proc.str)]")
    });
    assert_eq!(s.forwarded(&get("/")).header("x-vars"), Some("5/this is a string"));
}

#[test]
fn tcp_rules_set_variables_from_formats() {
    // reg-tests/sample_fetches/vars.vtc: `set-var-fmt` in `tcp-request
    // connection|session|content` (no HTTP transaction yet at the first two:
    // only samples, no log-format variables of a stream), read by later rules.
    let s = setup(|c| {
        c.frontend("tcp-request connection set-var-fmt(sess.conn) \"from %[src]\"")
            .frontend("tcp-request session set-var-fmt(sess.str3) \"%[str(this is)] %[str(a string)]\"")
            .frontend("tcp-request session set-var(sess.int5) int(5)")
            .frontend("tcp-request content set-var-fmt(req.str4) \"%[var(sess.str3),regsub(is a,is also a)]\"")
            .frontend("tcp-request content set-var-fmt(txn.n,ifnotexists) \"%[var(sess.int5),add(1)]\"")
            .frontend("http-request set-var-fmt(txn.str5) \"%[var(req.str4)]\"")
            .frontend(
                "http-request return status 200 hdr x-var \"%[var(sess.conn)]|%[var(txn.str5)]|%[var(txn.n)]\"",
            )
    });
    let r = s.ask(&get("/"));
    assert_eq!(r.status, 200, "{}", r.raw_text());
    assert_eq!(r.header("x-var"), Some("from 127.0.0.1|this is also a string|6"));
    let (code, _, err) = Proxy::check(
        &HttpCfg::new(free_port(), None)
            .frontend("tcp-request content set-var-fmt(txn.x) \"%[nosuchfetch]\"")
            .render(),
    );
    assert_ne!(code, 0, "a bad format is a config error");
    assert!(err.contains("set-var-fmt") || err.contains("nosuchfetch"), "{err}");
}

#[test]
fn set_timeout_replaces_the_server_timeout_for_one_stream() {
    // reg-tests/http-set-timeout/set_timeout.vtc: `be_server_timeout` is the
    // backend's value, `cur_server_timeout` the stream's after `set-timeout`
    // (a time, or an expression giving milliseconds); a server slower than
    // the stream's timeout gets the client a 504.
    let short = cfg_time(Duration::from_millis(300));
    let s = setup(|c| {
        c.backend(&format!("http-request set-timeout server {short} if {{ req.hdr(x-short) -m found }}"))
            .backend("http-request set-timeout server int(7),mul(1000) if { req.hdr(x-expr) -m found }")
            .backend("http-request set-timeout tunnel 9s")
            .backend(
                "http-response set-header x-t \"%[be_server_timeout] %[cur_server_timeout] %[be_tunnel_timeout] %[cur_tunnel_timeout]\"",
            )
    });
    let be = scaled(Duration::from_secs(5)).as_millis();
    let r = s.ask(&request("GET", "/", &["x-expr: 1"], b""));
    assert_eq!(r.header("x-t"), Some(format!("{be} 7000 0 9000").as_str()), "{}", r.raw_text());
    let r = s.ask(&get("/"));
    assert_eq!(r.header("x-t"), Some(format!("{be} {be} 0 9000").as_str()));
    let slow = format!("/delay/{}", scaled(Duration::from_millis(2000)).as_millis());
    assert_eq!(s.ask(&get(&slow)).status, 200, "within the backend's 5s");
    assert_eq!(
        s.ask(&request("GET", &slow, &["x-short: 1"], b"")).status,
        504,
        "past the stream's own timeout"
    );

    for (on_frontend, line, why) in [
        (false, "http-request set-timeout server 0", "null value is not valid"),
        (false, "http-request set-timeout client 5s", "supports 'server'/'tunnel'"),
        (true, "http-request set-timeout server 5s", "proxy 'fe' has no backend capability"),
    ] {
        let c = HttpCfg::new(free_port(), None);
        let c = if on_frontend { c.frontend(line) } else { c.backend(line) };
        let (code, _, err) = Proxy::check(&c.render());
        assert_ne!(code, 0, "{line}: refused");
        assert!(err.contains(why), "{line}: {err}");
    }
}
