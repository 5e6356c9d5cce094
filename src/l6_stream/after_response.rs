//! `http-after-response` rules: they run on every response the client
//! gets — after the `http-response` rules on a server's response, and on
//! the answers strata builds itself (built-in errors, `return`, redirects,
//! `deny`, error files, internal services' replies such as the stats
//! page) — the backend's rules first, then the frontend's,
//! as HAProxy 2.6 does. Their header edits and `set-status` join the
//! transaction's response edits; on a built answer they are applied by
//! writing the answer's head again before its first byte leaves.

use super::http_rules::{Effect, Stop};
use super::stream::{Stream, StreamCtx};
use crate::core::buffer::Buffer;
use crate::l7_http::rewrite::{ConnHeader, NextHead};
use crate::l7_http::rules::HttpAction;

impl Stream {
    /// The proxies whose `http-after-response` rules apply, in order.
    fn after_order(&self) -> [Option<usize>; 2] {
        let mut order = [self.backend, Some(self.frontend)];
        if order[0] == order[1] {
            order[1] = None;
        }
        order
    }

    /// Runs the rules against the response the transaction holds (`res`,
    /// `res_buf`): header edits go to `res_edits`, `set-status` to
    /// `status_override`. `allow` ends one proxy's rules.
    pub(super) fn run_after_response_rules(&mut self, ctx: &StreamCtx<'_>) {
        for proxy in self.after_order().into_iter().flatten() {
            for (i, rule) in ctx.rules[proxy].http_after_response.iter().enumerate() {
                let effect = {
                    let sample = self.sample(ctx, true, proxy);
                    if !rule.cond.as_ref().is_none_or(|c| c.eval(&sample)) {
                        continue;
                    }
                    match &rule.action {
                        HttpAction::Edit(e) => Effect::Edit(e.clone()),
                        HttpAction::DynHeader { name, value, set } => {
                            let v = value.render(&sample);
                            let name = name.clone();
                            Effect::Edit(if *set {
                                crate::l7_http::rewrite::HeaderEdit::Set(name, v)
                            } else {
                                crate::l7_http::rewrite::HeaderEdit::Add(name, v)
                            })
                        }
                        HttpAction::Ext(a) => super::http_actions::response_effect(a, &sample),
                        _ => Effect::Nothing,
                    }
                };
                if let Effect::Stop(_) = effect {
                    let at = super::last_rule::RuleRef::new(
                        super::last_rule::RuleSet::HttpAfterResponse,
                        proxy,
                        i,
                    );
                    self.extra.last_rule = Some(at);
                }
                let Some(h) = self.http.as_mut() else { return };
                match effect {
                    Effect::Stop(Stop::Allow) => break,
                    Effect::Edit(e) => h.txn.res_edits.push(e),
                    Effect::Status(code, reason) => h.txn.status_override = Some((code, reason)),
                    Effect::LogLevel(l) => self.extra.log_level = Some(l),
                    _ => {}
                }
            }
        }
    }

    /// Applies the rules to the answer strata built (waiting in `res_out`),
    /// once per transaction and only before any of it was sent. The rules
    /// see the answer as the response (`status`, `res.hdr`...).
    pub(super) fn after_response_on_answer(&mut self, ctx: &StreamCtx<'_>) {
        self.render_dyn_answer(ctx); // an error page with a format is written first
        let Some(h) = self.http.as_mut() else { return };
        if !h.answered || h.response_started || h.txn.after_rules_done {
            return;
        }
        let Some(out) = h.res_out.take() else { return };
        let out = self.after_rules_on_built(out, ctx);
        if let Some(h) = self.http.as_mut() {
            h.res_out = Some(out);
        }
    }

    /// Applies the rules to an internal service's reply (the stats page,
    /// the Prometheus exporter...) before any of it is sent: `bytes` starts
    /// with the reply's head; the head is written again with the rules'
    /// edits, the body after it stays as it is.
    pub(super) fn after_response_on_service(&mut self, bytes: Vec<u8>, ctx: &StreamCtx<'_>) -> Vec<u8> {
        let Some(h) = self.http.as_ref() else { return bytes };
        if h.txn.after_rules_done || !self.has_after_rules(ctx) {
            return bytes;
        }
        let head_len = match crate::l7_http::parse::parse_response(&bytes, false, false) {
            Ok(Some(head)) => head.len,
            _ => return bytes,
        };
        let mut head = Buffer::take();
        if head.push(&bytes[..head_len]) < head_len {
            return bytes; // a head larger than a buffer: sent as built
        }
        let new_head = self.after_rules_on_built(head, ctx);
        let mut out = Vec::with_capacity(new_head.data().len() + bytes.len() - head_len);
        out.extend_from_slice(new_head.data());
        out.extend_from_slice(&bytes[head_len..]);
        out
    }

    fn has_after_rules(&self, ctx: &StreamCtx<'_>) -> bool {
        self.after_order().into_iter().flatten().any(|p| !ctx.rules[p].http_after_response.is_empty())
    }

    /// Runs the rules once on a response strata built, `out` holding at
    /// least its whole head, and returns it rewritten (or unchanged when no
    /// rule changed it, or its head does not parse).
    fn after_rules_on_built(&mut self, out: Buffer, ctx: &StreamCtx<'_>) -> Buffer {
        let has_rules = self.has_after_rules(ctx);
        let Some(h) = self.http.as_mut() else { return out };
        h.txn.after_rules_done = true;
        if !has_rules {
            return out;
        }
        let head = match crate::l7_http::parse::parse_response(out.data(), false, false) {
            Ok(Some(head)) => head,
            _ => return out,
        };
        let t = &mut h.txn;
        let saved_res = t.res.replace(head);
        let saved_buf = t.res_buf.replace(out);
        let saved_edits = std::mem::take(&mut t.res_edits);
        let saved_status = t.status_override.take();
        self.run_after_response_rules(ctx);
        let Some(h) = self.http.as_mut() else { return Buffer::take() };
        let t = &mut h.txn;
        let (head, out) =
            match (std::mem::replace(&mut t.res, saved_res), std::mem::replace(&mut t.res_buf, saved_buf)) {
                (Some(head), Some(out)) => (head, out),
                (_, out) => return out.unwrap_or_else(Buffer::take),
            };
        let edits = std::mem::replace(&mut t.res_edits, saved_edits);
        let status = std::mem::replace(&mut t.status_override, saved_status);
        if edits.is_empty() && status.is_none() {
            return out;
        }
        let code = status.as_ref().map_or(head.status, |(c, _)| *c);
        t.status = Some(code);
        rewrite_answer(&out, &head, &edits, code, status.as_ref().and_then(|(_, r)| r.as_deref()))
    }
}

/// The answer `out` (head `head`) with `edits` and status `code` applied;
/// the body follows as it was. An answer that no longer fits in a buffer
/// is sent unchanged.
fn rewrite_answer(
    out: &Buffer,
    head: &crate::l7_http::head::ResponseHead,
    edits: &[crate::l7_http::rewrite::HeaderEdit],
    code: u16,
    reason: Option<&str>,
) -> Buffer {
    let src = out.data();
    let digits = [b'0' + (code / 100 % 10) as u8, b'0' + (code / 10 % 10) as u8, b'0' + (code % 10) as u8];
    let reason = match reason {
        Some(r) => r.as_bytes(),
        None if code == head.status => head.reason.of(src),
        None => crate::l7_http::rules::reason(code).as_bytes(),
    };
    let line: [&[u8]; 5] = [head.version.as_str().as_bytes(), b" ", &digits, b" ", reason];
    let conn = if head.conn.close { ConnHeader::Close } else { ConnHeader::Default };
    let next = NextHead { first_line: &line, src, headers: &head.headers, edits, extra: &[], conn };
    let body = &src[head.len.min(src.len())..];
    if let Some(mut written) = next.write()
        && written.push(body) == body.len()
    {
        return written;
    }
    let mut copy = Buffer::take();
    copy.push(src);
    copy
}
