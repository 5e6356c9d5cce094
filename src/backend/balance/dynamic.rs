//! The dynamic algorithms: `roundrobin` (smooth weighted round-robin),
//! `leastconn` and `first`. Their weights may change at any time (weight
//! changes, `slowstart`); each pick looks at the farm as it is now.

use super::Member;
use crate::backend::server::ServerState;

/// What the dynamic algorithms keep between picks. Owned by a `Picker`.
#[derive(Debug, Default)]
pub struct State {
    credit: Vec<i64>, // roundrobin: smooth weighted round-robin credit, per server
    moves: Vec<u64>,  // leastconn: when each server last took or released a stream
    clock: u64,       // leastconn: counts those moves
}

impl State {
    /// Smooth weighted round-robin over the members with room: every one
    /// earns its weight in credit, the richest takes the stream and pays
    /// the total, so over a cycle each is chosen `weight` times,
    /// interleaved. `avoid` is taken only when nothing else has room.
    pub fn round_robin(
        &mut self,
        farm: &[Member],
        avoid: Option<usize>,
        room: &dyn Fn(usize) -> bool,
    ) -> Option<usize> {
        let last = farm.iter().map(|m| m.server).max()?;
        if self.credit.len() <= last {
            self.credit.resize(last + 1, 0);
        }
        let ok = |m: &Member, with_avoided: bool| room(m.server) && (with_avoided || Some(m.server) != avoid);
        let with_avoided = !farm.iter().any(|m| ok(m, false));
        let mut total = 0i64;
        let mut best: Option<usize> = None;
        for m in farm.iter().filter(|m| ok(m, with_avoided)) {
            self.credit[m.server] += i64::from(m.weight);
            total += i64::from(m.weight);
            if best.is_none_or(|b| self.credit[m.server] > self.credit[b]) {
                best = Some(m.server);
            }
        }
        let b = best?;
        self.credit[b] -= total;
        Some(b)
    }

    /// A stream was attached to or left server `srv`.
    pub fn moved(&mut self, srv: usize) {
        if self.moves.len() <= srv {
            self.moves.resize(srv + 1, 0);
        }
        self.clock += 1;
        self.moves[srv] = self.clock;
    }

    /// `leastconn` (HAProxy's `fwlc`): the fewest streams (served and
    /// queued) relative to the effective weight; among equals, the one
    /// whose load moved longest ago. A server with `maxconn` qualifies
    /// while its streams and queue stay below `maxconn + maxqueue`, so
    /// with `maxqueue` a full server may be chosen (its queue then takes
    /// the stream).
    pub fn least_conn(
        &self,
        farm: &[Member],
        servers: &[ServerState],
        avoid: Option<usize>,
        now_ms: u64,
    ) -> Option<usize> {
        let key = |m: &Member| {
            let s = &servers[m.server];
            let inflight = u64::from(s.cur_conns) + u64::from(s.queue.waiting);
            let load = if inflight == 0 { 0 } else { (inflight + 1) * 4096 / u64::from(m.weight.max(1)) };
            (load, self.moves.get(m.server).copied().unwrap_or(0))
        };
        let fits = |m: &Member| {
            let s = &servers[m.server];
            match s.dyn_maxconn(now_ms) {
                None => true,
                Some(max) => s.cur_conns + s.queue.waiting < max + s.maxqueue.unwrap_or(0),
            }
        };
        let mut best: Option<(u64, u64, usize)> = None;
        let mut avoided = None;
        for m in farm.iter().filter(|m| fits(m)) {
            if Some(m.server) == avoid {
                avoided = Some(m.server);
                continue;
            }
            let (load, moved) = key(m);
            if best.is_none_or(|(bl, bm, _)| (load, moved) < (bl, bm)) {
                best = Some((load, moved, m.server));
            }
        }
        best.map(|(_, _, s)| s).or(avoided)
    }

    /// `first`: the server with the lowest id that has room; `avoid` only
    /// when nothing else has.
    pub fn first(
        &self,
        farm: &[Member],
        avoid: Option<usize>,
        room: &dyn Fn(usize) -> bool,
    ) -> Option<usize> {
        let mut by_id: Option<&Member> = None;
        let mut avoided = None;
        for m in farm.iter().filter(|m| room(m.server)) {
            if Some(m.server) == avoid {
                avoided = Some(m.server);
            } else if by_id.is_none_or(|b| m.id < b.id) {
                by_id = Some(m);
            }
        }
        by_id.map(|m| m.server).or(avoided)
    }
}
