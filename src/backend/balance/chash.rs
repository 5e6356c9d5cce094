//! Consistent hashing (`hash-type consistent`, and `balance random`):
//! HAProxy's `lb_chash` ring. A server of effective weight W owns W points
//! at `full_hash(id * 4096 + j)`, `j < W`, so a server keeps its points
//! when others come and go, and the ring is the same as HAProxy's for the
//! same server ids and weights. A hash goes to the nearest point.

use super::hash::full_hash;

/// One server of the farm as the ring sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pointed {
    pub server: usize, // index in the backend
    pub id: u32,       // the server's id: where its points are
    pub weight: u32,   // effective weight: how many points (the weight times 16)
}

/// The ring and the position of its round-robin walk. Owned by a `Picker`.
#[derive(Debug, Default)]
pub struct Ring {
    points: Vec<(u32, usize)>, // (position, server index), sorted by position
    last: Option<usize>,       // the point the round-robin walk stopped at
}

/// HAProxy's effective weight range per configured weight unit.
const WEIGHT_RANGE: u32 = 256 * 16;

impl Ring {
    /// Rebuilds the ring for `farm`.
    pub fn build(&mut self, farm: &[Pointed]) {
        self.points.clear();
        for m in farm {
            for j in 0..m.weight {
                self.points.push((full_hash(m.id.wrapping_mul(WEIGHT_RANGE).wrapping_add(j)), m.server));
            }
        }
        // Stable: points at the same position keep the farm's order.
        self.points.sort_by_key(|p| p.0);
        self.last = None;
    }

    /// The server nearest to `hash` (HAProxy's `chash_get_server_hash`):
    /// the point at or after it, or the one before when that is at least
    /// as close; then, while that server is `avoid` or not `eligible`
    /// (`hash-balance-factor`), the next points in turn.
    pub fn by_hash(
        &self,
        hash: u32,
        avoid: Option<usize>,
        eligible: &dyn Fn(usize) -> bool,
    ) -> Option<usize> {
        let n = self.points.len();
        if n == 0 {
            return None;
        }
        let next = self.points.partition_point(|p| p.0 < hash) % n;
        let prev = (next + n - 1) % n;
        let dp = hash.wrapping_sub(self.points[prev].0);
        let dn = self.points[next].0.wrapping_sub(hash);
        let mut at = if dp <= dn { prev } else { next };
        let mut laps = 0;
        while Some(self.points[at].1) == avoid || !eligible(self.points[at].1) {
            at += 1;
            if at == n {
                at = 0;
                laps += 1;
                if laps > 1 {
                    break; // every point refused: keep the last one looked at
                }
            }
        }
        Some(self.points[at].1)
    }

    /// The round-robin walk over the points (HAProxy's
    /// `chash_get_next_server`, for hash algorithms without a key): the
    /// server of the next point that `has_room` and is not `avoid`, else
    /// the avoided one.
    pub fn next(&mut self, avoid: Option<usize>, has_room: &dyn Fn(usize) -> bool) -> Option<usize> {
        let n = self.points.len();
        if n == 0 {
            return None;
        }
        let start = self.last.map_or(0, |l| (l + 1) % n);
        let mut avoided = None;
        for k in 0..n {
            let at = (start + k) % n;
            let srv = self.points[at].1;
            if !has_room(srv) {
                continue;
            }
            if Some(srv) != avoid {
                self.last = Some(at);
                return Some(srv);
            }
            avoided.get_or_insert((srv, at));
        }
        let (srv, at) = avoided?;
        self.last = Some(at);
        Some(srv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn farm(weights: &[u32]) -> Vec<Pointed> {
        weights
            .iter()
            .enumerate()
            .map(|(i, &w)| Pointed { server: i, id: i as u32 + 1, weight: w * 16 })
            .collect()
    }

    #[test]
    fn points_stay_when_other_servers_leave() {
        let mut r = Ring::default();
        r.build(&farm(&[1, 1, 1]));
        let before: Vec<_> = (0..2000u32).map(|k| r.by_hash(full_hash(k), None, &|_| true)).collect();
        // Server 2 (id 3) leaves: only its keys move.
        let mut two = farm(&[1, 1, 1]);
        two.pop();
        r.build(&two);
        for (k, b) in before.iter().enumerate() {
            let now = r.by_hash(full_hash(k as u32), None, &|_| true);
            if *b != Some(2) {
                assert_eq!(now, *b, "key {k} moved although its server stayed");
            }
        }
        let shares: Vec<usize> = (0..3).map(|s| before.iter().filter(|b| **b == Some(s)).count()).collect();
        assert!(shares.iter().all(|&c| c > 300), "roughly even: {shares:?}");
    }

    #[test]
    fn avoid_and_eligibility_move_to_the_next_points() {
        let mut r = Ring::default();
        r.build(&farm(&[1, 1]));
        for k in 0..100u32 {
            let h = full_hash(k);
            let first = r.by_hash(h, None, &|_| true).expect("a server");
            let other = r.by_hash(h, Some(first), &|_| true).expect("a server");
            assert_ne!(first, other);
            assert_eq!(r.by_hash(h, None, &|s| s != first), Some(other));
        }
        assert_eq!(r.next(Some(0), &|_| true), Some(1));
        assert_eq!(r.next(None, &|s| s == 0), Some(0));
        assert_eq!(r.next(Some(0), &|s| s == 0), Some(0), "the avoided one when alone");
    }
}
