//! Parser tests: whole configurations through `parse` (and `resolve` where
//! the behaviour spans both), asserting the model and the alerts.

use crate::cfg::balance::Balance;
use crate::cfg::diag::{Diagnostics, Severity};
use crate::cfg::model::*;
use std::time::Duration;

/// Parses one file named `t.cfg`; returns the config and `line: msg` of
/// every alert.
fn run(text: &str) -> (Config, Vec<String>) {
    run_files(&[("t.cfg", text)])
}

fn run_files(files: &[(&str, &str)]) -> (Config, Vec<String>) {
    let texts: Vec<(String, String)> = files.iter().map(|(f, t)| (f.to_string(), t.to_string())).collect();
    let mut diags = Diagnostics::default();
    let cfg = crate::cfg::load_str(&texts, &mut diags);
    let alerts = diags
        .items
        .iter()
        .filter(|d| d.severity == Severity::Alert)
        .map(|d| match &d.loc {
            Some(l) => format!("{}: {}", l, d.msg),
            None => d.msg.clone(),
        })
        .collect();
    (cfg, alerts)
}

fn proxy<'a>(cfg: &'a Config, name: &str) -> &'a Proxy {
    match cfg.proxy(name) {
        Some(p) => p,
        None => panic!("no proxy {name}"),
    }
}

const TIMEOUTS: &str = "defaults\n timeout client 5s\n timeout server 5s\n timeout connect 1s\n";

#[test]
fn sections_ids_and_caps() {
    let (cfg, alerts) = run(&format!(
        "{TIMEOUTS}frontend f\n bind :8080\n default_backend b\nbackend b\n server s1 127.0.0.1:80\n \
         server s2 127.0.0.1:81\nlisten l\n bind 127.0.0.1:9000\n server s 127.0.0.1\n"
    ));
    assert_eq!(alerts, Vec::<String>::new());
    let ids: Vec<(&str, u32, bool, bool)> =
        cfg.proxies.iter().map(|p| (p.name.as_str(), p.id, p.cap.frontend, p.cap.backend)).collect();
    assert_eq!(ids, [("f", 1, true, false), ("b", 2, false, true), ("l", 3, true, true)]);
    let b = proxy(&cfg, "b");
    assert_eq!(b.servers.iter().map(|s| s.id).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(b.loc, Loc { file: "t.cfg".into(), line: 8 });
    let f = proxy(&cfg, "f");
    assert_eq!(f.default_backend.as_ref().map(|r| r.index), Some(1));
    assert_eq!(f.binds[0].addr, "0.0.0.0:8080".parse().unwrap_or_else(|_| unreachable!()));
    // A listen without default_backend serves itself.
    let l = proxy(&cfg, "l");
    assert_eq!(l.default_backend.as_ref().map(|r| (r.name.as_str(), r.index)), Some(("l", 2)));
    assert_eq!(l.servers[0].port, None);
}

#[test]
fn defaults_inheritance_and_reset() {
    let (cfg, alerts) =
        run("defaults first\n mode http\n maxconn 50\n timeout client 7s\n timeout connect 1s\n \
         timeout server 2s\n balance leastconn\n retries 5\n option httplog\n log stdout local0\n\
         defaults named\n mode tcp\n timeout client 3s\n timeout connect 1s\n timeout server 1s\n\
         frontend after_named\n bind :1\n\
         frontend from_first from first\n bind :2\n\
         backend b\n\
         defaults\n\
         backend fresh\n");
    assert_eq!(alerts, Vec::<String>::new());
    // The most recent defaults section applies, here the named one.
    let p = proxy(&cfg, "after_named");
    assert_eq!((p.mode, p.timeouts.client), (Mode::Tcp, Some(Duration::from_secs(3))));
    assert!(p.logs.is_empty());
    let p = proxy(&cfg, "from_first");
    assert_eq!((p.mode, p.maxconn, p.logs.len()), (Mode::Http, Some(50), 1));
    // A later defaults section starts from nothing.
    let p = proxy(&cfg, "fresh");
    assert_eq!(
        (p.mode, p.retries, p.balance.clone(), p.timeouts),
        (Mode::Tcp, 3, Balance::RoundRobin, Timeouts::default())
    );

    let (cfg, alerts) = run(
        "defaults base\n mode http\n maxconn 50\n timeout client 7s\n timeout connect 1s\n \
         timeout server 2s\n balance leastconn\n retries 5\n option httplog\n option redispatch 2\n log stdout local0\n\
         defaults other\n\
         frontend f from base\n bind :1\n default_backend l\n\
         listen l from base\n bind :2\n",
    );
    assert_eq!(alerts, Vec::<String>::new());
    let f = proxy(&cfg, "f");
    assert_eq!((f.mode, f.maxconn, f.timeouts.client), (Mode::Http, Some(50), Some(Duration::from_secs(7))));
    assert_eq!(f.knobs.log_format.as_ref().map(|f| &f.kind), Some(&crate::cfg::knobs::LogFormatKind::Http));
    assert_eq!(f.logs.len(), 1);
    let l = proxy(&cfg, "l");
    assert_eq!((l.balance.clone(), l.retries, l.options.redispatch), (Balance::LeastConn, 5, Some(2)));
}

#[test]
fn named_defaults_are_used_one_way_only() {
    let (_, alerts) = run("defaults d\nfrontend a from d\n bind :1\nfrontend b\n bind :2\n");
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].starts_with(
        "t.cfg:4: defaults section 'd' (declared at t.cfg:1) is explicitly referenced by another proxy and implicitly used here."
    ));
    let (_, alerts) = run("defaults d\nfrontend b\n bind :2\nfrontend a from d\n bind :1\n");
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].starts_with("t.cfg:4: defaults section 'd'"));
    // Anonymous defaults are only ever used implicitly.
    let (_, alerts) = run("defaults\nfrontend b\n bind :2\nfrontend a\n bind :1\n");
    assert_eq!(alerts, Vec::<String>::new());
}

#[test]
fn defaults_from_must_exist() {
    let (_, alerts) = run("frontend f from nope\n bind :1\n");
    assert_eq!(alerts, ["t.cfg:1: defaults section 'nope' not found for frontend 'f'."]);
}

#[test]
fn several_files_in_order() {
    let (cfg, alerts) = run_files(&[
        ("1.cfg", "defaults\n mode http\n timeout client 1s\n timeout connect 1s\n timeout server 1s\n"),
        ("2.cfg", "frontend f\n bind :80\n default_backend b\n"),
        ("3.cfg", "backend b\n mode http\n server s ipv6@[::1]:8080\n"),
    ]);
    assert_eq!(alerts, Vec::<String>::new());
    assert_eq!(proxy(&cfg, "f").mode, Mode::Http);
    assert_eq!(proxy(&cfg, "f").binds[0].loc, Loc { file: "2.cfg".into(), line: 2 });
    // A section does not continue into the next file.
    let (_, alerts) = run_files(&[("1.cfg", "backend b\n"), ("2.cfg", "mode http\n")]);
    assert_eq!(alerts, ["parsing [2.cfg:1]: unknown keyword 'mode' out of section."]);
}

#[test]
fn log_global_and_no_log() {
    let (cfg, alerts) = run(&format!(
        "{TIMEOUTS} log global\nfrontend f\n bind :1\n log stderr local1\nbackend b\n no log\n\
         backend c\n no log\n log stdout local2\n log global\nglobal\n log 127.0.0.1 local0\n"
    ));
    assert_eq!(alerts, Vec::<String>::new());
    let addrs = |n: &str| proxy(&cfg, n).logs.iter().map(|l| l.facility.clone()).collect::<Vec<_>>();
    assert_eq!(addrs("f"), ["local0", "local1"]);
    assert!(addrs("b").is_empty());
    assert_eq!(addrs("c"), ["local2", "local0"]);
}

#[test]
fn options_and_timeouts() {
    let (cfg, alerts) = run(&format!(
        "{TIMEOUTS}listen l\n bind :1\n option redispatch\n option forwardfor\n option httpclose\n \
         option http-keep-alive\n option tcplog\n option dontlognull\n no option forwardfor\n \
         timeout tunnel 1h\n timeout http-request 10s\n timeout queue 500ms\n timeout client-fin 1s\n \
         timeout server-fin 2s\n timeout http-keep-alive 3s\n"
    ));
    assert_eq!(alerts, Vec::<String>::new());
    let l = proxy(&cfg, "l");
    let o = l.options;
    assert_eq!(o.redispatch, Some(-1));
    assert_eq!(l.knobs.log_format.as_ref().map(|f| &f.kind), Some(&crate::cfg::knobs::LogFormatKind::Tcp));
    assert!(o.http_keep_alive && !o.httpclose && o.dontlognull && !o.forwardfor);
    assert_eq!(l.timeouts.tunnel, Some(Duration::from_secs(3600)));
    assert_eq!(l.timeouts.queue, Some(Duration::from_millis(500)));
    assert_eq!(l.timeouts.http_keep_alive, Some(Duration::from_secs(3)));
}

#[test]
fn health_check_settings() {
    use crate::cfg::checks::{CheckAction, CheckKind, ExpectKind, HttpSend};
    let (cfg, alerts) = run(&format!(
        "{TIMEOUTS} option httpchk /health\n timeout check 2s\nbackend a\n http-check expect status 204\n\
         backend b\n option httpchk GET /ping HTTP/1.1\n http-check send hdr Host h body x\n\
         backend c\n option tcp-check\n tcp-check connect port 1883\n tcp-check send-binary 0a0b\n \
         tcp-check expect !string ERR comment bad\nbackend d\n option mysql-check user haproxy\n\
         backend e\n option smtpchk EHLO example.com\nbackend f\n option pgsql-check user pg\n"
    ));
    assert_eq!(alerts, Vec::<String>::new());
    let a = &proxy(&cfg, "a").checks;
    // The backend's own rule replaces the inherited request, as in HAProxy.
    assert_eq!((a.kind.clone(), a.http.rules.len()), (CheckKind::Http, 1));
    assert!(
        matches!(&a.http.rules[0].action, CheckAction::Expect(e) if e.kind == ExpectKind::Status(vec![(204, 204)]))
    );
    assert_eq!(proxy(&cfg, "a").timeouts.check, Some(Duration::from_secs(2)));
    let b = &proxy(&cfg, "b").checks;
    let CheckAction::HttpSend(send) = &b.http.rules[0].action else { unreachable!("a send") };
    assert_eq!(
        send,
        &HttpSend {
            method: Some("GET".into()),
            uri: Some("/ping".into()),
            version: Some("HTTP/1.1".into()),
            headers: vec![("Host".into(), "h".into())],
            body: Some("x".into()),
            from_option: false,
        },
        "the explicit send merged with the option's request"
    );
    let c = &proxy(&cfg, "c").checks;
    assert_eq!((c.kind.clone(), c.tcp.rules.len()), (CheckKind::Tcp, 3));
    assert_eq!(c.tcp.rules[2].comment.as_deref(), Some("bad"));
    assert_eq!(proxy(&cfg, "d").checks.kind, CheckKind::Mysql { user: Some("haproxy".into()), post41: true });
    assert_eq!(proxy(&cfg, "e").checks.kind, CheckKind::Smtp { hello: "EHLO example.com".into() });
    assert_eq!(proxy(&cfg, "f").checks.kind, CheckKind::Pgsql { user: "pg".into() });

    let (_, alerts) = run("backend b\n http-check expect strings ok\n tcp-check expect status 200\n \
         tcp-check send x\n tcp-check connect\n no option httpchk\n option pgsql-check\n \
         option external-check\n http-check expect status 300-200\nfrontend f\n bind :1\n timeout check 1s\n");
    assert_eq!(
        alerts,
        [
            "t.cfg:2: 'http-check expect' : 'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', \
             '[!]status', '[!]rstatus', [!]hdr, [!]fhdr or comment but got 'strings' as argument.",
            "t.cfg:3: 'tcp-check expect' : 'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', \
             '[!]string-lf''[!]rbinary', '[!]binary-lf' or comment but got 'status' as argument.",
            "t.cfg:5: 'tcp-check connect' : first step MUST also be a 'connect', optionally preceded by a \
             'set-var', an 'unset-var' or a 'comment', when there is a 'connect' step in the tcp-check ruleset.",
            "t.cfg:6: negation/default is not supported for option 'httpchk'.",
            "t.cfg:7: 'option pgsql-check' expects 'user <username>' as argument.",
            "t.cfg:8: 'option external-check' is not supported by strata: it runs no external programs (use \
             tcp-check or http-check rules).",
            "t.cfg:9: 'http-check expect' : invalid range of status codes '300-200'.",
            "t.cfg:12: 'timeout check' not allowed because frontend 'f' has no backend capability.",
        ]
    );
}

#[test]
fn use_backend_conditions() {
    let (cfg, alerts) = run(&format!(
        "{TIMEOUTS}frontend f\n bind :1\n use_backend a if is_a || !b\n use_backend b unless x\n \
         use_backend b\nbackend a\nbackend b\n"
    ));
    assert_eq!(alerts, Vec::<String>::new());
    let f = proxy(&cfg, "f");
    let u = &f.use_backends;
    assert_eq!(u[0].backend.index, 1);
    assert_eq!(u[0].cond.as_ref().map(|c| (c.negate, c.words.join(" "))), Some((false, "is_a || !b".into())));
    assert_eq!(u[1].cond.as_ref().map(|c| c.negate), Some(true));
    assert_eq!((u[2].backend.index, u[2].cond.is_none()), (2, true));
}

#[test]
fn server_options() {
    let (cfg, alerts) = run(&format!(
        "{TIMEOUTS}backend b\n server s1 10.0.0.1:80 weight 0 maxconn 10 disabled backup check inter 500ms rise 1 fall 9\n"
    ));
    assert_eq!(alerts, Vec::<String>::new());
    let s = &proxy(&cfg, "b").servers[0];
    assert_eq!((s.weight, s.maxconn, s.disabled, s.backup, s.check), (0, Some(10), true, true, true));
    assert_eq!((s.inter, s.rise, s.fall), (Duration::from_millis(500), 1, 9));

    let (_, alerts) = run("backend b\n server s1 10.0.0.1:80 weight x rise 0 inter 5x fall\n server\n");
    assert_eq!(
        alerts,
        [
            "t.cfg:2: 'server b/s1' : 'weight' expects an integer argument (got 'x').",
            "t.cfg:2: 'server b/s1' : 'rise' has to be > 0.",
            "t.cfg:2: 'server b/s1' : unexpected character 'x' in 'inter' argument of server s1.",
            "t.cfg:2: 'server b/s1' : 'fall' expects an integer argument.",
            "t.cfg:3: 'server' expects <name> and <addr>[:<port>] as arguments.",
        ]
    );
}

#[test]
fn default_server_is_inherited_and_overridden() {
    let (cfg, alerts) = run(&format!(
        "{TIMEOUTS}default-server inter 3s fall 2 check\nbackend b\n default-server rise 5\n \
         server s1 10.0.0.1:80\n server s2 10.0.0.2:80 no-check fall 7 id 9\n server s3 10.0.0.3:80\n\
         backend c\n server s1 10.0.0.1:80\n"
    ));
    assert_eq!(alerts, Vec::<String>::new());
    let b = proxy(&cfg, "b");
    let view = |s: &crate::cfg::Server| (s.inter.as_secs(), s.fall, s.rise, s.check, s.id);
    assert_eq!(view(&b.servers[0]), (3, 2, 5, true, 1));
    assert_eq!(view(&b.servers[1]), (3, 7, 5, false, 9));
    assert_eq!(view(&b.servers[2]), (3, 2, 5, true, 3), "automatic ids count every server before");
    assert_eq!(
        view(&proxy(&cfg, "c").servers[0]),
        (3, 2, 2, true, 1),
        "the backend's default-server stays there"
    );
}

#[test]
fn server_templates_and_init_addr() {
    let (cfg, alerts) = run(&format!(
        "{TIMEOUTS}backend b\n server-template web 3 10.0.0.9:8080 check\n server-template x 5-6 name.invalid:80 \
         init-addr none\n server n nope.invalid:81 init-addr libc,10.1.1.1\n"
    ));
    assert_eq!(alerts, Vec::<String>::new());
    let b = proxy(&cfg, "b");
    let names: Vec<_> =
        b.servers.iter().map(|s| (s.name.as_str(), s.id, s.addr.map(|a| a.to_string()))).collect();
    assert_eq!(
        names,
        [
            ("web1", 1, Some("10.0.0.9".to_string())),
            ("web2", 2, Some("10.0.0.9".into())),
            ("web3", 3, Some("10.0.0.9".into())),
            ("x5", 4, None),
            ("x6", 5, None),
            ("n", 6, Some("10.1.1.1".into())),
        ]
    );
    assert_eq!(b.servers[3].fqdn.as_deref(), Some("name.invalid"));

    let (_, alerts) =
        run("backend b\n server s1 nope.invalid:80\n server s2 nope.invalid:80 init-addr last\n \
         server-template t 0 1.2.3.4:80\n server s3 1.2.3.4:80 id 4\n server s4 1.2.3.4:80 id 4\n \
         default-server id 3\n server s5 1.2.3.4:80 agent-check\n server s6 1.2.3.4:80 redir x\n");
    assert_eq!(
        alerts,
        [
            "t.cfg:2: 'server b/s1' : could not resolve address 'nope.invalid'.",
            "t.cfg:3: 'server b/s2' : no method found to resolve address 'nope.invalid'.",
            "t.cfg:4: Wrong server-template number or range arg '0'.",
            "t.cfg:6: 'server b/s4' : 'id' : custom id 4 already used at t.cfg:5 ('server s3').",
            "t.cfg:7: 'id' option is not accepted in default-server sections",
            "t.cfg:8: 'server b/s5' : server s5 does not have agent port. Agent check has been disabled.",
            "t.cfg:9: 'server b/s6' : 'redir' is not supported by strata yet.",
        ]
    );
}

#[test]
fn header_errors() {
    let (cfg, alerts) = run("frontend\n bind :1\nbackend \"a b\"\nfrontend f :80\n bind :2\n\
         frontend g from\n bind :3\nlisten x from d y\n bind :4\ndefaults d extra\nglobal x\nmailers m\n mailer a 1.2.3.4:1\n");
    assert_eq!(
        alerts,
        [
            "t.cfg:1: 'frontend' expects an <id> argument",
            "t.cfg:3: character ' ' is not permitted in 'backend' name 'a b'.",
            "t.cfg:4: please use the 'bind' keyword for listening addresses.",
            "t.cfg:6: please use the 'bind' keyword for listening addresses.",
            "t.cfg:8: 'listen' cannot handle unexpected argument 'y'.",
            "t.cfg:8: defaults section 'd' not found for proxy 'x'.",
            "t.cfg:10: 'defaults' cannot handle unexpected argument 'extra'.",
            "t.cfg:11: 'global' cannot handle unexpected argument 'x'.",
            "t.cfg:12: section 'mailers' is not supported by strata yet.",
        ]
    );
    // Sections with an invalid name are checked but not kept.
    assert_eq!(cfg.proxies.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["f", "g", "x"]);
}

#[test]
fn lexer_errors_name_the_line_and_the_rest_goes_on() {
    let (_, alerts) = run("global\n node \"x\n description \"$1\"\n maxconn x\n");
    assert_eq!(alerts.len(), 3);
    assert!(alerts[0].starts_with("t.cfg:2: unmatched quote at position 7:"));
    assert!(alerts[1].starts_with("t.cfg:3: forbidden first char in environment variable name"));
    assert_eq!(alerts[2], "t.cfg:4: 'maxconn' expects an integer argument (got 'x').");
}

#[test]
fn proxy_keyword_errors() {
    let (_, alerts) = run("defaults\n timeout client\n timeout client 1s 2s\n timeout tarpit 1s\n \
         mode\n mode health\n maxconn 5 6\n option\n no option\n no foo\n option httplog cl\n \
         option prefer-last-server\n retries x\n default_backend\n default_backend a b\n log\n\
         frontend f\n bind\n bind 1.2.3.4\n bind sockpair@3\n bind :81-80\n use_backend\n use_backend a foo\n \
         option redispatch\n bind abc..def:80\n");
    assert_eq!(
        alerts,
        [
            "t.cfg:2: 'timeout client' expects an integer value (in milliseconds)",
            "t.cfg:3: 'timeout client' : unexpected extra argument '2s' after value '1s'.",
            "t.cfg:5: unknown proxy mode ''.",
            "t.cfg:6: unknown proxy mode 'health'.",
            "t.cfg:7: 'maxconn' cannot handle unexpected argument '6'.",
            "t.cfg:8: 'option' expects an option name.",
            "t.cfg:9: 'option' expects an option name.",
            "t.cfg:10: negation/default currently supported only for options and log.",
            "t.cfg:11: keyword 'httplog' only supports option 'clf'.",
            "t.cfg:13: 'retries' expects an integer argument (dispatch counts for one).",
            "t.cfg:14: 'default_backend' expects a backend name.",
            "t.cfg:15: 'default_backend' cannot handle unexpected argument 'b'.",
            "t.cfg:16: log : expects <address> and <facility> or global as arguments",
            "t.cfg:18: 'bind' expects {<path>|[addr1]:port1[-end1]}{,[addr]:port[-end]}... as arguments.",
            "t.cfg:19: 'bind' : missing port specification in '1.2.3.4'",
            "t.cfg:20: 'bind' : 'sockpair@3' : socket pairs are not supported by strata yet",
            "t.cfg:21: 'bind' : invalid port range '81-80'",
            "t.cfg:22: 'use_backend' expects a backend name.",
            "t.cfg:23: unexpected keyword 'foo' after switching rule, only 'if' and 'unless' are allowed.",
            "t.cfg:24: 'option redispatch' not allowed because frontend 'f' has no backend capability.",
            "t.cfg:25: 'bind' : invalid address: 'abc..def' in 'abc..def:80'",
            // (no cross-section checks after parse errors, as HAProxy: no "has no 'bind' directive")
        ]
    );
}

#[test]
fn resolve_checks() {
    let (_, alerts) = run(&format!(
        "{TIMEOUTS}frontend f\n mode http\n bind :80,:81\n default_backend b\n use_backend nope if x\n\
         backend b\n server s1 1.2.3.4:80\n server s1 1.2.3.4:81\n\
         frontend b\n bind :81\n default_backend f\n\
         listen f\n bind :90\n"
    ));
    assert_eq!(
        alerts,
        [
            "t.cfg:16: proxy 'f' has the same name as frontend 'f' declared at t.cfg:5.",
            "t.cfg:8: http frontend 'f' (t.cfg:5) tries to use incompatible tcp backend 'b' (t.cfg:10) as its default backend (see 'mode').",
            "t.cfg:9: Proxy 'f': unable to find required use_backend: 'nope'.",
            "t.cfg:12: backend 'b', another server named 's1' was already defined at line 11, please use distinct names.",
            "t.cfg:14: frontend 'b' : address 0.0.0.0:81 is already bound by frontend 'f' at t.cfg:7.",
        ]
    );
}

#[test]
fn resolve_warns_about_missing_timeouts() {
    let mut diags = Diagnostics::default();
    let texts = [("t.cfg".to_string(), "backend b\n timeout connect 1s\n".to_string())];
    crate::cfg::load_str(&texts, &mut diags);
    assert!(!diags.has_alerts());
    assert_eq!(diags.items.len(), 1);
    assert!(
        diags.items[0].msg.starts_with("missing timeouts for backend 'b'.\n   | While not properly invalid")
    );
}

#[test]
fn balance_and_hash_type() {
    use crate::cfg::balance::{HashFn, HashType};
    let (cfg, alerts) = run(&format!(
        "{TIMEOUTS} mode http\n balance uri depth 2\n hash-type consistent\n\
         backend a\n option allbackups\nbackend b\n hash-type map-based djb2 avalanche\n hash-balance-factor 150\n \
         balance hdr(Host) use_domain_only\nbackend t\n mode tcp\n balance url_param u\n"
    ));
    assert_eq!(alerts, Vec::<String>::new());
    let a = proxy(&cfg, "a");
    assert_eq!(a.hash_type, HashType { consistent: true, function: HashFn::Sdbm, avalanche: true });
    assert!(matches!(a.balance, Balance::Uri(u) if u.depth == 2));
    assert!(a.options.allbackups);
    let b = proxy(&cfg, "b");
    assert_eq!(
        (b.hash_type.function, b.hash_type.avalanche, b.hash_balance_factor),
        (HashFn::Djb2, true, 150)
    );
    assert!(matches!(&b.balance, Balance::Hdr { name, use_domain_only: true } if name == "Host"));
    assert_eq!(proxy(&cfg, "t").balance, Balance::RoundRobin, "layer 7 hash in TCP mode: round robin");

    let (_, alerts) =
        run("backend b\n hash-type consistent md5\n hash-balance-factor 50\n balance random(0)\n \
         balance uri len 0\n balance hdr()\n");
    assert_eq!(
        alerts,
        [
            "t.cfg:2: 'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions.",
            "t.cfg:3: 'hash-balance-factor' must be 0 or greater than 100.",
            "t.cfg:4: balance random : number of draws must be at least 1.",
            "t.cfg:5: balance uri : 'len' expects a positive integer (got '0').",
            "t.cfg:6: balance hdr requires an http header field name.",
        ]
    );
}
