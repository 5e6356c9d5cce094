//! Converters: the `,name(args)` steps after a fetch (`lower`,
//! `field(2,/)`, `map(file)`, `sha2(256)`...), parsed once at start-up
//! into a [`Conv`] and applied per sample by [`super::value::Chain`].
//!
//! Families, one file each: `text` (case, fields, words, trims, concat,
//! comparisons, regsub), `codec` (base64, hex, json, URL encodings,
//! be2hex/be2dec), `hash` (djb2, sdbm, wt6, crc32, crc32c, xxh*, sha1,
//! sha2, hmac), `arith` (add, sub..., bool, not, ipmask, time formats),
//! `map` (map files), `misc` (variables, `table_*`), `mqtt`
//! (`mqtt_is_valid`, `mqtt_field_value`).

mod arith;
mod codec;
mod hash;
pub(crate) mod map;
mod misc;
mod mqtt;
mod text;

use std::net::IpAddr;

use super::args::split_args;
use super::fetch::SmpType;
use super::source::{Sample, SampleSource};

/// What a converter takes: its input is cast to this first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum In {
    Any,
    Str,
    Bin,
    Int,
    Addr,
}

/// A converter's result: a scalar, or bytes it wrote in the output buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Res {
    Bool(bool),
    Int(i64),
    Ip(IpAddr),
    Str,
    Bin,
}

/// One compiled converter. Owned by its expression; immutable.
#[derive(Clone, Debug)]
pub(crate) struct Conv {
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    Text(text::TextConv),
    Codec(codec::CodecConv),
    Hash(hash::HashConv),
    Arith(arith::ArithConv),
    Map(map::MapConv),
    Misc(misc::MiscConv),
    Mqtt(mqtt::MqttConv),
}

/// Parses one converter word `name` or `name(args)`; the error names
/// what is wrong in HAProxy's manner.
pub(crate) fn parse(word: &str) -> Result<Conv, String> {
    let (name, args) = match word.find('(') {
        Some(open) => {
            let (args, rest) = split_args(&word[open + 1..])
                .map_err(|e| format!("invalid args in converter '{}' : {e}", &word[..open]))?;
            if !rest.is_empty() {
                return Err(format!("missing comma after converter '{}'", &word[..open]));
            }
            (&word[..open], args)
        }
        None => (word, Vec::new()),
    };
    let bad = |e: String| {
        if e.starts_with("invalid arg ") { e } else { format!("invalid args in converter '{name}' : {e}") }
    };
    let kind = if let Some(k) = text::parse(name, &args) {
        Kind::Text(k.map_err(bad)?)
    } else if let Some(k) = codec::parse(name, &args) {
        Kind::Codec(k.map_err(bad)?)
    } else if let Some(k) = hash::parse(name, &args) {
        Kind::Hash(k.map_err(bad)?)
    } else if let Some(k) = arith::parse(name, &args) {
        Kind::Arith(k.map_err(bad)?)
    } else if let Some(k) = map::parse(name, &args) {
        Kind::Map(k.map_err(bad)?)
    } else if let Some(k) = misc::parse(name, &args) {
        Kind::Misc(k.map_err(bad)?)
    } else if let Some(k) = mqtt::parse(name, &args) {
        Kind::Mqtt(k.map_err(bad)?)
    } else {
        return Err(format!("unknown converter '{name}'"));
    };
    Ok(Conv { kind })
}

impl Conv {
    /// The type the input is cast to.
    pub(crate) fn input(&self) -> In {
        match &self.kind {
            Kind::Text(c) => c.input(),
            Kind::Codec(c) => c.input(),
            Kind::Hash(c) => c.input(),
            Kind::Arith(c) => c.input(),
            Kind::Map(c) => c.input(),
            Kind::Misc(c) => c.input(),
            Kind::Mqtt(c) => c.input(),
        }
    }

    /// The type of the result, given the input's (picks an ACL's default
    /// matching method).
    pub(crate) fn output(&self, input: SmpType) -> SmpType {
        match &self.kind {
            Kind::Text(c) => c.output(),
            Kind::Codec(c) => c.output(),
            Kind::Hash(c) => c.output(),
            Kind::Arith(c) => c.output(),
            Kind::Map(c) => c.output(),
            Kind::Misc(c) => c.output(input),
            Kind::Mqtt(c) => c.output(),
        }
    }

    /// Converts `s` (already cast to [`Conv::input`]); string results go
    /// into `out` (empty on entry). None: the sample is dropped.
    pub(crate) fn apply(&self, s: Sample<'_>, out: &mut Vec<u8>, src: &dyn SampleSource) -> Option<Res> {
        match &self.kind {
            Kind::Text(c) => c.apply(s, out, src),
            Kind::Codec(c) => c.apply(s, out),
            Kind::Hash(c) => c.apply(s, out, src),
            Kind::Arith(c) => c.apply(s, out, src),
            Kind::Map(c) => c.apply(s, out),
            Kind::Misc(c) => c.apply(s, out, src),
            Kind::Mqtt(c) => c.apply(s, out, src),
        }
    }
}

/// The bytes of a string or binary input (what the cast to `In::Str` or
/// `In::Bin` gave).
pub(super) fn bytes<'a>(s: &Sample<'a>) -> &'a [u8] {
    match *s {
        Sample::Str(b) | Sample::Bin(b) => b,
        _ => &[],
    }
}

/// An integer argument (`field(2,...)`) of converter `conv`: HAProxy's
/// strict form and message.
pub(super) fn int_arg(args: &[String], i: usize, conv: &str) -> Result<Option<i64>, String> {
    match args.get(i) {
        None => Ok(None),
        Some(a) if a.is_empty() => Ok(None),
        Some(a) => super::keyword::parse_i64(a).map(Some).ok_or_else(|| {
            format!("invalid arg {} in converter '{conv}' : failed to parse '{a}' as type 'integer' at position {}", i + 1, i + 1)
        }),
    }
}

/// Refuses fewer than `min` or more than `max` arguments.
pub(super) fn arity(args: &[String], min: usize, max: usize) -> Result<(), String> {
    if args.len() < min {
        return Err(format!("expects at least {min} argument(s)"));
    }
    if args.len() > max {
        return Err(format!("expects at most {max} argument(s)"));
    }
    Ok(())
}
