//! The `strata` command: HAProxy 2.6's command line (read by
//! `runtime::cmdline`, documented in docs/management.md), logger set-up,
//! configuration loading, then `runtime::run`.

use std::process::ExitCode;
use strata::cfg::{Diagnostics, Severity};
use strata::runtime::cmdline::{self, Cmdline, Parsed};
use strata::runtime::{StartOptions, version};

/// `[ALERT]    (PID) : msg`, HAProxy's start-up alert line.
fn alert(msg: &str) {
    eprintln!("[ALERT]    ({}) : {msg}", std::process::id());
}

/// `[WARNING]  (PID) : msg`.
fn warning(msg: &str) {
    eprintln!("[WARNING]  ({}) : {msg}", std::process::id());
}

/// Sets an environment variable HAProxy defines for its configuration
/// (`HAPROXY_LOCALPEER`, `HAPROXY_CFGFILES`).
fn set_env(name: &str, value: &str) {
    // SAFETY: called from `main` before any thread is started (the logger
    // and the worker start none before this), so nothing reads the
    // environment concurrently.
    unsafe { std::env::set_var(name, value) };
}

/// `-f` arguments with directories replaced by their `*.cfg` files in
/// name order, as HAProxy loads a `cfgdir`.
fn expand_dirs(files: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for f in files {
        let Ok(entries) = std::fs::read_dir(f) else {
            out.push(f.clone());
            continue;
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.len() > 4 && n.ends_with(".cfg"))
            .collect();
        names.sort();
        out.extend(names.into_iter().map(|n| format!("{}/{n}", f.trim_end_matches('/'))));
    }
    Ok(out)
}

/// `-cc EXPR`: exit 0 when true, 1 when false, 2 with HAProxy's message.
fn check_condition(text: &str) -> ExitCode {
    let words = match strata::cfg::lexer::split_no_comments(text) {
        Ok(w) => w,
        Err(e) => {
            alert(&format!("config : Syntax Error in condition: {}.", capitalized(&e.kind.to_string())));
            return ExitCode::from(2);
        }
    };
    // HAProxy re-merges the words with single spaces; blanks alone make one.
    let joined = if words.is_empty() && !text.is_empty() { " ".to_owned() } else { words.join(" ") };
    match strata::cfg::cond::eval(&joined, &strata::cfg::cond::ProcessEnv) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            alert(&format!("config : Failed to evaluate condition: {}", e.msg));
            ExitCode::from(2)
        }
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// Flags HAProxy has that mean nothing for strata: each gets a warning
/// saying what strata does instead.
fn warn_inapplicable(c: &Cmdline) {
    let w = |flag: &str, why: &str| warning(&format!("{flag}: {why}"));
    if c.no_epoll {
        w("-de", "epoll is strata's only poller; it stays in use");
    }
    if c.no_poll {
        w("-dp", "strata has no poll() poller; nothing to disable");
    }
    if c.no_getaddrinfo {
        w("-dG", "strata resolves names only through the system resolver (getaddrinfo); it stays in use");
    }
    if c.dump_libs {
        w("-dL", "strata is one statically linked program; there are no loaded objects to dump");
    }
    if !c.master_cli.is_empty() && !c.master_worker {
        warning("a master CLI socket was defined, but master-worker mode (-W) is not enabled.");
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let c = match cmdline::parse(&args) {
        Parsed::Run(c) => *c,
        Parsed::Version => {
            print!("{}", version::banner());
            return ExitCode::SUCCESS;
        }
        Parsed::BuildReport => {
            print!("{}", version::build_report());
            return ExitCode::SUCCESS;
        }
        Parsed::Usage(why) => {
            print!("{}", version::banner());
            if let Some(why) = why {
                alert(why.trim_end());
            }
            eprint!("{}", cmdline::usage("strata"));
            return ExitCode::from(1);
        }
        Parsed::Fail(msg) => {
            alert(&msg);
            return ExitCode::from(1);
        }
    };
    let quiet = c.quiet && !c.verbose;
    if let Some(dir) = &c.chdir
        && let Err(e) = std::env::set_current_dir(dir)
    {
        alert(&format!("Could not change to directory {dir} : {e}"));
        return ExitCode::from(1);
    }
    if let Some(name) = &c.localpeer {
        set_env("HAPROXY_LOCALPEER", name);
        strata::cfg::local_peer::set_cmdline(name);
    }
    if let Some(cond) = &c.condition {
        return check_condition(cond);
    }
    if c.dump_keywords.is_some() {
        alert("-dK: strata cannot dump its keyword lists yet (docs/configuration.md lists them).");
        return ExitCode::from(1);
    }
    let files = match expand_dirs(&c.files) {
        Ok(f) if !f.is_empty() => f,
        Ok(_) => {
            print!("{}", version::banner());
            eprint!("{}", cmdline::usage("strata"));
            return ExitCode::from(1);
        }
        Err(e) => {
            alert(&e);
            return ExitCode::from(1);
        }
    };
    let mut logger = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn"));
    if c.debug {
        logger.filter_level(log::LevelFilter::Debug);
    } else if quiet {
        logger.filter_level(log::LevelFilter::Off);
    }
    logger.init();
    if !quiet {
        for w in &c.warnings {
            warning(w);
        }
        warn_inapplicable(&c);
    }
    strata::core::buffer::set_poison(c.poison);
    strata::cfg::switches::set_resolve_dontfail(c.resolve_dontfail);
    strata::cfg::switches::set_ssl_verify_none(c.ssl_verify_none);

    let (loaded, diags) = strata::runtime::load(&files);
    // The `quiet` keyword: only alerts while starting (`-c` still shows everything).
    let quiet_kw = !c.check_only && loaded.as_ref().is_some_and(|l| l.cfg.global.process.quiet);
    let warned = diags.items.iter().any(|d| d.severity == Severity::Warning);
    // A master (-W) that will start a worker leaves the diagnostics to it:
    // the worker reads the same files, and each reload's worker its own.
    // `master-worker` in the configuration is `-W`; a worker (its master
    // set HAPROXY_MWORKER) reads the same keyword and stays a worker.
    let master_kw = loaded.as_ref().is_some_and(|l| l.cfg.global.process.master_worker)
        && std::env::var_os("HAPROXY_MWORKER").is_none();
    let master =
        (c.master_worker || master_kw) && !c.check_only && loaded.is_some() && !(c.zero_warning && warned);
    if !quiet && !master {
        print_diags(&diags, c.diag, quiet_kw);
    }
    let Some(loaded) = loaded else {
        if !quiet && !diags.aborted {
            alert("config : Fatal errors found in configuration.");
        }
        return ExitCode::from(1);
    };
    if c.zero_warning && warned {
        if !quiet {
            alert("config : Some warnings were found and 'zero-warning' is set. Aborting.");
        }
        return ExitCode::from(1);
    }
    let listens = loaded.cfg.has_listener();
    if c.check_only {
        if warned && !quiet {
            println!("Warnings were found.");
        }
        if !listens {
            if !quiet {
                println!("Configuration file has no error but will not start (no listener) => exit(2).");
            }
            return ExitCode::from(2);
        }
        if !quiet {
            println!("Configuration file is valid");
        }
        return ExitCode::SUCCESS;
    }
    if !listens {
        if !quiet {
            alert("[haproxy.main()] No enabled listener found (check for 'bind' directives) ! Exiting.");
        }
        return ExitCode::from(1);
    }
    set_env("HAPROXY_CFGFILES", &files.join(";"));
    // As HAProxy: `daemon` or -D forks, unless -d or -db keep the foreground.
    let daemon = (c.daemon || loaded.cfg.global.process.daemon) && !(c.debug || c.foreground);
    let pidfile =
        c.pidfile.clone().or_else(|| loaded.cfg.global.pidfile.as_ref().map(|p| p.display().to_string()));
    if master {
        let opts = strata::runtime::master::MasterOptions {
            args,
            cli: c.master_cli.clone(),
            pidfile,
            daemon,
            sd_notify: c.systemd,
            quiet,
        };
        return ExitCode::from(strata::runtime::master::run(opts).clamp(0, 255) as u8);
    }
    let mut loaded = loaded;
    // A master's worker: the master writes the pid file and stays in front.
    let worker = strata::runtime::master::spawn::join(&mut loaded.cfg);
    let opts = StartOptions {
        pidfile: if worker { None } else { pidfile },
        maxconn: c.maxconn,
        maxpconn: c.maxpconn,
        memmax_mb: c.memmax_mb.filter(|m| *m > 0),
        old_pids: c.old_pids,
        old_pids_terminate: c.old_pids_terminate,
        notes: (c.verbose || c.debug) && !quiet,
        sd_notify: c.systemd && !worker,
        daemon: daemon && !worker,
        no_splice: c.no_splice,
        no_reuseport: c.no_reuseport,
    };
    if let Some(path) = &c.old_socket
        && let Err(e) = strata::runtime::reload::take_sockets(path)
    {
        alert(&e);
        return ExitCode::from(1);
    }
    match strata::runtime::run(loaded, &opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !quiet {
                alert(&e.to_string());
            }
            ExitCode::from(1)
        }
    }
}

/// Prints what loading found; `.diag` messages only in diagnostic mode,
/// only alerts with `alerts_only`.
fn print_diags(diags: &Diagnostics, diag_mode: bool, alerts_only: bool) {
    let shown = |d: &&strata::cfg::Diag| {
        (diag_mode || d.severity != Severity::Diag) && (!alerts_only || d.severity == Severity::Alert)
    };
    for line in diags.lines(|d| shown(&d)) {
        eprintln!("{line}");
    }
}
