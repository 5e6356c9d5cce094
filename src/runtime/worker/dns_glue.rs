//! The worker's side of run-time name resolution (`backend::dns`): when
//! the resolutions run, the name servers' socket events, and what an
//! answer changed told to the logs and to the server options that react
//! to a server going away or coming back. The first thread resolves; the
//! addresses it sets are in the process-wide backends (`runtime::shared`),
//! so every thread connects to the new address from its next connection,
//! and the other threads get the server changes by mail.

use super::Worker;
use crate::backend::dns::apply::DnsOutput;
use crate::core::slab::Key;
use crate::runtime::check_report;
use crate::runtime::checks::ServerChange;
use crate::runtime::shared::Mail;

impl Worker {
    /// Runs the resolutions that are due.
    pub(super) fn tick_dns(&mut self) {
        let now = self.env.clock.now();
        if self.dns.next_deadline().is_none_or(|at| at > now) {
            return;
        }
        let now_ms = self.env.clock.ticks_ms();
        let out = self.dns.tick(now, &self.env.cfg, &mut self.shared.backends.lock(), now_ms);
        self.dns_output(out);
    }

    /// A name server's socket is readable.
    pub(super) fn dns_event(&mut self, key: Key) {
        let (now, now_ms) = (self.env.clock.now(), self.env.clock.ticks_ms());
        let out = self.dns.on_readable(key, now, &self.env.cfg, &mut self.shared.backends.lock(), now_ms);
        self.dns_output(out);
    }

    fn dns_output(&mut self, out: DnsOutput) {
        let wall = self.env.clock.wall();
        for l in &out.logs {
            self.logs.event(l.proxy, wall, &l.text, l.level);
            eprintln!("[WARNING]  ({}) : {}", std::process::id(), l.text);
        }
        let mut told = Vec::new();
        for c in out.changes {
            let change = ServerChange { backend: c.backend, server: c.server, up: c.up };
            let down = self.shared.backends.lock().get(c.backend).is_some_and(|b| !b.is_up());
            if !c.up && down && !told.contains(&c.backend) {
                told.push(c.backend);
                let l = check_report::no_server(&self.env.cfg.proxies[c.backend], c.backend);
                self.logs.event(l.proxy, wall, &l.text, l.level);
                eprintln!("[ALERT]    ({}) : {}", std::process::id(), l.stderr);
            }
            self.server_changed(change);
            self.threads.broadcast(self.thread, Mail::ServerChanged(change));
        }
        // A server back with an address may take queued streams.
        self.serve_queues();
    }
}
