//! Writing one sample or variable of a format, with HAProxy's encodings:
//! request lines and captures `#XX`-encoded, header values `%XX`-encoded,
//! `+Q` quotes, `+E` backslash escapes, `+X` hexadecimal, `-` for an
//! empty text in a log line.

use super::facts::{LogFacts, LogSource};
use super::flag;
use super::vars::LogVar;
use crate::acl::{Sample, SampleExpr};
use crate::core::date::Civil;
use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

/// `tune.http.logurilen`: how many bytes of the request line formats keep
/// (HAProxy's default 1024), set once at start-up.
static URI_LEN: AtomicUsize = AtomicUsize::new(1024);

/// Sets `tune.http.logurilen`.
pub fn set_uri_len(n: usize) {
    URI_LEN.store(n, Ordering::Relaxed);
}

/// The request line as HAProxy captures it for logs: `METHOD URI VERSION`
/// cut to `tune.http.logurilen` bytes. The count of separators kept comes
/// with it (0: the cut left the method only, 1: no version).
fn captured([method, uri, version]: [&[u8]; 3]) -> ([&[u8]; 3], u8) {
    let mut room = URI_LEN.load(Ordering::Relaxed);
    let m = method.len().min(room);
    room -= m;
    if m < method.len() || room == 0 {
        return ([&method[..m], b"", b""], 0);
    }
    room -= 1;
    let u = uri.len().min(room);
    room -= u;
    if u < uri.len() || room == 0 {
        return ([method, &uri[..u], b""], 1);
    }
    room -= 1;
    ([method, uri, &version[..version.len().min(room)]], 2)
}

/// The characters `+E` escapes with a backslash (RFC 5424's PARAM-VALUE).
fn rfc5424_escaped(c: u8) -> bool {
    matches!(c, b'"' | b'\\' | b']')
}

/// Which bytes an encoding replaces by `<escape>XX`.
#[derive(Clone, Copy)]
enum Map {
    Url,  // request line: controls, bytes above 126, `"` and `#`
    Hdr,  // captured headers: the same and `{`, `|`, `}`
    Http, // a rule's value: controls but TAB, and DEL
}

impl Map {
    fn encodes(self, c: u8) -> bool {
        match self {
            Map::Url => !(32..127).contains(&c) || c == b'"' || c == b'#',
            Map::Hdr => !(32..127).contains(&c) || matches!(c, b'"' | b'#' | b'{' | b'|' | b'}'),
            Map::Http => (c <= 0x08) || (0x0a..=0x1f).contains(&c) || c == 0x7f,
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Appends bytes to a String (valid UTF-8 sequences as they are, anything
/// else replaced, which the encodings above never leave for log lines).
fn push_bytes(out: &mut String, s: &[u8]) {
    match std::str::from_utf8(s) {
        Ok(t) => out.push_str(t),
        Err(_) => out.push_str(&String::from_utf8_lossy(s)),
    }
}

/// HAProxy's `lf_encode_string`: bytes of `map` as `<esc>XX`; with `+E`,
/// `"`, `\` and `]` also get a backslash before them.
fn encode(out: &mut String, s: &[u8], map: Map, esc: char, flags: u8) {
    let mut run = 0;
    for (i, &c) in s.iter().enumerate() {
        let backslash = flags & flag::ESC != 0 && rfc5424_escaped(c);
        if !map.encodes(c) && !backslash {
            continue;
        }
        push_bytes(out, &s[run..i]);
        run = i + 1;
        if map.encodes(c) {
            out.push(esc);
            out.push(HEX[usize::from(c >> 4)] as char);
            out.push(HEX[usize::from(c & 15)] as char);
        } else {
            out.push('\\');
            out.push(c as char);
        }
    }
    push_bytes(out, &s[run..]);
}

/// HAProxy's `lf_text_len`: a text, quoted with `+Q`, escaped with `+E`;
/// an absent or empty one is `-` in a log line (`""` when quoted).
fn text(out: &mut String, s: Option<&[u8]>, flags: u8) {
    let quote = flags & flag::QUOTE != 0;
    if quote {
        out.push('"');
    }
    match s.filter(|s| !s.is_empty()) {
        Some(s) if flags & flag::ESC != 0 => {
            for part in s.split_inclusive(|c| rfc5424_escaped(*c)) {
                match part.split_last() {
                    Some((&last, head)) if rfc5424_escaped(last) => {
                        push_bytes(out, head);
                        out.push('\\');
                        out.push(last as char);
                    }
                    _ => push_bytes(out, part),
                }
            }
        }
        Some(s) => push_bytes(out, s),
        None if !quote && flags & flag::MANDATORY != 0 => out.push('-'),
        None => {}
    }
    if quote {
        out.push('"');
    }
}

fn ip(out: &mut String, a: Option<IpAddr>, flags: u8) {
    match a {
        Some(IpAddr::V4(v4)) if flags & flag::HEX != 0 => {
            for b in v4.octets() {
                let _ = write!(out, "{b:02X}");
            }
        }
        Some(IpAddr::V6(v6)) if flags & flag::HEX != 0 => {
            for b in v6.octets() {
                let _ = write!(out, "{b:02X}");
            }
        }
        Some(a) => text(out, Some(a.to_string().as_bytes()), flags),
        None => text(out, None, flags),
    }
}

fn port(out: &mut String, a: Option<SocketAddr>, flags: u8) {
    match a {
        Some(a) if flags & flag::HEX != 0 => {
            let _ = write!(out, "{:04X}", a.port());
        }
        Some(a) => {
            let _ = write!(out, "{}", a.port());
        }
        None => text(out, None, flags),
    }
}

/// A counter printed in decimal, or `%04X` with `+X`.
fn counter(out: &mut String, n: u64, flags: u8) {
    if flags & flag::HEX != 0 {
        let _ = write!(out, "{n:04X}");
    } else {
        let _ = write!(out, "{n}");
    }
}

/// A time or byte count that `option logasap` prints with a leading `+`.
fn partial(out: &mut String, f: &LogFacts, n: i64) {
    if !f.final_counts {
        out.push('+');
    }
    let _ = write!(out, "{n}");
}

/// `22/Nov/2026:07:51:52 +0000` (HAProxy's GMT and local dates; strata
/// formats local time as UTC).
fn gmt_date(out: &mut String, t: std::time::SystemTime) {
    let c = Civil::from_system(t);
    let _ = write!(
        out,
        "{:02}/{}/{}:{:02}:{:02}:{:02} +0000",
        c.day,
        c.month_name(),
        c.year,
        c.hour,
        c.min,
        c.sec
    );
}

/// The machine's host name (`%H`), read once.
fn hostname() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname").map(|s| s.trim().to_owned()).unwrap_or_default()
    })
}

/// A `%[...]` sample.
pub(super) fn sample(out: &mut String, expr: &SampleExpr, flags: u8, src: &dyn LogSource) {
    let mut num = [0u8; 48];
    let got = expr.with_value(src, |s| {
        let bytes: &[u8] = match s {
            Sample::Bool(b) => {
                if b {
                    b"1"
                } else {
                    b"0"
                }
            }
            Sample::Int(i) => {
                let n = write_num(&mut num, format_args!("{i}"));
                return emit(out, &num[..n], flags);
            }
            Sample::Ip(a) => {
                let n = write_num(&mut num, format_args!("{a}"));
                return emit(out, &num[..n], flags);
            }
            Sample::Str(b) => b,
            Sample::Bin(b) => &b[..b.iter().position(|&c| c == 0).unwrap_or(b.len())],
        };
        emit(out, bytes, flags)
    });
    if got.is_none() {
        emit_absent(out, flags);
    }
}

fn write_num(buf: &mut [u8; 48], args: std::fmt::Arguments<'_>) -> usize {
    let mut cursor = std::io::Cursor::new(&mut buf[..]);
    let _ = std::io::Write::write_fmt(&mut cursor, args);
    cursor.position() as usize
}

fn emit(out: &mut String, s: &[u8], flags: u8) {
    if flags & flag::HTTP != 0 {
        encode(out, s, Map::Http, '%', flags);
    } else {
        text(out, Some(s), flags);
    }
}

fn emit_absent(out: &mut String, flags: u8) {
    if flags & flag::HTTP == 0 {
        text(out, None, flags);
    }
}

const NO_FACTS: LogFacts = LogFacts::NONE;

/// Writes variable `v`. False when it printed nothing at all (captures
/// when the frontend has none), so a following blank is not doubled.
pub(super) fn var(out: &mut String, v: LogVar, flags: u8, src: &dyn LogSource) -> bool {
    let f = src.log_facts().unwrap_or(&NO_FACTS);
    let quote = flags & flag::QUOTE != 0;
    let q = |out: &mut String| {
        if quote {
            out.push('"')
        }
    };
    match v {
        LogVar::ClientIp => ip(out, src.src().map(|a| a.ip()), flags),
        LogVar::ClientPort => port(out, src.src(), flags),
        LogVar::FrontendIp => ip(out, src.dst().map(|a| a.ip()), flags),
        LogVar::FrontendPort => port(out, src.dst(), flags),
        LogVar::BackendIp => ip(out, f.backend_src.map(|a| a.ip()), flags),
        LogVar::BackendPort => port(out, f.backend_src, flags),
        LogVar::ServerIp => ip(out, f.server_addr.map(|a| a.ip()), flags),
        LogVar::ServerPort => port(out, f.server_addr, flags),
        LogVar::Date => out.push_str(&Civil::from_system(f.accept_date).log_date()),
        LogVar::ReqDate => out.push_str(&Civil::from_system(f.request_date()).log_date()),
        LogVar::DateGmt | LogVar::DateLocal => gmt_date(out, f.accept_date),
        LogVar::ReqDateGmt | LogVar::ReqDateLocal => gmt_date(out, f.request_date()),
        LogVar::Ts => {
            let secs = f.accept_date.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
            counter(out, secs, flags);
        }
        LogVar::AcceptMs => {
            let ms = f.accept_date.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_millis();
            if flags & flag::HEX != 0 {
                let _ = write!(out, "{ms:02X}");
            } else {
                let _ = write!(out, "{ms:03}");
            }
        }
        LogVar::Frontend => text(out, Some(src.frontend_name().as_bytes()), flags),
        LogVar::FrontendXprt => {
            q(out);
            out.push_str(src.frontend_name());
            if f.tls_frontend {
                out.push('~');
            }
            q(out);
        }
        LogVar::SslCipher => text(out, src.client_tls().map(|t| t.cipher.as_bytes()), flags),
        LogVar::SslVersion => text(out, src.client_tls().map(|t| t.version.as_bytes()), flags),
        LogVar::Backend => {
            text(out, Some(src.backend_name().unwrap_or(src.frontend_name()).as_bytes()), flags)
        }
        LogVar::Server => text(out, Some(src.server_name().unwrap_or("<NOSRV>").as_bytes()), flags),
        LogVar::Th => num(out, f.handshake_ms),
        LogVar::Ti => num(out, f.idle_ms),
        LogVar::TR => num(out, f.head_ms),
        LogVar::Tq => num(out, f.tq()),
        LogVar::Tw => num(out, f.queue_ms),
        LogVar::Tc => num(out, f.connect_ms),
        LogVar::Tr => num(out, f.response_ms),
        LogVar::Td => num(out, f.td()),
        LogVar::Ta => partial(out, f, f.ta()),
        LogVar::Tt => partial(out, f, f.total_ms),
        LogVar::Tu => partial(out, f, f.total_ms - f.idle_ms),
        LogVar::Status => num(out, f.status),
        LogVar::BytesOut => partial(out, f, f.bytes_out as i64),
        LogVar::BytesIn => num(out, f.bytes_in as i64),
        LogVar::ClientCookie => text(out, src.captured_cookie(false), flags),
        LogVar::ServerCookie => text(out, src.captured_cookie(true), flags),
        LogVar::TermState => push_bytes(out, &f.term),
        LogVar::TermStateCk => {
            push_bytes(out, &f.term);
            push_bytes(out, &f.cookie_flags);
        }
        LogVar::ActConn => num(out, i64::from(src.conn_counts()[0])),
        LogVar::FeConn => num(out, i64::from(src.conn_counts()[1])),
        LogVar::BeConn => num(out, i64::from(src.conn_counts()[2])),
        LogVar::SrvConn => num(out, i64::from(src.conn_counts()[3])),
        LogVar::Retries => {
            if f.redispatched {
                out.push('+');
            }
            num(out, i64::from(f.retries));
        }
        LogVar::SrvQueue => num(out, i64::from(f.srv_queue)),
        LogVar::BeQueue => num(out, i64::from(f.be_queue)),
        LogVar::HdrReq | LogVar::HdrRes => {
            let Some(caps) = src.captures(v == LogVar::HdrRes) else { return false };
            q(out);
            out.push('{');
            for (i, c) in caps.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                if let Some(c) = c {
                    encode(out, c, Map::Hdr, '#', flags);
                }
            }
            out.push('}');
            q(out);
        }
        LogVar::HdrReqList | LogVar::HdrResList => {
            let Some(caps) = src.captures(v == LogVar::HdrResList) else { return false };
            for (i, c) in caps.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                q(out);
                match c {
                    Some(c) => encode(out, c, Map::Hdr, '#', flags),
                    None if !quote => out.push('-'),
                    None => {}
                }
                q(out);
            }
        }
        LogVar::Request => {
            q(out);
            match src.request_line().map(captured) {
                Some((parts, spaces)) => {
                    for (i, part) in parts.iter().enumerate().take(usize::from(spaces) + 1) {
                        if i > 0 {
                            out.push(' ');
                        }
                        encode(out, part, Map::Url, '#', flags);
                    }
                }
                None => out.push_str("<BADREQ>"),
            }
            q(out);
        }
        LogVar::HttpMethod
        | LogVar::HttpPath
        | LogVar::HttpPathOnly
        | LogVar::HttpQuery
        | LogVar::HttpUri
        | LogVar::HttpVersion => {
            q(out);
            match src.request_line().map(captured) {
                // a line cut inside its method has no parts (HAProxy's
                // fields need the space after the method)
                Some((_, 0)) => out.push_str("<BADREQ>"),
                Some((line, _)) => encode(out, request_part(v, line), Map::Url, '#', flags),
                None => out.push_str("<BADREQ>"),
            }
            q(out);
        }
        LogVar::LogCount => counter(out, f.log_count, flags),
        LogVar::Hostname => text(out, Some(hostname().as_bytes()), flags),
        LogVar::Pid => counter(out, u64::from(std::process::id()), flags),
        LogVar::UniqueId => text(out, src.unique_id(), flags),
        LogVar::ReqCounter => counter(out, f.req_counter, flags),
    }
    true
}

fn num(out: &mut String, n: i64) {
    let _ = write!(out, "{n}");
}

/// `%HM`, `%HU`, `%HP`, `%HPO`, `%HQ`, `%HV` out of the request line.
fn request_part(v: LogVar, [method, uri, version]: [&[u8]; 3]) -> &[u8] {
    let q = uri.iter().position(|&c| c == b'?').unwrap_or(uri.len());
    match v {
        LogVar::HttpMethod => method,
        LogVar::HttpUri => uri,
        LogVar::HttpPath => &uri[..q],
        LogVar::HttpQuery => &uri[q..],
        LogVar::HttpVersion if version.is_empty() => b"HTTP/0.9",
        LogVar::HttpVersion => version,
        _ => {
            // The path only: an absolute URI loses its scheme and authority.
            let path = &uri[..q];
            match path.windows(3).position(|w| w == b"://") {
                Some(i) if path.first() != Some(&b'/') => {
                    let rest = &path[i + 3..];
                    &rest[rest.iter().position(|&c| c == b'/').unwrap_or(rest.len())..]
                }
                _ => path,
            }
        }
    }
}
