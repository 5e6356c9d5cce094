//! Process-wide settings of the `global` section beyond limits and logs:
//! identity (`user`/`group`/`uid`/`gid`), `chroot`, `daemon`,
//! `hard-stop-after`, check spreading, syslog header fields, `unix-bind`,
//! environment edits and the `tune.*` knobs strata has.
//!
//! Filled by `cfg::parser` (its `process` and `tune` modules), read by the
//! runtime at start-up (`runtime::process`) and by the parts that own each
//! knob; nothing changes it after `cfg::load`.

use std::path::PathBuf;
use std::time::Duration;

/// `global` settings about the process itself.
#[derive(Clone, Debug, Default)]
pub struct Process {
    pub uid: Option<u32>, // `uid` / `user`: set after binding (0: unchanged, as HAProxy)
    pub gid: Option<u32>, // `gid` / `group`: set after binding
    pub user_name: Option<String>, // `user NAME`: supplementary groups come from it (initgroups)
    pub chroot: Option<PathBuf>, // `chroot DIR`: entered after binding
    pub daemon: bool,     // `daemon`: fork into the background (unless -d / -db)
    pub hard_stop_after: Option<Duration>, // after a soft stop, exit at the latest after this
    pub grace: Option<Duration>, // `grace`: listeners stay open this long after a soft stop
    pub spread_checks: u32, // `spread-checks` percent of random jitter on check intervals (0..=50)
    pub max_spread_checks: Option<Duration>, // bound of the first checks' spread at start-up
    pub log_send_hostname: Option<String>, // hostname field of syslog headers (`log-send-hostname [NAME]`)
    pub log_tag: Option<String>, // `log-tag`: syslog tag instead of the program name
    pub unix_bind: UnixBind, // defaults for unix sockets bound by strata
    pub strict_limits: bool, // a limit that cannot be applied is fatal instead of a warning
    pub zero_warning: bool, // any warning makes the configuration invalid
    pub quiet: bool,      // `quiet`: nothing printed at start-up
    pub env: Vec<EnvEdit>, // `setenv`/`presetenv`/`unsetenv`/`resetenv`, in order
    pub nosplice: bool,   // `nosplice`: never use splice(2)
    pub maxpipes: Option<u32>, // `maxpipes`: splice pipes kept at most
    pub noreuseport: bool, // `noreuseport`: listeners without SO_REUSEPORT
    pub set_dumpable: bool, // `set-dumpable`: core dumps stay possible after setuid
    pub fd_hard_limit: Option<u64>, // `fd-hard-limit`: cap of the automatic RLIMIT_NOFILE
    pub server_state_base: Option<String>, // `server-state-base`: directory of relative server-state file names
    pub server_state_file: Option<String>, // `server-state-file`: the global server-state file
    pub master_worker: bool,               // `master-worker`: run as a master of workers, as `-W`
}

/// `unix-bind [prefix P] [mode M] [user U] [uid N] [group G] [gid N]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnixBind {
    pub prefix: Option<PathBuf>, // prepended to every unix socket path strata binds
    pub mode: Option<u32>,       // permissions of the socket file
    pub uid: Option<u32>,        // owner of the socket file
    pub gid: Option<u32>,        // group of the socket file
}

/// One environment edit, applied in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvEdit {
    Set(String, String),      // `setenv NAME VALUE`
    Preset(String, String),   // `presetenv NAME VALUE`: only when NAME is not set yet
    Unset(Vec<String>),       // `unsetenv NAME...`
    ResetExcept(Vec<String>), // `resetenv [NAME...]`: everything else removed
}

/// The process-wide accept rate limits of `global` (HAProxy's `cps_lim`,
/// `sps_lim`, `ssl_lim`); the runtime's copy changes with `set rate-limit`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimits {
    pub conn: u32, // `maxconnrate`: new connections per second, process-wide (0: none)
    pub sess: u32, // `maxsessrate`: new sessions per second, process-wide (0: none)
    pub ssl: u32,  // `maxsslrate`: new connections on `ssl` binds per second, process-wide (0: none)
}

/// `tune.*` values strata obeys (the others are warned about at parse).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tune {
    pub maxpollevents: usize,       // events taken per poll (default 1024)
    pub http_logurilen: usize,      // `%r` in logs is cut at this length (default 1024)
    pub rcvbuf_client: Option<u32>, // SO_RCVBUF of client sockets
    pub rcvbuf_server: Option<u32>, // SO_RCVBUF of server sockets
    pub sndbuf_client: Option<u32>, // SO_SNDBUF of client sockets
    pub sndbuf_server: Option<u32>, // SO_SNDBUF of server sockets
    pub comp_maxlevel: u32, // `tune.comp.maxlevel`: the deflate level of compressed responses (1-9, default 1)
}

impl Default for Tune {
    fn default() -> Tune {
        Tune {
            maxpollevents: 1024,
            http_logurilen: 1024,
            rcvbuf_client: None,
            rcvbuf_server: None,
            sndbuf_client: None,
            sndbuf_server: None,
            comp_maxlevel: 1, // HAProxy's default: the fastest level
        }
    }
}
