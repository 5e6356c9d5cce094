//! Building a worker: its listeners (bound here, or shared with the first
//! worker), its poller, and everything it owns. The first worker (thread 0)
//! also owns the runtime API listeners, the health checks, the peers and
//! the name resolution;
//! the others serve connections only.

use super::{CLI_LISTENER_BASE, ListenerSlot, StartError, TIMER_CHECK, Worker};
use crate::cfg::Config;
use crate::core::clock::Clock;
use crate::core::slab::{RESERVED_TOKEN_BASE, TokenSlab};
use crate::core::timer::{TimerId, Timers};
use crate::l4_conn::{IdlePool, Listener};
use crate::l6_stream::rules::ProxyRules;
use crate::runtime::checks::Checks;
use crate::runtime::cli_port::{CliConns, CliListener};
use crate::runtime::env::Env;
use crate::runtime::info::hostname;
use crate::runtime::logsink::LogSink;
use crate::runtime::refusal::Refusals;
use crate::runtime::shared::{Shared, Threads};
use crate::runtime::signals::SignalSource;
use crate::runtime::stopping::StopPlan;
use crate::stick::Registry;
use mio::{Events, Poll, Token};
use std::sync::Arc;
use std::time::SystemTime;

/// Token of the waker other threads use to interrupt this worker's poll.
pub(super) const WAKE_TOKEN: Token = Token(usize::MAX - 1);

/// Listen queue length of a `bind` line without `backlog`.
const BACKLOG: u32 = 1024;

/// What a worker is built from. Made on the main thread (listeners bound
/// there, so that a bind error stops the start), moved to the worker's
/// thread, where [`Worker::new`] builds the rest.
pub struct WorkerSeed {
    pub thread: usize, // 0-based thread number (`tid`)
    pub cfg: Arc<Config>,
    pub rules: Arc<Vec<ProxyRules>>,
    pub tables: Registry,
    pub caches: Arc<crate::l7_http::cache::Caches>,
    pub(in crate::runtime) shared: Shared,
    pub threads: Arc<Threads>,
    pub listeners: Vec<Listener>, // this worker's frontend listeners, in configuration order
    pub clock: Clock,             // the first worker's clock: every thread counts ticks from one start
}

/// Binds every enabled frontend's listeners for worker `thread`, in
/// configuration order (one per bind address on every thread, so that an
/// index names the same listener everywhere). With `first` (the first
/// worker's listeners) the listeners are for another thread: an address
/// bound here gets its own `SO_REUSEPORT` socket (the kernel spreads
/// connections over the threads' sockets) or the next socket an old
/// process handed over (`-x`); an inherited `fd@N`, a unix socket, or any
/// socket under `noreuseport`, is shared (a duplicate of the first
/// worker's descriptor: the threads accept from one queue).
///
/// `bind ... thread`: only the threads of the bind's set accept on it
/// ([`polls`]). The first worker binds every address whatever the set (a
/// bind error stops the start); that socket is the one of the set's first
/// thread, which takes a duplicate of it. A thread outside the set gets a
/// duplicate too, never a socket of its own: a `SO_REUSEPORT` socket
/// bound and then dropped would lose the connections the kernel queued on
/// it, and one bound and never polled would leave them waiting.
pub fn open_listeners(
    cfg: &Config,
    thread: usize,
    first: Option<&[Listener]>,
) -> Result<Vec<Listener>, StartError> {
    let mut out = Vec::new();
    let reuse_port = !cfg.global.process.noreuseport;
    for (pi, proxy) in cfg.proxies.iter().enumerate() {
        // A `disabled` frontend is not started.
        if !proxy.cap.frontend || proxy.knobs.disabled {
            continue;
        }
        let http = proxy.mode == crate::cfg::Mode::Http;
        for (bi, bind) in proxy.binds.iter().enumerate() {
            let bind_err = |err| StartError::Bind { proxy: proxy.name.clone(), addr: bind.addr_text(), err };
            let set = bind.opts.threads(cfg.global.nbthread);
            let own_socket = set & (1 << thread) != 0 && set.trailing_zeros() as usize != thread;
            if first.is_none() {
                warn_missing_device(bind, &proxy.name);
            }
            let shared_with = first
                .and_then(|f| f.get(out.len()))
                .filter(|_| bind.fd.is_some() || bind.unix.is_some() || !reuse_port || !own_socket);
            let mut listener = match shared_with {
                Some(l) => {
                    let sock = l.sock.as_fd_clone().map_err(bind_err)?;
                    Listener::new(sock, l.addr, l.unix, pi)
                }
                None => {
                    let backlog = proxy.knobs.backlog.unwrap_or(BACKLOG);
                    let l = Listener::open(bind, pi, http, reuse_port, backlog).map_err(bind_err)?;
                    if bind.unix.is_none() {
                        let smart = proxy.knobs.smart_accept.unwrap_or(http);
                        crate::l4_conn::sockopt::set_smart_accept(&l.sock, smart);
                    }
                    l
                }
            };
            listener.luid = crate::runtime::listener_stats::luid(bind, bi);
            listener.bind = bi;
            out.push(listener);
        }
    }
    Ok(out)
}

/// Whether worker `thread` accepts on `listener` (`bind ... thread`).
pub fn polls(cfg: &Config, listener: &Listener, thread: usize) -> bool {
    let bind = cfg.proxies.get(listener.proxy).and_then(|p| p.binds.get(listener.bind));
    bind.is_none_or(|b| thread < 64 && b.opts.threads(cfg.global.nbthread) & (1 << thread) != 0)
}

/// A duplicate of a listening socket (same accept queue).
trait FdClone {
    fn as_fd_clone(&self) -> std::io::Result<mio::net::TcpListener>;
}

impl FdClone for mio::net::TcpListener {
    fn as_fd_clone(&self) -> std::io::Result<mio::net::TcpListener> {
        use std::os::fd::AsFd;
        let fd = self.as_fd().try_clone_to_owned()?;
        Ok(mio::net::TcpListener::from_std(std::net::TcpListener::from(fd)))
    }
}

impl Worker {
    /// Registers the seed's listeners with a new poller and builds the
    /// worker. Runs on the worker's own thread (per-thread pools and the
    /// custom error pages are thread-local).
    pub fn new(seed: WorkerSeed) -> Result<Worker, StartError> {
        let WorkerSeed { thread, cfg, rules, tables, caches, shared, threads, listeners: mine, clock } = seed;
        crate::core::buffer::set_bufsize(cfg.global.tune_bufsize);
        crate::l7_http::custom_errors::install(&cfg);
        let poll = Poll::new().map_err(StartError::Poll)?;
        let mut listeners = Vec::new();
        for mut listener in mine {
            if !polls(&cfg, &listener, thread) {
                // Not this thread's (`bind ... thread`): its duplicate is closed, the socket lives on.
                listeners.push(None);
                continue;
            }
            let token = Token(RESERVED_TOKEN_BASE + listeners.len());
            poll.registry()
                .register(&mut listener.sock, token, mio::Interest::READABLE)
                .map_err(StartError::Poll)?;
            listeners.push(Some(ListenerSlot { listener, limited: false, rate_timer: Default::default() }));
        }
        {
            use std::os::fd::AsRawFd;
            let fds = listeners.iter().flatten().map(|s| s.listener.sock.as_raw_fd()).collect();
            threads.set_listener_fds(thread, fds);
        }
        let waker = mio::Waker::new(poll.registry(), WAKE_TOKEN).map_err(StartError::Poll)?;
        threads.set_waker(thread, Arc::new(waker));
        // The runtime API, the health checks, the peers and the resolvers belong to the first thread.
        let owner = thread == 0;
        let mut cli_listeners = Vec::new();
        for spec in cfg.global.stats_sockets.iter().filter(|_| owner) {
            let mut l = CliListener::bind(spec, cli_listeners.len(), cfg.global.stats_maxconn)
                .map_err(|err| StartError::StatsSocket { addr: format!("{:?}", spec.addr), err })?;
            l.register(poll.registry(), Token(CLI_LISTENER_BASE + cli_listeners.len()))
                .map_err(StartError::Poll)?;
            cli_listeners.push(l);
        }
        let signals = SignalSource::register(poll.registry()).map_err(StartError::Poll)?;
        let none = Config::default();
        let owned: &Config = if owner { &cfg } else { &none };
        let peers = super::peers_glue::start(owned, &tables, poll.registry())?;
        let maxconn = crate::runtime::shared::lock(&shared).initial_maxconn;
        let env = Env {
            clock,
            ended: Vec::new(),
            errors: crate::l7_http::capture::ErrorLog::new(cfg.proxies.len()),
            cfg: cfg.clone(),
            idle: IdlePool::new(crate::l4_conn::pool::idle_limit(maxconn, cfg.global.nbthread)),
            h2srv: Default::default(),
            h2: Default::default(),
            rules,
            tables,
            caches,
            thread,
        };
        let now = env.clock.now();
        let checks = Checks::new(owned, now);
        let mut timers = Timers::default();
        let mut worker = Worker {
            poll,
            events: Events::with_capacity(cfg.global.tune.maxpollevents),
            timers: Timers::default(),
            sessions: TokenSlab::default(),
            listeners,
            signals,
            logs: LogSink::new(&cfg),
            checks,
            cli_listeners,
            cli: CliConns::default(),
            refusals: Refusals::default(),
            started: SystemTime::now(),
            node: cfg.global.node.clone().unwrap_or_else(hostname),
            env,
            shared,
            threads,
            thread,
            stopping: false,
            stop_plan: StopPlan::default(),
            next_purge_ms: if owner { 0 } else { u64::MAX }, // the first thread purges the shared tables
            idle: super::idle::IdleMeter::new(),
            peers,
            dns: crate::backend::dns::Resolvers::new(owned, now),
            peers_next: None,
            taken: Vec::with_capacity(cfg.global.tune.maxpollevents),
            certs: Vec::new(),
            audit_wanted: false,
            next_audit_ms: 0,
        };
        worker.dns.open(worker.poll.registry());
        worker.audit_wanted = owner && worker.env.rules.iter().any(|r| {
            r.http_request.iter().any(|rule| {
                matches!(rule.action, crate::l7_http::rules::HttpAction::UseService(ref s) if *s == crate::l7_http::service_rules::InternalService::Prometheus)
            })
        });
        for key in worker.checks.keys() {
            if let Some(check) = worker.checks.get_mut(key) {
                let next = Some(check.next_deadline());
                timers.arm(&mut check.timer, TimerId { kind: TIMER_CHECK, key }, next);
            }
        }
        worker.timers = timers;
        Ok(worker)
    }
}

/// `bind ... interface DEV` naming a device the system does not have:
/// HAProxy's warning, once per line (the socket then listens on every
/// device, as HAProxy's does).
fn warn_missing_device(bind: &crate::cfg::Bind, proxy: &str) {
    let Some(dev) = &bind.opts.interface else { return };
    if dev.contains('/') || std::path::Path::new("/sys/class/net").join(dev).exists() {
        return;
    }
    eprintln!(
        "[WARNING]  ({}) : Binding [{}] for proxy {proxy}: cannot bind receiver to device '{dev}' (No such device) for [{}]",
        std::process::id(),
        bind.loc,
        bind.addr_text()
    );
}
