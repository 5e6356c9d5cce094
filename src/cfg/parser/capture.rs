//! `capture cookie|request header|response header`, `declare capture`,
//! and the slot a `http-request capture <sample> len <n>` rule declares
//! (HAProxy numbers all of a side's slots in declaration order).

use super::args::{Res, no_extra};
use super::proxy::{Side, need};
use super::section::{Kind, Open};
use crate::cfg::capture::{CaptureSlot, CookieCapture};

/// HAProxy's `tune.http.cookielen` default: the longest cookie capture.
const COOKIE_LEN_MAX: usize = 63;

/// Applies `capture ...` or `declare capture ...`; None for other keywords.
pub(super) fn keyword(o: &mut Open, words: &[String]) -> Option<Res> {
    match words[0].as_str() {
        "capture" => Some(capture(o, words)),
        "declare" => Some(declare(o, words)),
        _ => None,
    }
}

fn capture(o: &mut Open, words: &[String]) -> Res {
    let w = |i: usize| words.get(i).map_or("", String::as_str);
    let what = w(1);
    if o.kind == Kind::Defaults && matches!(what, "cookie" | "request" | "response") {
        return Err(format!("'capture {what}' not allowed in 'defaults' section."));
    }
    need(o, "capture", Side::Front)?;
    let len = |i: usize| w(i).parse::<usize>().ok();
    match what {
        "cookie" => {
            let (Some(len), "len", false) = (len(4), w(3), w(2).is_empty()) else {
                return Err("'capture' expects 'cookie' <cookie_name> 'len' <len>.".into());
            };
            no_extra("capture cookie", words, 5)?;
            let len = len.min(COOKIE_LEN_MAX);
            o.px.captures.cookie = Some(CookieCapture { name: w(2).to_owned(), len });
            Ok(())
        }
        "request" | "response" if w(2) == "header" => {
            let (Some(len), "len", false) = (len(5), w(4), w(3).is_empty()) else {
                return Err(format!("'capture {what}' expects 'header' <header_name> 'len' <len>."));
            };
            no_extra(&format!("capture {what}"), words, 6)?;
            let slot = CaptureSlot { header: Some(w(3).to_ascii_lowercase()), len };
            if what == "request" { &mut o.px.captures.req } else { &mut o.px.captures.res }.push(slot);
            Ok(())
        }
        _ => Err("'capture' expects 'cookie' or 'request header' or 'response header'.".into()),
    }
}

/// `declare capture request|response len N`, in HAProxy's words.
fn declare(o: &mut Open, words: &[String]) -> Res {
    let w = |i: usize| words.get(i).map_or("", String::as_str);
    if o.kind == Kind::Defaults {
        return Err("'declare' not available in default section".into());
    }
    if !o.px.cap.frontend {
        return Err("'declare' only available in frontend or listen section".into());
    }
    match w(1) {
        "" => {
            return Err(
                "'declare' needs a second keyword that specify the type of declaration ('capture')".into()
            );
        }
        "capture" => {}
        other => return Err(format!("unknown declaration type '{other}' (supports 'capture')")),
    }
    let response = match w(2) {
        "request" => false,
        "response" => true,
        _ => return Err("'declare capture' requires a direction ('request' or 'response')".into()),
    };
    if w(3) != "len" {
        return Err("'declare capture' requires a capture length ('len')".into());
    }
    if w(4).is_empty() {
        return Err(
            "'declare capture': 'len' requires a numeric value that represents the capture length".into()
        );
    }
    let len: i64 =
        w(4).parse().map_err(|_| format!("'declare capture': cannot parse the length '{}'.", w(4)))?;
    if len <= 0 {
        return Err("length must be > 0".into());
    }
    no_extra("declare capture", words, 5)?;
    let slot = CaptureSlot { header: None, len: len as usize };
    if response { &mut o.px.captures.res } else { &mut o.px.captures.req }.push(slot);
    Ok(())
}

/// A `http-request capture <sample> len <n> [if|unless ...]` line declares
/// the frontend's next request slot: it is kept as `capture <sample> id
/// <slot>` so the rule compiler sees one form. Other lines come back
/// unchanged (None).
pub(super) fn rule_slot(o: &mut Open, words: &[String]) -> Result<Option<Vec<String>>, String> {
    if words.get(1).map(String::as_str) != Some("capture") || words.get(3).map(String::as_str) != Some("len")
    {
        return Ok(None);
    }
    let prefix = format!("'{} capture'", words[0]);
    if !o.px.cap.frontend {
        return Err(format!("{prefix}: proxy '{}' has no frontend capability", o.px.name));
    }
    let len = match words.get(4) {
        None => return Err(format!("{prefix}: missing length value")),
        Some(v) => v.parse::<i64>().unwrap_or(0),
    };
    if len <= 0 {
        return Err(format!("{prefix}: length must be > 0"));
    }
    let id = o.px.captures.req.len();
    o.px.captures.req.push(CaptureSlot { header: None, len: len as usize });
    let mut out = words.to_vec();
    out[3] = "id".into();
    out[4] = id.to_string();
    Ok(Some(out))
}
