//! `tcp-response inspect-delay T` and `tcp-response content ACTION [if|unless COND]`
//! (HAProxy 2.6): the lines are kept with their location; the stream layer
//! compiles and runs them (`l6_stream/response_inspect.rs`).

use super::section::Open;
use crate::cfg::{Loc, RuleLine};

type Res = Result<(), String>;

/// One `tcp-response` line of a proxy section (defaults refused by the caller).
pub(super) fn tcp_response(o: &mut Open, words: &[String], loc: &Loc) -> Res {
    let sub = words.get(1).map_or("", String::as_str);
    if !o.px.cap.backend && matches!(sub, "inspect-delay" | "content") {
        return Err(format!(
            "tcp-response {sub} is only allowed in 'backend' sections or 'defaults' section with a name"
        ));
    }
    match sub {
        "inspect-delay" => {
            let v = words.get(2).ok_or("'tcp-response inspect-delay' expects a timeout value.")?;
            let t = crate::cfg::time::parse_time(v)
                .map_err(|e| format!("{e} in 'tcp-response inspect-delay'"))?;
            o.px.res_inspect_delay = Some(t);
            super::args::no_extra("tcp-response inspect-delay", words, 3)
        }
        "content" => {
            if words.len() < 3 {
                return Err("'tcp-response content' expects an action.".into());
            }
            o.px.tcp_response_content.push(RuleLine { words: words[2..].to_vec(), loc: loc.clone() });
            Ok(())
        }
        other => Err(format!("'tcp-response' expects 'inspect-delay' or 'content' (got '{other}')")),
    }
}
