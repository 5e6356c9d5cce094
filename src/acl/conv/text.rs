//! Text converters: `lower`, `upper`, `length`, `bytes`, `field`, `word`,
//! `regsub`, `concat`, `add_item`, `strcmp`, `secure_memcmp`, `ltrim`,
//! `rtrim`, `cut_crlf`.

use regex::bytes::{Regex, RegexBuilder};

use super::{In, Res, arity, bytes, int_arg};
use crate::acl::fetch::SmpType;
use crate::acl::source::{Sample, SampleSource};
use crate::acl::value::with_var_text;
use crate::acl::vars::VarName;

#[derive(Clone, Debug)]
pub(crate) enum TextConv {
    Lower,
    Upper,
    Length,
    Bytes { offset: i64, len: Option<i64> },
    Field { index: i64, delims: Box<[u8]>, count: i64 },
    Word { index: i64, delims: Box<[u8]>, count: i64 },
    Regsub { re: Regex, with: String, global: bool },
    Concat { start: Box<[u8]>, var: Option<VarName>, end: Box<[u8]> },
    AddItem { delim: Box<[u8]>, var: Option<VarName>, suffix: Box<[u8]> },
    Strcmp(VarName),
    SecureMemcmp(VarName),
    Ltrim(Box<[u8]>),
    Rtrim(Box<[u8]>),
    CutCrlf,
}

fn var_arg(args: &[String], i: usize) -> Result<Option<VarName>, String> {
    match args.get(i).map(String::as_str) {
        None | Some("") => Ok(None),
        Some(v) => VarName::parse(v).map(Some),
    }
}

fn str_arg(args: &[String], i: usize) -> Box<[u8]> {
    args.get(i).map(|s| s.as_bytes().into()).unwrap_or_default()
}

pub(super) fn parse(name: &str, args: &[String]) -> Option<Result<TextConv, String>> {
    let r = (|| {
        Ok(match name {
            "lower" => TextConv::Lower,
            "upper" => TextConv::Upper,
            "length" => TextConv::Length,
            "cut_crlf" => TextConv::CutCrlf,
            "bytes" => {
                arity(args, 1, 2)?;
                let offset = int_arg(args, 0, name)?.ok_or("missing offset")?;
                let len = int_arg(args, 1, name)?;
                if offset < 0 || len.is_some_and(|l| l < 0) {
                    return Err("offset and length must be positive".into());
                }
                TextConv::Bytes { offset, len }
            }
            "field" | "word" => {
                arity(args, 2, 3)?;
                let index = int_arg(args, 0, name)?.ok_or("missing index")?;
                let delims = str_arg(args, 1);
                if delims.is_empty() {
                    return Err("Empty separators list".into());
                }
                let count = int_arg(args, 2, name)?.unwrap_or(1);
                if count < 0 {
                    return Err("count must be a positive integer".into());
                }
                if name == "field" {
                    TextConv::Field { index, delims, count }
                } else {
                    TextConv::Word { index, delims, count }
                }
            }
            "regsub" => {
                arity(args, 2, 3)?;
                let flags = args.get(2).map_or("", String::as_str);
                let mut global = false;
                let mut icase = false;
                for c in flags.chars() {
                    match c {
                        'g' => global = true,
                        'i' => icase = true,
                        _ => return Err(format!("invalid regex flag '{c}', only 'i' and 'g' are supported")),
                    }
                }
                let re = RegexBuilder::new(&args[0])
                    .unicode(false)
                    .case_insensitive(icase)
                    .build()
                    .map_err(|e| format!("invalid regex '{}' ({e})", args[0]))?;
                TextConv::Regsub { re, with: backrefs(&args[1]), global }
            }
            "concat" => {
                arity(args, 1, 3)?;
                TextConv::Concat { start: str_arg(args, 0), var: var_arg(args, 1)?, end: str_arg(args, 2) }
            }
            "add_item" => {
                arity(args, 2, 3)?;
                TextConv::AddItem {
                    delim: str_arg(args, 0),
                    var: var_arg(args, 1)?,
                    suffix: str_arg(args, 2),
                }
            }
            "strcmp" | "secure_memcmp" => {
                arity(args, 1, 1)?;
                let v = VarName::parse(&args[0])?;
                if name == "strcmp" { TextConv::Strcmp(v) } else { TextConv::SecureMemcmp(v) }
            }
            "ltrim" | "rtrim" => {
                arity(args, 1, 1)?;
                let set = str_arg(args, 0);
                if name == "ltrim" { TextConv::Ltrim(set) } else { TextConv::Rtrim(set) }
            }
            _ => return Err(String::new()),
        })
    })();
    match r {
        Err(e) if e.is_empty() => None,
        r => Some(r),
    }
}

/// HAProxy's `\N` back-references in the regex crate's `${N}` form.
fn backrefs(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(d)) if d.is_ascii_digit() => {
                out.push_str(&format!("${{{d}}}"));
                chars.next();
            }
            ('$', _) => out.push_str("$$"),
            _ => out.push(c),
        }
    }
    out
}

impl TextConv {
    pub(super) fn input(&self) -> In {
        match self {
            TextConv::Bytes { .. } | TextConv::SecureMemcmp(_) => In::Bin,
            _ => In::Str,
        }
    }

    pub(super) fn output(&self) -> SmpType {
        match self {
            TextConv::Length | TextConv::Strcmp(_) => SmpType::Int,
            TextConv::SecureMemcmp(_) => SmpType::Bool,
            TextConv::Bytes { .. } => SmpType::Bin,
            _ => SmpType::Str,
        }
    }

    pub(super) fn apply(&self, s: Sample<'_>, out: &mut Vec<u8>, src: &dyn SampleSource) -> Option<Res> {
        let b = bytes(&s);
        match self {
            TextConv::Lower => out.extend(b.iter().map(u8::to_ascii_lowercase)),
            TextConv::Upper => out.extend(b.iter().map(u8::to_ascii_uppercase)),
            TextConv::Length => return Some(Res::Int(b.len() as i64)),
            TextConv::CutCrlf => {
                let end = b.iter().position(|&c| c == b'\r' || c == b'\n').unwrap_or(b.len());
                out.extend_from_slice(&b[..end]);
            }
            TextConv::Bytes { offset, len } => {
                let start = usize::try_from(*offset).ok()?;
                if start >= b.len() {
                    return None;
                }
                let end = match len {
                    Some(l) => start.saturating_add(usize::try_from(*l).ok()?).min(b.len()),
                    None => b.len(),
                };
                out.extend_from_slice(&b[start..end]);
                return Some(Res::Bin);
            }
            TextConv::Field { index, delims, count } => {
                out.extend_from_slice(field(b, *index, delims, *count)?)
            }
            TextConv::Word { index, delims, count } => {
                out.extend_from_slice(word(b, *index, delims, *count)?)
            }
            TextConv::Regsub { re, with, global } => {
                let replaced =
                    if *global { re.replace_all(b, with.as_bytes()) } else { re.replace(b, with.as_bytes()) };
                out.extend_from_slice(&replaced);
            }
            TextConv::Concat { start, var, end } => {
                out.extend_from_slice(b);
                out.extend_from_slice(start);
                if let Some(v) = var {
                    with_var_text(src, v, |t| out.extend_from_slice(t));
                }
                out.extend_from_slice(end);
            }
            TextConv::AddItem { delim, var, suffix } => {
                out.extend_from_slice(b);
                let mut value = Vec::new();
                let found =
                    var.as_ref().is_some_and(|v| with_var_text(src, v, |t| value.extend_from_slice(t)));
                if !b.is_empty() && ((found && !value.is_empty()) || !suffix.is_empty()) {
                    out.extend_from_slice(delim);
                }
                out.extend_from_slice(&value);
                out.extend_from_slice(suffix);
            }
            TextConv::Strcmp(v) => {
                let mut r = None;
                with_var_text(src, v, |t| {
                    r = Some(match b.cmp(t) {
                        std::cmp::Ordering::Less => -1,
                        std::cmp::Ordering::Equal => 0,
                        std::cmp::Ordering::Greater => 1,
                    })
                });
                return r.map(Res::Int);
            }
            TextConv::SecureMemcmp(v) => {
                let mut r = None;
                crate::acl::scratch::with_buf(|buf| {
                    if let Some(got) = crate::acl::value::read_var(src, v, buf) {
                        let other = match got.sample(buf) {
                            Sample::Str(t) | Sample::Bin(t) => t,
                            _ => return,
                        };
                        // Constant time over the common length.
                        let same = other.len() == b.len()
                            && other.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
                        r = Some(same);
                    }
                });
                return r.map(Res::Bool);
            }
            TextConv::Ltrim(set) => {
                let start = b.iter().position(|c| !set.contains(c)).unwrap_or(b.len());
                out.extend_from_slice(&b[start..]);
            }
            TextConv::Rtrim(set) => {
                let end = b.iter().rposition(|c| !set.contains(c)).map_or(0, |e| e + 1);
                out.extend_from_slice(&b[..end]);
            }
        }
        Some(Res::Str)
    }
}

/// `field(index,delims,count)`: the `index`th field (from the end when
/// negative) and the `count - 1` following ones (0: all the rest);
/// None when there is no such field.
fn field<'a>(s: &'a [u8], index: i64, delims: &[u8], count: i64) -> Option<&'a [u8]> {
    if index == 0 {
        return None;
    }
    let is_delim = |c: &u8| delims.contains(c);
    let mut count = count;
    if index > 0 {
        let (mut n, mut start) = (1i64, 0usize);
        for (i, c) in s.iter().enumerate() {
            if !is_delim(c) {
                continue;
            }
            if n == index {
                if count == 1 {
                    return Some(&s[start..i]);
                }
                if count > 1 {
                    count -= 1;
                }
            } else {
                start = i + 1;
                n += 1;
            }
        }
        (n == index).then(|| &s[start..])
    } else {
        let (mut n, mut end) = (-1i64, s.len());
        for i in (0..s.len()).rev() {
            if !is_delim(&s[i]) {
                continue;
            }
            if n == index {
                if count == 1 {
                    return Some(&s[i + 1..end]);
                }
                if count > 1 {
                    count -= 1;
                }
            } else {
                end = i;
                n -= 1;
            }
        }
        (n == index).then(|| &s[..end])
    }
}

/// `word(index,delims,count)`: like `field`, but runs of delimiters count
/// as one and leading/trailing ones are ignored.
fn word<'a>(s: &'a [u8], index: i64, delims: &[u8], count: i64) -> Option<&'a [u8]> {
    if index == 0 {
        return None;
    }
    let is_delim = |c: &u8| delims.contains(c);
    let mut count = count;
    let (mut n, mut in_word) = (0i64, false);
    if index > 0 {
        let mut start = 0;
        for (i, c) in s.iter().enumerate() {
            let sep = is_delim(c);
            if !in_word {
                if !sep {
                    if n != index {
                        n += 1;
                        start = i;
                    }
                    in_word = true;
                }
            } else if sep {
                if n == index {
                    if count == 1 {
                        return Some(&s[start..i]);
                    }
                    if count > 1 {
                        count -= 1;
                    }
                }
                in_word = false;
            }
        }
        (n == index).then(|| &s[start..])
    } else {
        let mut end = s.len();
        for i in (0..s.len()).rev() {
            let sep = is_delim(&s[i]);
            if !in_word {
                if !sep {
                    if n != index {
                        n -= 1;
                        end = i + 1;
                    }
                    in_word = true;
                }
            } else if sep {
                if n == index {
                    if count == 1 {
                        return Some(&s[i + 1..end]);
                    }
                    if count > 1 {
                        count -= 1;
                    }
                }
                in_word = false;
            }
        }
        (n == index).then(|| &s[..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_words_as_haproxy() {
        assert_eq!(field(b"/foo/bar/baz", 3, b"/", 1), Some(&b"bar"[..]));
        assert_eq!(field(b"/foo", 3, b"/", 1), None);
        let s = b"f1_f2_f3__f5";
        assert_eq!(field(s, 5, b"_", 1), Some(&b"f5"[..]));
        assert_eq!(field(s, 2, b"_", 0), Some(&b"f2_f3__f5"[..]));
        assert_eq!(field(s, 2, b"_", 2), Some(&b"f2_f3"[..]));
        assert_eq!(field(s, -2, b"_", 3), Some(&b"f2_f3_"[..]));
        assert_eq!(field(s, -3, b"_", 0), Some(&b"f1_f2_f3"[..]));
        assert_eq!(word(s, 4, b"_", 1), Some(&b"f5"[..]));
        assert_eq!(word(s, 2, b"_", 0), Some(&b"f2_f3__f5"[..]));
        assert_eq!(word(s, 3, b"_", 2), Some(&b"f3__f5"[..]));
        assert_eq!(word(s, -2, b"_", 3), Some(&b"f1_f2_f3"[..]));
        assert_eq!(word(s, -3, b"_", 0), Some(&b"f1_f2"[..]));
        assert_eq!(word(b"/a/ok/x", 3, b"/", 1), Some(&b"x"[..]));
    }
}
