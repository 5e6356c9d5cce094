//! Backend selection: a frontend's `use_backend` rules in order, then its
//! `default_backend`.

use super::rules::ProxyRules;
use crate::acl::SampleSource;
use crate::cfg::Proxy;

/// The backend (index in `Config::proxies`) a new stream of `frontend`
/// goes to, or None when no rule matches and there is no default.
pub fn select_backend(frontend: &Proxy, rules: &ProxyRules, sample: &dyn SampleSource) -> Option<usize> {
    rules
        .routes
        .iter()
        .find(|r| r.cond.as_ref().is_none_or(|c| c.eval(sample)))
        .map(|r| r.backend)
        .or_else(|| frontend.default_backend.as_ref().map(|d| d.index))
}
