//! A request refused by a mux itself, before any stream exists (an
//! unparsable HTTP/1 head, a head not received in time, an HTTP/2 request
//! HAProxy answers with a 400): counted and logged as HAProxy does. Used
//! by the HTTP/1 and HTTP/2 muxes only.

use super::StreamSeed;
use crate::l6_stream::term::TermState;
use crate::l6_stream::{StreamCtx, StreamRecord};
use crate::l7_http::errors::BuiltinStatus;
use std::time::Instant;

/// Counts the refused request, begun at `begin`, as a request and an error
/// on the session's trackers (no stream exists to carry its own, as in
/// HAProxy) and logs it unless `null` (no byte of it came) under
/// `option dontlognull`. The caller has counted it among its requests.
pub(super) fn log_refused(
    ctx: &mut StreamCtx<'_>,
    seed: &StreamSeed,
    status: BuiltinStatus,
    term: TermState,
    begin: Instant,
    null: bool,
) {
    let id = ctx.next_stream_id();
    let now_ms = ctx.now_ms;
    ctx.inherited.each(|t| {
        t.inc_http_req(now_ms);
        t.inc_http_err(now_ms);
    });
    let active = ctx.now.saturating_duration_since(begin);
    let date = ctx.wall.checked_sub(active).unwrap_or(ctx.wall);
    let fe = &ctx.cfg.proxies[seed.frontend];
    if null && fe.options.dontlognull {
        return; // counted, not logged
    }
    let mut record = StreamRecord::refused_request(
        id,
        seed.src,
        seed.dst,
        date,
        seed.frontend,
        status.code(),
        term,
        active,
    );
    record.ssl = ctx.client_tls.map(|t| (t.version, t.cipher));
    record.listener = ctx.listener;
    if let Some(rules) = ctx.rules.get(seed.frontend) {
        let (actconn, fe_conn) = {
            let backends = ctx.backends.lock();
            (backends.actconn(), backends.fe_conn(seed.frontend))
        };
        record.render_alone(ctx.cfg, &rules.log, actconn, fe_conn);
    }
    ctx.ended.push(record);
}
