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
        addr,
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

    /// One turn of the peers' work; remembers when they want the next.
    pub(super) fn turn_peers(&mut self) {
        let now_ms = self.env.clock.ticks_ms();
        let next = self.peers.turn(self.poll.registry(), now_ms);
        self.peers_next =
            next.map(|at| self.env.clock.now() + Duration::from_millis(at.saturating_sub(now_ms)));
    }
}
