//! Answers from the configured error pages (`errorfile`, `errorfiles`,
//! `http-error`): the page replacing a built-in answer, the page a
//! `return ... default-errorfiles|errorfiles NAME` names, and the pages
//! with a format (`http-error ... hdr|lf-string|lf-file`), rendered with
//! the stream's samples before the answer leaves; the replies of `deny`,
//! `tarpit` and `return` rules (`l7_http::reply::Reply`).

use super::super::http_rules::status_of;
use super::super::last_rule::RuleRef;
use super::super::stream::{Stream, StreamCtx};
use super::super::term::{TermCause, TermPhase};
use crate::cfg::errorpages::page_from_body;
use crate::core::buffer::Buffer;
use crate::l7_http::actions::ExtAction;
use crate::l7_http::custom_errors::Page;
use crate::l7_http::errors::BuiltinStatus;
use crate::l7_http::reply::{Answer, PageRef};
use crate::l7_http::rules::{HttpAction, HttpRule};

impl Stream {
    /// Replaces the response with a configured page.
    pub(in crate::l6_stream) fn answer_page(&mut self, page: Page, cause: TermCause, phase: TermPhase) {
        // The page alone decides whether the connection carries on (HAProxy).
        if page.page.closes
            && let Some(h) = self.http.as_mut()
        {
            h.txn.client_close = true;
        }
        if self.try_answer_with(&page.page.bytes, page.page.code, cause, phase)
            && let Some(h) = self.http.as_mut()
        {
            h.dyn_answer = page.dynamic;
        }
    }

    /// `return ... default-errorfiles|errorfiles NAME`: the section's page
    /// for the status (an empty answer if it has none), or the proxies'
    /// page, else HAProxy's built-in one.
    pub(in crate::l6_stream) fn answer_page_ref(
        &mut self,
        r: &PageRef,
        cause: TermCause,
        phase: TermPhase,
        ctx: &StreamCtx<'_>,
    ) {
        let page = match &r.section {
            // A section without a page for the status: an empty answer (HAProxy 2.6).
            Some(name) => ctx.cfg.http_errors.iter().find(|s| &s.name == name).map(|s| {
                let page = s.pages.iter().find(|p| p.code == r.code).cloned();
                Page { page: page.unwrap_or_else(|| page_from_body(r.code, None, b"")), dynamic: None }
            }),
            None => crate::l7_http::custom_errors::find(self.backend, self.frontend, r.code),
        };
        match page {
            Some(p) => self.answer_page(p, cause, phase),
            None => self.answer_builtin(r.builtin, cause, phase),
        }
    }

    /// Sends the answer a `deny`, `tarpit` or `return` reply made.
    pub(in crate::l6_stream) fn answer_reply(
        &mut self,
        a: Answer,
        cause: TermCause,
        phase: TermPhase,
        ctx: &StreamCtx<'_>,
    ) {
        match a {
            Answer::Bytes(b) => self.answer_with(&b, status_of(&b), cause, phase),
            Answer::Page(p) => self.answer_page_ref(&p, cause, phase, ctx),
        }
    }

    /// The tarpit of `rule` (an `http-request tarpit`) ended: its reply
    /// is made and sent now.
    pub(in crate::l6_stream) fn end_tarpit(&mut self, rule: RuleRef, ctx: &StreamCtx<'_>) {
        let reply = ctx.rules.get(rule.proxy as usize).and_then(|r| r.http_request.get(rule.index as usize));
        let Some(HttpRule { action: HttpAction::Ext(ExtAction::Tarpit(reply)), .. }) = reply else {
            return self.answer(BuiltinStatus::InternalError, TermCause::ProxyRule, TermPhase::Tarpit);
        };
        let a = reply.answer(&self.sample(ctx, false, rule.proxy as usize));
        self.answer_reply(a, TermCause::ProxyRule, TermPhase::Tarpit, ctx);
    }

    /// A page with a format, waiting in `res_out` as its literal parts, is
    /// rendered now for this stream (before any of it is sent).
    pub(in crate::l6_stream) fn render_dyn_answer(&mut self, ctx: &StreamCtx<'_>) {
        let Some(h) = self.http.as_mut() else { return };
        let Some(reply) = h.dyn_answer.take() else { return };
        if h.response_started {
            return;
        }
        let bytes = reply.render(&self.sample(ctx, true, self.backend.unwrap_or(self.frontend)));
        let Some(h) = self.http.as_mut() else { return };
        let mut out = Buffer::take();
        if out.push(&bytes) < bytes.len() {
            h.txn.client_close = true; // larger than a buffer: truncated, so close after it
        }
        h.res_out = Some(out);
    }
}
