//! Per-proxy HTTP options a stream obeys as it goes: the `X-Original-To`
//! header of `option originalto`, `option checkcache`'s refusal of a
//! cacheable response that sets a cookie (a 502, as HAProxy documents it:
//! HAProxy 2.6.12 logs its alert but forwards the response), and whether `option
//! abortonclose` lets a client's close abort a stream still waiting for
//! its server.

use crate::cfg::Proxy;
use crate::l7_http::head::{HeaderSpan, find};
use std::net::IpAddr;

/// The name of the header to add with the address the client connected
/// to, if `option originalto` (on the frontend or the backend) asks for
/// one: IPv4 destinations only and not in either one's `except` network,
/// as HAProxy 2.6; the backend's `header` name first.
pub(super) fn originalto_header<'c>(fe: &'c Proxy, be: Option<&'c Proxy>, dst: IpAddr) -> Option<&'c str> {
    let opts = || [Some(fe), be].into_iter().flatten().filter_map(|p| p.knobs.http.originalto.as_ref());
    if opts().next().is_none() || !dst.is_ipv4() || opts().any(|o| o.excepted(dst)) {
        return None;
    }
    let named = |p: Option<&'c Proxy>| p?.knobs.http.originalto.as_ref()?.header.as_deref();
    Some(named(be).or(named(Some(fe))).unwrap_or("x-original-to"))
}

/// `option checkcache`: whether a response of status `status` with the
/// headers `headers` (in `buf`) to a safe request (`safe_method`: GET,
/// HEAD, OPTIONS, TRACE) may be stored by a shared cache and sets a
/// cookie, as HAProxy 2.6 judges it: a status cacheable by default (200,
/// 203, 204, 206, 300, 301, 404, 405, 410, 414, 501, or any with
/// `Cache-Control: public`), no `Pragma: no-cache`, no `Cache-Control`
/// value `private`, `no-cache`, `no-store`, `max-age=0` or `s-maxage=0`
/// (`no-cache="set-cookie"` keeps the cookie out of caches), and
/// freshness (`max-age`, `s-maxage`, `Expires`) or a validator (`ETag`,
/// `Last-Modified`), without which caches do not store it.
pub(super) fn cacheable_with_cookie(
    safe_method: bool,
    status: u16,
    buf: &[u8],
    headers: &[HeaderSpan],
) -> bool {
    let has = |name: &str| find(buf, headers, name).next().is_some();
    if !safe_method || !has("set-cookie") {
        return false;
    }
    if find(buf, headers, "pragma").any(|v| v.trim_ascii().eq_ignore_ascii_case(b"no-cache")) {
        return false;
    }
    let mut cacheable = matches!(status, 200 | 203 | 204 | 206 | 300 | 301 | 404 | 405 | 410 | 414 | 501);
    let mut fresh = false;
    for value in find(buf, headers, "cache-control") {
        for d in value.split(|&c| c == b',').map(<[u8]>::trim_ascii) {
            let lower = d.to_ascii_lowercase();
            match lower.as_slice() {
                b"public" => cacheable = true,
                b"private" | b"no-store" | b"no-cache" | b"max-age=0" | b"s-maxage=0" => return false,
                l if l.starts_with(b"no-cache=\"set-cookie") => return false,
                l if l.starts_with(b"max-age") || l.starts_with(b"s-maxage") => fresh = true,
                _ => {}
            }
        }
    }
    let validated = has("expires") || has("etag") || has("last-modified");
    cacheable && (fresh || validated)
}

/// `option abortonclose` on stream's backend `be`.
pub(super) fn abort_on_close(be: Option<&Proxy>) -> bool {
    be.is_some_and(|b| b.knobs.http.abortonclose)
}
