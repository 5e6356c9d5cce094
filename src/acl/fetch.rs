//! Sample fetches: [`Fetch`] (a compiled fetch with its arguments) and how
//! each one reads a [`SampleSource`]. Multi-valued fetches (`hdr`,
//! `url_param`) hand every value to the caller, which stops the walk once
//! one matched.

use std::cell::RefCell;
use std::ops::ControlFlow;

use super::source::{ArgValue, Sample, SampleSource};
use super::text;

/// Type of the samples a fetch produces; picks the default matching method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SmpType {
    Bool,
    Int,
    Ip,
    Str,
    Bin,
}

/// Which side's headers a header fetch reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Req,
    Res,
    Auto, // `hdr`, `hdr_cnt`: the response's once one is being processed
}

/// One compiled fetch. Built by `keyword::parse_fetch`, owned by its
/// expression, immutable afterwards.
#[derive(Clone, Debug)]
pub(crate) enum Fetch {
    Src,
    SrcPort,
    Dst,
    DstPort,
    Method,
    Path,
    Url,
    Query,
    Base,
    /// `hdr`, `req.hdr`, `req.fhdr`, `res.hdr`...: `full` keeps lines whole
    /// instead of splitting on commas; `occ` 0 = every value, N>0 the Nth,
    /// N<0 the Nth from the end. An empty name means every header.
    Hdr {
        side: Side,
        name: Box<[u8]>,
        occ: i64,
        full: bool,
    },
    /// `hdr_cnt`, `req.fhdr_cnt`...: number of values (or lines when `full`).
    HdrCnt {
        side: Side,
        name: Box<[u8]>,
        full: bool,
    },
    UrlParam {
        name: Box<[u8]>,
        delim: u8,
    },
    FeName,
    BeName,
    Nbsrv(Option<Box<str>>), // None: the current backend
    Status,
    ReqVer,
    ProtoHttp,
    Bool(bool),
    Int(i64),
    Str(Box<[u8]>),
    /// Variables, cookies, proxy state, time... (`fetch_ext.rs`).
    Ext(super::fetch_ext::ExtFetch),
    Ssl(super::fetch_ssl::SslFetch),
    /// Typed constants, `hdr_ip`, `capture.req.*`, `req.len` (`fetch_more.rs`).
    More(super::fetch_more::MoreFetch),
    /// Answered by [`SampleSource::custom`] (extension point for stick counters).
    Custom {
        name: Box<str>,
        args: Box<[ArgValue]>,
    },
}

thread_local! {
    /// Scratch for fetches that build a value (`base`): grows once, reused
    /// afterwards, so steady-state evaluation does not allocate.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

type Each<'f> = &'f mut dyn FnMut(Sample<'_>) -> ControlFlow<()>;

impl Fetch {
    /// Calls `f` with each sample; returns `Break` as soon as `f` did.
    /// A fetch that cannot work here (no such data) calls `f` zero times.
    pub(crate) fn each(&self, src: &dyn SampleSource, f: Each<'_>) -> ControlFlow<()> {
        let one = |f: Each<'_>, s: Option<Sample<'_>>| match s {
            Some(s) => f(s),
            None => ControlFlow::Continue(()),
        };
        match self {
            Fetch::Src => one(f, src.src().map(|a| Sample::Ip(a.ip()))),
            Fetch::SrcPort => one(f, src.src().map(|a| Sample::Int(i64::from(a.port())))),
            Fetch::Dst => one(f, src.dst().map(|a| Sample::Ip(a.ip()))),
            Fetch::DstPort => one(f, src.dst().map(|a| Sample::Int(i64::from(a.port())))),
            Fetch::Method => one(f, src.method().map(Sample::Str)),
            Fetch::Path => one(f, src.uri().and_then(text::path).map(Sample::Str)),
            Fetch::Url => one(f, src.uri().map(Sample::Str)),
            Fetch::Query => one(f, src.uri().and_then(text::query).map(Sample::Str)),
            Fetch::Base => base(src, f),
            Fetch::Hdr { side, name, occ, full } => headers(src, *side, name, *occ, *full, f),
            Fetch::HdrCnt { side, name, full } => {
                let mut n: i64 = 0;
                let _ = values(src, *side, name, *full, &mut |_| {
                    n += 1;
                    ControlFlow::Continue(())
                });
                f(Sample::Int(n))
            }
            Fetch::UrlParam { name, delim } => match src.uri() {
                Some(uri) => text::url_params(uri, name, *delim, &mut |v| f(Sample::Str(v))),
                None => ControlFlow::Continue(()),
            },
            Fetch::FeName => f(Sample::Str(src.frontend_name().as_bytes())),
            Fetch::BeName => one(f, src.backend_name().map(|b| Sample::Str(b.as_bytes()))),
            Fetch::Nbsrv(name) => {
                let n = match name {
                    Some(name) => src.nbsrv(name),
                    None => src.backend_name().and_then(|b| src.nbsrv(b)),
                };
                one(f, n.map(|n| Sample::Int(i64::from(n))))
            }
            Fetch::Status => one(f, src.res_status().map(|s| Sample::Int(i64::from(s)))),
            Fetch::ReqVer => one(f, src.req_version().map(Sample::Str)),
            Fetch::ProtoHttp => f(Sample::Bool(src.method().is_some() || h2_preface(src))),
            Fetch::Bool(b) => f(Sample::Bool(*b)),
            Fetch::Int(i) => f(Sample::Int(*i)),
            Fetch::Str(s) => f(Sample::Str(s)),
            Fetch::Ext(e) => e.each(src, f),
            Fetch::Ssl(e) => e.each(src, f),
            Fetch::More(m) => m.each(src, f),
            Fetch::Custom { name, args } => one(f, src.custom(name, args)),
        }
    }
}

/// `base`: first Host value followed by the path (without query); the
/// path alone when there is no (or an empty) Host header.
fn base(src: &dyn SampleSource, f: Each<'_>) -> ControlFlow<()> {
    let Some(uri) = src.uri() else { return ControlFlow::Continue(()) };
    let path = text::path(uri);
    SCRATCH.with(|scratch| {
        let Ok(mut buf) = scratch.try_borrow_mut() else { return ControlFlow::Continue(()) };
        buf.clear();
        let _ = values(src, Side::Req, b"host", false, &mut |v| {
            buf.extend_from_slice(v);
            ControlFlow::Break(())
        });
        if buf.is_empty() {
            return match path {
                Some(p) => f(Sample::Str(p)),
                None => ControlFlow::Continue(()),
            };
        }
        if let Some(p) = path.filter(|p| p.first() == Some(&b'/')) {
            buf.extend_from_slice(p);
        }
        f(Sample::Str(&buf))
    })
}

/// Walks the values (comma-split unless `full`) of headers called `name`
/// (every header when empty).
fn values(
    src: &dyn SampleSource,
    side: Side,
    name: &[u8],
    full: bool,
    f: &mut dyn FnMut(&[u8]) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let mut result = ControlFlow::Continue(());
    let mut line = |n: &[u8], v: &[u8]| {
        if !name.is_empty() && !n.eq_ignore_ascii_case(name) {
            return ControlFlow::Continue(());
        }
        result = if full { f(text::trim(v)) } else { text::header_values(v, f) };
        result
    };
    match side {
        Side::Req => src.for_each_req_header(&mut line),
        Side::Res => src.for_each_res_header(&mut line),
        Side::Auto if src.res_status().is_some() => src.for_each_res_header(&mut line),
        Side::Auto => src.for_each_req_header(&mut line),
    }
    result
}

/// `hdr(name,occ)`: every value, or only the occurrence `occ` asks for.
pub(super) fn headers(
    src: &dyn SampleSource,
    side: Side,
    name: &[u8],
    occ: i64,
    full: bool,
    f: Each<'_>,
) -> ControlFlow<()> {
    let target = match occ {
        0 => return values(src, side, name, full, &mut |v| f(Sample::Str(v))),
        n if n > 0 => n,
        n => {
            let mut total: i64 = 0;
            let _ = values(src, side, name, full, &mut |_| {
                total += 1;
                ControlFlow::Continue(())
            });
            total.saturating_add(n).saturating_add(1)
        }
    };
    if target <= 0 {
        return ControlFlow::Continue(());
    }
    let mut seen: i64 = 0;
    let mut result = ControlFlow::Continue(());
    let _ = values(src, side, name, full, &mut |v| {
        seen += 1;
        if seen == target {
            result = f(Sample::Str(v));
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    result
}

/// `req.proto_http` in TCP rules also takes the HTTP/2 connection preface
/// (`PRI * HTTP/2.0`) as HTTP, as HAProxy's request-line parser does, so
/// that `switch-mode http if HTTP` upgrades an HTTP/2 client too. While
/// the bytes are a part of it and more may come, the fetch waits.
fn h2_preface(src: &dyn SampleSource) -> bool {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\n";
    let Some((data, last)) = src.req_payload() else { return false };
    if data.len() < PREFACE.len() && PREFACE.starts_with(data) && !last {
        super::mark_incomplete();
    }
    data.starts_with(PREFACE)
}
