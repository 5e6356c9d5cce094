//! Fetches beyond the core HTTP ones of `fetch.rs`: variables (`var`),
//! `env`, cookies (`req.cook`, `res.cook`, `cook_cnt`, `cook_val`...),
//! proxy and server state (`be_conn`, `fe_conn`, `queue`, `avg_queue`,
//! `connslots`, `srv_is_up`, `srv_conn`, `be_id`, `fe_id`, `srv_id`,
//! `srv_name`), time and identity (`date`, `rand`, `hostname`, `uuid`,
//! `unique-id`, `http_first_req`), `pathq`, the buffered request body (`req.body`...) and
//! `http_auth`/`http_auth_group`.
//!
//! [`parse`] is the one place to add such a keyword.

use std::cell::Cell;
use std::io::Write;
use std::ops::ControlFlow;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use super::args::fetch_args;
use super::fetch::{Side, SmpType};
use super::scratch::with_buf;
use super::source::{ProxyQuery, Sample, SampleSource};
use super::text;
use super::value::read_var;
use super::vars::VarName;

/// What a cookie fetch yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CookWhat {
    Value,
    Count,
    Int,
}

/// Proxy state queries, with the names they were written with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ProxyFetch {
    BeConn(Option<Box<str>>),
    FeConn(Option<Box<str>>),
    Queue(Option<Box<str>>),
    AvgQueue(Option<Box<str>>),
    ConnSlots(Option<Box<str>>),
    SrvIsUp(Box<str>, Box<str>),
    SrvConn(Box<str>, Box<str>),
    BeId,
    FeId,
    SrvId,
}

/// One compiled extended fetch. Owned by its expression; immutable.
#[derive(Clone, Debug)]
pub(crate) enum ExtFetch {
    Var { name: VarName, default: Option<Box<[u8]>> },
    Env(Box<str>),
    Cook { side: Side, name: Box<[u8]>, what: CookWhat, last: bool },
    Proxy(ProxyFetch),
    SrvName,
    Date { offset: i64, unit: u32 }, // unit: 1 (s), 1000 (ms), 1000000 (us)
    Rand(Option<i64>),
    Hostname,
    Uuid,
    UniqueId,
    FirstReq, // `http_first_req`
    PathQ,
    ReqBody,
    ReqBodyLen,
    ResBody,
    ResBodyLen,
    CacheHit,  // `res.cache_hit`
    CacheName, // `res.cache_name`
    HttpAuth(Box<str>),
    HttpAuthGroup { list: Box<str>, groups: Vec<Box<str>> }, // groups: the ACL's patterns
    CaptureHdr { response: bool, idx: usize },               // `capture.req.hdr(N)` / `capture.res.hdr(N)`
    CaptureReq(u8), // `capture.req.method` (b'm'), `.ver` (b'v'); `.uri` is fetch_more's
}

/// Parses `name` with the text after its `(` (None: no parentheses).
/// None when `name` is not one of these fetches.
pub(crate) fn parse(
    name: &str,
    args_text: Option<&str>,
) -> Option<Result<(ExtFetch, SmpType, usize), String>> {
    let known = matches!(
        name,
        "var"
            | "env"
            | "req.cook"
            | "cook"
            | "req.cook_cnt"
            | "cook_cnt"
            | "req.cook_val"
            | "cook_val"
            | "res.cook"
            | "scook"
            | "res.cook_cnt"
            | "scook_cnt"
            | "res.cook_val"
            | "scook_val"
            | "be_conn"
            | "fe_conn"
            | "queue"
            | "avg_queue"
            | "connslots"
            | "srv_is_up"
            | "srv_conn"
            | "be_id"
            | "fe_id"
            | "srv_id"
            | "srv_name"
            | "date"
            | "rand"
            | "hostname"
            | "uuid"
            | "unique-id"
            | "http_first_req"
            | "pathq"
            | "req.body"
            | "req.body_len"
            | "req.body_size"
            | "res.body"
            | "res.body_len"
            | "res.body_size"
            | "http_auth"
            | "http_auth_group"
            | "res.cache_hit"
            | "res.cache_name"
            | "capture.req.hdr"
            | "capture.res.hdr"
            | "capture.req.method"
            | "capture.req.ver"
    );
    if !known {
        return None;
    }
    Some((|| {
        let (args, used) = fetch_args(args_text)?;
        let arg = |i: usize| args.get(i).map(String::as_str).filter(|a| !a.is_empty());
        let need = |i: usize, what: &str| arg(i).ok_or(format!("missing {what}"));
        let int = |i: usize| -> Result<Option<i64>, String> {
            arg(i).map(|a| super::keyword::parse_i64(a).ok_or(format!("'{a}' is not an integer"))).transpose()
        };
        let named = |i: usize| arg(i).map(Box::<str>::from);
        let cook = |side, what| ExtFetch::Cook {
            side,
            name: arg(0).unwrap_or_default().as_bytes().into(),
            what,
            last: false,
        };
        let srv = |i: usize| -> Result<(Box<str>, Box<str>), String> {
            let a = need(i, "<backend>/<server>")?;
            let (b, s) = a.split_once('/').ok_or(format!("'{a}' is not <backend>/<server>"))?;
            Ok((b.into(), s.into()))
        };
        let (f, t) = match name {
            "var" => {
                let v = VarName::parse(need(0, "variable name")?)?;
                let default = arg(1).map(|d| d.as_bytes().into());
                (ExtFetch::Var { name: v, default }, SmpType::Str)
            }
            "env" => (ExtFetch::Env(need(0, "variable name")?.into()), SmpType::Str),
            "req.cook" | "cook" => (cook(Side::Req, CookWhat::Value), SmpType::Str),
            "req.cook_cnt" | "cook_cnt" => (cook(Side::Req, CookWhat::Count), SmpType::Int),
            "req.cook_val" | "cook_val" => (cook(Side::Req, CookWhat::Int), SmpType::Int),
            "res.cook" | "scook" => (cook(Side::Res, CookWhat::Value), SmpType::Str),
            "res.cook_cnt" | "scook_cnt" => (cook(Side::Res, CookWhat::Count), SmpType::Int),
            "res.cook_val" | "scook_val" => (cook(Side::Res, CookWhat::Int), SmpType::Int),
            "be_conn" => (ExtFetch::Proxy(ProxyFetch::BeConn(named(0))), SmpType::Int),
            "fe_conn" => (ExtFetch::Proxy(ProxyFetch::FeConn(named(0))), SmpType::Int),
            "queue" => (ExtFetch::Proxy(ProxyFetch::Queue(named(0))), SmpType::Int),
            "avg_queue" => (ExtFetch::Proxy(ProxyFetch::AvgQueue(named(0))), SmpType::Int),
            "connslots" => (ExtFetch::Proxy(ProxyFetch::ConnSlots(named(0))), SmpType::Int),
            "srv_is_up" => {
                let (b, s) = srv(0)?;
                (ExtFetch::Proxy(ProxyFetch::SrvIsUp(b, s)), SmpType::Bool)
            }
            "srv_conn" => {
                let (b, s) = srv(0)?;
                (ExtFetch::Proxy(ProxyFetch::SrvConn(b, s)), SmpType::Int)
            }
            "be_id" => (ExtFetch::Proxy(ProxyFetch::BeId), SmpType::Int),
            "fe_id" => (ExtFetch::Proxy(ProxyFetch::FeId), SmpType::Int),
            "srv_id" => (ExtFetch::Proxy(ProxyFetch::SrvId), SmpType::Int),
            "srv_name" => (ExtFetch::SrvName, SmpType::Str),
            "date" => {
                let unit = match arg(1).unwrap_or("s") {
                    "s" => 1,
                    "ms" => 1000,
                    "us" => 1_000_000,
                    u => return Err(format!("invalid unit '{u}' (must be 's', 'ms' or 'us')")),
                };
                (ExtFetch::Date { offset: int(0)?.unwrap_or(0), unit }, SmpType::Int)
            }
            "rand" => (ExtFetch::Rand(int(0)?), SmpType::Int),
            "hostname" => (ExtFetch::Hostname, SmpType::Str),
            "uuid" => {
                if !matches!(arg(0), None | Some("4")) {
                    return Err("only uuid version 4 is supported".into());
                }
                (ExtFetch::Uuid, SmpType::Str)
            }
            "unique-id" => (ExtFetch::UniqueId, SmpType::Str),
            "http_first_req" => (ExtFetch::FirstReq, SmpType::Bool),
            "pathq" => (ExtFetch::PathQ, SmpType::Str),
            "req.body" => (ExtFetch::ReqBody, SmpType::Bin),
            "req.body_len" | "req.body_size" => (ExtFetch::ReqBodyLen, SmpType::Int),
            "res.body" => (ExtFetch::ResBody, SmpType::Bin),
            "res.body_len" | "res.body_size" => (ExtFetch::ResBodyLen, SmpType::Int),
            "http_auth" => (ExtFetch::HttpAuth(need(0, "userlist name")?.into()), SmpType::Bool),
            "res.cache_hit" => (ExtFetch::CacheHit, SmpType::Bool),
            "res.cache_name" => (ExtFetch::CacheName, SmpType::Str),
            "capture.req.hdr" | "capture.res.hdr" => {
                let idx = need(0, "capture index")?;
                let idx = idx.parse::<usize>().map_err(|_| format!("'{idx}' is not an integer"))?;
                (ExtFetch::CaptureHdr { response: name == "capture.res.hdr", idx }, SmpType::Str)
            }
            "capture.req.method" => (ExtFetch::CaptureReq(b'm'), SmpType::Str),
            "capture.req.ver" => (ExtFetch::CaptureReq(b'v'), SmpType::Str),
            _ => {
                let list = need(0, "userlist name")?.into();
                (ExtFetch::HttpAuthGroup { list, groups: Vec::new() }, SmpType::Bool)
            }
        };
        Ok((f, t, used))
    })())
}

type Each<'f> = &'f mut dyn FnMut(Sample<'_>) -> ControlFlow<()>;

impl ExtFetch {
    /// The form used for a value (not an ACL): the last cookie, as
    /// HAProxy's sample fetches return it.
    pub(crate) fn for_value(self) -> ExtFetch {
        match self {
            ExtFetch::Cook { side, name, what, last: _ } if what != CookWhat::Count => {
                ExtFetch::Cook { side, name, what, last: true }
            }
            other => other,
        }
    }

    pub(crate) fn each(&self, src: &dyn SampleSource, f: Each<'_>) -> ControlFlow<()> {
        let one = |f: Each<'_>, s: Option<Sample<'_>>| match s {
            Some(s) => f(s),
            None => ControlFlow::Continue(()),
        };
        match self {
            ExtFetch::Var { name, default } => with_buf(|buf| match read_var(src, name, buf) {
                Some(got) => f(got.sample(buf)),
                None => one(f, default.as_deref().map(Sample::Str)),
            }),
            ExtFetch::Env(name) => match std::env::var(&**name) {
                Ok(v) => f(Sample::Str(v.as_bytes())),
                Err(_) => ControlFlow::Continue(()),
            },
            ExtFetch::Cook { side, name, what, last } => cookies(src, *side, name, *what, *last, f),
            ExtFetch::Proxy(q) => {
                let q = match q {
                    ProxyFetch::BeConn(n) => ProxyQuery::BeConn(n.as_deref()),
                    ProxyFetch::FeConn(n) => ProxyQuery::FeConn(n.as_deref()),
                    ProxyFetch::Queue(n) => ProxyQuery::Queue(n.as_deref()),
                    ProxyFetch::AvgQueue(n) => ProxyQuery::AvgQueue(n.as_deref()),
                    ProxyFetch::ConnSlots(n) => ProxyQuery::ConnSlots(n.as_deref()),
                    ProxyFetch::SrvIsUp(b, s) => ProxyQuery::SrvIsUp(b, s),
                    ProxyFetch::SrvConn(b, s) => ProxyQuery::SrvConn(b, s),
                    ProxyFetch::BeId => ProxyQuery::BeId,
                    ProxyFetch::FeId => ProxyQuery::FeId,
                    ProxyFetch::SrvId => ProxyQuery::SrvId,
                };
                let v = src.proxy_query(q);
                let up = matches!(q, ProxyQuery::SrvIsUp(..));
                one(f, v.map(|v| if up { Sample::Bool(v != 0) } else { Sample::Int(v) }))
            }
            ExtFetch::SrvName => one(f, src.server_name().map(|s| Sample::Str(s.as_bytes()))),
            ExtFetch::Date { offset, unit } => {
                let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
                let v = match unit {
                    1 => now.as_secs() as i64,
                    1000 => now.as_millis() as i64,
                    _ => now.as_micros() as i64,
                };
                f(Sample::Int(v.saturating_add(offset.saturating_mul(i64::from(*unit)))))
            }
            ExtFetch::Rand(range) => {
                let r = u64::from(random() as u32);
                f(Sample::Int(match range {
                    Some(n) if *n > 0 => ((r * *n as u64) >> 32) as i64,
                    _ => r as i64,
                }))
            }
            ExtFetch::Hostname => {
                static NAME: OnceLock<String> = OnceLock::new();
                let name = NAME.get_or_init(|| {
                    std::fs::read_to_string("/proc/sys/kernel/hostname")
                        .map(|h| h.trim().to_owned())
                        .unwrap_or_default()
                });
                f(Sample::Str(name.as_bytes()))
            }
            ExtFetch::Uuid => {
                let mut text = [0u8; 36];
                uuid_v4(&mut text);
                f(Sample::Str(&text))
            }
            ExtFetch::UniqueId => one(f, src.unique_id().map(Sample::Str)),
            ExtFetch::FirstReq => one(f, src.first_request().map(Sample::Bool)),
            ExtFetch::PathQ => one(f, src.uri().and_then(text::uri_path).map(Sample::Str)),
            ExtFetch::ReqBody => one(f, src.req_body().map(Sample::Bin)),
            ExtFetch::ReqBodyLen => one(f, src.req_body().map(|b| Sample::Int(b.len() as i64))),
            ExtFetch::ResBody => one(f, src.res_body().map(Sample::Bin)),
            ExtFetch::ResBodyLen => one(f, src.res_body().map(|b| Sample::Int(b.len() as i64))),
            ExtFetch::CacheHit => {
                one(f, src.res_status().map(|_| Sample::Bool(src.cache_served().is_some())))
            }
            ExtFetch::CacheName => one(f, src.cache_served().map(|n| Sample::Str(n.as_bytes()))),
            ExtFetch::HttpAuth(list) => one(f, src.auth_check(list, None).map(Sample::Bool)),
            ExtFetch::CaptureHdr { response, idx } => {
                one(f, src.capture_slot(*response, *idx).map(Sample::Str))
            }
            ExtFetch::CaptureReq(b'm') => one(f, src.method().map(Sample::Str)),
            ExtFetch::CaptureReq(_) => one(
                f,
                src.req_version().map(|v| Sample::Str(if v == b"1.0" { b"HTTP/1.0" } else { b"HTTP/1.1" })),
            ),
            ExtFetch::HttpAuthGroup { list, groups } => {
                one(f, src.auth_check(list, Some(groups)).map(Sample::Bool))
            }
        }
    }
}

/// Cookie values: `Cookie` headers (`a=1; b=2`) on the request side,
/// the first `name=value` of each `Set-Cookie` on the response side.
fn cookies(
    src: &dyn SampleSource,
    side: Side,
    name: &[u8],
    what: CookWhat,
    last: bool,
    f: Each<'_>,
) -> ControlFlow<()> {
    let mut count: i64 = 0;
    let mut found: Option<(usize, usize)> = None; // last value, as a range in `held`
    let mut held: Vec<u8> = Vec::new();
    let mut result = ControlFlow::Continue(());
    let mut visit = |n: &[u8], v: &[u8]| {
        let is_req = side != Side::Res;
        let header = if is_req { &b"cookie"[..] } else { &b"set-cookie"[..] };
        if !n.eq_ignore_ascii_case(header) {
            return ControlFlow::Continue(());
        }
        let pairs: &mut dyn Iterator<Item = &[u8]> =
            if is_req { &mut v.split(|&c| c == b';') } else { &mut v.split(|&c| c == b';').take(1) };
        for pair in pairs {
            let pair = text::trim(pair);
            let (k, val) = match pair.iter().position(|&c| c == b'=') {
                Some(eq) => (text::trim(&pair[..eq]), text::trim(&pair[eq + 1..])),
                None => continue,
            };
            if !name.is_empty() && k != name {
                continue;
            }
            count += 1;
            match what {
                CookWhat::Count => {}
                _ if last => {
                    held.clear();
                    held.extend_from_slice(val);
                    found = Some((0, val.len()));
                }
                CookWhat::Value => {
                    result = f(Sample::Str(val));
                    if result.is_break() {
                        return result;
                    }
                }
                CookWhat::Int => {
                    result = f(Sample::Int(text::read_int(val)));
                    if result.is_break() {
                        return result;
                    }
                }
            }
        }
        ControlFlow::Continue(())
    };
    match side {
        Side::Res => src.for_each_res_header(&mut visit),
        _ => src.for_each_req_header(&mut visit),
    }
    if result.is_break() {
        return result;
    }
    match what {
        CookWhat::Count => f(Sample::Int(count)),
        _ => match found {
            Some((a, b)) if last && what == CookWhat::Int => f(Sample::Int(text::read_int(&held[a..b]))),
            Some((a, b)) if last => f(Sample::Str(&held[a..b])),
            _ => ControlFlow::Continue(()),
        },
    }
}

thread_local! {
    static RNG: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let local = 0u8;
    (t.as_nanos() as u64) ^ u64::from(std::process::id()).rotate_left(32) ^ (&local as *const u8 as u64)
}

/// splitmix64: a fast, well-spread generator for `rand` and `uuid`
/// (not for secrets).
pub(crate) fn random() -> u64 {
    RNG.with(|s| {
        let x = s.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        s.set(x);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

/// A random (version 4) UUID in its 36-character text form.
pub(crate) fn uuid_v4(out: &mut [u8; 36]) {
    let (hi, lo) = (random(), random());
    let hi = (hi & !0xf000) | 0x4000; // version 4
    let lo = (lo & !(0b11 << 62)) | (0b10 << 62); // RFC 4122 variant
    let mut cur = &mut out[..];
    let _ = write!(
        cur,
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    );
}
