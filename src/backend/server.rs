//! Run-time state of one server.

use super::queue::Queue;
use super::stats::{Counters, UpDown};
use crate::cfg::Server;
use std::net::{IpAddr, SocketAddr};

/// Administrative state set by configuration or (later) the runtime API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SrvAdmin {
    Ready,
    Drain, // no new traffic except persistence
    Maint, // `disabled`, or `disable server`
}

/// What changes about a server while strata runs. Owned by its
/// `BackendState`; streams refer to a server by index.
///
/// (See also [`BackendLoad`], the one value a backend shares with its
/// `minconn` servers.)
#[derive(Clone, Debug)]
pub struct ServerState {
    pub name: std::sync::Arc<str>, // shared with the streams attached (`%s`, `srv_name`) without a copy
    pub id: u32,                   // `id` (HAProxy's `sid`, `srv_id`)
    pub addr: Option<IpAddr>,      // None: no address yet (`init-addr none`, resolution pending)
    pub fqdn: Option<String>,      // the host name the address comes from, if any
    pub port: Option<u16>,         // None: the port the client connected to
    pub resolution_maint: bool,    // HAProxy's RMAINT: no usable address (`MAINT (resolution)`)
    pub id_forced: bool,           // `id` written (`srv_f_forced_id`)
    pub check_port: Option<u16>,   // `port`
    pub check_addr: Option<IpAddr>, // `addr`
    pub agent_addr: Option<IpAddr>, // `agent-addr`
    pub agent_port: Option<u16>,   // `agent-port`
    pub cookie: Option<String>,    // `cookie` (shown by `show stat`)
    pub weight: u32,               // current weight (0 = no new traffic)
    pub maxconn: Option<u32>,
    pub minconn: Option<u32>, // `minconn`: see [`ServerState::dyn_maxconn`]
    pub load: Option<std::sync::Arc<BackendLoad>>, // the backend's load, for a `minconn` server
    pub maxqueue: Option<u32>, // `maxqueue`: this server's queue at most (0/None: no limit)
    pub pool_max_conn: Option<u32>, // `pool-max-conn`: idle connections kept at most (None: no own limit)
    pub queue: Queue,         // streams pinned to this server waiting for a slot
    pub slowstart_s: u64,     // `slowstart` in seconds, rounded up (0: none)
    pub starting_since_ms: Option<u64>, // came back UP then (the `slowstart` ramp)
    pub backup: bool,
    pub admin: SrvAdmin,
    pub up: bool,       // health: true unless checks say DOWN
    pub cur_conns: u32, // streams attached now
    pub cum_conns: u64, // streams ever attached
    pub initial_weight: u32,
    pub disabled_in_config: bool, // `disabled` on its line: HAProxy's CMAINT flag, kept for good (`show servers state`)
    pub rise: u32,                // configured `rise` (health shown without checks)
    pub stats: Counters,
    pub health: Option<Health>, // Some with `check`
    pub agent: Option<Health>,  // Some with `agent-check`
    pub nolb: bool,             // HAProxy's STOPPING: `disable-on-404` got a 404 (`NOLB`): no new traffic
    pub history: UpDown,        // health changes (`lastchg`, `downtime`, `chkdown`)
    pub tls: Option<std::sync::Arc<crate::l4_conn::tls::ServerTls>>, // `ssl` / `check-ssl`: its TLS client settings
    pub check_enabled: bool, // health checks run (`disable health` pauses them: the server counts as UP)
    pub dynamic: bool,       // added at run time (`add server`)
    pub deleted: bool,       // removed by `del server`: its index stays, nothing uses or lists it
    pub hidden: bool,        // the backend's `dispatch` address: used, never listed nor named
}

/// What the last health check said, for `show stat` and `show servers
/// state`. Written by the worker after each check.
#[derive(Clone, Debug, Default)]
pub struct Health {
    pub status: &'static str, // HAProxy's check status: L4OK, L4CON, L4TOUT, L7OK, L7STS, L7RSP, L7TOUT, INI...
    pub number: u32,          // its `HCHK_STATUS_*` number (`show servers state`)
    pub running: bool,        // a check is in progress (`CHK_ST_INPROGRESS`)
    pub code: Option<u16>,    // HTTP status of a layer 7 check
    pub desc: String,         // e.g. "Layer4 check passed"
    pub info: String,         // e.g. "Connection refused" (last_chk)
    pub duration_ms: Option<u64>,
    pub value: u32, // HAProxy's health counter
    pub rise: u32,
    pub fall: u32,
    pub failures: u64, // chkfail
}

impl Health {
    /// Before the first check: HAProxy's `INI`, "Initializing", and the
    /// health counter at `rise` (UP, but one failure takes it DOWN).
    pub fn initial(rise: u32, fall: u32) -> Health {
        let (rise, fall) = (rise.max(1), fall.max(1));
        Health {
            status: "INI",
            number: 1,
            desc: "Initializing".into(),
            value: rise,
            rise,
            fall,
            ..Health::default()
        }
    }
}

impl ServerState {
    pub fn new(cfg: &Server) -> ServerState {
        ServerState {
            name: cfg.name.as_str().into(),
            id: cfg.id,
            addr: cfg.addr,
            fqdn: cfg.fqdn.clone(),
            port: cfg.port,
            resolution_maint: cfg.addr.is_none(),
            id_forced: cfg.id_forced,
            check_port: cfg.check_port,
            check_addr: cfg.check_addr,
            agent_addr: cfg.agent.addr,
            agent_port: cfg.agent.port,
            cookie: cfg.cookie.clone(),
            weight: cfg.weight,
            maxconn: cfg.maxconn,
            minconn: cfg.minconn,
            load: None,
            maxqueue: cfg.maxqueue,
            pool_max_conn: cfg.pool_max_conn,
            queue: Queue::default(),
            slowstart_s: cfg.slowstart.map_or(0, |d| d.as_millis().div_ceil(1000) as u64),
            starting_since_ms: None,
            backup: cfg.backup,
            admin: if cfg.disabled { SrvAdmin::Maint } else { SrvAdmin::Ready },
            up: true,
            cur_conns: 0,
            cum_conns: 0,
            initial_weight: cfg.weight,
            disabled_in_config: cfg.disabled,
            rise: cfg.rise,
            stats: Counters::default(),
            health: cfg.check.then(|| Health::initial(cfg.rise, cfg.fall)),
            agent: cfg.agent.enabled.then(|| Health::initial(cfg.rise, cfg.fall)),
            nolb: false,
            history: UpDown::default(),
            tls: None,
            check_enabled: true,
            dynamic: false,
            deleted: false,
            hidden: false,
        }
    }

    /// Marks the server UP or DOWN at `now_ms`, keeping the history. A
    /// server coming back UP starts its `slowstart` ramp (never at
    /// start-up, as in HAProxy).
    pub fn set_up(&mut self, up: bool, now_ms: u64) {
        if up != self.up {
            self.up = up;
            self.history.change(up, now_ms);
            self.starting_since_ms = (up && self.slowstart_s > 0).then_some(now_ms);
        }
    }

    /// Seconds into the `slowstart` ramp, while it lasts.
    fn ramp_secs(&self, now_ms: u64) -> Option<u64> {
        let since = self.starting_since_ms?;
        let elapsed = (now_ms / 1000).checked_sub(since / 1000)?;
        (elapsed < self.slowstart_s).then_some(elapsed)
    }

    /// The weight the dynamic algorithms use, in sixteenths of the
    /// configured weight (HAProxy's `BE_WEIGHT_SCALE`): ramping up from
    /// 1/16 during `slowstart`, as HAProxy's `server_recalc_eweight`.
    pub fn lb_weight(&self, now_ms: u64) -> u32 {
        let w = match self.ramp_secs(now_ms) {
            Some(t) => ((16 * t + self.slowstart_s) / self.slowstart_s).min(16) as u32,
            None => 16,
        };
        self.weight * w
    }

    /// `maxconn` as it applies now: during `slowstart` it ramps up too,
    /// never below 1. None: no limit.
    pub fn dyn_maxconn(&self, now_ms: u64) -> Option<u32> {
        let max = self.maxconn.filter(|m| *m > 0)?;
        // HAProxy's dynamic limit: `minconn`, rising with the backend's
        // load to `maxconn` when it reaches `fullconn`.
        let max = match (&self.load, self.minconn) {
            (Some(l), Some(min)) if min < max => {
                let be = l.conns.load(std::sync::atomic::Ordering::Relaxed);
                if be >= l.fullconn {
                    max
                } else {
                    min.max((u64::from(be) * u64::from(max) / u64::from(l.fullconn.max(1))) as u32)
                }
            }
            _ => max,
        };
        Some(match self.ramp_secs(now_ms) {
            Some(t) => ((u64::from(max) * (100 * t / self.slowstart_s) / 100) as u32).max(1),
            None => max,
        })
    }

    /// `slowstart` progress in percent (`throttle` in `show stat`), while it lasts.
    pub fn throttle(&self, now_ms: u64) -> Option<u64> {
        self.ramp_secs(now_ms).map(|t| (100 * t / self.slowstart_s).max(1))
    }

    /// Has room for one more stream without overtaking its own queue.
    pub fn lb_has_room(&self, now_ms: u64) -> bool {
        match self.dyn_maxconn(now_ms) {
            None => true,
            Some(max) => self.queue.waiting == 0 && self.cur_conns < max,
        }
    }

    /// Its queue is at `maxqueue`: a stream pinned to it cannot wait.
    pub fn queue_full(&self) -> bool {
        self.maxqueue.is_some_and(|m| m > 0 && self.queue.waiting >= m)
    }

    /// May receive new traffic: up, ready, with an address and a non-zero weight.
    pub fn usable(&self) -> bool {
        self.up
            && !self.nolb
            && self.admin == SrvAdmin::Ready
            && !self.resolution_maint
            && self.weight > 0
            && !self.deleted
    }

    /// In maintenance for any reason (administrative, no address, deleted).
    pub fn in_maint(&self) -> bool {
        self.admin == SrvAdmin::Maint || self.resolution_maint || self.deleted
    }

    /// Address to connect to for a client that connected to `dst`; None
    /// while the server has no address. As in HAProxy, a server without a
    /// port takes the client's destination port, and one whose address is
    /// `0.0.0.0` (`server s1 :8080`, `server s1 ${UNSET}:`) the client's
    /// destination address.
    pub fn target(&self, dst: SocketAddr) -> Option<SocketAddr> {
        let ip = self.addr?;
        let ip = if ip.is_unspecified() { dst.ip() } else { ip };
        Some(SocketAddr::new(ip, self.port.unwrap_or(dst.port())))
    }
}

/// What a `minconn` server's limit follows: its backend's live streams
/// (kept by the backend as they change) and `fullconn`, the load at which
/// the server may take its whole `maxconn`.
#[derive(Debug)]
pub struct BackendLoad {
    pub conns: std::sync::atomic::AtomicU32,
    pub fullconn: u32,
}
