//! Integer and address converters: `add`, `sub`, `mul`, `div`, `mod`,
//! `and`, `or`, `xor` (an integer or a variable), `neg`, `cpl`, `bool`,
//! `not`, `odd`, `even`, `iif`, `htonl`, `ipmask`, and the time formats
//! `http_date`, `utime`, `ltime`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{In, Res, arity, int_arg};
use crate::acl::fetch::SmpType;
use crate::acl::source::{Sample, SampleSource};
use crate::acl::value::{read_var, to_int};
use crate::acl::vars::VarName;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
    Xor,
}

/// An operator's right-hand side.
#[derive(Clone, Debug)]
pub(crate) enum Operand {
    Int(i64),
    Var(VarName),
}

#[derive(Clone, Debug)]
pub(crate) enum ArithConv {
    Bin(Op, Operand),
    Neg,
    Cpl,
    Bool,
    Not,
    Odd,
    Even,
    Htonl,
    Iif(Box<[u8]>, Box<[u8]>), // `iif(TRUE,FALSE)`: the text for a true input, for a false one
    Ipmask { v4: u32, v6: Option<u128> },
    HttpDate { offset: i64, unit: u32 }, // unit: 1 (s), 1000 (ms), 1000000 (us)
    Time { fmt: String, offset: i64 },   // utime / ltime (formatted in UTC)
}

pub(super) fn parse(name: &str, args: &[String]) -> Option<Result<ArithConv, String>> {
    let op = |o| {
        arity(args, 1, 1)?;
        let a = &args[0];
        let operand = match crate::acl::keyword::parse_i64(a) {
            Some(v) => Operand::Int(v),
            None => Operand::Var(VarName::parse(a)?),
        };
        Ok(ArithConv::Bin(o, operand))
    };
    Some(match name {
        "add" => op(Op::Add),
        "sub" => op(Op::Sub),
        "mul" => op(Op::Mul),
        "div" => op(Op::Div),
        "mod" => op(Op::Mod),
        "and" => op(Op::And),
        "or" => op(Op::Or),
        "xor" => op(Op::Xor),
        "neg" => Ok(ArithConv::Neg),
        "cpl" => Ok(ArithConv::Cpl),
        "bool" => Ok(ArithConv::Bool),
        "not" => Ok(ArithConv::Not),
        "odd" => Ok(ArithConv::Odd),
        "even" => Ok(ArithConv::Even),
        "htonl" => Ok(ArithConv::Htonl),
        "iif" => {
            arity(args, 2, 2).map(|()| ArithConv::Iif(args[0].as_bytes().into(), args[1].as_bytes().into()))
        }
        "ipmask" => (|| {
            arity(args, 1, 2)?;
            let v4 = mask4(&args[0]).ok_or(format!("invalid IPv4 mask '{}'", args[0]))?;
            let v6 = match args.get(1) {
                Some(m) => Some(mask6(m).ok_or(format!("invalid IPv6 mask '{m}'"))?),
                None => None,
            };
            Ok(ArithConv::Ipmask { v4, v6 })
        })(),
        "http_date" => (|| {
            arity(args, 0, 2)?;
            let offset = int_arg(args, 0, name)?.unwrap_or(0);
            let unit = match args.get(1).map(String::as_str).unwrap_or("s") {
                "s" => 1,
                "ms" => 1000,
                "us" => 1_000_000,
                u => return Err(format!("Invalid unit '{u}', must be one of 's', 'ms' or 'us'")),
            };
            Ok(ArithConv::HttpDate { offset, unit })
        })(),
        "utime" | "ltime" => (|| {
            arity(args, 1, 2)?;
            Ok(ArithConv::Time { fmt: args[0].clone(), offset: int_arg(args, 1, name)?.unwrap_or(0) })
        })(),
        _ => return None,
    })
}

fn mask4(m: &str) -> Option<u32> {
    if let Ok(bits) = m.parse::<u32>() {
        return (bits <= 32).then(|| if bits == 0 { 0 } else { u32::MAX << (32 - bits) });
    }
    m.parse::<Ipv4Addr>().ok().map(u32::from)
}

fn mask6(m: &str) -> Option<u128> {
    if let Ok(bits) = m.parse::<u32>() {
        return (bits <= 128).then(|| if bits == 0 { 0 } else { u128::MAX << (128 - bits) });
    }
    m.parse::<Ipv6Addr>().ok().map(u128::from)
}

impl ArithConv {
    pub(super) fn input(&self) -> In {
        match self {
            ArithConv::Ipmask { .. } => In::Addr,
            _ => In::Int,
        }
    }

    pub(super) fn output(&self) -> SmpType {
        match self {
            ArithConv::Bool | ArithConv::Not | ArithConv::Odd | ArithConv::Even => SmpType::Bool,
            ArithConv::Htonl => SmpType::Bin,
            ArithConv::Ipmask { .. } => SmpType::Ip,
            ArithConv::HttpDate { .. } | ArithConv::Time { .. } | ArithConv::Iif(..) => SmpType::Str,
            _ => SmpType::Int,
        }
    }

    pub(super) fn apply(&self, s: Sample<'_>, out: &mut Vec<u8>, src: &dyn SampleSource) -> Option<Res> {
        if let ArithConv::Ipmask { v4, v6 } = self {
            // An IPv4-mapped IPv6 address is masked as the IPv4 one (HAProxy's `c_ipv62ip`).
            let s = match s {
                Sample::Ip(IpAddr::V6(a)) => a.to_ipv4_mapped().map_or(s, |v4| Sample::Ip(IpAddr::V4(v4))),
                other => other,
            };
            return Some(Res::Ip(match s {
                Sample::Ip(IpAddr::V4(a)) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & v4)),
                Sample::Ip(IpAddr::V6(a)) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & (*v6)?)),
                _ => return None,
            }));
        }
        let a = to_int(s)?;
        Some(match self {
            ArithConv::Bin(op, operand) => {
                let b = match operand {
                    Operand::Int(v) => *v,
                    Operand::Var(v) => crate::acl::scratch::with_buf(|buf| {
                        read_var(src, v, buf).and_then(|g| to_int(g.sample(buf)))
                    })?,
                };
                Res::Int(binary(*op, a, b))
            }
            ArithConv::Neg => Res::Int(a.checked_neg().unwrap_or(i64::MAX)),
            ArithConv::Cpl => Res::Int(!a),
            ArithConv::Bool => Res::Bool(a != 0),
            ArithConv::Not => Res::Bool(a == 0),
            ArithConv::Odd => Res::Bool(a & 1 == 1),
            ArithConv::Even => Res::Bool(a & 1 == 0),
            ArithConv::Htonl => {
                out.extend_from_slice(&(a as u32).to_be_bytes());
                Res::Bin
            }
            ArithConv::Iif(yes, no) => {
                out.extend_from_slice(if a != 0 { yes } else { no });
                Res::Str
            }
            ArithConv::HttpDate { offset, unit } => {
                let secs = a.div_euclid(i64::from(*unit)).saturating_add(*offset);
                write_http_date(secs, out);
                Res::Str
            }
            ArithConv::Time { fmt, offset } => {
                strftime_utc(fmt, a.saturating_add(*offset), out);
                Res::Str
            }
            ArithConv::Ipmask { .. } => return None,
        })
    }
}

/// HAProxy's arithmetic: saturating, division by zero gives the largest
/// value (`div`) or 0 (`mod`).
fn binary(op: Op, a: i64, b: i64) -> i64 {
    match op {
        Op::Add => a.saturating_add(b),
        Op::Sub => a.saturating_sub(b),
        Op::Mul => a.saturating_mul(b),
        Op::Div if b == 0 => i64::MAX,
        Op::Div => a.checked_div(b).unwrap_or(i64::MAX),
        Op::Mod if b == 0 => 0,
        Op::Mod => a.checked_rem(b).unwrap_or(0),
        Op::And => a & b,
        Op::Or => a | b,
        Op::Xor => a ^ b,
    }
}

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]; // from 1970-01-01
const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Civil UTC date of Unix time `secs`: (year, month 1-12, day, hour, min, sec, weekday from Thursday, day of year 0-based).
fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32, usize, u32) {
    let t = std::time::UNIX_EPOCH
        .checked_add(std::time::Duration::from_secs(secs.max(0) as u64))
        .unwrap_or(std::time::UNIX_EPOCH);
    let c = crate::core::date::Civil::from_system(t);
    let days = secs.max(0).div_euclid(86_400);
    let jan1 = days_from_civil(c.year, 1, 1);
    (c.year, c.month, c.day, c.hour, c.min, c.sec, (days % 7) as usize, (days - jan1) as u32)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110's IMF-fixdate).
pub(crate) fn write_http_date(secs: i64, out: &mut Vec<u8>) {
    use std::io::Write;
    let (y, mo, d, h, mi, s, wd, _) = civil(secs);
    let _ = write!(out, "{}, {d:02} {} {y} {h:02}:{mi:02}:{s:02} GMT", DAYS[wd], MONTHS[mo as usize - 1]);
}

/// The `strftime` conversions HAProxy's `utime`/`ltime` users write, in UTC.
fn strftime_utc(fmt: &str, secs: i64, out: &mut Vec<u8>) {
    use std::io::Write;
    let (y, mo, d, h, mi, s, wd, yd) = civil(secs);
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            let mut b = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            continue;
        }
        let _ = match chars.next() {
            Some('Y') => write!(out, "{y}"),
            Some('y') => write!(out, "{:02}", y % 100),
            Some('m') => write!(out, "{mo:02}"),
            Some('d') => write!(out, "{d:02}"),
            Some('e') => write!(out, "{d:2}"),
            Some('H') => write!(out, "{h:02}"),
            Some('M') => write!(out, "{mi:02}"),
            Some('S') => write!(out, "{s:02}"),
            Some('j') => write!(out, "{:03}", yd + 1),
            Some('a') => write!(out, "{}", DAYS[wd]),
            Some('b' | 'h') => write!(out, "{}", MONTHS[mo as usize - 1]),
            Some('T') => write!(out, "{h:02}:{mi:02}:{s:02}"),
            Some('D') => write!(out, "{mo:02}/{d:02}/{:02}", y % 100),
            Some('F') => write!(out, "{y}-{mo:02}-{d:02}"),
            Some('s') => write!(out, "{secs}"),
            Some('z') => write!(out, "+0000"),
            Some('Z') => write!(out, "UTC"),
            Some('%') => write!(out, "%"),
            Some(other) => write!(out, "%{other}"),
            None => write!(out, "%"),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_arithmetic() {
        let mut out = Vec::new();
        write_http_date(784_111_777, &mut out);
        assert_eq!(out, b"Sun, 06 Nov 1994 08:49:37 GMT");
        out.clear();
        strftime_utc("%d/%b/%Y:%H:%M:%S %z", 784_111_777, &mut out);
        assert_eq!(out, b"06/Nov/1994:08:49:37 +0000");
        assert_eq!(binary(Op::Div, 5, 0), i64::MAX);
        assert_eq!(binary(Op::Mod, 5, 0), 0);
        assert_eq!(binary(Op::Add, i64::MAX, 1), i64::MAX);
        assert_eq!(binary(Op::Div, 60, 12), 5);
    }
}
