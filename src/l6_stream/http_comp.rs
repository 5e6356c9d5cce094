//! Compression of a stream's response (`compression ...` in its backend,
//! else its frontend): the algorithm chosen with the request, the head
//! changed when the response qualifies, and the body read from the
//! server, compressed and sent as chunks, never buffered whole.

use super::client::ClientSide;
use super::stream::{Stream, StreamCtx};
use super::term::{TermCause, TermPhase};
use crate::cfg::Compression;
use crate::core::buffer::Buffer;
use crate::l4_conn::IoStep;
use crate::l7_http::compress::{self, Compressor, ResponseFacts};
use crate::l7_http::head::{Framing, Version};
use crate::l7_http::rewrite::HeaderEdit;
use crate::l7_http::txn::MethodKind;
use std::time::Instant;

/// The stream's compression settings: the backend's, else the frontend's.
fn settings<'c>(s: &Stream, ctx: &'c StreamCtx<'_>) -> Option<&'c Compression> {
    let be = s.backend.and_then(|b| ctx.cfg.proxies[b].compression.as_ref());
    be.or(ctx.cfg.proxies[s.frontend].compression.as_ref()).filter(|c| !c.algos.is_empty())
}

/// HAProxy's exception for old browsers announcing `Mozilla/4` (unless
/// MSIE 6 SP2 or later): never compressed for.
fn old_browser(ua: &[u8]) -> bool {
    ua.len() >= 9
        && ua.starts_with(b"Mozilla/4")
        && (ua.len() < 31
            || &ua[25..30] != b"MSIE "
            || ua[30] < b'6'
            || (ua[30] == b'6' && (ua.len() < 54 || &ua[51..54] != b"SV1")))
}

impl Stream {
    /// Chooses the algorithm from the request (once its backend is known)
    /// and, with `compression offload`, keeps `Accept-Encoding` from the server.
    pub(super) fn select_compression(&mut self, ctx: &StreamCtx<'_>) {
        let Some(comp) = settings(self, ctx) else { return };
        let Some(h) = self.http.as_mut() else { return };
        let t = &h.txn;
        let buf = t.req_bytes();
        let header = |name: &'static str| crate::l7_http::head::find(buf, &t.req.headers, name);
        if header("user-agent").next().is_some_and(old_browser) {
            return;
        }
        let values = header("accept-encoding").flat_map(|v| v.split(|&c| c == b',').map(<[u8]>::trim_ascii));
        h.comp_algo = compress::choose(comp, values);
        if h.comp_algo.is_some() && comp.offload {
            h.txn.req_edits.push(HeaderEdit::Del("accept-encoding".into()));
        }
    }

    /// A response head arrived (its rules have run): compress it if it
    /// qualifies, changing the head edits accordingly.
    pub(super) fn start_compression(&mut self, ctx: &StreamCtx<'_>) {
        let Some(comp) = settings(self, ctx) else { return };
        let Some(h) = self.http.as_mut() else { return };
        let Some(algo) = h.comp_algo else { return };
        let t = &mut h.txn;
        let (Some(res), Some(buf)) = (t.res.as_ref(), t.res_buf.as_ref()) else { return };
        let src = buf.data();
        let headers: Vec<(&[u8], &[u8])> =
            res.headers.iter().map(|x| (x.name.of(src), x.value.of(src))).collect();
        let facts = ResponseFacts {
            http11: res.version == Version::Http11 && t.req.version == Version::Http11,
            head_request: t.method == MethodKind::Head,
            status: t.status_override.as_ref().map_or(res.status, |(c, _)| *c),
            framing: res.framing,
            headers: &headers,
        };
        if !compress::response_ok(comp, &facts) {
            return;
        }
        let etag = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(b"etag")).map(|(_, v)| *v);
        compress::head_edits(algo, res.framing == Framing::Chunked, etag, &mut t.res_edits);
        h.comp = Some(Box::new(Compressor::new(algo, ctx.cfg.global.tune.comp_maxlevel)));
    }

    /// The body of a compressed response, server → client: sends what is
    /// framed, frames what is compressed, compresses what the server sent,
    /// reads more. Returns whether anything moved.
    pub(super) fn compressed_body<C: ClientSide>(&mut self, cli: &mut C, now: Instant) -> bool {
        let (Some(h), Some(srv)) = (self.http.as_mut(), self.srv.as_mut()) else { return false };
        let mut progress = false;
        loop {
            if h.res_out.is_some() {
                match cli.send_from(&mut h.res_out, now) {
                    IoStep::Moved(n) => {
                        self.bytes_out += n as u64;
                        progress = true;
                    }
                    IoStep::Failed => {
                        self.abort(TermCause::ClientAbort, TermPhase::Data);
                        return true;
                    }
                    _ => {}
                }
                if h.res_out.is_some() {
                    return progress; // the client is slow: read no more from the server
                }
            }
            let Some(c) = h.comp.as_mut() else { return progress };
            let mut out = Buffer::take();
            while c.write_chunk(&mut out) {}
            if !out.is_empty() {
                h.res_out = Some(out);
                continue;
            }
            if c.done() {
                return progress;
            }
            if h.txn.res_body.is_done() {
                c.finish();
                continue;
            }
            if let Some(rx) = srv.rx_slot().as_mut() {
                let adv = h.txn.res_body.advance_payload(rx.data(), &mut |p| c.push(p));
                match adv {
                    Ok(a) => {
                        rx.consume(a.body_bytes);
                        if rx.is_empty() {
                            *srv.rx_slot() = None;
                        }
                        if !h.txn.res_body.is_done() && srv.rx().is_none() {
                            c.flush(); // the server's buffer is drained: let the client decode it
                        }
                        progress |= a.body_bytes > 0;
                        continue;
                    }
                    Err(e) => {
                        log::debug!(target: "l6", "s#{}: bad response body: {e}", self.id);
                        h.txn.client_close = true;
                        self.abort(TermCause::ServerAbort, TermPhase::Data);
                        return true;
                    }
                }
            }
            match srv.fill(now) {
                IoStep::Moved(_) => progress = true,
                IoStep::Blocked => return progress,
                IoStep::Eof | IoStep::Failed => {
                    // The body did not end (a compressed body has a known end).
                    h.txn.client_close = true;
                    self.abort(TermCause::ServerAbort, TermPhase::Data);
                    return true;
                }
            }
        }
    }
}
