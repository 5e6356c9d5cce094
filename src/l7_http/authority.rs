//! The request target's authority against the Host header, as HAProxy 2.6's
//! HTTP/1 parser and its scheme-based normalization treat them (checked
//! against HAProxy 2.6.12 with its reg-tests `h1_host_normalization` and
//! `scheme_based_normalize`).
//!
//! - **Validation** ([`check`], run by the parser): an absolute-form URI's
//!   authority (userinfo aside) must name the Host header's host, where a
//!   missing, empty or default port (80 for `http://`, 443 for `https://`)
//!   on one side matches the other side without a port; CONNECT's target
//!   must be `host:port` with a port, and a Host beside it must name that
//!   host with that port, or no port when the target's port is 80 or 443.
//! - **Normalization** ([`normalize`], run once the head is parsed, before
//!   rules, captures and logs see it): an absolute-form URI whose port is
//!   empty or the scheme's default loses it, and every Host header becomes
//!   the URI's host; a CONNECT's Host that repeats a target port of 80 or
//!   443 loses it. Only such heads are rewritten (a new buffer, parsed
//!   again); every other head is left as received.
//!
//! One deliberate difference: an `http://` or `https://` URI with an empty
//! host (`http://:`) is refused, as RFC 9110 §4.2.1 requires of a
//! recipient; HAProxy 2.6 accepts it (the last four cases of its reg-test).

use super::head::{RequestHead, find};
use super::parse::{ParseError, parse_request};
use crate::core::buffer::Buffer;

/// HAProxy's `http_get_host_port()`: the digits after the last `:` that
/// only digits follow; `Some("")` for a trailing `:`, `None` without one.
fn port_of(host: &[u8]) -> Option<&[u8]> {
    let digits = host.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    let at = host.len() - digits;
    (at > 0 && host[at - 1] == b':').then(|| &host[at..])
}

/// `host` without `:port` (when it has one).
fn without_port(host: &[u8]) -> &[u8] {
    match port_of(host) {
        Some(p) => &host[..host.len() - p.len() - 1],
        None => host,
    }
}

/// HAProxy's `http_is_default_port()`: an empty port always; else 80 for
/// `http`, 443 for `https`, either without a scheme (CONNECT).
fn is_default_port(scheme: Option<&[u8]>, port: &[u8]) -> bool {
    match scheme {
        _ if port.is_empty() => true,
        None => port == b"80" || port == b"443",
        Some(s) => {
            (port == b"80" && s.eq_ignore_ascii_case(b"http"))
                || (port == b"443" && s.eq_ignore_ascii_case(b"https"))
        }
    }
}

/// An absolute-form URI's parts: scheme, the bytes up to the authority
/// (`scheme://` and any userinfo), the authority, the rest.
struct Absolute<'a> {
    scheme: &'a [u8],
    before: &'a [u8],
    authority: &'a [u8],
    rest: &'a [u8],
}

fn absolute(uri: &[u8]) -> Option<Absolute<'_>> {
    let colon = uri.windows(3).position(|w| w == b"://")?;
    let scheme = &uri[..colon];
    if scheme.is_empty() || !scheme.iter().all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(b)) {
        return None;
    }
    let start = colon + 3;
    let end = uri[start..].iter().position(|b| b"/?#".contains(b)).map_or(uri.len(), |i| start + i);
    let auth = &uri[start..end];
    let info = auth.iter().rposition(|&b| b == b'@').map_or(0, |i| i + 1);
    Some(Absolute { scheme, before: &uri[..start + info], authority: &auth[info..], rest: &uri[end..] })
}

/// Whether `uri` is in absolute form with an authority (userinfo counted):
/// the request-target check of the parser.
pub(super) fn has_authority(uri: &[u8]) -> bool {
    absolute(uri).is_some_and(|a| a.before.len() > a.scheme.len() + 3 || !a.authority.is_empty())
}

/// The target against the Host header (`host`: its value, if there is
/// one); see the module doc.
pub(super) fn check(method: &[u8], uri: &[u8], host: Option<&[u8]>) -> Result<(), ParseError> {
    if method == b"CONNECT" {
        let port = port_of(uri).filter(|p| !p.is_empty());
        if absolute(uri).is_some() || port.is_none() {
            return Err(ParseError::Syntax("invalid CONNECT target"));
        }
        let (Some(port), Some(host)) = (port, host) else { return Ok(()) };
        let same_host = without_port(host).eq_ignore_ascii_case(without_port(uri));
        let ok = match port_of(host).filter(|p| !p.is_empty()) {
            Some(hp) => same_host && hp == port,
            None => same_host && is_default_port(None, port),
        };
        return if ok { Ok(()) } else { Err(ParseError::Syntax("Host differs from the CONNECT target")) };
    }
    let Some(abs) = absolute(uri) else { return Ok(()) };
    let http = abs.scheme.eq_ignore_ascii_case(b"http") || abs.scheme.eq_ignore_ascii_case(b"https");
    if http && without_port(abs.authority).is_empty() {
        // RFC 9110 §4.2.1: a recipient MUST reject an http(s) URI with an
        // empty host (HAProxy 2.6 accepts `http://:`)
        return Err(ParseError::Syntax("empty host in the absolute URI"));
    }
    let Some(host) = host else { return Ok(()) };
    if abs.authority.eq_ignore_ascii_case(host) {
        return Ok(());
    }
    let scheme = Some(abs.scheme);
    let ok = match (port_of(abs.authority), port_of(host)) {
        (None, None) => false,
        (Some(p), _) if !is_default_port(scheme, p) => false,
        (_, Some(p)) if !is_default_port(scheme, p) => false,
        _ => without_port(abs.authority).eq_ignore_ascii_case(without_port(host)),
    };
    if ok { Ok(()) } else { Err(ParseError::Syntax("Host differs from the absolute URI")) }
}

/// The authority an HTTP/2 request's absolute URI and `host` line are
/// written with (`scheme://authority...`), as [`normalize`] leaves them:
/// without a port that is empty or the scheme's default. `None` when
/// [`check`] refuses it (an `http`/`https` URI with an empty host).
pub fn normalized_authority<'a>(scheme: &[u8], authority: &'a [u8]) -> Option<&'a [u8]> {
    let http = scheme.eq_ignore_ascii_case(b"http") || scheme.eq_ignore_ascii_case(b"https");
    if http && without_port(authority).is_empty() {
        return None;
    }
    match port_of(authority) {
        Some(p) if is_default_port(Some(scheme), p) => Some(without_port(authority)),
        _ => Some(authority),
    }
}

/// The head rewritten as the module doc says, or `None` when it needs no
/// change (nearly always: no allocation then).
fn rewritten(buf: &[u8], head: &RequestHead) -> Option<Vec<u8>> {
    let method = head.method.of(buf);
    let uri = head.uri.of(buf);
    let (new_uri, new_host): (Option<Vec<u8>>, &[u8]) = if method == b"CONNECT" {
        let host = find(buf, &head.headers, "host").next()?;
        port_of(host).filter(|p| !p.is_empty() && is_default_port(None, p))?;
        (None, without_port(host))
    } else {
        let abs = absolute(uri)?;
        let port = port_of(abs.authority)?;
        if !is_default_port(Some(abs.scheme), port) {
            return None;
        }
        let host = without_port(abs.authority);
        ([abs.before, host, abs.rest].concat().into(), host)
    };
    let (u_start, u_end) = (head.uri.start as usize, head.uri.end as usize);
    let mut out = Vec::with_capacity(buf.len());
    out.extend_from_slice(&buf[..u_start]);
    out.extend_from_slice(new_uri.as_deref().unwrap_or(uri));
    let mut at = u_end;
    for h in head.headers.iter().filter(|h| h.name.of(buf).eq_ignore_ascii_case(b"host")) {
        out.extend_from_slice(&buf[at..h.value.start as usize]);
        out.extend_from_slice(new_host);
        at = h.value.end as usize;
    }
    out.extend_from_slice(&buf[at..head.len]);
    Some(out)
}

/// Applies the normalization to a parsed head that fills `buf` up to
/// `head.len` (HTTP/1's and HTTP/2's request heads as the muxes build
/// them): the same head, or the normalized one parsed again.
pub fn normalize(buf: Buffer, head: RequestHead) -> (Buffer, RequestHead) {
    let Some(bytes) = rewritten(buf.data(), &head) else { return (buf, head) };
    let mut nb = Buffer::take();
    if nb.push(&bytes) < bytes.len() {
        return (buf, head); // cannot grow: a shorter head always fits
    }
    match parse_request(nb.data()) {
        Ok(Some(mut h)) => {
            h.version = head.version; // HTTP/2 heads are parsed as HTTP/1.1
            nb.push(&buf.data()[head.len..]);
            (nb, h)
        }
        _ => (buf, head),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(raw: &str) -> String {
        let mut b = Buffer::take();
        b.push(raw.as_bytes());
        let h = parse_request(b.data()).unwrap().unwrap();
        let (b, h) = normalize(b, h);
        let host = find(b.data(), &h.headers, "host").next().unwrap_or_default();
        format!("{} {}", String::from_utf8_lossy(h.uri.of(b.data())), String::from_utf8_lossy(host))
    }

    fn status(raw: &str) -> Result<(), ParseError> {
        parse_request(raw.as_bytes()).map(|_| ())
    }

    /// The cases of HAProxy 2.6.12's reg-test h1_host_normalization, with
    /// the URI and Host it logged for each.
    #[test]
    fn normalizes_as_haproxy() {
        let cases = [
            ("GET http://toto:poue@hostname:80/c1", "hostname:80", "http://toto:poue@hostname/c1 hostname"),
            ("GET http://hostname:8080/c2", "hostname:8080", "http://hostname:8080/c2 hostname:8080"),
            ("GET https://hostname:443/c3", "hostname:443", "https://hostname/c3 hostname"),
            ("GET https://hostname:80/c4", "hostname:80", "https://hostname:80/c4 hostname:80"),
            ("CONNECT hostname:80", "hostname:80", "hostname:80 hostname"),
            ("CONNECT hostname:80", "hostname", "hostname:80 hostname"),
            ("CONNECT hostname:80", "hostname:", "hostname:80 hostname:"),
            ("CONNECT hostname:443", "hostname:443", "hostname:443 hostname"),
            ("CONNECT hostname:8443", "hostname:8443", "hostname:8443 hostname:8443"),
            ("GET http://hostname:80/c20", "hostname", "http://hostname/c20 hostname"),
            ("GET http://hostname/c22", "hostname:80", "http://hostname/c22 hostname:80"),
            ("GET http://hostname:/c24", "hostname", "http://hostname/c24 hostname"),
            ("GET http://hostname/c26", "hostname:", "http://hostname/c26 hostname:"),
            ("GET http://hostname:80/c28", "hostname:", "http://hostname/c28 hostname"),
            ("GET http://hostname:/c29", "hostname:80", "http://hostname/c29 hostname"),
            ("GET https://hostname:/c31", "hostname:443", "https://hostname/c31 hostname"),
        ];
        for (line, host, want) in cases {
            let raw = format!("{line} HTTP/1.1\r\nhost: {host}\r\nx: y\r\n\r\n");
            assert_eq!(norm(&raw), want, "{raw:?}");
        }
    }

    #[test]
    fn refuses_what_haproxy_refuses() {
        let bad = [
            ("GET http://hostname1/", "hostname2"),
            ("GET http://hostname:80/", "hostname:81"),
            ("GET http://hostname:8080/", "hostname"),
            ("GET http://hostname/", "hostname:81"),
            ("CONNECT hostname", "hostname"),
            ("CONNECT hostname1:80", "hostname2:80"),
            ("CONNECT hostname:80", "hostname:443"),
            ("CONNECT hostname:8080", "hostname"),
            ("CONNECT /", "hostname"),
            ("CONNECT hostname:", "hostname"),
            // HAProxy accepts these (its reg-test's "strange cases"); RFC
            // 9110 §4.2.1 says a recipient MUST reject an empty host
            ("GET http://:", ":80"),
            ("GET https://:", ":"),
            ("GET http://:80/", "x"),
        ];
        for (line, host) in bad {
            let raw = format!("{line} HTTP/1.1\r\nhost: {host}\r\n\r\n");
            assert!(status(&raw).is_err(), "{raw:?} accepted");
        }
    }
}
