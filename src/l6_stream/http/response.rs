//! The response side of an HTTP/1 stream: the head read and parsed,
//! the response rules, persistence, compression and cache hooks run on it,
//! then head and body sent server → client (buffered or spliced).

use crate::core::buffer::Buffer;
use crate::l4_conn::{IoStep, Pipe};
use crate::l6_stream::client::ClientSide;
use crate::l6_stream::stream::{Stream, StreamCtx};
use crate::l6_stream::term::{TermCause, TermPhase};
use crate::l7_http::body::BodyState;
use crate::l7_http::errors::BuiltinStatus;
use crate::l7_http::head::{Framing, Version};
use crate::l7_http::parse::parse_response;
use crate::l7_http::rewrite::{ConnHeader, NextHead};
use crate::l7_http::txn::MethodKind;
use log::debug;
use std::time::Instant;

impl Stream {
    /// Reads and parses the response head; 1xx interim answers are passed
    /// on as they are.
    pub(super) fn http_response_head(&mut self, ctx: &mut StreamCtx<'_>) -> bool {
        let now = ctx.now;
        let (Some(h), Some(srv)) = (self.http.as_mut(), self.srv.as_mut()) else { return false };
        if h.txn.res.is_some() || h.answered || h.res_out.is_some() {
            return false;
        }
        let step = srv.fill(now);
        let head_req = h.txn.method == MethodKind::Head;
        let connect_req = h.txn.method == MethodKind::Connect;
        let parsed = match srv.rx() {
            Some(rx) => parse_response(rx.data(), head_req, connect_req),
            None => Ok(None),
        };
        match parsed {
            Ok(Some(head)) => {
                let Some(rx) = srv.rx_slot().as_mut() else { return false };
                let mut buf = Buffer::take();
                buf.push(&rx.data()[..head.len]);
                rx.consume(head.len);
                if rx.is_empty() {
                    *srv.rx_slot() = None;
                }
                if (100..200).contains(&head.status) && head.status != 101 {
                    h.res_out = Some(buf); // interim: forward as received, then wait for the final one
                    return true;
                }
                // An HTTP/2 client's WebSocket (extended CONNECT): strata
                // wrote the key, so the server's accept must match it.
                if head.status == 101
                    && h.txn.req.version == Version::Http2
                    && !crate::l7_http::websocket::accept_matches(
                        h.txn.req_bytes(),
                        &h.txn.req.headers,
                        buf.data(),
                        &head.headers,
                    )
                {
                    debug!(target: "l6", "s#{}: invalid response: WebSocket accept key does not match", self.id);
                    self.count(ctx, crate::stick::Update::HttpFail);
                    self.answer(BuiltinStatus::BadGateway, TermCause::ProxyRule, TermPhase::Headers);
                    return true;
                }
                if self.l7_retry(ctx, crate::cfg::srv_select::RetryOn::status_bit(head.status)) {
                    return true; // `retry-on` names this status: the response is dropped
                }
                self.res_head_at = Some(now);
                self.accept_response(buf, head, ctx);
                let head_len = self.http.as_ref().and_then(|h| h.res_out.as_ref()).map_or(0, |b| b.len());
                self.log_asap(ctx, self.bytes_out + head_len as u64);
                true
            }
            Ok(None) => {
                if srv.rx_full() {
                    self.answer(BuiltinStatus::BadGateway, TermCause::ProxyRule, TermPhase::Headers);
                    return true;
                }
                match step {
                    IoStep::Eof | IoStep::Failed => {
                        self.server_failed_early(ctx);
                        true
                    }
                    IoStep::Moved(_) => true,
                    IoStep::Blocked => false,
                }
            }
            Err(e) => {
                debug!(target: "l6", "s#{}: invalid response: {e}", self.id);
                if let (Some(be), Some(rx)) = (self.backend, srv.rx()) {
                    ctx.errors.capture(false, be, None, self.server, self.src, rx.data(), ctx.wall);
                }
                if self.l7_retry(ctx, crate::cfg::srv_select::RetryOn::JUNK_RESPONSE) {
                    return true;
                }
                self.count(ctx, crate::stick::Update::HttpFail);
                self.answer(BuiltinStatus::BadGateway, TermCause::ProxyRule, TermPhase::Headers);
                true
            }
        }
    }

    /// A final response head arrived: decide the client connection's fate
    /// and serialise the head for the client.
    fn accept_response(
        &mut self,
        buf: Buffer,
        head: crate::l7_http::head::ResponseHead,
        ctx: &StreamCtx<'_>,
    ) {
        match head.status {
            400..=499 => self.count(ctx, crate::stick::Update::HttpErr),
            500..=599 if head.status != 501 && head.status != 505 => {
                self.count(ctx, crate::stick::Update::HttpFail)
            }
            _ => {}
        }
        let fe = &ctx.cfg.proxies[self.frontend];
        let Some(h) = self.http.as_mut() else { return };
        let t = &mut h.txn;
        t.status = Some(head.status);
        t.res_body = BodyState::new(head.framing);
        let be_close = self.backend.is_some_and(|b| ctx.cfg.proxies[b].options.httpclose);
        let stopping = crate::core::lifecycle::stopping(); // clients move to the new process
        if head.framing == Framing::UntilClose || fe.options.httpclose || be_close || stopping {
            t.client_close = true;
        }
        if head.status == 101 || (t.method == MethodKind::Connect && (200..300).contains(&head.status)) {
            t.upgraded = true;
        }
        t.res = Some(head);
        t.res_buf = Some(buf);
        t.vars.clear_scope(crate::acl::Scope::Req); // `req.` variables end with the request's processing
        if !self.tcp_response_on_head(ctx) {
            return; // a `tcp-response content` rule dropped it
        }
        self.capture_response_headers(ctx);
        self.response_rules_on((0, 0), None, ctx);
    }

    /// The response rules from `from` (see [`Stream::run_response_rules`];
    /// `body`: the response body a `wait-for-body` waited for), then
    /// persistence, the cache checks, the after-response rules,
    /// compression, and the head for the client.
    pub(super) fn response_rules_on(
        &mut self,
        from: (usize, usize),
        body: Option<&[u8]>,
        ctx: &StreamCtx<'_>,
    ) {
        match self.run_response_rules(from, body, ctx) {
            None => {}
            Some(crate::l6_stream::http_rules::Stop::WaitBody(..)) => return, // the response is held
            Some(crate::l6_stream::http_rules::Stop::Builtin(status)) => {
                return self.answer(status, TermCause::ProxyRule, TermPhase::Headers);
            }
            Some(crate::l6_stream::http_rules::Stop::Response(bytes)) => {
                // `http-response redirect|return`: the server's response is replaced.
                let code = crate::l6_stream::http_rules::status_of(&bytes);
                return self.answer_with(&bytes, code, TermCause::Local, TermPhase::Headers);
            }
            Some(crate::l6_stream::http_rules::Stop::Page(r)) => {
                return self.answer_page_ref(&r, TermCause::Local, TermPhase::Headers, ctx);
            }
            Some(crate::l6_stream::http_rules::Stop::Deny(a)) => {
                return self.answer_reply(a, TermCause::ProxyRule, TermPhase::Headers, ctx);
            }
            Some(stop) => {
                // `reject` / `silent-drop`: nothing more is sent to the client.
                let silent = matches!(stop, crate::l6_stream::http_rules::Stop::Close { silent: true });
                return self.drop_client(silent);
            }
        }
        self.persist_response(ctx);
        let be = self.backend.map(|b| &ctx.cfg.proxies[b]);
        if be.is_some_and(|b| b.knobs.http.checkcache)
            && let Some(h) = self.http.as_ref()
            && let (Some(head), Some(buf)) = (h.txn.res.as_ref(), h.txn.res_buf.as_ref())
            && crate::l6_stream::http_checks::cacheable_with_cookie(
                matches!(h.txn.method_bytes(), b"GET" | b"HEAD" | b"OPTIONS" | b"TRACE"),
                head.status,
                buf.data(),
                &head.headers,
            )
        {
            let (b, srv) = (self.backend.unwrap_or(self.frontend), self.server.unwrap_or(0));
            let name = ctx.cfg.proxies[b].servers.get(srv).map_or("<NOSRV>", |s| s.name.as_str());
            let be_name = &ctx.cfg.proxies[b].name;
            eprintln!(
                "[ALERT]    ({}) : Blocking cacheable cookie in response from instance {be_name}, server {name}.",
                std::process::id()
            );
            return self.answer(BuiltinStatus::BadGateway, TermCause::ProxyRule, TermPhase::Headers);
        }
        self.run_after_response_rules(ctx);
        self.start_compression(ctx);
        self.cache_head_done();
        let Some(h) = self.http.as_mut() else { return };
        let t = &mut h.txn;
        let (Some(head), Some(buf)) = (t.res.as_ref(), t.res_buf.as_ref()) else { return };
        let conn = if t.upgraded && head.status == 101 {
            ConnHeader::Upgrade
        } else if t.client_close {
            ConnHeader::Close
        } else if t.req.version == Version::Http10 {
            ConnHeader::KeepAlive
        } else {
            ConnHeader::Default
        };
        let src = buf.data();
        // The parser only accepts 3-digit status codes: written on the stack.
        let st = t.status_override.as_ref().map_or(head.status, |(c, _)| *c);
        t.status = Some(st);
        let code = [b'0' + (st / 100 % 10) as u8, b'0' + (st / 10 % 10) as u8, b'0' + (st % 10) as u8];
        let reason: &[u8] = match &t.status_override {
            Some((_, Some(r))) => r.as_bytes(),
            Some((c, None)) => crate::l7_http::rules::reason(*c).as_bytes(),
            None => head.reason.of(src),
        };
        // The version as received when it is (the line may then be copied as it is).
        let version = head.version.as_str().as_bytes();
        let version = src.get(..version.len()).filter(|v| *v == version).unwrap_or(version);
        let line: [&[u8]; 5] = [version, b" ", &code, b" ", reason];
        let next = NextHead {
            first_line: &line,
            src,
            headers: &head.headers,
            edits: &t.res_edits,
            extra: &[],
            conn,
        };
        if next.unchanged() {
            // Sent as received. The rules that read the head have run; from
            // here on only the parsed fields of `t.res` are read.
            h.res_out = t.res_buf.take();
            h.res_out_parsed = true;
            return;
        }
        match next.write() {
            Some(out) => h.res_out = Some(out),
            None => self.answer(BuiltinStatus::BadGateway, TermCause::ProxyRule, TermPhase::Headers),
        }
    }

    /// Response head (or answer) then body, server → client.
    pub(super) fn http_response_side<C: ClientSide>(&mut self, cli: &mut C, now: Instant) -> bool {
        let Some(h) = self.http.as_mut() else { return false };
        if h.res_wait.is_some() {
            return false; // held for its body (`res_wait.rs`)
        }
        if h.service.is_some() {
            return match h.send_service(cli, now) {
                Ok(n) => {
                    self.bytes_out += n as u64;
                    n > 0
                }
                Err(()) => {
                    self.abort(TermCause::ClientAbort, TermPhase::Data);
                    true
                }
            };
        }
        if h.answered {
            crate::l6_stream::http_cache::refill_cached_body(h);
        }
        let mut progress = false;
        if h.res_out.is_some() {
            // A server response head goes out with the body bytes already
            // received, in one write.
            let coalesce =
                !h.answered && h.txn.res.is_some() && !h.txn.res_body.is_done() && h.comp.is_none();
            let srv_rx = match self.srv.as_mut() {
                Some(srv) if coalesce => {
                    if let Err(e) = h.measure_response_body(srv.rx()) {
                        return self.bad_response_body(e);
                    }
                    Some(srv.rx_slot())
                }
                _ => None,
            };
            if std::mem::take(&mut h.res_out_parsed)
                && !h.answered
                && let (Some(head), Some(out)) = (h.txn.res.as_ref(), h.res_out.as_ref())
                && out.len() >= head.len
            {
                cli.response_head(head, out.data());
            }
            let step = match srv_rx {
                Some(rx) if h.res_pending > 0 => {
                    let (step, _, body) = cli.send_pair(&mut h.res_out, rx, h.res_pending, now);
                    h.res_pending -= body;
                    step
                }
                _ => cli.send_from(&mut h.res_out, now),
            };
            match step {
                IoStep::Moved(n) => {
                    h.response_started = true;
                    self.bytes_out += n as u64;
                    progress = true;
                }
                IoStep::Failed => {
                    self.abort(TermCause::ClientAbort, TermPhase::Data);
                    return true;
                }
                _ => {}
            }
            if h.res_out.is_some() || h.answered || h.txn.res.is_none() {
                return progress;
            }
        }
        if h.comp.is_some() && !h.answered {
            return self.compressed_body(cli, now) || progress;
        }
        let Some(srv) = self.srv.as_mut() else { return progress };
        if h.txn.res.is_none() || (h.txn.res_body.is_done() && h.res_pending == 0) {
            return progress;
        }
        if let Err(e) = h.measure_response_body(srv.rx()) {
            return self.bad_response_body(e);
        }
        if h.res_pending > 0 {
            match cli.send_prefix(srv.rx_slot(), h.res_pending, now) {
                IoStep::Moved(n) => {
                    h.res_pending -= n;
                    self.bytes_out += n as u64;
                    progress = true;
                }
                IoStep::Failed => {
                    self.abort(TermCause::ClientAbort, TermPhase::Data);
                    return true;
                }
                _ => {}
            }
        }
        // A Content-Length body (or one ending at close) whose bytes are not
        // buffered goes from the server socket to the client by splice(2).
        let mut spliced = false;
        if h.res_pending == 0
            && srv.pending() == 0
            && srv.splices()
            && cli.can_splice()
            && !h.cache_filling()
            && let Some(room) = h.txn.res_body.blind_room()
            && (h.res_pipe.is_some() || super::worth_splicing(room))
        {
            if h.res_pipe.is_none() && srv.is_readable() {
                h.res_pipe = Pipe::take();
            }
            if let Some(p) = h.res_pipe.as_mut() {
                spliced = true;
                let max = room.saturating_sub(p.len() as u64).min(usize::MAX as u64) as usize;
                match srv.splice_in_max(p, max, now) {
                    IoStep::Moved(n) => {
                        h.h1.res_spliced_in += n as u64;
                        progress = true;
                    }
                    IoStep::Eof => progress = true,
                    IoStep::Failed => {
                        h.txn.client_close = true;
                        self.abort(TermCause::ServerAbort, TermPhase::Data);
                        return true;
                    }
                    IoStep::Blocked => {}
                }
                match cli.splice_out(p, now) {
                    IoStep::Moved(n) => {
                        h.txn.res_body.forwarded_blind(n as u64);
                        self.bytes_out += n as u64;
                        h.h1.res_spliced_out += n as u64;
                        progress = true;
                    }
                    IoStep::Failed => {
                        self.abort(TermCause::ClientAbort, TermPhase::Data);
                        return true;
                    }
                    _ => {}
                }
                if p.is_empty()
                    && let Some(p) = h.res_pipe.take()
                {
                    p.release();
                }
            }
        }
        // Without a pipe (or once a close-delimited body hit EOF), the buffers.
        if !h.txn.res_body.is_done()
            && h.res_pending == 0
            && h.res_pipe.is_none()
            && (!spliced || srv.read_closed())
        {
            match srv.fill(now) {
                IoStep::Moved(_) | IoStep::Eof => progress = true,
                IoStep::Failed => {
                    h.txn.client_close = true;
                    self.abort(TermCause::ServerAbort, TermPhase::Data);
                    return true;
                }
                IoStep::Blocked => {}
            }
            // The server closed and everything it sent was forwarded: the
            // end of a body delimited by the close, else a truncated one.
            if srv.read_closed() && srv.pending() == 0 && h.res_pending == 0 && !h.txn.res_body.is_done() {
                if h.txn.res_body == BodyState::UntilClose {
                    h.txn.res_body = BodyState::Done;
                    return true;
                }
                h.txn.client_close = true;
                self.abort(TermCause::ServerAbort, TermPhase::Data);
                return true;
            }
        }
        progress
    }
}
