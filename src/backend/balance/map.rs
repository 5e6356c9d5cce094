//! The weighted array of `static-rr` and map-based hashing (HAProxy's
//! `lb_map`): one slot per unit of effective weight, filled so that each
//! server's slots are spread evenly, first servers first on ties. A hash
//! picks slot `hash % total`; `static-rr` walks the slots in turn.

/// One server of the farm as the map sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slotted {
    pub server: usize, // index in the backend
    pub weight: u32,   // effective weight (the configured weight divided by the farm's gcd)
}

/// The array and the round-robin position. Owned by a `Picker`.
#[derive(Debug, Default)]
pub struct Map {
    slots: Vec<usize>, // server index per slot
    rr_idx: usize,     // next slot `static-rr` looks at
    scores: Vec<i64>,  // scratch while building
}

impl Map {
    /// Rebuilds the array for `farm` (declaration order), as HAProxy's
    /// `recalc_server_map`: for each slot every server earns its weight,
    /// the first one with the highest `(score + total) / total` takes the
    /// slot and pays the total.
    pub fn build(&mut self, farm: &[Slotted]) {
        let total: i64 = farm.iter().map(|m| i64::from(m.weight)).sum();
        self.slots.clear();
        self.scores.clear();
        self.scores.resize(farm.len(), 0);
        for _ in 0..total {
            let mut best: Option<(usize, i64)> = None;
            for (k, m) in farm.iter().enumerate().filter(|(_, m)| m.weight > 0) {
                self.scores[k] += i64::from(m.weight);
                let v = (self.scores[k] + total) / total;
                if best.is_none_or(|(_, max)| v > max) {
                    best = Some((k, v));
                }
            }
            let Some((k, _)) = best else { break };
            self.slots.push(farm[k].server);
            self.scores[k] -= total;
        }
    }

    /// The server of `hash` (None for an empty farm).
    pub fn by_hash(&self, hash: u32) -> Option<usize> {
        let n = self.slots.len();
        (n > 0).then(|| self.slots[hash as usize % n])
    }

    /// `static-rr` (and the fallback of hash algorithms without a key):
    /// the next slot whose server `has_room`, avoiding `avoid` unless it is
    /// the only one (HAProxy's `map_get_server_rr`).
    pub fn next(&mut self, avoid: Option<usize>, has_room: &dyn Fn(usize) -> bool) -> Option<usize> {
        let n = self.slots.len();
        if n == 0 {
            return None;
        }
        if self.rr_idx >= n {
            self.rr_idx = 0;
        }
        let start = self.rr_idx;
        let mut idx = start;
        let mut avoided = None;
        loop {
            let srv = self.slots[idx];
            idx += 1;
            if has_room(srv) {
                if Some(srv) != avoid {
                    self.rr_idx = idx;
                    return Some(srv);
                }
                avoided = Some((srv, idx));
            }
            if idx == n {
                idx = 0;
            }
            if idx == start {
                break;
            }
        }
        let (srv, at) = avoided?;
        self.rr_idx = at;
        Some(srv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn farm(weights: &[u32]) -> Vec<Slotted> {
        weights.iter().enumerate().map(|(server, &weight)| Slotted { server, weight }).collect()
    }

    #[test]
    fn slots_follow_haproxys_order() {
        let mut m = Map::default();
        m.build(&farm(&[1, 1, 1, 1]));
        assert_eq!(m.slots, [0, 1, 2, 3]);
        // Reference orders computed with HAProxy 2.6's `recalc_server_map`.
        m.build(&farm(&[3, 1]));
        assert_eq!(m.slots, [0, 0, 0, 1]);
        m.build(&farm(&[2, 3]));
        assert_eq!(m.slots, [0, 1, 0, 1, 1]);
        m.build(&farm(&[5, 3, 2]));
        assert_eq!(m.slots, [0, 0, 1, 0, 2, 0, 1, 0, 1, 2]);
    }

    #[test]
    fn round_robin_skips_full_and_avoided_servers() {
        let mut m = Map::default();
        m.build(&farm(&[1, 1, 1]));
        let all = |_: usize| true;
        let picks: Vec<_> = (0..4).map(|_| m.next(None, &all)).collect();
        assert_eq!(picks, [Some(0), Some(1), Some(2), Some(0)]);
        assert_eq!(m.next(Some(1), &all), Some(2), "1 avoided");
        assert_eq!(m.next(None, &|s| s == 1), Some(1), "only 1 has room");
        assert_eq!(m.next(Some(1), &|s| s == 1), Some(1), "the avoided one when alone");
        assert_eq!(m.next(None, &|_| false), None);
        assert_eq!(m.by_hash(4_103_199_409), Some(1), "/url1 over 3 slots");
    }
}
