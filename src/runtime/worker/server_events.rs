//! What the worker does when a health check moves a server UP or DOWN,
//! besides the state change itself: HAProxy's `on-marked-down
//! shutdown-sessions` (the server's streams are killed, logged `D`) and
//! `on-marked-up shutdown-backup-sessions` (an active server back UP
//! kills the streams of the backend's backup servers, logged `U`).

use super::Worker;
use crate::cfg::{MarkedDown, MarkedUp};
use crate::core::slab::Key;
use crate::l6_stream::term::TermCause;
use crate::runtime::checks::ServerChange;
use crate::runtime::shared::Mail;

impl Worker {
    /// Does what the other threads posted for this one's connections.
    pub(super) fn read_mail(&mut self) {
        for mail in self.threads.take_mail(self.thread) {
            match mail {
                Mail::ServerChanged(change) => self.server_changed(change),
                Mail::CloseIdle(be, srv) => self.env.idle.close_server((be, srv)),
            }
        }
    }

    /// Applies the server options that react to `change`.
    pub(super) fn server_changed(&mut self, change: ServerChange) {
        let cfg = self.env.cfg.clone();
        let Some(proxy) = cfg.proxies.get(change.backend) else { return };
        let Some(srv) = proxy.servers.get(change.server) else { return };
        if !change.up && srv.on_marked_down == MarkedDown::ShutdownSessions {
            self.shutdown_streams(change.backend, &|s| s == change.server, TermCause::Down);
        }
        let weighted = self
            .shared
            .backends
            .lock()
            .get(change.backend)
            .is_some_and(|b| b.servers[change.server].weight > 0);
        if change.up && !srv.backup && weighted && srv.on_marked_up == MarkedUp::ShutdownBackupSessions {
            let backups: Vec<usize> =
                proxy.servers.iter().enumerate().filter(|(_, s)| s.backup).map(|(i, _)| i).collect();
            self.shutdown_streams(change.backend, &|s| backups.contains(&s), TermCause::Up);
        }
    }

    /// Shuts down, on every session of this thread, the streams on a
    /// server of backend `be` for which `which(server index)` holds (a
    /// 502 for those still waiting for their response head, as HAProxy's
    /// `stream_shutdown`), logged with `cause`; a session's other streams
    /// go on.
    fn shutdown_streams(&mut self, be: usize, which: &dyn Fn(usize) -> bool, cause: TermCause) {
        let keys: Vec<Key> = self
            .sessions
            .keys()
            .into_iter()
            .filter(|k| {
                self.sessions.get(*k).is_some_and(|s| {
                    s.streams().any(|st| st.backend() == Some(be) && st.server().is_some_and(which))
                })
            })
            .collect();
        for key in keys {
            let Some(session) = self.sessions.get_mut(key) else { continue };
            let status = session.shut_down_server_streams(
                be,
                which,
                cause,
                &mut self.env.ctx(self.poll.registry(), &self.shared),
            );
            self.after_session(key, status);
        }
    }
}
