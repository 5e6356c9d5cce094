//! A sample expression's value pipeline: a fetch followed by converters
//! (`req.hdr(host),lower,field(1,:)`), HAProxy's casts between sample
//! types, and variable reads.
//!
//! Converters write their result into one of two scratch buffers taken
//! from the per-thread free list ([`super::scratch`]); the chain swaps
//! them after each step, so a warm chain allocates nothing.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::ControlFlow;

use super::conv::{Conv, In, Res};
use super::fetch::Fetch;
use super::source::{Sample, SampleSource};
use super::vars::{Got, Scope, VarName, VarTarget, proc_vars};

/// A fetch and the converters applied to each of its samples.
#[derive(Clone, Debug)]
pub(crate) struct Chain {
    pub fetch: Fetch,
    pub convs: Vec<Conv>,
}

type Each<'f> = &'f mut dyn FnMut(Sample<'_>) -> ControlFlow<()>;

impl Chain {
    /// Calls `f` with each sample the fetch gives, converted; a sample a
    /// converter refuses is skipped.
    pub(crate) fn each(&self, src: &dyn SampleSource, f: Each<'_>) -> ControlFlow<()> {
        if self.convs.is_empty() {
            return self.fetch.each(src, f);
        }
        super::scratch::with_pair(|cur, next| {
            self.fetch.each(src, &mut |s| match convert(&self.convs, s, cur, next, src) {
                Some(v) => f(v),
                None => ControlFlow::Continue(()),
            })
        })
    }
}

/// Where the value being converted is.
#[derive(Clone, Copy)]
enum At<'a> {
    Sample(Sample<'a>),
    CurStr, // the bytes in `cur`
    CurBin,
}

/// Runs `convs` on `s`; the result may borrow `cur`.
fn convert<'a>(
    convs: &[Conv],
    s: Sample<'a>,
    cur: &'a mut Vec<u8>,
    next: &mut Vec<u8>,
    src: &dyn SampleSource,
) -> Option<Sample<'a>> {
    let mut at = At::Sample(s);
    cur.clear();
    for conv in convs {
        let mut tmp = [0u8; 64];
        let input = match at {
            At::Sample(s) => s,
            At::CurStr => Sample::Str(cur),
            At::CurBin => Sample::Bin(cur),
        };
        let input = cast(input, conv.input(), &mut tmp)?;
        next.clear();
        at = match conv.apply(input, next, src)? {
            Res::Bool(b) => At::Sample(Sample::Bool(b)),
            Res::Int(i) => At::Sample(Sample::Int(i)),
            Res::Ip(a) => At::Sample(Sample::Ip(a)),
            Res::Str => {
                std::mem::swap(cur, next);
                At::CurStr
            }
            Res::Bin => {
                std::mem::swap(cur, next);
                At::CurBin
            }
        };
    }
    Some(match at {
        At::Sample(s) => s,
        At::CurStr => Sample::Str(cur),
        At::CurBin => Sample::Bin(cur),
    })
}

/// HAProxy's cast of `s` to what a converter takes; scalars printed as
/// text go into `tmp`. None: no such cast (an address to an integer...).
pub(crate) fn cast<'a>(s: Sample<'a>, to: In, tmp: &'a mut [u8; 64]) -> Option<Sample<'a>> {
    Some(match (to, s) {
        (In::Any, s) => s,
        (In::Str, Sample::Str(b)) => Sample::Str(b),
        (In::Str, Sample::Bin(b)) => Sample::Str(until_nul(b)),
        (In::Str, other) => Sample::Str(print(other, tmp)?),
        (In::Bin, Sample::Str(b) | Sample::Bin(b)) => Sample::Bin(b),
        (In::Bin, Sample::Int(i)) => {
            tmp[..8].copy_from_slice(&i.to_be_bytes());
            Sample::Bin(&tmp[..8])
        }
        (In::Bin, Sample::Bool(b)) => {
            tmp[..8].copy_from_slice(&i64::from(b).to_be_bytes());
            Sample::Bin(&tmp[..8])
        }
        (In::Bin, Sample::Ip(IpAddr::V4(a))) => {
            tmp[..4].copy_from_slice(&a.octets());
            Sample::Bin(&tmp[..4])
        }
        (In::Bin, Sample::Ip(IpAddr::V6(a))) => {
            tmp[..16].copy_from_slice(&a.octets());
            Sample::Bin(&tmp[..16])
        }
        (In::Int, s) => Sample::Int(to_int(s)?),
        (In::Addr, Sample::Ip(a)) => Sample::Ip(a),
        (In::Addr, Sample::Int(i)) => Sample::Ip(IpAddr::V4(Ipv4Addr::from(i as u32))),
        (In::Addr, Sample::Str(b)) => Sample::Ip(parse_ip(b)?),
        (In::Addr, _) => return None,
    })
}

/// The integer a sample casts to (strings: leading digits; an empty one fails).
pub(crate) fn to_int(s: Sample<'_>) -> Option<i64> {
    match s {
        Sample::Int(i) => Some(i),
        Sample::Bool(b) => Some(i64::from(b)),
        Sample::Str(b) if !b.is_empty() => Some(super::text::read_int(b)),
        Sample::Ip(IpAddr::V4(a)) => Some(i64::from(u32::from(a))),
        _ => None,
    }
}

/// An address written as text.
pub(crate) fn parse_ip(b: &[u8]) -> Option<IpAddr> {
    let t = std::str::from_utf8(b).ok()?;
    t.parse::<Ipv4Addr>().map(IpAddr::V4).or_else(|_| t.parse::<Ipv6Addr>().map(IpAddr::V6)).ok()
}

/// The bytes before the first NUL (HAProxy's binary → string cast).
pub(crate) fn until_nul(b: &[u8]) -> &[u8] {
    b.iter().position(|&c| c == 0).map_or(b, |n| &b[..n])
}

/// A scalar sample printed into `tmp`.
fn print<'a>(s: Sample<'_>, tmp: &'a mut [u8; 64]) -> Option<&'a [u8]> {
    let mut cur = &mut tmp[..];
    let room = cur.len();
    match s {
        Sample::Bool(b) => write!(cur, "{}", u8::from(b)).ok()?,
        Sample::Int(i) => write!(cur, "{i}").ok()?,
        Sample::Ip(a) => write!(cur, "{a}").ok()?,
        Sample::Str(_) | Sample::Bin(_) => return None,
    }
    let n = room - cur.len();
    Some(&tmp[..n])
}

/// Appends a sample to `out` as text (log-format, `concat`, header values).
pub(crate) fn append_text(s: Sample<'_>, out: &mut Vec<u8>) {
    match s {
        Sample::Str(b) => out.extend_from_slice(b),
        Sample::Bin(b) => out.extend_from_slice(until_nul(b)),
        other => {
            let mut tmp = [0u8; 64];
            if let Some(b) = print(other, &mut tmp) {
                out.extend_from_slice(b);
            }
        }
    }
}

/// Copies variable `v` into `buf`: `proc.` from the process store, the
/// others from the stores `src` lends.
pub(crate) fn read_var(src: &dyn SampleSource, v: &VarName, buf: &mut Vec<u8>) -> Option<Got> {
    match v.scope {
        Scope::Proc => proc_vars().get_into(v, buf),
        scope => src.vars(scope)?.get_into(v, buf),
    }
}

/// Sets variable `v` to `s` in the store it belongs to.
pub fn write_var(src: &dyn SampleSource, v: &VarName, s: Sample<'_>) {
    match v.scope {
        Scope::Proc => proc_vars().set(v, s),
        scope => {
            if let Some(vars) = src.vars(scope) {
                vars.set(v, s)
            }
        }
    }
}

/// Sets `target`'s variable to `s` if its conditions allow.
pub fn assign_var(src: &dyn SampleSource, target: &VarTarget, s: Sample<'_>) {
    if !target.conds.is_empty() {
        let allowed = super::scratch::with_buf(|buf| {
            let old = read_var(src, &target.name, buf);
            target.allows(old.map(|g| g.sample(buf)), s)
        });
        if !allowed {
            return;
        }
    }
    write_var(src, &target.name, s);
}

/// Removes variable `v`.
pub fn remove_var(src: &dyn SampleSource, v: &VarName) {
    match v.scope {
        Scope::Proc => proc_vars().unset(v),
        scope => {
            if let Some(vars) = src.vars(scope) {
                vars.unset(v)
            }
        }
    }
}

/// Calls `f` with the text of variable `v` (cast to a string); false when
/// it is not set.
pub(crate) fn with_var_text(src: &dyn SampleSource, v: &VarName, f: impl FnOnce(&[u8])) -> bool {
    super::scratch::with_buf(|buf| {
        let Some(got) = read_var(src, v, buf) else { return false };
        let mut text = Vec::new();
        let bytes: &[u8] = match got {
            Got::Str => buf,
            Got::Bin => until_nul(buf),
            other => {
                append_text(other.sample(&[]), &mut text);
                &text
            }
        };
        f(bytes);
        true
    })
}
