//! `tune.*` in the `global` section: every knob HAProxy 2.6 documents.
//! Where strata has the knob it is obeyed; where it has none the line is
//! checked (its argument must be what HAProxy takes) and a warning says it
//! has no effect. `tune.ssl.*` belongs to the TLS work and is refused
//! until it lands.

use super::args::{Res, int, no_extra, time};
use crate::cfg::model::Global;

/// The argument a `tune.*` keyword takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Arg {
    Int,   // a positive integer
    Size,  // an integer with an optional k/m/g suffix
    Time,  // a time
    OnOff, // `on` or `off`
    Word,  // anything
}

/// Knobs strata has no use for, with why (shown in the warning).
const WARNED: &[(&str, Arg, &str)] = &[
    ("tune.buffers.limit", Arg::Int, "buffers come from a per-thread pool without limit"),
    ("tune.buffers.reserve", Arg::Int, "buffers come from a per-thread pool without reserve"),
    ("tune.fail-alloc", Arg::Int, "strata has no allocation fault injection"),
    ("tune.fd.edge-triggered", Arg::OnOff, "strata's poller is always edge-triggered"),
    (
        "tune.http.cookielen",
        Arg::Int,
        "strata keeps at most 63 bytes of a captured cookie, HAProxy's default",
    ),
    ("tune.http.maxhdr", Arg::Int, "strata's limit is fixed at 101 headers"),
    ("tune.idle-pool.shared", Arg::OnOff, "idle server connections are per thread"),
    ("tune.idletimer", Arg::Time, "strata decides splicing per transfer"),
    (
        "tune.listener.multi-queue",
        Arg::OnOff,
        "each thread accepts from its own SO_REUSEPORT socket, the kernel spreads the connections",
    ),
    ("tune.lua.forced-yield", Arg::Int, "strata has no Lua engine"),
    ("tune.lua.maxmem", Arg::Int, "strata has no Lua engine"),
    ("tune.lua.service-timeout", Arg::Time, "strata has no Lua engine"),
    ("tune.lua.session-timeout", Arg::Time, "strata has no Lua engine"),
    ("tune.lua.task-timeout", Arg::Time, "strata has no Lua engine"),
    ("tune.maxaccept", Arg::Word, "strata accepts until the listener's backlog is empty"),
    ("tune.maxrewrite", Arg::Int, "strata rewrites heads into a buffer of their own"),
    ("tune.pattern.cache-size", Arg::Int, "strata has no pattern cache"),
    (
        "tune.peers.max-updates-at-once",
        Arg::Int,
        "strata's peers write updates while the connection's 64 kB output has room",
    ),
    ("tune.pipesize", Arg::Size, "strata sizes its splice pipes itself"),
    (
        "tune.pool-high-fd-ratio",
        Arg::Int,
        "strata bounds its idle connection pools at HAProxy's default ratios",
    ),
    (
        "tune.pool-low-fd-ratio",
        Arg::Int,
        "strata bounds its idle connection pools at HAProxy's default ratios",
    ),
    ("tune.quic.frontend.conn-tx-buffers.limit", Arg::Int, "strata has no QUIC"),
    ("tune.quic.frontend.max-idle-timeout", Arg::Time, "strata has no QUIC"),
    ("tune.quic.frontend.max-streams-bidi", Arg::Int, "strata has no QUIC"),
    ("tune.quic.retry-threshold", Arg::Int, "strata has no QUIC"),
    ("tune.recv_enough", Arg::Int, "strata reads until the socket is drained"),
    ("tune.runqueue-depth", Arg::Int, "strata has no task run queue"),
    ("tune.sched.low-latency", Arg::OnOff, "strata has no task scheduler"),
    ("tune.vars.check-max-size", Arg::Size, "strata does not bound the memory of variables per scope"),
    ("tune.vars.global-max-size", Arg::Size, "strata does not bound the memory of variables per scope"),
    ("tune.vars.proc-max-size", Arg::Size, "strata does not bound the memory of variables per scope"),
    ("tune.vars.reqres-max-size", Arg::Size, "strata does not bound the memory of variables per scope"),
    ("tune.vars.sess-max-size", Arg::Size, "strata does not bound the memory of variables per scope"),
    ("tune.vars.txn-max-size", Arg::Size, "strata does not bound the memory of variables per scope"),
    ("tune.zlib.memlevel", Arg::Int, "strata's deflate (zlib-rs, through flate2) has a fixed memory level"),
    (
        "tune.zlib.windowsize",
        Arg::Int,
        "strata's deflate (zlib-rs, through flate2) always uses a 32 kB window",
    ),
];

/// What a `tune.*` line came to.
pub(super) enum Tuned {
    Obeyed,
    Warned(String), // the warning text
}

/// Applies a `tune.*` line (`words[0]` starts with `tune.`); `None` when
/// HAProxy has no such knob.
pub(super) fn keyword(g: &mut Global, words: &[String]) -> Option<Result<Tuned, String>> {
    let kw = words[0].as_str();
    let t = &mut g.tune;
    let obeyed = |r: Res| Some(r.map(|()| Tuned::Obeyed));
    match kw {
        "tune.maxpollevents" => obeyed(positive(kw, words).map(|n| t.maxpollevents = n as usize)),
        "tune.http.logurilen" => obeyed(positive(kw, words).map(|n| t.http_logurilen = n as usize)),
        "tune.rcvbuf.client" => obeyed(positive(kw, words).map(|n| t.rcvbuf_client = Some(n))),
        "tune.rcvbuf.server" => obeyed(positive(kw, words).map(|n| t.rcvbuf_server = Some(n))),
        "tune.sndbuf.client" => obeyed(positive(kw, words).map(|n| t.sndbuf_client = Some(n))),
        "tune.sndbuf.server" => obeyed(positive(kw, words).map(|n| t.sndbuf_server = Some(n))),
        "tune.comp.maxlevel" => Some(match int::<u32>(kw, words.get(1)) {
            Ok(n @ 1..=9) => no_extra(kw, words, 2).map(|()| {
                t.comp_maxlevel = n;
                Tuned::Obeyed
            }),
            _ => Err(format!("'{kw}' expects a numeric value between 1 and 9")),
        }),
        // HAProxy 2.6 knows it only to say so.
        "tune.chksize" => {
            Some(Err(format!("option '{kw}' is not supported any more (tune.bufsize is used instead).")))
        }
        "tune.ssl.capture-buffer-size" | "tune.ssl.capture-cipherlist-size" => {
            Some(check(kw, Arg::Int, words).map(|()| {
                Tuned::Warned(format!(
                    "'{kw}' has no effect in strata (it has no ssl_fc_cipherlist_* fetches to fill); ignored."
                ))
            }))
        }
        _ if kw.starts_with("tune.ssl.") => Some(Err(format!(
            "'{kw}' is not supported by strata yet (its TLS is rustls, tuned by the keywords docs/configuration.md lists)."
        ))),
        _ => {
            let (_, arg, why) = WARNED.iter().find(|(name, _, _)| *name == kw)?;
            Some(
                check(kw, *arg, words)
                    .map(|()| Tuned::Warned(format!("'{kw}' has no effect in strata ({why}); ignored."))),
            )
        }
    }
}

/// `tune.X N`, N > 0.
fn positive(kw: &str, words: &[String]) -> Result<u32, String> {
    match int::<u32>(kw, words.get(1)) {
        Ok(n) if n > 0 => no_extra(kw, words, 2).map(|()| n),
        _ => Err(format!("'{kw}' expects a positive integer argument.")),
    }
}

/// Checks the argument of a warned knob.
fn check(kw: &str, arg: Arg, words: &[String]) -> Res {
    let v = words.get(1).map_or("", String::as_str);
    let ok = match arg {
        Arg::Int => !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()),
        Arg::Size => {
            let digits = v.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G']);
            !digits.is_empty() && digits.len() + 1 >= v.len() && digits.bytes().all(|b| b.is_ascii_digit())
        }
        Arg::Time => !v.is_empty() && time(kw, v).is_ok(),
        Arg::OnOff => v == "on" || v == "off",
        Arg::Word => !v.is_empty(),
    };
    if !ok {
        return Err(match arg {
            Arg::OnOff => format!("'{kw}' expects 'on' or 'off' as argument."),
            Arg::Time => format!("'{kw}' expects a time argument."),
            _ => format!("'{kw}' expects a positive integer argument."),
        });
    }
    no_extra(kw, words, 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(g: &mut Global, line: &str) -> Option<Result<Tuned, String>> {
        let words: Vec<String> = line.split_whitespace().map(String::from).collect();
        keyword(g, &words)
    }

    #[test]
    fn obeyed_warned_refused() {
        let mut g = Global::default();
        assert!(matches!(apply(&mut g, "tune.maxpollevents 64"), Some(Ok(Tuned::Obeyed))));
        assert!(matches!(apply(&mut g, "tune.sndbuf.client 8192"), Some(Ok(Tuned::Obeyed))));
        assert_eq!((g.tune.maxpollevents, g.tune.sndbuf_client), (64, Some(8192)));
        assert!(matches!(apply(&mut g, "tune.comp.maxlevel 5"), Some(Ok(Tuned::Obeyed))));
        assert_eq!(g.tune.comp_maxlevel, 5);
        assert!(matches!(apply(&mut g, "tune.comp.maxlevel 10"), Some(Err(_))));
        assert!(matches!(apply(&mut g, "tune.chksize 100"), Some(Err(_))));
        assert!(matches!(apply(&mut g, "tune.pipesize 64k"), Some(Ok(Tuned::Warned(_)))));
        assert!(matches!(apply(&mut g, "tune.fd.edge-triggered on"), Some(Ok(Tuned::Warned(_)))));
        assert!(matches!(apply(&mut g, "tune.fd.edge-triggered maybe"), Some(Err(_))));
        assert!(matches!(apply(&mut g, "tune.maxpollevents 0"), Some(Err(_))));
        assert!(matches!(apply(&mut g, "tune.ssl.default-dh-param 2048"), Some(Err(_))));
        assert!(apply(&mut g, "tune.nonsense 1").is_none());
    }

    #[test]
    fn the_ssl_capture_buffer_is_warned() {
        let mut g = Global::default();
        let warned = apply(&mut g, "tune.ssl.capture-buffer-size 1");
        assert!(matches!(&warned, Some(Ok(Tuned::Warned(w))) if w.contains("ssl_fc_cipherlist")));
        assert!(matches!(apply(&mut g, "tune.ssl.capture-buffer-size x"), Some(Err(_))));
    }
}
