//! The worker's side of `load-server-state-from-file`: the servers'
//! saved states applied once, into the process-wide backends, before the
//! first event is served and before the other threads start
//! (`runtime::server_state`); the first thread's checks continue from them.

use super::Worker;

impl Worker {
    /// Applies the configured server-state files (first thread only: it
    /// owns the health checks).
    pub fn load_server_state(&mut self) {
        let now_ms = self.env.clock.ticks_ms();
        let cfg = self.env.cfg.clone();
        let updates = {
            let mut backends = self.shared.backends.lock();
            super::super::server_state::apply_all(&cfg, &mut backends, now_ms)
        };
        for (bi, si, health, port) in updates {
            self.checks.take_over(bi, si, health, port);
        }
    }
}
