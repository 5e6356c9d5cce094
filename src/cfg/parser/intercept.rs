//! `monitor-uri`, `monitor fail`, the proxy-level `redirect` and
//! `fullconn`, with HAProxy 2.6's rules and words.

use super::args::{Res, int, no_extra};
use super::proxy::{Side, need};
use super::section::{Kind, Open};
use crate::cfg::model::{Cond, Loc, RuleLine};

/// Applies one of these keywords; None for the others.
pub(super) fn keyword(o: &mut Open, words: &[String], loc: &Loc) -> Option<Res> {
    let kw = words[0].as_str();
    let w = |i: usize| words.get(i).map_or("", String::as_str);
    Some(match kw {
        "monitor-uri" => need(o, kw, Side::Front).and_then(|()| {
            if w(1).is_empty() {
                return Err("'monitor-uri' expects an URI.".into());
            }
            no_extra(kw, words, 2)?;
            o.px.intercept.monitor_uri = Some(w(1).to_owned());
            Ok(())
        }),
        "monitor" => {
            if o.kind == Kind::Defaults {
                return Some(Err("'monitor' not allowed in 'defaults' section.".into()));
            }
            need(o, kw, Side::Front).and_then(|()| {
                if w(1) != "fail" {
                    return Err("'monitor' only supports 'fail'.".into());
                }
                if !matches!(w(2), "if" | "unless") {
                    return Err(
                        "'monitor fail' requires either 'if' or 'unless' followed by a condition.".into()
                    );
                }
                let cond = Cond { negate: w(2) == "unless", words: words[3..].to_vec(), loc: loc.clone() };
                o.px.intercept.monitor_fail.push(cond);
                Ok(())
            })
        }
        "redirect" => {
            if o.kind == Kind::Defaults {
                return Some(Err("'redirect' not allowed in 'defaults' section.".into()));
            }
            // Compiled (and any error reported) with the rules: `l6_stream::intercept`.
            o.px.intercept.redirects.push(RuleLine { words: words[1..].to_vec(), loc: loc.clone() });
            Ok(())
        }
        "fullconn" => need(o, kw, Side::Back).and_then(|()| {
            o.px.knobs.fullconn = Some(int(kw, words.get(1))?);
            no_extra(kw, words, 2)
        }),
        _ => return None,
    })
}
