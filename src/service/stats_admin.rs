//! The stats page's admin form (`stats admin if COND`): a POST of
//! `s=SERVER&...&action=ACTION&b=#IID` applies ACTION to the checked
//! servers of backend IID and answers HAProxy's `303 See Other` to
//! `<uri>;st=DONE|PART|NONE|DENY|ERRP`.
//!
//! Actions: `ready`, `drain`, `maint` (as HAProxy), and strata's
//! `weight` with `w=W` or `w=P%` (HAProxy's page has no weight field; the
//! runtime API's `set weight` rules apply). HAProxy's health and agent
//! actions need checks strata drives differently and answer `ERRP`.

use super::reply::{reply, url_decode};
use crate::backend::{Backends, SrvAdmin};
use crate::cfg::{Config, Proxy};
use crate::cli::server_cmds::{set_admin, set_weight_value};
use crate::l6_stream::service::ServiceReply;

/// The form fields of one POST.
#[derive(Debug, Default, PartialEq, Eq)]
struct Form {
    servers: Vec<String>,
    action: String,
    backend: String,
    weight: Option<String>,
}

fn parse(body: &[u8]) -> Form {
    let mut f = Form::default();
    for kv in body.split(|&b| b == b'&') {
        let (k, v) = match kv.iter().position(|&b| b == b'=') {
            Some(i) => (&kv[..i], &kv[i + 1..]),
            None => (kv, &b""[..]),
        };
        let v = String::from_utf8_lossy(&url_decode(v)).into_owned();
        match k {
            b"s" => f.servers.push(v),
            b"action" => f.action = v,
            b"b" => f.backend = v,
            b"w" => f.weight = Some(v),
            _ => {}
        }
    }
    f
}

/// The outcome word for `;st=`.
fn outcome(form: &Form, cfg: &Config, backends: &mut Backends, now_ms: u64) -> &'static str {
    let be = match form.backend.strip_prefix('#') {
        Some(iid) => cfg.proxies.iter().position(|p| iid.parse::<u32>().ok() == Some(p.id)),
        None => cfg.proxies.iter().position(|p| p.name == form.backend),
    };
    let Some(state) = be.filter(|&i| cfg.proxies[i].cap.backend).and_then(|i| backends.get_mut(i)) else {
        return "ERRP";
    };
    let change = |s: &mut crate::backend::ServerState| -> Result<(), ()> {
        match form.action.as_str() {
            "ready" => set_admin(s, SrvAdmin::Ready),
            "drain" => set_admin(s, SrvAdmin::Drain),
            "maint" => set_admin(s, SrvAdmin::Maint),
            "weight" => return set_weight_value(s, form.weight.as_deref()).map_err(|_| ()),
            _ => return Err(()),
        }
        Ok(())
    };
    if !matches!(form.action.as_str(), "ready" | "drain" | "maint" | "weight") {
        return "ERRP";
    }
    if form.servers.is_empty() {
        return "NONE";
    }
    let was_up = state.is_up();
    let (mut done, mut failed) = (0, 0);
    for name in &form.servers {
        let applied = state.servers.iter_mut().find(|s| *s.name == **name).is_some_and(|s| change(s).is_ok());
        if applied {
            done += 1;
        } else {
            failed += 1;
        }
    }
    state.note_state(was_up, now_ms);
    match (done, failed) {
        (0, _) => "NONE",
        (_, 0) => "DONE",
        _ => "PART",
    }
}

/// Answers a POST on the page of `px`; `admin`: a `stats admin` condition held.
pub fn apply(
    px: &Proxy,
    admin: bool,
    body: &[u8],
    cfg: &Config,
    backends: &mut Backends,
    now_ms: u64,
) -> ServiceReply {
    let st = if admin { outcome(&parse(body), cfg, backends, now_ms) } else { "DENY" };
    let location = format!("location: {};st={st}", px.stats.uri());
    reply(303, "text/plain", &[location], b"", false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields() {
        let f = parse(b"s=app1&s=app%202&action=maint&b=%233&w=50%25");
        assert_eq!(f.servers, ["app1", "app 2"]);
        assert_eq!(
            (f.action.as_str(), f.backend.as_str(), f.weight.as_deref()),
            ("maint", "#3", Some("50%"))
        );
    }
}
