//! Handing freed server slots to waiting streams: first the streams a
//! hash pinned to a server (that server's own queue), then the backend's
//! queue, oldest first in each (HAProxy's `process_srv_queue` takes from
//! both; the pinned ones can use only that server).
//!
//! The queues are process-wide: a worker hands slots only to its own
//! streams. When the front waiter is another thread's, that thread is
//! woken to serve it, so the order stays first in, first out across
//! threads; one grant is out at a time per queue.

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
        // Most turns: no queue holds an entry, and no lock is taken.
        if !crate::backend::queue::any_entries() {
            return;
        }
        let now_ms = self.env.clock.ticks_ms();
        // One look under the lock finds the queues holding entries.
        let busy: Vec<(usize, Vec<usize>)> = {
            let p = self.shared.backends.lock();
            (0..self.env.cfg.proxies.len())
                .filter_map(|be| {
                    let state = p.get(be)?;
                    let pinned: Vec<usize> = state
                        .servers
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| !s.queue.is_empty())
                        .map(|(i, _)| i)
                        .collect();
                    (!state.queue.is_empty() || !pinned.is_empty()).then_some((be, pinned))
                })
                .collect()
        };
        for (be, pinned) in busy {
            for srv in pinned {
                self.serve_line(be, Line::Server(srv), now_ms);
            }
            self.serve_line(be, Line::Backend, now_ms);
        }
    }

    fn serve_line(&mut self, be: usize, line: Line, now_ms: u64) {
        let mut budget = match (self.shared.backends.lock().get(be), line) {
            (Some(b), Line::Backend) => b.queue.len(),
            (Some(b), Line::Server(s)) => b.servers[s].queue.len(),
            _ => return,
        };
        while budget > 0 {
            budget -= 1;
            let mut p = self.shared.backends.lock();
            let Some(state) = p.get_mut(be) else { return };
            let room = match line {
                Line::Backend => state.has_free_slot(now_ms),
                Line::Server(s) => {
                    let srv = &state.servers[s];
                    srv.usable() && srv.dyn_maxconn(now_ms).is_none_or(|m| srv.cur_conns < m)
                }
            };
            let queue = match line {
                Line::Backend => &mut state.queue,
                Line::Server(s) => &mut state.servers[s].queue,
            };
            if !room || queue.grant_pending() {
                return;
            }
            match queue.front_thread() {
                None => return,
                Some(t) if t != self.thread => {
                    drop(p);
                    return self.threads.wake(t);
                }
                Some(_) => {}
            }
            let Some(waiter) = queue.grant_next() else { return };
            drop(p);
            let (key, _) = Key::from_token(Token(waiter.token));
            self.drive_session(key, None);
            let mut p = self.shared.backends.lock();
            if let Some(state) = p.get_mut(be) {
                // Unclaimed: that stream no longer waits.
                match line {
                    Line::Backend => state.queue.drop_grant(),
                    Line::Server(s) => state.servers[s].queue.drop_grant(),
                }
            }
        }
    }
}
