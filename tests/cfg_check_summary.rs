//! The summary lines of `-c` on a broken configuration, as HAProxy 2.6
//! prints them (issue 17): "Error(s) found in configuration file : FILE"
//! after the messages of each file whose parsing failed, and only then;
//! after such a file HAProxy stops before its cross-section checks (no
//! "missing timeouts" warning, no unknown-backend alert), and prints
//! "Fatal errors found in configuration." An error found only by those
//! checks gets the last line alone. `STRATA_BIN=/usr/sbin/haproxy` runs
//! this file against HAProxy 2.6.12.

mod support;

use support::Proxy;

/// `-c -f` on `files` (name, text), in order: (exit code, the stderr
/// lines with their pid removed, NOTICE lines left out).
fn check(files: &[(&str, &str)]) -> (i32, Vec<String>) {
    let mut args = vec!["-c"];
    for (name, _) in files {
        args.extend(["-f", name]);
    }
    let (code, _, err) = Proxy::run_once(&args, &[], files);
    let lines = err
        .lines()
        .filter(|l| l.starts_with('[') && !l.starts_with("[NOTICE]"))
        .map(|l| match l.split_once(") : ") {
            Some((tag, rest)) => format!("{} {rest}", tag.split_whitespace().next().unwrap_or_default()),
            None => l.to_owned(),
        })
        .collect();
    (code, lines)
}

const TIMEOUTS: &str =
    "defaults\n    mode http\n    timeout client 5s\n    timeout server 5s\n    timeout connect 5s\n";

#[test]
fn a_parse_error_stops_before_the_checks() {
    // a frontend without timeouts would be warned, and its backend is missing
    let (code, lines) = check(&[(
        "a.cfg",
        "global\n    bogus\nfrontend f\n    bind 127.0.0.1:1\n    default_backend nope\n",
    )]);
    assert_eq!(code, 1);
    assert_eq!(
        lines,
        [
            "[ALERT] config : parsing [a.cfg:2] : unknown keyword 'bogus' in 'global' section",
            "[ALERT] config : Error(s) found in configuration file : a.cfg",
            "[ALERT] config : Fatal errors found in configuration.",
        ]
    );
}

#[test]
fn a_check_error_alone_gets_the_last_line_only() {
    let text = format!("{TIMEOUTS}frontend f\n    bind 127.0.0.1:1\n    default_backend nope\n");
    let (code, lines) = check(&[("a.cfg", &text)]);
    assert_eq!(code, 1);
    assert_eq!(
        lines.last().map(String::as_str),
        Some("[ALERT] config : Fatal errors found in configuration.")
    );
    assert!(!lines.iter().any(|l| l.contains("Error(s) found")), "{lines:#?}");
}

#[test]
fn each_failed_file_is_named_after_its_messages() {
    let (code, lines) = check(&[
        ("m1.cfg", "defaults\n    mode http\n"),
        ("m2.cfg", "    mode http\n"),
        ("m3.cfg", "global\n    bogus2\n"),
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        lines,
        [
            "[ALERT] config : parsing [m2.cfg:1]: unknown keyword 'mode' out of section.",
            "[ALERT] config : Error(s) found in configuration file : m2.cfg",
            "[ALERT] config : parsing [m3.cfg:2] : unknown keyword 'bogus2' in 'global' section",
            "[ALERT] config : Error(s) found in configuration file : m3.cfg",
            "[ALERT] config : Fatal errors found in configuration.",
        ]
    );
}
