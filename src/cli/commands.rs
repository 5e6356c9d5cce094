//! The runtime API commands strata implements, their access levels, and
//! HAProxy's `help` / unknown-command answers.

use super::info::ProcessInfo;
use super::modes::{self, SessionMode};
use super::stat::StatLine;
use super::{
    dyn_server_cmds, errors_cmd, events_cmd, process_cmds, server_cmds, sess_cmds, ssl_cmds, table_cmds,
    vars_cmd,
};
use crate::backend::Backends;
use crate::cfg::{AccessLevel, Config};
use crate::stick::Registry;

/// Which process-wide rate `set rate-limit` changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateLimit {
    Connections, // `maxconnrate`
    Sessions,    // `maxsessrate`
    SslSessions, // `maxsslrate`
}

/// What commands read from (and later change in) the running process.
/// Implemented by the runtime.
pub trait CliData {
    /// The values `show info` prints.
    fn process_info(&self) -> ProcessInfo;
    /// The stick tables, for `show|set|clear table`.
    fn tables(&self) -> &Registry;
    /// The tables' clock (milliseconds since start), for expiry and rates.
    fn now_ms(&self) -> u64;
    /// The running configuration.
    fn config(&self) -> &Config;
    /// Server states, for the server commands.
    fn backends_mut(&mut self) -> &mut Backends;
    /// The lines of `show stat`.
    fn stat_lines(&self) -> Vec<StatLine>;
    /// `clear counters [all]`.
    fn clear_counters(&mut self, all: bool);
    /// `set maxconn global N` (`None`) or `set maxconn frontend FE N`;
    /// 0 restores the value the process started with.
    fn set_maxconn(&mut self, frontend: Option<usize>, n: u32);
    /// `set rate-limit connections|sessions|ssl-sessions global N` (0: none).
    fn set_rate_limit(&mut self, which: RateLimit, n: u32);
    /// Calls `f` with every live session, in accept order.
    fn for_each_session(&self, f: &mut dyn FnMut(&crate::l5_session::Session));
    /// The worker's current time (ages in `show sess`).
    fn now(&self) -> std::time::Instant;
    /// `show peers [dict|-] [section]` (the words after `show peers`);
    /// `Err`: the error line. A process without peers sections prints nothing.
    fn show_peers(&self, _args: &[&str]) -> Result<String, &'static str> {
        Ok(String::new())
    }
    /// `show resolvers [id]`: every section's name servers and counters.
    fn show_resolvers(&self, _section: Option<&str>) -> Result<String, &'static str> {
        Ok("No resolvers found\n".into())
    }
    /// The certificates loaded for `ssl` binds and servers (`show ssl cert`).
    fn ssl_certs(&self) -> &[crate::l4_conn::tls::certs::CertInfo] {
        &[]
    }
    /// Idle connections kept for server `server` of backend `backend`
    /// (`del server` refuses while there are some).
    fn idle_conns(&self, backend: usize, server: usize) -> usize;
    /// Closes the idle connections of that server (it went into maintenance).
    fn close_idle(&mut self, backend: usize, server: usize);
    /// Sends a server state change line to backend `proxy`'s log targets
    /// and stderr (`disable server` and the like, as HAProxy logs them).
    fn server_event(&self, proxy: usize, line: &crate::backend::admin_log::AdminLog) {
        let _ = (proxy, line);
    }
    /// The listening sockets `_getsocks` hands to a new process (`-x`).
    fn listener_fds(&self) -> Vec<i32> {
        Vec::new()
    }
    fn errors(&self) -> &crate::l7_http::capture::ErrorLog;
    /// The `cache` sections, for `show cache`.
    fn caches(&self) -> Option<&crate::l7_http::cache::Caches> {
        None
    }
}

/// `show cache`: each cache and its fresh entries, in HAProxy's layout.
fn show_cache(_: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    let Some(caches) = data.caches() else { return };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut text = String::new();
    for c in caches.iter() {
        c.dump(now, &mut text);
    }
    out.extend_from_slice(text.as_bytes());
}

/// One command: the words it starts with, its help line, the level needed.
struct Command {
    words: &'static [&'static str],
    usage: &'static str,
    desc: &'static str,
    level: AccessLevel,
    run: fn(&[&str], AccessLevel, &mut dyn CliData, &mut Vec<u8>),
}

/// Implemented commands, in `help` order (alphabetical, as HAProxy).
const COMMANDS: &[Command] = &[
    Command {
        words: &["add", "server"],
        usage: "add server <bk>/<srv>",
        desc: "create a new server",
        level: AccessLevel::Admin,
        run: dyn_server_cmds::add_server,
    },
    Command {
        words: &["clear", "counters"],
        usage: "clear counters [all]",
        desc: "clear max statistics counters (or all counters)",
        level: AccessLevel::Operator,
        run: server_cmds::clear_counters,
    },
    Command {
        words: &["clear", "table"],
        usage: "clear table <table> [<filter>]*",
        desc: "remove an entry from a table (filter: data/key)",
        level: AccessLevel::Operator,
        run: table_cmds::clear,
    },
    Command {
        words: &["debug", "counters", "check"],
        usage: "debug counters check",
        desc: "compare every stick-table entry's use/conn_cur with the live trackers",
        level: AccessLevel::Operator,
        run: sess_cmds::debug_counters_check,
    },
    Command {
        words: &["del", "server"],
        usage: "del server <bk>/<srv>",
        desc: "remove a dynamically added server",
        level: AccessLevel::Admin,
        run: dyn_server_cmds::del_server,
    },
    Command {
        words: &["disable", "health"],
        usage: "disable health",
        desc: "disable health checks",
        level: AccessLevel::Admin,
        run: dyn_server_cmds::disable_health,
    },
    Command {
        words: &["disable", "server"],
        usage: "disable server (DEPRECATED)",
        desc: "disable a server for maintenance (use 'set server' instead)",
        level: AccessLevel::Admin,
        run: server_cmds::disable_server,
    },
    Command {
        words: &["enable", "health"],
        usage: "enable health",
        desc: "enable health checks",
        level: AccessLevel::Admin,
        run: dyn_server_cmds::enable_health,
    },
    Command {
        words: &["enable", "server"],
        usage: "enable server  (DEPRECATED)",
        desc: "enable a disabled server (use 'set server' instead)",
        level: AccessLevel::Admin,
        run: server_cmds::enable_server,
    },
    Command {
        words: &["get", "var"],
        usage: "get var <name>",
        desc: "retrieve contents of a process-wide variable",
        level: AccessLevel::Operator,
        run: vars_cmd::get,
    },
    Command {
        words: &["get", "weight"],
        usage: "get weight <bk>/<srv>",
        desc: "report a server's current weight",
        level: AccessLevel::User,
        run: server_cmds::get_weight,
    },
    Command {
        words: &["set", "maxconn", "frontend"],
        usage: "set maxconn frontend <frontend> <value>",
        desc: "change a frontend's maxconn setting",
        level: AccessLevel::Admin,
        run: server_cmds::set_maxconn_frontend,
    },
    Command {
        words: &["set", "maxconn", "global"],
        usage: "set maxconn global <value>",
        desc: "change the per-process maxconn setting",
        level: AccessLevel::Admin,
        run: server_cmds::set_maxconn_global,
    },
    Command {
        words: &["set", "rate-limit"],
        usage: "set rate-limit <setting> <value>",
        desc: "change a rate limiting value",
        level: AccessLevel::Admin,
        run: server_cmds::set_rate_limit,
    },
    Command {
        words: &["set", "server"],
        usage: "set server <bk>/<srv> [opts]",
        desc: "change a server's state, weight, address or ssl",
        level: AccessLevel::Admin,
        run: server_cmds::set_server,
    },
    Command {
        words: &["set", "table"],
        usage: "set table <table> key <k> [data.* <v>]*",
        desc: "update or create a table entry's data",
        level: AccessLevel::Operator,
        run: table_cmds::set,
    },
    Command {
        words: &["set", "weight"],
        usage: "set weight <bk>/<srv>  (DEPRECATED)",
        desc: "change a server's weight (use 'set server' instead)",
        level: AccessLevel::Admin,
        run: server_cmds::set_weight,
    },
    Command {
        words: &["show", "activity"],
        usage: "show activity",
        desc: "show per-thread activity stats (for support/developers)",
        level: AccessLevel::User,
        run: process_cmds::show_activity,
    },
    Command {
        words: &["show", "env"],
        usage: "show env [var]",
        desc: "dump environment variables known to the process",
        level: AccessLevel::Operator,
        run: process_cmds::show_env,
    },
    Command {
        words: &["show", "errors"],
        usage: "show errors [<px>] [request|response]",
        desc: "report last request and/or response errors for each proxy",
        level: AccessLevel::Operator,
        run: errors_cmd::show_errors,
    },
    Command {
        words: &["show", "events"],
        usage: "show events [<sink>] [-w] [-n]",
        desc: "show event sink state",
        level: AccessLevel::User,
        run: events_cmd::show_events,
    },
    Command {
        words: &["show", "info"],
        usage: "show info [desc|json|typed|float]*",
        desc: "report information about the running process",
        level: AccessLevel::User,
        run: process_cmds::show_info,
    },
    Command {
        words: &["show", "peers"],
        usage: "show peers [dict|-] [section]",
        desc: "dump some information about all the peers or this peers section",
        level: AccessLevel::User,
        run: |words, _, data, out| match data.show_peers(&words[2..]) {
            Ok(text) => {
                out.extend_from_slice(text.as_bytes());
                out.push(b'\n');
            }
            Err(e) => {
                super::severity::err(out, e.as_bytes());
                out.extend_from_slice(b"\n\n");
            }
        },
    },
    Command {
        words: &["show", "resolvers"],
        usage: "show resolvers [id]",
        desc: "dumps counters from all resolvers section and associated name servers",
        level: AccessLevel::User,
        run: |words, _, data, out| match data.show_resolvers(words.get(2).copied()) {
            Ok(text) => {
                out.extend_from_slice(text.as_bytes());
                out.push(b'\n');
            }
            Err(e) => {
                super::severity::err(out, e.as_bytes());
                out.extend_from_slice(b"\n\n");
            }
        },
    },
    Command {
        words: &["show", "pools"],
        usage: "show pools",
        desc: "report information about the memory pools usage",
        level: AccessLevel::User,
        run: process_cmds::show_pools,
    },
    Command {
        words: &["show", "schema", "json"],
        usage: "show schema json",
        desc: "report schema used for stats",
        level: AccessLevel::User,
        run: process_cmds::show_schema,
    },
    Command {
        words: &["show", "servers", "state"],
        usage: "show servers state [<backend>]",
        desc: "dump volatile server information (all or for a single backend)",
        level: AccessLevel::User,
        run: server_cmds::show_servers_state,
    },
    Command {
        words: &["show", "sess"],
        usage: "show sess [all]",
        desc: "report the list of current streams (all: in detail)",
        level: AccessLevel::Operator,
        run: sess_cmds::show_sess,
    },
    Command {
        words: &["show", "sess", "tree"],
        usage: "show sess tree",
        desc: "list sessions with their streams and the stick-table entries each holds",
        level: AccessLevel::Operator,
        run: sess_cmds::show_sess_tree,
    },
    Command {
        words: &["show", "cache"],
        usage: "show cache",
        desc: "show cache status",
        level: AccessLevel::Admin,
        run: show_cache,
    },
    Command {
        words: &["show", "ssl", "cert"],
        usage: "show ssl cert [<certfile>]",
        desc: "display the SSL certificates used in memory, or the details of a file",
        level: AccessLevel::Operator,
        run: ssl_cmds::show_ssl_cert,
    },
    Command {
        words: &["show", "stat"],
        usage: "show stat [desc|json|no-maint|typed|up]*",
        desc: "report counters for each proxy and server",
        level: AccessLevel::User,
        run: server_cmds::show_stat,
    },
    Command {
        words: &["show", "table"],
        usage: "show table <table> [<filter>]*",
        desc: "report table usage stats or dump this table's contents (filter: data/key)",
        level: AccessLevel::User,
        run: table_cmds::show,
    },
    Command {
        words: &["show", "version"],
        usage: "show version",
        desc: "show version of the current process",
        level: AccessLevel::User,
        run: |_, _, _, out| super::severity::info(out, concat!(env!("CARGO_PKG_VERSION"), "\n\n").as_bytes()),
    },
];

/// The three lines HAProxy appends to every command list.
pub const TRAILER: &str = "  help [<command>]                        : list matching or all commands\n  prompt                                  : toggle interactive mode with prompt\n  quit                                    : disconnect\n";

fn help_line(c: &Command) -> String {
    format!("  {:<40}: {}\n", c.usage, c.desc)
}

/// Runs one command (its words), appending the reply to `out`.
/// Message answers come without a severity prefix.
pub fn execute(words: &[&str], level: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    let start = out.len();
    execute_in(words, &SessionMode { level, expert: false, experimental: false }, data, out);
    super::severity::render(out, start, crate::cfg::SeverityOutput::None);
}

/// [`execute`] for a conversation in `mode`: `help` also lists the
/// conversation's own commands (`super::modes`), the expert ones only in
/// expert mode, each in its alphabetical place.
pub(super) fn execute_in(words: &[&str], mode: &SessionMode, data: &mut dyn CliData, out: &mut Vec<u8>) {
    let level = mode.level;
    if words.first() == Some(&"help") {
        super::severity::info(out, b"The following commands are valid at this level:\n");
        let mut extra =
            modes::HELP.iter().filter(|(_, _, expert_only)| mode.expert || !expert_only).peekable();
        for c in COMMANDS {
            while let Some((usage, desc, _)) = extra.next_if(|(usage, _, _)| *usage < c.usage) {
                out.extend_from_slice(format!("  {usage:<40}: {desc}\n").as_bytes());
            }
            out.extend_from_slice(help_line(c).as_bytes());
        }
        for (usage, desc, _) in extra {
            out.extend_from_slice(format!("  {usage:<40}: {desc}\n").as_bytes());
        }
        out.extend_from_slice(TRAILER.as_bytes());
        out.push(b'\n');
        return;
    }
    // The most specific command wins (`show sess tree` over `show sess`).
    let found = COMMANDS
        .iter()
        .filter(|c| words.len() >= c.words.len() && words[..c.words.len()] == *c.words)
        .max_by_key(|c| c.words.len());
    match found {
        Some(c) if level < c.level => super::severity::err(out, b"Permission denied\n\n"),
        Some(c) => (c.run)(words, level, data, out),
        None => unknown(words, out),
    }
}

/// HAProxy's answer to an unknown command (see [`super::suggest`]).
fn unknown(words: &[&str], out: &mut Vec<u8>) {
    let all: Vec<&[&str]> = COMMANDS.iter().map(|c| c.words).collect();
    let (empty, listed) = super::suggest::suggest(&all, words);
    super::severity::info(
        out,
        if empty {
            b"Unknown command. Please enter one of the following commands only:\n".as_slice()
        } else {
            b"Unknown command, but maybe one of the following ones is a better match:\n".as_slice()
        },
    );
    for i in listed {
        out.extend_from_slice(help_line(&COMMANDS[i]).as_bytes());
    }
    out.extend_from_slice(TRAILER.as_bytes());
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake(Registry, Config, Backends);
    impl CliData for Fake {
        fn config(&self) -> &Config {
            &self.1
        }
        fn backends_mut(&mut self) -> &mut Backends {
            &mut self.2
        }
        fn stat_lines(&self) -> Vec<StatLine> {
            Vec::new()
        }
        fn clear_counters(&mut self, _: bool) {}
        fn set_maxconn(&mut self, _: Option<usize>, _: u32) {}
        fn set_rate_limit(&mut self, _: RateLimit, _: u32) {}
        fn for_each_session(&self, _: &mut dyn FnMut(&crate::l5_session::Session)) {}
        fn errors(&self) -> &crate::l7_http::capture::ErrorLog {
            static EMPTY: std::sync::OnceLock<crate::l7_http::capture::ErrorLog> = std::sync::OnceLock::new();
            EMPTY.get_or_init(Default::default)
        }
        fn now(&self) -> std::time::Instant {
            std::time::Instant::now()
        }
        fn process_info(&self) -> ProcessInfo {
            ProcessInfo::default()
        }
        fn tables(&self) -> &Registry {
            &self.0
        }
        fn now_ms(&self) -> u64 {
            0
        }
        fn idle_conns(&self, _: usize, _: usize) -> usize {
            0
        }
        fn close_idle(&mut self, _: usize, _: usize) {}
    }

    fn run(line: &[&str], level: AccessLevel) -> String {
        let mut out = Vec::new();
        let cfg = Config::default();
        let backends = Backends::new(&cfg);
        execute(line, level, &mut Fake(Registry::default(), cfg, backends), &mut out);
        String::from_utf8(crate::cli::severity::plain(&out)).expect("utf8")
    }

    #[test]
    fn help_and_unknown_follow_haproxy_layout() {
        let help = run(&["help"], AccessLevel::User);
        assert!(help.starts_with("The following commands are valid at this level:\n"));
        assert!(help.contains(
            "  show info [desc|json|typed|float]*      : report information about the running process\n"
        ));
        assert!(help.ends_with("  quit                                    : disconnect\n\n"));
        let typo = run(&["show", "infp"], AccessLevel::User);
        assert!(
            typo.starts_with("Unknown command, but maybe one of the following ones is a better match:\n")
        );
        assert!(typo.contains("  show info [desc|json|typed|float]*"), "{typo}");
        let table = run(&["show", "tabel"], AccessLevel::User);
        assert!(table.contains("  show table <table> [<filter>]*"), "{table}");
        // As HAProxy: only an empty line gets the full list; any word gets candidates.
        let empty = run(&[], AccessLevel::User);
        assert!(empty.starts_with("Unknown command. Please enter one of the following commands only:\n"));
        let xyzzy = run(&["xyzzy"], AccessLevel::User);
        assert!(
            xyzzy.starts_with("Unknown command, but maybe one of the following ones is a better match:\n")
        );
    }
}
