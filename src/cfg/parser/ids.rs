//! Proxy ids as HAProxy 2.6 numbers them (`iid` in `show stat`, `be_id`
//! in `show servers state`, the `fe_id`/`be_id` fetches): an `id N` line
//! fixes a proxy's id; the others take, in declaration order, the first
//! id not fixed by any proxy from a counter that starts at 1 and moves
//! past every proxy, numbered or not. HAProxy's internal CLI proxy, born
//! at the first `stats socket|timeout|maxconn` of `global`, counts as one
//! at that place (observed with HAProxy 2.6.12: a `frontend` written
//! after such a `global` gets 2, one written before it 1).

use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::model::{Config, Proxy};

/// Remembers where HAProxy's CLI proxy would be born, if `words` (a
/// `global` line) is the first that creates it.
pub(super) fn note_cli_proxy(cfg: &mut Config, words: &[String]) {
    let creates = words[0] == "stats"
        && words.get(1).is_some_and(|w| matches!(w.as_str(), "socket" | "timeout" | "maxconn"));
    if creates && cfg.cli_proxy_at.is_none() {
        cfg.cli_proxy_at = Some(cfg.proxies.len());
    }
}

/// Gives every proxy its id; a fixed id used twice is an alert at the
/// second `id` line, in HAProxy's words.
pub(super) fn number(cfg: &mut Config, diags: &mut Diagnostics) {
    let cli_at = cfg.cli_proxy_at;
    let proxies = &mut cfg.proxies[..];
    let mut fixed: hashbrown::HashMap<u32, usize> = hashbrown::HashMap::new();
    for (i, px) in proxies.iter().enumerate() {
        let Some((id, loc)) = &px.knobs.custom_id else { continue };
        if let Some(&first) = fixed.get(id) {
            let other = &proxies[first];
            diags.push(Diag::alert(
                loc,
                format!(
                    "{} {} reuses same custom id as {} {} (declared at {}).",
                    kind(px),
                    px.name,
                    kind(other),
                    other.name,
                    other.loc
                ),
            ));
        } else {
            fixed.insert(*id, i);
        }
    }
    let mut next = 1u32;
    for (i, px) in proxies.iter_mut().enumerate() {
        if cli_at == Some(i) {
            next += 1;
        }
        if !px.cap.frontend && !px.cap.backend {
            continue; // a peers section's table (parser/peers.rs): no proxy id
        }
        px.id = match &px.knobs.custom_id {
            Some((id, _)) => *id,
            None => {
                while fixed.contains_key(&next) {
                    next += 1;
                }
                next
            }
        };
        next += 1;
    }
}

/// The proxy's type as HAProxy names it in messages.
fn kind(px: &Proxy) -> &'static str {
    match (px.cap.frontend, px.cap.backend) {
        (true, true) => "proxy",
        (true, false) => "frontend",
        _ => "backend",
    }
}

#[cfg(test)]
mod tests {
    use crate::cfg::diag::Diagnostics;

    fn ids(text: &str) -> (Vec<(String, u32)>, Vec<String>) {
        let mut diags = Diagnostics::default();
        let cfg = super::super::parse(&[("t.cfg".into(), text.into())], &mut diags);
        let alerts = diags.items.iter().map(|d| d.to_string()).collect();
        (cfg.proxies.iter().map(|p| (p.name.clone(), p.id)).collect(), alerts)
    }

    fn named(list: &[(&str, u32)]) -> Vec<(String, u32)> {
        list.iter().map(|(n, i)| (n.to_string(), *i)).collect()
    }

    /// Observed with HAProxy 2.6.12 (`show stat` iid): the counter moves
    /// past fixed ids as well, and skips ids fixed further down.
    #[test]
    fn automatic_ids_fill_around_fixed_ones() {
        let cli = "global\n stats timeout 5s\n";
        let (got, alerts) =
            ids(&format!("{cli}frontend fe\n id 5\nbackend be\nbackend be2\nbackend be3\n id 3\n"));
        assert!(alerts.is_empty(), "{alerts:?}");
        assert_eq!(got, named(&[("fe", 5), ("be", 4), ("be2", 6), ("be3", 3)]));
        let (got, _) =
            ids(&format!("{cli}frontend fe\n id 1\nbackend be\nbackend be2\nbackend be3\n id 2\n"));
        assert_eq!(got, named(&[("fe", 1), ("be", 3), ("be2", 4), ("be3", 2)]));
        let (got, _) = ids(&format!("{cli}frontend fe\nbackend be\nlisten l\n"));
        assert_eq!(got, named(&[("fe", 2), ("be", 3), ("l", 4)]));
        // Without the CLI proxy, or with it after them, the first proxy is 1.
        let (got, _) = ids("frontend fe\nbackend be\n");
        assert_eq!(got, named(&[("fe", 1), ("be", 2)]));
        let (got, _) = ids(&format!("frontend fe\n{cli}backend be\n"));
        assert_eq!(got, named(&[("fe", 1), ("be", 3)]));
    }

    #[test]
    fn a_fixed_id_used_twice_is_refused() {
        let (_, alerts) = ids("frontend fe\n id 5\nbackend be\n id 5\n");
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert!(
            alerts[0].contains("t.cfg:4")
                && alerts[0]
                    .contains("backend be reuses same custom id as frontend fe (declared at t.cfg:1)."),
            "{alerts:?}"
        );
    }
}
