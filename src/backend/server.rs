//! Run-time state of one server.

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
#[derive(Clone, Debug)]
pub struct ServerState {
    pub name: String,
    pub id: u32,                    // `id` (HAProxy's `sid`, `srv_id`)
    pub addr: Option<IpAddr>,       // None: no address yet (`init-addr none`, resolution pending)
    pub fqdn: Option<String>,       // the host name the address comes from, if any
    pub port: Option<u16>,          // None: the port the client connected to
    pub resolution_maint: bool,     // HAProxy's RMAINT: no usable address (`MAINT (resolution)`)
    pub id_forced: bool,            // `id` written (`srv_f_forced_id`)
    pub check_port: Option<u16>,    // `port`
    pub check_addr: Option<IpAddr>, // `addr`
    pub agent_addr: Option<IpAddr>, // `agent-addr`
    pub agent_port: Option<u16>,    // `agent-port`
    pub cookie: Option<String>,     // `cookie` (shown by `show stat`)
    pub weight: u32,                // current weight (0 = no new traffic)
    pub maxconn: Option<u32>,
    pub backup: bool,
    pub admin: SrvAdmin,
    pub up: bool,       // health: true unless checks say DOWN
    pub cur_conns: u32, // streams attached now
    pub cum_conns: u64, // streams ever attached
    pub initial_weight: u32,
    pub maint_from_config: bool, // in maintenance since start-up (`disabled`)
    pub rise: u32,               // configured `rise` (health shown without checks)
    pub stats: Counters,
    pub health: Option<Health>, // Some with `check`
    pub history: UpDown,        // health changes (`lastchg`, `downtime`, `chkdown`)
    pub tls: Option<std::sync::Arc<crate::l4_conn::tls::ServerTls>>, // `ssl` / `check-ssl`: its TLS client settings
}

/// What the last health check said, for `show stat` and `show servers
/// state`. Written by the worker after each check.
#[derive(Clone, Debug, Default)]
pub struct Health {
    pub status: &'static str, // HAProxy's check status: L4OK, L4CON, L4TOUT, L7OK, L7STS, L7RSP, L7TOUT, INI
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
        Health { status: "INI", desc: "Initializing".into(), value: rise, rise, fall, ..Health::default() }
    }
}

impl ServerState {
    pub fn new(cfg: &Server) -> ServerState {
        ServerState {
            name: cfg.name.clone(),
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
            backup: cfg.backup,
            admin: if cfg.disabled { SrvAdmin::Maint } else { SrvAdmin::Ready },
            up: true,
            cur_conns: 0,
            cum_conns: 0,
            initial_weight: cfg.weight,
            maint_from_config: cfg.disabled,
            rise: cfg.rise,
            stats: Counters::default(),
            health: cfg.check.then(|| Health::initial(cfg.rise, cfg.fall)),
            history: UpDown::default(),
            tls: None,
        }
    }

    /// Marks the server UP or DOWN at `now_ms`, keeping the history.
    pub fn set_up(&mut self, up: bool, now_ms: u64) {
        if up != self.up {
            self.up = up;
            self.history.change(up, now_ms);
        }
    }

    /// May receive new traffic: up, ready, with an address and a non-zero weight.
    pub fn usable(&self) -> bool {
        self.up && self.admin == SrvAdmin::Ready && !self.resolution_maint && self.weight > 0
    }

    /// In maintenance for any reason (administrative or no address).
    pub fn in_maint(&self) -> bool {
        self.admin == SrvAdmin::Maint || self.resolution_maint
    }

    /// Below its `maxconn` (always true without one).
    pub fn has_room(&self) -> bool {
        self.maxconn.is_none_or(|m| m == 0 || self.cur_conns < m)
    }

    /// Address to connect to for a client that connected to port
    /// `dst_port`; None while the server has no address.
    pub fn target(&self, dst_port: u16) -> Option<SocketAddr> {
        Some(SocketAddr::new(self.addr?, self.port.unwrap_or(dst_port)))
    }
}
