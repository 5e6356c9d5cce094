//! `resolvers NAME` sections: `nameserver`, `parse-resolv-conf`,
//! `resolve_retries`, `timeout resolve|retry`, `hold`,
//! `accepted_payload_size`, with HAProxy 2.6's messages word for word.

use super::addr::{self, Use};
use crate::cfg::diag::{Diag, Diagnostics};
use crate::cfg::model::{Config, Loc};
use crate::cfg::resolvers::{Nameserver, ResolversSection};
use crate::cfg::time::{TimeError, parse_time_checked};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Where `parse-resolv-conf` reads (HAProxy's fixed path).
const RESOLV_CONF: &str = "/etc/resolv.conf";

/// Characters HAProxy allows in section and name server names.
fn invalid_char(name: &str) -> Option<char> {
    name.chars().find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c)))
}

/// `resolvers NAME`: the section header. None when it is refused (its
/// body is then skipped). A duplicate name stops the parsing, as
/// HAProxy's `ERR_ABORT` does.
pub(super) fn open(
    cfg: &Config,
    words: &[String],
    loc: &Loc,
    diags: &mut Diagnostics,
) -> Option<ResolversSection> {
    let name = words.get(1).filter(|n| !n.is_empty());
    let Some(name) = name else {
        diags.push(Diag::alert(loc, "missing name for resolvers section."));
        return None;
    };
    if let Some(c) = invalid_char(name) {
        diags.push(Diag::alert(
            loc,
            format!("character '{c}' is not permitted in 'resolvers' name '{name}'."),
        ));
        return None;
    }
    if let Some(other) = cfg.resolvers.iter().find(|r| r.name == *name) {
        diags.push(Diag::alert_global(format!(
            "Parsing [{loc}]: resolvers '{name}' has same name as another resolvers (declared at {}).",
            other.loc
        )));
        diags.aborted = true;
        return None;
    }
    Some(ResolversSection::new(name.clone(), loc.clone()))
}

/// One line inside a `resolvers` section.
pub(super) fn keyword(r: &mut ResolversSection, words: &[String], loc: &Loc, diags: &mut Diagnostics) {
    let kw = words[0].as_str();
    let arg = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
    let res: Result<(), Diag> = match kw {
        "nameserver" => nameserver(r, words, loc),
        "parse-resolv-conf" => match std::fs::read_to_string(RESOLV_CONF) {
            Ok(text) => {
                for w in resolv_conf(r, &text, loc) {
                    diags.push(Diag::warning_global(format!("parsing [{loc}]: {w}")));
                }
                Ok(())
            }
            Err(_) => Err(Diag::alert_global(format!("parsing [{loc}]: failed to open {RESOLV_CONF}."))),
        },
        "hold" => {
            if arg(2).is_empty() {
                diags.push(Diag::alert(loc, "'hold' expects an <event> and a <time> as arguments."));
                Err(Diag::alert_global(
                    "<event> can be either 'valid', 'nx', 'refused', 'timeout', or 'other'",
                ))
            } else {
                let what = format!("<{}> to <hold>", arg(1));
                match period(arg(2), &what, "<hold>", loc) {
                    Err(d) => Err(d),
                    Ok(t) => {
                        let h = &mut r.hold;
                        let slot = match arg(1) {
                            "nx" => Some(&mut h.nx),
                            "other" => Some(&mut h.other),
                            "refused" => Some(&mut h.refused),
                            "timeout" => Some(&mut h.timeout),
                            "valid" => Some(&mut h.valid),
                            "obsolete" => Some(&mut h.obsolete),
                            _ => None,
                        };
                        match slot {
                            Some(s) => {
                                *s = t;
                                Ok(())
                            }
                            None => Err(Diag::alert(
                                loc,
                                format!(
                                    "'hold' unknown <event>: '{}', expects either 'nx', 'timeout', 'valid', \
                                     'obsolete' or 'other'.",
                                    arg(1)
                                ),
                            )),
                        }
                    }
                }
            }
        }
        "accepted_payload_size" => {
            if arg(1).is_empty() {
                Err(Diag::alert(loc, format!("'{kw}' expects <nb> as argument.")))
            } else {
                match atoi(arg(1)) {
                    n @ 12..=65535 => {
                        r.accepted_payload_size = n as u16;
                        Ok(())
                    }
                    _ => Err(Diag::alert(
                        loc,
                        format!("'{kw}' must be between 12 and 65535 inclusive (was {}).", arg(1)),
                    )),
                }
            }
        }
        "resolution_pool_size" => Err(Diag::alert(
            loc,
            format!("'{kw}' directive is not supported anymore (it never appeared in a stable release)."),
        )),
        "resolve_retries" => {
            if arg(1).is_empty() {
                Err(Diag::alert(loc, format!("'{kw}' expects <nb> as argument.")))
            } else {
                // HAProxy's atoi: 0 (or garbage) leaves a single query.
                r.resolve_retries = atoi(arg(1)).max(0) as u32;
                Ok(())
            }
        }
        "timeout" => match arg(1) {
            "" => Err(Diag::alert(loc, "'timeout' expects 'retry' or 'resolve' and <time> as arguments.")),
            which @ ("retry" | "resolve") => {
                if arg(2).is_empty() {
                    Err(Diag::alert(loc, format!("'timeout {which}' expects <time> as argument.")))
                } else {
                    let what = format!("<{}> to <timeout {which}>", arg(2));
                    period(arg(2), &what, &format!("<timeout {which}>"), loc).map(|t| {
                        if which == "retry" {
                            r.timeout_retry = t;
                        } else {
                            r.timeout_resolve = t;
                        }
                    })
                }
            }
            other => Err(Diag::alert(
                loc,
                format!("'timeout' expects 'retry' or 'resolve' and <time> as arguments got '{other}'."),
            )),
        },
        _ => Err(Diag::alert(loc, format!("unknown keyword '{kw}' in 'resolvers' section"))),
    };
    if let Err(d) = res {
        diags.push(d);
    }
}

/// `nameserver NAME ADDR:PORT`: a UDP name server (`udp@`, `udp4@`,
/// `udp6@` prefixes allowed). Stream name servers (`tcp@`) are refused:
/// strata asks over UDP only.
fn nameserver(r: &mut ResolversSection, words: &[String], loc: &Loc) -> Result<(), Diag> {
    let (Some(name), Some(text)) = (words.get(1), words.get(2).filter(|a| !a.is_empty())) else {
        return Err(Diag::alert(loc, "'nameserver' expects <name> and <addr>[:<port>] as arguments."));
    };
    if let Some(c) = invalid_char(name) {
        return Err(Diag::alert(loc, format!("character '{c}' is not permitted in server name '{name}'.")));
    }
    if let Some(other) = r.nameservers.iter().find(|n| n.name == *name) {
        return Err(Diag::alert_global(format!(
            "Parsing [{loc}]: nameserver '{name}' has same name as another nameserver (declared at {}).",
            other.loc
        )));
    }
    let what = format!("'nameserver {name}'");
    if text.starts_with("tcp") && text.contains('@') {
        return Err(Diag::alert(
            loc,
            format!("{what} : stream name servers ('{text}') are not supported by strata yet: use UDP."),
        ));
    }
    if let Some(x) = words.get(3) {
        return Err(Diag::alert(
            loc,
            format!("{what} : '{x}' is not supported by strata for UDP name servers."),
        ));
    }
    let addr = match addr::inet(text, Use::Log) {
        Ok((ip, Some(port))) => SocketAddr::new(ip, port),
        Ok((_, None)) => {
            return Err(Diag::alert(loc, format!("{what} : missing port specification in '{text}'")));
        }
        Err(e) => return Err(Diag::alert(loc, format!("{what} : {e}"))),
    };
    r.nameservers.push(Nameserver { name: name.clone(), addr, loc: loc.clone() });
    Ok(())
}

/// `parse-resolv-conf`: each `nameserver IP` line of resolv.conf `text`
/// becomes a name server named by its address, port 53. Returns the
/// warnings (lines skipped).
fn resolv_conf(r: &mut ResolversSection, text: &str, loc: &Loc) -> Vec<String> {
    let mut warnings = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let Some(rest) = line.strip_prefix("nameserver") else { continue };
        if !rest.starts_with([' ', '\t']) && !rest.is_empty() {
            continue;
        }
        let Some(address) = rest.split_whitespace().next() else {
            warnings.push(format!("parsing [{RESOLV_CONF}:{n}] : nameserver line is missing address."));
            continue;
        };
        if let Some(other) = r.nameservers.iter().find(|ns| ns.name == address) {
            warnings.push(format!(
                "Parsing [{RESOLV_CONF}:{n}] : generated name for {RESOLV_CONF} nameserver '{address}' conflicts \
                 with another nameserver (declared at {}), it appears to be a duplicate and will be excluded.",
                other.loc
            ));
            continue;
        }
        let Ok(ip) = address.parse::<IpAddr>() else {
            warnings.push(format!(
                "parsing [{RESOLV_CONF}:{n}] : address '{address}' could not be recognized, nameserver will be excluded."
            ));
            continue;
        };
        r.nameservers.push(Nameserver {
            name: address.to_owned(),
            addr: SocketAddr::new(ip, 53),
            loc: loc.clone(),
        });
    }
    warnings
}

/// A period of `hold` or `timeout` in HAProxy's words for each error.
fn period(text: &str, what: &str, kw: &str, loc: &Loc) -> Result<Duration, Diag> {
    match parse_time_checked(text) {
        Ok(t) if t.is_zero() || t >= Duration::from_millis(1) => Ok(t),
        Ok(_) => Err(Diag::alert_global(format!(
            "parsing [{loc}]: timer underflow in argument {what}, minimum non-null value is 1 ms."
        ))),
        Err(TimeError::Overflow) => Err(Diag::alert_global(format!(
            "parsing [{loc}]: timer overflow in argument {what}, maximum value is 2147483647 ms (~24.8 days)."
        ))),
        Err(TimeError::BadChar(c)) => Err(Diag::alert_global(format!(
            "parsing [{loc}]: unexpected character '{c}' in argument to {kw}."
        ))),
        Err(TimeError::Empty) => {
            Err(Diag::alert_global(format!("parsing [{loc}]: missing value in argument to {kw}.")))
        }
    }
}

/// C's `atoi`: leading digits (with a sign), 0 when there are none.
fn atoi(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let end = digits.bytes().take_while(u8::is_ascii_digit).count();
    let v = digits[..end].parse::<i64>().unwrap_or(if end > 0 { i64::MAX } else { 0 });
    if neg { -v } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc() -> Loc {
        Loc { file: "t.cfg".into(), line: 3 }
    }

    #[test]
    fn resolv_conf_lines_become_name_servers() {
        let mut r = ResolversSection::new("dns".into(), loc());
        let text = "search example.com\nnameserver 10.0.0.1\nnameserver\nnameserver ::1\nnameserver bogus\nnameserver 10.0.0.1\n";
        let w = resolv_conf(&mut r, text, &loc());
        let names: Vec<_> = r.nameservers.iter().map(|n| (n.name.as_str(), n.addr.to_string())).collect();
        assert_eq!(names, [("10.0.0.1", "10.0.0.1:53".to_string()), ("::1", "[::1]:53".to_string())]);
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].contains("missing address"));
        assert!(w[1].contains("'bogus' could not be recognized"));
        assert!(w[2].contains("conflicts with another nameserver"));
    }

    #[test]
    fn atoi_reads_like_c() {
        assert_eq!(atoi("512"), 512);
        assert_eq!(atoi("12abc"), 12);
        assert_eq!(atoi("abc"), 0);
        assert_eq!(atoi("-3"), -3);
    }
}
