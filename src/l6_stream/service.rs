//! Requests answered inside strata by an internal service (the stats
//! page, the Prometheus exporter, static files) instead of a backend.
//!
//! The stream decides *that* a service answers (`stats uri` of the
//! frontend or backend, `http-request use-service`), reads the request
//! body if any (bounded), then asks the [`ServiceHost`] the runtime lends
//! it through [`super::StreamCtx`] for the reply: this layer knows no
//! counters, pages or files. The reply is sent like any answer
//! (`service_send.rs`); a file body goes out with `sendfile(2)`, never
//! read whole.

use super::client::ClientSide;
use super::stream::{Phase, Stream, StreamCtx};
use super::term::{TermCause, TermPhase};
use crate::cfg::{Config, Mode};
use crate::core::buffer::Buffer;
use crate::l4_conn::IoStep;
use crate::l7_http::body::BodyState;
use crate::l7_http::errors::BuiltinStatus;
use crate::l7_http::service_rules::InternalService;
use crate::l7_http::txn::Txn;
use crate::stick::Registry;
use std::net::SocketAddr;

/// A request body larger than this is refused (413) by a service.
pub const MAX_SERVICE_BODY: usize = 64 * 1024;

/// Which service answers a request.
#[derive(Clone, Debug)]
pub enum ServiceCall {
    /// The stats page of proxy `proxy`; `admin`: a `stats admin` condition
    /// held; `rule`: the first `stats http-request` rule that matched.
    Stats { proxy: usize, admin: bool, rule: Option<crate::cfg::StatsAction> },
    /// `http-request use-service ...`.
    Use(InternalService),
}

/// What a service sees of the request.
pub struct ServiceRequest<'a> {
    pub call: &'a ServiceCall,
    pub txn: &'a Txn,
    pub body: &'a [u8], // the request body as received (at most MAX_SERVICE_BODY)
    pub src: SocketAddr,
    pub frontend: usize, // proxy index
}

/// What the stream lends a service; the process's numbers and the
/// backends (which the stats page's admin form changes) are the host's.
pub struct ServiceShared<'a> {
    pub cfg: &'a Config,
    pub tables: &'a Registry,
    pub now_ms: u64,
}

/// A complete response: `bytes` (head and body, or the head only when a
/// file follows), then `file` if any.
pub struct ServiceReply {
    pub status: u16,
    pub bytes: Vec<u8>,
    pub file: Option<FileBody>,
}

/// A byte range of an open file to send after the head.
pub struct FileBody {
    pub file: std::fs::File,
    pub offset: u64,
    pub len: u64,
}

/// Builds service replies; implemented by the runtime, which owns the
/// numbers the stats page and the exporter print.
pub trait ServiceHost {
    fn serve(&mut self, req: &ServiceRequest<'_>, shared: ServiceShared<'_>) -> ServiceReply;
}

/// A service's progress inside [`HttpPart`].
pub enum ServiceState {
    /// Decided; the request body (if any) is being read.
    Pending { call: ServiceCall, body: Vec<u8> },
    /// The reply being sent: `bytes[sent..]`, then the file (`stage`: the
    /// bytes copied for a client that is not a socket, an HTTP/2 stream).
    Sending { bytes: Vec<u8>, sent: usize, file: Option<FileBody>, stage: Option<Buffer> },
}

impl Stream {
    /// The stats page of `proxy` answers this request when the proxy has
    /// `stats enable|uri...` and the path starts with its `stats uri`.
    pub(super) fn stats_call(&self, proxy: usize, ctx: &StreamCtx<'_>) -> Option<ServiceCall> {
        let px = &ctx.cfg.proxies[proxy];
        let h = self.http.as_ref()?;
        if !px.stats.enabled
            || px.mode != Mode::Http
            || !h.txn.uri_bytes().starts_with(px.stats.uri().as_bytes())
        {
            return None;
        }
        let sample = self.sample(ctx, false, proxy);
        let admin = ctx.rules[proxy].stats_admin.iter().any(|c| c.eval(&sample));
        let rule = ctx.rules[proxy]
            .stats_rules
            .iter()
            .find(|(_, c)| c.as_ref().is_none_or(|c| c.eval(&sample)))
            .map(|(a, _)| a.clone());
        Some(ServiceCall::Stats { proxy, admin, rule })
    }

    /// Hands the request to `call`: the stream sends nothing to a server.
    pub(super) fn start_service(&mut self, call: ServiceCall) {
        let Some(h) = self.http.as_mut() else { return };
        h.service = Some(ServiceState::Pending { call, body: Vec::new() });
        h.answered = true;
        self.term.set(TermCause::Local, TermPhase::Request);
        self.phase = Phase::Forwarding;
    }

    /// Reads the request body of a pending service, then asks the host for
    /// the reply. False while the body is still arriving.
    pub(super) fn run_service<C: ClientSide>(&mut self, cli: &mut C, ctx: &mut StreamCtx<'_>) -> bool {
        let Some(h) = self.http.as_mut() else { return true };
        let Some(ServiceState::Pending { body, .. }) = h.service.as_mut() else { return true };
        while !h.txn.req_body.is_done() {
            if let Some(rx) = cli.rx_mut().as_mut() {
                let adv = match h.txn.req_body.advance(rx.data()) {
                    Ok(adv) => adv,
                    Err(_) => {
                        h.service = None;
                        h.answered = false;
                        self.answer(BuiltinStatus::BadRequest, TermCause::ClientAbort, TermPhase::Request);
                        return true;
                    }
                };
                body.extend_from_slice(&rx.data()[..adv.body_bytes]);
                rx.consume(adv.body_bytes);
                if rx.is_empty() {
                    *cli.rx_mut() = None;
                }
                if body.len() > MAX_SERVICE_BODY {
                    h.txn.client_close = true;
                    h.txn.req_body = BodyState::Done;
                    let reply = payload_too_large();
                    return self.send_service_reply(reply, ctx);
                }
                if h.txn.req_body.is_done() {
                    break;
                }
            }
            match cli.fill(ctx.now) {
                IoStep::Moved(_) => {}
                IoStep::Blocked => return false,
                IoStep::Eof | IoStep::Failed => {
                    h.service = None;
                    self.abort(TermCause::ClientAbort, TermPhase::Request);
                    return true;
                }
            }
        }
        let Some(ServiceState::Pending { call, body }) = h.service.take() else { return true };
        let reply = match ctx.services.as_deref_mut() {
            Some(host) => {
                let req = ServiceRequest {
                    call: &call,
                    txn: &h.txn,
                    body: &body,
                    src: self.src,
                    frontend: self.frontend,
                };
                let shared = ServiceShared { cfg: ctx.cfg, tables: ctx.tables, now_ms: ctx.now_ms };
                host.serve(&req, shared)
            }
            None => ServiceReply {
                status: 503,
                bytes: BuiltinStatus::ServiceUnavailable.bytes().to_vec(),
                file: None,
            },
        };
        self.send_service_reply(reply, ctx)
    }

    /// Sends `reply`, once `http-after-response` rules rewrote its head.
    fn send_service_reply(&mut self, reply: ServiceReply, ctx: &StreamCtx<'_>) -> bool {
        if let Some(h) = self.http.as_mut() {
            h.txn.status = Some(reply.status);
        }
        let bytes = self.after_response_on_service(reply.bytes, ctx);
        let Some(h) = self.http.as_mut() else { return true };
        h.txn.res_body = BodyState::Done;
        h.txn.server_close = true;
        h.service = Some(ServiceState::Sending { bytes, sent: 0, file: reply.file, stage: None });
        true
    }
}

/// HAProxy's 413 (a service body over [`MAX_SERVICE_BODY`]).
fn payload_too_large() -> ServiceReply {
    let body = "<html><body><h1>413 Payload Too Large</h1>\nThe request body is too large.\n</body></html>\n";
    let bytes = format!(
        "HTTP/1.1 413 Payload Too Large\r\ncontent-length: {}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    ServiceReply { status: 413, bytes: bytes.into_bytes(), file: None }
}
