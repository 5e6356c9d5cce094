//! `tcp-check expect` / `http-check expect`: `[!]string`, `[!]binary`,
//! `[!]rstring`, `[!]rbinary` (TCP), `[!]status`, `[!]rstatus`,
//! `[!]string`/`rstring` over the body (HTTP), with `min-recv`,
//! `ok-status`, `error-status`, `tout-status`, `on-success`, `on-error`,
//! `comment`, as HAProxy 2.6's `parse_tcpcheck_expect`.

use super::checks::parse_hex;
use crate::cfg::checks::{CheckAction, CheckMsg, CheckStatus, ExpectKind, ExpectRule};

/// The arguments after `expect`.
pub(super) fn expect(args: &[String], http: bool) -> Result<(CheckAction, Option<String>), String> {
    if args.is_empty() {
        return Err("expects at least a matching pattern as arguments".into());
    }
    let mut rule = ExpectRule {
        kind: ExpectKind::Status(Vec::new()),
        negate: false,
        min_recv: None,
        ok_status: None,
        error_status: None,
        timeout_status: None,
        on_success: None,
        on_error: None,
        status_code: None,
    };
    let mut kind: Option<ExpectKind> = None;
    let mut comment = None;
    let mut i = 0;
    while let Some(word) = args.get(i) {
        let mut w = word.as_str();
        let in_pattern = w.starts_with('!');
        while let Some(rest) = w.strip_prefix('!') {
            rule.negate = !rule.negate;
            w = rest;
        }
        if w.is_empty() {
            i += 1;
            let Some(next) = args.get(i) else { break };
            w = next.as_str();
        }
        let val = args.get(i + 1).filter(|v| !v.is_empty());
        let pattern = || val.cloned().ok_or(format!("'{w}' expects a <pattern> as argument"));
        let string_arg = || val.cloned().ok_or(format!("'{w}' expects a string as argument"));
        let bad_kw = || {
            if http {
                format!(
                    "'only supports min-recv, [!]string', '[!]rstring', '[!]string-lf', '[!]status', '[!]rstatus', \
                     [!]hdr, [!]fhdr or comment but got '{w}' as argument."
                )
            } else {
                format!(
                    "'only supports min-recv, '[!]binary', '[!]string', '[!]rstring', '[!]string-lf''[!]rbinary', \
                     '[!]binary-lf' or comment but got '{w}' as argument."
                )
            }
        };
        if in_pattern && !matches!(w, "string" | "rstring" | "binary" | "rbinary" | "status" | "rstatus") {
            return Err(format!("[!] not supported with '{w}'"));
        }
        let new_kind = match w {
            "string" => Some(ExpectKind::String(pattern()?.into_bytes())),
            "rstring" => Some(ExpectKind::Rstring(regex(&pattern()?)?)),
            "binary" if !http => Some(ExpectKind::Binary(
                parse_hex(&pattern()?).map_err(|e| format!("invalid binary string ({e})"))?,
            )),
            "rbinary" if !http => Some(ExpectKind::Rbinary(regex(&pattern()?)?)),
            "status" if http => Some(ExpectKind::Status(codes(&pattern()?)?)),
            "rstatus" if http => Some(ExpectKind::Rstatus(regex(&pattern()?)?)),
            "string-lf" | "binary-lf" | "hdr" | "fhdr" | "custom" => {
                return Err(format!("'{w}' is not supported by strata yet"));
            }
            _ => None,
        };
        if let Some(k) = new_kind {
            if kind.is_some() {
                return Err("only on pattern expected".into());
            }
            kind = Some(k);
            i += 2;
            continue;
        }
        match w {
            "min-recv" => {
                let v = val.ok_or(format!("'{w}' expects a integer as argument"))?;
                rule.min_recv = match v.parse::<i64>() {
                    Ok(-1) => None,
                    Ok(n) if (0..=i32::MAX as i64).contains(&n) => Some(n as usize),
                    _ => return Err(format!("'{w}' expects -1 or an integer from 0 to INT_MAX")),
                };
            }
            "comment" => comment = Some(string_arg()?),
            "on-success" => rule.on_success = Some(message(&string_arg()?)?),
            "on-error" => rule.on_error = Some(message(&string_arg()?)?),
            "ok-status" => {
                rule.ok_status = Some(match string_arg()?.to_ascii_uppercase().as_str() {
                    "L7OK" => CheckStatus::L7Ok,
                    "L7OKC" => CheckStatus::L7OkC,
                    "L6OK" => CheckStatus::L6Ok,
                    "L4OK" => CheckStatus::L4Ok,
                    other => {
                        return Err(format!(
                            "'{w}' only supports 'L4OK', 'L6OK', 'L7OK' or 'L7OKC' status (got '{other}')."
                        ));
                    }
                })
            }
            "error-status" => {
                rule.error_status = Some(match string_arg()?.to_ascii_uppercase().as_str() {
                    "L7RSP" => CheckStatus::L7Rsp,
                    "L7STS" => CheckStatus::L7Sts,
                    "L7OKC" => CheckStatus::L7OkC,
                    "L6RSP" => CheckStatus::L6Rsp,
                    "L4CON" => CheckStatus::L4Con,
                    other => {
                        return Err(format!(
                            "'{w}' only supports 'L4CON', 'L6RSP', 'L7RSP' or 'L7STS' status (got '{other}')."
                        ));
                    }
                })
            }
            "tout-status" => {
                rule.timeout_status = Some(match string_arg()?.to_ascii_uppercase().as_str() {
                    "L7TOUT" => CheckStatus::L7Tout,
                    "L6TOUT" => CheckStatus::L6Tout,
                    "L4TOUT" => CheckStatus::L4Tout,
                    other => {
                        return Err(format!(
                            "'{w}' only supports 'L4TOUT', 'L6TOUT' or 'L7TOUT' status (got '{other}')."
                        ));
                    }
                })
            }
            "status-code" => return Err("'status-code' is not supported by strata yet".into()),
            _ => return Err(bad_kw()),
        }
        i += 2;
    }
    rule.kind = kind.ok_or("pattern not found")?;
    Ok((CheckAction::Expect(rule), comment))
}

/// `status 200`, `status 200-399`, `status 200,301-302`.
fn codes(p: &str) -> Result<Vec<(u16, u16)>, String> {
    let num = |s: &str| {
        let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
        (digits.parse::<u32>().unwrap_or(0).min(u16::MAX as u32) as u16, s.len() - digits.len())
    };
    let mut out = Vec::new();
    for part in p.split(',') {
        let (lo, hi) = part.split_once('-').unwrap_or((part, part));
        let ((a, ra), (b, rb)) = (num(lo), num(hi));
        if let Some(c) = lo.chars().chain(hi.chars()).find(|c| !c.is_ascii_digit()).filter(|_| ra + rb > 0) {
            return Err(format!("invalid character '{c}' in the list of status codes"));
        }
        if a > b {
            return Err(format!("invalid range of status codes '{p}'"));
        }
        out.push((a, b));
    }
    Ok(out)
}

/// A regex as the check will run it (its syntax checked now).
fn regex(p: &str) -> Result<String, String> {
    regex::bytes::Regex::new(p).map(|_| p.to_string()).map_err(|e| format!("regex '{p}' is invalid: {e}"))
}

/// `on-success` / `on-error` texts: literal (log-format variables are not
/// supported yet).
fn message(text: &str) -> Result<CheckMsg, String> {
    if text.contains('%') {
        return Err(format!("log-format in '{text}' is not supported by strata yet"));
    }
    Ok(CheckMsg::Text(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    fn parsed(s: &str, http: bool) -> Result<ExpectRule, String> {
        match expect(&w(s), http)?.0 {
            CheckAction::Expect(e) => Ok(e),
            _ => Err("not an expect".into()),
        }
    }

    #[test]
    fn patterns_and_options() {
        let e = parsed("! string +PONG min-recv 5 error-status L7STS", false).expect("ok");
        assert_eq!(
            (e.negate, e.kind, e.min_recv, e.error_status),
            (true, ExpectKind::String(b"+PONG".to_vec()), Some(5), Some(CheckStatus::L7Sts))
        );
        let e = parsed("!rstatus ^5", true).expect("ok");
        assert!(e.negate && matches!(e.kind, ExpectKind::Rstatus(_)));
        assert_eq!(
            parsed("status 200,301-302", true).expect("ok").kind,
            ExpectKind::Status(vec![(200, 200), (301, 302)])
        );
        assert_eq!(parsed("binary 0a0B", false).expect("ok").kind, ExpectKind::Binary(vec![10, 11]));
    }

    #[test]
    fn errors() {
        assert_eq!(parsed("status 200 string x", true).err(), Some("only on pattern expected".into()));
        assert_eq!(
            parsed("status 300-200", true).err(),
            Some("invalid range of status codes '300-200'".into())
        );
        assert!(parsed("status 200", false).is_err_and(|e| e.contains("but got 'status'")));
        assert!(parsed("binary 0x", false).is_err());
        assert!(parsed("rstring (", false).is_err());
        assert_eq!(parsed("min-recv 4", false).err(), Some("pattern not found".into()));
    }
}
