//! Generation-tagged object storage for the event loop.
//!
//! A [`Key`] names a slot *and* the generation of the object stored there.
//! When an object is removed its slot's generation moves on, so a readiness
//! event or timer still carrying the old key finds nothing instead of the
//! slot's next occupant.

use mio::Token;

const SUB_BITS: u32 = 8;
const INDEX_BITS: u32 = 32;
const GEN_BITS: u32 = 63 - SUB_BITS - INDEX_BITS; // top bit left for reserved tokens
const GEN_MASK: u32 = (1 << GEN_BITS) - 1;

/// Address of one object in a [`TokenSlab`]: slot index + generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    index: u32,      // slot in the slab
    generation: u32, // generation of the occupant (GEN_BITS wide)
}

impl Key {
    /// The mio token for socket `sub` (0..=255) of this object.
    pub fn token(self, sub: u8) -> Token {
        Token(
            ((self.generation as usize) << (INDEX_BITS + SUB_BITS))
                | ((self.index as usize) << SUB_BITS)
                | sub as usize,
        )
    }

    /// Splits a token made by [`Key::token`] into the key and the socket number.
    pub fn from_token(token: Token) -> (Key, u8) {
        let t = token.0;
        let sub = (t & 0xff) as u8;
        let index = ((t >> SUB_BITS) & 0xffff_ffff) as u32;
        let generation = ((t >> (INDEX_BITS + SUB_BITS)) as u32) & GEN_MASK;
        (Key { index, generation }, sub)
    }

    /// A compact number for logs and timers (unique among live objects).
    pub fn as_u64(self) -> u64 {
        ((self.generation as u64) << 32) | self.index as u64
    }

    /// Inverse of [`Key::as_u64`] (bits above the generation are ignored).
    pub fn from_u64(v: u64) -> Key {
        Key { index: v as u32, generation: ((v >> 32) as u32) & GEN_MASK }
    }
}

/// Tokens at or above this value are never produced by a slab; the event
/// loop uses them for its own sources (signals, wakers).
pub const RESERVED_TOKEN_BASE: usize = 1 << 63;

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

/// Storage for the event loop's objects (sessions, listeners...), owned by
/// one worker. Insertion reuses freed slots; lookups check the generation.
pub struct TokenSlab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Default for TokenSlab<T> {
    fn default() -> Self {
        TokenSlab { slots: Vec::new(), free: Vec::new(), len: 0 }
    }
}

impl<T> TokenSlab<T> {
    /// Number of live objects.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The key the next `insert` will return, so an object can learn its own
    /// key (to register sockets) before it is stored.
    pub fn vacant_key(&self) -> Key {
        match self.free.last() {
            Some(&index) => Key { index, generation: self.slots[index as usize].generation },
            None => Key { index: self.slots.len() as u32, generation: 0 },
        }
    }

    /// Stores `value` and returns its key (equal to `vacant_key()` just before).
    pub fn insert(&mut self, value: T) -> Key {
        self.len += 1;
        match self.free.pop() {
            Some(index) => {
                let slot = &mut self.slots[index as usize];
                slot.value = Some(value);
                Key { index, generation: slot.generation }
            }
            None => {
                let index = self.slots.len() as u32;
                self.slots.push(Slot { generation: 0, value: Some(value) });
                Key { index, generation: 0 }
            }
        }
    }

    /// The object under `key`, if it is still the one the key was made for.
    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        match self.slots.get_mut(key.index as usize) {
            Some(slot) if slot.generation == key.generation => slot.value.as_mut(),
            _ => None,
        }
    }

    pub fn get(&self, key: Key) -> Option<&T> {
        match self.slots.get(key.index as usize) {
            Some(slot) if slot.generation == key.generation => slot.value.as_ref(),
            _ => None,
        }
    }

    /// Removes and returns the object; its key (and every token made from
    /// it) becomes stale.
    pub fn remove(&mut self, key: Key) -> Option<T> {
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        let value = slot.value.take()?;
        slot.generation = (slot.generation + 1) & GEN_MASK;
        self.free.push(key.index);
        self.len -= 1;
        Some(value)
    }

    /// Keys of all live objects (for shutdown and debugging walks).
    pub fn keys(&self) -> Vec<Key> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.value.is_some())
            .map(|(i, s)| Key { index: i as u32, generation: s.generation })
            .collect()
    }

    /// Iterates over live objects.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().filter_map(|s| s.value.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_key_finds_nothing_after_reuse() {
        let mut slab = TokenSlab::default();
        let a = slab.insert("a");
        assert_eq!(slab.remove(a), Some("a"));
        let b = slab.insert("b");
        assert_eq!(a.index, b.index, "slot reused");
        assert_eq!(slab.get_mut(a), None, "old key is stale");
        assert_eq!(slab.get_mut(b), Some(&mut "b"));
        assert_eq!(slab.remove(a), None);
        assert_eq!(slab.len(), 1);
    }

    #[test]
    fn token_round_trip() {
        let mut slab = TokenSlab::default();
        for _ in 0..3 {
            let k = slab.insert(());
            slab.remove(k);
        }
        let k = slab.insert(());
        for sub in [0u8, 1, 255] {
            let (back, s) = Key::from_token(k.token(sub));
            assert_eq!((back, s), (k, sub));
            assert!(k.token(sub).0 < RESERVED_TOKEN_BASE);
        }
        assert_eq!(Key::from_u64(k.as_u64()), k);
    }

    #[test]
    fn vacant_key_predicts_insert() {
        let mut slab = TokenSlab::default();
        let a = slab.insert(1);
        slab.insert(2);
        slab.remove(a);
        let predicted = slab.vacant_key();
        assert_eq!(slab.insert(3), predicted);
    }
}
