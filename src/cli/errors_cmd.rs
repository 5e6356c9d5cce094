//! `show errors [<px>] [request|response]`: the last invalid request of
//! each frontend and the last invalid response of each backend, in
//! HAProxy 2.6's layout (`l7_http::capture` keeps them). HAProxy's H1
//! parser flag lines are left out: strata's parser has no such state.

use super::commands::CliData;
use crate::cfg::AccessLevel;
use crate::core::date::Civil;
use crate::l7_http::capture::Capture;
use std::fmt::Write;

/// The capture dumped as HAProxy does: offset, then the bytes with
/// `\r`, `\n`, `\t`, `\\` and `\xHH` escapes, one line per received line.
fn dump(s: &mut String, bytes: &[u8]) {
    let mut at = 0;
    while at < bytes.len() {
        let _ = write!(s, "  {at:05}  ");
        while at < bytes.len() {
            let b = bytes[at];
            at += 1;
            match b {
                b'\r' => s.push_str("\\r"),
                b'\n' => s.push_str("\\n"),
                b'\t' => s.push_str("\\t"),
                b'\\' => s.push_str("\\\\"),
                0x20..=0x7e => s.push(b as char),
                _ => {
                    let _ = write!(s, "\\x{b:02x}");
                }
            }
            if b == b'\n' {
                break;
            }
        }
        s.push('\n');
    }
}

/// `show errors`
pub fn show_errors(words: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    let cfg = data.config();
    // As HAProxy: the first word is the proxy (`-1`: all), the second the side.
    let only_px = match words.get(2).copied() {
        None | Some("-1") => None,
        Some(name) => {
            let by_id = |p: &crate::cfg::Proxy| {
                name.strip_prefix('#').unwrap_or(name).parse::<u32>().ok() == Some(p.id)
            };
            match cfg.proxies.iter().position(|p| p.name == name || by_id(p)) {
                Some(i) => Some(i),
                None => return super::severity::err(out, b"No such proxy.\n\n"),
            }
        }
    };
    let (want_req, want_res) = match words.get(3).copied() {
        Some("request") => (true, false),
        Some("response") => (false, true),
        _ => (true, true),
    };
    let log = data.errors();
    let now = Civil::from_system(std::time::SystemTime::now()).log_date();
    let mut s = format!("Total events captured on [{now}] : {}\n", log.total);
    let name = |i: Option<usize>| {
        i.and_then(|i| cfg.proxies.get(i))
            .map_or_else(|| ("<NONE>".to_owned(), -1), |p| (p.name.clone(), i64::from(p.id)))
    };
    let server = |c: &Capture| {
        let be = if c.backend.is_some() { c.backend } else { Some(c.proxy) };
        match (be.and_then(|b| cfg.proxies.get(b)), c.server) {
            (Some(p), Some(si)) => p
                .servers
                .get(si)
                .map_or_else(|| ("<NONE>".to_owned(), -1), |sv| (sv.name.clone(), i64::from(sv.id))),
            _ => ("<NONE>".to_owned(), -1),
        }
    };
    for i in 0..cfg.proxies.len() {
        if only_px.is_some_and(|p| p != i) {
            continue;
        }
        let kinds = [(true, want_req, log.requests.get(i)), (false, want_res, log.responses.get(i))];
        for (request, wanted, slot) in kinds {
            let Some(Some(c)) = slot.filter(|_| wanted) else { continue };
            let (px, px_id) = name(Some(c.proxy));
            let (sv, sv_id) = server(c);
            let when = Civil::from_system(c.when).log_date();
            s.push_str(" \n");
            if request {
                let (be, be_id) = name(c.backend);
                let _ = writeln!(s, "[{when}] frontend {px} (#{px_id}): invalid request");
                let _ = writeln!(
                    s,
                    "  backend {be} (#{be_id}), server {sv} (#{sv_id}), event #{}, src {}",
                    c.event, c.src
                );
            } else {
                let _ = writeln!(s, "[{when}] backend {px} (#{px_id}): invalid response");
                let _ = writeln!(
                    s,
                    "  frontend <NONE> (#-1), server {sv} (#{sv_id}), event #{}, src {}",
                    c.event, c.src
                );
            }
            let size = data.config().global.tune_bufsize;
            let _ = writeln!(
                s,
                "  buffer starts at 0 (including 0 out), {} free,",
                size.saturating_sub(c.bytes.len())
            );
            let _ = writeln!(s, "  len {}, wraps at {size}, error at position {}", c.bytes.len(), c.error_at);
            s.push_str("  \n");
            dump(&mut s, &c.bytes);
        }
    }
    s.push('\n');
    out.extend_from_slice(s.as_bytes());
}
