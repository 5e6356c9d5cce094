//! Stored values as they are kept, for the code that copies entries
//! between processes (the peers protocol, snapshots): no rate is computed,
//! no value interpreted.

use super::*;

/// One stored value in its kept form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Raw {
    /// `server_id` (sign-extended), a 32-bit counter, or a 64-bit counter.
    Int(u64),
    /// A frequency counter: period start tick and both counts.
    Rate(FreqCtr),
    /// `server_key`: an id of `stick::dict` (0: none).
    Dict(u32),
}

impl EntryMut<'_> {
    /// The kept form of `ty`, `None` if not stored.
    pub fn raw(&self, ty: DataType) -> Option<Raw> {
        let o = self.t.layout.off(ty)?;
        let d = self.data();
        Some(match ty.width() {
            Width::Sint => Raw::Int(i64::from(d[o] as i32) as u64),
            Width::Uint => Raw::Int(u64::from(d[o])),
            Width::Ull => Raw::Int(u64::from(d[o]) | u64::from(d[o + 1]) << 32),
            Width::Rate => Raw::Rate(FreqCtr::from_words(&d[o..o + 3])),
            Width::Dict => Raw::Dict(d[o]),
        })
    }

    /// Stores `v` in `ty` as it is (32-bit types keep the low 32 bits, as
    /// HAProxy's casts do). `false` if `ty` is not stored or `v` is not of
    /// its kind. Neither refreshes the entry nor counts as a local update.
    pub fn set_raw(&mut self, ty: DataType, v: Raw) -> bool {
        let Some(o) = self.t.layout.off(ty) else { return false };
        let d = self.data_mut();
        match (ty.width(), v) {
            (Width::Sint | Width::Uint, Raw::Int(n)) => d[o] = n as u32,
            (Width::Ull, Raw::Int(n)) => {
                d[o] = n as u32;
                d[o + 1] = (n >> 32) as u32;
            }
            (Width::Rate, Raw::Rate(f)) => f.to_words(&mut d[o..o + 3]),
            (Width::Dict, Raw::Dict(id)) => d[o] = id,
            _ => return false,
        }
        true
    }

    /// The period (ms) of a stored rate, 0 for other types.
    pub fn period(&self, ty: DataType) -> u32 {
        self.t.layout.period(ty)
    }

    /// Sets the expiry date (ms, the table's clock) without counting a
    /// local update: for values learned from a peer or a snapshot.
    pub fn set_expire_remote(&mut self, exp: u64) {
        self.set_expire(exp);
    }
}
