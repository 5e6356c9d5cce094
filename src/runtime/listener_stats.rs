//! `option socket-stats`: one `show stat` line per listener of a frontend,
//! HAProxy 2.6's type 3 lines (`svname` the bind's `name`, else `sock-ID`),
//! after the FRONTEND line and before the servers. The worker counts
//! every listener (counting costs no more than asking whether to); only
//! a frontend with the option shows them.

use super::stats::front_verdicts;
use crate::backend::Counters;
use crate::cfg::{Bind, Config, Mode, Proxy};
use crate::cli::stat::{Kind, StatLine};
use crate::l6_stream::StreamRecord;

/// One listener's numbers. Owned by the process state (`shared::Counts`,
/// per proxy then per bind), changed under its lock by the worker that
/// accepted the connection.
#[derive(Clone, Debug, Default)]
pub struct ListenerCounts {
    pub cur: u32,    // scur: live connections accepted on it
    pub c: Counters, // stot (connections accepted), smax, bin, bout, dreq, dresp, ereq, dcon, dses
}

impl ListenerCounts {
    /// A connection slot taken on it before `accept` (its `bind ... maxconn`).
    pub fn reserve(&mut self) {
        self.cur += 1;
    }

    /// A connection accepted on it, its slot reserved (counted before any
    /// rule, as HAProxy's `cum_conn`).
    pub fn accepted(&mut self) {
        self.c.stot += 1;
        self.c.smax = self.c.smax.max(self.cur);
    }

    /// A connection accepted on it is gone.
    pub fn closed(&mut self) {
        self.cur = self.cur.saturating_sub(1);
    }
}

/// Zeroed counts for every listener of `cfg`, indexed by proxy then bind.
pub fn for_config(cfg: &Config) -> Vec<Vec<ListenerCounts>> {
    cfg.proxies.iter().map(|p| vec![ListenerCounts::default(); p.binds.len()]).collect()
}

/// A listener's numeric id: the bind's `id`, else its 1-based rank among
/// the frontend's listeners (`fe/1` in connection error logs, `sid` here).
pub fn luid(bind: &Bind, rank: usize) -> u32 {
    bind.opts.id.unwrap_or(rank as u32 + 1)
}

/// Counts an ended stream on the listener that accepted its connection:
/// bytes, denied requests and responses, invalid requests.
pub fn count_stream(li: &mut Counters, r: &StreamRecord) {
    let (refused, denied_req, denied_resp) = front_verdicts(r);
    li.bytes_in += r.bytes_in;
    li.bytes_out += r.bytes_out;
    li.failed_req += u64::from(refused);
    li.denied_req += u64::from(denied_req);
    li.denied_resp += u64::from(denied_resp);
}

/// The listener lines of frontend `p` (`iid`), in bind order, when it has
/// `option socket-stats`.
pub fn lines(p: &Proxy, iid: u32, counts: &[ListenerCounts], out: &mut Vec<StatLine>) {
    if !p.knobs.socket_stats {
        return;
    }
    for (rank, (bind, n)) in p.binds.iter().zip(counts).enumerate() {
        let luid = luid(bind, rank);
        let name = bind.opts.name.clone().unwrap_or_else(|| format!("sock-{luid}"));
        let mut l = StatLine::new(Kind::Socket, &p.name, &name, iid, luid, p.mode == Mode::Http);
        let c = &n.c;
        l.set("scur", n.cur);
        l.set("smax", c.smax);
        l.set("slim", bind.opts.maxconn.unwrap_or(0));
        l.set("stot", c.stot);
        l.set("bin", c.bytes_in);
        l.set("bout", c.bytes_out);
        l.set("dreq", c.denied_req);
        l.set("dresp", c.denied_resp);
        l.set("ereq", c.failed_req);
        l.set("dcon", c.denied_conns);
        l.set("dses", c.denied_sess);
        let full = bind.opts.maxconn.is_some_and(|m| n.cur >= m);
        l.set("status", if full { "FULL" } else { "OPEN" });
        let addr = match (&bind.unix, bind.addr) {
            (Some(_), _) => "unix".to_string(),
            (None, a) => a.to_string(), // `127.0.0.1:80`, `[::1]:80`, as HAProxy prints them
        };
        l.set("addr", addr);
        out.push(l);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_connections() {
        let mut n = ListenerCounts::default();
        for _ in 0..2 {
            n.reserve();
            n.accepted();
        }
        n.closed();
        n.reserve();
        n.accepted();
        assert_eq!((n.cur, n.c.stot, n.c.smax), (2, 3, 2));
    }
}
