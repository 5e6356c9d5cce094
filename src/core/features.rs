//! What this build of strata really has, in HAProxy's vocabulary: the one
//! table `-vv` prints as its `Feature list`, `feature(NAME)` tests in
//! `.if`/`-cc`, and HAProxy's regression-test runner reads to skip what
//! strata does not claim.
//!
//! **Edit here** when a capability lands (TLS: `OPENSSL`; compression:
//! `SLZ`/`ZLIB`; the exporter: `PROMEX`; threads: `THREAD`...): flip its
//! `has` and say in `why` what provides it. A `+` that is not true is a
//! defect: the runner then runs tests strata cannot pass, and a
//! configuration's `.if feature(X)` takes a branch strata cannot serve.

/// One entry of the feature list: HAProxy's name and whether strata has it.
#[derive(Clone, Copy, Debug)]
pub struct Feature {
    pub name: &'static str, // HAProxy's USE_* name, without USE_
    pub has: bool,          // printed `+NAME` when true, `-NAME` otherwise
    pub why: &'static str,  // what provides it, or why strata lacks it
}

const fn f(name: &'static str, has: bool, why: &'static str) -> Feature {
    Feature { name, has, why }
}

/// HAProxy 2.6's feature names in its order (alphabetical), each with
/// strata's honest answer.
pub const FEATURES: &[Feature] = &[
    f("51DEGREES", false, "no device detection"),
    f("ACCEPT4", true, "mio accepts with accept4(2)"),
    f("BACKTRACE", false, "panics abort without a backtrace dump"),
    f("CLOSEFROM", false, "not used"),
    f("CPU_AFFINITY", true, "cpu-map pins threads with sched_setaffinity(2) (src/runtime/threads.rs)"),
    f("CRYPT_H", false, "no crypt(3) passwords"),
    f("DEVICEATLAS", false, "no device detection"),
    f("DL", false, "no dynamic loading"),
    f("ENGINE", false, "no OpenSSL engines"),
    f("EPOLL", true, "the only poller (mio on Linux)"),
    f("EVPORTS", false, "Solaris only"),
    f("GETADDRINFO", true, "host names resolve through the system resolver"),
    f("KQUEUE", false, "BSD only"),
    f("LIBCRYPT", false, "no crypt(3) passwords"),
    f("LINUX_SPLICE", true, "splice(2) forwarding, src/l4_conn/splice.rs"),
    f("LINUX_TPROXY", false, "no transparent proxying"),
    f("LUA", false, "no Lua engine"),
    f("MEMORY_PROFILING", false, "no memory profiler"),
    f("NETFILTER", false, "no original-destination lookup"),
    f("NS", false, "no network namespaces"),
    f("OBSOLETE_LINKER", false, "not a C build"),
    f(
        "OPENSSL",
        false,
        "TLS is rustls, not OpenSSL: the OpenSSL-specific tests (engines, OCSP, DH files, certificate hot-swap) stay skipped",
    ),
    f("OT", false, "no OpenTracing"),
    f("PCRE", false, "regexes use the regex crate, not PCRE"),
    f("PCRE2", false, "regexes use the regex crate, not PCRE2"),
    f("PCRE2_JIT", false, "no PCRE2"),
    f("PCRE_JIT", false, "no PCRE"),
    f("POLL", false, "epoll only"),
    f("PRCTL", false, "not used"),
    f("PROCCTL", false, "FreeBSD only"),
    f("PROMEX", false, "no Prometheus exporter yet"),
    f("QUIC", false, "no QUIC"),
    f("RT", false, "not a C build"),
    f("SLZ", false, "compression is zlib's (ZLIB), not libslz"),
    f("STATIC_PCRE", false, "no PCRE"),
    f("STATIC_PCRE2", false, "no PCRE2"),
    f("SYSTEMD", true, "-Ws sends READY=1 to $NOTIFY_SOCKET (src/runtime/startup.rs)"),
    f("TFO", false, "no TCP fast open"),
    f("THREAD", true, "nbthread N: one worker per thread (src/runtime/threads.rs)"),
    f("THREAD_DUMP", false, "no thread dumps"),
    f("TPROXY", false, "no transparent proxying"),
    f("WURFL", false, "no device detection"),
    f("ZLIB", true, "flate2 on zlib-rs, zlib's deflate in Rust (src/l7_http/compress.rs)"),
];

/// The `Feature list` line's value: `-51DEGREES +ACCEPT4 ...`.
pub fn feature_list() -> String {
    let words: Vec<String> =
        FEATURES.iter().map(|f| format!("{}{}", if f.has { '+' } else { '-' }, f.name)).collect();
    words.join(" ")
}

/// `feature(NAME)` as HAProxy evaluates it: true when the list holds
/// `+NAME` as a whole word.
pub fn has(name: &str) -> bool {
    FEATURES.iter().any(|f| f.has && f.name == name)
}

/// strata's version in HAProxy's numbering: the HAProxy release whose
/// behaviour it follows, then `-strata-` and the crate version
/// (`version_atleast()` compares the HAProxy part).
pub const VERSION: &str = concat!("2.6.12-strata-", env!("CARGO_PKG_VERSION"));

/// Date printed after the version (HAProxy's `haproxy_date`): when this
/// version's command line and feature list were last brought in line.
pub const DATE: &str = "2026/12/06";

/// Printed after the date: the behaviour reference strata follows (HAProxy
/// prints its own site here).
pub const URL: &str = "https://docs.haproxy.org/2.6/";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sorted_unique_and_listed() {
        for pair in FEATURES.windows(2) {
            assert!(pair[0].name < pair[1].name, "{} before {}", pair[0].name, pair[1].name);
        }
        let list = feature_list();
        assert!(list.starts_with("-51DEGREES +ACCEPT4 "));
        assert!(list.contains(" +EPOLL ") && list.contains(" -OPENSSL "));
        assert!(has("EPOLL") && !has("OPENSSL") && !has("EPOL") && !has("NOPE"));
    }
}
