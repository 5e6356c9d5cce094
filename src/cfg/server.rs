//! What a `server` (or `default-server`, `server-template`) line says,
//! after every option was applied: the configuration half of a server.
//!
//! Built by `cfg::parser::server` (options in `cfg::parser::server_opts`);
//! read by `backend::ServerState::new`, the health checks and the
//! resolvers. Nothing changes it after `cfg::load` returns.

use super::model::Loc;
use std::net::IpAddr;
use std::time::Duration;

/// HAProxy's `pool-purge-delay` when a server has none (and for servers
/// without a configuration line).
pub const DEFAULT_POOL_PURGE_DELAY: Duration = Duration::from_secs(5);

/// `server NAME ADDR[:PORT] [options]`, with HAProxy 2.6's defaults for
/// every option not written (see [`Server::default`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    pub name: String,
    pub loc: Loc,
    pub id: u32,                    // `id`, else the first id unused in the proxy (HAProxy's `sid`)
    pub id_forced: bool,            // `id` was written (`srv_f_forced_id`)
    pub addr: Option<IpAddr>,       // None: not resolved at start (`init-addr none`), resolvers may fill it
    pub fqdn: Option<String>,       // the host name written instead of an address
    pub port: Option<u16>,          // None: the port the client connected to
    pub weight: u32,                // 0..=256, default 1
    pub maxconn: Option<u32>,       // `maxconn`, 0 or None: unlimited
    pub minconn: Option<u32>,       // `minconn`: the limit's floor while the backend is below `fullconn`
    pub maxqueue: Option<u32>,      // `maxqueue`: streams waiting for this server at most (0/None: no limit)
    pub pool_max_conn: Option<u32>, // `pool-max-conn`: idle connections kept for reuse at most (None: -1, no limit of its own)
    pub pool_purge_delay: Duration, // `pool-purge-delay`: an idle connection unused this long is closed (default 5s)
    pub disabled: bool,             // starts in maintenance (`disabled`; `enabled` resets it)
    pub backup: bool,
    pub cookie: Option<String>, // `cookie VALUE` (persistence is the proxy `cookie` keyword's)
    pub check: bool,            // health checks enabled (`check`; `no-check` resets it)
    pub check_port: Option<u16>, // `port`: where checks connect
    pub check_addr: Option<IpAddr>, // `addr`: where checks connect
    pub check_send_proxy: bool, // `check-send-proxy`
    pub inter: Duration,        // check interval, default 2s
    pub fastinter: Option<Duration>, // while the server is transitionally up or down
    pub downinter: Option<Duration>, // while it is fully down
    pub rise: u32,              // default 2
    pub fall: u32,              // default 3
    pub slowstart: Option<Duration>, // weight ramp after coming back up
    pub init_addr: Vec<InitAddr>, // empty: HAProxy's default `last,libc` (`,none` with resolvers)
    pub init_addr_last: bool, // `last` was tried before any method gave the address: a server-state address wins
    pub resolvers: Option<String>, // `resolvers NAME`: re-resolve `fqdn` at run time
    pub resolve_prefer: Family, // `resolve-prefer`, default ipv6
    pub resolve_net: Vec<(IpAddr, u8)>, // `resolve-net`: preferred networks
    pub allow_dup_ip: bool, // `resolve-opts allow-dup-ip`: may share an address with a server of its backend
    pub on_marked_down: MarkedDown,
    pub on_marked_up: MarkedUp,
    pub agent: Agent,                          // `agent-check` and its settings
    pub send_proxy: Option<ProxyVersion>,      // `send-proxy` / `send-proxy-v2`
    pub namespace: Option<String>,             // `namespace` (no meaning for strata: warned)
    pub ssl: super::ssl::ServerSsl,            // TLS options (`ssl`, `verify`, `sni`, `check-ssl`...)
    pub proto_h2: bool, // `proto h2`: HTTP/2 to the server from the first byte (h2c, or over `ssl`)
    pub unix: Option<super::listen::UnixAddr>, // `unix@PATH` / `abns@NAME`: connect there (`addr` is 0.0.0.0)
}

impl Default for Server {
    /// HAProxy's defaults for a server line without options.
    fn default() -> Server {
        Server {
            name: String::new(),
            loc: Loc::default(),
            id: 0,
            id_forced: false,
            addr: None,
            fqdn: None,
            port: None,
            weight: 1,
            maxconn: None,
            minconn: None,
            maxqueue: None,
            pool_max_conn: None,
            pool_purge_delay: DEFAULT_POOL_PURGE_DELAY,
            disabled: false,
            backup: false,
            cookie: None,
            check: false,
            check_port: None,
            check_addr: None,
            check_send_proxy: false,
            inter: Duration::from_secs(2),
            fastinter: None,
            downinter: None,
            rise: 2,
            fall: 3,
            slowstart: None,
            init_addr: Vec::new(),
            init_addr_last: false,
            resolvers: None,
            resolve_prefer: Family::V6,
            resolve_net: Vec::new(),
            allow_dup_ip: false,
            on_marked_down: MarkedDown::Nothing,
            on_marked_up: MarkedUp::Nothing,
            agent: Agent::default(),
            send_proxy: None,
            namespace: None,
            ssl: Default::default(),
            proto_h2: false,
            unix: None,
        }
    }
}

/// One method of `init-addr`, tried in order at start-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InitAddr {
    Last,       // the address in the server-state file (`load-server-state-from-file`), applied at start
    Libc,       // the system resolver, now
    None,       // start without an address, in maintenance until resolved
    Ip(IpAddr), // this address
}

/// An address family choice (`resolve-prefer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

/// `on-marked-down`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkedDown {
    Nothing,
    ShutdownSessions, // kill the server's streams when checks mark it DOWN
}

/// `on-marked-up`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkedUp {
    Nothing,
    ShutdownBackupSessions, // kill the backup servers' streams when this active one comes UP
}

/// PROXY protocol version sent to the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyVersion {
    V1,
    V2,
}

/// `agent-check` and the settings of the agent it talks to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Agent {
    pub enabled: bool,           // `agent-check` (`no-agent-check` resets it)
    pub port: Option<u16>,       // `agent-port` (required)
    pub addr: Option<IpAddr>,    // `agent-addr`, else the server's address
    pub inter: Option<Duration>, // `agent-inter`, else the check's `inter`
    pub send: Option<Vec<u8>>,   // `agent-send`: bytes sent once connected
}

impl Server {
    /// Whether ALPN may choose HTTP/2 on a TLS connection to this server
    /// (`ssl alpn h2[,...]` without `proto h2`).
    pub fn alpn_h2(&self) -> bool {
        self.ssl.ssl
            && !self.proto_h2
            && self.ssl.params.alpn.as_ref().is_some_and(|l| l.iter().any(|a| a == "h2"))
    }
}
