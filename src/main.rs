//! The `strata` command: HAProxy's command line (`-f -c -d -db -p -v`),
//! logger set-up, configuration loading, then `runtime::run`.

use std::process::ExitCode;

/// What the command line asked for.
struct Args {
    files: Vec<String>,      // -f, in order
    check_only: bool,        // -c
    debug: bool,             // -d
    foreground: bool,        // -db (or -d): never fork into the background
    daemon: bool,            // -D: fork into the background
    pidfile: Option<String>, // -p
}

const USAGE: &str = "Usage : strata -f <cfgfile> [-f <cfgfile>...] [-c] [-d] [-db] [-p <pidfile>] [-v]\n\
        -v displays version\n\
        -d enters debug mode (debug logs on stderr)\n\
        -D goes daemon ; -db disables background mode\n\
        -c check mode : only check config files and exit\n\
        -p writes the pid to <pidfile>\n";

fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args {
        files: Vec::new(),
        check_only: false,
        debug: false,
        foreground: false,
        daemon: false,
        pidfile: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "-v" | "-vv" | "-V" => {
                println!("strata version {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            "-f" => args.files.push(it.next().ok_or("option -f needs a file name")?),
            "-p" => args.pidfile = Some(it.next().ok_or("option -p needs a file name")?),
            "-L" => strata::cfg::local_peer::set_cmdline(&it.next().ok_or("option -L needs a peer name")?),
            "-c" => args.check_only = true,
            "-d" => args.debug = true,
            "-db" => args.foreground = true,
            "-D" => args.daemon = true,
            "-W" | "-Ws" => {}
            other => return Err(format!("unknown option '{other}'")),
        }
    }
    if args.files.is_empty() {
        return Err("no configuration file given (-f)".into());
    }
    Ok(Some(args))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("[ALERT]    ({}) : {e}\n{USAGE}", std::process::id());
            return ExitCode::from(1);
        }
    };
    let mut logger = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"));
    if args.debug {
        logger.filter_level(log::LevelFilter::Debug);
    }
    logger.init();

    let (loaded, diags) = strata::runtime::load(&args.files);
    // `quiet`: nothing but alerts while starting (`-c` still shows everything).
    let quiet = !args.check_only && loaded.as_ref().is_some_and(|l| l.cfg.global.process.quiet);
    for d in diags.items.iter().filter(|d| !quiet || d.severity == strata::cfg::Severity::Alert) {
        eprintln!("{d}");
    }
    let Some(loaded) = loaded else {
        let pid = std::process::id();
        eprintln!(
            "[ALERT]    ({pid}) : config : Error(s) found in configuration file : {}",
            args.files.join(", ")
        );
        eprintln!("[ALERT]    ({pid}) : config : Fatal errors found in configuration.");
        return ExitCode::from(1);
    };
    if args.check_only {
        println!("Configuration file is valid");
        return ExitCode::SUCCESS;
    }
    let pidfile =
        args.pidfile.or_else(|| loaded.cfg.global.pidfile.as_ref().map(|p| p.display().to_string()));
    // As HAProxy: `daemon` or -D forks, unless -d or -db keep the foreground.
    let daemon = (args.daemon || loaded.cfg.global.process.daemon) && !(args.debug || args.foreground);
    match strata::runtime::run(loaded, pidfile.as_deref(), daemon) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("[ALERT]    ({}) : {e}", std::process::id());
            ExitCode::from(1)
        }
    }
}
