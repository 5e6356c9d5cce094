//! The command line, read as HAProxy 2.6 reads it (its `init_args`): the
//! same flags, the same prefix matching (`-dXYZ` is `-d` when XYZ means
//! nothing, any `-v...` is `-v`), the same usage text and exit code 1 for
//! anything else.
//!
//! Parsing only: what each option does is applied by `main` and
//! `runtime::run` (see [`Cmdline`]'s fields) and documented in
//! docs/management.md.

/// What the command line asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cmdline {
    pub files: Vec<String>, // -f (a directory: its *.cfg files), and the words after --
    pub check_only: bool,   // -c
    pub condition: Option<String>, // -cc EXPR: evaluate and exit 0/1/2
    pub debug: bool,        // -d: foreground, debug log on stderr
    pub foreground: bool,   // -db
    pub daemon: bool,       // -D
    pub verbose: bool,      // -V (cancels -q)
    pub quiet: bool,        // -q
    pub diag: bool,         // -dD: also print `.diag` messages
    pub zero_warning: bool, // -dW: a warning is fatal
    pub poison: Option<u8>, // -dM[<byte>]: poison buffers (default 0x50)
    pub no_epoll: bool,     // -de
    pub no_poll: bool,      // -dp
    pub no_splice: bool,    // -dS
    pub no_getaddrinfo: bool, // -dG
    pub no_reuseport: bool, // -dR
    pub resolve_dontfail: bool, // -dr
    pub ssl_verify_none: bool, // -dV
    pub dump_keywords: Option<String>, // -dK<classes>
    pub dump_libs: bool,    // -dL
    pub memmax_mb: Option<u64>, // -m <megs>
    pub maxconn: Option<u32>, // -n <maxconn>
    pub maxpconn: Option<u32>, // -N <maxpconn>
    pub localpeer: Option<String>, // -L <name>
    pub pidfile: Option<String>, // -p <file>
    pub chdir: Option<String>, // -C <dir>
    pub master_worker: bool, // -W / -Ws
    pub systemd: bool,      // -Ws
    pub master_cli: Vec<String>, // -S <bind>[,<options>] (repeatable)
    pub old_socket: Option<String>, // -x <unix socket>
    pub old_pids: Vec<i32>, // -sf / -st <pid>...
    pub old_pids_terminate: bool, // -st (SIGTERM) rather than -sf (SIGUSR1)
    pub warnings: Vec<String>, // HAProxy's warnings about the command line itself
}

/// The outcome of reading the command line.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Run(Box<Cmdline>),
    Version,               // -v
    BuildReport,           // -vv
    Usage(Option<String>), // the usage text, after an alert when given; exit 1
    Fail(String),          // an alert, exit 1 (no usage text, as HAProxy)
}

/// HAProxy 2.6's usage text (`strata` in place of the program name).
pub fn usage(prog: &str) -> String {
    format!(
        "Usage : {prog} [-f <cfgfile|cfgdir>]* [ -vdVD ] [ -n <maxconn> ] [ -N <maxpconn> ]\n        \
         [ -p <pidfile> ] [ -m <max megs> ] [ -C <dir> ] [-- <cfgfile>*]\n        \
         -v displays version ; -vv shows known build options.\n        \
         -d enters debug mode ; -db only disables background mode.\n        \
         -dM[<byte>,help,...] debug memory (default: poison with <byte>/0x50)\n        \
         -V enters verbose mode (disables quiet mode)\n        \
         -D goes daemon ; -C changes to <dir> before loading files.\n        \
         -W master-worker mode.\n        \
         -Ws master-worker mode with systemd notify support.\n        \
         -q quiet mode : don't display messages\n        \
         -c check mode : only check config files and exit\n        \
         -cc check condition : evaluate a condition and exit\n        \
         -n sets the maximum total # of connections (uses ulimit -n)\n        \
         -m limits the usable amount of memory (in MB)\n        \
         -N sets the default, per-proxy maximum # of connections (0)\n        \
         -L set local peer name (default to hostname)\n        \
         -p writes pids of all children to this file\n        \
         -de disables epoll() usage even when available\n        \
         -dp disables poll() usage even when available\n        \
         -dS disables splice usage (broken on old kernels)\n        \
         -dG disables getaddrinfo() usage\n        \
         -dR disables SO_REUSEPORT usage\n        \
         -dL dumps loaded object files after config checks\n        \
         -dK{{class[,...]}} dump registered keywords (use 'help' for list)\n        \
         -dr ignores server address resolution failures\n        \
         -dV disables SSL verify on servers side\n        \
         -dW fails if any warning is emitted\n        \
         -dD diagnostic mode : warn about suspicious configuration statements\n        \
         -sf/-st [pid ]* finishes/terminates old pids.\n        \
         -x <unix_socket> get listening sockets from a unix socket\n        \
         -S <bind>[,<bind options>...] new master CLI\n\n"
    )
}

/// C `atol`: leading blanks, a sign, digits; anything after is ignored
/// and no digit gives 0.
fn atol(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| n.saturating_mul(10).saturating_add(i64::from(d - b'0')));
    if neg { -n } else { n }
}

/// `-dM` options: empty (poison with 0x50) or a byte in C notation
/// (`0x41`, `65`, `0101`). HAProxy's pool-debugging words (`help`,
/// `no-merge`...) are refused: strata's pools have none of them.
fn poison_byte(arg: &str) -> Result<u8, String> {
    if arg.is_empty() {
        return Ok(0x50);
    }
    let number = if let Some(hex) = arg.strip_prefix("0x").or_else(|| arg.strip_prefix("0X")) {
        i64::from_str_radix(hex, 16).ok()
    } else if arg.len() > 1 && arg.starts_with('0') {
        i64::from_str_radix(&arg[1..], 8).ok()
    } else {
        arg.parse::<i64>().ok()
    };
    number.map(|n| n as u8).ok_or_else(|| {
        format!("strata's buffer pool takes only a poison byte ('-dM' or '-dM<byte>'), not '{arg}'")
    })
}

/// Reads `args` (without the program name).
pub fn parse(args: &[String]) -> Parsed {
    let mut c = Cmdline::default();
    let mut i = 0;
    let usage = |alert: Option<String>| Parsed::Usage(alert);
    while i < args.len() {
        let arg = &args[i];
        let Some(flag) = arg.strip_prefix('-') else {
            return usage(None);
        };
        let f = flag.as_bytes();
        let next_is = |b: u8| f.get(1) == Some(&b);
        match f.first() {
            Some(b'v') => return if next_is(b'v') { Parsed::BuildReport } else { Parsed::Version },
            Some(b'd') if next_is(b'e') => c.no_epoll = true,
            Some(b'd') if next_is(b'p') => c.no_poll = true,
            Some(b'd') if next_is(b'S') => c.no_splice = true,
            Some(b'd') if next_is(b'G') => c.no_getaddrinfo = true,
            Some(b'd') if next_is(b'R') => c.no_reuseport = true,
            Some(b'd') if next_is(b'V') => c.ssl_verify_none = true,
            Some(b'd') if next_is(b'b') => c.foreground = true,
            Some(b'd') if next_is(b'D') => c.diag = true,
            Some(b'd') if next_is(b'W') => c.zero_warning = true,
            Some(b'd') if next_is(b'M') => match poison_byte(&flag[2..]) {
                Ok(b) => c.poison = Some(b),
                Err(e) => return Parsed::Fail(format!("-dM: {e}")),
            },
            Some(b'd') if next_is(b'r') => c.resolve_dontfail = true,
            Some(b'd') if next_is(b'L') => c.dump_libs = true,
            Some(b'd') if next_is(b'K') => c.dump_keywords = Some(flag[2..].to_owned()),
            Some(b'd') => c.debug = true,
            Some(b'V') => c.verbose = true,
            Some(b'c') if next_is(b'c') => {
                i += 1;
                match args.get(i) {
                    Some(cond) => c.condition = Some(cond.clone()),
                    None => return usage(None),
                }
            }
            Some(b'c') => c.check_only = true,
            Some(b'D') => c.daemon = true,
            Some(b'W') => {
                c.master_worker = true;
                if next_is(b's') {
                    c.systemd = true;
                    c.foreground = true;
                }
            }
            Some(b'q') => c.quiet = true,
            Some(b'x') => {
                let Some(path) = args.get(i + 1) else {
                    return usage(Some("Unix socket path expected with the -x flag\n".into()));
                };
                if c.old_socket.is_some() {
                    c.warnings.push("-x option already set, overwriting the value".into());
                }
                c.old_socket = Some(path.clone());
                i += 1;
            }
            Some(b'S') => {
                let Some(spec) = args.get(i + 1) else {
                    return usage(Some(
                        "Socket and optional bind parameters expected with the -S flag".into(),
                    ));
                };
                c.master_cli.push(spec.clone());
                i += 1;
            }
            Some(b's') if next_is(b'f') || next_is(b't') => {
                c.old_pids_terminate = next_is(b't');
                while let Some(pid) = args.get(i + 1).filter(|a| !a.starts_with('-')) {
                    let digits_end = pid.find(|ch: char| !ch.is_ascii_digit()).unwrap_or(pid.len());
                    if pid[digits_end..].trim_start().is_empty() {
                        match pid[..digits_end].parse::<i32>() {
                            Ok(p) if p > 0 => c.old_pids.push(p),
                            _ => return usage(None),
                        }
                    } else {
                        return Parsed::Fail(format!(
                            "-{} option: some bytes unconsumed in PID list {{{}}}",
                            &flag[..2],
                            &pid[digits_end..]
                        ));
                    }
                    i += 1;
                }
            }
            Some(b'-') if f.len() == 1 => {
                c.files.extend(args[i + 1..].iter().cloned());
                break;
            }
            _ => {
                i += 1;
                let Some(value) = args.get(i) else { return usage(None) };
                match f.first() {
                    Some(b'C') => c.chdir = Some(value.clone()),
                    Some(b'n') => c.maxconn = Some(atol(value).clamp(0, i64::from(u32::MAX)) as u32),
                    Some(b'm') => c.memmax_mb = Some(atol(value).max(0) as u64),
                    Some(b'N') => c.maxpconn = Some(atol(value).clamp(0, i64::from(u32::MAX)) as u32),
                    Some(b'L') => c.localpeer = Some(value.clone()),
                    Some(b'f') => c.files.push(value.clone()),
                    Some(b'p') => c.pidfile = Some(value.clone()),
                    _ => return usage(None),
                }
            }
        }
        i += 1;
    }
    Parsed::Run(Box::new(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Cmdline {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        match parse(&args) {
            Parsed::Run(c) => *c,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    fn outcome(args: &[&str]) -> Parsed {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        parse(&args)
    }

    #[test]
    fn flags_as_haproxy_reads_them() {
        let c = run(&["-d", "-dM", "-de", "-dr", "-dV", "-f", "a.cfg", "-f", "b.cfg", "-L", "peer1"]);
        assert!(c.debug && c.no_epoll && c.resolve_dontfail && c.ssl_verify_none);
        assert_eq!(c.poison, Some(0x50));
        assert_eq!(c.files, ["a.cfg", "b.cfg"]);
        assert_eq!(c.localpeer.as_deref(), Some("peer1"));
        assert_eq!(run(&["-dM0x41"]).poison, Some(0x41));
        assert_eq!(run(&["-dM65"]).poison, Some(65));
        assert!(run(&["-dbxyz"]).foreground, "-db wins over -d for any suffix");
        assert!(run(&["-dZ"]).debug, "an unknown -d suffix is -d");
        assert_eq!(run(&["-m", "64", "-n", "10", "-N", "5"]).memmax_mb, Some(64));
        assert_eq!(run(&["-n", "10x"]).maxconn, Some(10), "atol");
        assert_eq!(run(&["-N", "5"]).maxpconn, Some(5));
        let c = run(&["-W", "-S", "fd@4", "-S", "127.0.0.1:9", "-x", "/s", "-C", "/tmp", "-p", "p"]);
        assert!(c.master_worker && !c.systemd);
        assert_eq!(c.master_cli, ["fd@4", "127.0.0.1:9"]);
        assert_eq!((c.old_socket.as_deref(), c.chdir.as_deref()), (Some("/s"), Some("/tmp")));
        let c = run(&["-Ws", "-q", "-V", "-c", "-dD", "-dW"]);
        assert!(c.systemd && c.master_worker && c.foreground && c.quiet && c.verbose && c.check_only);
        assert!(c.diag && c.zero_warning);
        let c = run(&["-sf", "12", "34", "-f", "x"]);
        assert_eq!((c.old_pids, c.old_pids_terminate), (vec![12, 34], false));
        assert!(run(&["-st", "7"]).old_pids_terminate);
        assert_eq!(run(&["-f", "a", "--", "b", "-c"]).files, ["a", "b", "-c"]);
        assert_eq!(run(&["-cc", "1 && 0"]).condition.as_deref(), Some("1 && 0"));
    }

    #[test]
    fn version_usage_and_failures() {
        assert_eq!(outcome(&["-v"]), Parsed::Version);
        assert_eq!(outcome(&["-vvv"]), Parsed::BuildReport);
        assert_eq!(outcome(&["-V", "-vv", "-Z"]), Parsed::BuildReport, "read in order");
        assert_eq!(outcome(&["-Z"]), Parsed::Usage(None));
        assert_eq!(outcome(&["file.cfg"]), Parsed::Usage(None));
        assert_eq!(outcome(&["-f"]), Parsed::Usage(None));
        assert_eq!(outcome(&["-cc"]), Parsed::Usage(None));
        assert_eq!(outcome(&["-sf", "0"]), Parsed::Usage(None));
        assert!(matches!(outcome(&["-x"]), Parsed::Usage(Some(_))));
        assert!(matches!(outcome(&["-S"]), Parsed::Usage(Some(_))));
        assert_eq!(
            outcome(&["-sf", "12ab"]),
            Parsed::Fail("-sf option: some bytes unconsumed in PID list {ab}".into())
        );
        assert!(matches!(outcome(&["-dMhelp"]), Parsed::Fail(_)));
        assert!(matches!(outcome(&["-dM0x50,no-merge"]), Parsed::Fail(_)));
        assert_eq!(run(&["-dM0101"]).poison, Some(0o101));
        assert!(usage("strata").starts_with("Usage : strata [-f <cfgfile|cfgdir>]* [ -vdVD ]"));
    }
}
