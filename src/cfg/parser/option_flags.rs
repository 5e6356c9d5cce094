//! `[no] option X` for the on/off options beyond routing and checks:
//! socket options (`tcpka`, `clitcpka`, `srvtcpka`, `nolinger`), log
//! selection (`dontlog-normal`, `log-separate-errors`) and
//! the options HAProxy knows that mean nothing for strata (warned). The
//! others go on to `options::option`.

use super::args::{Res, no_extra};
use super::proxy::{Side, need};
use super::section::Open;
use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::model::Loc;

/// Options accepted with a warning: no effect in strata, and why.
const WARNED: &[(&str, &str)] = &[
    ("accept-invalid-http-request", "strata always rejects invalid requests"),
    ("contstats", "strata updates its counters when a stream ends"),
    ("http-use-htx", "HTX is HAProxy's only mode since 2.1; strata has one mode too"),
    ("independent-streams", "strata measures each side's timeout from that side's own activity"),
    ("socket-stats", "strata has no per-listener statistics yet"),
    ("splice-auto", "strata decides on its own when to splice"),
    ("splice-request", "strata decides on its own when to splice"),
    ("splice-response", "strata decides on its own when to splice"),
];

/// `option <name>` (`words[0]` is the name) or `no option <name>`.
pub(super) fn option(
    o: &mut Open,
    words: &[String],
    negate: bool,
    loc: &Loc,
    diags: &mut Diagnostics,
) -> Res {
    let Some(name) = words.first().map(String::as_str) else {
        return super::options::option(o, words, negate);
    };
    let kw = format!("option {name}");
    let on = !negate;
    let k = &mut o.px.knobs;
    let (cli, srv) = (o.px.cap.frontend, o.px.cap.backend);
    match name {
        "tcpka" => {
            k.cli_sock.keepalive = on && cli;
            k.srv_sock.keepalive = on && srv;
        }
        "clitcpka" => {
            need(o, &kw, Side::Front)?;
            o.px.knobs.cli_sock.keepalive = on;
        }
        "srvtcpka" => {
            need(o, &kw, Side::Back)?;
            o.px.knobs.srv_sock.keepalive = on;
        }
        "dontlog-normal" | "log-separate-errors" => {
            need(o, &kw, Side::Front)?;
            let k = &mut o.px.knobs;
            *(if name == "dontlog-normal" { &mut k.dontlog_normal } else { &mut k.log_separate_errors }) = on;
        }
        "nolinger" => {
            k.cli_sock.nolinger = on && cli;
            k.srv_sock.nolinger = on && srv;
        }
        _ => match WARNED.iter().find(|(n, _)| *n == name) {
            Some((_, why)) => {
                diags.push(Diag::warning(loc, format!("'{kw}' has no effect in strata ({why}); ignored.")));
            }
            None => return super::options::option(o, words, negate),
        },
    }
    no_extra(&kw, words, 1)
}
