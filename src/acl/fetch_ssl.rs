//! TLS fetches: what the client connection's handshake negotiated
//! (`ssl_fc`, `ssl_fc_sni`, `ssl_fc_alpn`, `ssl_fc_protocol`,
//! `ssl_fc_cipher`, `ssl_fc_has_crt`, `ssl_fc_has_sni`,
//! `ssl_fc_is_resumed`, `ssl_c_used`, `ssl_c_verify`, `ssl_c_s_dn`,
//! `ssl_c_i_dn`, `ssl_c_serial`, `ssl_c_sha1`), whether the server
//! connection is TLS (`ssl_bc`), and the ClientHello still in the request
//! buffer of a TCP-mode stream that does not terminate TLS
//! (`req.ssl_hello_type`, `req.ssl_sni`, `req.ssl_alpn`, their `req_`
//! spellings).
//!
//! A buffer fetch that lacks bytes says so through [`take_incomplete`],
//! so `tcp-request content` rules can wait (`tcp-request inspect-delay`)
//! as HAProxy's "may change" samples make them.

use std::cell::Cell;
use std::ops::ControlFlow;

use super::args::fetch_args;
use super::fetch::SmpType;
use super::source::{Sample, SampleSource};
use super::tls_hello::{self, Hello};

/// One compiled TLS fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SslFetch {
    Fc,
    FcSni,
    FcHasSni,
    FcAlpn,
    FcProtocol,
    FcCipher,
    FcHasCrt,
    FcIsResumed,
    CVerify,
    CSubject(Option<Box<str>>), // `ssl_c_s_dn([entry])`
    CIssuer(Option<Box<str>>),  // `ssl_c_i_dn([entry])`
    CSerial,
    CSha1,
    Bc,
    HelloType,
    HelloSni,
    HelloAlpn,
}

thread_local! {
    /// Set when a buffer fetch found too few bytes while more may come.
    static INCOMPLETE: Cell<bool> = const { Cell::new(false) };
}

/// Whether a buffer fetch lacked bytes since the last call (and clears it).
pub fn take_incomplete() -> bool {
    INCOMPLETE.with(|c| c.replace(false))
}

/// Notes that a buffer fetch found too few bytes while more may come (the
/// inspection rules then wait for more, up to `tcp-request inspect-delay`).
pub fn mark_incomplete() {
    INCOMPLETE.with(|c| c.set(true));
}

/// Parses `name` with the text after its `(`; None: not a TLS fetch.
pub(crate) fn parse(
    name: &str,
    args_text: Option<&str>,
) -> Option<Result<(SslFetch, SmpType, usize), String>> {
    use SslFetch::*;
    let (fetch, out) = match name {
        "ssl_fc" => (Fc, SmpType::Bool),
        "ssl_fc_sni" => (FcSni, SmpType::Str),
        "ssl_fc_has_sni" => (FcHasSni, SmpType::Bool),
        "ssl_fc_alpn" => (FcAlpn, SmpType::Str),
        "ssl_fc_protocol" => (FcProtocol, SmpType::Str),
        "ssl_fc_cipher" => (FcCipher, SmpType::Str),
        "ssl_fc_has_crt" | "ssl_c_used" => (FcHasCrt, SmpType::Bool),
        "ssl_fc_is_resumed" => (FcIsResumed, SmpType::Bool),
        "ssl_c_verify" => (CVerify, SmpType::Int),
        "ssl_c_s_dn" => (CSubject(None), SmpType::Str),
        "ssl_c_i_dn" => (CIssuer(None), SmpType::Str),
        "ssl_c_serial" => (CSerial, SmpType::Str),
        "ssl_c_sha1" => (CSha1, SmpType::Str),
        "ssl_bc" => (Bc, SmpType::Bool),
        "req.ssl_hello_type" | "req_ssl_hello_type" => (HelloType, SmpType::Int),
        "req.ssl_sni" | "req_ssl_sni" => (HelloSni, SmpType::Str),
        "req.ssl_alpn" => (HelloAlpn, SmpType::Str),
        _ => return None,
    };
    Some((|| {
        let (args, used) = fetch_args(args_text)?;
        let entry = args.first().filter(|a| !a.is_empty()).map(|a| Box::<str>::from(a.as_str()));
        let fetch = match fetch {
            CSubject(_) => CSubject(entry),
            CIssuer(_) => CIssuer(entry),
            other if !args.is_empty() => return Err(format!("'{}' takes no argument", fetch_name(&other))),
            other => other,
        };
        Ok((fetch, out, used))
    })())
}

fn fetch_name(f: &SslFetch) -> &'static str {
    match f {
        SslFetch::CSubject(_) => "ssl_c_s_dn",
        SslFetch::CIssuer(_) => "ssl_c_i_dn",
        _ => "this fetch",
    }
}

type Each<'f> = &'f mut dyn FnMut(Sample<'_>) -> ControlFlow<()>;

impl SslFetch {
    pub(crate) fn each(&self, src: &dyn SampleSource, f: Each<'_>) -> ControlFlow<()> {
        use SslFetch::*;
        let one = |f: Each<'_>, s: Option<Sample<'_>>| match s {
            Some(s) => f(s),
            None => ControlFlow::Continue(()),
        };
        let tls = src.client_tls();
        let peer = tls.and_then(|t| t.peer.as_deref());
        match self {
            Fc => f(Sample::Bool(tls.is_some())),
            FcSni => one(f, tls.and_then(|t| t.sni.as_deref()).map(|s| Sample::Str(s.as_bytes()))),
            FcHasSni => one(f, tls.map(|t| Sample::Bool(t.sni.is_some()))),
            FcAlpn => one(f, tls.and_then(|t| t.alpn.as_deref()).map(Sample::Str)),
            FcProtocol => one(f, tls.map(|t| Sample::Str(t.version.as_bytes()))),
            FcCipher => one(f, tls.map(|t| Sample::Str(t.cipher.as_bytes()))),
            FcHasCrt => one(f, tls.map(|t| Sample::Bool(t.peer.is_some()))),
            FcIsResumed => one(f, tls.map(|t| Sample::Bool(t.resumed))),
            CVerify => one(f, tls.map(|t| Sample::Int(t.peer.as_ref().map_or(0, |p| p.verify)))),
            CSubject(entry) => {
                one(f, peer.and_then(|p| dn_part(&p.subject, entry.as_deref())).map(Sample::Str))
            }
            CIssuer(entry) => {
                one(f, peer.and_then(|p| dn_part(&p.issuer, entry.as_deref())).map(Sample::Str))
            }
            CSerial => one(f, peer.map(|p| Sample::Str(&p.serial))),
            CSha1 => one(f, peer.map(|p| Sample::Str(&p.sha1))),
            Bc => f(Sample::Bool(src.server_tls())),
            HelloType | HelloSni | HelloAlpn => hello_fetch(self, src, f),
        }
    }
}

/// A whole one-line DN, or the value of its (last) `entry` attribute.
fn dn_part<'a>(dn: &'a str, entry: Option<&str>) -> Option<&'a [u8]> {
    let Some(entry) = entry else { return Some(dn.as_bytes()) };
    dn.rsplit('/')
        .filter_map(|part| part.split_once('='))
        .find(|(k, _)| *k == entry)
        .map(|(_, v)| v.as_bytes())
}

/// The `req.ssl_*` fetches over the request buffer.
fn hello_fetch(what: &SslFetch, src: &dyn SampleSource, f: Each<'_>) -> ControlFlow<()> {
    let Some((buf, last)) = src.req_payload() else { return ControlFlow::Continue(()) };
    let hello = tls_hello::parse(buf);
    let exts = match hello {
        Hello::Incomplete => {
            if !last {
                INCOMPLETE.with(|c| c.set(true));
            }
            return ControlFlow::Continue(());
        }
        Hello::NotTls => return ControlFlow::Continue(()),
        Hello::Handshake { kind, exts, .. } => {
            if *what == SslFetch::HelloType {
                return f(Sample::Int(i64::from(kind)));
            }
            exts
        }
    };
    let Some(exts) = exts else { return ControlFlow::Continue(()) };
    match what {
        SslFetch::HelloSni => match tls_hello::sni(exts) {
            Some(name) => f(Sample::Str(name)),
            None => ControlFlow::Continue(()),
        },
        _ => {
            let mut result = ControlFlow::Continue(());
            tls_hello::alpn(exts, &mut |p| {
                result = f(Sample::Str(p));
                result.is_continue()
            });
            result
        }
    }
}
