//! Fetch keywords: the names HAProxy knows (`path`, `req.hdr`, `hdr_beg`...)
//! and the parsing of one fetch word, `name(arg,arg)`, into a [`Fetch`].
//! The table is the one place to add a keyword (stick-counter fetches go
//! in [`custom`]).

use super::error::AclErrorKind;
use super::fetch::{Fetch, Side, SmpType};
use super::pattern::Matcher;
use super::source::ArgValue;
use super::value::Chain;

/// Argument types, as HAProxy names them in its messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ArgType {
    Int,
    Str,
}

/// One argument slot: its type and whether it may be left out.
type ArgSpec = (ArgType, bool); // (type, mandatory)

const NONE: &[ArgSpec] = &[];
const STR: &[ArgSpec] = &[(ArgType::Str, false)];
const STR_INT: &[ArgSpec] = &[(ArgType::Str, false), (ArgType::Int, false)];
const STR_STR: &[ArgSpec] = &[(ArgType::Str, false), (ArgType::Str, false)];
const INT1: &[ArgSpec] = &[(ArgType::Int, true)];

/// What a keyword fetches, before its arguments are applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Src,
    SrcPort,
    Dst,
    DstPort,
    Method,
    Path,
    Url,
    Query,
    Base,
    Hdr(Side, bool),    // (side, full line)
    HdrCnt(Side, bool), // (side, full line)
    UrlParam,
    FeName,
    BeName,
    Nbsrv,
    Status,
    ReqVer,
    ProtoHttp,
    True,
    False,
    Int,
    Str,
    Custom(SmpType),
}

/// Keyword table: name, what it fetches, arguments, and whether HAProxy
/// registers it as an "ACL keyword" (changes its error wording).
const KEYWORDS: &[(&str, Kind, &[ArgSpec], bool)] = &[
    ("src", Kind::Src, NONE, false),
    ("src_port", Kind::SrcPort, NONE, false),
    ("dst", Kind::Dst, NONE, false),
    ("dst_port", Kind::DstPort, NONE, false),
    ("method", Kind::Method, NONE, true),
    ("path", Kind::Path, NONE, true),
    ("url", Kind::Url, NONE, true),
    ("query", Kind::Query, NONE, false),
    ("base", Kind::Base, NONE, true),
    ("hdr", Kind::Hdr(Side::Auto, false), STR_INT, true),
    ("req.hdr", Kind::Hdr(Side::Req, false), STR_INT, false),
    ("req.fhdr", Kind::Hdr(Side::Req, true), STR_INT, false),
    ("hdr_cnt", Kind::HdrCnt(Side::Auto, false), STR, false),
    ("req.hdr_cnt", Kind::HdrCnt(Side::Req, false), STR, false),
    ("req.fhdr_cnt", Kind::HdrCnt(Side::Req, true), STR, false),
    ("shdr", Kind::Hdr(Side::Res, false), STR_INT, true),
    ("res.hdr", Kind::Hdr(Side::Res, false), STR_INT, false),
    ("res.fhdr", Kind::Hdr(Side::Res, true), STR_INT, false),
    ("shdr_cnt", Kind::HdrCnt(Side::Res, false), STR, false),
    ("res.hdr_cnt", Kind::HdrCnt(Side::Res, false), STR, false),
    ("res.fhdr_cnt", Kind::HdrCnt(Side::Res, true), STR, false),
    ("url_param", Kind::UrlParam, STR_STR, false),
    ("urlp", Kind::UrlParam, STR_STR, true),
    ("fe_name", Kind::FeName, NONE, false),
    ("be_name", Kind::BeName, NONE, false),
    ("nbsrv", Kind::Nbsrv, STR, false),
    ("status", Kind::Status, NONE, false),
    ("req.ver", Kind::ReqVer, NONE, false),
    ("req_ver", Kind::ReqVer, NONE, true),
    ("req.proto_http", Kind::ProtoHttp, NONE, false),
    ("req_proto_http", Kind::ProtoHttp, NONE, false),
    ("always_true", Kind::True, NONE, false),
    ("always_false", Kind::False, NONE, false),
    ("int", Kind::Int, INT1, false),
    ("str", Kind::Str, STR, false),
];

const OPT_STR: &[ArgSpec] = &[(ArgType::Str, false)];
const INT_OPT_STR: &[ArgSpec] = &[(ArgType::Int, true), (ArgType::Str, false)];

/// Stick-counter fetches, answered by
/// [`SampleSource::custom`](super::SampleSource::custom): `sc0_X`, `sc1_X`,
/// `sc2_X` (optional table), `sc_X(N[,table])`, `src_X([table])` for every
/// stored type X plus `tracked`, `trackers`, `get_gpc0`, `inc_gpc0`,
/// `clr_gpc0`, `get_gpc1`, `inc_gpc1`, `clr_gpc1`, `get_gpt0`; and
/// `table_cnt([table])`, `table_avl([table])`.
fn custom(name: &str) -> Option<(SmpType, &'static [ArgSpec])> {
    if matches!(name, "table_cnt" | "table_avl") {
        return Some((SmpType::Int, OPT_STR));
    }
    let (what, specs) = if let Some(rest) = name.strip_prefix("sc_") {
        (rest, INT_OPT_STR)
    } else if let Some(rest) = name.strip_prefix("src_") {
        (rest, OPT_STR)
    } else if let Some(rest) = ["sc0_", "sc1_", "sc2_"].iter().find_map(|p| name.strip_prefix(p)) {
        (rest, OPT_STR)
    } else {
        return None;
    };
    let special = [
        "tracked", "trackers", "get_gpc0", "inc_gpc0", "clr_gpc0", "get_gpc1", "inc_gpc1", "clr_gpc1",
        "get_gpt0",
    ];
    if what == "tracked" {
        return (!name.starts_with("src_")).then_some((SmpType::Bool, specs));
    }
    if special.contains(&what) || crate::stick::DataType::from_name(what).is_some() {
        return Some((SmpType::Int, specs));
    }
    None
}

/// Prefixes that take HAProxy's matching suffixes (`path_beg`, `hdr_dom`...).
const SUFFIXED: &[&str] = &["base", "hdr", "path", "url", "urlp", "shdr"];

/// A parsed fetch word with its converters.
#[derive(Debug)]
pub(crate) struct ParsedFetch {
    pub chain: Chain,
    pub out: SmpType,             // type of the last step's samples
    pub implied: Option<Matcher>, // from a suffix form (`path_beg` → beg)
}

/// Parses one sample expression: `name`, `name(args)`, then any
/// `,converter(args)` steps.
pub(crate) fn parse_fetch(word: &str) -> Result<ParsedFetch, AclErrorKind> {
    let name_end = word.find(['(', ',']).unwrap_or(word.len());
    let name = &word[..name_end];
    if name.is_empty() {
        return Err(AclErrorKind::MissingFetch { expr: word.to_owned() });
    }
    let arg_err = |acl_kw: bool, detail: String| AclErrorKind::FetchArg {
        kw: name.to_owned(),
        expr: word.to_owned(),
        acl_kw,
        detail,
    };
    let mut is_acl_kw = false;
    let after_name = &word[name_end..];
    let more = super::fetch_more::parse(name, after_name.strip_prefix('('));
    let (fetch, out, implied, rest) = match lookup(name).filter(|_| more.is_none()) {
        Some((kind, specs, acl_kw, implied)) => {
            is_acl_kw = acl_kw;
            let (fetch, out, rest) = core_fetch(word, name, name_end, kind, specs, acl_kw)?;
            (fetch, out, implied, rest)
        }
        None if more.is_some() => match more {
            Some(Ok((f, out, used))) => (Fetch::More(f), out, None, &after_name[used..]),
            Some(Err(e)) => return Err(arg_err(false, e)),
            None => unreachable!("checked by the guard"),
        },
        None => {
            let after = after_name;
            let args_text = after.strip_prefix('(');
            match super::fetch_ext::parse(name, args_text) {
                Some(Ok((f, out, used))) => (Fetch::Ext(f), out, None, &after[used..]),
                Some(Err(e)) => return Err(arg_err(false, e)),
                None => match super::fetch_ssl::parse(name, args_text) {
                    Some(Ok((f, out, used))) => (Fetch::Ssl(f), out, None, &after[used..]),
                    Some(Err(e)) => return Err(arg_err(false, e)),
                    None => {
                        return Err(AclErrorKind::UnknownFetch {
                            name: name.to_owned(),
                            expr: word.to_owned(),
                        });
                    }
                },
            }
        }
    };
    let mut convs = Vec::new();
    let mut out = out;
    if let Some(chain) = rest.strip_prefix(',') {
        for conv in super::args::split_chain(chain) {
            let c = super::conv::parse(conv).map_err(|e| arg_err(is_acl_kw, e))?;
            out = c.output(out);
            convs.push(c);
        }
    } else if !rest.is_empty() {
        return Err(arg_err(false, "missing comma after fetch keyword".to_owned()));
    }
    let implied = if convs.is_empty() { implied } else { None };
    Ok(ParsedFetch { chain: Chain { fetch, convs }, out, implied })
}

/// The fetches of the [`KEYWORDS`] table: arguments parsed by their types.
fn core_fetch<'w>(
    word: &'w str,
    name: &str,
    name_end: usize,
    kind: Kind,
    specs: &[ArgSpec],
    acl_kw: bool,
) -> Result<(Fetch, SmpType, &'w str), AclErrorKind> {
    let arg_err = |detail: String| AclErrorKind::FetchArg {
        kw: name.to_owned(),
        expr: word.to_owned(),
        acl_kw,
        detail,
    };
    let mut rest = &word[name_end..];
    let mut args: Vec<ArgValue> = Vec::new();
    if let Some(inner) = rest.strip_prefix('(') {
        let Some(close) = inner.find(')') else { return Err(arg_err("expected ')'".to_owned())) };
        let text = &inner[..close];
        rest = &inner[close + 1..];
        if !text.is_empty() {
            let mut offset = 0;
            for (i, piece) in text.split(',').enumerate() {
                let Some(&(ty, _)) = specs.get(i) else {
                    // HAProxy shows what is left from the extra comma on.
                    let from = if i == 0 { 0 } else { offset - 1 };
                    return Err(arg_err(format!("expected ')' before '{})'", &text[from..])));
                };
                offset += piece.len() + 1;
                args.push(match ty {
                    ArgType::Str => ArgValue::Str(piece.to_owned()),
                    ArgType::Int => match parse_i64(piece) {
                        Some(v) => ArgValue::Int(v),
                        None => {
                            return Err(arg_err(format!(
                                "failed to parse '{piece}' as type 'integer' at position {}",
                                i + 1
                            )));
                        }
                    },
                });
            }
        }
    }
    if let Some((i, &(ty, _))) = specs.iter().enumerate().skip(args.len()).find(|(_, (_, m))| *m) {
        let ty = if ty == ArgType::Int { "integer" } else { "string" };
        return Err(arg_err(format!("expected type '{ty}' at position {}, but got nothing", i + 1)));
    }
    if !rest.is_empty() && !rest.starts_with(',') {
        return Err(arg_err("missing comma after fetch keyword".to_owned()));
    }
    let (fetch, out) = build(kind, name, args);
    Ok((fetch, out, rest))
}

/// Finds a keyword: exact name, custom fetch, or `prefix_suffix` form.
fn lookup(name: &str) -> Option<(Kind, &'static [ArgSpec], bool, Option<Matcher>)> {
    if let Some(&(_, kind, specs, acl_kw)) = KEYWORDS.iter().find(|k| k.0 == name) {
        return Some((kind, specs, acl_kw, None));
    }
    if let Some((out, specs)) = custom(name) {
        return Some((Kind::Custom(out), specs, false, None));
    }
    let (prefix, suffix) = name.rsplit_once('_')?;
    if !SUFFIXED.contains(&prefix) {
        return None;
    }
    let matcher = match suffix {
        "val" => Matcher::Int,
        "ip" if prefix != "url" => Matcher::Ip,
        "beg" | "end" | "sub" | "reg" | "dir" | "dom" | "len" => Matcher::from_name(suffix)?,
        _ => return None,
    };
    let &(_, kind, specs, _) = KEYWORDS.iter().find(|k| k.0 == prefix)?;
    Some((kind, specs, true, Some(matcher)))
}

/// Applies the parsed arguments.
fn build(kind: Kind, name: &str, args: Vec<ArgValue>) -> (Fetch, SmpType) {
    let str_arg = |i: usize| match args.get(i) {
        Some(ArgValue::Str(s)) => Some(s.as_str()),
        _ => None,
    };
    let int_arg = |i: usize| match args.get(i) {
        Some(ArgValue::Int(v)) => Some(*v),
        _ => None,
    };
    let bytes = |i: usize| -> Box<[u8]> { str_arg(i).unwrap_or_default().as_bytes().into() };
    match kind {
        Kind::Src => (Fetch::Src, SmpType::Ip),
        Kind::SrcPort => (Fetch::SrcPort, SmpType::Int),
        Kind::Dst => (Fetch::Dst, SmpType::Ip),
        Kind::DstPort => (Fetch::DstPort, SmpType::Int),
        Kind::Method => (Fetch::Method, SmpType::Str),
        Kind::Path => (Fetch::Path, SmpType::Str),
        Kind::Url => (Fetch::Url, SmpType::Str),
        Kind::Query => (Fetch::Query, SmpType::Str),
        Kind::Base => (Fetch::Base, SmpType::Str),
        Kind::Hdr(side, full) => {
            (Fetch::Hdr { side, name: bytes(0), occ: int_arg(1).unwrap_or(0), full }, SmpType::Str)
        }
        Kind::HdrCnt(side, full) => (Fetch::HdrCnt { side, name: bytes(0), full }, SmpType::Int),
        Kind::UrlParam => {
            let delim = str_arg(1).and_then(|d| d.bytes().next()).unwrap_or(b'?');
            (Fetch::UrlParam { name: bytes(0), delim }, SmpType::Str)
        }
        Kind::FeName => (Fetch::FeName, SmpType::Str),
        Kind::BeName => (Fetch::BeName, SmpType::Str),
        Kind::Nbsrv => (Fetch::Nbsrv(str_arg(0).map(Into::into)), SmpType::Int),
        Kind::Status => (Fetch::Status, SmpType::Int),
        Kind::ReqVer => (Fetch::ReqVer, SmpType::Str),
        Kind::ProtoHttp => (Fetch::ProtoHttp, SmpType::Bool),
        Kind::True => (Fetch::Bool(true), SmpType::Bool),
        Kind::False => (Fetch::Bool(false), SmpType::Bool),
        Kind::Int => (Fetch::Int(int_arg(0).unwrap_or(0)), SmpType::Int),
        Kind::Str => {
            (Fetch::Str(crate::cfg::raw_bytes::raw(str_arg(0).unwrap_or_default()).into()), SmpType::Str)
        }
        Kind::Custom(out) => (Fetch::Custom { name: name.into(), args: args.into() }, out),
    }
}

/// HAProxy's `strl2llrc`: optional `-`, then one or more digits, no overflow.
pub(crate) fn parse_i64(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}
