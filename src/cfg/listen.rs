//! Socket set-up: options of a `bind` line (`name`, `id`,
//! `defer-accept`, `tfo`, `interface`, `v4v6`/`v6only`, `maxconn`,
//! `backlog`), read by `l4_conn::Listener::bind` and the worker's accept
//! loop, and per-proxy options of accepted and opened connections
//! ([`ConnOpts`]), read by `l4_conn::sockopt`.

use std::time::Duration;

/// Per-address options of one `bind` line (shared by its address list).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BindOpts {
    pub name: Option<String>, // `name`: the listener's name (`show stat` with socket-stats)
    pub id: Option<u32>,      // `id`: the listener's numeric id
    pub defer_accept: bool,   // TCP_DEFER_ACCEPT: woken only when data arrives
    pub tfo: bool,            // TCP_FASTOPEN on the listening socket
    pub interface: Option<String>, // SO_BINDTODEVICE
    pub v6only: Option<bool>, // `v6only` (true) / `v4v6` (false); None: IPv6 only as strata always did
    pub maxconn: Option<u32>, // live connections of this listener at most
    pub backlog: Option<u32>, // listen(2) backlog (default: the frontend's maxconn, capped)
    pub proto: crate::cfg::model::BindProto, // `proto h1|h2`: the mux connections start with
    pub accept_proxy: bool,   // `accept-proxy`: connections start with a PROXY protocol header
}

/// Per-proxy options of one side's connections (client sockets of a
/// frontend, server sockets of a backend).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnOpts {
    pub keepalive: bool, // SO_KEEPALIVE (`option tcpka`, `clitcpka`, `srvtcpka`)
    pub keepalive_idle: Option<Duration>, // TCP_KEEPIDLE (`clitcpka-idle`, `srvtcpka-idle`)
    pub keepalive_intvl: Option<Duration>, // TCP_KEEPINTVL (`*tcpka-intvl`)
    pub keepalive_cnt: Option<u32>, // TCP_KEEPCNT (`*tcpka-cnt`)
    pub nolinger: bool,  // SO_LINGER 0: a close resets (`option nolinger`)
}
