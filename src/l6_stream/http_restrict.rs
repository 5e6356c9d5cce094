//! `option http-restrict-req-hdr-names delete|reject`, applied after each
//! proxy's `http-request` rules (HAProxy: per proxy, after its rules):
//! the names are judged by `l7_http::hdr_names`.

use super::stream::{Stream, StreamCtx};
use super::term::{TermCause, TermPhase};
use crate::cfg::knobs::RestrictHdrNames;
use crate::l7_http::errors::BuiltinStatus;
use crate::l7_http::hdr_names::present_restricted;
use crate::l7_http::rewrite::HeaderEdit;

impl Stream {
    /// Applies `proxy`'s policy to the request's header names. True when
    /// the request was refused (a 403, counted as a denied request).
    pub(super) fn restrict_header_names(&mut self, proxy: usize, ctx: &StreamCtx<'_>) -> bool {
        let mode = ctx.cfg.proxies[proxy].knobs.http.restrict_hdr_names;
        if mode == RestrictHdrNames::Preserve {
            return false;
        }
        let Some(h) = self.http.as_mut() else { return false };
        let t = &mut h.txn;
        let bad = present_restricted(t.req_bytes(), &t.req.headers, &t.req_edits);
        if bad.is_empty() {
            return false;
        }
        if mode == RestrictHdrNames::Delete {
            t.req_edits.extend(bad.into_iter().map(HeaderEdit::Del));
            return false;
        }
        self.count(ctx, crate::stick::Update::HttpErr);
        self.answer(BuiltinStatus::Forbidden, TermCause::ProxyRule, TermPhase::Request);
        true
    }
}
