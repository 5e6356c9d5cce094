//! The end of the proxy keyword match: the proxy's identity (`id`,
//! `description`, `disabled`/`enabled`), TCP keep-alive timings
//! (`clitcpka-idle|intvl|cnt`, `srvtcpka-*`), where the servers' saved
//! state comes from (`load-server-state-from-file`, `server-state-file-name`), then what HAProxy knows and
//! strata does not obey (refused as not supported yet), then "unknown
//! keyword".

use super::args::{Res, int, no_extra, time};
use super::known;
use super::proxy::{Side, need};
use super::section::{Kind, Open};
use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::knobs::LoadServerState;
use crate::cfg::model::Loc;

/// Applies a proxy keyword that no other module matched.
pub(super) fn keyword(o: &mut Open, words: &[String], loc: &Loc, diags: &mut Diagnostics) -> Res {
    let kw = words[0].as_str();
    if let Some(res) = super::errors::keyword(o, words, loc, diags) {
        return res;
    }
    if let Some(res) = super::logfmt::keyword(o, words, loc, diags) {
        return res;
    }
    if let Some(res) = super::capture::keyword(o, words) {
        return res;
    }
    if let Some(res) = super::intercept::keyword(o, words, loc) {
        return res;
    }
    if let Some(res) = super::srv_select::keyword(o, words, loc, diags) {
        return res;
    }
    match kw {
        "description" => {
            if o.kind == Kind::Defaults {
                return Err("'description' not allowed in 'defaults' section.".into());
            }
            if words.len() < 2 {
                return Err("'description' expects a string argument.".into());
            }
            o.px.knobs.description = Some(words[1..].join(" "));
            Ok(())
        }
        "id" => {
            if o.kind == Kind::Defaults {
                return Err("'id' not allowed in 'defaults' section.".into());
            }
            let n: u32 =
                int(kw, words.get(1)).map_err(|_| "'id' expects a positive integer argument".to_string())?;
            if n == 0 {
                return Err("Custom id 0 reserved for internal use.".into());
            }
            o.px.knobs.custom_id = Some((n, loc.clone()));
            no_extra(kw, words, 2)
        }
        // HAProxy 2.5 removed it; 2.6 refuses it with these words.
        "grace" => Err("the 'grace' keyword is not supported any more since HAProxy version 2.5.".into()),
        "disabled" | "enabled" => {
            o.px.knobs.disabled = kw == "disabled";
            no_extra(kw, words, 1)
        }
        "clitcpka-idle" | "clitcpka-intvl" | "srvtcpka-idle" | "srvtcpka-intvl" => {
            let side = if kw.starts_with("cli") { Side::Front } else { Side::Back };
            need(o, kw, side)?;
            let d = time(kw, words.get(1).map_or("", String::as_str))?;
            let s = if side == Side::Front { &mut o.px.knobs.cli_sock } else { &mut o.px.knobs.srv_sock };
            if kw.ends_with("idle") {
                s.keepalive_idle = Some(d);
            } else {
                s.keepalive_intvl = Some(d);
            }
            no_extra(kw, words, 2)
        }
        "clitcpka-cnt" | "srvtcpka-cnt" => {
            let side = if kw.starts_with("cli") { Side::Front } else { Side::Back };
            need(o, kw, side)?;
            let n = int::<u32>(kw, words.get(1))?;
            let s = if side == Side::Front { &mut o.px.knobs.cli_sock } else { &mut o.px.knobs.srv_sock };
            s.keepalive_cnt = Some(n);
            no_extra(kw, words, 2)
        }
        "rate-limit" => rate_limit(o, words, loc, diags),
        "backlog" => {
            if !o.px.cap.frontend {
                let msg = format!(
                    "'{kw}' ignored because {} '{}' has no frontend capability.",
                    o.kind.type_str(),
                    o.px.name
                );
                diags.push(Diag::warning(loc, msg));
                return Ok(());
            }
            let n =
                int::<u32>(kw, words.get(1)).map_err(|_| format!("'{kw}' expects an integer argument."))?;
            o.px.knobs.backlog = Some(n);
            no_extra(kw, words, 2)
        }
        "load-server-state-from-file" => {
            warn_if_not_backend(o, kw, loc, diags);
            o.px.knobs.load_server_state = match words.get(1).map_or("", String::as_str) {
                "global" => LoadServerState::Global,
                "local" => LoadServerState::Local,
                "none" => LoadServerState::None,
                other => return Err(format!("'{kw}' expects 'global', 'local' or 'none'. Got '{other}'")),
            };
            no_extra(kw, words, 2)
        }
        "server-state-file-name" => {
            warn_if_not_backend(o, kw, loc, diags);
            no_extra(kw, words, 2)?;
            if o.kind == Kind::Defaults {
                // HAProxy accepts it there and no proxy inherits it
                diags.push(Diag::warning(
                    loc,
                    format!("'{kw}' has no effect in a 'defaults' section; ignored."),
                ));
                return Ok(());
            }
            o.px.knobs.server_state_file_name = match words.get(1).map(String::as_str) {
                None | Some("" | "use-backend-name") => None,
                Some(f) => Some(f.to_string()),
            };
            Ok(())
        }
        _ if super::removed::proxy(words).is_some() => Err(super::removed::proxy(words).unwrap_or_default()),
        _ => match known::proxy(kw) {
            Some(k) => Err(known::refusal(kw, k).unwrap_or_default()),
            None => Err(format!("unknown keyword '{kw}' in '{}' section", o.kind.keyword())),
        },
    }
}

/// `rate-limit sessions N` with HAProxy 2.6's words (`proxy_parse_rate_limit`):
/// only `sessions` exists; in a proxy without a frontend it is warned and
/// has no effect.
fn rate_limit(o: &mut Open, words: &[String], loc: &Loc, diags: &mut Diagnostics) -> Res {
    let what = words.get(1).map_or("", String::as_str);
    if what != "sessions" {
        return Err(format!("'rate-limit' only supports 'sessions' (got '{what}')"));
    }
    let Some(n) = words.get(2).filter(|w| !w.is_empty()) else {
        return Err("'rate-limit sessions' expects expects an integer value (in sessions/second)".into());
    };
    let value = match n.bytes().position(|b| !b.is_ascii_digit()) {
        None => n.parse::<u32>().map_err(|_| format!("'rate-limit sessions' : value '{n}' is too large"))?,
        Some(at) => {
            let c = char::from(n.as_bytes()[at]);
            return Err(format!("'rate-limit sessions' : unexpected character '{c}' in integer value '{n}'"));
        }
    };
    if !o.px.cap.frontend {
        let msg = format!(
            "rate-limit sessions will be ignored because {} '{}' has no frontend capability",
            o.kind.type_str(),
            o.px.name
        );
        diags.push(Diag::warning(loc, msg));
        return Ok(());
    }
    o.px.knobs.rate_limit_sessions = value;
    no_extra("rate-limit", words, 3)
}

/// HAProxy's `warnifnotcap`: a backend keyword in a frontend is warned
/// and the line read on (it has no effect there).
fn warn_if_not_backend(o: &Open, kw: &str, loc: &Loc, diags: &mut Diagnostics) {
    if !o.px.cap.backend {
        let msg = format!(
            "'{kw}' ignored because {} '{}' has no backend capability.",
            o.kind.type_str(),
            o.px.name
        );
        diags.push(Diag::warning(loc, msg));
    }
}
