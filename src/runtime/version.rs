//! `-v` and `-vv`: HAProxy 2.6's version banner and build report, with
//! strata's own answers. HAProxy's regression-test runner reads the
//! `HAProxy version` line, `TARGET`, `Feature list` and `Available
//! services` from it to decide what to run, so the layout is HAProxy's
//! and every `+` is true (the list itself is `core::features`).

use crate::core::features;
use std::fmt::Write;

/// `-v`: the version banner (also printed above the usage text).
pub fn banner() -> String {
    let mut out = format!(
        "HAProxy version {} {} - {}\n\
         Status: strata, an HAProxy-compatible proxy written in Rust (not HAProxy itself).\n\
         Known bugs: see docs/configuration.md for what strata does not support yet.\n",
        features::VERSION,
        features::DATE,
        features::URL
    );
    if let Some(uname) = uname() {
        let _ = writeln!(out, "Running on: {uname}");
    }
    out
}

/// `-vv`: the banner, then the build report.
pub fn build_report() -> String {
    let mut out = banner();
    let _ = write!(
        out,
        "Build options :\n  \
           TARGET  = linux-glibc\n  \
           CPU     = generic\n  \
           CC      = rustc\n  \
           CFLAGS  = \n  \
           OPTIONS = \n  \
           DEBUG   = \n\n\
         Feature list : {}\n\n\
         Default settings :\n  \
           bufsize = 16384, maxrewrite = 1024, maxpollevents = 1024\n\n\
         Built with multi-threading support (MAX_THREADS=64, default=1).\n\
         Built with zlib-rs (through flate2) for compression.\n\
         Compression algorithms supported : identity(\"identity\"), deflate(\"deflate\"), raw-deflate(\"deflate\"), gzip(\"gzip\")\n\
         Built without OpenSSL support (TLS is rustls 0.23 with the aws-lc-rs provider).\n\
         Built without PCRE or PCRE2 support (using the Rust regex crate instead).\n\
         Built without Lua support.\n\n\
         Available polling systems :\n      \
               epoll : pref=300,  test result OK\n\
         Total: 1 (1 usable), will use epoll.\n\n\
         Available multiplexer protocols :\n\
         (protocols marked as <default> cannot be specified using 'proto' keyword)\n         \
                  h2 : mode=HTTP  side=FE|BE  mux=H2    flags=HTX|HOL_RISK|NO_UPG\n  \
           <default> : mode=HTTP  side=FE|BE  mux=H1    flags=HTX\n         \
                  h1 : mode=HTTP  side=FE|BE  mux=H1    flags=HTX|NO_UPG\n  \
           <default> : mode=TCP   side=FE|BE  mux=PASS  flags=\n       \
                none : mode=TCP   side=FE|BE  mux=PASS  flags=NO_UPG\n\n\
         Available services : none\n\n\
         Available filters :\n\
         \t[CACHE] cache\n\
         \t[COMP] compression\n\n",
        features::feature_list()
    );
    out
}

/// `uname -srvm` from /proc (no libc call needed): `Linux 6.1.0 #1 SMP x86_64`.
fn uname() -> Option<String> {
    let read = |f: &str| std::fs::read_to_string(format!("/proc/sys/kernel/{f}")).ok();
    let sys = read("ostype")?;
    let release = read("osrelease")?;
    let version = read("version")?;
    Some(format!("{} {} {} {}", sys.trim(), release.trim(), version.trim(), std::env::consts::ARCH))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What HAProxy's `run-regtests.sh` extracts: the lines matching
    /// `HA-?Proxy version|TARGET.*=|^Feature|^Available services`, cut
    /// after ` : ` or ` = `.
    fn runner_view(report: &str) -> Vec<String> {
        report
            .lines()
            .filter(|l| {
                l.contains("HAProxy version")
                    || (l.contains("TARGET") && l.contains('='))
                    || l.starts_with("Feature")
                    || l.starts_with("Available services")
            })
            .map(|l| match (l.rfind(" : "), l.rfind(" = ")) {
                (Some(a), Some(b)) => l[a.max(b) + 3..].to_owned(),
                (Some(a), None) | (None, Some(a)) => l[a + 3..].to_owned(),
                (None, None) => l.to_owned(),
            })
            .collect()
    }

    #[test]
    fn the_runner_reads_version_target_features_services() {
        let view = runner_view(&build_report());
        assert_eq!(view.len(), 4, "{view:?}");
        assert_eq!(view[0].split(' ').nth(2), Some(features::VERSION));
        assert_eq!(view[1], "linux-glibc");
        assert_eq!(view[2], features::feature_list());
        assert_eq!(view[3], "none");
    }
}
