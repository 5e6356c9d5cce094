//! Fetches HAProxy 2.6 has beside the table of `keyword.rs` and the
//! extended ones of `fetch_ext.rs`: the typed constants `bin(HEX)` and
//! `bool(B)`, `req.hdr_ip`/`res.hdr_ip` (header values read as
//! addresses), `capture.req.uri` (the URI as received), `capture.res.ver`
//! and `req.len` (the other `capture.req.*` are the capture fetches of
//! `fetch_ext.rs`), `fc_pp_authority` / `fc_pp_unique_id` (TLVs of the
//! client's PROXY v2 header), `be_server_timeout`, `be_tunnel_timeout`,
//! `cur_server_timeout`, `cur_tunnel_timeout`, `res.len`, `wait_end`,
//! `last_rule_file`, `last_rule_line`; `req.payload`, `req.payload_lv`
//! and their `res.` forms are `fetch_payload.rs`'s.
//!
//! [`parse`] is the one place to add such a keyword.

use std::net::IpAddr;
use std::ops::ControlFlow;

use super::args::fetch_args;
use super::fetch::{Side, SmpType};
use super::source::{Sample, SampleSource};

/// One compiled fetch of this file. Owned by its expression; immutable.
#[derive(Clone, Debug)]
pub(crate) enum MoreFetch {
    Bin(Box<[u8]>),
    Bool(bool),
    HdrIp { side: Side, name: Box<[u8]>, occ: i64 },
    CaptureUri, // the URI as received: HAProxy's, not the one a `set-path` wrote
    CaptureResVer,
    ReqLen,
    ResLen,       // `res.len`: the server's bytes buffered (`tcp-response content` rules)
    WaitEnd,      // `wait_end`: true on the last inspection pass only
    LastRuleFile, // `last_rule_file`
    LastRuleLine, // `last_rule_line`
    Payload(super::fetch_payload::Payload),
    PpAuthority, // the PROXY v2 header's PP2_TYPE_AUTHORITY
    PpUniqueId,  // its PP2_TYPE_UNIQUE_ID
    Timeout { current: bool, tunnel: bool },
    IsHttp, // `internal.strm.is_htx`
}

/// Parses `name` with the text after its `(` (None: no parentheses).
/// None when `name` is not one of these fetches.
pub(crate) fn parse(
    name: &str,
    args_text: Option<&str>,
) -> Option<Result<(MoreFetch, SmpType, usize), String>> {
    let side = match name {
        "hdr_ip" => Some(Side::Auto),
        "req.hdr_ip" => Some(Side::Req),
        "res.hdr_ip" | "shdr_ip" => Some(Side::Res),
        _ => None,
    };
    let known = side.is_some()
        || matches!(name, "bin" | "bool" | "capture.req.uri" | "capture.res.ver")
        || matches!(
            name,
            "req.len" | "req_len" | "fc_pp_authority" | "fc_pp_unique_id" | "internal.strm.is_htx"
        )
        || matches!(name, "res.len" | "wait_end" | "last_rule_file" | "last_rule_line")
        || matches!(
            name,
            "be_server_timeout" | "be_tunnel_timeout" | "cur_server_timeout" | "cur_tunnel_timeout"
        )
        || super::fetch_payload::known(name);
    if !known {
        return None;
    }
    Some((|| {
        let (args, used) = fetch_args(args_text)?;
        let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
        let (f, t) = match name {
            "bin" => (MoreFetch::Bin(parse_hex(arg(0))?.into()), SmpType::Bin),
            "bool" => {
                let b = match arg(0).to_ascii_lowercase().as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err("Expects 'true', 'false', '0' or '1'".into()),
                };
                (MoreFetch::Bool(b), SmpType::Bool)
            }
            "capture.req.uri" => (MoreFetch::CaptureUri, SmpType::Str),
            "capture.res.ver" => (MoreFetch::CaptureResVer, SmpType::Str),
            "req.len" | "req_len" => (MoreFetch::ReqLen, SmpType::Int),
            "res.len" => (MoreFetch::ResLen, SmpType::Int),
            "wait_end" => (MoreFetch::WaitEnd, SmpType::Bool),
            "last_rule_file" => (MoreFetch::LastRuleFile, SmpType::Str),
            "last_rule_line" => (MoreFetch::LastRuleLine, SmpType::Int),
            "fc_pp_authority" => (MoreFetch::PpAuthority, SmpType::Str),
            "fc_pp_unique_id" => (MoreFetch::PpUniqueId, SmpType::Bin),
            "internal.strm.is_htx" => (MoreFetch::IsHttp, SmpType::Bool),
            "be_server_timeout" | "be_tunnel_timeout" | "cur_server_timeout" | "cur_tunnel_timeout" => {
                let (current, tunnel) = (name.starts_with("cur_"), name.contains("tunnel"));
                (MoreFetch::Timeout { current, tunnel }, SmpType::Int)
            }
            _ if super::fetch_payload::known(name) => {
                (MoreFetch::Payload(super::fetch_payload::parse(name, &args)?), SmpType::Bin)
            }
            _ => {
                let occ = match args.get(1).filter(|a| !a.is_empty()) {
                    Some(a) => super::keyword::parse_i64(a).ok_or(format!("'{a}' is not an integer"))?,
                    None => 0,
                };
                let side = side.unwrap_or(Side::Auto);
                (MoreFetch::HdrIp { side, name: arg(0).as_bytes().into(), occ }, SmpType::Ip)
            }
        };
        Ok((f, t, used))
    })())
}

/// HAProxy's `parse_binary` for `bin()`: an even number of hex digits.
fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("'{text}': odd number of hexadecimal digits"));
    }
    digits
        .chunks(2)
        .map(|p| {
            let hi = (p[0] as char).to_digit(16);
            let lo = (p[1] as char).to_digit(16);
            match (hi, lo) {
                (Some(h), Some(l)) => Ok((h * 16 + l) as u8),
                _ => Err(format!("'{text}': invalid hexadecimal digit")),
            }
        })
        .collect()
}

type Each<'f> = &'f mut dyn FnMut(Sample<'_>) -> ControlFlow<()>;

impl MoreFetch {
    /// The form used for a value (not an ACL): the last header value, as
    /// HAProxy's sample fetches return it.
    pub(crate) fn for_value(self) -> MoreFetch {
        match self {
            MoreFetch::HdrIp { side, name, occ: 0 } => MoreFetch::HdrIp { side, name, occ: -1 },
            other => other,
        }
    }

    pub(crate) fn each(&self, src: &dyn SampleSource, f: Each<'_>) -> ControlFlow<()> {
        let one = |f: Each<'_>, s: Option<Sample<'_>>| match s {
            Some(s) => f(s),
            None => ControlFlow::Continue(()),
        };
        match self {
            MoreFetch::Bin(b) => f(Sample::Bin(b)),
            MoreFetch::Bool(b) => f(Sample::Bool(*b)),
            MoreFetch::HdrIp { side, name, occ } => {
                // A value that is no address is skipped (an ACL then tries the next one).
                super::fetch::headers(src, *side, name, *occ, false, &mut |s| match s {
                    Sample::Str(v) => match header_ip(v) {
                        Some(ip) => f(Sample::Ip(ip)),
                        None => ControlFlow::Continue(()),
                    },
                    _ => ControlFlow::Continue(()),
                })
            }
            MoreFetch::CaptureUri => {
                one(f, src.received_request().and_then(|r| super::text::uri_path(r.uri)).map(Sample::Str))
            }
            MoreFetch::CaptureResVer => {
                one(f, src.received_request().and_then(|r| r.res_version).map(|v| Sample::Str(version(v))))
            }
            MoreFetch::ReqLen => one(f, req_len(src).map(Sample::Int)),
            MoreFetch::ResLen => one(
                f,
                src.res_payload().map(|(p, last)| {
                    if !last {
                        super::fetch_ssl::mark_incomplete(); // more may come
                    }
                    Sample::Int(p.len() as i64)
                }),
            ),
            MoreFetch::WaitEnd => match src.inspect_final() {
                Some(false) => {
                    super::fetch_ssl::mark_incomplete();
                    ControlFlow::Continue(())
                }
                _ => f(Sample::Bool(true)),
            },
            MoreFetch::LastRuleFile => one(f, src.last_rule().map(|(file, _)| Sample::Str(file.as_bytes()))),
            MoreFetch::LastRuleLine => one(f, src.last_rule().map(|(_, line)| Sample::Int(line as i64))),
            MoreFetch::Payload(p) => p.each(src, f),
            MoreFetch::Timeout { current, tunnel } => one(
                f,
                src.proxy_query(super::source::ProxyQuery::Timeout { current: *current, tunnel: *tunnel })
                    .map(Sample::Int),
            ),
            MoreFetch::IsHttp => one(f, src.is_http().map(Sample::Bool)),
            MoreFetch::PpAuthority => {
                one(f, src.proxy_tlvs().and_then(|t| t.authority.as_deref()).map(Sample::Str))
            }
            MoreFetch::PpUniqueId => {
                one(f, src.proxy_tlvs().and_then(|t| t.unique_id.as_deref()).map(Sample::Bin))
            }
        }
    }
}

/// HAProxy reports HTTP/1.0 as such and every later version as HTTP/1.1.
fn version(v: &[u8]) -> &'static [u8] {
    if v == b"1.0" { b"HTTP/1.0" } else { b"HTTP/1.1" }
}

/// `req.len`: in TCP rules, the bytes of the request buffered; on an HTTP
/// request, the size HAProxy 2.6 reports there, its internal message's
/// (HTX) data: 21 bytes of start-line overhead, the method, URI and
/// version, each header's name and value, and the body bytes buffered.
fn req_len(src: &dyn SampleSource) -> Option<i64> {
    let Some(r) = src.received_request() else {
        // More bytes may come: a rule whose condition fails on this length
        // waits (HAProxy's "may change" sample).
        return src.req_payload().map(|(p, last)| {
            if !last {
                super::fetch_ssl::mark_incomplete();
            }
            p.len() as i64
        });
    };
    let mut n = 21 + r.method.len() + r.uri.len() + b"HTTP/".len() + r.version.len();
    src.for_each_req_header(&mut |name, value| {
        n += name.len() + value.len();
        ControlFlow::Continue(())
    });
    n += src.req_body().map_or(0, <[u8]>::len);
    Some(n as i64)
}

/// HAProxy's reading of a header value as an address: an IPv4 dotted quad
/// (what follows it, such as `:port`, is ignored: `url2ipv4`), else a
/// whole IPv6 address.
pub(crate) fn header_ip(v: &[u8]) -> Option<IpAddr> {
    if let Some(v4) = dotted_quad(v) {
        return Some(IpAddr::V4(v4));
    }
    std::str::from_utf8(v).ok()?.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
}

/// `url2ipv4`: four decimal octets separated by dots, reading up to the
/// first character that is neither a digit nor a dot.
fn dotted_quad(v: &[u8]) -> Option<std::net::Ipv4Addr> {
    let mut octets = [0u8; 4];
    let (mut n, mut in_digits) = (0usize, false);
    for &c in v {
        match c {
            b'0'..=b'9' => {
                if !in_digits {
                    n += 1;
                    if n > 4 {
                        return None;
                    }
                    in_digits = true;
                }
                let o = u32::from(octets[n - 1]) * 10 + u32::from(c - b'0');
                octets[n - 1] = u8::try_from(o).ok()?;
            }
            b'.' if in_digits && n < 4 => in_digits = false,
            b'.' => return None,
            _ => break,
        }
    }
    (n == 4 && in_digits).then_some(std::net::Ipv4Addr::from(octets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_read_as_addresses_as_haproxy_does() {
        let ip = |s: &str| header_ip(s.as_bytes()).map(|a| a.to_string());
        assert_eq!(ip("1.2.3.4").as_deref(), Some("1.2.3.4"));
        assert_eq!(ip("1.2.3.4:80").as_deref(), Some("1.2.3.4"), "what follows is ignored");
        assert_eq!(ip("::1").as_deref(), Some("::1"));
        assert_eq!(ip("2001:db8::1").as_deref(), Some("2001:db8::1"));
        for bad in ["bad", "1.2.3", "1.2.3.256", "1..2.3", "1.2.3.4.5", "", ".1.2.3"] {
            assert_eq!(ip(bad), None, "{bad}");
        }
    }

    #[test]
    fn constants_parse_with_haproxys_rules() {
        assert!(
            matches!(parse("bin", Some("41420043)")), Some(Ok((MoreFetch::Bin(b), SmpType::Bin, _))) if &*b == b"AB\0C")
        );
        assert!(matches!(parse("bin", Some("414)")), Some(Err(_))));
        assert!(matches!(parse("bin", Some("zz)")), Some(Err(_))));
        assert!(matches!(parse("bool", Some("TRUE)")), Some(Ok((MoreFetch::Bool(true), _, _)))));
        assert!(matches!(parse("bool", Some("0)")), Some(Ok((MoreFetch::Bool(false), _, _)))));
        assert!(matches!(parse("bool", Some("yes)")), Some(Err(e)) if e.contains("Expects 'true'")));
        assert!(parse("nothing", None).is_none());
    }
}
