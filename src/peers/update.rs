//! Entry updates on the wire (`doc/peers-v2.0.txt`, III.a/b, and
//! `peers.c`): the payload of the four update messages, and the
//! per-connection dictionary caches that carry `server_key` strings once.
//!
//! Payload: the update id (32-bit big endian) unless the message is
//! incremental, the remaining lifetime in ms (32-bit) for the timed
//! messages, the key, then each carried data type in index order as
//! variable-length integers; a rate is three of them (ms since its period
//! started, current count, previous count); `server_key` is a length, a
//! cache id (from 1) and, the first time, the string.

use super::schema::{Definition, WireKind, local_type, types_in, wire_kind};
use super::varint::{self, Reader};
use super::wire;
use crate::stick::dict;
use crate::stick::key::Key;
use crate::stick::table::{EntryMut, Raw};
use crate::stick::{DataType, FreqCtr, KeyType, StoredKey, Table};
use smallvec::SmallVec;

/// Entries of each direction's dictionary cache (HAProxy's
/// PEER_STKT_CACHE_MAX_ENTRIES).
pub const DICT_CACHE: usize = 128;

/// The strings sent on one connection, by cache slot (HAProxy's
/// `dcache_tx`): a ring, the oldest slot reused first.
#[derive(Clone, Debug)]
pub struct DictTx {
    slots: [u32; DICT_CACHE], // dictionary id in each slot (0: empty)
    next: usize,              // slot the next new string takes
}

impl Default for DictTx {
    fn default() -> Self {
        DictTx { slots: [0; DICT_CACHE], next: 0 }
    }
}

impl DictTx {
    /// The slots in use, in slot order, up to the first empty one (what
    /// `show peers dict` lists).
    pub fn filled(&self) -> Vec<(usize, Option<std::sync::Arc<str>>)> {
        self.slots
            .iter()
            .take_while(|&&id| id != 0)
            .enumerate()
            .map(|(i, &id)| (i, dict::lookup(id)))
            .collect()
    }
}

impl DictRx {
    /// Every slot, `None` when empty.
    pub fn all(&self) -> Vec<(usize, Option<std::sync::Arc<str>>)> {
        self.slots.iter().enumerate().map(|(i, &id)| (i, dict::lookup(id))).collect()
    }
}

/// The strings received on one connection, by cache slot (`dcache_rx`).
#[derive(Clone, Debug)]
pub struct DictRx {
    slots: [u32; DICT_CACHE], // dictionary id in each slot (0: empty)
}

impl Default for DictRx {
    fn default() -> Self {
        DictRx { slots: [0; DICT_CACHE] }
    }
}

/// The message type of an update.
pub fn update_kind(with_id: bool, timed: bool) -> u8 {
    match (with_id, timed) {
        (true, false) => wire::STKT_UPDATE,
        (false, false) => wire::STKT_INCUPDATE,
        (true, true) => wire::STKT_UPDATE_TIMED,
        (false, true) => wire::STKT_INCUPDATE_TIMED,
    }
}

/// Appends the encoded key of entry bytes `key` for key type `kt`.
fn put_key(out: &mut Vec<u8>, kt: KeyType, key: &[u8]) {
    match kt {
        KeyType::String { .. } => {
            let n = key.iter().position(|&b| b == 0).unwrap_or(key.len());
            varint::put(out, n as u64);
            out.extend_from_slice(&key[..n]);
        }
        // integers are stored big endian: their bytes are the wire's
        _ => out.extend_from_slice(key),
    }
}

/// Appends the payload of an update of entry `e` of table `t`: `id` when
/// the message carries the update id, `timed` the remaining lifetime when
/// it is a timed update. `now` is the table's clock (ms).
pub fn encode(
    out: &mut Vec<u8>,
    t: &Table,
    e: &EntryMut<'_>,
    id: Option<u32>,
    timed: Option<u32>,
    now: u64,
    dict: &mut DictTx,
) {
    if let Some(id) = id {
        out.extend_from_slice(&id.to_be_bytes());
    }
    if let Some(ms) = timed {
        out.extend_from_slice(&ms.to_be_bytes());
    }
    put_key(out, t.key_type(), e.key().bytes());
    for ty in DataType::ALL {
        match e.raw(ty) {
            None => {}
            Some(Raw::Int(v)) => varint::put(out, v),
            Some(Raw::Rate(f)) => {
                varint::put(out, u64::from((now as u32).wrapping_sub(f.curr_tick)));
                varint::put(out, u64::from(f.curr));
                varint::put(out, u64::from(f.prev));
            }
            Some(Raw::Dict(id)) => put_dict(out, id, dict),
        }
    }
}

/// A `server_key` value: 0 when absent; `1, slot+1` when this connection
/// already carried the string; else `len, slot+1, strlen, string`.
fn put_dict(out: &mut Vec<u8>, id: u32, dict: &mut DictTx) {
    let Some(text) = dict::lookup(id) else {
        varint::put(out, 0);
        return;
    };
    if let Some(slot) = dict.slots.iter().position(|&s| s == id) {
        varint::put(out, 1);
        varint::put(out, slot as u64 + 1);
        return;
    }
    let slot = dict.next;
    dict.slots[slot] = id;
    dict.next = (slot + 1) % DICT_CACHE;
    let mut body = Vec::with_capacity(text.len() + 4);
    varint::put(&mut body, slot as u64 + 1);
    varint::put(&mut body, text.len() as u64);
    body.extend_from_slice(text.as_bytes());
    varint::put(out, body.len() as u64);
    out.extend_from_slice(&body);
}

/// One value of a received update, as it will be stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    Int(u64),
    Rate { elapsed: u32, curr: u32, prev: u32 },
    Dict(u32), // a dictionary id
}

/// A decoded update for a local table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub id: Option<u32>,     // the update id, when carried
    pub expire: Option<u32>, // remaining lifetime (ms), timed updates only
    pub key: StoredKey,
    pub values: SmallVec<[(DataType, Value); 12]>, // the types the local table stores, `conn_cur` excepted
}

/// Why an update could not be decoded (the connection ends with a
/// protocol error, as in HAProxy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadUpdate;

/// Decodes the payload of update message `kind` for local table `t`,
/// whose sender announced definition `def`. Values of types the local
/// table does not store, and `conn_cur` (local by nature), are read and
/// dropped.
pub fn decode(
    kind: u8,
    payload: &[u8],
    def: &Definition,
    t: &Table,
    rx: &mut DictRx,
) -> Result<Decoded, BadUpdate> {
    let mut r = Reader::new(payload);
    let with_id = matches!(kind, wire::STKT_UPDATE | wire::STKT_UPDATE_TIMED);
    let timed = matches!(kind, wire::STKT_UPDATE_TIMED | wire::STKT_INCUPDATE_TIMED);
    let id = if with_id { Some(r.u32_be().ok_or(BadUpdate)?) } else { None };
    let expire = if timed { Some(r.u32_be().ok_or(BadUpdate)?) } else { None };
    let kt = t.key_type();
    let key = match kt {
        KeyType::String { len } => {
            let n = usize::try_from(r.int().ok_or(BadUpdate)?).map_err(|_| BadUpdate)?;
            let b = r.bytes(n).ok_or(BadUpdate)?;
            kt.normalize(Key::Str(&b[..n.min(len as usize)])).ok_or(BadUpdate)?
        }
        // fixed sizes; integers travel big endian, as they are stored
        _ => StoredKey::from_stored(kt, r.bytes(kt.key_size()).ok_or(BadUpdate)?),
    };
    let mut values = SmallVec::new();
    for idx in types_in(def.data) {
        let keep = local_type(idx).filter(|&ty| ty != DataType::ConnCur && t.stores(ty));
        let n = def.nbelem[idx as usize];
        match wire_kind(idx).ok_or(BadUpdate)? {
            WireKind::Int => {
                let v = r.int().ok_or(BadUpdate)?;
                if let Some(ty) = keep {
                    values.push((ty, Value::Int(v)));
                }
            }
            WireKind::Rate => {
                let v = read_rate(&mut r)?;
                if let Some(ty) = keep {
                    values.push((ty, v));
                }
            }
            WireKind::Dict => {
                if let Some(id) = read_dict(&mut r, rx)?
                    && let Some(ty) = keep
                {
                    values.push((ty, Value::Dict(id)));
                }
            }
            WireKind::IntArray => {
                for _ in 0..n {
                    r.int().ok_or(BadUpdate)?;
                }
            }
            WireKind::RateArray => {
                for _ in 0..n {
                    read_rate(&mut r)?;
                }
            }
        }
    }
    Ok(Decoded { id, expire, key, values })
}

fn read_rate(r: &mut Reader<'_>) -> Result<Value, BadUpdate> {
    let elapsed = r.int().ok_or(BadUpdate)? as u32;
    let curr = r.int().ok_or(BadUpdate)? as u32;
    let prev = r.int().ok_or(BadUpdate)? as u32;
    Ok(Value::Rate { elapsed, curr, prev })
}

/// A `server_key` value: `None` when absent or naming an empty cache slot
/// (the entry's value is then left as it is, as HAProxy does).
fn read_dict(r: &mut Reader<'_>, rx: &mut DictRx) -> Result<Option<u32>, BadUpdate> {
    let len = usize::try_from(r.int().ok_or(BadUpdate)?).map_err(|_| BadUpdate)?;
    if len == 0 {
        return Ok(None);
    }
    let mut d = Reader::new(r.bytes(len).ok_or(BadUpdate)?);
    let slot = d.int().ok_or(BadUpdate)?;
    if slot == 0 || slot > DICT_CACHE as u64 {
        return Err(BadUpdate);
    }
    let slot = slot as usize - 1;
    if d.is_empty() {
        return Ok(Some(rx.slots[slot]).filter(|&id| id != 0));
    }
    let n = usize::try_from(d.int().ok_or(BadUpdate)?).map_err(|_| BadUpdate)?;
    let text = d.bytes(n).ok_or(BadUpdate)?;
    let text = std::str::from_utf8(text).map_err(|_| BadUpdate)?;
    // a full dictionary leaves the value unset rather than failing the link
    let id = dict::intern(text).unwrap_or(0);
    rx.slots[slot] = id;
    Ok(Some(id).filter(|&id| id != 0))
}

/// Stores the decoded values in entry `e` (rates rebuilt against `now`).
pub fn apply(values: &[(DataType, Value)], e: &mut EntryMut<'_>, now: u64) {
    for &(ty, v) in values {
        let raw = match v {
            Value::Int(n) => Raw::Int(n),
            Value::Dict(id) => Raw::Dict(id),
            Value::Rate { elapsed, curr, prev } => {
                Raw::Rate(FreqCtr { curr_tick: (now as u32).wrapping_sub(elapsed) & !1, curr, prev })
            }
        };
        e.set_raw(ty, raw);
    }
}
