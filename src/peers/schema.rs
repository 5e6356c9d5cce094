//! What a table looks like on the wire: key types, the data types by
//! HAProxy's index, and the table definition message that announces a
//! table before its updates (`doc/peers-v2.0.txt`, III.c).

use super::varint::{self, Reader};
use crate::stick::{DataType, KeyType, Table};
use smallvec::SmallVec;

/// Data type indices HAProxy 2.6 knows (0 `server_id` .. 24 `gpc_rate`).
pub const WIRE_TYPES: u8 = 25;

/// How the values of one data type are carried in an update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireKind {
    Int,       // one integer (signed, unsigned or 64-bit: all the same on the wire)
    Rate,      // three integers: ms since the period started, current, previous
    Dict,      // a length, then a dictionary id and maybe the string
    IntArray,  // `nbelem` integers (gpt, gpc)
    RateArray, // `nbelem` rates (gpc_rate)
}

/// The wire kind of HAProxy's data type `idx`.
pub fn wire_kind(idx: u8) -> Option<WireKind> {
    Some(match idx {
        3 | 5 | 8 | 10 | 12 | 14 | 16 | 18 | 21 => WireKind::Rate,
        19 => WireKind::Dict,
        22 | 23 => WireKind::IntArray,
        24 => WireKind::RateArray,
        0..=24 => WireKind::Int,
        _ => return None,
    })
}

/// strata's data type for HAProxy's index, if strata stores it.
pub fn local_type(idx: u8) -> Option<DataType> {
    DataType::ALL.into_iter().find(|t| *t as u8 == idx)
}

/// Network key types (`peers.c`: PEER_KT_*).
pub const KT_SINT: u64 = 2;
pub const KT_IPV4: u64 = 4;
pub const KT_IPV6: u64 = 5;
pub const KT_STR: u64 = 6;
pub const KT_BIN: u64 = 7;

/// The network key type and key length HAProxy announces for a table.
/// A string table's length counts HAProxy's terminating NUL.
pub fn key_wire(kt: KeyType) -> (u64, u64) {
    match kt {
        KeyType::Integer => (KT_SINT, 4),
        KeyType::Ip => (KT_IPV4, 4),
        KeyType::Ipv6 => (KT_IPV6, 16),
        KeyType::String { len } => (KT_STR, u64::from(len) + 1),
        KeyType::Binary { len } => (KT_BIN, u64::from(len)),
    }
}

/// A decoded table definition message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definition {
    pub table_id: u64,                     // the sender's id for the table
    pub name: Vec<u8>,                     // the shared name
    pub key_type: u64,                     // network key type
    pub key_len: u64,                      // key length (strings: with the NUL)
    pub data: u64,                         // bit n: data type n is carried
    pub expire: Option<u64>,               // the sender's `expire` (ms); absent from old senders
    pub nbelem: [u8; WIRE_TYPES as usize], // array sizes (1 for plain types)
    pub usable: bool, // false: parameters missing or inconsistent (HAProxy ignores such a table)
}

/// Why a definition was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed;

/// Decodes a table definition payload as HAProxy 2.6 does: a payload cut
/// before the data types is malformed (the connection ends); missing or
/// inconsistent parameters make the definition unusable (its updates are
/// ignored), as do unknown types.
pub fn decode_define(payload: &[u8]) -> Result<Definition, Malformed> {
    let mut r = Reader::new(payload);
    let table_id = r.int().ok_or(Malformed)?;
    let name_len = r.int().ok_or(Malformed)?;
    // HAProxy: an empty name, or one reaching the end of the payload
    if name_len == 0 || name_len >= r.rest().len() as u64 {
        return Err(Malformed);
    }
    let name = r.bytes(name_len as usize).ok_or(Malformed)?.to_vec();
    let key_type = r.int().ok_or(Malformed)?;
    let key_len = r.int().ok_or(Malformed)?;
    let data = r.int().ok_or(Malformed)?;
    let mut def = Definition {
        table_id,
        name,
        key_type,
        key_len,
        data,
        expire: None,
        nbelem: [1; WIRE_TYPES as usize],
        usable: true,
    };
    def.expire = r.int();
    for idx in 0..WIRE_TYPES {
        if data & (1 << idx) == 0 {
            continue;
        }
        let kind = wire_kind(idx).unwrap_or(WireKind::Int);
        let has_params = matches!(kind, WireKind::Rate | WireKind::IntArray | WireKind::RateArray);
        if !has_params {
            continue;
        }
        if def.expire.is_none() {
            // without the parameters block a rate's period is unknown
            // (harmless) but an array's size is: unusable
            if kind != WireKind::Rate {
                def.usable = false;
            }
            continue;
        }
        if r.int() != Some(u64::from(idx)) {
            def.usable = false;
            break;
        }
        if matches!(kind, WireKind::IntArray | WireKind::RateArray) {
            match r.int() {
                Some(n @ 1..=100) => def.nbelem[idx as usize] = n as u8,
                _ => {
                    def.usable = false;
                    break;
                }
            }
        }
        if matches!(kind, WireKind::Rate | WireKind::RateArray) && r.int().is_none() {
            def.usable = false;
            break;
        }
    }
    Ok(def)
}

/// The data types of a local table as announced: the bitfield, and the
/// parameters (rate periods) in bit order.
pub fn data_bits(t: &Table) -> u64 {
    DataType::ALL.into_iter().filter(|&ty| t.stores(ty)).fold(0, |b, ty| b | 1 << ty as u8)
}

/// Appends the definition payload of local table `t` with id `table_id`
/// and shared name `name` (HAProxy's `peer_prepare_switchmsg`).
pub fn encode_define(out: &mut Vec<u8>, table_id: u64, name: &str, t: &Table) {
    varint::put(out, table_id);
    varint::put(out, name.len() as u64);
    out.extend_from_slice(name.as_bytes());
    let (kt, kl) = key_wire(t.key_type());
    varint::put(out, kt);
    varint::put(out, kl);
    varint::put(out, data_bits(t));
    varint::put(out, u64::from(t.expire().unwrap_or(0)));
    for ty in DataType::ALL {
        if ty.is_rate()
            && let Some(p) = t.store().period(ty)
        {
            varint::put(out, ty as u64);
            varint::put(out, u64::from(p));
        }
    }
}

/// The local table a definition refers to, among `tables` (shared name,
/// table), when its key type and length match ours; `None` otherwise (its
/// updates are then ignored, as HAProxy does).
pub fn matching<'a>(
    def: &Definition,
    tables: impl IntoIterator<Item = (usize, &'a str, &'a Table)>,
) -> Option<usize> {
    let (i, _, t) = tables.into_iter().find(|(_, n, _)| n.as_bytes() == def.name.as_slice())?;
    (def.usable && key_wire(t.key_type()) == (def.key_type, def.key_len)).then_some(i)
}

/// Data type indices set in `bits`, lowest first, limited to the types
/// HAProxy 2.6 knows (higher bits are ignored, as HAProxy ignores them).
pub fn types_in(bits: u64) -> SmallVec<[u8; 24]> {
    (0..WIRE_TYPES).filter(|i| bits & (1 << i) != 0).collect()
}
