//! Socket set-up: options of a `bind` line (`name`, `id`,
//! `defer-accept`, `tfo`, `interface`, `v4v6`/`v6only`, `maxconn`,
//! `backlog`, `thread`), read by `l4_conn::Listener::bind` and the worker's accept
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
    pub v6only: Option<bool>, // `v6only` (true) / `v4v6` (false); None: the system's default
    pub maxconn: Option<u32>, // live connections of this listener at most
    pub backlog: Option<u32>, // listen(2) backlog (default: the frontend's maxconn, capped)
    pub proto: crate::cfg::model::BindProto, // `proto h1|h2`: the mux connections start with
    pub accept_proxy: bool,   // `accept-proxy`: connections start with a PROXY protocol header
    pub mode: Option<u32>,    // `mode`: permissions of a unix socket file (octal); else `unix-bind`'s
    pub uid: Option<u32>,     // `uid`/`user`: owner of a unix socket file; else `unix-bind`'s
    pub gid: Option<u32>,     // `gid`/`group`: group of a unix socket file; else `unix-bind`'s
    pub thread: Option<ThreadSet>, // `thread`: the worker threads accepting on it; None: all of them
}

impl BindOpts {
    /// The threads (bit `n` is thread `n + 1`) that accept on this bind
    /// when `nbthread` threads run: its `thread` set cut to the running
    /// threads, as HAProxy 2.6 does (`thread 1-4` with 2 threads is 1-2).
    /// Empty only for a set naming no running thread, which `resolve`
    /// refuses.
    pub fn threads(&self, nbthread: u32) -> u64 {
        let all = match nbthread.max(1) {
            n if n >= 64 => u64::MAX,
            n => (1u64 << n) - 1,
        };
        self.thread.map_or(all, |t| t.mask & all)
    }
}

/// A `bind ... thread` value as written: bit `n` is thread `n + 1`
/// (`all`, `odd` and `even` name every such thread of the 64), several
/// `thread` options on one line adding up. strata has one thread group,
/// so a `1/` prefix only says that the group was named (which changes
/// HAProxy's error text).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ThreadSet {
    pub mask: u64,
    pub group: bool, // written as `1/SET`
}

/// HAProxy's refusal of a `bind ... thread` set that names no running
/// thread (`thread 3` with `nbthread 2`).
pub fn check_bind_threads(cfg: &crate::cfg::Config, diags: &mut crate::cfg::diag::Diagnostics) {
    for p in cfg.proxies.iter().filter(|p| p.cap.frontend) {
        for b in p.binds.iter().filter(|b| b.opts.threads(cfg.global.nbthread) == 0) {
            let what = match b.opts.thread {
                Some(ThreadSet { group: true, .. }) => "only references threads not belonging to the group",
                _ => "contains threads that belong to no group",
            };
            diags.push(crate::cfg::diag::Diag::alert_global(format!(
                "Proxy '{}': 'thread' directive {what} in 'bind {}' at [{}].",
                p.name,
                b.addr_text(),
                b.loc
            )));
        }
    }
    // `thread-group 1 LIST`: strata's one group must hold every thread.
    if let Some(mask) = cfg.global.thread_group_threads {
        let left = (0..cfg.global.nbthread.min(64)).filter(|t| mask & (1 << t) == 0).count();
        if left > 0 {
            diags.push(crate::cfg::diag::Diag::alert_global(format!(
                "Remaining unassigned threads found ({left}) because all groups are in use. Please increase \
                 'thread-groups', reduce 'nbthreads' or remove or extend 'thread-group' enumerations."
            )));
        }
    }
    // A stats socket belongs to HAProxy's 'GLOBAL' proxy.
    for s in cfg.global.stats_sockets.iter().filter(|s| s.opts.threads(cfg.global.nbthread) == 0) {
        let what = match s.opts.thread {
            Some(ThreadSet { group: true, .. }) => "only references threads not belonging to the group",
            _ => "contains threads that belong to no group",
        };
        let addr = match &s.addr {
            crate::cfg::ListenAddr::Tcp(a) => a.to_string(),
            crate::cfg::ListenAddr::Unix(p) => p.display().to_string(),
            crate::cfg::ListenAddr::Abns(n) => format!("abns@{n}"),
            crate::cfg::ListenAddr::Fd(fd) => format!("fd@{fd}"),
        };
        diags.push(crate::cfg::diag::Diag::alert_global(format!(
            "Proxy 'GLOBAL': 'thread' directive {what} in 'bind {addr}' at [{}].",
            s.loc
        )));
    }
}

/// A unix stream socket address of a `bind` or `server` line: a path
/// (`unix@PATH`, `/PATH`) or a name in Linux's abstract namespace
/// (`abns@NAME`). Bound and connected by `l4_conn::unix_listen`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum UnixAddr {
    Path(std::path::PathBuf),
    Abstract(String),
}

impl UnixAddr {
    /// A unix address written on a `bind` or `server` line, if it is one.
    pub fn parse(text: &str) -> Option<UnixAddr> {
        if let Some(path) = text.strip_prefix("unix@").or_else(|| text.starts_with('/').then_some(text)) {
            Some(UnixAddr::Path(path.into()))
        } else {
            text.strip_prefix("abns@").map(|name| UnixAddr::Abstract(name.into()))
        }
    }
}

impl std::fmt::Display for UnixAddr {
    /// As written in the configuration (`unix@/run/x.sock`, `abns@name`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UnixAddr::Path(p) => write!(f, "unix@{}", p.display()),
            UnixAddr::Abstract(name) => write!(f, "abns@{name}"),
        }
    }
}

/// `unix-bind`: the prefix of every `bind` unix path and the default mode,
/// owner and group of its file, applied once the configuration is read.
pub fn apply_unix_bind(cfg: &mut crate::cfg::Config) {
    let u = cfg.global.process.unix_bind.clone();
    for b in cfg.proxies.iter_mut().flat_map(|p| p.binds.iter_mut()) {
        if let Some(UnixAddr::Path(path)) = &mut b.unix {
            // HAProxy's rule: the prefix is prepended as it is, no slash added.
            if let Some(prefix) = &u.prefix {
                let mut joined = prefix.clone().into_os_string();
                joined.push(path.as_os_str());
                *path = joined.into();
            }
            b.opts.mode = b.opts.mode.or(u.mode);
            b.opts.uid = b.opts.uid.or(u.uid);
            b.opts.gid = b.opts.gid.or(u.gid);
        }
    }
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
    pub delayed_ack: bool, // TCP_QUICKACK 0 on a server socket: the handshake's last ACK leaves with the request (`option tcp-smart-connect`)
}
