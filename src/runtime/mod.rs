//! The top of the stack: turns a [`Config`] into running workers.
//!
//! `run` applies process limits, writes the pid file, binds every
//! frontend's listeners and runs the worker loop until a signal stops it.
//! Only this module knows every layer; the layers below return values
//! instead of reaching up.

mod check_report;
mod checks;
mod cli_port;
pub mod cmdline;
mod env;
mod global_vars;
mod info;
mod isolate;
mod limits;
mod listener_stats;
mod logsink;
pub mod master;
pub mod process;
mod refusal;
pub mod reload;
mod server_state;
mod services;
mod shared;
mod signals;
mod snapshots;
mod startup;
mod stats;
mod stopping;
mod syslog;
mod threads;
pub mod version;
mod worker;

use crate::cfg::{Config, Diagnostics};
use crate::l6_stream::rules::{ProxyRules, compile_all};
use crate::stick::Registry;
use log::info;
use std::sync::Arc;

pub use worker::Worker;

/// Errors that stop strata from starting.
#[derive(Debug)]
pub enum StartError {
    Bind { proxy: String, addr: String, err: std::io::Error },
    Pidfile { path: String, err: std::io::Error },
    Poll(std::io::Error),
    StatsSocket { addr: String, err: std::io::Error },
    Limits(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Bind { proxy, addr, err } => {
                write!(f, "Starting frontend {proxy}: cannot bind socket [{addr}] ({err})")
            }
            StartError::Pidfile { path, err } => {
                write!(f, "[strata] Cannot create pidfile {path} ({err})")
            }
            StartError::Poll(err) => write!(f, "cannot create the event poller ({err})"),
            StartError::StatsSocket { addr, err } => {
                write!(f, "Starting stats socket {addr}: cannot bind ({err})")
            }
            StartError::Limits(msg) => write!(f, "{msg}"),
        }
    }
}

impl std::error::Error for StartError {}

/// A configuration ready to run: the parsed configuration and every
/// proxy's compiled rules.
pub struct Loaded {
    pub cfg: Config,
    pub rules: Vec<ProxyRules>,
    pub tables: Registry,
    pub tls: crate::l4_conn::TlsSet, // certificates and TLS configurations of `ssl` binds and servers
    pub caches: Arc<crate::l7_http::cache::Caches>, // `cache` sections, shared by the workers
}

/// Loads the configuration files and compiles their rules, collecting
/// every problem (what `-c` reports). Returns the result only when there
/// was no alert.
pub fn load(paths: &[String]) -> (Option<Loaded>, Diagnostics) {
    let (cfg, mut diags) = crate::cfg::load(paths);
    let Some(cfg) = cfg else { return (None, diags) };
    let mut cfg = cfg;
    global_vars::apply(&cfg, &mut diags);
    let rules = compile_all(&cfg, &mut diags);
    let warned = diags.items.iter().any(|d| d.severity == crate::cfg::Severity::Warning);
    if cfg.global.process.zero_warning && warned {
        diags.push(crate::cfg::Diag::alert_global(
            "Some warnings were found and 'zero-warning' is set. Aborting.",
        ));
    }
    // Tables named by `stick` rules store the server's id and name
    // (`server_key`, what a peer with other ids matches on), as in HAProxy.
    for r in rules.iter().flat_map(|r| &r.sticks) {
        if let Some(def) = cfg.proxies.get_mut(r.table).and_then(|p| p.stick_table.as_mut()) {
            for ty in [crate::stick::DataType::ServerId, crate::stick::DataType::ServerKey] {
                if !def.store.contains(ty) {
                    let _ = def.store.add(ty, None);
                }
            }
        }
    }
    let tables = Registry::new(cfg.proxies.iter().map(|p| p.stick_table.clone()));
    let tls = crate::l4_conn::tls::load(&cfg, &mut diags);
    let caches = Arc::new(crate::l7_http::cache::Caches::new(&cfg.caches));
    if diags.has_alerts() { (None, diags) } else { (Some(Loaded { cfg, rules, tables, tls, caches }), diags) }
}

/// What the command line sets for a run (beyond the configuration).
#[derive(Clone, Debug, Default)]
pub struct StartOptions {
    pub pidfile: Option<String>,  // -p, else `pidfile`
    pub maxconn: Option<u32>,     // -n: the global maxconn, over the keyword
    pub maxpconn: Option<u32>,    // -N: maxconn of frontends that set none
    pub memmax_mb: Option<u64>,   // -m: buffer memory cap (and the derived maxconn)
    pub old_pids: Vec<i32>,       // -sf/-st: signalled once the listeners are bound
    pub old_pids_terminate: bool, // -st: SIGTERM (else SIGUSR1, finish then exit)
    pub notes: bool,              // -V or -d: print HAProxy's `Note:` lines
    pub sd_notify: bool,          // -Ws: READY=1 to $NOTIFY_SOCKET once started
    pub daemon: bool,             // fork into the background once bound (`daemon` or -D, unless -d/-db)
    pub no_splice: bool,          // -dS: as `nosplice`
    pub no_reuseport: bool,       // -dR: as `noreuseport`
}

/// Runs strata until SIGINT/SIGTERM, or until a SIGUSR1 soft stop has let
/// every live connection finish.
///
/// Order, as HAProxy's: environment edits, command-line overrides,
/// limits, bind, fork and pid file, old processes told to go, `chroot`,
/// identity change, then the worker loop.
pub fn run(mut loaded: Loaded, opts: &StartOptions) -> Result<(), StartError> {
    process::apply_env(&loaded.cfg.global.process.env);
    startup::apply_overrides(&mut loaded.cfg, opts);
    let memmax = opts.memmax_mb.map(|mb| mb.saturating_mul(1 << 20) as usize);
    let maxconn = limits::apply(&loaded.cfg.global, memmax).map_err(StartError::Limits)?;
    if opts.notes && loaded.cfg.global.maxconn.is_none() {
        eprintln!("Note: setting global.maxconn to {maxconn}.");
    }
    crate::l4_conn::sockopt::set_buffers(&loaded.cfg.global.tune);
    crate::backend::spread::set_percent(loaded.cfg.global.process.spread_checks);
    crate::l7_http::logformat::set_uri_len(loaded.cfg.global.tune.http_logurilen);
    let cfg = Arc::new(loaded.cfg);
    snapshots::load_all(&cfg, &loaded.tables);
    let tables = loaded.tables.clone();
    let nbthread = cfg.global.nbthread.max(1) as usize;
    let plan = threads::Plan {
        cfg: cfg.clone(),
        rules: Arc::new(loaded.rules),
        tables: loaded.tables,
        caches: loaded.caches,
        shared: Arc::new(shared::SharedState::new(&cfg, maxconn)),
        threads: Arc::new(shared::Threads::new(nbthread)),
        clock: crate::core::clock::Clock::new(),
    };
    let first = worker::open_listeners(&cfg, 0, None)?;
    let syslog = syslog::prepare(&cfg)?; // rings before the workers' log targets
    let others = plan.other_seeds(&first)?;
    let mut worker = Worker::new(plan.seed(0, first))?;
    let tls = Arc::new(loaded.tls);
    worker.use_tls(&tls);
    // Once, into the process-wide state, before the other threads start.
    worker.load_server_state();
    if !opts.old_pids.is_empty() {
        worker.replacing_old_process();
    }
    if nbthread > threads::cpu_count() {
        eprintln!(
            "[WARNING]  ({}) : nbthread {nbthread} is above the {} CPUs this process may use: threads will share CPUs.",
            std::process::id(),
            threads::cpu_count()
        );
    }
    process::daemonize(opts.daemon, opts.pidfile.as_deref())?;
    crate::l4_conn::fdpass::drop_unused();
    startup::signal_old_pids(opts);
    if opts.sd_notify {
        startup::sd_notify("READY=1");
    }
    process::confine(&cfg.global.process)?;
    let writer = snapshots::spawn(&cfg, &tables);
    syslog.spawn(&cfg);
    // Threads start after the fork (a fork keeps only the calling thread);
    // the main thread is pinned last, so that the others do not inherit it.
    let allowed = threads::allowed_cpus();
    let handles = threads::spawn(others, tls, !opts.old_pids.is_empty(), allowed);
    threads::pin(&cfg, 0, allowed.as_ref());
    threads::watchdog(plan.threads.clone(), plan.clock);
    info!(target: "runtime", "strata {} started, pid {}, maxconn {maxconn}, {nbthread} thread(s)", env!("CARGO_PKG_VERSION"), std::process::id());
    let res = worker.run().map_err(StartError::Poll);
    // A soft stop ends when every thread's connections have ended; a hard
    // stop ends the process now (the other threads end with it).
    if crate::core::lifecycle::stopping() {
        handles.into_iter().for_each(|h| {
            let _ = h.join();
        });
    }
    writer.stop();
    res
}
