//! How an ended stream counts in `show stat`: the verdicts its frontend
//! and listener count, and its backend's and server's counters. The
//! stream counts the latter itself when it ends, in the one hold of the
//! backends' lock that gives its server slot back
//! (`Stream::record_end`); the worker counts the frontend and listener
//! lines (`runtime::stats::count_stream`), and the backend ones of a
//! record no stream counted.

use super::log::StreamRecord;
use super::term::{TermCause, TermPhase};
use crate::backend::{Backends, Counters};

/// How an ended stream counts on its frontend and its listener: refused
/// as invalid (`ereq`), denied request (`dreq`), denied response (`dresp`).
pub fn front_verdicts(r: &StreamRecord) -> (bool, bool, bool) {
    let (cause, phase) = (r.term.cause, r.term.phase);
    // A body waited for in vain (`cR` 408, backend chosen or not) is a failed request too, as in HAProxy.
    let body_late = cause == TermCause::ClientTimeout && phase == TermPhase::Request && r.status == Some(408);
    let refused = (r.backend.is_none() && phase == TermPhase::Request && matches!(r.status, Some(400 | 408)))
        || body_late;
    let denied_req = cause == TermCause::ProxyRule && phase == TermPhase::Request && !refused;
    let denied_resp = cause == TermCause::ProxyRule && phase == TermPhase::Headers && r.status != Some(502);
    (refused, denied_req, denied_resp)
}

/// Counts ended stream `r` on its backend's and its server's lines
/// (nothing when it had no backend). `http`: its frontend is in `mode http`.
pub fn count_on_backend(backends: &mut Backends, r: &StreamRecord, http: bool) {
    let Some(be) = r.backend.and_then(|b| backends.get_mut(b)) else { return };
    let (cause, phase) = (r.term.cause, r.term.phase);
    let (_, _, denied_resp) = front_verdicts(r);
    let server_failed = matches!(cause, TermCause::ServerAbort | TermCause::ServerTimeout);
    // A queue timeout counts on the backend only (no server was assigned).
    let econ = server_failed
        && ((phase == TermPhase::Connect && r.server.is_some())
            || (phase == TermPhase::Queue && r.server.is_none()));
    let eresp = (server_failed && phase == TermPhase::Headers)
        || (cause == TermCause::ProxyRule && phase == TermPhase::Headers && r.status == Some(502));
    let cli_abrt = matches!(cause, TermCause::ClientAbort | TermCause::ClientTimeout)
        && matches!(phase, TermPhase::Headers | TermPhase::Data | TermPhase::Last);
    let srv_abrt = server_failed && matches!(phase, TermPhase::Data | TermPhase::Last);
    let times = |c: &mut Counters| {
        let ms = |d: std::time::Duration| d.as_millis() as u64;
        let response = r.response_time.map(ms);
        let queue = r.queue_time.map_or(0, ms);
        c.count_times(queue, r.connect_time.map(ms), response, ms(r.total_time));
    };
    let apply = |c: &mut Counters, status: bool| {
        c.bytes_in += r.bytes_in;
        c.bytes_out += r.bytes_out;
        c.failed_conns += u64::from(econ);
        c.failed_resp += u64::from(eresp);
        c.cli_aborts += u64::from(cli_abrt);
        c.srv_aborts += u64::from(srv_abrt);
        c.denied_resp += u64::from(denied_resp);
        if http {
            c.req_tot += 1;
            if let (true, Some(s)) = (status, r.status) {
                c.count_status(s);
            }
        }
        times(c);
    };
    apply(&mut be.stats, true);
    // A server's `hrsp_*` count the responses it sent (a head arrived: Tr
    // is set), as HAProxy's response analyser counts them; the proxy's own
    // 502/504 after a reset, a timeout or an invalid head count on the
    // backend line only.
    if let Some(srv) = r.server.and_then(|s| be.servers.get_mut(s)) {
        apply(&mut srv.stats, r.connect_time.is_some() && r.response_time.is_some());
    }
}
