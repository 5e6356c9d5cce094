//! Handing freed server slots to waiting streams: first the streams a
//! hash pinned to a server (that server's own queue), then the backend's
//! queue, oldest first in each (HAProxy's `process_srv_queue` takes from
//! both; the pinned ones can use only that server).

use super::Worker;
use crate::core::slab::Key;
use mio::Token;

/// Which queue of a backend is served.
#[derive(Clone, Copy)]
enum Line {
    Server(usize),
    Backend,
}

impl Worker {
    /// Each entry is looked at once per round: a waiter whose stream left
    /// is skipped; one that finds no server after all (a race with a
    /// server going down) queues again at the back.
    pub(super) fn serve_queues(&mut self) {
        let now_ms = self.env.clock.ticks_ms();
        for be in 0..self.env.cfg.proxies.len() {
            let Some(state) = self.env.backends.get(be) else { continue };
            let pinned: Vec<usize> = state
                .servers
                .iter()
                .enumerate()
                .filter(|(_, s)| !s.queue.is_empty())
                .map(|(i, _)| i)
                .collect();
            for srv in pinned {
                self.serve_line(be, Line::Server(srv), now_ms);
            }
            self.serve_line(be, Line::Backend, now_ms);
        }
    }

    fn serve_line(&mut self, be: usize, line: Line, now_ms: u64) {
        let mut budget = match (self.env.backends.get(be), line) {
            (Some(b), Line::Backend) => b.queue.len(),
            (Some(b), Line::Server(s)) => b.servers[s].queue.len(),
            _ => return,
        };
        while budget > 0 {
            budget -= 1;
            let Some(state) = self.env.backends.get_mut(be) else { return };
            let waiter = match line {
                Line::Backend if state.has_free_slot(now_ms) => state.queue.grant_next(),
                Line::Server(s) => {
                    let srv = &mut state.servers[s];
                    let room = srv.usable() && srv.dyn_maxconn(now_ms).is_none_or(|m| srv.cur_conns < m);
                    if room { srv.queue.grant_next() } else { None }
                }
                Line::Backend => None,
            };
            let Some(waiter) = waiter else { return };
            let (key, _) = Key::from_token(Token(waiter.token));
            self.drive_session(key, None);
            if let Some(state) = self.env.backends.get_mut(be) {
                // Unclaimed: that stream no longer waits.
                match line {
                    Line::Backend => state.queue.drop_grant(),
                    Line::Server(s) => state.servers[s].queue.drop_grant(),
                }
            }
        }
    }
}
