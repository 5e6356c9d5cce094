//! The request side of an HTTP/1 stream: the head serialised for the
//! server (with `X-Forwarded-For` / `X-Original-To`, the server's name
//! for `http-send-name-header`), then head and body
//! sent client → server.

use super::ReqHead;
use crate::l4_conn::{IoStep, Pipe};
use crate::l6_stream::client::ClientSide;
use crate::l6_stream::stream::{Stream, StreamCtx};
use crate::l6_stream::term::{TermCause, TermPhase};
use crate::l7_http::errors::BuiltinStatus;
use crate::l7_http::head::Version;
use crate::l7_http::rewrite::{ConnHeader, HeaderEdit, NextHead, has_host_after, request_line};
use log::debug;

/// The name of the `X-Forwarded-For` header to add for client `ip`, if
/// one is added: as HAProxy, when the frontend or the backend has `option
/// forwardfor`, the client is in neither one's `except` network, and
/// (when every such proxy said `if-none`) the request has no such header;
/// the backend's `header` name first, then the frontend's.
fn forwardfor_header<'c>(
    fe: &'c crate::cfg::Proxy,
    be: Option<&'c crate::cfg::Proxy>,
    ip: std::net::IpAddr,
    buf: &[u8],
    headers: &[crate::l7_http::head::HeaderSpan],
) -> Option<&'c str> {
    let both = || [Some(fe), be].into_iter().flatten();
    if !both().any(|p| p.options.forwardfor) || both().any(|p| p.knobs.forwardfor.excepted(ip)) {
        return None;
    }
    let name = be
        .and_then(|b| b.knobs.forwardfor.header.as_deref())
        .or(fe.knobs.forwardfor.header.as_deref())
        .unwrap_or("x-forwarded-for");
    let if_none = both().filter(|p| p.options.forwardfor).all(|p| p.knobs.forwardfor.if_none);
    if if_none && crate::l7_http::head::find(buf, headers, name).next().is_some() {
        return None;
    }
    Some(name)
}

impl Stream {
    /// Serialises the request head for the server (again on a retry).
    pub(in crate::l6_stream) fn prepare_request(&mut self, ctx: &StreamCtx<'_>) {
        // `http-send-name-header NAME`: the chosen server's name, once one
        // is (again after a redispatch), replacing any such header.
        let send_name = self.backend.zip(self.server).and_then(|(b, s)| {
            let hdr = ctx.cfg.proxies[b].knobs.srv.send_name_header.as_deref()?;
            Some((hdr, ctx.backends.lock().get(b)?.servers.get(s)?.name.clone()))
        });
        let Some(h) = self.http.as_mut() else { return };
        if let Some((hdr, _)) = send_name
            && !h.txn.req_edits.iter().any(|e| matches!(e, HeaderEdit::Del(n) if n == hdr))
        {
            h.txn.req_edits.push(HeaderEdit::Del(hdr.to_owned()));
        }
        let fe = &ctx.cfg.proxies[self.frontend];
        let be = self.backend.map(|b| &ctx.cfg.proxies[b]);
        let either = |f: fn(&crate::cfg::knobs::HttpConnOpts) -> bool| {
            f(&fe.knobs.http) || be.is_some_and(|b| f(&b.knobs.http))
        };
        let httpclose = fe.options.httpclose || be.is_some_and(|b| b.options.httpclose);
        // `http-server-close` (or `httpclose`): one request per server
        // connection, announced to the server unless the backend has
        // `http-pretend-keepalive` (the server side's option, as in HAProxy).
        let one_shot = httpclose || either(|h| h.server_close);
        let close = one_shot && !be.is_some_and(|b| b.knobs.http.pretend_keepalive);
        h.txn.server_close |= one_shot;
        let t = &h.txn;
        let forwardfor = forwardfor_header(fe, be, self.src.ip(), t.req_bytes(), &t.req.headers);
        let mut ip_text = [0u8; 48];
        let ip_len = if forwardfor.is_some() { format_ip(self.src.ip(), &mut ip_text) } else { 0 };
        let xff_name = forwardfor.unwrap_or("x-forwarded-for");
        let orig_to = crate::l6_stream::http_checks::originalto_header(fe, be, self.dst.ip());
        let mut dst_text = [0u8; 48];
        let dst_len = if orig_to.is_some() { format_ip(self.dst.ip(), &mut dst_text) } else { 0 };
        let xot_name = orig_to.unwrap_or("x-original-to");
        let src = t.req_bytes();
        let hostless = t.req.version == Version::Http2 && !has_host_after(src, &t.req.headers, &t.req_edits);
        let mut extra: [(&[u8], &[u8]); 4] = [(b"", b""); 4];
        let mut n_extra = 0;
        for (wanted, line) in [
            (hostless, (&b"host"[..], &b""[..])),
            (forwardfor.is_some(), (xff_name.as_bytes(), &ip_text[..ip_len])),
            (orig_to.is_some(), (xot_name.as_bytes(), &dst_text[..dst_len])),
            match &send_name {
                Some((hdr, name)) => (true, (hdr.as_bytes(), name.as_bytes())),
                None => (false, (&b""[..], &b""[..])),
            },
        ] {
            if wanted {
                extra[n_extra] = line;
                n_extra += 1;
            }
        }
        let extra = &extra[..n_extra];
        let line = request_line(t.method_bytes(), t.outgoing_uri(), t.req.version);
        let conn = if t.req.conn.upgrade {
            ConnHeader::Upgrade
        } else if close {
            ConnHeader::Close
        } else {
            ConnHeader::Default
        };
        let next =
            NextHead { first_line: &line, src, headers: &t.req.headers, edits: &t.req_edits, extra, conn };
        if next.unchanged() {
            h.req_head = ReqHead::AsReceived { sent: 0 };
            return;
        }
        match next.write() {
            Some(out) => h.req_head = ReqHead::Rewritten(Some(out)),
            None => self.answer(BuiltinStatus::BadRequest, TermCause::ProxyRule, TermPhase::Request),
        }
    }

    /// Request head then body, client → server. Returns whether anything moved.
    pub(super) fn http_request_side<C: ClientSide>(&mut self, cli: &mut C, ctx: &StreamCtx<'_>) -> bool {
        let now = ctx.now;
        let (Some(h), Some(srv)) = (self.http.as_mut(), self.srv.as_mut()) else { return false };
        if h.answered {
            return false;
        }
        let mut progress = false;
        if !h.req_head.is_sent() {
            match h.req_head.send(srv, h.txn.req_bytes(), now) {
                IoStep::Moved(n) => {
                    self.bytes_in += n as u64;
                    progress = true;
                }
                IoStep::Failed => {
                    self.server_failed_early(ctx);
                    return true;
                }
                _ => {}
            }
            if !h.req_head.is_sent() {
                return progress;
            }
        }
        if h.txn.req_body.is_done() && h.req_pending == 0 {
            return progress;
        }
        if h.req_pending == 0
            && let Some(rx) = cli.rx()
        {
            match h.txn.req_body.advance(rx.data()) {
                Ok(adv) => h.req_pending = adv.body_bytes,
                Err(e) => {
                    debug!(target: "l6", "s#{}: bad request body: {e}", self.id);
                    self.answer(BuiltinStatus::BadRequest, TermCause::ClientAbort, TermPhase::Request);
                    return true;
                }
            }
        }
        if h.req_pending > 0 {
            match srv.send_prefix(cli.rx_mut(), h.req_pending, now) {
                IoStep::Moved(n) => {
                    h.req_pending -= n;
                    self.bytes_in += n as u64;
                    progress = true;
                }
                IoStep::Failed => {
                    self.server_failed_early(ctx);
                    return true;
                }
                _ => {}
            }
        }
        let spliced = match splice_request_body(h, cli, srv, now) {
            Ok(spliced) => spliced,
            Err(Side::Client) => {
                self.abort(TermCause::ClientAbort, TermPhase::Data);
                return true;
            }
            Err(Side::Server) => {
                self.server_failed_early(ctx);
                return true;
            }
        };
        progress |= spliced.moved;
        self.bytes_in += spliced.sent;
        // Without a pipe (or once the client closed), the buffers.
        if !h.txn.req_body.is_done()
            && h.req_pending == 0
            && h.req_pipe.is_none()
            && (!spliced.used || cli.read_closed())
        {
            match cli.fill(now) {
                IoStep::Moved(_) | IoStep::Eof => progress = true,
                IoStep::Failed => {
                    self.abort(TermCause::ClientAbort, TermPhase::Data);
                    return true;
                }
                IoStep::Blocked => {}
            }
            // The client closed before its body was complete (bytes still
            // buffered are forwarded first).
            if cli.read_closed() && cli.pending() == 0 && h.req_pending == 0 && !h.txn.req_body.is_done() {
                self.abort(TermCause::ClientAbort, TermPhase::Data);
                return true;
            }
        }
        progress
    }
}

/// Which side a splice failed on.
enum Side {
    Client,
    Server,
}

/// What [`splice_request_body`] did: whether it used a pipe, whether bytes moved.
struct Spliced {
    used: bool,  // a pipe carries the body
    moved: bool, // bytes moved
    sent: u64,   // bytes sent to the server
}

/// A Content-Length request body whose bytes are not buffered goes from
/// the client socket to the server by splice(2), as a response body does
/// (`response.rs`): plain sockets on both sides, nothing of the body in
/// the client buffer. HAProxy's `option splice-request` does the same.
fn splice_request_body<C: ClientSide>(
    h: &mut super::HttpPart,
    cli: &mut C,
    srv: &mut crate::l6_stream::srv_conn::SrvConn,
    now: std::time::Instant,
) -> Result<Spliced, Side> {
    let mut done = Spliced { used: false, moved: false, sent: 0 };
    let Some(room) = h.txn.req_body.blind_room() else { return Ok(done) };
    if h.req_pending > 0 || cli.pending() > 0 || h.txn.req_body.is_done() {
        return Ok(done);
    }
    if h.req_pipe.is_none() && !super::worth_splicing(room) {
        return Ok(done);
    }
    let (Some(cli), Some(srv)) =
        (cli.conn().filter(|c| c.splices()), srv.plain_mut().filter(|c| c.splices()))
    else {
        return Ok(done);
    };
    if h.req_pipe.is_none() && cli.is_readable() {
        h.req_pipe = Pipe::take();
    }
    let Some(p) = h.req_pipe.as_mut() else { return Ok(done) };
    done.used = true;
    let max = room.saturating_sub(p.len() as u64).min(usize::MAX as u64) as usize;
    match cli.splice_in_max(p, max, now) {
        IoStep::Moved(n) => {
            h.h1.req_spliced_in += n as u64;
            done.moved = true;
        }
        IoStep::Eof => done.moved = true,
        IoStep::Failed => return Err(Side::Client),
        IoStep::Blocked => {}
    }
    match srv.splice_out(p, now) {
        IoStep::Moved(n) => {
            h.txn.req_body.forwarded_blind(n as u64);
            h.h1.req_spliced_out += n as u64;
            done.sent += n as u64;
            done.moved = true;
        }
        IoStep::Failed => return Err(Side::Server),
        _ => {}
    }
    if p.is_empty()
        && let Some(p) = h.req_pipe.take()
    {
        p.release();
    }
    Ok(done)
}

/// Writes `ip` as text into `out` without allocating; returns the length.
fn format_ip(ip: std::net::IpAddr, out: &mut [u8; 48]) -> usize {
    use std::io::Write;
    let mut cursor = std::io::Cursor::new(&mut out[..]);
    let _ = write!(cursor, "{ip}");
    cursor.position() as usize
}
