//! The local peer name: `-L NAME` on the command line, else the
//! `localpeer` global keyword, else the host name (HAProxy's order). The
//! command line sets it before the configuration is read.

use std::sync::OnceLock;

static CMDLINE: OnceLock<String> = OnceLock::new();

/// `-L NAME`: called once by `main` before loading the configuration.
pub fn set_cmdline(name: &str) {
    let _ = CMDLINE.set(name.to_owned());
}

/// The name given with `-L`, if any.
pub fn cmdline() -> Option<&'static str> {
    CMDLINE.get().map(String::as_str)
}

/// The host name, as HAProxy takes it for the default local peer name.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}
