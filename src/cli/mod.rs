//! The stats port: HAProxy's runtime API (`stats socket`), byte-compatible
//! with HAProxy 2.6 so operators' tools work unchanged.
//!
//! - [`conversation`]: line framing, `;`-separated commands, `prompt`
//!   interactive mode, `quit`, the bounded line length.
//! - [`commands`]: the command table (usage, description, level), `help`,
//!   the "maybe one of the following" answer, dispatch.
//! - [`severity`]: message answers (`cli_msg`/`cli_err`) and their
//!   `severity-output` prefix.
//! - `modes`: `user`, `operator`, `expert-mode`, `experimental-mode` and
//!   the expert `debug dev loop|delay`.
//! - [`info`]: `show info`.
//! - `table_cmds`: `show|set|clear table` (levels, framing) over `stick::dump`.
//! - [`stat`]: the `show stat` CSV; `server_cmds`: server, weight, maxconn
//!   and counter commands; `sess_cmds`: `show sess [all|tree]`,
//!   `debug counters check`.
//!
//! The module computes answers only; the runtime owns the sockets and
//! provides the process's data through [`CliData`].

pub mod commands;
pub mod conversation;
mod dyn_server_cmds;
mod errors_cmd;
mod events_cmd;
pub mod fields;
pub mod format;
pub mod info;
mod modes;
pub mod process_cmds;
pub mod server_cmds;
pub mod sess_cmds;
pub mod severity;
mod ssl_cmds;
pub mod stat;
pub mod suggest;
mod table_cmds;
mod vars_cmd;

pub use commands::CliData;
pub use conversation::{Conversation, Flow};
pub use info::ProcessInfo;
