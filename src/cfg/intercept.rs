//! What a proxy answers itself before any server: `monitor-uri` with its
//! `monitor fail` conditions, and the proxy-level `redirect` rules.
//! Filled by `cfg/parser/intercept.rs`; compiled and run by
//! `l6_stream/intercept.rs`.

use super::model::{Cond, RuleLine};

/// The monitor URI and redirect rules of one proxy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Intercept {
    pub monitor_uri: Option<String>, // `monitor-uri URI` (inherited from defaults): answered 200 by the frontend
    pub monitor_fail: Vec<Cond>,     // `monitor fail if|unless COND`: any holding answers 503 instead
    pub redirects: Vec<RuleLine>, // `redirect ...` lines (words after `redirect`), after the http-request rules
}
