//! What a proxy logs and how: `option httplog [clf]`, `option tcplog`,
//! `option logasap`, `log-format`, `log-format-sd`, `error-log-format`
//! and the proxy's `log-tag`, with HAProxy 2.6's warnings (a format set
//! twice in `defaults`, a format in a backend). The strings are compiled
//! with the rules (`l6_stream::rules`), which need the sample engine.

use super::args::Res;
use super::section::{Kind, Open};
use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::knobs::{FormatLine, LogFormatKind};
use crate::cfg::model::Loc;

/// `option httplog|tcplog|logasap` (`words[0]` is the option name);
/// None for other options.
pub(super) fn option(
    o: &mut Open,
    words: &[String],
    negate: bool,
    loc: &Loc,
    diags: &mut Diagnostics,
) -> Option<Res> {
    let name = words.first()?.as_str();
    let kind = match name {
        "httplog" | "tcplog" if negate => {
            diags.push(Diag::alert_global(format!(
                "parsing [{loc}]: negation/default is not supported for option '{name}'."
            )));
            return Some(Ok(()));
        }
        "httplog" => match words.get(1).map(String::as_str) {
            None => LogFormatKind::Http,
            Some("clf") => LogFormatKind::HttpClf,
            Some(_) => return Some(Err("keyword 'httplog' only supports option 'clf'.".into())),
        },
        "tcplog" => LogFormatKind::Tcp,
        "logasap" => {
            return Some(
                super::proxy::need(o, "option logasap", super::proxy::Side::Front)
                    .and_then(|()| super::args::no_extra("option logasap", words, 1))
                    .map(|()| o.px.knobs.logasap = !negate),
            );
        }
        _ => return None,
    };
    let max = if kind == LogFormatKind::HttpClf { 2 } else { 1 };
    if let Some(extra) = words.get(max) {
        return Some(Err(format!("'option {name}' cannot handle unexpected argument '{extra}'.")));
    }
    let what = format!("option {name}");
    set_format(o, kind, &what, loc, diags);
    Some(Ok(()))
}

/// `log-format`, `log-format-sd`, `error-log-format`, `log-tag`; None for
/// other keywords.
pub(super) fn keyword(o: &mut Open, words: &[String], loc: &Loc, diags: &mut Diagnostics) -> Option<Res> {
    let kw = words[0].as_str();
    if !matches!(kw, "log-format" | "log-format-sd" | "error-log-format" | "log-tag") {
        return None;
    }
    let Some(arg) = words.get(1).filter(|a| !a.is_empty()) else {
        if kw == "log-tag" {
            return Some(Err("'log-tag' expects a tag for use in syslog.".into()));
        }
        return Some(Err(format!("{kw} expects an argument.")));
    };
    if words.len() > 2 {
        return Some(Err(format!("{kw} expects only one argument, don't forget to escape spaces!")));
    }
    match kw {
        "log-tag" => o.px.knobs.log_tag = Some(arg.clone()),
        "log-format" => set_format(o, LogFormatKind::Custom(arg.clone()), kw, loc, diags),
        _ => {
            in_backend_warning(o, kw, loc, diags);
            let line = Some(FormatLine { kind: arg.clone(), loc: loc.clone() });
            if kw == "log-format-sd" {
                o.px.knobs.log_format_sd = line;
            } else {
                if o.kind == Kind::Defaults && o.px.knobs.error_log_format.is_some() {
                    diags.push(Diag::warning_global(format!(
                        "parsing [{loc}]: 'error-log-format' overrides previous 'error-log-format' in \
                         'defaults' section."
                    )));
                }
                o.px.knobs.error_log_format = line;
            }
        }
    }
    Some(Ok(()))
}

/// Sets the proxy's log line format, warning as HAProxy does when a
/// `defaults` section replaces one or a backend sets one.
fn set_format(o: &mut Open, kind: LogFormatKind, what: &str, loc: &Loc, diags: &mut Diagnostics) {
    if o.kind == Kind::Defaults
        && let Some(old) = &o.px.knobs.log_format
    {
        // HAProxy names the new directive `option httplog clf` only for clf.
        let new = if kind == LogFormatKind::HttpClf { "option httplog clf" } else { what };
        diags.push(Diag::warning_global(format!(
            "parsing [{loc}]: '{new}' overrides previous '{}' in 'defaults' section.",
            old.kind.directive()
        )));
    }
    in_backend_warning(o, what, loc, diags);
    o.px.knobs.log_format = Some(FormatLine { kind, loc: loc.clone() });
}

/// `parsing [file:line] : backend 'b' : 'log-format' directive is ignored in backends.`
fn in_backend_warning(o: &Open, what: &str, loc: &Loc, diags: &mut Diagnostics) {
    if o.kind == Kind::Backend {
        diags.push(Diag::warning(
            loc,
            format!("backend '{}' : '{what}' directive is ignored in backends.", o.px.name),
        ));
    }
}
