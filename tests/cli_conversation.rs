//! The stats port's conversation rules (haproxy-semantics.md §d,
//! `haproxy-golden/CLI`): one command per connection then close, `;`,
//! `prompt` mode byte for byte, unknown commands, `help`, hostile input
//! (a 1 MiB line, binary garbage, a half-sent line) that must never harm
//! the process, and a stats socket on a unix path with its `mode`.

mod support;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use support::{
    CliSession, Proxy, assert_still_answers, cfg_time, cli, cli_raw, free_port, ms, under_haproxy, wait_until,
};

/// HAProxy's three closing lines of every command list.
const TRAILER: &str = "  help [<command>]                        : list matching or all commands\n  prompt                                  : toggle interactive mode with prompt\n  quit                                    : disconnect\n\n";
const SHOW_TABLE_HELP: &str = "  show table <table> [<filter>]*          : report table usage stats or dump this table's contents (filter: data/key)\n";
const T_A: &str = "# table: t_a, type: ip, size:10, used:0\n";
const T_B: &str = "# table: t_b, type: string, size:10, used:0\n";

/// A proxy with an admin stats socket on `stats` and two empty tables.
fn start(stats: u16) -> Proxy {
    let cfg = format!(
        "global\n    stats socket ipv4@127.0.0.1:{stats} level admin\n    stats timeout {}\n\
         defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{}\n    default_backend be\n\
         backend be\n    server s1 127.0.0.1:{}\n\
         backend t_a\n    stick-table type ip size 10 store gpc0\n\
         backend t_b\n    stick-table type string len 8 size 10 store gpc0\n",
        cfg_time(Duration::from_secs(30)),
        free_port(),
        free_port()
    );
    Proxy::start(&cfg)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn one_command_per_connection_then_close() {
    let stats = free_port();
    let _p = start(stats);
    // One line, one reply, then the close (cli_raw fails if it stays open).
    assert_eq!(text(&cli_raw(stats, b"show table t_a\n")), format!("{T_A}\n"));
    // Lines already received when the first one ends all run, as HAProxy
    // does for `printf 'cmd1\ncmd2\n' | socat ...`; then the close.
    let reply = text(&cli_raw(stats, b"show table t_a\nshow table t_b\n"));
    assert_eq!(reply, format!("{T_A}\n{T_B}\n"));
    // A command with nothing to say answers the empty line alone.
    assert_eq!(text(&cli_raw(stats, b"set table t_a key 10.0.0.1 data.gpc0 1\n")), "\n");
    assert_eq!(text(&cli_raw(stats, b"clear table t_a key 10.0.0.1\n")), "\n");
    // CRLF line ends are accepted like LF.
    assert_eq!(text(&cli_raw(stats, b"show table t_a\r\n")), format!("{T_A}\n"));
}

#[test]
fn semicolons_run_each_command_with_its_own_empty_line() {
    let stats = free_port();
    let _p = start(stats);
    assert_eq!(cli(stats, "show table t_a; show table t_b"), format!("{T_A}\n{T_B}\n"));
    assert_eq!(
        cli(stats, "show table t_a;show table nosuch;show table t_b"),
        format!("{T_A}\nNo such table\n\n{T_B}\n")
    );
}

#[test]
fn prompt_mode_raw_bytes() {
    let stats = free_port();
    let _p = start(stats);
    let mut s = CliSession::connect(stats);
    assert_eq!(s.exchange(b"prompt\n", b"\n> "), (b"\n> ".to_vec(), false));
    let (r, _) = s.exchange(b"show table t_a\n", b"\n> ");
    assert_eq!(text(&r), format!("{T_A}\n> "));
    // An empty line in prompt mode is an unknown command: the full list.
    let (r, _) = s.exchange(b"\n", b"\n> ");
    let r = text(&r);
    assert!(r.starts_with("Unknown command. Please enter one of the following commands only:\n"), "{r:?}");
    assert!(r.contains(SHOW_TABLE_HELP), "{r:?}");
    assert!(r.ends_with(&format!("{TRAILER}> ")), "{r:?}");
    let (r, _) = s.exchange(b"show table t_a; show table nosuch\n", b"No such table\n\n> ");
    assert_eq!(text(&r), format!("{T_A}\n> No such table\n\n> "));
    // `quit` closes without a byte.
    assert_eq!(s.exchange(b"quit\n", b""), (Vec::new(), true));

    // `prompt` again leaves interactive mode: `\n`, then the close.
    let mut s = CliSession::connect(stats);
    assert_eq!(s.exchange(b"prompt\n", b"\n> "), (b"\n> ".to_vec(), false));
    assert_eq!(s.exchange(b"prompt\n", b""), (b"\n".to_vec(), true));
    assert_still_answers(stats, "prompt");
}

#[test]
fn unknown_commands() {
    let stats = free_port();
    let _p = start(stats);
    let typo = cli(stats, "show tabel");
    assert!(
        typo.starts_with("Unknown command, but maybe one of the following ones is a better match:\n"),
        "{typo:?}"
    );
    assert!(typo.contains(SHOW_TABLE_HELP), "{typo:?}");
    assert!(typo.ends_with(TRAILER), "{typo:?}");
    let foo = cli(stats, "foo");
    assert!(foo.starts_with("Unknown command"), "{foo:?}");
    assert!(foo.ends_with(TRAILER), "{foo:?}");
    // Both use HAProxy's letter-transition fingerprints: any word gets a
    // few candidates (which ones depends on the command set); only an
    // empty line gets the full list (checked in prompt mode below).
    assert!(
        foo.starts_with("Unknown command, but maybe one of the following ones is a better match:\n"),
        "{foo:?}"
    );
    let candidates = foo.lines().filter(|l| l.starts_with("  ")).count() - 3;
    assert!((1..=5).contains(&candidates), "{foo:?}");
}

#[test]
fn help_layout() {
    let stats = free_port();
    let _p = start(stats);
    let help = cli(stats, "help");
    let body = help
        .strip_prefix("The following commands are valid at this level:\n")
        .unwrap_or_else(|| panic!("help header: {help:?}"));
    assert!(help.ends_with(TRAILER), "{help:?}");
    for line in body.lines().filter(|l| !l.is_empty()) {
        // `  <usage padded to 40 columns>: <description>`
        assert!(line.starts_with("  ") && line.get(42..44) == Some(": "), "help line layout: {line:?}");
    }
    for table_line in [
        "  clear table <table> [<filter>]*         : remove an entry from a table (filter: data/key)\n",
        "  set table <table> key <k> [data.* <v>]* : update or create a table entry's data\n",
        SHOW_TABLE_HELP,
    ] {
        assert!(help.contains(table_line), "{table_line:?} missing from {help:?}");
    }
    // `help WORDS` is answered with the same list in 2.6 (only the usages
    // HAProxy knows, so compare the first line only).
    assert!(cli(stats, "help show").starts_with("The following commands are valid at this level:\n"));
    if !under_haproxy() {
        // strata lists only the commands it implements: nothing else.
        let listed = body.lines().filter(|l| !l.is_empty()).count();
        // + `show ssl cert`, `add|del server`, `enable|disable health`, `show cache`, `operator`, `user`,
        // `show events`, `get var`, `show resolvers`, `set rate-limit`, `set severity-output`
        assert_eq!(listed, 24 + 3 + 1 + 4 + 1 + 2 + 1 + 1 + 1 + 1 + 1, "{help}");
    }
}

#[test]
fn one_mib_line_is_refused_without_harm() {
    let stats = free_port();
    let _p = start(stats);
    let mut line = vec![b'a'; 1 << 20];
    line.push(b'\n');
    // An error reply or a bare close; either way the connection ends.
    let reply = text(&cli_raw(stats, &line));
    assert!(reply.len() < 64 * 1024, "reply of {} bytes to a 1 MiB line", reply.len());
    assert_still_answers(stats, "a 1 MiB line");
    // The same with many words (a long `show table` argument list).
    let mut words = b"show table t_a".to_vec();
    while words.len() < 1 << 20 {
        words.extend_from_slice(b" data.gpc0 gt 0");
    }
    words.push(b'\n');
    let _ = cli_raw(stats, &words);
    assert_still_answers(stats, "a 1 MiB argument list");
}

#[test]
fn binary_garbage_is_answered_or_closed_without_harm() {
    let stats = free_port();
    let _p = start(stats);
    // Every byte value, newlines and `;` included, four times over, ending
    // with a newline (HAProxy waits for the end of an incomplete line).
    let mut garbage: Vec<u8> = (0..4).flat_map(|_| 0u8..=255).collect();
    garbage.push(b'\n');
    let _ = cli_raw(stats, &garbage);
    assert_still_answers(stats, "all 256 byte values");
    // Invalid UTF-8 and NULs inside an otherwise valid command.
    let reply = text(&cli_raw(stats, b"show \xff\xfe\x00table\n"));
    assert!(!reply.contains("# table:"), "{reply:?}");
    assert_still_answers(stats, "invalid UTF-8");
    // Garbage without any newline, then a half-close.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", stats)).expect("connect");
    s.write_all(&[0x80u8; 4096]).expect("send");
    s.shutdown(std::net::Shutdown::Write).expect("shutdown");
    s.set_read_timeout(Some(ms(10_000))).expect("timeout");
    let mut sink = Vec::new();
    let _ = s.read_to_end(&mut sink);
    assert_still_answers(stats, "garbage then half-close");
}

#[test]
fn half_sent_line_then_close_does_no_harm() {
    let stats = free_port();
    let _p = start(stats);
    for abort in ["close", "reset"] {
        let s = std::net::TcpStream::connect(("127.0.0.1", stats)).expect("connect");
        (&s).write_all(b"set table t_a key 10.").expect("send");
        if abort == "reset" {
            support::reset(s);
        } else {
            drop(s);
        }
        assert_still_answers(stats, abort);
    }
    // Several at once, none finished (8: HAProxy's stats socket accepts
    // 10 connections at a time by default, `stats maxconn`).
    let socks: Vec<_> = (0..8)
        .map(|_| {
            let s = std::net::TcpStream::connect(("127.0.0.1", stats)).expect("connect");
            (&s).write_all(b"show ta").expect("send");
            s
        })
        .collect();
    assert_still_answers(stats, "8 idle half lines");
    drop(socks);
    assert_still_answers(stats, "8 half lines closed");
}

#[test]
fn unix_socket_with_mode() {
    let path = std::env::temp_dir().join(format!("strata-cli-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let cfg = format!(
        "global\n    stats socket {} mode 600 level admin\n\
         defaults\n    mode tcp\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{}\n    default_backend be\n\
         backend be\n    server s1 127.0.0.1:{}\n\
         backend t_a\n    stick-table type ip size 10 store gpc0\n",
        path.display(),
        free_port(),
        free_port()
    );
    let _p = Proxy::start(&cfg);
    assert!(wait_until(ms(10_000), || UnixStream::connect(&path).is_ok()), "unix socket never listened");
    let mode = std::fs::metadata(&path).expect("socket file").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
    let mut s = UnixStream::connect(&path).expect("connect");
    s.set_read_timeout(Some(ms(10_000))).expect("timeout");
    s.write_all(b"show table t_a\n").expect("send");
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("read");
    assert_eq!(reply, format!("{T_A}\n"));
    drop(_p);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn get_var_and_set_var_in_experimental_mode() {
    // reg-tests/sample_fetches/vars.vtc's CLI part, with HAProxy 2.6.12's
    // answers: `get var` reads `proc.` variables (operator and up), `set
    // var` needs experimental mode and takes an expression or a format.
    let stats = free_port();
    let cfg = format!(
        "global\n    stats socket ipv4@127.0.0.1:{stats} level admin\n    set-var proc.int5 int(5)\n\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         frontend fe\n    bind 127.0.0.1:{}\n    http-request return status 200\n",
        free_port()
    );
    let _p = Proxy::start(&cfg);
    let ask = |line: &str| text(&cli_raw(stats, format!("{line}\n").as_bytes()));
    assert_eq!(ask("get var proc.int5"), "proc.int5: type=sint value=<5>\n");
    assert_eq!(ask("get var proc.nope"), "Variable not found.\n\n");
    assert_eq!(ask("get var"), "Missing process-wide variable identifier.\n\n");
    assert_eq!(ask("user; get var proc.int5"), "\nPermission denied\n\n");
    assert_eq!(ask("set var proc.s str(x)"), "This command is restricted to experimental mode only.\n\n");
    assert_eq!(
        ask(
            "experimental-mode on; set var proc.s str(updating); set var proc.s fmt %[var(proc.s),regsub(ing,ed)]; get var proc.s"
        ),
        "\n\n\nproc.s: type=str value=<updated>\n"
    );
    assert_eq!(
        ask("experimental-mode on; set var txn.z int(1)"),
        "\n'set var': cannot set variable 'txn.z', only scope 'proc' is permitted here.\n"
    );
    assert_eq!(
        ask("experimental-mode on; set var proc.x"),
        "\nMissing either 'expr', 'fmt' or expression.\n\n"
    );
}
