//! Hands the loaded TLS configurations to what uses them: each `ssl`
//! listener its certificates, each TLS server its client settings.

use super::Worker;
use crate::l4_conn::TlsSet;

impl Worker {
    /// Gives listeners and servers their TLS side (once, before running).
    pub fn use_tls(&mut self, tls: &TlsSet) {
        for slot in self.listeners.iter_mut().flatten() {
            let l = &mut slot.listener;
            l.tls = tls.bind(l.proxy, l.bind);
        }
        // The servers are process-wide: the first thread sets them up.
        let mut backends = self.shared.backends.lock();
        for (pi, p) in self.env.cfg.proxies.iter().enumerate().filter(|_| self.thread == 0) {
            let Some(state) = backends.get_mut(pi) else { continue };
            for (si, srv) in state.servers.iter_mut().enumerate().take(p.servers.len()) {
                srv.tls = tls.server(pi, si);
            }
        }
        drop(backends);
        self.checks.use_tls(tls);
        self.certs = tls.certs.clone();
    }
}
