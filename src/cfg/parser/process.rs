//! `global` keywords about the process: identity, `chroot`, `daemon`,
//! stop delays, check spreading, syslog header fields, `unix-bind`,
//! environment edits, switches (`strict-limits`, `zero-warning`...) and
//! `default-path`. Error texts are HAProxy 2.6's.

use super::args::{Res, int, no_extra, time};
use super::known::{self, Known};
use super::paths;
use super::tune::{self, Tuned};
use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::model::{Global, Loc};
use crate::cfg::process::{EnvEdit, UnixBind};
use crate::core::os;

/// The end of `global`'s keyword match: this module's keywords, then
/// `tune.*`, then what HAProxy knows and strata does not obey (warned or
/// refused), then "unknown keyword".
pub(super) fn line(g: &mut Global, words: &[String], loc: &Loc, diags: &mut Diagnostics) -> Res {
    let kw = words[0].as_str();
    if let Some(res) = keyword(g, words, loc) {
        return res;
    }
    if let Some(res) = super::global_known::keyword(g, words, loc, diags) {
        return res;
    }
    if kw == "tune.chksize" {
        // HAProxy 2.6 knows it only to say so, without the blank before the colon.
        let text = "option 'tune.chksize' is not supported any more (tune.bufsize is used instead).";
        diags.push(Diag::alert_global(format!("parsing [{loc}]: {text}")));
        return Ok(());
    }
    if kw.starts_with("tune.") {
        return match tune::keyword(g, words) {
            Some(Ok(Tuned::Obeyed)) => Ok(()),
            Some(Ok(Tuned::Warned(w))) => {
                diags.push(Diag::warning(loc, w));
                Ok(())
            }
            Some(Err(e)) => Err(e),
            None => Err(format!("unknown keyword '{kw}' in 'global' section")),
        };
    }
    if let Some(text) = super::removed::global(kw) {
        return Err(text.into());
    }
    match known::global(kw) {
        Some(Known::Warned(why)) => {
            diags.push(Diag::warning(loc, format!("'{kw}' has no effect in strata ({why}); ignored.")));
            Ok(())
        }
        Some(k) => Err(known::refusal(kw, k).unwrap_or_default()),
        None => Err(format!("unknown keyword '{kw}' in 'global' section")),
    }
}

/// Applies `words` when its keyword is one of this module's; `None` when
/// it is not.
pub(super) fn keyword(g: &mut Global, words: &[String], loc: &Loc) -> Option<Res> {
    let kw = words[0].as_str();
    let arg = words.get(1).map_or("", String::as_str);
    let p = &mut g.process;
    let res = match kw {
        "user" => identity_name(kw, words, p.uid.is_some()).and_then(|()| match os::user_by_name(arg) {
            Some(a) => {
                p.uid = Some(a.uid);
                p.user_name = Some(arg.to_string());
                Ok(())
            }
            None => Err(format!("cannot find user id for '{arg}' (0:Success)")),
        }),
        "group" => identity_name(kw, words, p.gid.is_some()).and_then(|()| match os::group_by_name(arg) {
            Some(gid) => {
                p.gid = Some(gid);
                Ok(())
            }
            None => Err(format!("cannot find group id for '{arg}' (0:Success)")),
        }),
        "uid" | "gid" => {
            identity_number(kw, words).map(|n| if kw == "uid" { p.uid = Some(n) } else { p.gid = Some(n) })
        }
        "chroot" => {
            if arg.is_empty() {
                Err("'chroot' expects a directory as an argument.".into())
            } else if p.chroot.is_some() {
                Err("'chroot' already specified.".into())
            } else {
                p.chroot = Some(arg.into());
                no_extra(kw, words, 2)
            }
        }
        "daemon" => flag(&mut p.daemon, kw, words),
        "strict-limits" => flag(&mut p.strict_limits, kw, words),
        "zero-warning" => flag(&mut p.zero_warning, kw, words),
        "quiet" => flag(&mut p.quiet, kw, words),
        "nosplice" => flag(&mut p.nosplice, kw, words),
        "noreuseport" => flag(&mut p.noreuseport, kw, words),
        "set-dumpable" => flag(&mut p.set_dumpable, kw, words),
        "server-state-base" | "server-state-file" => {
            let (slot, what) = if kw == "server-state-base" {
                (&mut p.server_state_base, "expects one argument: a directory path")
            } else {
                (&mut p.server_state_file, "expect one argument: a file path")
            };
            if slot.is_some() {
                Err(format!("'{kw}' already specified. Continuing."))
            } else if arg.is_empty() {
                Err(format!("'{kw}' {what}."))
            } else {
                *slot = Some(arg.to_string());
                Ok(())
            }
        }
        "hard-stop-after" | "grace" => delay(kw, arg).and_then(|d| {
            if kw == "grace" {
                p.grace = Some(d);
            } else {
                p.hard_stop_after = Some(d);
            }
            no_extra(kw, words, 2)
        }),
        "spread-checks" => match arg.parse::<u32>() {
            Ok(n) if n <= 50 && arg.bytes().all(|b| b.is_ascii_digit()) => {
                p.spread_checks = n;
                no_extra(kw, words, 2)
            }
            _ => Err("'spread-checks' needs a positive value in range 0..50.".into()),
        },
        "max-spread-checks" => match (arg.is_empty(), time(kw, arg)) {
            (false, Ok(d)) => {
                p.max_spread_checks = Some(d);
                no_extra(kw, words, 2)
            }
            _ => Err("'max-spread-checks' expects an integer argument (0..50).".into()),
        },
        "log-send-hostname" => {
            p.log_send_hostname = Some(match words.get(1) {
                Some(name) => name.clone(),
                None => os::host_name(),
            });
            no_extra(kw, words, 2)
        }
        "log-tag" => {
            if arg.is_empty() {
                Err("'log-tag' expects a tag for use in syslog.".into())
            } else {
                p.log_tag = Some(arg.to_string());
                no_extra(kw, words, 2)
            }
        }
        "unix-bind" => unix_bind(&mut p.unix_bind, words),
        "maxpipes" => {
            int(kw, words.get(1)).map(|n| p.maxpipes = Some(n)).and_then(|()| no_extra(kw, words, 2))
        }
        "fd-hard-limit" => {
            int(kw, words.get(1)).map(|n| p.fd_hard_limit = Some(n)).and_then(|()| no_extra(kw, words, 2))
        }
        "setenv" | "presetenv" => match (words.get(1), words.get(2)) {
            (Some(n), Some(v)) if !n.is_empty() => {
                p.env.push(if kw == "setenv" {
                    EnvEdit::Set(n.clone(), v.clone())
                } else {
                    EnvEdit::Preset(n.clone(), v.clone())
                });
                no_extra(kw, words, 3)
            }
            _ => Err(format!("'{kw}' expects a name and a value.")),
        },
        "unsetenv" => {
            if words.len() < 2 {
                Err("'unsetenv' expects at least one variable name.".into())
            } else {
                p.env.push(EnvEdit::Unset(words[1..].to_vec()));
                Ok(())
            }
        }
        "resetenv" => {
            p.env.push(EnvEdit::ResetExcept(words[1..].to_vec()));
            Ok(())
        }
        "default-path" => paths::default_path(words, loc),
        _ => return None,
    };
    Some(res)
}

/// `user NAME` / `group NAME`: one argument, given once.
fn identity_name(kw: &str, words: &[String], already: bool) -> Res {
    if words.get(1).is_none_or(|w| w.is_empty()) {
        return Err(format!("'{kw}' expects a name as an argument."));
    }
    if already {
        let which = if kw == "user" { "user/uid" } else { "group/gid" };
        return Err(format!("{which} already specified."));
    }
    no_extra(kw, words, 2)
}

/// `uid N` / `gid N`.
fn identity_number(kw: &str, words: &[String]) -> Result<u32, String> {
    match words.get(1) {
        None => Err(format!("'{kw}' expects an integer argument.")),
        Some(v) if v.is_empty() => Err(format!("'{kw}' expects an integer argument.")),
        Some(v) => {
            let n = v.parse::<u32>().ok().filter(|_| v.bytes().all(|b| b.is_ascii_digit()));
            let n = n.ok_or_else(|| {
                format!(
                    "{kw}: string '{v}' is not a number. You might want to use the '{}' parameter to use a \
                     system {} name.",
                    if kw == "uid" { "user" } else { "group" },
                    if kw == "uid" { "user" } else { "group" },
                )
            })?;
            no_extra(kw, words, 2)?;
            Ok(n)
        }
    }
}

/// A keyword without argument that turns a switch on.
fn flag(slot: &mut bool, kw: &str, words: &[String]) -> Res {
    *slot = true;
    no_extra(kw, words, 1)
}

/// A delay argument with HAProxy's `hard-stop-after` wording.
fn delay(kw: &str, v: &str) -> Result<std::time::Duration, String> {
    if v.is_empty() {
        return Err(format!("'{kw}' expects <time> as argument."));
    }
    match crate::cfg::time::parse_time_checked(v) {
        Ok(d) => Ok(d),
        Err(crate::cfg::time::TimeError::BadChar(c)) => {
            Err(format!("unexpected character '{c}' in argument to <{kw}>."))
        }
        Err(_) => Err(format!("timer overflow in argument <{v}> to <{kw}>.")),
    }
}

/// `unix-bind [prefix P] [mode M] [user U] [uid N] [group G] [gid N]`.
fn unix_bind(u: &mut UnixBind, words: &[String]) -> Res {
    const USAGE: &str =
        "'unix-bind' only supports the 'prefix', 'mode', 'uid', 'gid', 'user' and 'group' options.";
    let mut i = 1;
    if words.len() < 3 {
        return Err(USAGE.into());
    }
    while let Some(opt) = words.get(i) {
        let val = words.get(i + 1).map_or("", String::as_str);
        let missing = || format!("'unix-bind' : '{opt}' expects an argument.");
        if val.is_empty() {
            return Err(missing());
        }
        match opt.as_str() {
            "prefix" => u.prefix = Some(val.into()),
            "mode" => match u32::from_str_radix(val, 8) {
                Ok(m) if val.bytes().all(|b| (b'0'..=b'7').contains(&b)) && m <= 0o7777 => u.mode = Some(m),
                _ => return Err(format!("'unix-bind' : invalid mode '{val}' (octal integer expected).")),
            },
            "uid" | "gid" => {
                let n = int::<u32>(&format!("unix-bind {opt}"), words.get(i + 1))?;
                if opt == "uid" { u.uid = Some(n) } else { u.gid = Some(n) }
            }
            "user" => {
                u.uid = Some(
                    os::user_by_name(val).ok_or_else(|| format!("'unix-bind' : unknown user '{val}'."))?.uid,
                )
            }
            "group" => {
                u.gid = Some(
                    os::group_by_name(val).ok_or_else(|| format!("'unix-bind' : unknown group '{val}'."))?,
                )
            }
            _ => return Err(USAGE.into()),
        }
        i += 2;
    }
    Ok(())
}

/// The value of environment variable `name` as the configuration sees it
/// at this point: the process environment with the edits of the lines
/// read so far applied, in order.
pub(super) fn env_lookup(edits: &[EnvEdit], name: &str) -> Option<String> {
    let mut value = std::env::var(name).ok();
    for e in edits {
        match e {
            EnvEdit::Set(n, v) if n == name => value = Some(v.clone()),
            EnvEdit::Preset(n, v) if n == name && value.is_none() => value = Some(v.clone()),
            EnvEdit::Unset(names) if names.iter().any(|n| n == name) => value = None,
            EnvEdit::ResetExcept(keep) if !keep.iter().any(|n| n == name) => value = None,
            _ => {}
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(lines: &[&str]) -> (Global, Vec<String>) {
        let mut g = Global::default();
        let mut errs = Vec::new();
        for l in lines {
            let words: Vec<String> = l.split_whitespace().map(String::from).collect();
            match keyword(&mut g, &words, &Loc::default()) {
                Some(Ok(())) => {}
                Some(Err(e)) => errs.push(e),
                None => panic!("{l}: not this module's"),
            }
        }
        (g, errs)
    }

    #[test]
    fn accepted() {
        let (g, errs) = run(&[
            "user root",
            "group root",
            "chroot /var/empty",
            "daemon",
            "hard-stop-after 30s",
            "spread-checks 5",
            "max-spread-checks 2s",
            "log-send-hostname web1",
            "log-tag proxy",
            "unix-bind prefix /run/ mode 660 uid 1 gid 2",
            "strict-limits",
            "setenv A 1",
            "presetenv A 2",
            "unsetenv B C",
            "resetenv A",
        ]);
        assert!(errs.is_empty(), "{errs:?}");
        let p = &g.process;
        assert_eq!((p.uid, p.gid, p.user_name.as_deref()), (Some(0), Some(0), Some("root")));
        assert_eq!(p.chroot.as_deref(), Some(std::path::Path::new("/var/empty")));
        assert!(p.daemon && p.strict_limits);
        assert_eq!(p.hard_stop_after, Some(std::time::Duration::from_secs(30)));
        assert_eq!((p.spread_checks, p.max_spread_checks), (5, Some(std::time::Duration::from_secs(2))));
        assert_eq!((p.log_send_hostname.as_deref(), p.log_tag.as_deref()), (Some("web1"), Some("proxy")));
        assert_eq!(
            p.unix_bind,
            UnixBind { prefix: Some("/run/".into()), mode: Some(0o660), uid: Some(1), gid: Some(2) }
        );
        assert_eq!(env_lookup(&p.env, "A").as_deref(), Some("1"));
        assert_eq!(env_lookup(&p.env, "PATH"), None); // resetenv A removed it
    }

    #[test]
    fn env_edits_in_order() {
        let set = |n: &str, v: &str| EnvEdit::Set(n.into(), v.into());
        let pre = |n: &str, v: &str| EnvEdit::Preset(n.into(), v.into());
        let name = "STRATA_TEST_SURELY_UNSET_VAR";
        assert_eq!(env_lookup(&[pre(name, "p")], name).as_deref(), Some("p"));
        assert_eq!(env_lookup(&[set(name, "s"), pre(name, "p")], name).as_deref(), Some("s"));
        assert_eq!(env_lookup(&[set(name, "s"), EnvEdit::Unset(vec![name.into()])], name), None);
        assert_eq!(env_lookup(&[EnvEdit::ResetExcept(vec![]), pre(name, "p")], name).as_deref(), Some("p"));
    }

    #[test]
    fn refused_with_haproxy_wording() {
        let (_, errs) = run(&[
            "user no-such-user-strata",
            "group no-such-group-strata",
            "gid",
            "chroot",
            "hard-stop-after 5x",
            "spread-checks 80",
            "max-spread-checks",
            "log-tag",
            "unix-bind foo",
            "setenv A",
            "strict-limits x",
        ]);
        assert_eq!(
            errs,
            [
                "cannot find user id for 'no-such-user-strata' (0:Success)",
                "cannot find group id for 'no-such-group-strata' (0:Success)",
                "'gid' expects an integer argument.",
                "'chroot' expects a directory as an argument.",
                "unexpected character 'x' in argument to <hard-stop-after>.",
                "'spread-checks' needs a positive value in range 0..50.",
                "'max-spread-checks' expects an integer argument (0..50).",
                "'log-tag' expects a tag for use in syslog.",
                "'unix-bind' only supports the 'prefix', 'mode', 'uid', 'gid', 'user' and 'group' options.",
                "'setenv' expects a name and a value.",
                "'strict-limits' cannot handle unexpected argument 'x'.",
            ]
        );
    }
}
