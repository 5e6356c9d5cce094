//! `stats <param>` in `defaults`, `frontend`, `backend` and `listen`: the
//! HTTP stats page (`enable`, `uri`, `refresh`, `realm`, `auth`, `admin`,
//! `hide-version`, `show-legends`, `show-modules`, `show-node`, `show-desc`, `scope`).
//! The page itself is `service::stats_page`.

use super::args::{Res, no_extra, time};
use super::section::{Kind, Open};
use crate::cfg::model::{Cond, Loc, StatsAction, StatsRule};
use std::time::Duration;

/// `stats http-request allow|deny|auth [realm R] [if|unless COND]`.
fn http_request(words: &[String], loc: &Loc) -> Result<StatsRule, String> {
    let mut i = 1;
    let action = match words.first().map(String::as_str) {
        Some("allow") => StatsAction::Allow,
        Some("deny") => StatsAction::Deny,
        Some("auth") => match words.get(1).map(String::as_str) {
            Some("realm") => {
                let realm = words.get(2).ok_or("'stats http-request auth realm' expects a realm name.")?;
                i = 3;
                StatsAction::Auth(Some(realm.clone()))
            }
            _ => StatsAction::Auth(None),
        },
        _ => return Err("'stats http-request' expects 'allow', 'deny' or 'auth'.".into()),
    };
    let cond = match words.get(i).map(String::as_str) {
        None => None,
        Some(w @ ("if" | "unless")) if words.len() > i + 1 => {
            Some(Cond { negate: w == "unless", words: words[i + 1..].to_vec(), loc: loc.clone() })
        }
        Some(w) => {
            return Err(format!(
                "'stats http-request' : unexpected argument '{w}', expects 'if' or 'unless' and a condition."
            ));
        }
    };
    Ok(StatsRule { action, cond })
}

/// Applies one `stats ...` line of a proxy section.
pub(super) fn keyword(o: &mut Open, words: &[String], loc: &Loc) -> Res {
    let param = words.get(1).map_or("", String::as_str);
    let arg = words.get(2);
    let page = &mut o.px.stats;
    match param {
        "admin" => {
            if o.kind == Kind::Defaults {
                return Err("'stats admin' not allowed in 'defaults' section.".into());
            }
            let cond = match arg.map(String::as_str) {
                Some(w @ ("if" | "unless")) if words.len() > 3 => {
                    Cond { negate: w == "unless", words: words[3..].to_vec(), loc: loc.clone() }
                }
                _ => {
                    return Err(
                        "'stats admin' requires either 'if' or 'unless' followed by a condition.".into()
                    );
                }
            };
            page.admin.push(cond);
            return Ok(());
        }
        "http-request" => {
            if o.kind == Kind::Defaults {
                return Err("'stats http-request' not allowed in 'defaults' section.".into());
            }
            page.rules.push(http_request(&words[2..], loc)?);
        }
        "uri" => {
            let v = arg.ok_or("'uri' needs an URI prefix.")?;
            page.uri = Some(v.clone());
            no_extra("stats uri", words, 3)?;
        }
        "realm" => {
            let v = arg.ok_or("'realm' needs an realm name.")?;
            page.realm = Some(v.clone());
            no_extra("stats realm", words, 3)?;
        }
        "refresh" => {
            let v = arg.ok_or("'refresh' needs a refresh interval in seconds.")?;
            // A bare number is seconds here, as in HAProxy.
            let every = if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
                v.parse::<u64>()
                    .map(Duration::from_secs)
                    .map_err(|_| format!("'refresh' value '{v}' is too large."))?
            } else {
                time("stats refresh", v)?
            };
            page.refresh = Some(every);
            no_extra("stats refresh", words, 3)?;
        }
        "auth" => {
            let account = arg.and_then(|a| a.split_once(':')).filter(|(u, _)| !u.is_empty());
            let (user, pass) = account.ok_or("'auth' needs a user:password account.")?;
            page.auth.push((user.to_owned(), pass.to_owned()));
            no_extra("stats auth", words, 3)?;
        }
        "scope" => {
            let v = arg.ok_or("'scope' needs a proxy name.")?;
            page.scope.push(v.clone());
            no_extra("stats scope", words, 3)?;
        }
        "enable" => no_extra("stats enable", words, 2)?,
        "hide-version" => {
            page.hide_version = true;
            no_extra("stats hide-version", words, 2)?;
        }
        "show-legends" => {
            page.show_legends = true;
            no_extra("stats show-legends", words, 2)?;
        }
        "show-modules" => {
            page.show_modules = true;
            no_extra("stats show-modules", words, 2)?;
        }
        "show-node" => {
            page.show_node = Some(arg.cloned().unwrap_or_default());
            no_extra("stats show-node", words, 3)?;
        }
        "show-desc" => {
            page.show_desc = Some(words[2.min(words.len())..].join(" "));
        }
        "socket" | "timeout" | "maxconn" | "bind-process" => {
            return Err(format!("'stats {param}' is only allowed in 'global' section"));
        }
        _ => {
            return Err(format!(
                "unknown stats parameter '{param}', expects 'admin', 'uri', 'realm', 'auth', 'scope', 'enable', \
                 'hide-version', 'show-node', 'show-desc' or 'show-legends'."
            ));
        }
    }
    page.enabled = true;
    Ok(())
}
