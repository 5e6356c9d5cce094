//! One table entry seen under its shard lock: its header words (reference
//! count, expiry), its key, and its stored data, read, updated and printed.

use super::*;

/// One entry, borrowed under its shard lock.
pub struct EntryMut<'a> {
    pub(super) t: &'a Table,
    pub(super) w: &'a mut [u32],
    pub(super) id: EntryId, // where it lives (for the update log)
}

impl EntryMut<'_> {
    /// References: live trackers plus transient users (`use=`).
    pub fn refs(&self) -> u32 {
        self.w[W_REF]
    }

    /// Expiry date (ms). For tables without `expire`, the last touch.
    pub fn expire(&self) -> u64 {
        u64::from(self.w[W_EXP_LO]) | u64::from(self.w[W_EXP_HI]) << 32
    }

    /// `exp=` of `show table`: ms left, 0 if past or without `expire`.
    pub fn exp_remaining(&self, now: u64) -> u64 {
        match self.t.expire {
            Some(_) => self.expire().saturating_sub(now),
            None => 0,
        }
    }

    /// The entry's key.
    pub fn key(&self) -> StoredKey {
        StoredKey::from_stored(self.t.key_type, &self.key_bytes())
    }

    pub(super) fn key_bytes(&self) -> KeyBytes {
        let mut b = KeyBytes::new();
        for w in &self.w[HDR..HDR + self.t.key_words] {
            b.extend_from_slice(&w.to_ne_bytes());
        }
        b.truncate(self.t.key_type.key_size());
        b
    }

    /// The address `show table` prints (stable for the entry's life).
    pub fn addr(&self) -> *const u32 {
        self.w.as_ptr()
    }

    pub(super) fn data(&self) -> &[u32] {
        &self.w[HDR + self.t.key_words..]
    }

    pub(super) fn data_mut(&mut self) -> &mut [u32] {
        let k = HDR + self.t.key_words;
        &mut self.w[k..]
    }

    pub(super) fn set_expire(&mut self, exp: u64) {
        self.w[W_EXP_LO] = exp as u32;
        self.w[W_EXP_HI] = (exp >> 32) as u32;
    }

    /// HAProxy's `stktable_touch_local()`: the entry expires `expire` from
    /// now (for tables without `expire`: the date of the last touch, which
    /// orders evictions).
    ///
    /// In a table shared with peers this is also a local update: the entry
    /// is scheduled to be pushed (HAProxy's `stktable_touch_local()`).
    pub(crate) fn touch(&mut self, now: u64) {
        self.set_expire(self.t.fresh_exp(now));
        if let Some(log) = &self.t.sync {
            log.note_local(self);
        }
    }

    /// A tracker starts: reference +1; `conn_cnt`, `conn_cur`, `conn_rate`
    /// +1 where stored; refreshed.
    pub(crate) fn start_tracking(&mut self, now: u64) {
        self.w[W_REF] += 1;
        let l = &self.t.layout;
        let (cnt, cur, rate) =
            (l.off(DataType::ConnCnt), l.off(DataType::ConnCur), l.off(DataType::ConnRate));
        let period = l.period(DataType::ConnRate);
        let d = self.data_mut();
        if let Some(o) = cnt {
            d[o] = d[o].wrapping_add(1);
        }
        if let Some(o) = cur {
            d[o] = d[o].wrapping_add(1);
        }
        if let Some(o) = rate {
            let mut f = FreqCtr::from_words(&d[o..o + 3]);
            f.update(now, period, 1);
            f.to_words(&mut d[o..o + 3]);
        }
        self.touch(now);
    }

    /// Value of `ty` at `now` as HAProxy compares it in filters (`long
    /// long`): rates computed, `server_id` signed, 64-bit counters cast.
    pub fn value(&self, ty: DataType, now: u64) -> Option<i64> {
        let o = self.t.layout.off(ty)?;
        let d = self.data();
        Some(match ty.width() {
            Width::Sint => i64::from(d[o] as i32),
            Width::Uint => i64::from(d[o]),
            Width::Ull => (u64::from(d[o]) | u64::from(d[o + 1]) << 32) as i64,
            Width::Rate => i64::from(FreqCtr::from_words(&d[o..o + 3]).read(now, self.t.layout.period(ty))),
            Width::Dict => return None, // a string, not a number
        })
    }

    /// Value of `ty` at `now`, `None` if not stored. `server_id` reads as its
    /// 32-bit pattern.
    pub fn get(&self, ty: DataType, now: u64) -> Option<u64> {
        let v = self.value(ty, now)?;
        Some(match ty.width() {
            Width::Sint => u64::from(v as u32),
            _ => v as u64,
        })
    }

    /// Stores `v` in `ty` as `set table` does (truncating to the type's
    /// width; a rate reads `v` for one period). `false` if not stored, or
    /// for `server_key`, which HAProxy's `set table` leaves alone.
    pub fn set(&mut self, ty: DataType, v: i64, now: u64) -> bool {
        let Some(o) = self.t.layout.off(ty) else { return false };
        let d = self.data_mut();
        match ty.width() {
            Width::Dict => return false,
            Width::Sint | Width::Uint => d[o] = v as u32,
            Width::Ull => {
                d[o] = v as u32;
                d[o + 1] = ((v as u64) >> 32) as u32;
            }
            Width::Rate => {
                let mut f = FreqCtr::from_words(&d[o..o + 3]);
                f.set(now, v as u32);
                f.to_words(&mut d[o..o + 3]);
            }
        }
        true
    }

    pub(super) fn count(&mut self, cnt: DataType, rate: DataType, inc: u64, now: u64) -> Option<u64> {
        let l = &self.t.layout;
        let (co, ro, period) = (l.off(cnt), l.off(rate), l.period(rate));
        let d = self.data_mut();
        if let Some(o) = ro {
            let mut f = FreqCtr::from_words(&d[o..o + 3]);
            f.update(now, period, u32::try_from(inc).unwrap_or(u32::MAX));
            f.to_words(&mut d[o..o + 3]);
        }
        let o = co?;
        if cnt.width() == Width::Ull {
            let v = (u64::from(d[o]) | u64::from(d[o + 1]) << 32).wrapping_add(inc);
            d[o] = v as u32;
            d[o + 1] = (v >> 32) as u32;
            Some(v)
        } else {
            d[o] = d[o].wrapping_add(inc as u32);
            Some(u64::from(d[o]))
        }
    }

    /// Counts one event and refreshes the entry. Returns the counter's new
    /// value (`IncGpc0`: the new gpc0, `ClrGpc0`: the value before clearing,
    /// `Set*`: the value set) when the counter is stored.
    pub fn apply(&mut self, upd: Update, now: u64) -> Option<u64> {
        use DataType as T;
        let r = match upd {
            _ if let Some((cnt, rate, inc)) = upd.counted() => self.count(cnt, rate, inc, now),
            Update::ClrGpc0 | Update::ClrGpc1 => {
                let ty = if upd == Update::ClrGpc0 { T::Gpc0 } else { T::Gpc1 };
                let before = self.get(ty, now);
                self.set(ty, 0, now);
                before
            }
            Update::SetGpt0(v) => self.set(T::Gpt0, i64::from(v), now).then_some(u64::from(v)),
            Update::SetServerId(v) => self.set(T::ServerId, i64::from(v), now).then_some(u64::from(v as u32)),
            Update::SetServerKey(v) => self.set_raw(T::ServerKey, Raw::Dict(v)).then_some(u64::from(v)),
            _ => None, // the counts, above
        };
        self.touch(now);
        r
    }

    /// The `show table` line, without the newline: `0x…: key=K use=U exp=E`
    /// then every stored type in HAProxy's order, rates as
    /// `name(period)=value`.
    pub fn fmt_line(&self, now: u64, out: &mut String) {
        use std::fmt::Write;
        let _ = write!(out, "{:p}: key=", self.addr());
        fmt_key(self.t.key_type, &self.key_bytes(), out);
        let _ = write!(out, " use={} exp={}", self.refs(), self.exp_remaining(now));
        for ty in DataType::ALL {
            if ty.width() == Width::Dict {
                if let Some(o) = self.t.layout.off(ty) {
                    let name = crate::stick::dict::lookup(self.data()[o]);
                    let _ = write!(out, " {}={}", ty.name(), name.as_deref().unwrap_or("-"));
                }
                continue;
            }
            let Some(v) = self.value(ty, now) else { continue };
            if ty.is_rate() {
                let _ = write!(out, " {}({})={}", ty.name(), self.t.layout.period(ty), v);
            } else if ty.width() == Width::Ull {
                let _ = write!(out, " {}={}", ty.name(), v as u64);
            } else {
                let _ = write!(out, " {}={}", ty.name(), v);
            }
        }
    }
}
