//! Backend selection: a frontend's `use_backend` rules, then its
//! `default_backend`.

use crate::cfg::Proxy;

/// The backend (index in `Config::proxies`) a new stream of `frontend`
/// goes to, or None when no rule matches and there is no default.
/// Rule conditions are evaluated by the ACL engine; until it exists the
/// configuration refuses conditions, so every rule here is unconditional.
pub fn select_backend(frontend: &Proxy) -> Option<usize> {
    frontend
        .use_backends
        .iter()
        .find(|rule| rule.cond.is_none())
        .map(|rule| rule.backend.index)
        .or_else(|| frontend.default_backend.as_ref().map(|d| d.index))
}
