//! Backends at run time: server states and the load-balancing algorithms.
//!
//! The configuration (`cfg::Proxy`, `cfg::Server`) says what was written;
//! [`BackendState`] holds what changes: which servers are usable, how many
//! connections each carries, the algorithms' positions. Owned by a worker.

pub mod admin_log;
pub mod balance;
pub mod check;
pub mod dns;
pub mod mux_stats;
pub mod queue;
pub mod server;
pub mod shared;
pub mod spread;
pub mod state_apply;
pub mod state_file;
pub mod stats;

pub use balance::{LbInput, Pick, Picker};
pub use queue::{Queue, Ticket, Waiter};
pub use server::{Health, ServerState, SrvAdmin};
pub use shared::{BackendsGuard, SharedBackends};
pub use stats::{Counters, UpDown};

use crate::cfg::{Balance, Proxy};

/// Run-time state of one backend (a `backend` or `listen` section).
pub struct BackendState {
    pub proxy: usize,                                  // index in Config::proxies
    pub name: String,                                  // for logs
    pub servers: Vec<ServerState>,                     // same order as the configuration
    picker: Picker,                                    // algorithm state
    pub cur_conns: u32,                                // streams currently attached to a server
    pub cum_conns: u64,                                // streams ever assigned a server
    pub stats: Counters,                               // `show stat` line BACKEND
    pub history: UpDown,                               // lost its last server / got one back
    pub queue: Queue,                                  // streams waiting for a server slot
    dispatch: Option<usize>,                           // `dispatch`: the hidden server every stream goes to
    load: Option<std::sync::Arc<server::BackendLoad>>, // shared with its `minconn` servers (none without)
}

impl BackendState {
    /// HAProxy's total weight of a backend (`show stat` weight): the
    /// usable active servers' weights, the backups' when no active one is.
    pub fn total_weight(&self) -> u32 {
        let usable = |backup: bool| self.servers.iter().filter(move |s| s.backup == backup && s.usable());
        let any_active = usable(false).next().is_some();
        usable(!any_active).map(|s| s.weight).sum()
    }

    pub fn new(index: usize, proxy: &Proxy) -> BackendState {
        let mut servers: Vec<ServerState> = proxy.servers.iter().map(ServerState::new).collect();
        // Dispatch mode (HAProxy's PR_O_DISPATCH): the address is a server
        // of its own that no listing shows and logs name `<NOSRV>`.
        let dispatch = proxy.dispatch.map(|addr| {
            let cfg = crate::cfg::Server {
                name: String::new(),
                addr: Some(addr.ip()),
                port: Some(addr.port()),
                ..crate::cfg::Server::default()
            };
            let mut s = ServerState::new(&cfg);
            s.hidden = true;
            servers.push(s);
            servers.len() - 1
        });
        BackendState {
            dispatch,
            load: None,
            proxy: index,
            name: proxy.name.clone(),
            servers,
            picker: Picker::new(proxy),
            cur_conns: 0,
            cum_conns: 0,
            stats: Counters::default(),
            history: UpDown::default(),
            queue: Queue::default(),
        }
    }

    /// The server named `name` (deleted ones are gone).
    pub fn find_server(&self, name: &str) -> Option<usize> {
        self.servers.iter().position(|s| *s.name == *name && !s.deleted && !s.hidden)
    }

    /// The servers that exist (not deleted), with their index.
    pub fn live_servers(&self) -> impl Iterator<Item = (usize, &ServerState)> {
        self.servers.iter().enumerate().filter(|(_, s)| !s.deleted && !s.hidden)
    }

    /// The algorithm copes with servers coming and going at run time
    /// (HAProxy's `BE_LB_PROP_DYN`): everything but `static-rr` and
    /// map-based hashing.
    pub fn dynamic_lb(&self) -> bool {
        self.dispatch.is_none() && self.picker.dynamic()
    }

    /// Adds a server at run time (`add server`): it starts in maintenance,
    /// as HAProxy's dynamic servers do, with the first id unused in the
    /// backend unless it has its own. Returns its index.
    pub fn add_server(&mut self, cfg: &crate::cfg::Server) -> usize {
        let mut s = ServerState::new(cfg);
        if !cfg.id_forced {
            let mut id = 1;
            while self.live_servers().any(|(_, o)| o.id == id) {
                id += 1;
            }
            s.id = id;
        }
        s.admin = SrvAdmin::Maint;
        s.disabled_in_config = false;
        s.dynamic = true;
        s.check_enabled = false; // `enable health` starts them, as in HAProxy
        self.servers.push(s);
        self.servers.len() - 1
    }

    pub fn algorithm(&self) -> &Balance {
        self.picker.algorithm()
    }

    /// A server is usable (active, or backup).
    pub fn is_up(&self) -> bool {
        self.servers.iter().any(ServerState::usable)
    }

    /// Called after any server state change: keeps the backend's own
    /// UP/DOWN history (`chkdown`, `downtime`, `lastchg`).
    pub fn note_state(&mut self, was_up: bool, now_ms: u64) {
        let up = self.is_up();
        if up != was_up {
            self.history.change(up, now_ms);
        }
    }

    /// Chooses a server for a new stream, avoiding `avoid` when another
    /// usable server exists (redispatch); see `balance` for the farm and
    /// the algorithms.
    pub fn pick(&mut self, input: &dyn LbInput, avoid: Option<usize>, now_ms: u64) -> Pick {
        if let Some(d) = self.dispatch {
            return Pick::Server(d); // no load balancing: the dispatch address
        }
        self.picker.pick(&self.servers, input, avoid, now_ms)
    }

    /// Whether the front waiter of the backend's queue would get a server
    /// now: a server of the farm has room.
    pub fn has_free_slot(&mut self, now_ms: u64) -> bool {
        self.picker.farm_has_room(&self.servers, now_ms)
    }

    /// The algorithm pins a client to a server (hashing): a failed connect
    /// is not redispatched at once.
    pub fn pins_clients(&self) -> bool {
        self.picker.algorithm().is_hash()
    }

    /// Accounts a stream attached to server `srv` by load balancing at
    /// `now_ms`. A stream that waited in the queue was counted on the
    /// backend when it joined (`in_backend`), as HAProxy counts a stream
    /// on its backend from the moment it is assigned to it.
    pub fn take(&mut self, srv: usize, now_ms: u64, in_backend: bool) {
        self.picker.moved(srv);
        let s = &mut self.servers[srv];
        s.cur_conns += 1;
        s.cum_conns += 1;
        s.stats.lbtot += 1;
        s.stats.count_session(now_ms, s.cur_conns);
        self.stats.lbtot += 1;
        if !in_backend {
            self.enter(now_ms);
        }
    }

    /// Counts a stream on the backend (`scur`, `stot`): when it gets a
    /// server, or when it starts waiting for one.
    pub fn enter(&mut self, now_ms: u64) {
        self.cur_conns += 1;
        self.cum_conns += 1;
        self.stats.count_session(now_ms, self.cur_conns);
        self.publish_load();
    }

    /// Tells the `minconn` servers the backend's load.
    fn publish_load(&self) {
        if let Some(l) = &self.load {
            l.conns.store(self.cur_conns, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Gives the `minconn` servers their backend's `fullconn` (the proxy's,
    /// else HAProxy's default, see [`default_fullconn`]).
    pub fn apply_fullconn(&mut self, fullconn: u32) {
        if !self.servers.iter().any(|s| s.minconn.is_some()) {
            return;
        }
        let load = std::sync::Arc::new(server::BackendLoad {
            conns: std::sync::atomic::AtomicU32::new(self.cur_conns),
            fullconn,
        });
        for s in self.servers.iter_mut().filter(|s| s.minconn.is_some()) {
            s.load = Some(load.clone());
        }
        self.load = Some(load);
    }

    /// A stream counted on the backend leaves it without a server (it
    /// waited in the queue and gave up).
    pub fn leave_unserved(&mut self) {
        self.cur_conns = self.cur_conns.saturating_sub(1);
        self.publish_load();
    }

    /// Accounts another connect attempt of a stream already on server `srv`
    /// (a retry after a failed connect): counted in the server's `stot`
    /// only, as HAProxy does (`show stat`: 3 attempts, `lbtot` 1).
    pub fn count_attempt(&mut self, srv: usize, now_ms: u64) {
        let s = &mut self.servers[srv];
        s.stats.count_session(now_ms, s.cur_conns);
    }

    /// Accounts a failed connect retried on server `srv`: HAProxy's
    /// `wretr`, on the server and the backend, counted when the retry is
    /// decided (`back_handle_st_cer`, or a redispatch that chose `srv` again).
    pub fn count_retry(&mut self, srv: usize) {
        self.servers[srv].stats.retries += 1;
        self.stats.retries += 1;
    }

    /// Accounts a stream sent elsewhere after a failed connect on server
    /// `from`: HAProxy's `wredis`, on the server left and the backend (a
    /// redispatch is not a retry: no `wretr`).
    pub fn count_redispatch(&mut self, from: usize) {
        self.servers[from].stats.redispatches += 1;
        self.stats.redispatches += 1;
    }

    /// Accounts a stream leaving server `srv` (end, or redispatch).
    pub fn release(&mut self, srv: usize) {
        self.picker.moved(srv);
        let s = &mut self.servers[srv];
        debug_assert!(s.cur_conns > 0);
        s.cur_conns = s.cur_conns.saturating_sub(1);
        self.cur_conns = self.cur_conns.saturating_sub(1);
        self.publish_load();
    }
}

/// Every backend's run-time state, indexed like `Config::proxies` (None for
/// proxies without the backend capability). Owned by a worker.
#[derive(Default)]
pub struct Backends {
    by_proxy: Vec<Option<BackendState>>,
    fe_cur: Vec<u32>, // live sessions per frontend (proxy index), kept by the worker (`fe_conn`)
    actconn: u32,     // live sessions of the worker (`%ac`), kept by the worker
    pub h1: std::sync::Arc<mux_stats::H1Stats>, // the `h1_*` fields of FRONTEND and BACKEND lines (lock-free, shared)
}

/// A backend's `fullconn`: the proxy's, else HAProxy's default, a tenth
/// of the summed maxconn (`fe_max`, by proxy index) of the frontends that
/// can route to it, at least 1.
pub fn default_fullconn(cfg: &crate::cfg::Config, be: usize, fe_max: &[u32]) -> u32 {
    if let Some(n) = cfg.proxies.get(be).and_then(|p| p.knobs.fullconn) {
        return n;
    }
    let sum: u64 = cfg
        .proxies
        .iter()
        .enumerate()
        .filter(|(i, p)| {
            p.cap.frontend
                && (*i == be
                    || p.default_backend.as_ref().is_some_and(|d| d.index == be)
                    || p.use_backends.iter().any(|u| u.backend.index == be))
        })
        .map(|(i, _)| u64::from(fe_max.get(i).copied().unwrap_or(0)))
        .sum();
    (sum.div_ceil(10) as u32).max(1)
}

impl Backends {
    /// Every `minconn` server learns its backend's `fullconn`.
    pub fn apply_fullconn(&mut self, cfg: &crate::cfg::Config, fe_max: &[u32]) {
        for (i, b) in self.by_proxy.iter_mut().enumerate() {
            if let Some(b) = b {
                b.apply_fullconn(default_fullconn(cfg, i, fe_max));
            }
        }
    }

    pub fn new(cfg: &crate::cfg::Config) -> Backends {
        let by_proxy: Vec<Option<BackendState>> = cfg
            .proxies
            .iter()
            .enumerate()
            .map(|(i, p)| p.cap.backend.then(|| BackendState::new(i, p)))
            .collect::<Vec<_>>();
        let mut by_proxy = by_proxy;
        for (b, p) in by_proxy.iter_mut().zip(&cfg.proxies) {
            // A `disabled` backend serves nothing: every server starts in maintenance.
            if let Some(b) = b.as_mut().filter(|_| p.knobs.disabled) {
                b.servers.iter_mut().for_each(|s| s.admin = SrvAdmin::Maint);
            }
        }
        let h1 = std::sync::Arc::new(mux_stats::H1Stats::new(by_proxy.len()));
        Backends { fe_cur: vec![0; by_proxy.len()], by_proxy, actconn: 0, h1 }
    }

    /// Live sessions of frontend `proxy` (`fe_conn`).
    pub fn fe_conn(&self, proxy: usize) -> u32 {
        self.fe_cur.get(proxy).copied().unwrap_or(0)
    }

    /// The worker tells how many sessions frontend `proxy` has now, and
    /// how many it has in all.
    pub fn set_fe_conn(&mut self, proxy: usize, n: u32, total: u32) {
        if let Some(c) = self.fe_cur.get_mut(proxy) {
            *c = n;
        }
        self.actconn = total;
    }

    /// Live sessions of the worker (`%ac`).
    pub fn actconn(&self) -> u32 {
        self.actconn
    }

    pub fn get_mut(&mut self, proxy: usize) -> Option<&mut BackendState> {
        self.by_proxy.get_mut(proxy).and_then(Option::as_mut)
    }

    pub fn get(&self, proxy: usize) -> Option<&BackendState> {
        self.by_proxy.get(proxy).and_then(Option::as_ref)
    }

    /// Every backend, in configuration order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut BackendState> {
        self.by_proxy.iter_mut().flatten()
    }
}
