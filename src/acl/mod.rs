//! ACL engine: sample fetches, matchers and rule conditions (HAProxy 2.6
//! semantics), independent of the layers that use it.
//!
//! - [`source`]: [`SampleSource`], what a fetch reads (implemented by the
//!   stream layer), and [`Sample`], what it yields (borrowed, no allocation).
//! - `keyword` / `fetch`: fetch names (`path`, `req.hdr`, `hdr_beg`...)
//!   parsed into a compiled fetch, and how each reads the source.
//! - `pattern`: `-m` methods, pattern parsing (integers, ranges, networks,
//!   regexes) and matching with HAProxy's casts.
//! - `expr`: one expression `FETCH [flags] PATTERNS`.
//! - `value` / `conv`: a fetch's converters (`,lower`, `,map(f)`) and the
//!   casts between sample types; `args` splits their argument lists;
//!   `scratch` lends them buffers.
//! - `fetch_ext`: variables, cookies, proxy state, time and auth fetches.
//! - `fetch_more`: `bin`/`bool` constants, `hdr_ip`, `capture.req.*`, `req.len`.
//! - `fetch_payload`: `req.payload`, `req.payload_lv` (bytes at an offset of the request buffer).
//! - [`vars`]: variable names, values and stores (`set-var`, `var()`).
//! - `cond`: named ACLs ([`AclSet`]) and [`Condition`]s compiled from
//!   [`cfg::Cond`](crate::cfg::Cond) with [`compile`].
//! - [`error`]: [`AclError`], worded as HAProxy's messages.
//!
//! The configuration loader calls [`AclSet::add`] for each `acl` line and
//! [`compile`] for each `if`/`unless`; rule engines call
//! [`Condition::eval`] per stream.

mod args;
mod cond;
mod conv;
pub mod error;
mod expr;
mod fetch;
mod fetch_ext;
mod fetch_more;
mod fetch_payload;
mod fetch_ssl;
mod keyword;
mod pattern;
pub mod pp_facts;
mod sample_expr;
mod scratch;
pub mod source;
mod text;
pub mod tls_facts;
pub mod tls_hello;
mod value;
mod var_action;
pub mod vars;

#[cfg(test)]
mod tests;

pub use cond::{AclSet, Condition, Tri, compile};
pub use error::{AclError, AclErrorKind};
pub(crate) use fetch_ext::random;
pub use fetch_ssl::{mark_incomplete, take_incomplete};
pub use sample_expr::SampleExpr;
pub use source::{ArgValue, HeaderVisitor, ProxyQuery, ReceivedRequest, Sample, SampleSource};
pub use value::{assign_var, remove_var, write_var};
pub use var_action::{VarAction, parse_var_action};
pub use vars::{Scope, VarName, VarTarget, VarValue, Vars, proc_vars};
