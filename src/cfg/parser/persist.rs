//! Persistence keywords: `cookie NAME ...`, `stick on|match|store-request|
//! store-response`, `force-persist`, `ignore-persist`.

use super::args::{Res, time};
use super::section::Open;
use crate::cfg::model::{Cond, CookieMode, CookiePersist, Loc, StickKind, StickLine};

/// `cookie NAME [options]`, with HAProxy 2.6's option set and conflicts.
pub(super) fn cookie(o: &mut Open, words: &[String]) -> Res {
    let name = words.get(1).ok_or("'cookie' expects <cookie_name> as argument.")?;
    let mut c = CookiePersist { name: name.clone(), ..CookiePersist::default() };
    let mut mode: Option<CookieMode> = None;
    let mut i = 2;
    let mut set_mode = |m: CookieMode, kw: &str| -> Res {
        if mode.is_some_and(|x| x != m) {
            return Err(format!("'cookie' : '{kw}' is incompatible with 'rewrite', 'insert' and 'prefix'."));
        }
        mode = Some(m);
        Ok(())
    };
    while i < words.len() {
        let w = words[i].as_str();
        let value = || words.get(i + 1).ok_or(format!("'cookie' : '{w}' expects an argument."));
        match w {
            "rewrite" => set_mode(CookieMode::Rewrite, w)?,
            "insert" => set_mode(CookieMode::Insert, w)?,
            "prefix" => set_mode(CookieMode::Prefix, w)?,
            "indirect" => c.indirect = true,
            "nocache" => c.nocache = true,
            "postonly" => c.postonly = true,
            "preserve" => c.preserve = true,
            "httponly" => c.httponly = true,
            "secure" => c.secure = true,
            "domain" => {
                c.domains.push(value()?.clone());
                i += 1;
            }
            "maxidle" | "maxlife" => {
                let d = time(&format!("cookie {w}"), value()?)?;
                let s = u32::try_from(d.as_secs()).map_err(|_| format!("'cookie' : '{w}' is too large."))?;
                if w == "maxidle" {
                    c.maxidle = s
                } else {
                    c.maxlife = s
                }
                i += 1;
            }
            "attr" => {
                let v = value()?;
                if v.bytes().any(|b| b.is_ascii_control() || b == b';') {
                    return Err("'cookie' : 'attr' cannot contain control characters or ';'.".into());
                }
                c.attrs.push(v.clone());
                i += 1;
            }
            "dynamic" => {
                return Err("'cookie' : 'dynamic' is not supported by strata (no dynamic-cookie-key).".into());
            }
            other => {
                return Err(format!(
                    "'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', \
                     'preserve', 'httponly', 'secure', 'domain', 'maxidle', 'maxlife' and 'attr' options (got '{other}')."
                ));
            }
        }
        i += 1;
    }
    c.mode = mode.unwrap_or_default();
    if c.preserve && !(c.mode == CookieMode::Insert || c.indirect) {
        return Err("'cookie' : 'preserve' requires at least 'insert' or 'indirect'.".into());
    }
    if (c.maxidle > 0 || c.maxlife > 0) && c.mode != CookieMode::Insert {
        return Err("'cookie' : 'maxidle' and 'maxlife' only work with 'insert'.".into());
    }
    o.px.cookie = Some(c);
    Ok(())
}

/// `stick on|match|store-request|store-response PATTERN [table T] [if|unless COND]`.
pub(super) fn stick(o: &mut Open, words: &[String], loc: &Loc) -> Res {
    let kind = match words.get(1).map(String::as_str) {
        Some("on") => StickKind::On,
        Some("match") => StickKind::Match,
        Some("store-request") => StickKind::StoreRequest,
        Some("store-response") => StickKind::StoreResponse,
        _ => return Err("'stick' expects 'on', 'match', 'store-request' or 'store-response'.".into()),
    };
    if words.len() < 3 {
        return Err(format!("'stick {}' expects a pattern.", words[1]));
    }
    o.px.sticks.push(StickLine { kind, words: words[2..].to_vec(), loc: loc.clone() });
    Ok(())
}

/// `force-persist|ignore-persist if|unless COND`.
pub(super) fn persist_rule(o: &mut Open, words: &[String], loc: &Loc) -> Res {
    let kw = &words[0];
    let negate = match words.get(1).map(String::as_str) {
        Some("if") => false,
        Some("unless") => true,
        _ => return Err(format!("'{kw}' requires either 'if' or 'unless' followed by a condition.")),
    };
    if words.len() < 3 {
        return Err(format!("'{kw}' requires either 'if' or 'unless' followed by a condition."));
    }
    let cond = Cond { negate, words: words[2..].to_vec(), loc: loc.clone() };
    o.px.persist_rules.push((kw == "force-persist", cond));
    Ok(())
}
