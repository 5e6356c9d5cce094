//! Per-proxy keywords beyond routing, servers and rules: socket options
//! of each side, HTTP connection and logging options, and the proxy's own
//! identity and limits (`description`, `id`, `fullconn`...).
//!
//! Filled by the parser's `options` and `proxy_misc` modules (inherited
//! from `defaults` as a whole), read by the layers that obey each one.

use super::errorpages::{ErrorDirective, ErrorPage};
use super::listen::ConnOpts;

/// The settings of one proxy section kept in [`crate::cfg::Proxy::knobs`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Knobs {
    pub cli_sock: ConnOpts,               // frontend side: accepted connections
    pub srv_sock: ConnOpts,               // backend side: server connections
    pub description: Option<String>,      // `description` (not inherited)
    pub custom_id: Option<u32>,           // `id`: replaces the declaration-order id (not inherited)
    pub disabled: bool,                   // `disabled`: a frontend is not bound, a backend serves nothing
    pub dontlog_normal: bool,        // `option dontlog-normal`: only streams with an error are logged
    pub log_separate_errors: bool,   // `option log-separate-errors`: those are logged at level err
    pub error_lines: Vec<ErrorDirective>, // `errorfile`, `errorfiles`, `http-error`, in order (defaults' first)
    pub error_pages: Vec<ErrorPage>,      // what they come to, filled by `resolve`
}
