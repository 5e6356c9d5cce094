//! Accepting connections and ending sessions: the limits (global and
//! frontend `maxconn`, the `-m` buffer cap, the frontend's `rate-limit
//! sessions`) are process-wide, so a connection's slot is reserved under
//! the process lock before `accept` and given back if nothing was accepted.

use super::{CONN_BUFFERS, TIMER_LISTENER, TIMER_REFUSED, Worker};
use crate::backend::stats::RATE_PERIOD;
use crate::core::slab::Key;
use crate::core::timer::TimerId;
use crate::l4_conn::Conn;
use crate::l5_session::Session;
use crate::runtime::shared::lock;
use log::{debug, warn};

impl Worker {
    /// Accepts on listener `index` until it would block or a limit is hit.
    pub(super) fn accept_from(&mut self, index: usize) {
        loop {
            let Some(Some(slot)) = self.listeners.get_mut(index) else {
                return;
            };
            let fe = slot.listener.proxy;
            // A listener bound to one address tells where clients connected
            // without a `getsockname` per connection (a unix socket's: 0.0.0.0:0).
            let bound = slot.listener.addr;
            let local =
                (slot.listener.unix || (!bound.ip().is_unspecified() && bound.port() != 0)).then_some(bound);
            let rate_limit = self.env.cfg.proxies[fe].knobs.rate_limit_sessions;
            let now_ms = self.env.clock.ticks_ms();
            let tls = slot.listener.tls.clone();
            let bind = slot.listener.bind;
            // `bind ... maxconn`: this listener's live connections at most.
            let bind_max = self.env.cfg.proxies[fe].binds[bind].opts.maxconn.filter(|m| *m > 0);
            let (reserved, rate_wait) = {
                let mut p = lock(&self.shared);
                let c = &p.counts;
                // As HAProxy: at a rate limit (the process's connections,
                // sessions or TLS connections, the frontend's sessions) the
                // connections wait in the listen queue until every rate leaves room.
                let delay = |ctr: &crate::stick::rate::FreqCtr, lim: u32| match lim {
                    0 => 0,
                    lim => ctr.next_event_delay(now_ms, RATE_PERIOD, lim, 0),
                };
                let g = p.rate_limits;
                let wait = delay(&c.fe_stats[fe].sess_rate, rate_limit)
                    .max(delay(&c.process.conn_rate, g.conn))
                    .max(delay(&c.process.sess_rate, g.sess))
                    .max(if tls.is_some() { delay(&c.ssl_accepts, g.ssl) } else { 0 });
                let li_cur = c.li.get(fe).and_then(|l| l.get(bind)).map_or(0, |l| l.cur);
                let room = wait == 0
                    && c.cur_conns < p.maxconn
                    && c.fe_cur[fe] < c.fe_max[fe]
                    && bind_max.is_none_or(|m| li_cur < m);
                if room {
                    p.counts.cur_conns += 1;
                    p.counts.fe_cur[fe] += 1;
                    if let Some(li) = listener(&mut p.counts, fe, bind) {
                        li.reserve();
                    }
                }
                (room, wait)
            };
            if rate_wait > 0 {
                let at = self.env.clock.now() + std::time::Duration::from_millis(u64::from(rate_wait));
                let id = TimerId { kind: TIMER_LISTENER, key: Key::from_u64(index as u64) };
                self.timers.arm(&mut slot.rate_timer, id, Some(at));
                return;
            }
            if !reserved {
                slot.limited = true;
                self.threads.set_limited(self.thread, true);
                return;
            }
            slot.limited = false;
            match slot.listener.accept() {
                Ok(Some((sock, _))) if !crate::core::buffer::admits(CONN_BUFFERS) => {
                    self.unreserve(fe, bind);
                    self.refuse(fe, sock)
                }
                Ok(Some((sock, src))) => {
                    self.threads.count_accept(self.thread);
                    let mut conn = Conn::accepted(sock, self.env.clock.now());
                    if let Some(bind) = &tls {
                        conn.start_tls_server(bind);
                    }
                    let bind = slot.listener.bind;
                    let opts = &self.env.cfg.proxies[fe].binds[bind].opts;
                    let (proto, accept_proxy) = (opts.proto, opts.accept_proxy);
                    self.start_session(fe, conn, (src, local, accept_proxy), (bind, proto, tls.is_some()))
                }
                Ok(None) => return self.unreserve(fe, bind),
                Err(e) => {
                    // EMFILE/ENFILE and friends: retry when a connection ends.
                    warn!(target: "l4", "accept on {} failed: {e}", slot.listener.addr);
                    slot.limited = true;
                    self.threads.set_limited(self.thread, true);
                    return self.unreserve(fe, bind);
                }
            }
        }
    }

    /// Gives back a connection slot reserved by `accept_from` for a
    /// connection that did not become a session.
    fn unreserve(&mut self, fe: usize, bind: usize) {
        let mut p = lock(&self.shared);
        p.counts.cur_conns -= 1;
        p.counts.fe_cur[fe] -= 1;
        if let Some(li) = listener(&mut p.counts, fe, bind) {
            li.closed();
        }
    }

    /// `-m` cap reached: the connection gets a 503 (HTTP) and is closed.
    fn refuse(&mut self, fe: usize, sock: mio::net::TcpStream) {
        let http = self.env.cfg.proxies[fe].mode == crate::cfg::Mode::Http;
        let now = self.env.clock.now();
        if let Some(key) = self.refusals.refuse(sock, http, self.poll.registry(), now)
            && let Some(r) = self.refusals.get_mut(key)
        {
            self.timers.arm(&mut r.timer, TimerId { kind: TIMER_REFUSED, key }, Some(r.deadline));
        }
    }

    /// Starts the session of an accepted connection whose slot is reserved.
    fn start_session(
        &mut self,
        fe: usize,
        conn: Conn,
        (src, local, accept_proxy): (std::net::SocketAddr, Option<std::net::SocketAddr>, bool),
        (bind, proto, tls): (usize, crate::cfg::BindProto, bool),
    ) {
        let key = self.sessions.vacant_key();
        let now_ms = self.env.clock.ticks_ms();
        use crate::l4_conn::sockopt;
        let mut conn = conn;
        let opts = &self.env.cfg.proxies[fe].knobs.cli_sock;
        sockopt::apply(&conn, sockopt::Side::Client, opts);
        if opts.nolinger {
            conn.set_fin_then_reset();
        }
        let id = {
            let mut p = lock(&self.shared);
            p.counts.next_id += 1;
            p.counts.fe_stats[fe].count_connection(now_ms);
            if let Some(li) = listener(&mut p.counts, fe, bind) {
                li.accepted();
            }
            p.counts.process.count_connection(now_ms);
            if tls {
                p.counts.ssl_accepts.update(now_ms, RATE_PERIOD, 1); // `maxsslrate`
            }
            p.counts.next_id
        };
        // The connection rules run unlocked, side by side with other threads.
        let mut ctx = self.env.ctx(self.poll.registry(), &self.shared);
        match Session::start(id, key, fe, conn, (src, local, accept_proxy), proto, &mut ctx) {
            Ok(mut session) => {
                session.bind = bind as u16;
                // HTTP mode logs its `Connect from` line per request (stream end).
                if self.env.cfg.proxies[fe].mode == crate::cfg::Mode::Tcp {
                    self.logs.connect(&self.env.cfg, fe, src, session.dst, self.env.clock.wall());
                }
                {
                    let mut guard = lock(&self.shared);
                    let c = &mut guard.counts;
                    self.shared.backends.lock().set_fe_conn(fe, c.fe_cur[fe], c.cur_conns);
                    c.cum_conns += 1;
                    c.fe_stats[fe].count_session(now_ms, c.fe_cur[fe]);
                    c.process.count_session(now_ms, c.cur_conns);
                }
                let inserted = self.sessions.insert(Box::new(session));
                debug_assert_eq!(inserted, key);
                // The first stream connects right away.
                self.drive_session(key, None);
            }
            Err(e) => {
                let mut p = lock(&self.shared);
                let refusal = match e {
                    crate::l5_session::StartError::Rejected(r) => Some(r),
                    _ => None,
                };
                release(&mut p.counts, (fe, bind), refusal);
                debug!(target: "l5", "session from {src} failed to start: {e}");
            }
        }
    }

    /// Accepts runtime API connections on stats listener `index`.
    pub(super) fn accept_cli(&mut self, index: usize) {
        let Some(listener) = self.cli_listeners.get(index) else { return };
        let idle = self.env.cfg.global.stats_timeout;
        let keys = self.cli.accept_all(listener, self.poll.registry(), self.env.clock.now(), idle);
        for key in keys {
            // Each runtime API connection counts as a connection and a request (HAProxy's CumConns/CumReq).
            lock(&self.shared).counts.cli_cum += 1;
            self.drive_cli(key);
        }
    }

    pub(super) fn end_session(&mut self, key: Key, cause: crate::l6_stream::term::TermCause) {
        let Some(session) = self.sessions.remove(key) else {
            return;
        };
        let fe = session.frontend;
        if let Some(failure) = session.handshake_failure() {
            let counts = {
                let p = lock(&self.shared);
                (p.counts.cur_conns, p.counts.fe_cur[fe])
            };
            self.logs.handshake_failed(
                &self.env.cfg,
                &session,
                failure,
                &self.env.rules[fe].log,
                counts,
                (self.env.clock.wall(), self.env.clock.now()),
            );
        }
        let (refused, bind) = (session.refused(), usize::from(session.bind));
        session.end(&mut self.env.ctx(self.poll.registry(), &self.shared), cause);
        {
            let mut p = lock(&self.shared);
            release(&mut p.counts, (fe, bind), refused);
            self.shared.backends.lock().set_fe_conn(fe, p.counts.fe_cur[fe], p.counts.cur_conns);
        }
        self.resume_listeners();
        // Another thread may be waiting for this slot.
        self.threads.wake_limited(self.thread);
    }

    /// A connection slot freed: accept again on listeners stopped by a limit
    /// (edge-triggered polling will not report their pending connections).
    pub(super) fn resume_listeners(&mut self) {
        let mut still = false;
        for index in 0..self.listeners.len() {
            if matches!(&self.listeners[index], Some(s) if s.limited) {
                self.accept_from(index);
                still |= matches!(&self.listeners[index], Some(s) if s.limited);
            }
        }
        self.threads.set_limited(self.thread, still);
    }
}

/// The counts of frontend `fe`'s listener `bind` (`option socket-stats`).
fn listener(
    counts: &mut super::super::shared::Counts,
    fe: usize,
    bind: usize,
) -> Option<&mut crate::runtime::listener_stats::ListenerCounts> {
    counts.li.get_mut(fe).and_then(|l| l.get_mut(bind))
}

/// A session of frontend `fe` that came in on listener `bind` is gone:
/// its slots are given back, and what refused it, if a rule did, counted.
fn release(
    counts: &mut super::super::shared::Counts,
    (fe, bind): (usize, usize),
    refused: Option<crate::l5_session::Refusal>,
) {
    if let Some(r) = refused {
        count_refusal(&mut counts.fe_stats[fe], r);
    }
    if let Some(li) = listener(counts, fe, bind) {
        li.closed();
        if let Some(r) = refused {
            count_refusal(&mut li.c, r);
        }
    }
    counts.cur_conns -= 1;
    counts.fe_cur[fe] -= 1;
}

/// Counts a session the `tcp-request connection|session` rules refused,
/// where HAProxy 2.6 does: `silent-drop` as a denied request (`dreq`),
/// `reject` as a denied connection (`dcon`) or session (`dses`).
fn count_refusal(fe: &mut crate::backend::Counters, refusal: crate::l5_session::Refusal) {
    use crate::l5_session::Refusal;
    match refusal {
        Refusal::Connection => fe.denied_conns += 1,
        Refusal::Session => fe.denied_sess += 1,
        Refusal::SilentDrop => fe.denied_req += 1,
    }
}
