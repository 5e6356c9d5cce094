//! Every entry of the "not supported yet" lists is really refused as such
//! when a configuration uses it: a keyword implemented elsewhere (matched
//! before the lists are consulted) must leave its list, or the list lies
//! about strata. Stale entries were found this way (`ca-base`, the
//! `ssl-default-*` family, `stats`, the TLS bind and server options).

use super::{BIND_NOT_YET, GLOBAL_NOT_YET, OPTIONS_NOT_YET, PROXY_NOT_YET};
use crate::cfg::diag::{Diagnostics, Severity};
use crate::cfg::parser::server_opts::{NOT_YET as SERVER_NOT_YET, PENDING};

/// The alerts of configuration `text`.
fn alerts(text: &str) -> Vec<String> {
    let mut diags = Diagnostics::default();
    crate::cfg::load_str(&[("t.cfg".to_string(), text.to_string())], &mut diags);
    diags.items.iter().filter(|d| d.severity == Severity::Alert).map(|d| d.msg.clone()).collect()
}

/// Asserts that `text`, using `kw`, is refused with "not supported by strata yet" naming `kw`.
fn refused(kw: &str, text: &str) {
    let a = alerts(text);
    let wanted = format!("'{kw}' is not supported by strata yet.");
    assert!(a.iter().any(|m| m.contains(&wanted)), "{kw}: not refused as not supported yet: {a:?}\n{text}");
}

const LISTEN: &str = "listen l\n mode http\n bind 127.0.0.1:12001\n";

#[test]
fn every_global_entry_is_refused() {
    for kw in GLOBAL_NOT_YET {
        refused(kw, &format!("global\n {kw} x\n"));
    }
}

#[test]
fn every_proxy_entry_is_refused() {
    for kw in PROXY_NOT_YET {
        refused(kw, &format!("{LISTEN} {kw} x\n"));
    }
}

#[test]
fn every_option_entry_is_refused() {
    for name in OPTIONS_NOT_YET {
        refused(&format!("option {name}"), &format!("{LISTEN} option {name}\n"));
    }
}

#[test]
fn every_bind_entry_is_refused() {
    for kw in BIND_NOT_YET {
        refused(kw, &format!("listen l\n mode http\n bind 127.0.0.1:12001 {kw} x\n"));
    }
}

#[test]
fn every_server_entry_is_refused() {
    let pending = PENDING.iter().map(|k| (*k, 0));
    for (kw, arity) in SERVER_NOT_YET.iter().copied().chain(pending) {
        let arg = if arity == 1 { " x" } else { "" };
        refused(kw, &format!("backend b\n server s 127.0.0.1:1 {kw}{arg}\n"));
        refused(kw, &format!("backend b\n default-server {kw}{arg}\n server s 127.0.0.1:1\n"));
    }
}
