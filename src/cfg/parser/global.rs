//! Keywords of the `global` section. Several `global` sections merge into
//! one [`Global`]; a keyword written twice keeps its last value.

use super::args::{Res, int, no_extra};
use super::log::{self, LogLine};
use super::{process, stats};
use crate::cfg::diag::Diagnostics;
use crate::cfg::model::{Global, Loc};
use crate::cfg::time::parse_time_checked;
use std::path::PathBuf;

/// Applies one `global` line to `g`. `words[0]` is the keyword. Warnings
/// go to `diags`; the error is the line's alert.
pub(super) fn keyword(g: &mut Global, words: &[String], loc: &Loc, diags: &mut Diagnostics) -> Res {
    let kw = words[0].as_str();
    let arg = words.get(1);
    match kw {
        "maxconn" => {
            g.maxconn = Some(int(kw, arg)?);
            no_extra(kw, words, 2)
        }
        "maxconnrate" | "maxsessrate" | "maxsslrate" => {
            let r = &mut g.rate_limits;
            let slot = match kw {
                "maxconnrate" => &mut r.conn,
                "maxsessrate" => &mut r.sess,
                _ => &mut r.ssl,
            };
            // HAProxy keeps the first value and says so (its alert is not fatal).
            if *slot != 0 {
                return Err(format!("'{kw}' already specified. Continuing."));
            }
            *slot = int(kw, arg)?;
            no_extra(kw, words, 2)
        }
        "set-var" | "set-var-fmt" => {
            let (Some(name), Some(value)) = (arg, words.get(2)) else {
                return Err(format!(
                    "'{kw}' expects a variable name and a {}.",
                    if kw == "set-var" { "sample expression" } else { "log-format string" }
                ));
            };
            no_extra(kw, words, 3)?;
            g.set_vars.push(crate::cfg::model::GlobalSetVar {
                loc: loc.clone(),
                name: name.clone(),
                value: value.clone(),
                fmt: kw == "set-var-fmt",
            });
            Ok(())
        }
        "nbthread" => {
            g.nbthread = super::threads::nbthread(arg)?;
            no_extra(kw, words, 2)
        }
        "thread-groups" => {
            super::threads::thread_groups(arg)?;
            no_extra(kw, words, 2)
        }
        "cpu-map" => {
            g.cpu_map.extend(super::threads::cpu_map(words)?);
            Ok(())
        }
        "expose-experimental-directives" => {
            g.expose_experimental = true;
            no_extra(kw, words, 1)
        }
        "log" => match log::parse(words, true, loc)? {
            LogLine::Target(t) => {
                g.logs.push(t);
                Ok(())
            }
            LogLine::Global => Err("log : 'global' is not supported for a global syslog server".into()),
        },
        "stats" => match arg.map(String::as_str) {
            Some("socket") => {
                let mut warnings = Vec::new();
                let sock = stats::socket(words, loc, &mut |w| warnings.push(w));
                for w in warnings {
                    diags.push(crate::cfg::diag::Diag::warning(loc, w));
                }
                g.stats_sockets.push(sock?);
                Ok(())
            }
            Some("timeout") => {
                let v = words.get(2).map_or("", String::as_str);
                let t = parse_time_checked(v).map_err(|e| format!("'stats timeout' : {e}"))?;
                if t.is_zero() {
                    return Err("'stats timeout' expects a positive value".into());
                }
                g.stats_timeout = t;
                no_extra("stats timeout", words, 3)
            }
            Some("maxconn") => {
                let v = words.get(2).map_or("", String::as_str);
                // HAProxy reads it with atol() and ignores what follows
                let n =
                    v.bytes().take_while(u8::is_ascii_digit).fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
                if n == 0 || n > u64::from(u32::MAX) {
                    return Err("'stats maxconn' expects a positive value".into());
                }
                g.stats_maxconn = n as u32;
                Ok(())
            }
            Some("bind-process") => {
                let v = words.get(2).map_or("", String::as_str);
                // one process: only process 1 can be named (`thread` sets are cut as on `bind` lines)
                let mut scratch = crate::cfg::listen::BindOpts::default();
                super::bind_threads::process(&mut scratch, v)
                    .map_err(|e| format!("'stats bind-process' : {e}"))
            }
            other => Err(format!(
                "'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got '{}')",
                other.unwrap_or_default()
            )),
        },
        "node" => {
            let valid = |n: &String| {
                !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            };
            match arg {
                Some(n) if valid(n) => g.node = Some(n.clone()),
                _ => {
                    return Err("'node' requires valid node name - non-empty string with digits(0-9), \
                                letters(A-Z, a-z), dot(.), hyphen(-) or underscore(_)."
                        .into());
                }
            }
            no_extra(kw, words, 2)
        }
        "description" => {
            if words.len() < 2 {
                return Err("'description' expects a string argument.".into());
            }
            g.description = Some(words[1..].join(" "));
            Ok(())
        }
        "pidfile" => {
            match arg {
                Some(p) if !p.is_empty() => g.pidfile = Some(PathBuf::from(p)),
                _ => return Err("'pidfile' expects a file name as an argument.".into()),
            }
            no_extra(kw, words, 2)
        }
        "tune.bufsize" => {
            match arg.and_then(|v| v.parse::<usize>().ok()).filter(|n| *n > 0) {
                Some(n) if arg.is_some_and(|v| v.bytes().all(|b| b.is_ascii_digit())) => g.tune_bufsize = n,
                _ => return Err("'tune.bufsize' expects a positive integer argument.".into()),
            }
            no_extra(kw, words, 2)
        }
        "ulimit-n" => {
            g.ulimit_n = Some(int(kw, arg)?);
            no_extra(kw, words, 2)
        }
        k if k.starts_with("tune.h2.") => super::h2tune::keyword(&mut g.h2, words),
        "h2-workaround-bogus-websocket-clients" => {
            g.h2.no_ext_connect = true;
            no_extra(kw, words, 1)
        }
        _ => process::line(g, words, loc, diags),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn apply(g: &mut Global, line: &str) -> Res {
        let words: Vec<String> = line.split_whitespace().map(String::from).collect();
        keyword(g, &words, &Loc::default(), &mut Diagnostics::default())
    }

    #[test]
    fn accepted() {
        let mut g = Global::default();
        for line in [
            "maxconn 1000",
            "nbthread 1",
            "nbthread 4",
            "log stdout local0",
            "stats socket /tmp/s level admin mode 600",
            "stats timeout 30s",
            "node my-node_1.a",
            "description two   words",
            "pidfile /run/x.pid",
            "tune.bufsize 32768",
            "ulimit-n 4096",
            "daemon",
        ] {
            assert_eq!(apply(&mut g, line), Ok(()), "{line}");
        }
        assert_eq!(g.maxconn, Some(1000));
        assert_eq!(g.logs.len(), 1);
        assert_eq!(g.stats_sockets.len(), 1);
        assert_eq!(g.stats_timeout, Duration::from_secs(30));
        assert_eq!(g.node.as_deref(), Some("my-node_1.a"));
        assert_eq!(g.description.as_deref(), Some("two words"));
        assert_eq!(g.pidfile, Some(PathBuf::from("/run/x.pid")));
        assert_eq!((g.tune_bufsize, g.ulimit_n), (32768, Some(4096)));
    }

    #[test]
    fn refused() {
        let mut g = Global::default();
        let err = |g: &mut Global, l: &str| apply(g, l).err().unwrap_or_default();
        assert_eq!(err(&mut g, "nbthread 0"), "'nbthread' value must be between 1 and 64 (was 0)");
        assert_eq!(err(&mut g, "nbthread 65"), "'nbthread' value must be between 1 and 64 (was 65)");
        assert_eq!(
            err(&mut g, "nbthread x"),
            "'nbthread' passed a missing or unparsable integer value in 'x'"
        );
        assert_eq!(err(&mut g, "maxconn abc"), "'maxconn' expects an integer argument (got 'abc').");
        assert_eq!(err(&mut g, "maxconn 5 6"), "'maxconn' cannot handle unexpected argument '6'.");
        assert_eq!(err(&mut g, "stats timeout 5x"), "'stats timeout' : unexpected character 'x'");
        assert_eq!(
            err(&mut g, "stats foo"),
            "'stats' only supports 'socket', 'maxconn', 'bind-process' and 'timeout' (got 'foo')"
        );
        assert_eq!(err(&mut g, "description"), "'description' expects a string argument.");
        assert!(err(&mut g, "node a/b").starts_with("'node' requires valid node name"));
        assert_eq!(err(&mut g, "pidfile"), "'pidfile' expects a file name as an argument.");
        assert_eq!(err(&mut g, "tune.bufsize 0"), "'tune.bufsize' expects a positive integer argument.");
        assert_eq!(err(&mut g, "daemon extra"), "'daemon' cannot handle unexpected argument 'extra'.");
        assert_eq!(err(&mut g, "chroot"), "'chroot' expects a directory as an argument.");
        assert_eq!(err(&mut g, "nosuchkw /x"), "unknown keyword 'nosuchkw' in 'global' section");
        assert_eq!(err(&mut g, "log global"), "log : 'global' is not supported for a global syslog server");
    }
}
