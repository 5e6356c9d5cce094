//! Keywords HAProxy 2.6 knows that strata does not obey (yet), so that a
//! configuration using one is answered with what is true about it instead
//! of "unknown keyword": refused as not supported yet, refused because
//! strata has no Lua engine or no SPOE, or accepted with a warning where
//! the keyword has no meaning for strata.
//!
//! Only the fallbacks of `global` and proxy sections consult these lists:
//! a keyword implemented anywhere is matched before.

/// What strata says about a keyword HAProxy knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Known {
    NotYet,               // refused: strata does not support it yet
    Lua,                  // refused: strata has no Lua engine
    Warned(&'static str), // accepted, no effect; the text says why
}

/// `global` keywords that strata does not implement, with HAProxy 2.6's
/// names (build-dependent ones such as 51Degrees included).
const GLOBAL_NOT_YET: &[&str] = &[
    "51degrees-cache-size",
    "51degrees-data-file",
    "51degrees-property-name-list",
    "51degrees-property-separator",
    "deviceatlas-json-file",
    "deviceatlas-log-level",
    "deviceatlas-properties-cookie",
    "deviceatlas-separator",
    "external-check",
    "h1-case-adjust",
    "h1-case-adjust-file",
    "issuers-chain-path",
    "maxsslconn",
    "ssl-default-bind-curves",
    "ssl-engine",
    "ssl-skip-self-issued-ca",
    "wurfl-cache-size",
    "wurfl-data-file",
    "wurfl-information-list",
    "wurfl-information-list-separator",
];

/// `global` keywords that mean nothing for strata.
const GLOBAL_WARNED: &[(&str, &str)] = &[
    ("busy-polling", "strata always sleeps in its poller"),
    ("insecure-fork-wanted", "strata never forks after start-up"),
    ("insecure-setuid-wanted", "strata never runs setuid programs"),
    ("mworker-max-reloads", "strata has no master-worker mode yet"),
    ("no-memory-trimming", "strata has no memory trimming"),
    ("noepoll", "epoll is strata's only poller"),
    ("noevports", "strata runs on Linux only"),
    ("nogetaddrinfo", "strata resolves names with the system resolver"),
    ("nokqueue", "strata runs on Linux only"),
    ("nopoll", "epoll is strata's only poller"),
    ("numa-cpu-mapping", "strata reads no NUMA topology (use cpu-map)"),
    ("profiling.tasks", "strata has no task profiler"),
];

/// What is true of `global` keyword `kw`, if HAProxy knows it.
pub(super) fn global(kw: &str) -> Option<Known> {
    if matches!(kw, "lua-load" | "lua-load-per-thread" | "lua-prepend-path") {
        return Some(Known::Lua);
    }
    if GLOBAL_NOT_YET.contains(&kw) {
        return Some(Known::NotYet);
    }
    GLOBAL_WARNED.iter().find(|(k, _)| *k == kw).map(|(_, why)| Known::Warned(why))
}

/// Proxy-section keywords HAProxy 2.6 knows (its keyword matrix) that
/// strata does not implement yet.
const PROXY_NOT_YET: &[&str] = &["external-check", "use-fcgi-app"];

/// Options HAProxy 2.6 knows that strata does not implement yet.
pub(super) const OPTIONS_NOT_YET: &[&str] =
    &["h1-case-adjust-bogus-client", "h1-case-adjust-bogus-server", "http-use-proxy-header", "httpslog"];

/// What is true of proxy keyword `kw`, if HAProxy knows it.
pub(super) fn proxy(kw: &str) -> Option<Known> {
    PROXY_NOT_YET.contains(&kw).then_some(Known::NotYet)
}

/// The refusal of a rule or filter that needs Lua or SPOE, if `words`
/// (a whole line) is one.
pub(super) fn lua_or_spoe(words: &[String]) -> Option<String> {
    let kw = words[0].as_str();
    let action = words.get(1).map_or("", String::as_str);
    let uses_lua = |w: &str| w.starts_with("lua.");
    match kw {
        "filter" if action == "spoe" => Some(
            "'filter spoe' : strata has no SPOE (stream processing offload engine); not supported.".into(),
        ),
        "http-request" | "http-response" | "http-after-response" | "tcp-request" | "tcp-response" => {
            // `http-request lua.x`, `tcp-request content lua.x`, `... use-service lua.x`.
            let lua = words[1..].iter().take(3).find(|w| uses_lua(w))?;
            Some(format!("'{kw} {lua}' : strata has no Lua engine; Lua actions are not supported."))
        }
        _ => None,
    }
}

/// The refusal text of `kw` for `known`.
pub(super) fn refusal(kw: &str, known: Known) -> Option<String> {
    match known {
        Known::NotYet => Some(format!("'{kw}' is not supported by strata yet.")),
        Known::Lua => Some(format!("'{kw}' : strata has no Lua engine; Lua is not supported.")),
        Known::Warned(_) => None,
    }
}

/// Bind options HAProxy 2.6 knows that strata does not implement yet.
const BIND_NOT_YET: &[&str] = &["accept-netscaler-cip", "mss", "quic-cc-algo", "quic-force-retry", "tcp-ut"];

/// Whether HAProxy 2.6 knows bind option `opt` (and strata does not obey it).
pub(super) fn bind_option(opt: &str) -> bool {
    BIND_NOT_YET.contains(&opt)
}

#[cfg(test)]
#[path = "known_lists_tests.rs"]
mod lists_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn w(l: &str) -> Vec<String> {
        l.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn lua_and_spoe_lines() {
        assert!(lua_or_spoe(&w("filter spoe engine x config y")).is_some_and(|m| m.contains("no SPOE")));
        assert!(lua_or_spoe(&w("filter compression")).is_none());
        assert!(lua_or_spoe(&w("http-request lua.cors GET")).is_some_and(|m| m.contains("no Lua engine")));
        assert!(lua_or_spoe(&w("http-request use-service lua.acme")).is_some());
        assert!(lua_or_spoe(&w("tcp-request content lua.x")).is_some());
        assert!(lua_or_spoe(&w("http-request deny")).is_none());
        assert_eq!(global("lua-load"), Some(Known::Lua));
        assert_eq!(global("maxsslconn"), Some(Known::NotYet));
        assert!(matches!(global("noepoll"), Some(Known::Warned(_))));
        assert_eq!(global("nonsense"), None);
    }
}
