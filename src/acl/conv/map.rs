//! `map*` converters: a map file (`key value` per line) loaded at
//! start-up, looked up with one of HAProxy's matching methods; the value
//! (or the default) is the result, as a string, integer or address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use regex::bytes::{Regex, RegexBuilder};

use super::{In, Res, arity, bytes};
use crate::acl::fetch::SmpType;
use crate::acl::pattern::{Matcher, Pattern, ip_in, parse_net, str_match};
use crate::acl::source::Sample;
use crate::acl::value::to_int;

/// How keys are matched (`map_str`, `map_beg`, ..., `map_regm`, `map_int`, `map_ip`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MapMatch {
    Str,
    Beg,
    Sub,
    Dir,
    Dom,
    End,
    Reg,
    Regm, // regex, `\N` in the value replaced by its groups
    Int,
    Ip,
}

/// The type of the values (`_int`, `_ip` suffixes; a string otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MapOut {
    Str,
    Int,
    Ip,
}

/// One key of a map file, compiled for its method.
#[derive(Debug)]
enum MapKey {
    Bytes(Box<[u8]>),
    Regex(Regex),
    Range(i64, i64),
    Net(Pattern),
}

/// A loaded map file. Shared read-only by the converters using it.
#[derive(Debug)]
pub(crate) struct MapFile {
    how: MapMatch,
    keys: Vec<(MapKey, Box<[u8]>)>, // in file order (networks: most specific first)
    exact: HashMap<Box<[u8]>, usize>, // `map_str`: key → index of its first line
}

impl MapFile {
    /// Reads `path`: one `key value` per line (blanks around both trimmed,
    /// `#` comments and empty lines skipped).
    pub(crate) fn load(path: &str, how: MapMatch) -> Result<MapFile, String> {
        let text = std::fs::read(path).map_err(|e| format!("failed to open map file '{path}' ({e})"))?;
        let mut keys = Vec::new();
        let mut exact = HashMap::new();
        for (n, line) in text.split(|&c| c == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line).trim_ascii();
            if line.is_empty() || line.starts_with(b"#") {
                continue;
            }
            let split = line.iter().position(|c| c.is_ascii_whitespace()).unwrap_or(line.len());
            let (key, value) = (&line[..split], line[split..].trim_ascii());
            let key_text = String::from_utf8_lossy(key);
            let bad = |what: &str| format!("{what} '{key_text}' at line {} of map file '{path}'", n + 1);
            let k = match how {
                MapMatch::Reg | MapMatch::Regm => MapKey::Regex(
                    RegexBuilder::new(&key_text).unicode(false).build().map_err(|_| bad("invalid regex"))?,
                ),
                MapMatch::Int => match crate::acl::pattern::parse_range(&key_text) {
                    Ok(Pattern::Range { min, max }) => {
                        MapKey::Range(min.unwrap_or(i64::MIN), max.unwrap_or(i64::MAX))
                    }
                    _ => return Err(bad("invalid integer")),
                },
                MapMatch::Ip => MapKey::Net(parse_net(&key_text).ok_or_else(|| bad("invalid address"))?),
                _ => MapKey::Bytes(key.into()),
            };
            if how == MapMatch::Str {
                exact.entry(Box::<[u8]>::from(key)).or_insert(keys.len());
            }
            keys.push((k, value.into()));
        }
        if how == MapMatch::Ip {
            let bits = |k: &MapKey| match k {
                MapKey::Net(Pattern::V4 { mask, .. }) => mask.count_ones() + 96,
                MapKey::Net(Pattern::V6 { mask, .. }) => mask.count_ones(),
                _ => 0,
            };
            keys.sort_by_key(|(k, _)| std::cmp::Reverse(bits(k))); // stable: file order among equals
        }
        Ok(MapFile { how, keys, exact })
    }

    /// The value for `s`, with `\N` of `map_regm` expanded into `out`.
    fn lookup(&self, s: Sample<'_>, out: &mut Vec<u8>) -> bool {
        let text = bytes(&s);
        match self.how {
            MapMatch::Str => match self.exact.get(text) {
                Some(&i) => {
                    out.extend_from_slice(&self.keys[i].1);
                    true
                }
                None => false,
            },
            MapMatch::Int => {
                let Some(v) = to_int(s) else { return false };
                self.first(out, |k| matches!(k, MapKey::Range(lo, hi) if (*lo..=*hi).contains(&v)))
            }
            MapMatch::Ip => {
                let Sample::Ip(ip) = s else { return false };
                self.first(out, |k| matches!(k, MapKey::Net(p) if ip_in(p, ip)))
            }
            MapMatch::Reg => self.first(out, |k| matches!(k, MapKey::Regex(r) if r.is_match(text))),
            MapMatch::Regm => {
                for (k, v) in &self.keys {
                    if let MapKey::Regex(r) = k
                        && let Some(caps) = r.captures(text)
                    {
                        expand(v, &caps, out);
                        return true;
                    }
                }
                false
            }
            how => {
                let m = match how {
                    MapMatch::Beg => Matcher::Beg,
                    MapMatch::Sub => Matcher::Sub,
                    MapMatch::Dir => Matcher::Dir,
                    MapMatch::Dom => Matcher::Dom,
                    _ => Matcher::End,
                };
                self.first(out, |k| matches!(k, MapKey::Bytes(p) if str_match(m, false, p, text)))
            }
        }
    }

    fn first(&self, out: &mut Vec<u8>, hit: impl Fn(&MapKey) -> bool) -> bool {
        match self.keys.iter().find(|(k, _)| hit(k)) {
            Some((_, v)) => {
                out.extend_from_slice(v);
                true
            }
            None => false,
        }
    }
}

/// Writes `value` with each `\N` replaced by group N of `caps`.
fn expand(value: &[u8], caps: &regex::bytes::Captures<'_>, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < value.len() {
        if value[i] == b'\\'
            && let Some(d) = value.get(i + 1).filter(|d| d.is_ascii_digit())
        {
            if let Some(g) = caps.get(usize::from(d - b'0')) {
                out.extend_from_slice(g.as_bytes());
            }
            i += 2;
            continue;
        }
        out.push(value[i]);
        i += 1;
    }
}

/// A `map*` converter.
#[derive(Clone, Debug)]
pub(crate) struct MapConv {
    map: Arc<MapFile>,
    out: MapOut,
    default: Option<Box<[u8]>>,
}

pub(super) fn parse(name: &str, args: &[String]) -> Option<Result<MapConv, String>> {
    let rest = name.strip_prefix("map")?;
    let (how, out) = match rest {
        "" | "_str" => (MapMatch::Str, MapOut::Str),
        _ => {
            let mut parts = rest.trim_start_matches('_').splitn(2, '_');
            let how = match parts.next()? {
                "str" => MapMatch::Str,
                "beg" => MapMatch::Beg,
                "sub" => MapMatch::Sub,
                "dir" => MapMatch::Dir,
                "dom" => MapMatch::Dom,
                "end" => MapMatch::End,
                "reg" => MapMatch::Reg,
                "regm" => MapMatch::Regm,
                "int" => MapMatch::Int,
                "ip" => MapMatch::Ip,
                _ => return None,
            };
            let out = match parts.next() {
                None | Some("str") => MapOut::Str,
                Some("int") => MapOut::Int,
                Some("ip") => MapOut::Ip,
                Some(_) => return None,
            };
            (how, out)
        }
    };
    Some((|| {
        arity(args, 1, 2)?;
        let map = Arc::new(MapFile::load(&args[0], how)?);
        let default: Option<Box<[u8]>> = args.get(1).map(|d| d.as_bytes().into());
        if let Some(d) = &default {
            let ok = match out {
                MapOut::Str => true,
                MapOut::Int => crate::acl::keyword::parse_i64(&String::from_utf8_lossy(d)).is_some(),
                MapOut::Ip => crate::acl::value::parse_ip(d).is_some(),
            };
            if !ok {
                return Err(format!("invalid default value '{}'", String::from_utf8_lossy(d)));
            }
        }
        Ok(MapConv { map, out, default })
    })())
}

impl MapConv {
    pub(super) fn input(&self) -> In {
        match self.map.how {
            MapMatch::Int => In::Int,
            MapMatch::Ip => In::Addr,
            _ => In::Str,
        }
    }

    pub(super) fn output(&self) -> SmpType {
        match self.out {
            MapOut::Str => SmpType::Str,
            MapOut::Int => SmpType::Int,
            MapOut::Ip => SmpType::Ip,
        }
    }

    pub(super) fn apply(&self, s: Sample<'_>, out: &mut Vec<u8>) -> Option<Res> {
        if !self.map.lookup(s, out) {
            out.extend_from_slice(self.default.as_deref()?);
        }
        Some(match self.out {
            MapOut::Str => Res::Str,
            MapOut::Int => Res::Int(crate::acl::text::read_int(out)),
            MapOut::Ip => Res::Ip(crate::acl::value::parse_ip(out).map_or(IpAddr::from([0, 0, 0, 0]), |a| a)),
        })
    }
}
