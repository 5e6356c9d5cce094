//! The MQTT converters of HAProxy 2.6: `mqtt_is_valid` (the input holds a
//! valid MQTT CONNECT or CONNACK packet, 3.1, 3.1.1 or 5.0) and
//! `mqtt_field_value(PACKET_TYPE,FIELD_OR_PROPERTY_ID)` (one field of such
//! a packet, as a string: numbers in decimal). Usually on
//! `req.payload(0,0)` / `res.payload(0,0)` in `tcp-request content` /
//! `tcp-response content` rules: a packet cut short while more bytes may
//! come marks the sample incomplete, so that the rule waits for them
//! within the inspect delay; once no more can come it is invalid.
//!
//! Only CONNECT and CONNACK are parsed, as in HAProxy 2.6: any other
//! packet is "not valid". A packet must use exactly its remaining length.
//! A user property (38) is accepted as a field but, as in HAProxy 2.6,
//! gives no value.

use super::{In, Res};
use crate::acl::fetch::SmpType;
use crate::acl::source::{Sample, SampleSource};

const CONNECT: u8 = 1;
const CONNACK: u8 = 2;

/// The packet type names of MQTT 5.0 (index = type number).
const TYPES: [&str; 16] = [
    "",
    "connect",
    "connack",
    "publish",
    "puback",
    "pubrec",
    "pubrel",
    "pubcomp",
    "subscribe",
    "suback",
    "unsubscribe",
    "unsuback",
    "pingreq",
    "pingresp",
    "disconnect",
    "auth",
];

/// A field of a CONNECT or CONNACK packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    ProtocolName,
    ProtocolVersion,
    Flags,
    Keepalive,
    ClientId,
    WillTopic,
    WillPayload,
    Username,
    Password,
    ReasonCode,
    Prop(u8), // an MQTT 5.0 property by its identifier
}

/// Properties allowed in a CONNECT's properties, its will properties and
/// a CONNACK's (MQTT 5.0, 3.1.2.11, 3.1.3.2, 3.2.2.3).
const CONNECT_PROPS: &[u8] = &[0x11, 0x21, 0x27, 0x22, 0x19, 0x17, 0x26, 0x15, 0x16];
const WILL_PROPS: &[u8] = &[0x18, 0x01, 0x02, 0x03, 0x08, 0x09, 0x26];
const CONNACK_PROPS: &[u8] =
    &[0x11, 0x21, 0x24, 0x25, 0x27, 0x12, 0x22, 0x1F, 0x26, 0x28, 0x29, 0x2A, 0x13, 0x1A, 0x1C, 0x15, 0x16];

/// One compiled MQTT converter. Owned by its expression; immutable.
#[derive(Clone, Debug)]
pub(crate) enum MqttConv {
    IsValid,
    FieldValue { packet: u8, field: Field },
}

pub(super) fn parse(name: &str, args: &[String]) -> Option<Result<MqttConv, String>> {
    match name {
        "mqtt_is_valid" => Some(super::arity(args, 0, 0).map(|()| MqttConv::IsValid)),
        "mqtt_field_value" => Some(super::arity(args, 2, 2).and_then(|()| field_value(&args[0], &args[1]))),
        _ => None,
    }
}

fn field_value(packet: &str, field: &str) -> Result<MqttConv, String> {
    let lower = packet.to_ascii_lowercase();
    let packet = match lower.parse::<u8>() {
        Ok(n) if (1..16).contains(&n) => n,
        _ => match TYPES.iter().position(|t| !t.is_empty() && *t == lower) {
            Some(n) => n as u8,
            None => return Err(format!("invalid MQTT packet type '{packet}'")),
        },
    };
    let name = field.to_ascii_lowercase();
    let field = match (packet, name.as_str()) {
        (_, "protocol_version") => Field::ProtocolVersion,
        (_, "flags") => Field::Flags,
        (CONNECT, "protocol_name") => Field::ProtocolName,
        (CONNECT, "keepalive") => Field::Keepalive,
        (CONNECT, "client_identifier") => Field::ClientId,
        (CONNECT, "will_topic") => Field::WillTopic,
        (CONNECT, "will_payload") => Field::WillPayload,
        (CONNECT, "username") => Field::Username,
        (CONNECT, "password") => Field::Password,
        (CONNACK, "reason_code") => Field::ReasonCode,
        _ => match name.parse::<u8>() {
            Ok(id) if packet == CONNECT && (CONNECT_PROPS.contains(&id) || WILL_PROPS.contains(&id)) => {
                Field::Prop(id)
            }
            Ok(id) if packet == CONNACK && CONNACK_PROPS.contains(&id) => Field::Prop(id),
            _ => {
                return Err(format!(
                    "invalid MQTT field name '{field}' for packet type '{}'",
                    TYPES[packet as usize]
                ));
            }
        },
    };
    if packet != CONNECT && packet != CONNACK {
        return Err(format!(
            "MQTT packet type '{}' is not parsed (only connect and connack)",
            TYPES[packet as usize]
        ));
    }
    Ok(MqttConv::FieldValue { packet, field })
}

/// A field's value in the packet.
#[derive(Clone, Copy)]
enum Value<'a> {
    Int(u32),
    Bytes(&'a [u8]),
    UserProp, // a user property (a name and a value): no value given
}

/// Why a packet is not valid (yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bad {
    Invalid,
    NeedMore,
}

/// A reader over the packet's bytes; running out is `Invalid` (a packet
/// must hold all its fields within its remaining length).
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Bad> {
        if self.0.len() < n {
            return Err(Bad::Invalid);
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, Bad> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, Bad> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, Bad> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self) -> Result<&'a [u8], Bad> {
        let n = self.u16()? as usize;
        self.take(n)
    }
    fn varint(&mut self) -> Result<u32, Bad> {
        varint(&mut self.0).map_err(|_| Bad::Invalid)
    }
}

/// MQTT's variable byte integer: at most 4 bytes. `NeedMore` when the
/// bytes end inside it.
fn varint(buf: &mut &[u8]) -> Result<u32, Bad> {
    let mut v = 0u32;
    for i in 0..4 {
        let Some((&b, rest)) = buf.split_first() else { return Err(Bad::NeedMore) };
        *buf = rest;
        v |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(Bad::Invalid)
}

/// Validates the packet at the start of `msg`, calling `visit` with each
/// field met (the caller keeps a value only if the packet is valid).
fn walk<'a>(msg: &'a [u8], visit: &mut dyn FnMut(u8, Field, Value<'a>)) -> Result<(), Bad> {
    if msg.len() < 2 {
        return Err(Bad::NeedMore);
    }
    let (ptype, flags) = (msg[0] >> 4, msg[0] & 0x0f);
    // Fixed header flags (MQTT 5.0 2.1.3): PUBLISH's vary, three types have 0010.
    let fixed = match ptype {
        0 => return Err(Bad::Invalid),
        3 => flags,
        6 | 8 | 10 => 0x2,
        _ => 0,
    };
    if flags != fixed {
        return Err(Bad::Invalid);
    }
    let mut rest = &msg[1..];
    let len = varint(&mut rest).map_err(|_| Bad::Invalid)? as usize;
    if rest.len() < len {
        return Err(Bad::NeedMore);
    }
    let mut c = Cursor(&rest[..len]);
    match ptype {
        CONNECT => connect(&mut c, &mut |f, v| visit(CONNECT, f, v))?,
        CONNACK => connack(&mut c, &mut |f, v| visit(CONNACK, f, v))?,
        _ => return Err(Bad::Invalid),
    }
    if c.0.is_empty() { Ok(()) } else { Err(Bad::Invalid) }
}

fn connect<'a>(c: &mut Cursor<'a>, visit: &mut dyn FnMut(Field, Value<'a>)) -> Result<(), Bad> {
    let name = c.string()?;
    if !name.eq_ignore_ascii_case(b"MQTT") && !name.eq_ignore_ascii_case(b"MQIsdp") {
        return Err(Bad::Invalid);
    }
    visit(Field::ProtocolName, Value::Bytes(name));
    let version = c.u8()?;
    if !matches!(version, 3..=5) {
        return Err(Bad::Invalid);
    }
    visit(Field::ProtocolVersion, Value::Int(version.into()));
    let flags = c.u8()?;
    let (will, qos, retain) = (flags & 0x04 != 0, (flags >> 3) & 3, flags & 0x20 != 0);
    // Reserved bit 0; without a will, no will QoS nor retain (3.1.2.3, 3.1.2.6, 3.1.2.7).
    if flags & 0x01 != 0 || qos == 3 || (!will && (qos != 0 || retain)) {
        return Err(Bad::Invalid);
    }
    visit(Field::Flags, Value::Int(flags.into()));
    visit(Field::Keepalive, Value::Int(c.u16()?.into()));
    if version == 5 {
        props(c, CONNECT_PROPS, visit)?;
    }
    visit(Field::ClientId, Value::Bytes(c.string()?));
    if will {
        if version == 5 {
            props(c, WILL_PROPS, visit)?;
        }
        visit(Field::WillTopic, Value::Bytes(c.string()?));
        visit(Field::WillPayload, Value::Bytes(c.string()?));
    }
    if flags & 0x80 != 0 {
        visit(Field::Username, Value::Bytes(c.string()?));
    }
    if flags & 0x40 != 0 {
        visit(Field::Password, Value::Bytes(c.string()?));
    }
    Ok(())
}

fn connack<'a>(c: &mut Cursor<'a>, visit: &mut dyn FnMut(Field, Value<'a>)) -> Result<(), Bad> {
    // 3.1.1's CONNACK is exactly 2 bytes; a longer one has 5.0's properties.
    let version = if c.0.len() == 2 { 4 } else { 5 };
    visit(Field::ProtocolVersion, Value::Int(version));
    let flags = c.u8()?;
    if flags & 0xfe != 0 {
        return Err(Bad::Invalid); // only "session present" may be set
    }
    visit(Field::Flags, Value::Int(flags.into()));
    visit(Field::ReasonCode, Value::Int(c.u8()?.into()));
    if version == 5 {
        props(c, CONNACK_PROPS, visit)?;
    }
    Ok(())
}

/// A property list (length, then id + value each) whose ids are in
/// `allowed`; a property other than a user property may appear once.
fn props<'a>(c: &mut Cursor<'a>, allowed: &[u8], visit: &mut dyn FnMut(Field, Value<'a>)) -> Result<(), Bad> {
    let len = c.varint()? as usize;
    let mut p = Cursor(c.take(len)?);
    let mut seen = 0u64;
    while !p.0.is_empty() {
        let id = p.u8()?;
        if !allowed.contains(&id) {
            return Err(Bad::Invalid);
        }
        if id != 0x26 {
            if seen & (1 << id) != 0 {
                return Err(Bad::Invalid);
            }
            seen |= 1 << id;
        }
        let v = match id {
            0x01 | 0x17 | 0x19 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2A => {
                let b = p.u8()?;
                if b > 1 {
                    return Err(Bad::Invalid); // these are 0 or 1
                }
                Value::Int(b.into())
            }
            0x13 | 0x21 | 0x22 => {
                let v = p.u16()?;
                if id == 0x21 && v == 0 {
                    return Err(Bad::Invalid); // a receive maximum of 0
                }
                Value::Int(v.into())
            }
            0x02 | 0x11 | 0x18 | 0x27 => {
                let v = p.u32()?;
                if id == 0x27 && v == 0 {
                    return Err(Bad::Invalid); // a maximum packet size of 0
                }
                Value::Int(v)
            }
            0x26 => {
                p.string()?; // name
                p.string()?; // value
                Value::UserProp
            }
            _ => Value::Bytes(p.string()?), // strings and binary data
        };
        visit(Field::Prop(id), v);
    }
    Ok(())
}

impl MqttConv {
    pub(super) fn input(&self) -> In {
        In::Bin
    }

    pub(super) fn output(&self) -> SmpType {
        match self {
            MqttConv::IsValid => SmpType::Bool,
            MqttConv::FieldValue { .. } => SmpType::Str,
        }
    }

    pub(super) fn apply(&self, s: Sample<'_>, out: &mut Vec<u8>, src: &dyn SampleSource) -> Option<Res> {
        let msg = super::bytes(&s);
        let mut found: Option<Value<'_>> = None;
        let walked = match *self {
            MqttConv::IsValid => walk(msg, &mut |_, _, _| {}),
            MqttConv::FieldValue { packet, field } => walk(msg, &mut |p, f, v| {
                if p == packet && f == field && found.is_none() {
                    found = Some(v);
                }
            }),
        };
        if walked == Err(Bad::NeedMore) && src.inspect_final() == Some(false) {
            crate::acl::mark_incomplete(); // more bytes may complete it
            return None;
        }
        match self {
            MqttConv::IsValid => Some(Res::Bool(walked.is_ok())),
            MqttConv::FieldValue { .. } => {
                walked.ok()?;
                match found? {
                    Value::Int(n) => out.extend_from_slice(n.to_string().as_bytes()),
                    Value::Bytes(b) => out.extend_from_slice(b),
                    Value::UserProp => return None, // HAProxy 2.6 gives no value for user properties
                }
                Some(Res::Str)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or(0)).collect()
    }

    fn field(msg: &[u8], packet: u8, want: Field) -> Option<String> {
        let mut found = None;
        walk(msg, &mut |p, f, v| {
            if p == packet && f == want && found.is_none() {
                found = Some(match v {
                    Value::Int(n) => n.to_string(),
                    Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                    Value::UserProp => "user property".into(),
                });
            }
        })
        .ok()?;
        found
    }

    const COMPLEX: &str = "107e00044d51545405ee003c182700000014170126000161000162260001630001642100140008746573745f7375622a03000a746578742f706c61696e08000c77696c6c727370746f7069632600016500016626000167000168000977696c6c746f706963000b77696c6c7061796c6f61640004746573740006706173737764";

    #[test]
    fn a_complex_mqtt5_connect_gives_each_field() {
        let m = hex(COMPLEX);
        assert_eq!(walk(&m, &mut |_, _, _| {}), Ok(()));
        assert_eq!(field(&m, CONNECT, Field::ProtocolName).as_deref(), Some("MQTT"));
        assert_eq!(field(&m, CONNECT, Field::ProtocolVersion).as_deref(), Some("5"));
        assert_eq!(field(&m, CONNECT, Field::Flags).as_deref(), Some("238"));
        assert_eq!(field(&m, CONNECT, Field::ClientId).as_deref(), Some("test_sub"));
        assert_eq!(field(&m, CONNECT, Field::WillTopic).as_deref(), Some("willtopic"));
        assert_eq!(field(&m, CONNECT, Field::WillPayload).as_deref(), Some("willpayload"));
        assert_eq!(field(&m, CONNECT, Field::Username).as_deref(), Some("test"));
        assert_eq!(field(&m, CONNECT, Field::Password).as_deref(), Some("passwd"));
        assert_eq!(field(&m, CONNECT, Field::Prop(39)).as_deref(), Some("20"));
        assert_eq!(field(&m, CONNECT, Field::Prop(23)).as_deref(), Some("1"));
        assert_eq!(field(&m, CONNECT, Field::Prop(3)).as_deref(), Some("text/plain"));
        assert_eq!(field(&m, CONNECT, Field::Prop(8)).as_deref(), Some("willrsptopic"));
        assert_eq!(field(&m, CONNECT, Field::Prop(38)).as_deref(), Some("user property"));
        assert_eq!(field(&m, CONNACK, Field::Flags), None, "not a CONNACK");
    }

    #[test]
    fn connack_versions_and_properties() {
        let m = hex("20020000");
        assert_eq!(field(&m, CONNACK, Field::ProtocolVersion).as_deref(), Some("4"));
        let m = hex("20250000221100000078217fff24012501270000ffff22000a2600016100016226000163000164");
        assert_eq!(field(&m, CONNACK, Field::ProtocolVersion).as_deref(), Some("5"));
        assert_eq!(field(&m, CONNACK, Field::Prop(17)).as_deref(), Some("120"));
        assert_eq!(field(&m, CONNACK, Field::Prop(33)).as_deref(), Some("32767"));
        assert_eq!(field(&m, CONNACK, Field::Prop(39)).as_deref(), Some("65535"));
        assert_eq!(field(&m, CONNACK, Field::Prop(34)).as_deref(), Some("10"));
        assert_eq!(walk(&hex("21020000"), &mut |_, _, _| {}), Err(Bad::Invalid), "CONNACK flags must be 0");
    }

    #[test]
    fn invalid_and_short_packets() {
        let v = |s: &str| walk(&hex(s), &mut |_, _, _| {});
        assert_eq!(v("d000"), Err(Bad::Invalid), "PINGREQ is not parsed");
        assert_eq!(v("111400044d5154540402003c0008746573745f737562"), Err(Bad::Invalid), "fixed flags");
        assert_eq!(
            v("10ffffffff1400044d5154540402003c0008746573745f737562"),
            Err(Bad::Invalid),
            "5-byte length"
        );
        assert_eq!(v("101400044d5154540402003c0008746573745f7375"), Err(Bad::NeedMore), "one byte short");
        assert_eq!(v("101300044d5154540402003c0008746573745f737562"), Err(Bad::Invalid), "length too short");
        assert_eq!(v("10"), Err(Bad::NeedMore));
        assert_eq!(v("101400044d5154540402003c0008746573745f737562"), Ok(()), "3.1.1");
        assert_eq!(
            v("102400064d514973647003c200000008746573745f7375620004746573740006706173737764"),
            Ok(()),
            "3.1"
        );
    }

    #[test]
    fn field_names_are_checked_per_packet_type() {
        assert!(field_value("connect", "client_identifier").is_ok());
        assert!(field_value("1", "39").is_ok());
        assert!(field_value("CONNACK", "reason_code").is_ok());
        assert!(field_value("connack", "username").is_err());
        assert!(field_value("connack", "3").is_err(), "a will property is no CONNACK property");
        assert!(field_value("bogus", "flags").is_err());
        assert!(field_value("publish", "flags").is_err());
    }
}
