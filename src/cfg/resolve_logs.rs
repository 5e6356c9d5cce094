//! The log settings' checks once the whole configuration is known, as
//! HAProxy 2.6 makes them: formats mean nothing in backends (dropped),
//! `option httplog` in a TCP frontend falls back to `option tcplog`, and a
//! frontend with a format but no `log` target is warned about.

use super::diag::{Diag, Diagnostics};
use super::knobs::LogFormatKind;
use super::model::{Config, Mode};

/// Applies the checks to every proxy of `cfg`.
pub fn check(cfg: &mut Config, diags: &mut Diagnostics) {
    for p in &mut cfg.proxies {
        let k = &mut p.knobs;
        if !p.cap.frontend {
            k.log_format = None;
            k.log_format_sd = None;
            k.error_log_format = None;
            continue;
        }
        let kind = match (p.cap.backend, p.cap.frontend) {
            (true, true) => "proxy",
            _ => "frontend",
        };
        if p.mode != Mode::Http
            && let Some(f) = k.log_format.as_mut()
            && matches!(f.kind, LogFormatKind::Http | LogFormatKind::HttpClf)
        {
            diags.push(Diag::warning(
                &f.loc,
                format!(
                    "'option httplog' not usable with {kind} '{}' (needs 'mode http'). Falling back to \
                     'option tcplog'.",
                    p.name
                ),
            ));
            f.kind = LogFormatKind::Tcp;
        }
        if p.logs.is_empty() && (k.log_format.is_some() || k.log_format_sd.is_some()) {
            diags.push(Diag::warning_global(format!(
                "log format ignored for {kind} '{}' since it has no log address.",
                p.name
            )));
        }
    }
}
