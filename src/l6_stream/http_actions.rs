//! What the extra HTTP actions ([`ExtAction`]) decide for one stream:
//! each is turned into an [`Effect`] while the rule's sample is borrowed
//! (variables are set at once: their stores allow it), and the stream
//! applies the effect afterwards.

use super::http_rules::{Effect, Stop};
use super::sample::StreamSample;
use super::stream::StreamCtx;
use crate::acl::SampleSource;
use crate::l7_http::actions::{ExtAction, UriPart, auth_response, backrefs};
use crate::l7_http::logformat::LogSource;
use crate::l7_http::rewrite::HeaderEdit;
use crate::l7_http::txn::Txn;
use std::net::SocketAddr;

/// A request rule's effect.
pub(super) fn request_effect(
    a: &ExtAction,
    txn: &Txn,
    sample: &StreamSample<'_>,
    proxy: usize,
    ctx: &StreamCtx<'_>,
) -> Effect {
    let src: &dyn LogSource = sample;
    let uri = txn.outgoing_uri();
    match a {
        ExtAction::SetUri(part, fmt) => Effect::Uri(set_part(uri, *part, fmt.render(src).as_bytes())),
        ExtAction::ReplaceUri(part, re, with) => {
            let with = backrefs(&with.render(src));
            let (start, end) = part_range(uri, *part);
            match re.captures(&uri[start..end]) {
                Some(_) => {
                    let mut out = uri[..start].to_vec();
                    out.extend_from_slice(&re.replace(&uri[start..end], with.as_bytes()));
                    out.extend_from_slice(&uri[end..]);
                    Effect::Uri(out)
                }
                None => Effect::Nothing,
            }
        }
        ExtAction::SetMethod(fmt) => Effect::Method(fmt.render(src).into_bytes()),
        ExtAction::SetSrc(e) => {
            let port = sample.src.port();
            match e.with_value(src, |s| match s {
                crate::acl::Sample::Ip(ip) => Some(ip),
                crate::acl::Sample::Str(b) => std::str::from_utf8(b).ok()?.parse().ok(),
                crate::acl::Sample::Int(i) => Some(std::net::Ipv4Addr::from(i as u32).into()),
                _ => None,
            }) {
                Some(Some(ip)) => Effect::Src(SocketAddr::new(ip, port)),
                _ => Effect::Nothing,
            }
        }
        ExtAction::SetPriorityClass(e) => int_of(e, src).map_or(Effect::Nothing, Effect::PriorityClass),
        ExtAction::SetPriorityOffset(e) => int_of(e, src).map_or(Effect::Nothing, Effect::PriorityOffset),
        ExtAction::EarlyHint { name, value } => {
            let mut line = Vec::with_capacity(name.len() + 32);
            line.extend_from_slice(name.as_bytes());
            line.extend_from_slice(b": ");
            line.extend_from_slice(value.render(src).as_bytes());
            line.extend_from_slice(b"\r\n");
            Effect::EarlyHint(line)
        }
        ExtAction::Normalize(n) => match n.apply(uri) {
            Ok(u) if u != uri => Effect::Uri(u),
            Ok(_) => Effect::Nothing,
            Err(_) => Effect::Stop(Stop::Builtin(crate::l7_http::errors::BuiltinStatus::BadRequest)),
        },
        ExtAction::Tarpit(_) => Effect::Stop(Stop::Tarpit), // its reply is made when the hold ends
        ExtAction::CacheUse(name) => Effect::CacheUse(name.clone()),
        ExtAction::SetTimeout { tunnel, value } => {
            let ms = match value {
                crate::l7_http::actions::TimeoutValue::Fixed(d) => Some(*d),
                // Milliseconds; no value, or one not above 0, changes nothing.
                crate::l7_http::actions::TimeoutValue::Expr(e) => int_of(e, src)
                    .filter(|&ms| ms > 0)
                    .map(|ms| std::time::Duration::from_millis(ms.min(i64::from(i32::MAX)) as u64)),
            };
            ms.map_or(Effect::Nothing, |d| Effect::Timeout { tunnel: *tunnel, value: d })
        }
        ExtAction::Auth { realm } => {
            let realm = if realm.is_empty() { ctx.cfg.proxies[proxy].name.as_str() } else { realm };
            Effect::Stop(Stop::Response(auth_response(realm)))
        }
        other => common_effect(other, src),
    }
}

/// A response rule's effect.
pub(super) fn response_effect(a: &ExtAction, sample: &StreamSample<'_>) -> Effect {
    let src: &dyn LogSource = sample;
    match a {
        ExtAction::SetStatus { code, reason } => Effect::Status(*code, reason.clone()),
        ExtAction::CacheStore(name) => Effect::CacheStore(name.clone()),
        other => common_effect(other, src),
    }
}

/// The actions both sides share.
fn common_effect(a: &ExtAction, src: &dyn LogSource) -> Effect {
    match a {
        ExtAction::Capture { expr, slot } => {
            let mut v = Vec::new();
            match expr.append_value(src, &mut v) {
                true => Effect::Capture(*slot, v.into_boxed_slice()),
                false => Effect::Nothing,
            }
        }
        ExtAction::Var(v) => {
            v.run(src);
            Effect::Nothing
        }
        ExtAction::SetVarFmt(target, fmt) => {
            let text = fmt.render(src);
            crate::acl::assign_var(src, target, crate::acl::Sample::Str(text.as_bytes()));
            Effect::Nothing
        }
        ExtAction::ReplaceHeader { name, re, with } => {
            Effect::Edit(HeaderEdit::Replace(name.clone(), re.clone(), backrefs(&with.render(src))))
        }
        ExtAction::ReplaceValue { name, re, with } => {
            Effect::Edit(HeaderEdit::ReplaceValue(name.clone(), re.clone(), backrefs(&with.render(src))))
        }
        ExtAction::SetLogLevel(l) => Effect::LogLevel(*l),
        ExtAction::SilentDrop => Effect::Stop(Stop::Close { silent: true }),
        ExtAction::Reject => Effect::Stop(Stop::Close { silent: false }),
        ExtAction::Allow => Effect::Stop(Stop::Allow),
        ExtAction::WaitBody { time, at_least } => Effect::Stop(Stop::WaitBody(*time, *at_least)),
        _ => Effect::Nothing,
    }
}

fn int_of(e: &crate::acl::SampleExpr, src: &dyn SampleSource) -> Option<i64> {
    e.with_value(src, |s| match s {
        crate::acl::Sample::Int(i) => Some(i),
        crate::acl::Sample::Str(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
        _ => None,
    })
    .flatten()
}

/// Where `part` lies in `uri` (absolute-form targets: after the authority).
fn part_range(uri: &[u8], part: UriPart) -> (usize, usize) {
    let path_start = if uri.first() == Some(&b'/') || uri.first() == Some(&b'*') {
        0
    } else {
        match uri.windows(3).position(|w| w == b"://") {
            Some(s) => uri[s + 3..].iter().position(|&c| c == b'/').map_or(uri.len(), |p| s + 3 + p),
            None => 0,
        }
    };
    let q = uri[path_start..].iter().position(|&c| c == b'?').map(|q| path_start + q);
    match part {
        UriPart::Uri => (0, uri.len()),
        UriPart::PathQ => (path_start, uri.len()),
        UriPart::Path => (path_start, q.unwrap_or(uri.len())),
        UriPart::Query => q.map_or((uri.len(), uri.len()), |q| (q + 1, uri.len())),
    }
}

/// `uri` with `part` replaced by `new` (`set-query` adds the `?`; an empty
/// query removes it).
fn set_part(uri: &[u8], part: UriPart, new: &[u8]) -> Vec<u8> {
    let (start, end) = part_range(uri, part);
    let mut out = Vec::with_capacity(uri.len() + new.len());
    if part == UriPart::Query {
        let base = if start == end && !uri.ends_with(b"?") { end } else { start.saturating_sub(1) };
        out.extend_from_slice(&uri[..base]);
        if !new.is_empty() {
            out.push(b'?');
            out.extend_from_slice(new);
        }
        return out;
    }
    out.extend_from_slice(&uri[..start]);
    out.extend_from_slice(new);
    out.extend_from_slice(&uri[end..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_parts_are_replaced_in_place() {
        assert_eq!(set_part(b"/a/b?x=1", UriPart::Path, b"/c"), b"/c?x=1");
        assert_eq!(set_part(b"/a?x=1", UriPart::Query, b"y=2"), b"/a?y=2");
        assert_eq!(set_part(b"/a", UriPart::Query, b"y=2"), b"/a?y=2");
        assert_eq!(set_part(b"/a?x", UriPart::Query, b""), b"/a");
        assert_eq!(set_part(b"http://h/a?x", UriPart::Path, b"/b"), b"http://h/b?x");
        assert_eq!(set_part(b"/a?x", UriPart::PathQ, b"/z"), b"/z");
        assert_eq!(set_part(b"/a?x", UriPart::Uri, b"/u"), b"/u");
    }
}
