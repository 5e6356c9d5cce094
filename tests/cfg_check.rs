//! `strata -c`: the configuration checker as operators run it. Broken
//! configurations must name the exact `file:line` and the offending word
//! and exit 1; valid ones print `Configuration file is valid` and exit 0.
//! Several `-f` files form one configuration, read in order.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Timeouts that keep HAProxy's "missing timeouts" warning out of the way.
const DEFAULTS: &str = "defaults\n    timeout client 5s\n    timeout server 5s\n    timeout connect 1s\n";

/// Outcome of one `strata -c` run.
struct Checked {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    paths: Vec<String>, // the -f arguments, in order
}

/// Writes `files` to a fresh temporary directory and runs `strata -c` on
/// them, in order.
fn check(files: &[&str]) -> Checked {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir: PathBuf = std::env::temp_dir().join(format!("strata-cfg-check-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let mut paths = Vec::new();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_strata"));
    cmd.arg("-c").env("STRATA_TEST_PORT", "18080");
    for (i, text) in files.iter().enumerate() {
        let path = dir.join(format!("f{}.cfg", i + 1));
        std::fs::write(&path, text).expect("write config");
        cmd.arg("-f").arg(&path);
        paths.push(path.display().to_string());
    }
    let out = cmd.output().expect("run strata");
    let _ = std::fs::remove_dir_all(&dir);
    Checked {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        paths,
    }
}

/// The stderr line for `parsing [<file>:<line>] : ...`, if any, that also
/// contains `word`.
fn alert_line<'a>(c: &'a Checked, file: usize, line: usize, word: &str) -> Option<&'a str> {
    // HAProxy writes a few messages without the blank before the colon
    let (loc, tight) =
        (format!("parsing [{}:{line}] : ", c.paths[file]), format!("parsing [{}:{line}]: ", c.paths[file]));
    c.stderr
        .lines()
        .find(|l| l.starts_with("[ALERT]") && (l.contains(&loc) || l.contains(&tight)) && l.contains(word))
}

/// One broken configuration: its text, the 1-based line of the alert and
/// a word the alert must quote.
struct Broken {
    text: &'static str,
    line: usize,
    word: &'static str,
}

const fn b(text: &'static str, line: usize, word: &'static str) -> Broken {
    Broken { text, line, word }
}

/// Each case is a complete file; line numbers count from its first line.
const BROKEN: &[Broken] = &[
    b("fronted x\n", 1, "unknown keyword 'fronted' out of section."),
    b("global\n    nbthread 0\n", 2, "'nbthread' value must be between 1 and 64 (was 0)"),
    b("global\n    thread-groups 2\n", 2, "'thread-groups' value must be between 1 and 1 (was 2)"),
    b(
        "global\n    cpu-map auto:1/1-2 0-2\n",
        2,
        "cpu-map : PROC/THREAD range and CPU sets must have the same size",
    ),
    b("global\n    maxconn abc\n", 2, "'maxconn' expects an integer argument (got 'abc')"),
    b("global\n    chroot\n", 2, "'chroot' expects a directory as an argument."),
    b("global\n    chrooot /x\n", 2, "unknown keyword 'chrooot' in 'global' section"),
    b("global\n    log 127.0.0.1 local9\n", 2, "log : unknown log facility 'local9'"),
    b("global\n    stats socket /run/s level root\n", 2, "(got 'root')"),
    b("global\n    stats timeout 5x\n", 2, "unexpected character 'x'"),
    b("global\n    node \"unterminated\n", 2, "unmatched quote"),
    b("defaults\n    bind :80\n", 2, "'bind' not allowed in 'defaults' section."),
    b("defaults\n    server s1 127.0.0.1:80\n", 2, "'server' not allowed in 'defaults' section."),
    b("defaults\n    use_backend b\n", 2, "'use_backend' not allowed in 'defaults' section."),
    b("frontend f\n    bind :8080 foo\n", 2, "'bind :8080' in section 'frontend': unknown keyword 'foo'"),
    b("frontend f\n    bind 127.0.0.1:99999\n", 2, "invalid port '99999'"),
    b(
        "frontend f\n    bind :80\n    timeout client\n",
        3,
        "'timeout client' expects an integer value (in milliseconds)",
    ),
    b("frontend f\n    bind :80\n    timeout client 5x\n", 3, "unexpected character 'x' in 'timeout client'"),
    b("frontend f\n    bind :80\n    timeout lunch 1h\n", 3, "(got 'lunch')"),
    b(
        "frontend f\n    bind :80\n    server s1 127.0.0.1:80\n",
        3,
        "'server' not allowed because frontend 'f'",
    ),
    b("frontend f\n    bind :80\n    frobnicate\n", 3, "unknown keyword 'frobnicate' in 'frontend' section"),
    b("frontend f\n    bind :80\n    option nonsense\n", 3, "unknown option 'nonsense'."),
    b("frontend f\n    bind :80\n    use_backend b if\n", 3, "missing condition after 'if'"),
    b("frontend f\n    bind :80\n    mode ftp\n", 3, "unknown proxy mode 'ftp'."),
    b(
        "frontend f\n    bind :80\n    default_backend nope\n",
        3,
        "unable to find required default_backend: 'nope'.",
    ),
    b("frontend f\n    bind :80\n    use_backend zz\n", 3, "unable to find required use_backend: 'zz'."),
    b("frontend f\n    timeout client 1s\n", 1, "frontend 'f' has no 'bind' directive."),
    b("frontend f from nope\n    bind :80\n", 1, "defaults section 'nope' not found for frontend 'f'."),
    b("backend be\n    server s1 127.0.0.1:99999\n", 2, "'server be/s1' : invalid port '99999'"),
    b("backend be\n    server s1 127.0.0.1:80 weight 257\n", 2, "not within 0 and 256 (257)"),
    b("backend be\n    server s1 127.0.0.1:80 warmup 1s\n", 2, "unknown keyword 'warmup'"),
    b(
        "backend be\n    server s1 no-such-host.invalid:80\n",
        2,
        "could not resolve address 'no-such-host.invalid'",
    ),
    b("backend be\n    balance wrong\n", 2, "balance only supports 'roundrobin'"),
    b("backend be\n    balance hash req.cookie(id)\n", 2, "balance 'hash' is not supported by strata yet"),
    b("backend be\n    retries many\n", 2, "'retries' expects an integer argument"),
    b("backend be\n    bind :80\n", 2, "'bind' not allowed because backend 'be' has no frontend capability."),
    b(
        "backend be\n    server s1 127.0.0.1:80\n    server s1 127.0.0.1:81\n",
        3,
        "another server named 's1' was already defined at line 2",
    ),
    b("backend b\nbackend b\n", 2, "backend 'b' has the same name as backend 'b' declared at"),
    b(
        "frontend f\n    mode http\n    bind :80\n    default_backend be\nbackend be\n",
        4,
        "tries to use incompatible tcp backend 'be'",
    ),
    b(
        "frontend f\n    bind :80\nfrontend g\n    bind :80\n",
        4,
        "address 0.0.0.0:80 is already bound by frontend 'f'",
    ),
];

#[test]
fn broken_configs_name_file_line_and_word() {
    let mut failures = Vec::new();
    for case in BROKEN {
        let c = check(&[case.text]);
        if c.code != Some(1) || alert_line(&c, 0, case.line, case.word).is_none() {
            failures.push(format!(
                "--- config:\n{}--- expected line {} with {:?}, exit 1; got exit {:?}:\n{}",
                case.text, case.line, case.word, c.code, c.stderr
            ));
        }
        if !c.stderr.contains("Fatal errors found in configuration.") || !c.stdout.is_empty() {
            failures.push(format!("--- config:\n{}--- missing closing alert or stray stdout", case.text));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_error_is_reported_in_one_run() {
    let c = check(&[
        "global\n    maxconn x\nfrontend f\n    bind :80\n    bogus\nbackend b\n    server s1 1.2.3.4:0x\n",
    ]);
    assert_eq!(c.code, Some(1));
    assert!(alert_line(&c, 0, 2, "'maxconn'").is_some(), "{}", c.stderr);
    assert!(alert_line(&c, 0, 5, "'bogus'").is_some(), "{}", c.stderr);
    assert!(alert_line(&c, 0, 7, "'server b/s1'").is_some(), "{}", c.stderr);
}

#[test]
fn valid_configs_pass() {
    let valid = [
        "global\n    maxconn 100\n    nbthread 1\n    daemon\n    log stdout format raw local0 info\n    \
         stats socket ipv4@127.0.0.1:9999 level admin\n    stats timeout 1m\n    node n1\n    \
         description a \"quoted description\"\n    pidfile /tmp/strata.pid\n    tune.bufsize 16384\n    \
         ulimit-n 1024\n",
        "defaults\n    mode http\n    timeout client 5s\n    timeout server 5s\n    timeout connect 1s\n    \
         option httplog\n    log global\nfrontend www # comment\n    bind :8080,[::1]:8081\n    \
         use_backend api if { path_beg /api }\n    default_backend web\nbackend web\n    balance leastconn\n    option httpchk GET /health\n    \
         http-check expect status 200\n    timeout check 1s\n    \
         server w1 127.0.0.1:9001 check inter 1s rise 2 fall 3\n    server w2 [::1]:9002 weight 10 backup\n\
         backend api\n    server a1 localhost:9003 maxconn 5\n",
        "listen l\n    bind \"127.0.0.1:${STRATA_TEST_PORT}\"\n    timeout client 1s\n    timeout server 1s\n    \
         timeout connect 1s\n    server s 127.0.0.1:80\n",
    ];
    for text in valid {
        let c = check(&[text]);
        assert_eq!(c.code, Some(0), "{text}\n{}", c.stderr);
        // As HAProxy 2.6: a line on stdout says that warnings were printed.
        let warned = if c.stderr.contains("[WARNING]") { "Warnings were found.\n" } else { "" };
        assert_eq!(c.stdout, format!("{warned}Configuration file is valid\n"), "{text}");
        assert!(!c.stderr.contains("[ALERT]"), "{text}\n{}", c.stderr);
    }
}

#[test]
fn several_files_are_one_configuration_in_order() {
    let f1 =
        "defaults\n    mode http\n    timeout client 5s\n    timeout server 5s\n    timeout connect 1s\n";
    let f2 = "frontend f\n    bind :8080\n    default_backend b\n";
    let f3 = "backend b\n    mode http\n    server s 127.0.0.1:80\n";
    let c = check(&[f1, f2, f3]);
    assert_eq!((c.code, c.stdout.as_str()), (Some(0), "Configuration file is valid\n"), "{}", c.stderr);

    // The frontend inherits `mode http` from file 1, so a tcp backend in
    // file 3 is refused at file 2's default_backend line.
    let c = check(&[f1, f2, "backend b\n    mode tcp\n"]);
    assert_eq!(c.code, Some(1));
    assert!(alert_line(&c, 1, 3, "incompatible tcp backend 'b'").is_some(), "{}", c.stderr);

    // A section never continues into the next file.
    let c = check(&[DEFAULTS, "    mode http\n"]);
    assert_eq!(c.code, Some(1));
    let tight = format!("parsing [{}:1]: unknown keyword 'mode' out of section.", c.paths[1]);
    assert!(c.stderr.lines().any(|l| l.starts_with("[ALERT]") && l.contains(&tight)), "{}", c.stderr);
    // as HAProxy: only the file whose parsing failed is named
    assert!(
        c.stderr.contains(&format!("Error(s) found in configuration file : {}\n", c.paths[1])),
        "{}",
        c.stderr
    );
}
