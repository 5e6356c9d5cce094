//! TCP/HTTP rules in named `defaults` sections, as HAProxy 2.6 allows
//! them: `http-request`, `http-response`, `http-after-response`,
//! `tcp-request connection|session|content`, `tcp-response content` (and
//! both inspect delays, inherited) and `acl` lines in a `defaults NAME`
//! section. A proxy built from such a
//! section runs its rules before its own, as one list (an `accept` or
//! `allow` there ends the proxy's rules too); the section itself is kept
//! in [`crate::cfg::Config::rule_defaults`] and the proxy points at it
//! ([`crate::cfg::Proxy::defaults_rules`]). HAProxy's restrictions are
//! refused with its messages: no rules in an anonymous section, and a
//! section with rules cannot start another defaults section or a listen,
//! nor serve frontends and backends both, nor give a backend connection
//! or session rules, nor a frontend `tcp-response` rules. Arguments that
//! would be resolved in the proxy (a server without its backend, the
//! rule's own stick table) must be explicit there.

use super::section::{Kind, Open};
use crate::cfg::model::{Proxy, RuleLine};

/// Refuses a rule line `kw` in an anonymous `defaults` section.
pub(super) fn allowed_here(o: &Open, kw: &str) -> Result<(), String> {
    if o.kind == Kind::Defaults && o.px.name.is_empty() {
        return Err(format!("'{kw}' not allowed in anonymous 'defaults' section."));
    }
    Ok(())
}

/// Refuses `tcp-response` lines in an anonymous `defaults` section
/// (HAProxy's message; elsewhere `tcp_response.rs` checks the side).
pub(super) fn tcp_response_here(o: &Open, words: &[String]) -> Result<(), String> {
    let sub = words.get(1).map_or("", String::as_str);
    if o.kind == Kind::Defaults && o.px.name.is_empty() && matches!(sub, "inspect-delay" | "content") {
        return Err(format!(
            "tcp-response {sub} is only allowed in 'backend' sections or 'defaults' section with a name"
        ));
    }
    Ok(())
}

/// Whether a defaults section defines rules a proxy would run.
pub(super) fn has_rules(d: &Proxy) -> bool {
    !(d.http_request.is_empty()
        && d.http_response.is_empty()
        && d.http_after_response.is_empty()
        && d.tcp_request_connection.is_empty()
        && d.tcp_request_session.is_empty()
        && d.tcp_request_content.is_empty()
        && d.tcp_response_content.is_empty())
}

/// Whether a `kind` section may start from `d`, which defines rules and
/// served `used_as` so far (the first user decides, as in HAProxy, which
/// then updates it). The refusal is HAProxy's message.
pub(super) fn may_inherit(kind: Kind, d: &Proxy, used_as: &mut Option<Kind>) -> Result<(), String> {
    let at = &d.loc;
    match kind {
        Kind::Defaults => Err(format!(
            "a defaults section cannot inherit from a defaults section defining TCP/HTTP rules (defaults section at {at})."
        )),
        Kind::Listen => {
            Err("a listen section cannot inherit from a defaults section defining TCP/HTTP rules.".into())
        }
        _ if used_as.is_some_and(|u| u != kind) => Err(format!(
            "frontends and backends cannot inherit from the same defaults section if it defines TCP/HTTP rules \
             (defaults section at {at})."
        )),
        Kind::Backend if !(d.tcp_request_connection.is_empty() && d.tcp_request_session.is_empty()) => {
            Err(format!(
                "a backend section cannot inherit from a defaults section defining 'tcp-request connection' or \
             'tcp-request session' rules (defaults section at {at})."
            ))
        }
        Kind::Frontend if !d.tcp_response_content.is_empty() => Err(format!(
            "a frontend section cannot inherit from a defaults section defining 'tcp-response content' rules \
             (defaults section at {at})."
        )),
        _ => {
            *used_as = Some(kind);
            Ok(())
        }
    }
}

/// Sample fetches whose first argument is a server (`[BACKEND/]SERVER`).
const SERVER_ARG_FETCHES: &[&str] = &[
    "srv_conn",
    "srv_conn_free",
    "srv_is_up",
    "srv_queue",
    "srv_sess_rate",
    "srv_weight",
    "srv_iweight",
    "srv_uweight",
];

/// The rule lines of `d` whose server arguments name no backend: a
/// defaults section has no servers of its own (HAProxy's message).
pub(super) fn unresolved_servers(d: &Proxy) -> Vec<(crate::cfg::model::Loc, String)> {
    let lists: [&Vec<RuleLine>; 7] = [
        &d.http_request,
        &d.http_response,
        &d.http_after_response,
        &d.tcp_request_connection,
        &d.tcp_request_session,
        &d.tcp_request_content,
        &d.tcp_response_content,
    ];
    let mut out = Vec::new();
    for line in lists.into_iter().flatten().chain(&d.acls) {
        for w in &line.words {
            for f in SERVER_ARG_FETCHES {
                let Some(arg) = fetch_arg(w, f) else { continue };
                if !arg.contains('/') {
                    let msg = format!(
                        "backend name must be set in arg 1 of sample fetch keyword '{f}' in proxy '{}'.",
                        d.name
                    );
                    out.push((line.loc.clone(), msg));
                }
            }
        }
    }
    out
}

/// The first argument of `fetch(...)` where it appears in `word` as a
/// fetch (not as part of a longer name).
fn fetch_arg<'a>(word: &'a str, fetch: &str) -> Option<&'a str> {
    let pat = format!("{fetch}(");
    let at = word.match_indices(&pat).map(|(i, _)| i).find(|&i| {
        i == 0 || !word.as_bytes()[i - 1].is_ascii_alphanumeric() && word.as_bytes()[i - 1] != b'_'
    })?;
    let rest = &word[at + pat.len()..];
    let end = rest.find([',', ')']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

#[cfg(test)]
mod tests {
    use super::fetch_arg;

    #[test]
    fn server_arguments_are_found_in_expressions() {
        assert_eq!(fetch_arg("%[srv_conn(www)]", "srv_conn"), Some("www"));
        assert_eq!(fetch_arg("srv_conn(be/www),add(1)", "srv_conn"), Some("be/www"));
        assert_eq!(fetch_arg("my_srv_conn(x)", "srv_conn"), None);
        assert_eq!(fetch_arg("srv_conn_free(x)", "srv_conn"), None);
    }
}
