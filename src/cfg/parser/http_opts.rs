//! `[no] option X` for HTTP connection handling and request/response
//! checks: `http-server-close`, `http-pretend-keepalive`,
//! `http-ignore-probes`, `http-buffer-request`, `abortonclose`,
//! `checkcache`, `originalto`, `http-restrict-req-hdr-names`,
//! `disable-h2-upgrade`, `idle-close-on-response`, `http-no-delay`. Kept in
//! [`crate::cfg::knobs::HttpConnOpts`] (`prefer-last-server` in
//! [`crate::cfg::srv_select::SrvSelect`]; `tcp-smart-accept` and
//! `tcp-smart-connect`, socket options, in the proxy's knobs).

use super::args::{Res, no_extra};
use super::section::Open;
use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::model::Loc;

/// Which side of a proxy an option concerns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cap {
    Both,
    Front,
    Back,
}

/// Applies the option `words[0]`; None when it is not one of these.
pub(super) fn option(
    o: &mut Open,
    words: &[String],
    negate: bool,
    loc: &Loc,
    diags: &mut Diagnostics,
) -> Option<Res> {
    let name = words.first()?.as_str();
    if name == "http-restrict-req-hdr-names" {
        return Some(restrict_hdr_names(o, words, negate));
    }
    let cap = match name {
        "http-server-close" | "http-pretend-keepalive" | "originalto" | "http-buffer-request" => Cap::Both,
        "http-no-delay" => Cap::Both,
        "http-ignore-probes" | "disable-h2-upgrade" | "idle-close-on-response" | "tcp-smart-accept" => {
            Cap::Front
        }
        "abortonclose" | "checkcache" | "prefer-last-server" | "tcp-smart-connect" => Cap::Back,
        _ => return None,
    };
    let kw = format!("option {name}");
    let (has, missing) = match cap {
        Cap::Both => (true, ""),
        Cap::Front => (o.px.cap.frontend, "frontend"),
        Cap::Back => (o.px.cap.backend, "backend"),
    };
    if !has {
        // HAProxy warns and ignores the line.
        diags.push(Diag::warning(
            loc,
            format!(
                "'{name}' ignored because {} '{}' has no {missing} capability.",
                o.kind.type_str(),
                o.px.name
            ),
        ));
        return Some(Ok(()));
    }
    let on = !negate;
    match name {
        "prefer-last-server" => o.px.knobs.srv.prefer_last = on,
        "tcp-smart-accept" => o.px.knobs.smart_accept = Some(on),
        "tcp-smart-connect" => o.px.knobs.srv_sock.delayed_ack = on,
        _ => {}
    }
    if matches!(name, "prefer-last-server" | "tcp-smart-accept" | "tcp-smart-connect") {
        return Some(no_extra(&kw, words, 1));
    }
    let h = &mut o.px.knobs.http;
    if name == "originalto" {
        if negate {
            h.originalto = None;
            return Some(no_extra(&kw, words, 1));
        }
        return Some(
            super::option_flags::addr_header(&kw, &words[1..], false).map(|a| h.originalto = Some(a)),
        );
    }
    let flag = match name {
        // strata sets TCP_NODELAY on every socket and never uses MSG_MORE:
        // each part of a message goes out as soon as it is there, which is
        // what the option asks for (obeyed by construction).
        "http-no-delay" => return Some(no_extra(&kw, words, 1)),
        "disable-h2-upgrade" => &mut h.no_h2_upgrade,
        "idle-close-on-response" => &mut h.idle_close_on_response,
        "http-server-close" => &mut h.server_close,
        "http-pretend-keepalive" => &mut h.pretend_keepalive,
        "http-ignore-probes" => &mut h.ignore_probes,
        "abortonclose" => &mut h.abortonclose,
        "http-buffer-request" => &mut h.buffer_request,
        _ => &mut h.checkcache,
    };
    *flag = on;
    if name == "http-server-close" && on {
        // One HTTP connection mode per proxy, the last one given (see `option httpclose`).
        o.px.options.httpclose = false;
        o.px.options.http_keep_alive = false;
    }
    Some(no_extra(&kw, words, 1))
}

/// `option http-restrict-req-hdr-names preserve|delete|reject` (any
/// proxy; no `no` form), with HAProxy's messages.
fn restrict_hdr_names(o: &mut Open, words: &[String], negate: bool) -> Res {
    use crate::cfg::knobs::RestrictHdrNames;
    let name = "http-restrict-req-hdr-names";
    if negate {
        return Err(format!("negation/default is not supported for option '{name}'."));
    }
    let expects = format!("option '{name}' expects 'preserve', 'reject' or 'delete' option.");
    let mode = match words.get(1).map(String::as_str) {
        None | Some("") => return Err(format!("missing parameter. {expects}")),
        Some("preserve") => RestrictHdrNames::Preserve,
        Some("delete") => RestrictHdrNames::Delete,
        Some("reject") => RestrictHdrNames::Reject,
        Some(other) => return Err(format!("invalid parameter '{other}'. {expects}")),
    };
    no_extra("option", words, 2)?;
    o.px.knobs.http.restrict_hdr_names = mode;
    Ok(())
}
