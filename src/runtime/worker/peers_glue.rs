//! The worker's side of the peers sections (`crate::peers`): binding at
//! start, and one turn of their work at the end of every loop turn (local
//! updates pushed, timers, the hand-over at soft stop).

use super::{StartError, Worker};
use crate::cfg::Config;
use crate::peers::net::Peers;
use crate::stick::Registry;
use std::time::Duration;

/// The peers sections of `cfg`, their listeners bound.
pub(super) fn start(cfg: &Config, tables: &Registry, reg: &mio::Registry) -> Result<Peers, StartError> {
    let mut peers = Peers::new(cfg, tables, false);
    peers.bind(reg).map_err(|(name, addr, err)| StartError::Bind {
        proxy: format!("peers {name}"),
        addr: addr.to_string(),
        err,
    })?;
    Ok(peers)
}

impl Worker {
    /// This process replaces older ones (`-sf`/`-st`): the peers wait for
    /// their lesson before asking remote peers.
    pub fn replacing_old_process(&mut self) {
        self.peers.set_replacing();
    }

    /// Soft stop: every session is run once, so those idle between two
    /// requests close now (the HTTP/1 mux sees the stop) instead of waiting
    /// for their client or a timeout.
    pub(super) fn close_idle_sessions(&mut self) {
        for key in self.sessions.keys() {
            self.drive_read_ahead(key.token(0)); // only the key matters: a plain pass
        }
    }

    /// The listening sockets a new process takes with `-x` (`_getsocks`):
    /// the frontends' of every thread (thread order, so that the new
    /// process's threads take one each per address) and the peers'.
    pub(super) fn listener_fds(&self) -> Vec<i32> {
        let mut fds = self.threads.listener_fds();
        fds.extend(self.peers.listener_fds());
        fds
    }

    /// One turn of the peers' work; remembers when they want the next.
    pub(super) fn turn_peers(&mut self) {
        let now_ms = self.env.clock.ticks_ms();
        let next = self.peers.turn(self.poll.registry(), now_ms);
        self.peers_next =
            next.map(|at| self.env.clock.now() + Duration::from_millis(at.saturating_sub(now_ms)));
    }
}
